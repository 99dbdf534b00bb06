#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int test_passed, test_failed;

int test_finish(void) {
    printf("%d passed, %d failed\n", test_passed, test_failed);
    return test_failed ? 1 : 0;
}

const char *test_tmpdir(const char *name) {
    static char path[1024];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/alrs-test-%s-%ld", base ? base : "/tmp", name,
             (long)getpid());
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot make %s\n", path);
        exit(2);
    }
    return path;
}

void test_remove_tmpdirs(void) {
    char cmd[1200];
    const char *tmp = getenv("TMPDIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/alrs-test-*-%ld", tmp ? tmp : "/tmp", (long)getpid());
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove the test directories\n");
}

int test_run(const char *cmd, char *err, int size) {
    char full[8192];
    char errfile[1100];
    snprintf(errfile, sizeof errfile, "%s.stderr", test_tmpdir("run"));
    snprintf(full, sizeof full, "%s 2>'%s'", cmd, errfile);
    int status = system(full);
    if (err && size > 0) {
        err[0] = '\0';
        FILE *f = fopen(errfile, "r");
        if (f) {
            size_t got = fread(err, 1, (size_t)size - 1, f);
            err[got] = '\0';
            fclose(f);
        }
    }
    unlink(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void write_bytes(const char *path, const void *data, size_t len, int gz) {
    if (gz) {
        gzFile g = gzopen(path, "wb");
        if (!g || gzwrite(g, data, (unsigned)len) != (int)len) exit(2);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(data, 1, len, f) != len) exit(2);
        fclose(f);
    }
}

/* Label k draws a bright square in one of 10 places on a noisy background. */
static void pattern_image(unsigned char *px, int rows, int cols, int label, unsigned *state) {
    for (int i = 0; i < rows * cols; i++) {
        *state = *state * 1103515245u + 12345u;
        px[i] = (unsigned char)((*state >> 16) % 60);
    }
    int r0 = (label % 5) * rows / 5, c0 = (label / 5) * cols / 2;
    for (int r = r0; r < r0 + rows / 5; r++)
        for (int c = c0; c < c0 + cols / 2; c++) px[r * cols + c] = 230;
}

static void write_idx_pair(const char *dir, const char *stem, const char *prefix, int n,
                           int rows, int cols, int gz, unsigned seed) {
    size_t isz = 16 + (size_t)n * rows * cols, lsz = 8 + (size_t)n;
    unsigned char *img = malloc(isz), *lab = malloc(lsz);
    put_be32(img, 0x803);
    put_be32(img + 4, (uint32_t)n);
    put_be32(img + 8, (uint32_t)rows);
    put_be32(img + 12, (uint32_t)cols);
    put_be32(lab, 0x801);
    put_be32(lab + 4, (uint32_t)n);
    unsigned state = seed;
    for (int i = 0; i < n; i++) {
        state = state * 1103515245u + 12345u;
        int label = (int)((state >> 16) % 10);
        lab[8 + i] = (unsigned char)label;
        pattern_image(img + 16 + (size_t)i * rows * cols, rows, cols, label, &state);
    }
    char path[2048];
    const char *ext = gz ? ".gz" : "";
    snprintf(path, sizeof path, "%s/%s%s-images-idx3-ubyte%s", dir, prefix, stem, ext);
    write_bytes(path, img, isz, gz);
    snprintf(path, sizeof path, "%s/%s%s-labels-idx1-ubyte%s", dir, prefix, stem, ext);
    write_bytes(path, lab, lsz, gz);
    free(img);
    free(lab);
}

void test_write_idx_set(const char *dir, const char *prefix, int n, int rows, int cols,
                        int gz, unsigned seed) {
    write_idx_pair(dir, "train", prefix, n, rows, cols, gz, seed);
    write_idx_pair(dir, "t10k", prefix, n / 5 > 0 ? n / 5 : 1, rows, cols, gz, seed + 7);
}

void test_write_cifar_set(const char *dir, int n_per_batch, unsigned seed) {
    size_t rec = 1 + 3072;
    unsigned char *buf = malloc(rec * (size_t)n_per_batch);
    unsigned state = seed;
    char path[2048];
    for (int b = 0; b <= 5; b++) {
        for (int i = 0; i < n_per_batch; i++) {
            unsigned char *r = buf + rec * (size_t)i;
            state = state * 1103515245u + 12345u;
            int label = (int)((state >> 16) % 10);
            r[0] = (unsigned char)label;
            for (int ch = 0; ch < 3; ch++) pattern_image(r + 1 + ch * 1024, 32, 32, label, &state);
        }
        if (b < 5) snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, b + 1);
        else snprintf(path, sizeof path, "%s/test_batch.bin", dir);
        write_bytes(path, buf, rec * (size_t)n_per_batch, 0);
    }
    free(buf);
}

void test_copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) exit(2);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
}

void test_poke_byte(const char *path, long offset, unsigned char value) {
    FILE *f = fopen(path, "r+b");
    if (!f || fseek(f, offset, SEEK_SET) != 0 || fputc(value, f) == EOF) exit(2);
    fclose(f);
}

/* Splits one line at commas outside double quotes; returns the field count. */
static int split_line(const char *line, char fields[][CSV_CELL], int max) {
    int n = 0, len = 0, quoted = 0;
    for (const char *p = line;; p++) {
        if (*p == '"') {
            quoted = !quoted;
            continue;
        }
        if ((*p == ',' && !quoted) || *p == '\0' || *p == '\n') {
            if (n < max) fields[n++][len < CSV_CELL - 1 ? len : CSV_CELL - 1] = '\0';
            len = 0;
            if (*p != ',') break;
            continue;
        }
        if (n < max && len < CSV_CELL - 1) fields[n][len] = *p;
        len++;
    }
    return n;
}

const char *test_path(const char *dir, const char *file) {
    static char buf[8][2048];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", dir, file);
    return p;
}

const char *test_dir(const char *dir, const char *file) {
    static char slots[64][2048];
    static int used;
    if (used == 64) {
        fprintf(stderr, "test_dir: more than 64 directories\n");
        exit(2);
    }
    snprintf(slots[used], sizeof slots[0], "%s/%s", dir, file);
    return slots[used++];
}

char *test_read_file(const char *path, long *size) {
    if (size) *size = 0;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = malloc((size_t)st.st_size + 1);
    size_t got = fread(text, 1, (size_t)st.st_size, f);
    text[got] = '\0';
    fclose(f);
    if (size) *size = (long)got;
    return text;
}

char *test_read_text(const char *path) { return test_read_file(path, NULL); }

void test_write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) == EOF) exit(2);
    fclose(f);
}

int test_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int test_count_entries(const char *dir, const char *needle) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, needle)) n++;
    closedir(d);
    return n;
}

int test_count_lines(const char *s) {
    int n = 0;
    for (; *s; s++)
        if (*s == '\n') n++;
    return n;
}

#ifdef ALRS_BIN
int test_alrs(char *err, const char *out_file, const char *fmt, ...) {
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s'", ALRS_BIN, args, out_file ? out_file : "/dev/null");
    return test_run(cmd, err, TEST_ERR_LEN);
}

void test_expect_fail(const char *file, int line, const char *out, const char *key1,
                      const char *key2, const char *fmt, ...) {
    char args[4096], cmd[8192], err[TEST_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null", ALRS_BIN, args);
    int rc = test_run(cmd, err, sizeof err);
    int ok_rc = rc != 0;
    int ok_one = test_count_lines(err) == 1 && strncmp(err, "alrs: ", 6) == 0;
    int ok_keys = (!key1 || strstr(err, key1)) && (!key2 || strstr(err, key2));
    int ok_out = !out || !test_exists(out);
    if (getenv("ALRS_TEST_VERBOSE")) fprintf(stderr, "[exit %d] %s", rc, err);
    if (ok_rc && ok_one && ok_keys && ok_out) {
        test_passed++;
        return;
    }
    test_failed++;
    fprintf(stderr, "FAIL %s:%d: alrs %s\n  exit %d%s%s%s%s\n  stderr: %s%s", file, line, args, rc,
            ok_rc ? "" : " (want non-zero)",
            ok_one ? "" : "; want exactly one line starting 'alrs: '",
            ok_keys ? "" : "; message lacks the key words",
            ok_out ? "" : "; output directory left behind", err,
            err[0] && err[strlen(err) - 1] == '\n' ? "" : "\n");
    if (!ok_keys) fprintf(stderr, "  wanted: '%s' and '%s'\n", key1 ? key1 : "", key2 ? key2 : "");
}
#endif

int csv_read(csv *c, const char *path) {
    memset(c, 0, sizeof *c);
    char *text = test_read_text(path);
    if (!text) return -1;
    char *save = NULL;
    static char fields[CSV_MAX_COLS][CSV_CELL];
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        int n = split_line(line, fields, CSV_MAX_COLS);
        if (c->n_cols == 0) {
            for (int k = 0; k < n; k++) memcpy(c->header[k], fields[k], CSV_CELL);
            c->n_cols = n;
        } else if (n != c->n_cols || c->n_rows == CSV_MAX_ROWS) {
            c->ragged = 1;
        } else {
            memcpy(c->cell[c->n_rows++], fields, sizeof fields);
        }
    }
    free(text);
    return c->ragged ? -1 : 0;
}

int csv_col(const csv *c, const char *name) {
    for (int k = 0; k < c->n_cols; k++)
        if (!strcmp(c->header[k], name)) return k;
    return -1;
}

double csv_num(const csv *c, int r, const char *name) {
    int k = csv_col(c, name);
    if (k < 0 || r < 0 || r >= c->n_rows) return NAN;
    char *end;
    double v = strtod(c->cell[r][k], &end);
    return end == c->cell[r][k] ? NAN : v;
}

const char *csv_str(const csv *c, int r, const char *name) {
    int k = csv_col(c, name);
    return k < 0 || r < 0 || r >= c->n_rows ? "" : c->cell[r][k];
}

char *csv_text_without(const csv *c, const char *const *skip) {
    char *s = calloc((size_t)(c->n_rows + 1) * CSV_MAX_COLS * (CSV_CELL + 1) + 1, 1);
    for (int r = -1; r < c->n_rows; r++) {
        for (int k = 0; k < c->n_cols; k++) {
            int skipped = 0;
            for (const char *const *q = skip; *q; q++) skipped |= !strcmp(c->header[k], *q);
            if (skipped) continue;
            strcat(s, r < 0 ? c->header[k] : c->cell[r][k]);
            strcat(s, ",");
        }
        strcat(s, "\n");
    }
    return s;
}

int test_same_file(const char *a, const char *b) {
    long na, nb;
    char *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, (size_t)na);
    free(x);
    free(y);
    return same;
}

int test_same_csv(const char *a, const char *b, const char *const *skip) {
    static csv x, y;
    if (csv_read(&x, a) != 0 || csv_read(&y, b) != 0) return 0;
    char *sx = csv_text_without(&x, skip), *sy = csv_text_without(&y, skip);
    int same = !strcmp(sx, sy);
    if (!same) fprintf(stderr, "  %s:\n%s  differs from %s:\n%s", a, sx, b, sy);
    free(sx);
    free(sy);
    return same;
}

child_config test_small_mlp(const char *optimizer, const char *backend, int batch, int val_size) {
    child_config c;
    memset(&c, 0, sizeof c);
    c.model = "mlp";
    c.optimizer = optimizer;
    c.backend = backend;
    c.hidden[0] = 32, c.hidden[1] = 16, c.n_hidden = 2;
    c.batch = batch;
    c.eval_batch = 1000;
    c.val_size = val_size;
    c.seed = 1;
    return c;
}

lr_env_config test_small_env(const char *optimizer, const char *backend, int batch, int val_size) {
    child_config cc = test_small_mlp(optimizer, backend, batch, val_size);
    lr_env_config c = lr_env_config_default(&cc);
    c.steps = 40;
    c.action_every = 5;
    return c;
}
