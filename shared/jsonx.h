/* SPDX-License-Identifier: MIT */
/* Strict JSON helpers for the documents terminals and the collector exchange (jsonx.c). Every
 * reader returns a negative errno and writes a message naming the field into err (errlen
 * bytes; none when 0); prefix ("", "votes[3].") and key name the field. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Formats a scrubbed message into err and returns r. */
int jsonx_fail(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses at most PROTO_BODY_MAX bytes (no NUL needed) into an object: size, depth, syntax
 * (duplicate keys are a syntax error) and the root's type. A new reference in *ret_root. */
int jsonx_load_object(const char *json, size_t len, json_t **ret_root, char *err, size_t errlen);
/* jsonx_load_object(), then "protocol" must be PROTO_VERSION and every root key in known[]
 * (NULL-terminated). Clears err first. */
int jsonx_load_envelope(const char *json, size_t len, const char *const *known, json_t **ret_root,
                        char *err, size_t errlen);
/* Rejects any key of obj not in known[]; where names obj in the message. */
int jsonx_check_keys(json_t *obj, const char *const *known, const char *where, char *err,
                     size_t errlen);
/* obj[key] as an integer / a string (owned by obj): 1 when read, 0 when absent and optional. */
int jsonx_get_int(json_t *obj, const char *prefix, const char *key, bool required, int64_t *ret,
                  char *err, size_t errlen);
int jsonx_get_str(json_t *obj, const char *prefix, const char *key, bool required, const char **ret,
                  char *err, size_t errlen);
/* obj[key] as an integer in [min, max] into *ret (untouched when absent and optional). */
int jsonx_get_range(json_t *obj, const char *prefix, bool required, const char *key, int64_t min,
                    int64_t max, int64_t *ret, char *err, size_t errlen);
/* obj[key] as text copied into dst (n bytes with the NUL): printable ASCII only when ascii,
 * else any UTF-8 without control characters. Untouched when absent and optional. */
int jsonx_get_text(json_t *obj, const char *prefix, bool required, bool ascii, const char *key,
                   char *dst, size_t n, char *err, size_t errlen);
/* A reference (vote_ref_valid()) or an error naming the field. */
int jsonx_check_ref(const char *s, const char *prefix, const char *key, char *err, size_t errlen);

/* Writing. A string from a fixed buffer of size bytes: -EINVAL when unterminated or not UTF-8. */
int jsonx_new_string(const char *s, size_t size, json_t **ret);
/* Sets obj[key] to value, taking the reference even on failure (NULL value = out of memory). */
int jsonx_set_new(json_t *obj, const char *key, json_t *value);
int jsonx_set_string(json_t *obj, const char *key, const char *s, size_t size);
/* The compact text of root; *ret_json is malloc'd. */
int jsonx_dump(json_t *root, char **ret_json);
/* A new root object that already carries "protocol". */
int jsonx_new_envelope(json_t **ret_root);
