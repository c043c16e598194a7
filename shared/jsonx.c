/* SPDX-License-Identifier: MIT */
/* Strict JSON reading and careful JSON writing over jansson, shared by the wire protocol
 * (proto.c) and the terminal's pull and enrollment documents (roster.c): bounded size and
 * depth, duplicate and unknown keys refused, 64-bit integers only, and messages that name the
 * field and quote input only scrubbed. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "proto.h"

/* Our documents nest at most four deep (roster, employees, employee); a little more lets a
 * wrong type inside one get its own message. Deeper input is refused before jansson recurses. */
#define DEPTH_MAX 8
/* How much of an unknown key a message quotes. */
#define KEY_QUOTE_MAX 32

/* Formats a message into err (errlen bytes; nothing when 0), replaces every byte that is not
 * printable ASCII with '?', and returns r. */
int jsonx_fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
        va_list ap;

        if (!err || errlen == 0)
                return r;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        for (char *p = err; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                        *p = '?';
        return r;
}

/* True when brackets outside strings never nest deeper than max. Exact for valid JSON and
 * for every valid prefix, which is all jansson reads before it stops at an error. */
static bool depth_ok(const char *s, size_t n, unsigned max)
{
        unsigned depth = 0;
        bool in_string = false, escaped = false;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (in_string) {
                        if (escaped)
                                escaped = false;
                        else if (c == '\\')
                                escaped = true;
                        else if (c == '"')
                                in_string = false;
                } else if (c == '"') {
                        in_string = true;
                } else if (c == '[' || c == '{') {
                        if (++depth > max)
                                return false;
                } else if ((c == ']' || c == '}') && depth > 0) {
                        depth--;
                }
        }
        return true;
}

/* Parses a body into an object: size, depth, syntax (duplicate keys are a syntax error), and
 * the root's type. Returns 0 and a new reference in *ret_root. */
int jsonx_load_object(const char *json, size_t len, json_t **ret_root, char *err, size_t errlen)
{
        json_error_t jerr;
        json_t *root;

        if (len > PROTO_BODY_MAX)
                return jsonx_fail(err, errlen, -EMSGSIZE, "body: larger than %d bytes",
                                  PROTO_BODY_MAX);
        assert(json || len == 0);
        if (!json)
                json = "";
        if (!depth_ok(json, len, DEPTH_MAX))
                return jsonx_fail(err, errlen, -EINVAL, "body: nested deeper than %d levels",
                                  DEPTH_MAX);
        root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return jsonx_fail(err, errlen, -EINVAL,
                                  "body: invalid JSON at line %d, column %d: %.100s", jerr.line,
                                  jerr.column, jerr.text);
        if (!json_is_object(root)) {
                json_decref(root);
                return jsonx_fail(err, errlen, -EINVAL, "body: expected a JSON object");
        }
        *ret_root = root;
        return 0;
}

/* Rejects any key of obj not in known[]; where names the object in the message. */
int jsonx_check_keys(json_t *obj, const char *const *known, const char *where, char *err,
                     size_t errlen)
{
        const char *key;
        json_t *value;

        json_object_foreach(obj, key, value)
        {
                bool found = false;

                for (const char *const *k = known; *k && !found; k++)
                        found = strcmp(key, *k) == 0;
                if (!found)
                        return jsonx_fail(err, errlen, -EINVAL, "%s: unknown key \"%.*s%s\"", where,
                                          KEY_QUOTE_MAX, key,
                                          strlen(key) > KEY_QUOTE_MAX ? "..." : "");
        }
        return 0;
}

/* Reads obj[key] as an integer into *ret. Returns 1 when read, 0 when absent and optional,
 * -EINVAL otherwise. prefix ("", "votes[3].") and key name the field in the message. */
int jsonx_get_int(json_t *obj, const char *prefix, const char *key, bool required, int64_t *ret,
                  char *err, size_t errlen)
{
        json_t *v = json_object_get(obj, key);

        if (!v)
                return required ? jsonx_fail(err, errlen, -EINVAL, "%s%s: missing", prefix, key)
                                : 0;
        if (!json_is_integer(v))
                return jsonx_fail(err, errlen, -EINVAL, "%s%s: expected an integer", prefix, key);
        *ret = (int64_t)json_integer_value(v); /* json_int_t is long long: 64 bits here */
        return 1;
}

/* Like jsonx_get_int() for a string, which stays owned by obj. */
int jsonx_get_str(json_t *obj, const char *prefix, const char *key, bool required, const char **ret,
                  char *err, size_t errlen)
{
        json_t *v = json_object_get(obj, key);
        const char *s;

        if (!v)
                return required ? jsonx_fail(err, errlen, -EINVAL, "%s%s: missing", prefix, key)
                                : 0;
        if (!json_is_string(v))
                return jsonx_fail(err, errlen, -EINVAL, "%s%s: expected a string", prefix, key);
        s = json_string_value(v);
        /* jansson refuses \u0000 unless JSON_ALLOW_NUL; stay safe should that ever change. */
        if (strlen(s) != json_string_length(v))
                return jsonx_fail(err, errlen, -EINVAL, "%s%s: contains a NUL byte", prefix, key);
        *ret = s;
        return 1;
}

int jsonx_check_ref(const char *s, const char *prefix, const char *key, char *err, size_t errlen)
{
        if (!vote_ref_valid(s))
                return jsonx_fail(err, errlen, -EINVAL,
                                  "%s%s: must be 1 to %d of A-Z a-z 0-9 . _ -", prefix, key,
                                  VOTE_REF_MAX);
        return 0;
}

/* Parses a body and checks its envelope: protocol first, so that a newer peer hears about the
 * version, not about a key, then that every key of the root is in known[]. Clears err first.
 * Returns 0 and a new reference in *ret_root. */
int jsonx_load_envelope(const char *json, size_t len, const char *const *known, json_t **ret_root,
                        char *err, size_t errlen)
{
        json_t *root = NULL;
        int64_t version = 0;
        int r;

        if (err && errlen > 0)
                err[0] = 0;
        r = jsonx_load_object(json, len, &root, err, errlen);
        if (r < 0)
                return r;
        r = jsonx_get_int(root, "", "protocol", true, &version, err, errlen);
        if (r < 0)
                goto fail;
        if (version != PROTO_VERSION) {
                r = jsonx_fail(err, errlen, -EINVAL, "protocol: unsupported version %lld",
                               (long long)version);
                goto fail;
        }
        r = jsonx_check_keys(root, known, "body", err, errlen);
        if (r < 0)
                goto fail;
        *ret_root = root;
        return 0;
fail:
        json_decref(root);
        return r;
}

/* A JSON string from a fixed buffer of size bytes. jansson answers NULL both for a string
 * that is not UTF-8 and for exhausted memory; an ASCII string can only mean the latter. */
int jsonx_new_string(const char *s, size_t size, json_t **ret)
{
        size_t n = strnlen(s, size);
        json_t *j = NULL;

        if (n == size)
                return -EINVAL; /* not terminated */
        j = json_stringn(s, n);
        if (!j) {
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char)s[i] >= 0x80)
                                return -EINVAL;
                return -ENOMEM;
        }
        *ret = j;
        return 0;
}

/* Sets obj[key] to value, taking the reference even on failure (NULL means out of memory). */
int jsonx_set_new(json_t *obj, const char *key, json_t *value)
{
        return json_object_set_new_nocheck(obj, key, value) < 0 ? -ENOMEM : 0;
}

int jsonx_set_string(json_t *obj, const char *key, const char *s, size_t size)
{
        json_t *j = NULL;
        int r = jsonx_new_string(s, size, &j);

        return r < 0 ? r : jsonx_set_new(obj, key, j);
}

/* Hands out the compact text of root; *ret_json is malloc'd (jansson's default allocator). */
int jsonx_dump(json_t *root, char **ret_json)
{
        char *s = json_dumps(root, JSON_COMPACT);

        if (!s)
                return -ENOMEM;
        *ret_json = s;
        return 0;
}

/* A new root object that already carries "protocol". */
int jsonx_new_envelope(json_t **ret_root)
{
        json_t *root = json_object();
        int r;

        if (!root)
                return -ENOMEM;
        r = jsonx_set_new(root, "protocol", json_integer(PROTO_VERSION));
        if (r < 0) {
                json_decref(root);
                return r;
        }
        *ret_root = root;
        return 0;
}

int jsonx_get_range(json_t *obj, const char *prefix, bool required, const char *key, int64_t min,
                    int64_t max, int64_t *ret, char *err, size_t errlen)
{
        int64_t n = 0;
        int r = jsonx_get_int(obj, prefix, key, required, &n, err, errlen);

        if (r <= 0)
                return r;
        if (n < min || n > max)
                return jsonx_fail(err, errlen, -EINVAL, "%s%s: must be %lld to %lld", prefix, key,
                                  (long long)min, (long long)max);
        *ret = n;
        return 1;
}

int jsonx_get_text(json_t *obj, const char *prefix, bool required, bool ascii, const char *key,
                   char *dst, size_t n, char *err, size_t errlen)
{
        const char *s;
        int r = jsonx_get_str(obj, prefix, key, required, &s, err, errlen);
        size_t len;

        if (r <= 0)
                return r;
        len = strlen(s);
        if (len >= n)
                return jsonx_fail(err, errlen, -EINVAL, "%s%s: longer than %zu bytes", prefix, key,
                                  n - 1);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c < 0x20 || c == 0x7f || (ascii && c > 0x7e))
                        return jsonx_fail(err, errlen, -EINVAL, "%s%s: must be %s", prefix, key,
                                          ascii ? "printable ASCII"
                                                : "text without control characters");
        }
        memcpy(dst, s, len + 1);
        return 1;
}
