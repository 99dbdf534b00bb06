/* The config.txt reader: a file in the shape alrs writes reads back entry by
 * entry (comments and blank lines skipped, values kept whole with their '='
 * and quotes, '\r\n' endings, no final newline); every malformed line is
 * refused with one line naming the file and line, and a failed parse leaves
 * nothing to free; config_read reads files and refuses oversized or missing
 * ones. */
#include "core/config.h"
#include "core/error.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static int parse_text(config_file *c, const char *text) {
    return config_parse(c, text, strlen(text), "run/config.txt");
}

static void test_written_shape(void) {
    const char *text =
        "# alrs train configuration: every value resolved; the command repeats the run.\n"
        "command=alrs train --model mlp --data-dir '/data x' --schedule 'step:every=3,gamma=0.5' "
        "--out DIR\n"
        "model=mlp\n"
        "\n"
        "schedule=step:every=3,gamma=0.5\n"
        "lr=0.10000000000000001\n"
        "data_dir=\n"
        "a.b-c_9=x=y\n";
    config_file c;
    CHECK(parse_text(&c, text) == 0);
    CHECK(c.n == 6);
    CHECK(!strcmp(c.keys[0], "command"));
    CHECK(!strcmp(config_get(&c, "command"),
                  "alrs train --model mlp --data-dir '/data x' --schedule "
                  "'step:every=3,gamma=0.5' --out DIR"));
    CHECK(!strcmp(config_get(&c, "model"), "mlp"));
    CHECK(!strcmp(config_get(&c, "schedule"), "step:every=3,gamma=0.5"));
    CHECK(!strcmp(config_get(&c, "lr"), "0.10000000000000001"));
    CHECK(!strcmp(config_get(&c, "data_dir"), ""));
    CHECK(!strcmp(config_get(&c, "a.b-c_9"), "x=y")); /* split at the first '=' only */
    CHECK(config_get(&c, "steps") == NULL);
    CHECK(config_get(&c, "Model") == NULL); /* keys are case-sensitive */
    config_free(&c);
    CHECK(c.n == 0 && c.keys == NULL && c.values == NULL);
    config_free(&c); /* twice is harmless */
}

static void test_line_endings(void) {
    config_file c;
    CHECK(parse_text(&c, "a=1\r\n\r\n#x\r\nb= 2 \r\nc=3") == 0);
    CHECK(c.n == 3);
    CHECK(!strcmp(config_get(&c, "a"), "1"));
    CHECK(!strcmp(config_get(&c, "b"), " 2 ")); /* only '\r' is stripped */
    CHECK(!strcmp(config_get(&c, "c"), "3"));   /* no final newline */
    config_free(&c);

    CHECK(config_parse(&c, "", 0, "empty") == 0);
    CHECK(c.n == 0);
    CHECK(config_get(&c, "a") == NULL);
    config_free(&c);
    CHECK(parse_text(&c, "# only a comment\n\n") == 0 && c.n == 0);
    config_free(&c);
    /* Not NUL-terminated: only len bytes count. */
    CHECK(config_parse(&c, "k=vXYZ", 3, "n") == 0 && !strcmp(config_get(&c, "k"), "v"));
    config_free(&c);
}

/* A text that must be refused with exactly `message`. */
static void expect_error(const char *text, size_t len, const char *message) {
    config_file c;
    int rc = config_parse(&c, text, len, "out/config.txt");
    CHECK(rc == -1);
    CHECK(c.n == 0 && c.keys == NULL && c.values == NULL);
    int ok = !strcmp(alrs_error(), message);
    if (!ok) fprintf(stderr, "  expected '%s', got '%s'\n", message, alrs_error());
    else printf("  refused: %s\n", alrs_error());
    CHECK(ok);
}

static void expect_error_text(const char *text, const char *message) {
    expect_error(text, strlen(text), message);
}

static void test_errors(void) {
    expect_error_text("# c\na=1\n\nb=2\nc=3\n\nno equals here\n",
                      "out/config.txt:7: no '=' in line");
    expect_error_text("a=1\n=2\n", "out/config.txt:2: empty key before '='");
    expect_error_text("a=1\nb=2\na=3\n", "out/config.txt:3: duplicate key 'a' (first on line 1)");
    expect_error_text("lr =0.1\n",
                      "out/config.txt:1: key has byte 0x20 at column 3 (keys use A-Z a-z 0-9 _ . -)");
    expect_error_text("x\n a=1\n",
                      "out/config.txt:1: no '=' in line");
    expect_error_text("ok=1\n a=1\n",
                      "out/config.txt:2: key has byte 0x20 at column 1 (keys use A-Z a-z 0-9 _ . -)");
    expect_error_text("ok=1\nk/e=1\n",
                      "out/config.txt:2: key has '/' at column 2 (keys use A-Z a-z 0-9 _ . -)");
    expect_error_text("a\rb=1\n",
                      "out/config.txt:1: key has byte 0x0d at column 2 (keys use A-Z a-z 0-9 _ . -)");
    expect_error("a=1\nb=x\0y\n", 10, "out/config.txt:2: NUL byte in line");
    expect_error("#\0\n", 3, "out/config.txt:1: NUL byte in line"); /* even in a comment */

    /* Many entries: the duplicate is found far down. */
    enum { N = 20000 };
    char *big = malloc((size_t)N * 16 + 32);
    size_t used = 0;
    for (int i = 0; i < N; i++) used += (size_t)sprintf(big + used, "k%d=%d\n", i, i);
    config_file c;
    CHECK(config_parse(&c, big, used, "big") == 0 && c.n == N);
    CHECK(!strcmp(config_get(&c, "k12345"), "12345"));
    config_free(&c);
    used += (size_t)sprintf(big + used, "k777=again\n");
    expect_error(big, used, "out/config.txt:20001: duplicate key 'k777' (first on line 778)");
    free(big);
}

static void test_config_read(void) {
    const char *dir = test_tmpdir("config");
    const char *path = test_path(dir, "config.txt");
    test_write_text(path, "# x\ncommand=alrs train --out DIR\nsteps=100\n");
    config_file c;
    CHECK(config_read(&c, path) == 0);
    CHECK(c.n == 2 && !strcmp(config_get(&c, "steps"), "100"));
    config_free(&c);

    test_write_text(path, "steps=100\nsteps\n");
    CHECK(config_read(&c, path) == -1);
    CHECK(strstr(alrs_error(), path) && strstr(alrs_error(), ":2: no '=' in line"));

    const char *missing = test_path(dir, "missing.txt");
    CHECK(config_read(&c, missing) == -1);
    CHECK(strstr(alrs_error(), missing) && strstr(alrs_error(), "cannot open"));
    CHECK(config_read(&c, dir) == -1); /* a directory */
    CHECK(strstr(alrs_error(), "cannot read"));

    /* Just at the limit is read; one byte more is refused. */
    size_t limit = CONFIG_MAX_BYTES;
    char *big = malloc(limit + 2);
    memset(big, '#', limit + 1);
    big[limit + 1] = '\0';
    big[limit] = '\0';
    test_write_text(path, big);
    CHECK(config_read(&c, path) == 0 && c.n == 0);
    config_free(&c);
    big[limit] = '#';
    test_write_text(path, big);
    CHECK(config_read(&c, path) == -1);
    CHECK(strstr(alrs_error(), "larger than 1048576 bytes") != NULL);
    printf("  refused: %s\n", alrs_error());
    free(big);
}

/* The first differing key; a key a file written before it existed lacks
 * counts as its `absent` value (the whole split: train_size=0). */
static void test_first_difference(void) {
    config_file have, want;
    CHECK(parse_text(&have, "command=old\nsteps=100\nseed=1\n") == 0);
    CHECK(parse_text(&want, "command=new\nsteps=100\ntrain_size=0\nseed=1\n") == 0);
    static const char *const ignore[] = {"command", NULL};
    static const char *const absent[] = {"train_size=0", "label_noise=0", NULL};
    const char *key = config_first_difference(&have, &want, ignore, NULL);
    CHECK(key && !strcmp(key, "train_size"));
    CHECK(config_first_difference(&have, &want, ignore, absent) == NULL);
    config_free(&want);
    CHECK(parse_text(&want, "command=new\nsteps=100\ntrain_size=500\nseed=1\n") == 0);
    key = config_first_difference(&have, &want, ignore, absent);
    CHECK(key && !strcmp(key, "train_size"));
    config_free(&want);
    CHECK(parse_text(&want, "command=new\nsteps=200\nseed=1\n") == 0);
    key = config_first_difference(&have, &want, NULL, absent);
    CHECK(key && !strcmp(key, "command"));
    key = config_first_difference(&have, &want, ignore, absent);
    CHECK(key && !strcmp(key, "steps"));
    config_free(&want);
    config_free(&have);
}

int main(void) {
    test_written_shape();
    test_first_difference();
    test_line_endings();
    test_errors();
    test_config_read();
    return test_finish();
}
