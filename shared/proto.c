/* SPDX-License-Identifier: MIT */
/* The wire protocol v1: batches of votes and their acknowledgements as compact JSON, decoded
 * strictly. Every message this file writes is printable ASCII, bounded, and names the field;
 * bytes from the input appear in it only after being cut and scrubbed. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "proto.h"

/* Our documents nest three deep (body, votes, vote); a little more lets a wrong type inside a
 * vote get its own message. Deeper input is refused before jansson recurses into it. */
#define DEPTH_MAX 8
/* Room for an item's name in messages: "results[999]." */
#define ITEM_NAME_MAX 32
/* How much of an unknown key a message quotes. */
#define KEY_QUOTE_MAX 32
/* 2020-01-01T00:00:00Z: no vote, batch or answer of this system is older. */
#define TIME_MIN_MS INT64_C(1577836800000)
/* cast_at and sent_at may lead the collector's clock by at most ten years (3653 days). */
#define FUTURE_MAX_MS (INT64_C(3653) * 86400 * 1000)
/* 2100-01-01T00:00:00Z: the terminal checks server_time against this fixed bound, not its
 * own clock, which may be the very thing that is wrong. */
#define SERVER_TIME_MAX_MS INT64_C(4102444800000)

static const char *const batch_keys[] = {"protocol", "terminal", "sent_at", "votes", NULL};
static const char *const vote_keys[] = {"id",        "level", "channel", "employee",
                                        "workplace", "shift", "cast_at", NULL};
static const char *const ack_keys[] = {"protocol", "server_time", "results", NULL};
static const char *const result_keys[] = {"index", "id", "status", "reason", NULL};

static const char *const status_names[] = {
    [PROTO_STORED] = "stored",
    [PROTO_DUPLICATE] = "duplicate",
    [PROTO_REJECTED] = "rejected",
};

const char *proto_status_to_string(enum proto_status s)
{
        if ((unsigned)s >= sizeof(status_names) / sizeof(status_names[0]))
                return NULL;
        return status_names[s];
}

/* Formats a message into err (errlen bytes; nothing when 0), replaces every byte that is not
 * printable ASCII with '?', and returns r. */
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
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

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
static int load_object(const char *json, size_t len, json_t **ret_root, char *err, size_t errlen)
{
        json_error_t jerr;
        json_t *root;

        if (len > PROTO_BODY_MAX)
                return fail(err, errlen, -EMSGSIZE, "body: larger than %d bytes", PROTO_BODY_MAX);
        assert(json || len == 0);
        if (!json)
                json = "";
        if (!depth_ok(json, len, DEPTH_MAX))
                return fail(err, errlen, -EINVAL, "body: nested deeper than %d levels", DEPTH_MAX);
        root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return fail(err, errlen, -EINVAL,
                            "body: invalid JSON at line %d, column %d: %.100s", jerr.line,
                            jerr.column, jerr.text);
        if (!json_is_object(root)) {
                json_decref(root);
                return fail(err, errlen, -EINVAL, "body: expected a JSON object");
        }
        *ret_root = root;
        return 0;
}

/* Rejects any key of obj not in known[]; where names the object in the message. */
static int check_keys(json_t *obj, const char *const *known, const char *where, char *err,
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
                        return fail(err, errlen, -EINVAL, "%s: unknown key \"%.*s%s\"", where,
                                    KEY_QUOTE_MAX, key, strlen(key) > KEY_QUOTE_MAX ? "..." : "");
        }
        return 0;
}

/* Reads obj[key] as an integer into *ret. Returns 1 when read, 0 when absent and optional,
 * -EINVAL otherwise. prefix ("", "votes[3].") and key name the field in the message. */
static int get_int(json_t *obj, const char *prefix, const char *key, bool required, int64_t *ret,
                   char *err, size_t errlen)
{
        json_t *v = json_object_get(obj, key);

        if (!v)
                return required ? fail(err, errlen, -EINVAL, "%s%s: missing", prefix, key) : 0;
        if (!json_is_integer(v))
                return fail(err, errlen, -EINVAL, "%s%s: expected an integer", prefix, key);
        *ret = (int64_t)json_integer_value(v); /* json_int_t is long long: 64 bits here */
        return 1;
}

/* Like get_int() for a string, which stays owned by obj. */
static int get_str(json_t *obj, const char *prefix, const char *key, bool required,
                   const char **ret, char *err, size_t errlen)
{
        json_t *v = json_object_get(obj, key);
        const char *s;

        if (!v)
                return required ? fail(err, errlen, -EINVAL, "%s%s: missing", prefix, key) : 0;
        if (!json_is_string(v))
                return fail(err, errlen, -EINVAL, "%s%s: expected a string", prefix, key);
        s = json_string_value(v);
        /* jansson refuses \u0000 unless JSON_ALLOW_NUL; stay safe should that ever change. */
        if (strlen(s) != json_string_length(v))
                return fail(err, errlen, -EINVAL, "%s%s: contains a NUL byte", prefix, key);
        *ret = s;
        return 1;
}

/* Checks a time against [TIME_MIN_MS, max_ms]; max_desc says what max_ms is. */
static int check_time(int64_t t, int64_t max_ms, const char *max_desc, const char *prefix,
                      const char *key, char *err, size_t errlen)
{
        if (t < TIME_MIN_MS)
                return fail(err, errlen, -EINVAL, "%s%s: before 2020-01-01", prefix, key);
        if (t > max_ms)
                return fail(err, errlen, -EINVAL, "%s%s: %s", prefix, key, max_desc);
        return 0;
}

static int check_ref(const char *s, const char *prefix, const char *key, char *err, size_t errlen)
{
        if (!vote_ref_valid(s))
                return fail(err, errlen, -EINVAL, "%s%s: must be 1 to %d of A-Z a-z 0-9 . _ -",
                            prefix, key, VOTE_REF_MAX);
        return 0;
}

/* Reads obj[key] as a required time into *ret, checked against [TIME_MIN_MS, max_ms]. */
static int get_time(json_t *obj, const char *prefix, const char *key, int64_t max_ms,
                    const char *max_desc, int64_t *ret, char *err, size_t errlen)
{
        int64_t t = 0;
        int r = get_int(obj, prefix, key, true, &t, err, errlen);

        if (r < 0)
                return r;
        r = check_time(t, max_ms, max_desc, prefix, key, err, errlen);
        if (r < 0)
                return r;
        *ret = t;
        return 0;
}

/* Reads root[key] as an array of at most PROTO_BATCH_MAX items; what names them in the
 * message ("votes in one batch"). The array stays owned by root. */
static int get_array(json_t *root, const char *key, const char *what, json_t **ret_array,
                     size_t *ret_n, char *err, size_t errlen)
{
        json_t *a = json_object_get(root, key);
        size_t n;

        if (!a)
                return fail(err, errlen, -EINVAL, "%s: missing", key);
        if (!json_is_array(a))
                return fail(err, errlen, -EINVAL, "%s: expected an array", key);
        n = json_array_size(a);
        if (n > PROTO_BATCH_MAX)
                return fail(err, errlen, -EMSGSIZE, "%s: more than %d %s", key, PROTO_BATCH_MAX,
                            what);
        *ret_array = a;
        *ret_n = n;
        return 0;
}

/* Allocates n zeroed items of size bytes; *ret is NULL when n is 0. */
static int alloc_items(size_t n, size_t size, void **ret, char *err, size_t errlen)
{
        void *p = NULL;

        if (n > 0) {
                p = calloc(n, size);
                if (!p)
                        return fail(err, errlen, -ENOMEM, "out of memory");
        }
        *ret = p;
        return 0;
}

/* Names item i of an array in messages: where is "votes[3]", prefix "votes[3].". */
static void item_names(const char *array, size_t i, char where[static ITEM_NAME_MAX],
                       char prefix[static ITEM_NAME_MAX])
{
        snprintf(where, ITEM_NAME_MAX, "%s[%zu]", array, i);
        snprintf(prefix, ITEM_NAME_MAX, "%s[%zu].", array, i);
}

/* Decodes vote number i of a batch into *pv, which starts zeroed. Any problem lands in
 * pv->error; the id is taken first, when valid, so that the answer can name the vote. */
static void decode_vote(json_t *obj, size_t i, int64_t future_max_ms, struct proto_vote *pv)
{
        struct vote *v = &pv->vote;
        char *err = pv->error;
        size_t errlen = sizeof(pv->error);
        char prefix[ITEM_NAME_MAX], where[ITEM_NAME_MAX];
        const char *s;
        int64_t n = 0;
        int r;

        item_names("votes", i, where, prefix);
        if (!json_is_object(obj)) {
                fail(err, errlen, -EINVAL, "%s: expected an object", where);
                return;
        }
        s = json_string_value(json_object_get(obj, "id"));
        if (s && vote_id_valid(s))
                memcpy(v->id.s, s, VOTE_ID_LEN + 1);

        if (check_keys(obj, vote_keys, where, err, errlen) < 0)
                return;

        if (get_str(obj, prefix, "id", true, &s, err, errlen) < 0)
                return;
        if (!vote_id_valid(s)) {
                fail(err, errlen, -EINVAL, "%sid: must be a lower-case UUID", prefix);
                return;
        }

        if (get_int(obj, prefix, "level", true, &n, err, errlen) < 0)
                return;
        if (!vote_level_valid(n)) {
                fail(err, errlen, -EINVAL, "%slevel: must be 1, 2 or 3", prefix);
                return;
        }
        v->level = (int)n;

        if (get_str(obj, prefix, "channel", true, &s, err, errlen) < 0)
                return;
        if (!vote_channel_valid(s)) {
                fail(err, errlen, -EINVAL, "%schannel: must be 1 to %d of a-z 0-9 _ -", prefix,
                     VOTE_CHANNEL_MAX);
                return;
        }
        memcpy(v->channel, s, strlen(s) + 1);

        if (get_str(obj, prefix, "employee", true, &s, err, errlen) < 0 ||
            check_ref(s, prefix, "employee", err, errlen) < 0)
                return;
        memcpy(v->employee, s, strlen(s) + 1);

        r = get_str(obj, prefix, "workplace", false, &s, err, errlen);
        if (r < 0)
                return;
        if (r > 0 && s[0]) {
                if (check_ref(s, prefix, "workplace", err, errlen) < 0)
                        return;
                memcpy(v->workplace, s, strlen(s) + 1);
        }

        r = get_str(obj, prefix, "shift", false, &s, err, errlen);
        if (r < 0)
                return;
        if (r > 0 && s[0]) {
                if (!vote_id_valid(s)) {
                        fail(err, errlen, -EINVAL, "%sshift: must be a lower-case UUID or empty",
                             prefix);
                        return;
                }
                memcpy(v->shift, s, VOTE_ID_LEN + 1);
        }

        if (get_time(obj, prefix, "cast_at", future_max_ms, "more than 10 years in the future", &n,
                     err, errlen) < 0)
                return;
        v->cast_at_ms = n;
}

/* Parses a body and checks its envelope: protocol first, so that a newer peer hears about the
 * version, not about a key, then that every key of the root is in known[]. Clears err first.
 * Returns 0 and a new reference in *ret_root. */
static int load_envelope(const char *json, size_t len, const char *const *known, json_t **ret_root,
                         char *err, size_t errlen)
{
        json_t *root = NULL;
        int64_t version = 0;
        int r;

        if (err && errlen > 0)
                err[0] = 0;
        r = load_object(json, len, &root, err, errlen);
        if (r < 0)
                return r;
        r = get_int(root, "", "protocol", true, &version, err, errlen);
        if (r < 0)
                goto fail;
        if (version != PROTO_VERSION) {
                r = fail(err, errlen, -EINVAL, "protocol: unsupported version %lld",
                         (long long)version);
                goto fail;
        }
        r = check_keys(root, known, "body", err, errlen);
        if (r < 0)
                goto fail;
        *ret_root = root;
        return 0;
fail:
        json_decref(root);
        return r;
}

void proto_batch_finish(struct proto_batch *b)
{
        if (!b)
                return;
        free(b->votes);
        memset(b, 0, sizeof(*b));
}

int proto_batch_decode(const char *json, size_t len, struct proto_batch *ret, char *err,
                       size_t errlen)
{
        struct proto_batch b = {0};
        json_t *root = NULL, *votes = NULL;
        const char *terminal;
        void *items = NULL;
        int64_t future_max_ms = now_ms() + FUTURE_MAX_MS;
        int r;

        assert(ret);
        r = load_envelope(json, len, batch_keys, &root, err, errlen);
        if (r < 0)
                goto finish;

        r = get_str(root, "", "terminal", true, &terminal, err, errlen);
        if (r < 0)
                goto finish;
        r = check_ref(terminal, "", "terminal", err, errlen);
        if (r < 0)
                goto finish;
        memcpy(b.terminal, terminal, strlen(terminal) + 1);

        r = get_time(root, "", "sent_at", future_max_ms, "more than 10 years in the future",
                     &b.sent_at_ms, err, errlen);
        if (r < 0)
                goto finish;

        r = get_array(root, "votes", "votes in one batch", &votes, &b.n_votes, err, errlen);
        if (r < 0)
                goto finish;
        r = alloc_items(b.n_votes, sizeof(*b.votes), &items, err, errlen);
        if (r < 0)
                goto finish;
        b.votes = items;
        for (size_t i = 0; i < b.n_votes; i++)
                decode_vote(json_array_get(votes, i), i, future_max_ms, &b.votes[i]);

        *ret = b;
        b = (struct proto_batch){0};
        r = 0;
finish:
        proto_batch_finish(&b);
        json_decref(root);
        return r;
}

/* A JSON string from a fixed buffer of size bytes. jansson answers NULL both for a string
 * that is not UTF-8 and for exhausted memory; an ASCII string can only mean the latter. */
static int new_string(const char *s, size_t size, json_t **ret)
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
static int set_new(json_t *obj, const char *key, json_t *value)
{
        return json_object_set_new_nocheck(obj, key, value) < 0 ? -ENOMEM : 0;
}

static int set_string(json_t *obj, const char *key, const char *s, size_t size)
{
        json_t *j = NULL;
        int r = new_string(s, size, &j);

        return r < 0 ? r : set_new(obj, key, j);
}

/* Hands out the compact text of root; *ret_json is malloc'd (jansson's default allocator). */
static int dump(json_t *root, char **ret_json)
{
        char *s = json_dumps(root, JSON_COMPACT);

        if (!s)
                return -ENOMEM;
        *ret_json = s;
        return 0;
}

/* A new root object that already carries "protocol". */
static int new_envelope(json_t **ret_root)
{
        json_t *root = json_object();
        int r;

        if (!root)
                return -ENOMEM;
        r = set_new(root, "protocol", json_integer(PROTO_VERSION));
        if (r < 0) {
                json_decref(root);
                return r;
        }
        *ret_root = root;
        return 0;
}

static int encode_vote(const struct vote *v, json_t **ret)
{
        json_t *obj = json_object();
        int r;

        if (!obj)
                return -ENOMEM;
        r = set_string(obj, "id", v->id.s, sizeof(v->id.s));
        if (r < 0)
                goto fail;
        r = set_new(obj, "level", json_integer(v->level));
        if (r < 0)
                goto fail;
        r = set_string(obj, "channel", v->channel, sizeof(v->channel));
        if (r < 0)
                goto fail;
        r = set_string(obj, "employee", v->employee, sizeof(v->employee));
        if (r < 0)
                goto fail;
        /* workplace and shift are optional: an empty one is left out. */
        if (v->workplace[0]) {
                r = set_string(obj, "workplace", v->workplace, sizeof(v->workplace));
                if (r < 0)
                        goto fail;
        }
        if (v->shift[0]) {
                r = set_string(obj, "shift", v->shift, sizeof(v->shift));
                if (r < 0)
                        goto fail;
        }
        r = set_new(obj, "cast_at", json_integer(v->cast_at_ms));
        if (r < 0)
                goto fail;
        *ret = obj;
        return 0;
fail:
        json_decref(obj);
        return r;
}

int proto_batch_encode(const struct proto_batch *b, char **ret_json)
{
        json_t *root = NULL, *votes;
        int r;

        assert(b && ret_json);
        if (b->n_votes > PROTO_BATCH_MAX || (b->n_votes > 0 && !b->votes))
                return -EINVAL;
        r = new_envelope(&root);
        if (r < 0)
                return r;
        r = set_string(root, "terminal", b->terminal, sizeof(b->terminal));
        if (r < 0)
                goto finish;
        r = set_new(root, "sent_at", json_integer(b->sent_at_ms));
        if (r < 0)
                goto finish;
        votes = json_array();
        r = set_new(root, "votes", votes);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < b->n_votes; i++) {
                json_t *v = NULL;

                r = encode_vote(&b->votes[i].vote, &v);
                if (r < 0)
                        goto finish;
                if (json_array_append_new(votes, v) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        r = dump(root, ret_json);
finish:
        json_decref(root);
        return r;
}

void proto_ack_finish(struct proto_ack *a)
{
        if (!a)
                return;
        free(a->results);
        memset(a, 0, sizeof(*a));
}

/* A reason is 1..PROTO_REASON_MAX-1 bytes without control characters: the terminal keeps it
 * and shows it, so it must be safe to print. */
static bool reason_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n >= PROTO_REASON_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* Result number i of an ack: every problem fails the whole ack. */
static int decode_result(json_t *obj, size_t i, struct proto_result *res, char *err, size_t errlen)
{
        char prefix[ITEM_NAME_MAX], where[ITEM_NAME_MAX];
        const char *s;
        int64_t n = 0;
        int r;

        item_names("results", i, where, prefix);
        if (!json_is_object(obj))
                return fail(err, errlen, -EINVAL, "%s: expected an object", where);
        r = check_keys(obj, result_keys, where, err, errlen);
        if (r < 0)
                return r;

        r = get_int(obj, prefix, "index", true, &n, err, errlen);
        if (r < 0)
                return r;
        if (n < 0 || (uint64_t)n != i)
                return fail(err, errlen, -EINVAL, "%sindex: expected %zu", prefix, i);
        res->index = i;

        r = get_str(obj, prefix, "status", true, &s, err, errlen);
        if (r < 0)
                return r;
        if (strcmp(s, "stored") == 0)
                res->status = PROTO_STORED;
        else if (strcmp(s, "duplicate") == 0)
                res->status = PROTO_DUPLICATE;
        else if (strcmp(s, "rejected") == 0)
                res->status = PROTO_REJECTED;
        else
                return fail(err, errlen, -EINVAL,
                            "%sstatus: must be \"stored\", \"duplicate\" or \"rejected\"", prefix);

        r = get_str(obj, prefix, "id", true, &s, err, errlen);
        if (r < 0)
                return r;
        if (s[0] == 0 && res->status != PROTO_REJECTED)
                return fail(err, errlen, -EINVAL, "%sid: empty but the vote was %s", prefix,
                            status_names[res->status]);
        if (s[0] && !vote_id_valid(s))
                return fail(err, errlen, -EINVAL, "%sid: must be a lower-case UUID or empty",
                            prefix);
        memcpy(res->id.s, s, strlen(s) + 1);

        r = get_str(obj, prefix, "reason", false, &s, err, errlen);
        if (r < 0)
                return r;
        if (res->status == PROTO_REJECTED) {
                if (r == 0)
                        return fail(err, errlen, -EINVAL, "%sreason: missing", prefix);
                if (!reason_valid(s))
                        return fail(err, errlen, -EINVAL,
                                    "%sreason: must be 1 to %d bytes without control characters",
                                    prefix, PROTO_REASON_MAX - 1);
                memcpy(res->reason, s, strlen(s) + 1);
        } else if (r > 0) {
                return fail(err, errlen, -EINVAL, "%sreason: only allowed when rejected", prefix);
        }
        return 0;
}

int proto_ack_decode(const char *json, size_t len, struct proto_ack *ret, char *err, size_t errlen)
{
        struct proto_ack a = {0};
        json_t *root = NULL, *results = NULL;
        void *items = NULL;
        int r;

        assert(ret);
        r = load_envelope(json, len, ack_keys, &root, err, errlen);
        if (r < 0)
                goto finish;

        r = get_time(root, "", "server_time", SERVER_TIME_MAX_MS, "after 2100-01-01",
                     &a.server_time_ms, err, errlen);
        if (r < 0)
                goto finish;

        r = get_array(root, "results", "results in one answer", &results, &a.n_results, err,
                      errlen);
        if (r < 0)
                goto finish;
        r = alloc_items(a.n_results, sizeof(*a.results), &items, err, errlen);
        if (r < 0)
                goto finish;
        a.results = items;
        for (size_t i = 0; i < a.n_results; i++) {
                r = decode_result(json_array_get(results, i), i, &a.results[i], err, errlen);
                if (r < 0)
                        goto finish;
        }

        *ret = a;
        a = (struct proto_ack){0};
        r = 0;
finish:
        proto_ack_finish(&a);
        json_decref(root);
        return r;
}

/* Encodes what proto_ack_decode() accepts, and refuses (-EINVAL) anything else, so that a
 * collector bug shows up at the collector rather than as an answer every terminal drops. */
static int encode_result(const struct proto_result *res, size_t i, json_t **ret)
{
        size_t id_len = strnlen(res->id.s, sizeof(res->id.s));
        json_t *obj;
        int r;

        if (res->index != i || !proto_status_to_string(res->status))
                return -EINVAL;
        if (id_len == sizeof(res->id.s) || (id_len > 0 && !vote_id_valid(res->id.s)) ||
            (id_len == 0 && res->status != PROTO_REJECTED))
                return -EINVAL;
        if (res->status == PROTO_REJECTED &&
            (strnlen(res->reason, sizeof(res->reason)) == sizeof(res->reason) ||
             !reason_valid(res->reason)))
                return -EINVAL;

        obj = json_object();
        if (!obj)
                return -ENOMEM;
        r = set_new(obj, "index", json_integer((json_int_t)i));
        if (r < 0)
                goto fail;
        r = set_string(obj, "id", res->id.s, sizeof(res->id.s));
        if (r < 0)
                goto fail;
        r = set_new(obj, "status", json_string(status_names[res->status]));
        if (r < 0)
                goto fail;
        if (res->status == PROTO_REJECTED) {
                r = set_string(obj, "reason", res->reason, sizeof(res->reason));
                if (r < 0)
                        goto fail;
        }
        *ret = obj;
        return 0;
fail:
        json_decref(obj);
        return r;
}

int proto_ack_encode(const struct proto_ack *a, char **ret_json)
{
        json_t *root = NULL, *results;
        int r;

        assert(a && ret_json);
        if (a->n_results > PROTO_BATCH_MAX || (a->n_results > 0 && !a->results))
                return -EINVAL;
        r = new_envelope(&root);
        if (r < 0)
                return r;
        r = set_new(root, "server_time", json_integer(a->server_time_ms));
        if (r < 0)
                goto finish;
        results = json_array();
        r = set_new(root, "results", results);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < a->n_results; i++) {
                json_t *res = NULL;

                r = encode_result(&a->results[i], i, &res);
                if (r < 0)
                        goto finish;
                if (json_array_append_new(results, res) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        r = dump(root, ret_json);
finish:
        json_decref(root);
        return r;
}

int proto_error_encode(const char *message, char **ret_json)
{
        json_t *root;
        int r;

        assert(message && ret_json);
        r = new_envelope(&root);
        if (r < 0)
                return r;
        r = set_string(root, "error", message, strlen(message) + 1);
        if (r < 0)
                goto finish;
        r = dump(root, ret_json);
finish:
        json_decref(root);
        return r;
}

int proto_error_decode(const char *json, size_t len, char *buf, size_t n)
{
        json_t *root;
        const char *msg;
        size_t i, m;

        assert(buf && n > 0);
        buf[0] = 0;
        if (!json || len == 0)
                return -ENODATA;
        root = len <= PROTO_BODY_MAX ? json_loadb(json, len, 0, NULL) : NULL;
        msg = json_string_value(json_object_get(root, "error"));
        if (!msg) {
                msg = json;
                m = len;
        } else
                m = strlen(msg);
        for (i = 0; i < m && i + 1 < n; i++)
                buf[i] = msg[i] >= 0x20 && msg[i] <= 0x7e ? msg[i] : '?';
        buf[i] = 0;
        json_decref(root);
        return 0;
}
