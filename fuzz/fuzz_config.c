/* config_parse (src/core/config.c) on arbitrary bytes. What it accepts must
 * hold up: keys non-empty, of [A-Za-z0-9_.-] and distinct, no value with a
 * newline, each key found by config_get; and the entries written back as
 * key=value lines must parse to the same entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/config.h"

static const char *NAME = "fuzz/config.txt";

static void check_entries(const config_file *c) {
    for (int i = 0; i < c->n; i++) {
        const char *k = c->keys[i];
        FUZZ_ASSERT(k[0] != '\0');
        FUZZ_ASSERT(strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
                    strlen(k));
        FUZZ_ASSERT(strchr(c->values[i], '\n') == NULL);
        FUZZ_ASSERT(config_get(c, k) == c->values[i]); /* the first match is itself: no duplicates */
    }
}

/* The entries as key=value lines (a fresh buffer; *len its length), ended
 * with "\r\n": the reader strips one '\r', so a value that itself ends in
 * '\r' comes back whole. */
static char *write_back(const config_file *c, size_t *len) {
    size_t size = 1;
    for (int i = 0; i < c->n; i++) size += strlen(c->keys[i]) + strlen(c->values[i]) + 3;
    char *text = malloc(size);
    size_t used = 0;
    for (int i = 0; i < c->n; i++)
        used += (size_t)snprintf(text + used, size - used, "%s=%s\r\n", c->keys[i], c->values[i]);
    *len = used;
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    config_file c;
    if (config_parse(&c, (const char *)data, size, NAME) != 0) {
        FUZZ_ASSERT(c.n == 0 && c.keys == NULL && c.values == NULL);
        fuzz_check_refusal(NAME);
        return 0;
    }
    check_entries(&c);
    size_t len;
    char *text = write_back(&c, &len);
    config_file again;
    FUZZ_ASSERT(config_parse(&again, text, len, NAME) == 0);
    FUZZ_ASSERT(again.n == c.n);
    for (int i = 0; i < c.n; i++)
        FUZZ_ASSERT(!strcmp(again.keys[i], c.keys[i]) && !strcmp(again.values[i], c.values[i]));
    config_free(&again);
    free(text);
    config_free(&c);
    return 0;
}
