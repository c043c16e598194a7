/* SPDX-License-Identifier: MIT */
/* Configuration driven by one table of {key, type, default, help}: the same table reads the
 * config file ("key = value" lines, '#' comments), the command line ("--key=value" or
 * "--key value") and prints --help. An unknown or malformed key is an error that names the
 * file and line (or the argument). Later sources win: defaults, then file, then command line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum config_type {
        CONFIG_STRING, /* char *, malloc'd, owned by the struct; freed by config_free() */
        CONFIG_INT,    /* int64_t, within [min, max] */
        CONFIG_BOOL,   /* bool: true/false, yes/no, on/off, 1/0 */
};

struct config_option {
        const char *key;       /* as in the file; "--key" on the command line */
        enum config_type type;
        const char *def;       /* the default as text; NULL for none (a NULL string) */
        const char *help;      /* one line for --help */
        size_t offset;         /* offsetof() the field in the caller's struct */
        int64_t min, max;      /* CONFIG_INT bounds; both 0 means any value */
};

/* Sets every field to its default. Returns 0, or -EINVAL if a default is malformed. */
int config_defaults(const struct config_option *table, size_t n, void *cfg);

/* Reads a config file into cfg. On error returns -errno or -EINVAL and writes
 * "PATH:LINE: message" into err. */
int config_parse_file(const struct config_option *table, size_t n, const char *path, void *cfg,
                      char *err, size_t errlen);

/* Reads "--key=value" and "--key value" arguments from argv[0..argc); stops at the first
 * argument that does not start with "--" or at "--", and stores its index in *ret_next.
 * "--config FILE" (when the table has no "config" key of its own) reads FILE in place.
 * "--help" sets *ret_help. Errors name the argument. */
int config_parse_args(const struct config_option *table, size_t n, int argc, char **argv,
                      void *cfg, int *ret_next, bool *ret_help, char *err, size_t errlen);

/* Prints one line per option: --key=TYPE, the default, the help. */
void config_print_help(const struct config_option *table, size_t n, FILE *f);

/* Frees the strings that cfg owns. */
void config_free(const struct config_option *table, size_t n, void *cfg);
