#include "core/config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* ---- lines ---- */

typedef struct {
    const char *text;
    size_t len, pos;
    int number; /* of the line last returned, from 1 */
} line_reader;

/* The next line as [*start, *start + *n), without its '\n' or a trailing
 * '\r' (files edited on Windows); 0 at the end of the text. */
static int next_line(line_reader *r, const char **start, size_t *n) {
    if (r->pos >= r->len) return 0;
    const char *s = r->text + r->pos;
    const char *nl = memchr(s, '\n', r->len - r->pos);
    size_t line_len = nl ? (size_t)(nl - s) : r->len - r->pos;
    r->pos += line_len + (nl != NULL);
    r->number++;
    if (line_len > 0 && s[line_len - 1] == '\r') line_len--;
    *start = s;
    *n = line_len;
    return 1;
}

static int skipped(const char *s, size_t n) { return n == 0 || s[0] == '#'; }

/* Lines that must be entries: an upper bound on the entry count, to size the arrays once. */
static size_t count_entry_lines(const char *text, size_t len) {
    line_reader r = {text, len, 0, 0};
    const char *s;
    size_t n, count = 0;
    while (next_line(&r, &s, &n)) count += !skipped(s, n);
    return count;
}

/* Values become C strings, so a NUL would silently cut one short: refuse it,
 * naming its line. */
static int check_no_nul(const char *text, size_t len, const char *name) {
    const char *nul = memchr(text, '\0', len);
    if (!nul) return 0;
    int line = 1;
    for (const char *p = text; p < nul; p++) line += *p == '\n';
    return alrs_fail("%s:%d: NUL byte in line", name, line);
}

/* ---- keys ---- */

static int key_char(unsigned char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '.' || ch == '-';
}

static int check_key(const char *s, size_t key_len, const char *name, int line) {
    if (key_len == 0) return alrs_fail("%s:%d: empty key before '='", name, line);
    for (size_t i = 0; i < key_len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (key_char(ch)) continue;
        if (ch > ' ' && ch < 0x7f)
            return alrs_fail("%s:%d: key has '%c' at column %zu (keys use A-Z a-z 0-9 _ . -)",
                             name, line, ch, i + 1);
        return alrs_fail("%s:%d: key has byte 0x%02x at column %zu (keys use A-Z a-z 0-9 _ . -)",
                         name, line, ch, i + 1);
    }
    return 0;
}

/* Duplicate keys are found with a hash set of entry indices, so that a large
 * file of short lines costs linear time, not quadratic. */
typedef struct {
    int *slot; /* entry index + 1; 0 when empty */
    size_t mask;
    int *line; /* line of each entry, for "first on line N" */
} key_set;

static void key_set_init(key_set *h, size_t entries) {
    size_t size = 8;
    while (size < 2 * entries) size *= 2;
    h->slot = alrs_calloc(size, sizeof *h->slot);
    h->mask = size - 1;
    h->line = alrs_calloc(entries, sizeof *h->line);
}

static void key_set_free(key_set *h) {
    free(h->slot);
    free(h->line);
}

static size_t key_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)h;
}

/* The slot for key s[0..n): holding its entry, or the empty one where it goes. */
static int *key_slot(const key_set *h, const config_file *c, const char *s, size_t n) {
    for (size_t i = key_hash(s, n) & h->mask;; i = (i + 1) & h->mask) {
        int *slot = &h->slot[i];
        if (*slot == 0) return slot;
        const char *k = c->keys[*slot - 1];
        if (strncmp(k, s, n) == 0 && k[n] == '\0') return slot;
    }
}

/* ---- entries ---- */

static char *copy_text(const char *s, size_t n) {
    char *t = alrs_malloc(n + 1);
    memcpy(t, s, n);
    t[n] = '\0';
    return t;
}

static int add_entry(config_file *c, key_set *h, const char *s, size_t n, const char *name,
                     int line) {
    const char *eq = memchr(s, '=', n);
    if (!eq) return alrs_fail("%s:%d: no '=' in line", name, line);
    size_t key_len = (size_t)(eq - s);
    if (check_key(s, key_len, name, line) != 0) return -1;
    int *slot = key_slot(h, c, s, key_len);
    if (*slot)
        return alrs_fail("%s:%d: duplicate key '%.*s' (first on line %d)", name, line,
                         (int)key_len, s, h->line[*slot - 1]);
    c->keys[c->n] = copy_text(s, key_len);
    c->values[c->n] = copy_text(eq + 1, n - key_len - 1);
    h->line[c->n] = line;
    *slot = ++c->n;
    return 0;
}

int config_parse(config_file *c, const char *text, size_t len, const char *name) {
    memset(c, 0, sizeof *c);
    if (len > CONFIG_MAX_BYTES)
        return alrs_fail("%s: larger than %zu bytes: not an alrs config file", name,
                         CONFIG_MAX_BYTES);
    if (check_no_nul(text, len, name) != 0) return -1;
    size_t entries = count_entry_lines(text, len);
    c->keys = alrs_calloc(entries, sizeof *c->keys);
    c->values = alrs_calloc(entries, sizeof *c->values);
    key_set h;
    key_set_init(&h, entries);
    line_reader r = {text, len, 0, 0};
    const char *s;
    size_t n;
    int rc = 0;
    while (rc == 0 && next_line(&r, &s, &n))
        if (!skipped(s, n)) rc = add_entry(c, &h, s, n, name, r.number);
    key_set_free(&h);
    if (rc != 0) config_free(c);
    return rc;
}

int config_read(config_file *c, const char *path) {
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) return alrs_fail("%s: cannot open: %s", path, strerror(errno));
    /* One byte more than allowed, so that config_parse sees an oversized file as such. */
    char *text = alrs_malloc(CONFIG_MAX_BYTES + 1);
    size_t len = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
    int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    int rc = read_errno ? alrs_fail("%s: cannot read: %s", path, strerror(read_errno))
                        : config_parse(c, text, len, path);
    free(text);
    return rc;
}

const char *config_get(const config_file *c, const char *key) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->keys[i], key) == 0) return c->values[i];
    return NULL;
}

void config_free(config_file *c) {
    for (int i = 0; i < c->n; i++) {
        free(c->keys[i]);
        free(c->values[i]);
    }
    free(c->keys);
    free(c->values);
    memset(c, 0, sizeof *c);
}

static int listed(const char *key, const char *const *list) {
    for (; list && *list; list++)
        if (!strcmp(key, *list)) return 1;
    return 0;
}

/* The value `absent` gives key, or NULL. */
static const char *absent_value(const char *key, const char *const *absent) {
    size_t n = strlen(key);
    for (; absent && *absent; absent++)
        if (!strncmp(*absent, key, n) && (*absent)[n] == '=') return *absent + n + 1;
    return NULL;
}

const char *config_first_difference(const config_file *have, const config_file *want,
                                    const char *const *ignore, const char *const *absent) {
    for (int k = 0; k < want->n; k++) {
        if (listed(want->keys[k], ignore)) continue;
        const char *v = config_get(have, want->keys[k]);
        if (!v) v = absent_value(want->keys[k], absent);
        if (!v || strcmp(v, want->values[k])) return want->keys[k];
    }
    return NULL;
}
