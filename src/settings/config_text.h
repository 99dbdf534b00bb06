/* A run's config.txt: every setting as key=value, and the command that
 * repeats the run, both built from one list so that they cannot disagree.
 *
 *   config_text t;
 *   config_text_begin(&t, "alrs learn");
 *   config_text_add(&t, "model", "model", "lenet5");   -> --model lenet5, model=lenet5
 *   config_text_num(&t, "gamma", "gamma", 0.99);       -> shortest round-trip number
 *   config_text_add(&t, "updates", NULL, "50");        -> a key with no flag (derived)
 *   char *text = config_text_finish(&t, "alrs learn configuration: ...");
 *
 * Values are written into the command shell-quoted where needed, so the
 * command runs as written; "--out DIR" ends it. */
#ifndef ALRS_SETTINGS_CONFIG_TEXT_H
#define ALRS_SETTINGS_CONFIG_TEXT_H

#include <stdio.h>

typedef struct config_text {
    FILE *cmd, *keys;
    char *cmd_text, *key_text;
    size_t cmd_len, key_len;
} config_text;

void config_text_begin(config_text *t, const char *program);
/* key may be NULL (a flag only for the command), flag may be NULL (a key only). */
void config_text_add(config_text *t, const char *key, const char *flag, const char *value);
void config_text_num(config_text *t, const char *key, const char *flag, double value);
void config_text_int(config_text *t, const char *key, const char *flag, long value);
/* A bare switch on the command line (no key). */
void config_text_switch(config_text *t, const char *flag);
/* "# TITLE\ncommand=PROGRAM FLAGS --out DIR\nkey=value\n..."; free it. */
char *config_text_finish(config_text *t, const char *title);

#endif
