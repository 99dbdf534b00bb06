#define _GNU_SOURCE
#include "memfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int memfile_fd = -1;
static char memfile_path[64];

/* A memfd; where that is refused (old kernel, seccomp), an unlinked temporary
 * file serves the same way. */
static int memfile_open(void) {
    int fd = memfd_create("alrs-fuzz-input", 0);
    if (fd >= 0) return fd;
    char tmpl[] = "/tmp/alrs-fuzz-XXXXXX";
    fd = mkstemp(tmpl);
    if (fd >= 0) unlink(tmpl);
    return fd;
}

const char *memfile_put(const uint8_t *data, size_t size) {
    if (memfile_fd < 0) {
        memfile_fd = memfile_open();
        if (memfile_fd < 0) {
            perror("fuzz: cannot create the input file");
            abort();
        }
        snprintf(memfile_path, sizeof memfile_path, "/proc/self/fd/%d", memfile_fd);
    }
    if (ftruncate(memfile_fd, 0) != 0) {
        perror("fuzz: cannot truncate the input file");
        abort();
    }
    for (size_t done = 0; done < size;) {
        ssize_t n = pwrite(memfile_fd, data + done, size - done, (off_t)done);
        if (n <= 0) {
            perror("fuzz: cannot write the input file");
            abort();
        }
        done += (size_t)n;
    }
    return memfile_path;
}
