/* SPDX-License-Identifier: MIT */
/* Configuration from one option table: defaults, "key = value" files and "--key=value"
 * arguments all go through set_value(), which replaces a field only once the new value is
 * fully parsed (and, for a string, copied), so an error never leaves a field half-set. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* Where a value came from, for error messages. */
struct source {
        const char *file; /* the file name, or NULL for the command line */
        unsigned line;    /* 1-based line number in file */
};

static void *field(const struct config_option *o, void *cfg)
{
        return (char *)cfg + o->offset;
}

static void __attribute__((format(printf, 3, 4)))
errf(char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        if (!err || errlen == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
}

/* Reports a bad value, prefixed "FILE:LINE: key: " or "--key: ". */
static int __attribute__((format(printf, 5, 6)))
value_error(const struct source *src, const struct config_option *o, char *err, size_t errlen,
            const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (!src)
                errf(err, errlen, "default of %s: %s", o->key, msg);
        else if (src->file)
                errf(err, errlen, "%s:%u: %s: %s", src->file, src->line, o->key, msg);
        else
                errf(err, errlen, "--%s: %s", o->key, msg);
        return -EINVAL;
}

static const struct config_option *find_option(const struct config_option *table, size_t n,
                                               const char *key, size_t keylen)
{
        for (size_t i = 0; i < n; i++)
                if (strncmp(table[i].key, key, keylen) == 0 && table[i].key[keylen] == '\0')
                        return &table[i];
        return NULL;
}

static bool has_option(const struct config_option *table, size_t n, const char *key)
{
        return find_option(table, n, key, strlen(key)) != NULL;
}

static int parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Parses and stores one value; value may be NULL only for a string (no value). */
static int set_value(const struct config_option *o, const char *value, void *cfg,
                     const struct source *src, char *err, size_t errlen)
{
        switch (o->type) {
        case CONFIG_STRING: {
                char **f = field(o, cfg);
                char *copy = NULL;

                if (value) {
                        copy = strdup(value);
                        if (!copy) {
                                value_error(src, o, err, errlen, "out of memory");
                                return -ENOMEM;
                        }
                }
                free(*f);
                *f = copy;
                return 0;
        }
        case CONFIG_INT: {
                bool bounded = o->min != 0 || o->max != 0;
                char *end = NULL;
                long long v;

                if (!value)
                        value = "0";
                /* strtoll() would skip leading blanks and accept an empty string. */
                if (!((value[0] >= '0' && value[0] <= '9') ||
                      ((value[0] == '-' || value[0] == '+') && value[1] >= '0' && value[1] <= '9')))
                        return value_error(src, o, err, errlen, "invalid integer '%.64s'", value);
                errno = 0;
                v = strtoll(value, &end, 10);
                if (*end != '\0')
                        return value_error(src, o, err, errlen, "invalid integer '%.64s'", value);
                if (errno == ERANGE || (bounded && (v < o->min || v > o->max))) {
                        if (bounded)
                                return value_error(src, o, err, errlen,
                                                   "%.64s is out of range [%lld, %lld]", value,
                                                   (long long)o->min, (long long)o->max);
                        return value_error(src, o, err, errlen, "%.64s is out of range", value);
                }
                *(int64_t *)field(o, cfg) = v;
                return 0;
        }
        case CONFIG_BOOL: {
                bool b = false;

                if (value && parse_bool(value, &b) < 0)
                        return value_error(src, o, err, errlen,
                                           "invalid boolean '%.64s' (use true/false, yes/no, "
                                           "on/off or 1/0)",
                                           value);
                *(bool *)field(o, cfg) = b;
                return 0;
        }
        }
        return value_error(src, o, err, errlen, "unknown option type %d", (int)o->type);
}

int config_defaults(const struct config_option *table, size_t n, void *cfg)
{
        int r;

        /* First make every string freeable, so that config_free() is safe whatever fails. */
        for (size_t i = 0; i < n; i++)
                if (table[i].type == CONFIG_STRING)
                        *(char **)field(&table[i], cfg) = NULL;
        for (size_t i = 0; i < n; i++) {
                r = set_value(&table[i], table[i].def, cfg, NULL, NULL, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Parses one NUL-terminated line, which it may modify. */
static int parse_line(const struct config_option *table, size_t n, const struct source *src,
                      char *line, void *cfg, char *err, size_t errlen)
{
        const struct config_option *o;
        char *key, *eq, *value, *end;
        size_t len;

        key = line;
        while (is_blank(*key))
                key++;
        end = key + strlen(key);
        while (end > key && is_blank(end[-1]))
                *--end = '\0';
        if (*key == '\0' || *key == '#')
                return 0;

        eq = strchr(key, '=');
        if (!eq) {
                errf(err, errlen, "%s:%u: missing '=' (expected \"key = value\")", src->file,
                     src->line);
                return -EINVAL;
        }
        value = eq + 1;
        while (eq > key && is_blank(eq[-1]))
                eq--;
        *eq = '\0';
        if (*key == '\0') {
                errf(err, errlen, "%s:%u: missing key before '='", src->file, src->line);
                return -EINVAL;
        }
        while (is_blank(*value))
                value++;
        if (*value == '"') {
                len = strlen(value);
                if (len < 2 || value[len - 1] != '"') {
                        errf(err, errlen, "%s:%u: unterminated quote", src->file, src->line);
                        return -EINVAL;
                }
                value[len - 1] = '\0';
                value++;
        }

        o = find_option(table, n, key, strlen(key));
        if (!o) {
                errf(err, errlen, "%s:%u: unknown key '%.64s'", src->file, src->line, key);
                return -EINVAL;
        }
        return set_value(o, value, cfg, src, err, errlen);
}

int config_parse_buffer(const struct config_option *table, size_t n, const char *name,
                        const char *data, size_t len, void *cfg, char *err, size_t errlen)
{
        char line[CONFIG_LINE_MAX + 1];
        struct source src = {.file = name, .line = 0};
        size_t pos = 0;
        int r;

        if (len > CONFIG_FILE_MAX) {
                errf(err, errlen, "%s: file too large (over %d bytes)", name, CONFIG_FILE_MAX);
                return -EFBIG;
        }
        /* A byte order mark, as some editors write it. */
        if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
                pos = 3;
        while (pos < len) {
                const char *start = data + pos;
                const char *nl = memchr(start, '\n', len - pos);
                size_t l = nl ? (size_t)(nl - start) : len - pos;

                src.line++;
                pos += l + (nl ? 1 : 0);
                if (l > CONFIG_LINE_MAX) {
                        errf(err, errlen, "%s:%u: line too long (over %d bytes)", name, src.line,
                             CONFIG_LINE_MAX);
                        return -EINVAL;
                }
                if (memchr(start, '\0', l)) {
                        errf(err, errlen, "%s:%u: NUL byte in line", name, src.line);
                        return -EINVAL;
                }
                memcpy(line, start, l);
                line[l] = '\0';
                r = parse_line(table, n, &src, line, cfg, err, errlen);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Reads at most CONFIG_FILE_MAX + 1 bytes of a file, so that a larger one is detected. */
static int read_capped(const char *path, char **ret_data, size_t *ret_len)
{
        size_t cap = CONFIG_FILE_MAX + 1, size = 0, alloc = 0;
        char *data = NULL;
        struct stat st;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto finish;
        }
        if (S_ISDIR(st.st_mode)) {
                r = -EISDIR;
                goto finish;
        }
        if (S_ISREG(st.st_mode) && st.st_size > CONFIG_FILE_MAX) {
                r = -EFBIG;
                goto finish;
        }
        alloc = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
        for (;;) {
                ssize_t k;

                if (size == alloc || !data) {
                        size_t want = data ? alloc * 2 : alloc;
                        char *bigger;

                        if (want > cap)
                                want = cap;
                        bigger = realloc(data, want);
                        if (!bigger) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        data = bigger;
                        alloc = want;
                }
                k = read(fd, data + size, alloc - size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto finish;
                }
                if (k == 0)
                        break;
                size += (size_t)k;
                if (size >= cap) {
                        r = -EFBIG;
                        goto finish;
                }
        }
        *ret_data = data;
        *ret_len = size;
        data = NULL;
        r = 0;
finish:
        free(data);
        close(fd);
        return r;
}

int config_parse_file(const struct config_option *table, size_t n, const char *path, void *cfg,
                      char *err, size_t errlen)
{
        char *data = NULL;
        size_t len = 0;
        int r;

        r = read_capped(path, &data, &len);
        if (r == -EFBIG) {
                errf(err, errlen, "%s: file too large (over %d bytes)", path, CONFIG_FILE_MAX);
                return r;
        }
        if (r < 0) {
                char buf[128];

                errf(err, errlen, "%s: %s", path, strerror_r(-r, buf, sizeof(buf)));
                return r;
        }
        r = config_parse_buffer(table, n, path, data, len, cfg, err, errlen);
        free(data);
        return r;
}

int config_parse_args(const struct config_option *table, size_t n, int argc, char **argv, void *cfg,
                      int *ret_next, bool *ret_help, char *err, size_t errlen)
{
        const struct source src = {.file = NULL, .line = 0};
        bool help = false;
        int i, r;

        for (i = 0; i < argc; i++) {
                const char *arg = argv[i], *key, *eq, *value;
                const struct config_option *o;
                size_t keylen;

                if (strncmp(arg, "--", 2) != 0)
                        break;
                if (arg[2] == '\0') {
                        i++;
                        break;
                }
                key = arg + 2;
                eq = strchr(key, '=');
                keylen = eq ? (size_t)(eq - key) : strlen(key);
                value = eq ? eq + 1 : NULL;

                o = find_option(table, n, key, keylen);
                if (!o && keylen == 4 && strncmp(key, "help", 4) == 0 && ret_help) {
                        if (value) {
                                errf(err, errlen, "--help: takes no value");
                                return -EINVAL;
                        }
                        help = true;
                        continue;
                }
                if (!o && keylen == 6 && strncmp(key, "config", 6) == 0) {
                        if (!value) {
                                if (i + 1 >= argc) {
                                        errf(err, errlen, "--config: missing value");
                                        return -EINVAL;
                                }
                                value = argv[++i];
                        }
                        r = config_parse_file(table, n, value, cfg, err, errlen);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!o) {
                        errf(err, errlen, "--%.*s: unknown option",
                             (int)(keylen > 64 ? 64 : keylen), key);
                        return -EINVAL;
                }
                if (!value) {
                        if (o->type == CONFIG_BOOL)
                                value = "true";
                        else if (i + 1 >= argc) {
                                errf(err, errlen, "--%s: missing value", o->key);
                                return -EINVAL;
                        } else
                                value = argv[++i];
                }
                r = set_value(o, value, cfg, &src, err, errlen);
                if (r < 0)
                        return r;
        }
        if (ret_next)
                *ret_next = i;
        if (ret_help)
                *ret_help = help;
        return 0;
}

static const char *type_name(enum config_type type)
{
        switch (type) {
        case CONFIG_STRING:
                return "STRING";
        case CONFIG_INT:
                return "INT";
        case CONFIG_BOOL:
                return "BOOL";
        }
        return "?";
}

void config_print_help(const struct config_option *table, size_t n, FILE *f)
{
        bool builtin_config = !has_option(table, n, "config");
        bool builtin_help = !has_option(table, n, "help");
        int width = builtin_config ? (int)strlen("--config=FILE") : 0;

        if (builtin_help && width < (int)strlen("--help"))
                width = (int)strlen("--help");
        for (size_t i = 0; i < n; i++) {
                int w = (int)(strlen(table[i].key) + strlen(type_name(table[i].type))) + 3;

                if (w > width)
                        width = w;
        }
        for (size_t i = 0; i < n; i++) {
                const struct config_option *o = &table[i];
                int w = (int)(strlen(o->key) + strlen(type_name(o->type))) + 3;

                fprintf(f, "  --%s=%s%*s  %s", o->key, type_name(o->type), width - w, "",
                        o->help ? o->help : "");
                if (!o->def && o->type == CONFIG_STRING)
                        fprintf(f, " (no default");
                else if (!o->def)
                        fprintf(f, " (default: %s", o->type == CONFIG_INT ? "0" : "false");
                else if (o->def[0] == '\0')
                        fprintf(f, " (default: \"\"");
                else
                        fprintf(f, " (default: %s", o->def);
                if (o->type == CONFIG_INT && (o->min != 0 || o->max != 0))
                        fprintf(f, "; %lld..%lld", (long long)o->min, (long long)o->max);
                fprintf(f, ")\n");
        }
        if (builtin_config)
                fprintf(f, "  %-*s  read options from FILE, in place\n", width, "--config=FILE");
        if (builtin_help)
                fprintf(f, "  %-*s  show this help\n", width, "--help");
}

void config_free(const struct config_option *table, size_t n, void *cfg)
{
        if (!cfg)
                return;
        for (size_t i = 0; i < n; i++)
                if (table[i].type == CONFIG_STRING) {
                        char **f = field(&table[i], cfg);

                        free(*f);
                        *f = NULL;
                }
}
