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
        const char *key; /* as in the file; "--key" on the command line */
        enum config_type type;
        const char *def;  /* the default as text; NULL for none (a NULL string) */
        const char *help; /* one line for --help */
        size_t offset;    /* offsetof() the field in the caller's struct */
        int64_t min, max; /* CONFIG_INT bounds; both 0 means any value */
};

/* Sets every field to its default; the fields need not be initialised. Returns 0, or -EINVAL
 * if a default is malformed, -ENOMEM. On any error config_free() is still safe to call.
 * Setting a value never leaks: a string field holds either its old or its new value. */
int config_defaults(const struct config_option *table, size_t n, void *cfg);

/* Reads a config file into cfg. On error returns -errno or -EINVAL and writes
 * "PATH:LINE: message" into err. */
int config_parse_file(const struct config_option *table, size_t n, const char *path, void *cfg,
                      char *err, size_t errlen);

/* The parser behind config_parse_file(): reads len bytes of data (not NUL-terminated; at most
 * CONFIG_FILE_MAX bytes, lines at most CONFIG_LINE_MAX bytes) and names errors "NAME:LINE: ...".
 * A value may be wrapped in double quotes; '#' starts a comment only at the start of a line. */
#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX 4096
int config_parse_buffer(const struct config_option *table, size_t n, const char *name,
                        const char *data, size_t len, void *cfg, char *err, size_t errlen);

/* Reads "--key=value" and "--key value" arguments from argv[0..argc); stops at the first
 * argument that does not start with "--" or at "--", and stores its index in *ret_next
 * ("--" itself is consumed: the index is the one after it). A boolean given as a bare
 * "--key" is set to true; it never takes the next argument as its value.
 * "--config FILE" (when the table has no "config" key of its own) reads FILE in place.
 * "--help" sets *ret_help (without it, "--help" is an unknown option). Errors name the
 * argument. On error nothing is written to *ret_next or *ret_help. */
int config_parse_args(const struct config_option *table, size_t n, int argc, char **argv, void *cfg,
                      int *ret_next, bool *ret_help, char *err, size_t errlen);

/* Prints one line per option: --key=TYPE, the default, the help. */
void config_print_help(const struct config_option *table, size_t n, FILE *f);

/* Frees the strings that cfg owns. */
void config_free(const struct config_option *table, size_t n, void *cfg);
