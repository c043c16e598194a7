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

#include "jsonx.h"
#include "proto.h"

/* Room for an item's name in messages: "results[999]." */
#define ITEM_NAME_MAX 32
/* 2020-01-01T00:00:00Z: no vote, batch or answer of this system is older. */
#define TIME_MIN_MS INT64_C(1577836800000)
/* cast_at and sent_at may lead the collector's clock by at most ten years (3653 days). */
#define FUTURE_MAX_MS (INT64_C(3653) * 86400 * 1000)
/* 2100-01-01T00:00:00Z: the terminal checks server_time against this fixed bound, not its
 * own clock, which may be the very thing that is wrong. */
#define SERVER_TIME_MAX_MS INT64_C(4102444800000)

/* CLOCK_BOOTTIME in ms stays below 2^53 (285,000 years), the largest integer a JSON reader
 * in any language keeps exactly. */
#define MONO_MAX INT64_C(9007199254740991)

static const char *const batch_keys[] = {"protocol", "terminal", "sent_at", "votes", "boot",
                                         "mono",     "events",   "status",  NULL};
static const char *const vote_keys[] = {"id",        "level", "channel", "employee",
                                        "workplace", "shift", "cast_at", "suppressed",
                                        "boot",      "mono",  NULL};
static const char *const event_keys[] = {"id",     "kind", "at",   "employee", "shift",
                                         "detail", "boot", "mono", NULL};
static const char *const status_keys[] = {"version",         "queue",      "rejected",
                                          "clock_offset_ms", "last_error", NULL};
static const char *const ack_keys[] = {"protocol", "server_time", "results", "events", NULL};
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

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Checks a time against [TIME_MIN_MS, max_ms]; max_desc says what max_ms is. */
static int check_time(int64_t t, int64_t max_ms, const char *max_desc, const char *prefix,
                      const char *key, char *err, size_t errlen)
{
        if (t < TIME_MIN_MS)
                return jsonx_fail(err, errlen, -EINVAL, "%s%s: before 2020-01-01", prefix, key);
        if (t > max_ms)
                return jsonx_fail(err, errlen, -EINVAL, "%s%s: %s", prefix, key, max_desc);
        return 0;
}

/* Reads obj[key] as a required time into *ret, checked against [TIME_MIN_MS, max_ms]. */
static int get_time(json_t *obj, const char *prefix, const char *key, int64_t max_ms,
                    const char *max_desc, int64_t *ret, char *err, size_t errlen)
{
        int64_t t = 0;
        int r = jsonx_get_int(obj, prefix, key, true, &t, err, errlen);

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
                return jsonx_fail(err, errlen, -EINVAL, "%s: missing", key);
        if (!json_is_array(a))
                return jsonx_fail(err, errlen, -EINVAL, "%s: expected an array", key);
        n = json_array_size(a);
        if (n > PROTO_BATCH_MAX)
                return jsonx_fail(err, errlen, -EMSGSIZE, "%s: more than %d %s", key,
                                  PROTO_BATCH_MAX, what);
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
                        return jsonx_fail(err, errlen, -ENOMEM, "out of memory");
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

/* Reads an optional UUID (absent or "" leaves dst empty) into dst. */
static int get_opt_uuid(json_t *obj, const char *prefix, const char *key,
                        char dst[static VOTE_ID_LEN + 1], char *err, size_t errlen)
{
        const char *s;
        int r = jsonx_get_str(obj, prefix, key, false, &s, err, errlen);

        if (r <= 0 || !s[0])
                return r;
        if (!vote_id_valid(s))
                return jsonx_fail(err, errlen, -EINVAL, "%s%s: must be a lower-case UUID or empty",
                                  prefix, key);
        memcpy(dst, s, VOTE_ID_LEN + 1);
        return 0;
}

/* Reads an optional reference (absent or "" leaves dst empty) into dst. */
static int get_opt_ref(json_t *obj, const char *prefix, const char *key,
                       char dst[static VOTE_REF_MAX + 1], char *err, size_t errlen)
{
        const char *s;
        int r = jsonx_get_str(obj, prefix, key, false, &s, err, errlen);

        if (r <= 0 || !s[0])
                return r;
        r = jsonx_check_ref(s, prefix, key, err, errlen);
        if (r < 0)
                return r;
        memcpy(dst, s, strlen(s) + 1);
        return 0;
}

/* The optional boot/mono pair of a vote, an event or a batch. */
static int get_boot(json_t *obj, const char *prefix, char boot[static VOTE_ID_LEN + 1],
                    int64_t *mono, char *err, size_t errlen)
{
        int r = get_opt_uuid(obj, prefix, "boot", boot, err, errlen);

        if (r < 0)
                return r;
        /* the pair goes together: a boot without its monotonic time would be read as 0 */
        r = jsonx_get_range(obj, prefix, boot[0] != 0, "mono", 0, MONO_MAX, mono, err, errlen);
        if (r > 0 && !boot[0])
                return jsonx_fail(err, errlen, -EINVAL, "%smono: only allowed with boot", prefix);
        return r < 0 ? r : 0;
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
                jsonx_fail(err, errlen, -EINVAL, "%s: expected an object", where);
                return;
        }
        s = json_string_value(json_object_get(obj, "id"));
        if (s && vote_id_valid(s))
                memcpy(v->id.s, s, VOTE_ID_LEN + 1);

        if (jsonx_check_keys(obj, vote_keys, where, err, errlen) < 0)
                return;

        if (jsonx_get_str(obj, prefix, "id", true, &s, err, errlen) < 0)
                return;
        if (!vote_id_valid(s)) {
                jsonx_fail(err, errlen, -EINVAL, "%sid: must be a lower-case UUID", prefix);
                return;
        }

        if (jsonx_get_int(obj, prefix, "level", true, &n, err, errlen) < 0)
                return;
        if (!vote_level_valid(n)) {
                jsonx_fail(err, errlen, -EINVAL, "%slevel: must be 1, 2 or 3", prefix);
                return;
        }
        v->level = (int)n;

        if (jsonx_get_str(obj, prefix, "channel", true, &s, err, errlen) < 0)
                return;
        if (!vote_channel_valid(s)) {
                jsonx_fail(err, errlen, -EINVAL, "%schannel: must be 1 to %d of a-z 0-9 _ -",
                           prefix, VOTE_CHANNEL_MAX);
                return;
        }
        memcpy(v->channel, s, strlen(s) + 1);

        if (jsonx_get_str(obj, prefix, "employee", true, &s, err, errlen) < 0 ||
            jsonx_check_ref(s, prefix, "employee", err, errlen) < 0)
                return;
        memcpy(v->employee, s, strlen(s) + 1);

        r = jsonx_get_str(obj, prefix, "workplace", false, &s, err, errlen);
        if (r < 0)
                return;
        if (r > 0 && s[0]) {
                if (jsonx_check_ref(s, prefix, "workplace", err, errlen) < 0)
                        return;
                memcpy(v->workplace, s, strlen(s) + 1);
        }

        r = jsonx_get_str(obj, prefix, "shift", false, &s, err, errlen);
        if (r < 0)
                return;
        if (r > 0 && s[0]) {
                if (!vote_id_valid(s)) {
                        jsonx_fail(err, errlen, -EINVAL,
                                   "%sshift: must be a lower-case UUID or empty", prefix);
                        return;
                }
                memcpy(v->shift, s, VOTE_ID_LEN + 1);
        }

        if (get_time(obj, prefix, "cast_at", future_max_ms, "more than 10 years in the future", &n,
                     err, errlen) < 0)
                return;
        v->cast_at_ms = n;

        r = jsonx_get_str(obj, prefix, "suppressed", false, &s, err, errlen);
        if (r < 0)
                return;
        if (r > 0) {
                if (!vote_word_valid(s)) {
                        jsonx_fail(err, errlen, -EINVAL,
                                   "%ssuppressed: must be 1 to %d of a-z 0-9 _", prefix,
                                   VOTE_WORD_MAX);
                        return;
                }
                memcpy(v->suppressed, s, strlen(s) + 1);
        }
        get_boot(obj, prefix, v->boot, &v->mono_ms, err, errlen);
}

/* Decodes event number i of a batch like decode_vote(). */
static void decode_event(json_t *obj, size_t i, int64_t future_max_ms, struct proto_event *pe)
{
        struct vote_event *e = &pe->event;
        char *err = pe->error;
        size_t errlen = sizeof(pe->error);
        char prefix[ITEM_NAME_MAX], where[ITEM_NAME_MAX];
        const char *s;

        item_names("events", i, where, prefix);
        if (!json_is_object(obj)) {
                jsonx_fail(err, errlen, -EINVAL, "%s: expected an object", where);
                return;
        }
        s = json_string_value(json_object_get(obj, "id"));
        if (s && vote_id_valid(s))
                memcpy(e->id.s, s, VOTE_ID_LEN + 1);
        if (jsonx_check_keys(obj, event_keys, where, err, errlen) < 0)
                return;
        if (jsonx_get_str(obj, prefix, "id", true, &s, err, errlen) < 0)
                return;
        if (!vote_id_valid(s)) {
                jsonx_fail(err, errlen, -EINVAL, "%sid: must be a lower-case UUID", prefix);
                return;
        }
        if (jsonx_get_str(obj, prefix, "kind", true, &s, err, errlen) < 0)
                return;
        if (!vote_word_valid(s)) {
                jsonx_fail(err, errlen, -EINVAL, "%skind: must be 1 to %d of a-z 0-9 _", prefix,
                           VOTE_WORD_MAX);
                return;
        }
        memcpy(e->kind, s, strlen(s) + 1);
        if (get_time(obj, prefix, "at", future_max_ms, "more than 10 years in the future",
                     &e->at_ms, err, errlen) < 0)
                return;
        if (get_opt_ref(obj, prefix, "employee", e->employee, err, errlen) < 0 ||
            get_opt_uuid(obj, prefix, "shift", e->shift, err, errlen) < 0 ||
            jsonx_get_text(obj, prefix, false, true, "detail", e->detail, sizeof(e->detail), err,
                           errlen) < 0)
                return;
        get_boot(obj, prefix, e->boot, &e->mono_ms, err, errlen);
}

/* The batch's optional status report: an envelope error when malformed. */
static int decode_status(json_t *root, struct proto_status_report *st, char *err, size_t errlen)
{
        json_t *obj = json_object_get(root, "status");
        const char *prefix = "status.";
        int r;

        if (!obj)
                return 0;
        if (!json_is_object(obj))
                return jsonx_fail(err, errlen, -EINVAL, "status: expected an object");
        r = jsonx_check_keys(obj, status_keys, "status", err, errlen);
        if (r < 0)
                return r;
        st->present = true;
        if ((r = jsonx_get_text(obj, prefix, false, true, "version", st->version,
                                sizeof(st->version), err, errlen)) < 0 ||
            (r = jsonx_get_range(obj, prefix, false, "queue", 0, MONO_MAX, &st->queue, err,
                                 errlen)) < 0 ||
            (r = jsonx_get_range(obj, prefix, false, "rejected", 0, MONO_MAX, &st->rejected, err,
                                 errlen)) < 0 ||
            (r = jsonx_get_range(obj, prefix, false, "clock_offset_ms", -FUTURE_MAX_MS,
                                 FUTURE_MAX_MS, &st->clock_offset_ms, err, errlen)) < 0 ||
            (r = jsonx_get_text(obj, prefix, false, true, "last_error", st->last_error,
                                sizeof(st->last_error), err, errlen)) < 0)
                return r;
        return 0;
}

void proto_batch_finish(struct proto_batch *b)
{
        if (!b)
                return;
        free(b->votes);
        free(b->events);
        memset(b, 0, sizeof(*b));
}

int proto_batch_decode(const char *json, size_t len, struct proto_batch *ret, char *err,
                       size_t errlen)
{
        struct proto_batch b = {0};
        json_t *root = NULL, *votes = NULL, *events = NULL;
        const char *terminal;
        void *items = NULL;
        int64_t future_max_ms = now_ms() + FUTURE_MAX_MS;
        int r;

        assert(ret);
        r = jsonx_load_envelope(json, len, batch_keys, &root, err, errlen);
        if (r < 0)
                goto finish;

        r = jsonx_get_str(root, "", "terminal", true, &terminal, err, errlen);
        if (r < 0)
                goto finish;
        r = jsonx_check_ref(terminal, "", "terminal", err, errlen);
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

        r = get_boot(root, "", b.boot, &b.mono_ms, err, errlen);
        if (r < 0)
                goto finish;
        r = decode_status(root, &b.status, err, errlen);
        if (r < 0)
                goto finish;
        if (json_object_get(root, "events")) {
                r = get_array(root, "events", "events in one batch", &events, &b.n_events, err,
                              errlen);
                if (r < 0)
                        goto finish;
                r = alloc_items(b.n_events, sizeof(*b.events), &items, err, errlen);
                if (r < 0)
                        goto finish;
                b.events = items;
                for (size_t i = 0; i < b.n_events; i++)
                        decode_event(json_array_get(events, i), i, future_max_ms, &b.events[i]);
        }

        *ret = b;
        b = (struct proto_batch){0};
        r = 0;
finish:
        proto_batch_finish(&b);
        json_decref(root);
        return r;
}

/* boot and mono, both left out when the boot is unknown. */
static int encode_boot(json_t *obj, const char *boot, int64_t mono_ms)
{
        int r;

        if (!boot[0])
                return 0;
        r = jsonx_set_string(obj, "boot", boot, VOTE_ID_LEN + 1);
        if (r < 0)
                return r;
        return jsonx_set_new(obj, "mono", json_integer(mono_ms));
}

static int encode_event(const struct vote_event *e, json_t **ret)
{
        json_t *obj = json_object();
        int r;

        if (!obj)
                return -ENOMEM;
        if ((r = jsonx_set_string(obj, "id", e->id.s, sizeof(e->id.s))) < 0 ||
            (r = jsonx_set_string(obj, "kind", e->kind, sizeof(e->kind))) < 0 ||
            (r = jsonx_set_new(obj, "at", json_integer(e->at_ms))) < 0 ||
            (e->employee[0] &&
             (r = jsonx_set_string(obj, "employee", e->employee, sizeof(e->employee))) < 0) ||
            (e->shift[0] && (r = jsonx_set_string(obj, "shift", e->shift, sizeof(e->shift))) < 0) ||
            (e->detail[0] &&
             (r = jsonx_set_string(obj, "detail", e->detail, sizeof(e->detail))) < 0) ||
            (r = encode_boot(obj, e->boot, e->mono_ms)) < 0) {
                json_decref(obj);
                return r;
        }
        *ret = obj;
        return 0;
}

static int encode_status(json_t *root, const struct proto_status_report *st)
{
        json_t *obj;
        int r;

        if (!st->present)
                return 0;
        obj = json_object();
        r = jsonx_set_new(root, "status", obj);
        if (r < 0)
                return r;
        if ((r = jsonx_set_string(obj, "version", st->version, sizeof(st->version))) < 0 ||
            (r = jsonx_set_new(obj, "queue", json_integer(st->queue))) < 0 ||
            (r = jsonx_set_new(obj, "rejected", json_integer(st->rejected))) < 0 ||
            (r = jsonx_set_new(obj, "clock_offset_ms", json_integer(st->clock_offset_ms))) < 0 ||
            (r = jsonx_set_string(obj, "last_error", st->last_error, sizeof(st->last_error))) < 0)
                return r;
        return 0;
}

static int encode_vote(const struct vote *v, json_t **ret)
{
        json_t *obj = json_object();
        int r;

        if (!obj)
                return -ENOMEM;
        r = jsonx_set_string(obj, "id", v->id.s, sizeof(v->id.s));
        if (r < 0)
                goto fail;
        r = jsonx_set_new(obj, "level", json_integer(v->level));
        if (r < 0)
                goto fail;
        r = jsonx_set_string(obj, "channel", v->channel, sizeof(v->channel));
        if (r < 0)
                goto fail;
        r = jsonx_set_string(obj, "employee", v->employee, sizeof(v->employee));
        if (r < 0)
                goto fail;
        /* workplace and shift are optional: an empty one is left out. */
        if (v->workplace[0]) {
                r = jsonx_set_string(obj, "workplace", v->workplace, sizeof(v->workplace));
                if (r < 0)
                        goto fail;
        }
        if (v->shift[0]) {
                r = jsonx_set_string(obj, "shift", v->shift, sizeof(v->shift));
                if (r < 0)
                        goto fail;
        }
        r = jsonx_set_new(obj, "cast_at", json_integer(v->cast_at_ms));
        if (r < 0)
                goto fail;
        if (v->suppressed[0]) {
                r = jsonx_set_string(obj, "suppressed", v->suppressed, sizeof(v->suppressed));
                if (r < 0)
                        goto fail;
        }
        r = encode_boot(obj, v->boot, v->mono_ms);
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
        if (b->n_votes > PROTO_BATCH_MAX || (b->n_votes > 0 && !b->votes) ||
            b->n_events > PROTO_BATCH_MAX || (b->n_events > 0 && !b->events))
                return -EINVAL;
        r = jsonx_new_envelope(&root);
        if (r < 0)
                return r;
        r = jsonx_set_string(root, "terminal", b->terminal, sizeof(b->terminal));
        if (r < 0)
                goto finish;
        r = jsonx_set_new(root, "sent_at", json_integer(b->sent_at_ms));
        if (r < 0)
                goto finish;
        votes = json_array();
        r = jsonx_set_new(root, "votes", votes);
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
        r = encode_boot(root, b->boot, b->mono_ms);
        if (r < 0)
                goto finish;
        r = encode_status(root, &b->status);
        if (r < 0)
                goto finish;
        if (b->n_events > 0) {
                json_t *events = json_array();

                r = jsonx_set_new(root, "events", events);
                if (r < 0)
                        goto finish;
                for (size_t i = 0; i < b->n_events; i++) {
                        json_t *e = NULL;

                        r = encode_event(&b->events[i].event, &e);
                        if (r < 0)
                                goto finish;
                        if (json_array_append_new(events, e) < 0) {
                                r = -ENOMEM;
                                goto finish;
                        }
                }
        }
        r = jsonx_dump(root, ret_json);
finish:
        json_decref(root);
        return r;
}

void proto_ack_finish(struct proto_ack *a)
{
        if (!a)
                return;
        free(a->results);
        free(a->event_results);
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
static int decode_result(json_t *obj, const char *array, size_t i, struct proto_result *res,
                         char *err, size_t errlen)
{
        char prefix[ITEM_NAME_MAX], where[ITEM_NAME_MAX];
        const char *s;
        int64_t n = 0;
        int r;

        item_names(array, i, where, prefix);
        if (!json_is_object(obj))
                return jsonx_fail(err, errlen, -EINVAL, "%s: expected an object", where);
        r = jsonx_check_keys(obj, result_keys, where, err, errlen);
        if (r < 0)
                return r;

        r = jsonx_get_int(obj, prefix, "index", true, &n, err, errlen);
        if (r < 0)
                return r;
        if (n < 0 || (uint64_t)n != i)
                return jsonx_fail(err, errlen, -EINVAL, "%sindex: expected %zu", prefix, i);
        res->index = i;

        r = jsonx_get_str(obj, prefix, "status", true, &s, err, errlen);
        if (r < 0)
                return r;
        if (strcmp(s, "stored") == 0)
                res->status = PROTO_STORED;
        else if (strcmp(s, "duplicate") == 0)
                res->status = PROTO_DUPLICATE;
        else if (strcmp(s, "rejected") == 0)
                res->status = PROTO_REJECTED;
        else
                return jsonx_fail(err, errlen, -EINVAL,
                                  "%sstatus: must be \"stored\", \"duplicate\" or \"rejected\"",
                                  prefix);

        r = jsonx_get_str(obj, prefix, "id", true, &s, err, errlen);
        if (r < 0)
                return r;
        if (s[0] == 0 && res->status != PROTO_REJECTED)
                return jsonx_fail(err, errlen, -EINVAL, "%sid: empty but the vote was %s", prefix,
                                  status_names[res->status]);
        if (s[0] && !vote_id_valid(s))
                return jsonx_fail(err, errlen, -EINVAL, "%sid: must be a lower-case UUID or empty",
                                  prefix);
        memcpy(res->id.s, s, strlen(s) + 1);

        r = jsonx_get_str(obj, prefix, "reason", false, &s, err, errlen);
        if (r < 0)
                return r;
        if (res->status == PROTO_REJECTED) {
                if (r == 0)
                        return jsonx_fail(err, errlen, -EINVAL, "%sreason: missing", prefix);
                if (!reason_valid(s))
                        return jsonx_fail(
                            err, errlen, -EINVAL,
                            "%sreason: must be 1 to %d bytes without control characters", prefix,
                            PROTO_REASON_MAX - 1);
                memcpy(res->reason, s, strlen(s) + 1);
        } else if (r > 0) {
                return jsonx_fail(err, errlen, -EINVAL, "%sreason: only allowed when rejected",
                                  prefix);
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
        r = jsonx_load_envelope(json, len, ack_keys, &root, err, errlen);
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
                r = decode_result(json_array_get(results, i), "results", i, &a.results[i], err,
                                  errlen);
                if (r < 0)
                        goto finish;
        }
        if (json_object_get(root, "events")) {
                r = get_array(root, "events", "event results in one answer", &results,
                              &a.n_event_results, err, errlen);
                if (r < 0)
                        goto finish;
                r = alloc_items(a.n_event_results, sizeof(*a.event_results), &items, err, errlen);
                if (r < 0)
                        goto finish;
                a.event_results = items;
                for (size_t i = 0; i < a.n_event_results; i++) {
                        r = decode_result(json_array_get(results, i), "events", i,
                                          &a.event_results[i], err, errlen);
                        if (r < 0)
                                goto finish;
                }
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
        r = jsonx_set_new(obj, "index", json_integer((json_int_t)i));
        if (r < 0)
                goto fail;
        r = jsonx_set_string(obj, "id", res->id.s, sizeof(res->id.s));
        if (r < 0)
                goto fail;
        r = jsonx_set_new(obj, "status", json_string(status_names[res->status]));
        if (r < 0)
                goto fail;
        if (res->status == PROTO_REJECTED) {
                r = jsonx_set_string(obj, "reason", res->reason, sizeof(res->reason));
                if (r < 0)
                        goto fail;
        }
        *ret = obj;
        return 0;
fail:
        json_decref(obj);
        return r;
}

static int encode_results(json_t *root, const char *key, const struct proto_result *results,
                          size_t n)
{
        json_t *array = json_array();
        int r = jsonx_set_new(root, key, array);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                json_t *res = NULL;

                r = encode_result(&results[i], i, &res);
                if (r >= 0 && json_array_append_new(array, res) < 0)
                        r = -ENOMEM;
        }
        return r;
}

int proto_ack_encode(const struct proto_ack *a, char **ret_json)
{
        json_t *root = NULL;
        int r;

        assert(a && ret_json);
        if (a->n_results > PROTO_BATCH_MAX || (a->n_results > 0 && !a->results) ||
            a->n_event_results > PROTO_BATCH_MAX || (a->n_event_results > 0 && !a->event_results))
                return -EINVAL;
        r = jsonx_new_envelope(&root);
        if (r < 0)
                return r;
        r = jsonx_set_new(root, "server_time", json_integer(a->server_time_ms));
        if (r < 0)
                goto finish;
        r = encode_results(root, "results", a->results, a->n_results);
        if (r < 0)
                goto finish;
        if (a->n_event_results > 0) {
                r = encode_results(root, "events", a->event_results, a->n_event_results);
                if (r < 0)
                        goto finish;
        }
        r = jsonx_dump(root, ret_json);
finish:
        json_decref(root);
        return r;
}

int proto_error_encode(const char *message, char **ret_json)
{
        json_t *root;
        int r;

        assert(message && ret_json);
        r = jsonx_new_envelope(&root);
        if (r < 0)
                return r;
        r = jsonx_set_string(root, "error", message, strlen(message) + 1);
        if (r < 0)
                goto finish;
        r = jsonx_dump(root, ret_json);
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
