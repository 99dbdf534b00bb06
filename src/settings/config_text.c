#define _POSIX_C_SOURCE 200809L
#include "settings/config_text.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/numfmt.h"
#include "core/version.h"

void config_text_begin(config_text *t, const char *program) {
    memset(t, 0, sizeof *t);
    t->cmd = open_memstream(&t->cmd_text, &t->cmd_len);
    t->keys = open_memstream(&t->key_text, &t->key_len);
    fputs(program, t->cmd);
}

/* Plain words go as they are; anything else in single quotes (a quote
 * inside becomes '\''). An empty value needs quotes too, but flags never
 * take one: the caller leaves such flags out. */
static void put_shell_word(FILE *out, const char *s) {
    int plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                       "_-+=.,:/@%", *p) != NULL;
    if (plain) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (const char *p = s; *p; p++) {
        if (*p == '\'') fputs("'\\''", out);
        else fputc(*p, out);
    }
    fputc('\'', out);
}

void config_text_add(config_text *t, const char *key, const char *flag, const char *value) {
    if (flag && value[0]) {
        fprintf(t->cmd, " --%s ", flag);
        put_shell_word(t->cmd, value);
    }
    if (key) fprintf(t->keys, "%s=%s\n", key, value);
}

void config_text_num(config_text *t, const char *key, const char *flag, double value) {
    char buf[NUM_TEXT];
    config_text_add(t, key, flag, num_format(buf, value));
}

void config_text_int(config_text *t, const char *key, const char *flag, long value) {
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", value);
    config_text_add(t, key, flag, buf);
}

void config_text_switch(config_text *t, const char *flag) { fprintf(t->cmd, " --%s", flag); }

char *config_text_finish(config_text *t, const char *title) {
    fputs(" --out DIR", t->cmd);
    fclose(t->cmd);
    fclose(t->keys);
    size_t n = strlen(title) + t->cmd_len + t->key_len + 128;
    char *text = alrs_malloc(n);
    snprintf(text, n, "# %s\n# written by alrs %s\ncommand=%s\n%s", title, alrs_version_text(),
             t->cmd_text, t->key_text);
    free(t->cmd_text);
    free(t->key_text);
    memset(t, 0, sizeof *t);
    return text;
}
