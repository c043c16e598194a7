/* SPDX-License-Identifier: MIT */
/* Tests for shared/config.c: defaults, file and command-line precedence, every error message
 * with its file name and line, --help, and that config_free() leaves nothing behind (the suite
 * runs under AddressSanitizer, whose leak check fails the program). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

struct test_cfg {
        char *listen;
        int64_t port;
        int64_t retries;
        bool verbose;
        char *database;
        char *name;
};

static const struct config_option table[] = {
    {"listen", CONFIG_STRING, "0.0.0.0", "Address to listen on", offsetof(struct test_cfg, listen),
     0, 0},
    {"port", CONFIG_INT, "8443", "TCP port", offsetof(struct test_cfg, port), 1, 65535},
    {"retries", CONFIG_INT, "-1", "Retries, -1 for ever", offsetof(struct test_cfg, retries), 0, 0},
    {"verbose", CONFIG_BOOL, "false", "Log more", offsetof(struct test_cfg, verbose), 0, 0},
    {"database", CONFIG_STRING, "/var/lib/otsinka/otsinka.db", "Database file",
     offsetof(struct test_cfg, database), 0, 0},
    {"name", CONFIG_STRING, NULL, "Terminal name", offsetof(struct test_cfg, name), 0, 0},
};
#define N (sizeof(table) / sizeof(table[0]))

/* Writes content to a new temporary file and returns its malloc'd path. */
static char *write_temp(const char *content, size_t len)
{
        char *path = strdup("/tmp/otsinka-test-config-XXXXXX");
        int fd;

        assert_non_null(path);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, len), (ssize_t)len);
        close(fd);
        return path;
}

static void remove_temp(char *path)
{
        unlink(path);
        free(path);
}

static void defaults(struct test_cfg *c)
{
        /* The fields need not be initialised. */
        memset(c, 0xa5, sizeof(*c));
        assert_int_equal(config_defaults(table, N, c), 0);
}

static void test_defaults(void **state)
{
        struct test_cfg c;

        defaults(&c);
        assert_string_equal(c.listen, "0.0.0.0");
        assert_int_equal(c.port, 8443);
        assert_int_equal(c.retries, -1);
        assert_false(c.verbose);
        assert_string_equal(c.database, "/var/lib/otsinka/otsinka.db");
        assert_null(c.name);
        config_free(table, N, &c);
        assert_null(c.listen);
        assert_null(c.database);
        config_free(table, N, NULL);
}

static void test_file_then_command_line(void **state)
{
        static const char file[] = "# Otsinka collector\n"
                                   "\n"
                                   "  listen   =  127.0.0.1:8443  \n"
                                   "port=9000\r\n"
                                   "\t# indented comment\n"
                                   "verbose = yes\n"
                                   "name = \"  Hall # 2  \"\n"
                                   "database = a # b\n"
                                   "retries = -9223372036854775808";
        char *argv[] = {"--port=9001", "--name", "Kasa 3", "--verbose=off", "rest"};
        char err[256] = "";
        struct test_cfg c;
        bool help = true;
        int next = -1;
        char *path;

        defaults(&c);
        path = write_temp(file, sizeof(file) - 1);
        assert_int_equal(config_parse_file(table, N, path, &c, err, sizeof(err)), 0);
        assert_string_equal(c.listen, "127.0.0.1:8443");
        assert_int_equal(c.port, 9000);
        assert_true(c.verbose);
        /* Quotes keep blanks and '#'; '#' inside a value is not a comment. */
        assert_string_equal(c.name, "  Hall # 2  ");
        assert_string_equal(c.database, "a # b");
        assert_int_equal(c.retries, INT64_MIN);

        assert_int_equal(config_parse_args(table, N, 5, argv, &c, &next, &help, err, sizeof(err)),
                         0);
        assert_int_equal(next, 4);
        assert_false(help);
        assert_int_equal(c.port, 9001);
        assert_string_equal(c.name, "Kasa 3");
        assert_false(c.verbose);
        /* What the command line did not name keeps the file's value. */
        assert_string_equal(c.listen, "127.0.0.1:8443");

        config_free(table, N, &c);
        remove_temp(path);
}

static void test_config_file_read_in_place(void **state)
{
        static const char file[] = "port = 7000\nretries = 3\n";
        char err[256] = "";
        struct test_cfg c;
        int next = -1;
        char *path = write_temp(file, sizeof(file) - 1);

        /* Before --config the file wins, after it the command line does. */
        {
                char *argv[] = {"--port", "1", "--retries=5", "--config", path, "--retries", "7"};

                defaults(&c);
                assert_int_equal(
                    config_parse_args(table, N, 7, argv, &c, &next, NULL, err, sizeof(err)), 0);
                assert_int_equal(next, 7);
                assert_int_equal(c.port, 7000);
                assert_int_equal(c.retries, 7);
                config_free(table, N, &c);
        }
        {
                char arg[300];
                char *argv[] = {arg, "--port", "2"};

                snprintf(arg, sizeof(arg), "--config=%s", path);
                defaults(&c);
                assert_int_equal(
                    config_parse_args(table, N, 3, argv, &c, &next, NULL, err, sizeof(err)), 0);
                assert_int_equal(c.port, 2);
                assert_int_equal(c.retries, 3);
                config_free(table, N, &c);
        }
        remove_temp(path);
}

static void test_table_with_own_config_key(void **state)
{
        struct own {
                char *config;
        } o;
        static const struct config_option own_table[] = {
            {"config", CONFIG_STRING, NULL, "Not a file", offsetof(struct own, config), 0, 0},
        };
        char *argv[] = {"--config", "/nonexistent/file"};
        char err[128] = "";
        int next = -1;

        assert_int_equal(config_defaults(own_table, 1, &o), 0);
        assert_int_equal(
            config_parse_args(own_table, 1, 2, argv, &o, &next, NULL, err, sizeof(err)), 0);
        assert_string_equal(o.config, "/nonexistent/file");
        config_free(own_table, 1, &o);
}

static void test_args_stop(void **state)
{
        char err[128] = "";
        struct test_cfg c;
        bool help = true;
        int next = -1;

        defaults(&c);
        {
                char *argv[] = {"--port=1", "serve", "--verbose"};

                assert_int_equal(
                    config_parse_args(table, N, 3, argv, &c, &next, &help, err, sizeof(err)), 0);
                assert_int_equal(next, 1);
                assert_false(c.verbose);
        }
        {
                /* "--" is consumed; what follows is left for the caller. */
                char *argv[] = {"--verbose", "--", "--port=5"};

                assert_int_equal(
                    config_parse_args(table, N, 3, argv, &c, &next, &help, err, sizeof(err)), 0);
                assert_int_equal(next, 2);
                assert_true(c.verbose);
                assert_int_equal(c.port, 1);
        }
        {
                /* A bare boolean does not swallow the next argument. */
                char *argv[] = {"--verbose", "false"};

                c.verbose = false;
                assert_int_equal(
                    config_parse_args(table, N, 2, argv, &c, &next, &help, err, sizeof(err)), 0);
                assert_int_equal(next, 1);
                assert_true(c.verbose);
        }
        {
                char *argv[] = {"-v", "--port=3"};

                assert_int_equal(
                    config_parse_args(table, N, 2, argv, &c, &next, &help, err, sizeof(err)), 0);
                assert_int_equal(next, 0);
                assert_int_equal(c.port, 1);
        }
        assert_int_equal(config_parse_args(table, N, 0, NULL, &c, &next, &help, err, sizeof(err)),
                         0);
        assert_int_equal(next, 0);
        config_free(table, N, &c);
}

/* Parses text as a file named "t.conf" and expects the error message want. */
static void expect_buffer_error(const char *text, size_t len, int want_r, const char *want)
{
        char err[512] = "";
        struct test_cfg c;

        defaults(&c);
        assert_int_equal(config_parse_buffer(table, N, "t.conf", text, len, &c, err, sizeof(err)),
                         want_r);
        assert_string_equal(err, want);
        config_free(table, N, &c);
}

#define EXPECT_ERROR(text, want) expect_buffer_error(text, sizeof(text) - 1, -EINVAL, want)

static void test_file_errors(void **state)
{
        EXPECT_ERROR("port = 80\nbogus = 1\n", "t.conf:2: unknown key 'bogus'");
        EXPECT_ERROR("# comment\n\nport 80\n", "t.conf:3: missing '=' (expected \"key = value\")");
        EXPECT_ERROR("  = 5", "t.conf:1: missing key before '='");
        EXPECT_ERROR("port = 8o", "t.conf:1: port: invalid integer '8o'");
        EXPECT_ERROR("port =", "t.conf:1: port: invalid integer ''");
        EXPECT_ERROR("port = 0x50", "t.conf:1: port: invalid integer '0x50'");
        EXPECT_ERROR("port = \" 80\"", "t.conf:1: port: invalid integer ' 80'");
        EXPECT_ERROR("port = 1.5", "t.conf:1: port: invalid integer '1.5'");
        EXPECT_ERROR("port = 65536", "t.conf:1: port: 65536 is out of range [1, 65535]");
        EXPECT_ERROR("\n\n\nport = 0", "t.conf:4: port: 0 is out of range [1, 65535]");
        EXPECT_ERROR("port = -1", "t.conf:1: port: -1 is out of range [1, 65535]");
        EXPECT_ERROR("retries = 9223372036854775808",
                     "t.conf:1: retries: 9223372036854775808 is out of range");
        EXPECT_ERROR("verbose = maybe", "t.conf:1: verbose: invalid boolean 'maybe' (use "
                                        "true/false, yes/no, on/off or 1/0)");
        EXPECT_ERROR("verbose = \"\"", "t.conf:1: verbose: invalid boolean '' (use "
                                       "true/false, yes/no, on/off or 1/0)");
        EXPECT_ERROR("listen = \"abc", "t.conf:1: unterminated quote");
        EXPECT_ERROR("listen = \"", "t.conf:1: unterminated quote");
        EXPECT_ERROR("port = 1\nlisten = a\0b\n", "t.conf:2: NUL byte in line");
        expect_buffer_error("", CONFIG_FILE_MAX + 1, -EFBIG,
                            "t.conf: file too large (over 1048576 bytes)");
}

static void test_line_length(void **state)
{
        char *text = malloc(CONFIG_LINE_MAX + 2);
        char err[256] = "";
        struct test_cfg c;

        /* "listen = xxx...": exactly CONFIG_LINE_MAX bytes is fine. */
        assert_non_null(text);
        memset(text, 'x', CONFIG_LINE_MAX + 1);
        memcpy(text, "listen = ", 9);
        text[CONFIG_LINE_MAX] = '\n';
        defaults(&c);
        assert_int_equal(config_parse_buffer(table, N, "t.conf", text, CONFIG_LINE_MAX + 1, &c, err,
                                             sizeof(err)),
                         0);
        assert_int_equal(strlen(c.listen), CONFIG_LINE_MAX - 9);
        /* One more byte is not. */
        text[CONFIG_LINE_MAX] = 'x';
        text[CONFIG_LINE_MAX + 1] = '\n';
        assert_int_equal(config_parse_buffer(table, N, "t.conf", text, CONFIG_LINE_MAX + 2, &c, err,
                                             sizeof(err)),
                         -EINVAL);
        assert_string_equal(err, "t.conf:1: line too long (over 4096 bytes)");
        config_free(table, N, &c);
        free(text);
}

static void test_file_errors_name_the_path(void **state)
{
        static const char file[] = "port = 80\n\nlisten = \"x\"\nport = abc\n";
        char err[512] = "", want[512];
        char *path = write_temp(file, sizeof(file) - 1);
        char *argv[] = {"--config", path};
        struct test_cfg c;
        int next = 42;

        defaults(&c);
        assert_int_equal(config_parse_file(table, N, path, &c, err, sizeof(err)), -EINVAL);
        snprintf(want, sizeof(want), "%s:4: port: invalid integer 'abc'", path);
        assert_string_equal(err, want);
        /* The same through --config, and *ret_next is left alone. */
        assert_int_equal(config_parse_args(table, N, 2, argv, &c, &next, NULL, err, sizeof(err)),
                         -EINVAL);
        assert_string_equal(err, want);
        assert_int_equal(next, 42);
        /* Line 3 was applied before the error; config_free() still frees it. */
        assert_string_equal(c.listen, "x");
        config_free(table, N, &c);
        remove_temp(path);

        defaults(&c);
        assert_int_equal(
            config_parse_file(table, N, "/nonexistent/otsinka.conf", &c, err, sizeof(err)),
            -ENOENT);
        assert_string_equal(err, "/nonexistent/otsinka.conf: No such file or directory");
        assert_int_equal(config_parse_file(table, N, "/tmp", &c, err, sizeof(err)), -EISDIR);
        assert_string_equal(err, "/tmp: Is a directory");

        {
                char *big = malloc(CONFIG_FILE_MAX + 1);

                assert_non_null(big);
                memset(big, '\n', CONFIG_FILE_MAX + 1);
                path = write_temp(big, CONFIG_FILE_MAX + 1);
                free(big);
                assert_int_equal(config_parse_file(table, N, path, &c, err, sizeof(err)), -EFBIG);
                snprintf(want, sizeof(want), "%s: file too large (over 1048576 bytes)", path);
                assert_string_equal(err, want);
                remove_temp(path);
        }
        config_free(table, N, &c);
}

/* Parses argv and expects the error message want; ret_next and ret_help stay untouched. */
static void expect_args_error(int argc, char **argv, const char *want)
{
        char err[512] = "";
        struct test_cfg c;
        bool help = false;
        int next = 42;

        defaults(&c);
        assert_int_equal(
            config_parse_args(table, N, argc, argv, &c, &next, &help, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, want);
        assert_int_equal(next, 42);
        assert_false(help);
        config_free(table, N, &c);
}

#define EXPECT_ARGS_ERROR(want, ...)                                                               \
        do {                                                                                       \
                char *argv[] = {__VA_ARGS__};                                                      \
                expect_args_error(sizeof(argv) / sizeof(argv[0]), argv, want);                     \
        } while (0)

static void test_args_errors(void **state)
{
        EXPECT_ARGS_ERROR("--bogus: unknown option", "--bogus=1");
        EXPECT_ARGS_ERROR("--bogus: unknown option", "--port=1", "--bogus");
        EXPECT_ARGS_ERROR("--port: missing value", "--port");
        EXPECT_ARGS_ERROR("--port: invalid integer 'abc'", "--port=abc");
        EXPECT_ARGS_ERROR("--port: invalid integer ''", "--port=");
        EXPECT_ARGS_ERROR("--port: 70000 is out of range [1, 65535]", "--port", "70000");
        EXPECT_ARGS_ERROR("--verbose: invalid boolean 'maybe' (use true/false, yes/no, on/off or "
                          "1/0)",
                          "--verbose=maybe");
        EXPECT_ARGS_ERROR("--config: missing value", "--config");
        EXPECT_ARGS_ERROR("--help: takes no value", "--help=1");
        {
                char err[128] = "";
                char *argv[] = {"--config", "/nonexistent/otsinka.conf"};
                struct test_cfg c;

                defaults(&c);
                assert_int_equal(
                    config_parse_args(table, N, 2, argv, &c, NULL, NULL, err, sizeof(err)),
                    -ENOENT);
                assert_string_equal(err, "/nonexistent/otsinka.conf: No such file or directory");
                config_free(table, N, &c);
        }
}

static void test_help(void **state)
{
        static const char want[] =
            "  --listen=STRING    Address to listen on (default: 0.0.0.0)\n"
            "  --port=INT         TCP port (default: 8443; 1..65535)\n"
            "  --retries=INT      Retries, -1 for ever (default: -1)\n"
            "  --verbose=BOOL     Log more (default: false)\n"
            "  --database=STRING  Database file (default: /var/lib/otsinka/otsinka.db)\n"
            "  --name=STRING      Terminal name (no default)\n"
            "  --config=FILE      read options from FILE, in place\n"
            "  --help             show this help\n";
        char *argv[] = {"--help", "--port=2"};
        char err[128] = "";
        struct test_cfg c;
        bool help = false;
        int next = -1;
        char *out = NULL;
        size_t outlen = 0;
        FILE *f;

        defaults(&c);
        assert_int_equal(config_parse_args(table, N, 2, argv, &c, &next, &help, err, sizeof(err)),
                         0);
        assert_true(help);
        assert_int_equal(next, 2);
        /* Without a place to report it, --help is just an unknown option. */
        assert_int_equal(config_parse_args(table, N, 1, argv, &c, &next, NULL, err, sizeof(err)),
                         -EINVAL);
        assert_string_equal(err, "--help: unknown option");
        config_free(table, N, &c);

        f = open_memstream(&out, &outlen);
        assert_non_null(f);
        config_print_help(table, N, f);
        fclose(f);
        assert_string_equal(out, want);
        free(out);
}

static void test_bad_defaults(void **state)
{
        struct bad {
                char *s;
                int64_t i;
                char *t;
        } b;
        const struct config_option bad_int[] = {
            {"s", CONFIG_STRING, "kept", "", offsetof(struct bad, s), 0, 0},
            {"i", CONFIG_INT, "12x", "", offsetof(struct bad, i), 0, 0},
            {"t", CONFIG_STRING, "never set", "", offsetof(struct bad, t), 0, 0},
        };
        const struct config_option out_of_range[] = {
            {"i", CONFIG_INT, "0", "", offsetof(struct bad, i), 1, 10},
        };

        memset(&b, 0xa5, sizeof(b));
        assert_int_equal(config_defaults(bad_int, 3, &b), -EINVAL);
        /* Every string is either set or NULL, so config_free() is safe. */
        assert_null(b.t);
        config_free(bad_int, 3, &b);
        assert_int_equal(config_defaults(out_of_range, 1, &b), -EINVAL);
}

static void test_replacing_strings_frees_old_values(void **state)
{
        static const char text[] = "name = a\nname = b\nlisten = c\nname = \"\"\n";
        char err[128] = "";
        struct test_cfg c;

        defaults(&c);
        assert_int_equal(config_parse_buffer(table, N, "t.conf", "\xef\xbb\xbfname = bom", 13, &c,
                                             err, sizeof(err)),
                         0);
        assert_string_equal(c.name, "bom");
        assert_int_equal(
            config_parse_buffer(table, N, "t.conf", text, sizeof(text) - 1, &c, err, sizeof(err)),
            0);
        assert_string_equal(c.name, "");
        assert_string_equal(c.listen, "c");
        config_free(table, N, &c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults),
            cmocka_unit_test(test_file_then_command_line),
            cmocka_unit_test(test_config_file_read_in_place),
            cmocka_unit_test(test_table_with_own_config_key),
            cmocka_unit_test(test_args_stop),
            cmocka_unit_test(test_file_errors),
            cmocka_unit_test(test_line_length),
            cmocka_unit_test(test_file_errors_name_the_path),
            cmocka_unit_test(test_args_errors),
            cmocka_unit_test(test_help),
            cmocka_unit_test(test_bad_defaults),
            cmocka_unit_test(test_replacing_strings_frees_old_values),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
