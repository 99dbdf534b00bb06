#include "settings/suite_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Far above any suite (a few KiB); a wrong file is not read whole. */
#define SUITE_FILE_MAX_BYTES (1 << 20)

static int read_text(suite_file *f) {
    FILE *in = fopen(f->path, "rb");
    if (!in) return alrs_fail("%s: cannot open (%s)", f->path, strerror(errno));
    f->text = alrs_malloc(SUITE_FILE_MAX_BYTES + 1);
    size_t got = fread(f->text, 1, SUITE_FILE_MAX_BYTES + 1, in);
    int bad = ferror(in);
    fclose(in);
    if (bad) return alrs_fail("%s: read error", f->path);
    if (got > SUITE_FILE_MAX_BYTES)
        return alrs_fail("%s: larger than %d bytes: not a suite file", f->path,
                         SUITE_FILE_MAX_BYTES);
    if (memchr(f->text, '\0', got)) return alrs_fail("%s: holds a NUL byte: not a text file", f->path);
    f->text[got] = '\0';
    return 0;
}

static int name_char(unsigned char c) {
    return isalnum(c) || c == '_' || c == '.' || c == '-' || c == '+';
}

static int check_name(const suite_file *f, int line, const char *name, const char *noun) {
    size_t len = strlen(name);
    if (len >= SUITE_NAME_MAX)
        return alrs_fail("%s:%d: %s name '%s' is longer than %d characters", f->path, line, noun,
                         name, SUITE_NAME_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if (!name_char((unsigned char)name[i]))
            return alrs_fail("%s:%d: %s name '%s' has '%c' (names use A-Z a-z 0-9 _ . + -)",
                             f->path, line, noun, name, name[i]);
    for (int k = 0; k < f->n; k++)
        if (!strcmp(f->lines[k].name, name))
            return alrs_fail("%s:%d: %s '%s' is already on line %d", f->path, line, noun, name,
                             f->lines[k].line);
    return 0;
}

/* One word key=value of line l into its slots. */
static int add_pair(const suite_file *f, suite_line *l, char *word, const char *noun) {
    char *eq = strchr(word, '=');
    if (!eq || eq == word || !eq[1])
        return alrs_fail("%s:%d: %s %s: '%s' is not key=value", f->path, l->line, noun, l->name,
                         word);
    *eq = '\0';
    for (int k = 0; k < l->n_keys; k++)
        if (!strcmp(l->key[k], word))
            return alrs_fail("%s:%d: %s %s: key '%s' given twice", f->path, l->line, noun,
                             l->name, word);
    if (l->n_keys == SUITE_MAX_KEYS)
        return alrs_fail("%s:%d: %s %s: more than %d keys", f->path, l->line, noun, l->name,
                         SUITE_MAX_KEYS);
    l->key[l->n_keys] = word;
    l->value[l->n_keys++] = eq + 1;
    return 0;
}

/* Splits one line (NUL-terminated, in place) into its entry. */
static int split_line(suite_file *f, char *text, int line, const char *noun) {
    char *save = NULL, *word = strtok_r(text, " \t\r", &save);
    if (!word || word[0] == '#') return 0;
    if (strchr(word, '='))
        return alrs_fail("%s:%d: the line starts with '%s': a %s line is NAME key=value ...",
                         f->path, line, word, noun);
    if (check_name(f, line, word, noun) != 0) return -1;
    if (f->n == SUITE_MAX_LINES)
        return alrs_fail("%s:%d: more than %d %ss", f->path, line, SUITE_MAX_LINES, noun);
    suite_line *l = &f->lines[f->n];
    memset(l, 0, sizeof *l);
    l->line = line, l->name = word;
    while ((word = strtok_r(NULL, " \t\r", &save)) != NULL) {
        if (word[0] == '#') break; /* a comment to the end of the line */
        if (add_pair(f, l, word, noun) != 0) return -1;
    }
    f->n++;
    return 0;
}

int suite_file_read(suite_file *f, const char *path, const char *noun) {
    memset(f, 0, sizeof *f);
    f->path = path;
    if (read_text(f) != 0) return -2;
    char *p = f->text;
    for (int line = 1; *p; line++) {
        char *end = strchr(p, '\n');
        if (end) *end = '\0';
        if (split_line(f, p, line, noun) != 0) return -1;
        if (!end) break;
        p = end + 1;
    }
    if (f->n == 0) return alrs_fail("%s: no %s in the file (one per line: NAME key=value ...)",
                                    path, noun);
    return 0;
}

void suite_file_free(suite_file *f) {
    free(f->text);
    f->text = NULL;
    f->n = 0;
}

const char *suite_line_get(const suite_line *l, const char *key) {
    for (int k = 0; k < l->n_keys; k++)
        if (!strcmp(l->key[k], key)) return l->value[k];
    return NULL;
}

int suite_line_check_keys(const suite_file *f, const suite_line *l, const char *noun,
                          const char *const *known) {
    for (int k = 0; k < l->n_keys; k++) {
        int ok = 0;
        for (int i = 0; known[i] && !ok; i++) ok = !strcmp(known[i], l->key[k]);
        if (ok) continue;
        char list[512] = "";
        size_t used = 0;
        for (int i = 0; known[i]; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     known[i]);
        return alrs_fail("%s:%d: %s %s: unknown key '%s' (expected %s)", f->path, l->line, noun,
                         l->name, l->key[k], list);
    }
    return 0;
}
