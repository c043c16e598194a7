/* SPDX-License-Identifier: MIT */
/* The wire protocol v1: batches and acks survive a round trip; every malformed input gets the
 * exact message that names its field; a bad vote spoils only itself, a bad envelope the whole
 * batch; sizes are capped. Runs under ASan, so a leak fails it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proto.h"

#define ID0 "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a50"
#define ID1 "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51"
#define ID2 "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a52"
#define SHIFT "0190a1b2-0000-7000-8000-000000000001"
#define T_OK 1750000000000LL /* 2025-06-15, safely inside the accepted range */
#define T_OK_S "1750000000000"

/* A vote that passes every check, with the given id. */
#define VOTE(id)                                                                                   \
        "{\"id\":\"" id "\",\"level\":3,\"channel\":\"terminal\",\"employee\":\"E001\","           \
        "\"workplace\":\"W01\",\"cast_at\":" T_OK_S "}"

#define BATCH(votes)                                                                               \
        "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S ",\"votes\":[" votes "]}"

#define ACK(results) "{\"protocol\":1,\"server_time\":" T_OK_S ",\"results\":[" results "]}"
#define STORED(i, id) "{\"index\":" #i ",\"id\":\"" id "\",\"status\":\"stored\"}"

#define EID0 "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b60"
#define EID1 "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b61"
#define EID2 "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4b62"
#define BOOT "6f1d2c3b-4a59-4e8d-9c7b-1a2b3c4d5e6f"
#define MONO_RULE "must be 0 to 9007199254740991"

/* A valid batch of one vote with extra root keys (boot, mono, events, status). */
#define BATCH_WITH(extra)                                                                          \
        "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S                                  \
        ",\"votes\":[" VOTE(ID0) "]," extra "}"
#define STATUS(fields) BATCH_WITH("\"status\":{" fields "}")

/* An event that passes every check, with the given id. */
#define EVENT(id)                                                                                  \
        "{\"id\":\"" id "\",\"kind\":\"shift_open\",\"at\":" T_OK_S ",\"employee\":\"E001\","      \
        "\"shift\":\"" SHIFT "\",\"detail\":\"pin\"}"

/* An ack with results and event results. */
#define ACK_EV(results, events)                                                                    \
        "{\"protocol\":1,\"server_time\":" T_OK_S ",\"results\":[" results "],\"events\":[" events \
        "]}"

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int decode_str(const char *json, struct proto_batch *ret, char *err, size_t errlen)
{
        return proto_batch_decode(json, strlen(json), ret, err, errlen);
}

static void fill_vote(struct vote *v, const char *id, int level, const char *workplace,
                      const char *shift, int64_t cast_at)
{
        memset(v, 0, sizeof(*v));
        strcpy(v->id.s, id);
        v->level = level;
        strcpy(v->channel, "terminal");
        strcpy(v->employee, "E001");
        strcpy(v->workplace, workplace);
        strcpy(v->shift, shift);
        v->cast_at_ms = cast_at;
}

static void test_batch_round_trip(void **state)
{
        struct proto_vote votes[3];
        struct proto_batch in = {.sent_at_ms = T_OK + 5, .n_votes = 3, .votes = votes};
        struct proto_batch out = {0};
        char err[256] = "stale", *json = NULL;

        memset(votes, 0, sizeof(votes));
        strcpy(in.terminal, "T-1.a_b");
        fill_vote(&votes[0].vote, ID0, 1, "W01", SHIFT, T_OK);
        fill_vote(&votes[1].vote, ID1, 2, "", "", T_OK + 1); /* optional fields left out */
        fill_vote(&votes[2].vote, ID2, 3, "W02", "", T_OK + 2);
        strcpy(votes[2].vote.channel, "qr_printed");
        strcpy(votes[2].error, "not encoded");

        assert_int_equal(proto_batch_encode(&in, &json), 0);
        assert_string_equal(json,
                            "{\"protocol\":1,\"terminal\":\"T-1.a_b\",\"sent_at\":1750000000005,"
                            "\"votes\":[{\"id\":\"" ID0 "\",\"level\":1,\"channel\":\"terminal\","
                            "\"employee\":\"E001\",\"workplace\":\"W01\",\"shift\":\"" SHIFT
                            "\",\"cast_at\":1750000000000},{\"id\":\"" ID1 "\",\"level\":2,"
                            "\"channel\":\"terminal\",\"employee\":\"E001\",\"cast_at\":"
                            "1750000000001},{\"id\":\"" ID2 "\",\"level\":3,\"channel\":"
                            "\"qr_printed\",\"employee\":\"E001\",\"workplace\":\"W02\","
                            "\"cast_at\":1750000000002}]}");

        assert_int_equal(decode_str(json, &out, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_string_equal(out.terminal, "T-1.a_b");
        assert_int_equal(out.sent_at_ms, T_OK + 5);
        assert_int_equal(out.n_votes, 3);
        for (size_t i = 0; i < 3; i++) {
                const struct vote *a = &votes[i].vote, *b = &out.votes[i].vote;

                assert_string_equal(out.votes[i].error, "");
                assert_string_equal(a->id.s, b->id.s);
                assert_int_equal(a->level, b->level);
                assert_string_equal(a->channel, b->channel);
                assert_string_equal(a->employee, b->employee);
                assert_string_equal(a->workplace, b->workplace);
                assert_string_equal(a->shift, b->shift);
                assert_int_equal(a->cast_at_ms, b->cast_at_ms);
        }
        proto_batch_finish(&out);
        assert_null(out.votes);
        assert_int_equal(out.n_votes, 0);
        free(json);
}

static void test_empty_optional_fields(void **state)
{
        struct proto_batch b = {0};
        char err[256];

        /* workplace and shift may be absent or empty */
        assert_int_equal(
            decode_str(BATCH("{\"id\":\"" ID0 "\",\"level\":1,\"channel\":\"terminal\","
                             "\"employee\":\"E1\",\"workplace\":\"\",\"shift\":\"\","
                             "\"cast_at\":" T_OK_S "}"),
                       &b, err, sizeof(err)),
            0);
        assert_int_equal(b.n_votes, 1);
        assert_string_equal(b.votes[0].error, "");
        assert_string_equal(b.votes[0].vote.workplace, "");
        assert_string_equal(b.votes[0].vote.shift, "");
        proto_batch_finish(&b);

        /* an empty batch is valid: it only asks for server_time */
        assert_int_equal(decode_str(BATCH(""), &b, err, sizeof(err)), 0);
        assert_int_equal(b.n_votes, 0);
        assert_null(b.votes);
        proto_batch_finish(&b);
}

struct envelope_case {
        const char *json;
        int r;
        const char *message; /* exact, or a prefix when prefix is set */
        int prefix;
};

static const struct envelope_case envelope_cases[] = {
    {"[]", -EINVAL, "body: expected a JSON object", 0},
    {"\"votes\"", -EINVAL, "body: invalid JSON at line 1, column ", 1},
    {"", -EINVAL, "body: invalid JSON at line 1, column ", 1},
    {"{", -EINVAL, "body: invalid JSON at line 1, column ", 1},
    {BATCH(VOTE(ID0)) "x", -EINVAL, "body: invalid JSON at line 1, column ", 1},
    {"[[[[[[[[[1]]]]]]]]]", -EINVAL, "body: nested deeper than 8 levels", 0},
    {"{\"a\":\"[[[[[[[[[[[[\",\"protocol\":2}", -EINVAL, "protocol: unsupported version 2", 0},
    {"{\"protocol\":1,\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S ",\"votes\":[]}",
     -EINVAL, "body: invalid JSON at line 1, column ", 1},
    {"{\"terminal\":\"T1\"}", -EINVAL, "protocol: missing", 0},
    {"{\"protocol\":\"1\"}", -EINVAL, "protocol: expected an integer", 0},
    {"{\"protocol\":1.0}", -EINVAL, "protocol: expected an integer", 0},
    {"{\"protocol\":2,\"whatever\":[]}", -EINVAL, "protocol: unsupported version 2", 0},
    {"{\"protocol\":-9223372036854775808}", -EINVAL,
     "protocol: unsupported version -9223372036854775808", 0},
    {"{\"protocol\":99999999999999999999}", -EINVAL, "body: invalid JSON at line 1, column ", 1},
    {"{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S ",\"votes\":[],\"sig\":\"\"}",
     -EINVAL, "body: unknown key \"sig\"", 0},
    {"{\"protocol\":1,\"sent_at\":" T_OK_S ",\"votes\":[]}", -EINVAL, "terminal: missing", 0},
    {"{\"protocol\":1,\"terminal\":7,\"sent_at\":" T_OK_S ",\"votes\":[]}", -EINVAL,
     "terminal: expected a string", 0},
    {"{\"protocol\":1,\"terminal\":\"T 1\",\"sent_at\":" T_OK_S ",\"votes\":[]}", -EINVAL,
     "terminal: must be 1 to 64 of A-Z a-z 0-9 . _ -", 0},
    {"{\"protocol\":1,\"terminal\":\"\",\"sent_at\":" T_OK_S ",\"votes\":[]}", -EINVAL,
     "terminal: must be 1 to 64 of A-Z a-z 0-9 . _ -", 0},
    {"{\"protocol\":1,\"terminal\":\"T1\",\"votes\":[]}", -EINVAL, "sent_at: missing", 0},
    {"{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":null,\"votes\":[]}", -EINVAL,
     "sent_at: expected an integer", 0},
    {"{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":1577836799999,\"votes\":[]}", -EINVAL,
     "sent_at: before 2020-01-01", 0},
    {"{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":9223372036854775807,\"votes\":[]}", -EINVAL,
     "sent_at: more than 10 years in the future", 0},
    {"{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S "}", -EINVAL, "votes: missing", 0},
    {"{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S ",\"votes\":{}}", -EINVAL,
     "votes: expected an array", 0},
    {"{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S ",\"votes\":[{\"id\":1,\"id\":2}]}",
     -EINVAL, "body: invalid JSON at line 1, column ", 1},
    {"{\"protocol\":1,\"terminal\":\"T\\u0000\"}", -EINVAL, "body: invalid JSON at line 1, column ",
     1},
    {"{\"protocol\":1,\"terminal\":\"\xff\"}", -EINVAL, "body: invalid JSON at line 1, column ", 1},
    /* the sender's clock pair, its events and its status are envelope fields */
    {BATCH_WITH("\"boot\":\"x\""), -EINVAL, "boot: must be a lower-case UUID or empty", 0},
    {BATCH_WITH("\"boot\":\"6F1D2C3B-4A59-4E8D-9C7B-1A2B3C4D5E6F\""), -EINVAL,
     "boot: must be a lower-case UUID or empty", 0},
    {BATCH_WITH("\"boot\":7"), -EINVAL, "boot: expected a string", 0},
    {BATCH_WITH("\"mono\":-1"), -EINVAL, "mono: " MONO_RULE, 0},
    {BATCH_WITH("\"mono\":9007199254740992"), -EINVAL, "mono: " MONO_RULE, 0},
    {BATCH_WITH("\"mono\":\"5\""), -EINVAL, "mono: expected an integer", 0},
    /* the pair goes together: a boot without its time would be read as time 0 */
    {BATCH_WITH("\"mono\":5"), -EINVAL, "mono: only allowed with boot", 0},
    {BATCH_WITH("\"boot\":\"" BOOT "\""), -EINVAL, "mono: missing", 0},
    {BATCH_WITH("\"events\":{}"), -EINVAL, "events: expected an array", 0},
    {BATCH_WITH("\"events\":null"), -EINVAL, "events: expected an array", 0},
    {BATCH_WITH("\"status\":5"), -EINVAL, "status: expected an object", 0},
    {BATCH_WITH("\"status\":[]"), -EINVAL, "status: expected an object", 0},
    {STATUS("\"uptime\":1"), -EINVAL, "status: unknown key \"uptime\"", 0},
    {STATUS("\"version\":5"), -EINVAL, "status.version: expected a string", 0},
    {STATUS("\"version\":\"0.2.0-\u00e9\""), -EINVAL, "status.version: must be printable ASCII", 0},
    {STATUS("\"version\":\"0123456789012345678901234567890123\""), -EINVAL,
     "status.version: longer than 31 bytes", 0},
    {STATUS("\"queue\":-1"), -EINVAL, "status.queue: " MONO_RULE, 0},
    {STATUS("\"queue\":\"12\""), -EINVAL, "status.queue: expected an integer", 0},
    {STATUS("\"rejected\":-1"), -EINVAL, "status.rejected: " MONO_RULE, 0},
    {STATUS("\"rejected\":1.0"), -EINVAL, "status.rejected: expected an integer", 0},
    {STATUS("\"clock_offset_ms\":315619200001"), -EINVAL,
     "status.clock_offset_ms: must be -315619200000 to 315619200000", 0},
    {STATUS("\"clock_offset_ms\":-315619200001"), -EINVAL,
     "status.clock_offset_ms: must be -315619200000 to 315619200000", 0},
    {STATUS("\"last_error\":\"a\\nb\""), -EINVAL, "status.last_error: must be printable ASCII", 0},
    {STATUS("\"last_error\":null"), -EINVAL, "status.last_error: expected a string", 0},
};

static void test_envelope_errors(void **state)
{
        for (size_t i = 0; i < sizeof(envelope_cases) / sizeof(envelope_cases[0]); i++) {
                const struct envelope_case *c = &envelope_cases[i];
                struct proto_batch b, untouched;
                char err[256];
                int r;

                memset(&b, 0xa5, sizeof(b));
                untouched = b;
                r = decode_str(c->json, &b, err, sizeof(err));
                print_message("case %zu: %s -> %d %s\n", i, c->json, r, err);
                assert_int_equal(r, c->r);
                if (c->prefix)
                        assert_memory_equal(err, c->message, strlen(c->message));
                else
                        assert_string_equal(err, c->message);
                assert_memory_equal(&b, &untouched, sizeof(b)); /* *ret untouched */
        }
}

static void test_duplicate_keys(void **state)
{
        static const char *const cases[] = {
            "{\"protocol\":1,\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S
            ",\"votes\":[]}",
            BATCH("{\"id\":\"" ID0 "\",\"level\":1,\"level\":3,\"channel\":\"terminal\","
                  "\"employee\":\"E1\",\"cast_at\":" T_OK_S "}"),
        };
        struct proto_batch b = {0};
        struct proto_ack a = {0};
        const char *ack = ACK("{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"stored\","
                              "\"status\":\"rejected\"}");
        char err[256];

        /* a duplicate key anywhere makes the body invalid JSON: the whole batch is refused */
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(decode_str(cases[i], &b, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, "body: invalid JSON at line 1, column "));
                assert_non_null(strstr(err, "duplicate object key"));
        }
        assert_int_equal(proto_ack_decode(ack, strlen(ack), &a, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "duplicate object key"));
}

static void test_error_messages_bounded_and_printable(void **state)
{
        char json[1024], key[300], err[PROTO_REASON_MAX];
        struct proto_batch b = {0};
        size_t n = 0;

        /* a long unknown key full of control characters and UTF-8 */
        n += (size_t)snprintf(key + n, sizeof(key) - n, "\\u0001\\n\xc3\xa9");
        while (n < 250)
                key[n++] = 'k';
        key[n] = 0;
        snprintf(json, sizeof(json),
                 "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S
                 ",\"votes\":[],\"%s\":1}",
                 key);
        assert_int_equal(decode_str(json, &b, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "body: unknown key \"????kkkkkkkkkkkkkkkkkkkkkkkkkkkk...\"");

        /* jansson's own message quotes input: it is scrubbed too */
        assert_int_equal(decode_str("{\"protocol\":1,\"a\":\"\x01\"}", &b, err, sizeof(err)),
                         -EINVAL);
        for (const char *p = err; *p; p++)
                assert_true(*p >= 0x20 && *p <= 0x7e);

        /* a tiny buffer is still NUL-terminated; none at all is allowed */
        assert_int_equal(decode_str("[]", &b, err, 5), -EINVAL);
        assert_string_equal(err, "body");
        assert_int_equal(decode_str("[]", &b, NULL, 0), -EINVAL);
}

struct vote_case {
        const char *vote;  /* the JSON of the middle vote of three */
        const char *error; /* expected, for votes[1] */
        const char *id;    /* the id the decoder must still have read, or "" */
};

#define V(fields) "{\"id\":\"" ID1 "\"," fields "}"
#define GOOD_REST "\"channel\":\"terminal\",\"employee\":\"E001\",\"cast_at\":" T_OK_S

static const struct vote_case vote_cases[] = {
    {"5", "votes[1]: expected an object", ""},
    {"null", "votes[1]: expected an object", ""},
    {"[\"" ID1 "\"]", "votes[1]: expected an object", ""},
    {V("\"level\":1,\"colour\":\"red\"," GOOD_REST), "votes[1]: unknown key \"colour\"", ID1},
    {"{\"level\":1," GOOD_REST "}", "votes[1].id: missing", ""},
    {"{\"id\":7,\"level\":1," GOOD_REST "}", "votes[1].id: expected a string", ""},
    {"{\"id\":\"0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A51\",\"level\":1," GOOD_REST "}",
     "votes[1].id: must be a lower-case UUID", ""},
    {"{\"id\":\"" ID1 "x\",\"level\":1," GOOD_REST "}", "votes[1].id: must be a lower-case UUID",
     ""},
    {V(GOOD_REST), "votes[1].level: missing", ID1},
    {V("\"level\":\"2\"," GOOD_REST), "votes[1].level: expected an integer", ID1},
    {V("\"level\":2.0," GOOD_REST), "votes[1].level: expected an integer", ID1},
    {V("\"level\":true," GOOD_REST), "votes[1].level: expected an integer", ID1},
    {V("\"level\":0," GOOD_REST), "votes[1].level: must be 1, 2 or 3", ID1},
    {V("\"level\":4," GOOD_REST), "votes[1].level: must be 1, 2 or 3", ID1},
    {V("\"level\":4294967298," GOOD_REST), "votes[1].level: must be 1, 2 or 3", ID1},
    {V("\"level\":-9223372036854775808," GOOD_REST), "votes[1].level: must be 1, 2 or 3", ID1},
    {V("\"level\":1,\"employee\":\"E001\",\"cast_at\":" T_OK_S), "votes[1].channel: missing", ID1},
    {V("\"level\":1,\"channel\":\"Terminal\",\"employee\":\"E001\",\"cast_at\":" T_OK_S),
     "votes[1].channel: must be 1 to 32 of a-z 0-9 _ -", ID1},
    {V("\"level\":1,\"channel\":\"terminal\",\"cast_at\":" T_OK_S), "votes[1].employee: missing",
     ID1},
    {V("\"level\":1,\"channel\":\"terminal\",\"employee\":[],\"cast_at\":" T_OK_S),
     "votes[1].employee: expected a string", ID1},
    {V("\"level\":1,\"channel\":\"terminal\",\"employee\":\"\",\"cast_at\":" T_OK_S),
     "votes[1].employee: must be 1 to 64 of A-Z a-z 0-9 . _ -", ID1},
    {V("\"level\":1,\"channel\":\"terminal\",\"employee\":\"E 1\",\"cast_at\":" T_OK_S),
     "votes[1].employee: must be 1 to 64 of A-Z a-z 0-9 . _ -", ID1},
    {V("\"level\":1," GOOD_REST ",\"workplace\":"
       "\"W0123456789012345678901234567890123456789012345678901234567890123\""),
     "votes[1].workplace: must be 1 to 64 of A-Z a-z 0-9 . _ -", ID1},
    {V("\"level\":1," GOOD_REST ",\"workplace\":null"), "votes[1].workplace: expected a string",
     ID1},
    {V("\"level\":1," GOOD_REST ",\"shift\":\"morning\""),
     "votes[1].shift: must be a lower-case UUID or empty", ID1},
    {V("\"level\":1,\"channel\":\"terminal\",\"employee\":\"E001\""), "votes[1].cast_at: missing",
     ID1},
    {V("\"level\":1,\"channel\":\"terminal\",\"employee\":\"E001\",\"cast_at\":\"now\""),
     "votes[1].cast_at: expected an integer", ID1},
    {V("\"level\":1,\"channel\":\"terminal\",\"employee\":\"E001\",\"cast_at\":1577836799999"),
     "votes[1].cast_at: before 2020-01-01", ID1},
    {V("\"level\":1,\"channel\":\"terminal\",\"employee\":\"E001\",\"cast_at\":-1"),
     "votes[1].cast_at: before 2020-01-01", ID1},
    {V("\"level\":1," GOOD_REST ",\"suppressed\":\"\""),
     "votes[1].suppressed: must be 1 to 32 of a-z 0-9 _", ID1},
    {V("\"level\":1," GOOD_REST ",\"suppressed\":\"Min_interval\""),
     "votes[1].suppressed: must be 1 to 32 of a-z 0-9 _", ID1},
    {V("\"level\":1," GOOD_REST ",\"suppressed\":\"min-interval\""),
     "votes[1].suppressed: must be 1 to 32 of a-z 0-9 _", ID1},
    {V("\"level\":1," GOOD_REST ",\"suppressed\":\"abcdefghijklmnopqrstuvwxyz0123456\""),
     "votes[1].suppressed: must be 1 to 32 of a-z 0-9 _", ID1},
    {V("\"level\":1," GOOD_REST ",\"suppressed\":true"), "votes[1].suppressed: expected a string",
     ID1},
    {V("\"level\":1," GOOD_REST ",\"boot\":\"x\""),
     "votes[1].boot: must be a lower-case UUID or empty", ID1},
    {V("\"level\":1," GOOD_REST ",\"mono\":-1"), "votes[1].mono: " MONO_RULE, ID1},
    {V("\"level\":1," GOOD_REST ",\"mono\":9007199254740992"), "votes[1].mono: " MONO_RULE, ID1},
    {V("\"level\":1," GOOD_REST ",\"boot\":\"" BOOT "\",\"mono\":\"1\""),
     "votes[1].mono: expected an integer", ID1},
    {V("\"level\":1," GOOD_REST ",\"boot\":\"" BOOT "\""), "votes[1].mono: missing", ID1},
    {V("\"level\":1," GOOD_REST ",\"mono\":5"), "votes[1].mono: only allowed with boot", ID1},
};

static void check_good(const struct proto_vote *pv, const char *id)
{
        assert_string_equal(pv->error, "");
        assert_string_equal(pv->vote.id.s, id);
        assert_int_equal(pv->vote.level, 3);
        assert_string_equal(pv->vote.employee, "E001");
        assert_string_equal(pv->vote.workplace, "W01");
        assert_int_equal(pv->vote.cast_at_ms, T_OK);
}

static void test_vote_errors_spoil_only_their_vote(void **state)
{
        for (size_t i = 0; i < sizeof(vote_cases) / sizeof(vote_cases[0]); i++) {
                const struct vote_case *c = &vote_cases[i];
                struct proto_batch b = {0};
                char json[2048], err[256];

                snprintf(json, sizeof(json), BATCH(VOTE(ID0) ",%s," VOTE(ID2)), c->vote);
                print_message("case %zu: %s\n", i, c->vote);
                assert_int_equal(decode_str(json, &b, err, sizeof(err)), 0);
                assert_string_equal(err, "");
                assert_int_equal(b.n_votes, 3);
                check_good(&b.votes[0], ID0);
                check_good(&b.votes[2], ID2);
                assert_string_equal(b.votes[1].error, c->error);
                assert_string_equal(b.votes[1].vote.id.s, c->id);
                proto_batch_finish(&b);
        }
}

static void test_cast_at_future_bound(void **state)
{
        int64_t year = 365LL * 86400 * 1000;
        struct proto_batch b = {0};
        char json[1024], err[256];

        snprintf(json, sizeof(json),
                 BATCH("{\"id\":\"" ID0 "\",\"level\":1,\"channel\":\"terminal\",\"employee\":"
                       "\"E1\",\"cast_at\":%lld},{\"id\":\"" ID1 "\",\"level\":1,\"channel\":"
                       "\"terminal\",\"employee\":\"E1\",\"cast_at\":%lld}"),
                 (long long)(now_ms() + 9 * year), (long long)(now_ms() + 11 * year));
        assert_int_equal(decode_str(json, &b, err, sizeof(err)), 0);
        assert_string_equal(b.votes[0].error, "");
        assert_string_equal(b.votes[1].error, "votes[1].cast_at: more than 10 years in the future");
        proto_batch_finish(&b);
}

/* A batch of n copies of one valid vote, in a malloc'd string. */
static char *big_batch(size_t n)
{
        static const char vote[] = VOTE(ID0);
        size_t cap = 128 + n * sizeof(vote), len;
        char *s = malloc(cap);

        assert_non_null(s);
        len = (size_t)snprintf(
            s, cap, "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S ",\"votes\":[");
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", vote);
        snprintf(s + len, cap - len, "]}");
        return s;
}

static void test_size_caps(void **state)
{
        struct proto_batch b = {0};
        char err[256], *json, *body;

        json = big_batch(PROTO_BATCH_MAX);
        assert_int_equal(decode_str(json, &b, err, sizeof(err)), 0);
        assert_int_equal(b.n_votes, PROTO_BATCH_MAX);
        /* the same id twice is not the decoder's business: the store answers "duplicate" */
        assert_string_equal(b.votes[PROTO_BATCH_MAX - 1].error, "");
        free(json);
        json = NULL;
        assert_int_equal(proto_batch_encode(&b, &json), 0);
        free(json);
        b.n_votes++;
        assert_int_equal(proto_batch_encode(&b, &json), -EINVAL);
        b.n_votes--;
        proto_batch_finish(&b);

        json = big_batch(PROTO_BATCH_MAX + 1);
        assert_int_equal(decode_str(json, &b, err, sizeof(err)), -EMSGSIZE);
        assert_string_equal(err, "votes: more than 1000 votes in one batch");
        free(json);

        /* the body cap comes before any parsing: valid JSON padded with whitespace */
        body = malloc(PROTO_BODY_MAX + 1);
        assert_non_null(body);
        memset(body, ' ', PROTO_BODY_MAX + 1);
        memcpy(body, BATCH(""), strlen(BATCH("")));
        assert_int_equal(proto_batch_decode(body, PROTO_BODY_MAX, &b, err, sizeof(err)), 0);
        proto_batch_finish(&b);
        assert_int_equal(proto_batch_decode(body, PROTO_BODY_MAX + 1, &b, err, sizeof(err)),
                         -EMSGSIZE);
        assert_string_equal(err, "body: larger than 1048576 bytes");
        free(body);
}

static void test_batch_decode_not_nul_terminated(void **state)
{
        static const char text[] = BATCH(VOTE(ID0)) "garbage";
        struct proto_batch b = {0};
        char *copy, err[256];
        size_t len = strlen(BATCH(VOTE(ID0)));

        copy = malloc(len); /* exactly the body: ASan catches any read past it */
        assert_non_null(copy);
        memcpy(copy, text, len);
        assert_int_equal(proto_batch_decode(copy, len, &b, err, sizeof(err)), 0);
        assert_int_equal(b.n_votes, 1);
        proto_batch_finish(&b);
        free(copy);
}

static void test_batch_encode_refuses_bad_strings(void **state)
{
        struct proto_vote v;
        struct proto_batch b = {.sent_at_ms = T_OK, .n_votes = 1, .votes = &v};
        char *json = NULL;

        memset(&v, 0, sizeof(v));
        strcpy(b.terminal, "T1");
        fill_vote(&v.vote, ID0, 1, "W01", "", T_OK);
        strcpy(v.vote.employee, "\xff\xfe");
        assert_int_equal(proto_batch_encode(&b, &json), -EINVAL);
        assert_null(json);

        fill_vote(&v.vote, ID0, 1, "W01", "", T_OK);
        memset(b.terminal, 'x', sizeof(b.terminal)); /* not terminated */
        assert_int_equal(proto_batch_encode(&b, &json), -EINVAL);
        assert_null(json);

        b.votes = NULL;
        assert_int_equal(proto_batch_encode(&b, &json), -EINVAL);
}

static void test_batch_finish(void **state)
{
        struct proto_batch zero = {0}, b = {0};
        char err[256];

        proto_batch_finish(NULL);
        proto_batch_finish(&zero);
        proto_batch_finish(&zero); /* twice is fine: it zeroes */
        assert_int_equal(decode_str(BATCH(VOTE(ID0) "," VOTE(ID1)), &b, err, sizeof(err)), 0);
        proto_batch_finish(&b);
        assert_null(b.votes);
        assert_int_equal(b.n_votes, 0);
        assert_string_equal(b.terminal, "");
        proto_batch_finish(&b);
}

static void test_ack_round_trip(void **state)
{
        struct proto_result res[3];
        struct proto_ack in = {.server_time_ms = T_OK + 9, .n_results = 3, .results = res};
        struct proto_ack out = {0};
        char err[256], *json = NULL;

        memset(res, 0, sizeof(res));
        res[0] = (struct proto_result){.index = 0, .status = PROTO_STORED};
        strcpy(res[0].id.s, ID0);
        res[1] = (struct proto_result){.index = 1, .status = PROTO_DUPLICATE};
        strcpy(res[1].id.s, ID1);
        res[2] = (struct proto_result){.index = 2, .status = PROTO_REJECTED};
        strcpy(res[2].reason, "votes[2].id: must be a lower-case UUID");

        assert_int_equal(proto_ack_encode(&in, &json), 0);
        assert_string_equal(json, "{\"protocol\":1,\"server_time\":1750000000009,\"results\":["
                                  "{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"stored\"},"
                                  "{\"index\":1,\"id\":\"" ID1 "\",\"status\":\"duplicate\"},"
                                  "{\"index\":2,\"id\":\"\",\"status\":\"rejected\",\"reason\":"
                                  "\"votes[2].id: must be a lower-case UUID\"}]}");
        assert_int_equal(proto_ack_decode(json, strlen(json), &out, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_int_equal(out.server_time_ms, T_OK + 9);
        assert_int_equal(out.n_results, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(out.results[i].index, i);
                assert_int_equal(out.results[i].status, res[i].status);
                assert_string_equal(out.results[i].id.s, res[i].id.s);
                assert_string_equal(out.results[i].reason, res[i].reason);
        }
        proto_ack_finish(&out);
        assert_null(out.results);
        free(json);

        /* an empty answer to an empty batch */
        in.n_results = 0;
        in.results = NULL;
        assert_int_equal(proto_ack_encode(&in, &json), 0);
        assert_string_equal(json, "{\"protocol\":1,\"server_time\":1750000000009,\"results\":[]}");
        assert_int_equal(proto_ack_decode(json, strlen(json), &out, err, sizeof(err)), 0);
        assert_int_equal(out.n_results, 0);
        proto_ack_finish(&out);
        free(json);
}

static const struct envelope_case ack_cases[] = {
    {"[]", -EINVAL, "body: expected a JSON object", 0},
    {"{\"protocol\":2}", -EINVAL, "protocol: unsupported version 2", 0},
    {"{\"server_time\":" T_OK_S ",\"results\":[]}", -EINVAL, "protocol: missing", 0},
    {"{\"protocol\":1,\"server_time\":" T_OK_S ",\"results\":[],\"error\":\"x\"}", -EINVAL,
     "body: unknown key \"error\"", 0},
    {"{\"protocol\":1,\"results\":[]}", -EINVAL, "server_time: missing", 0},
    {"{\"protocol\":1,\"server_time\":\"" T_OK_S "\",\"results\":[]}", -EINVAL,
     "server_time: expected an integer", 0},
    {"{\"protocol\":1,\"server_time\":0,\"results\":[]}", -EINVAL, "server_time: before 2020-01-01",
     0},
    {"{\"protocol\":1,\"server_time\":4102444800001,\"results\":[]}", -EINVAL,
     "server_time: after 2100-01-01", 0},
    {"{\"protocol\":1,\"server_time\":" T_OK_S "}", -EINVAL, "results: missing", 0},
    {"{\"protocol\":1,\"server_time\":" T_OK_S ",\"results\":7}", -EINVAL,
     "results: expected an array", 0},
    {ACK(STORED(0, ID0) ",3"), -EINVAL, "results[1]: expected an object", 0},
    {ACK(STORED(0, ID0) "," STORED(2, ID1)), -EINVAL, "results[1].index: expected 1", 0},
    {ACK("{\"id\":\"" ID0 "\",\"status\":\"stored\"}"), -EINVAL, "results[0].index: missing", 0},
    {ACK("{\"index\":-1,\"id\":\"" ID0 "\",\"status\":\"stored\"}"), -EINVAL,
     "results[0].index: expected 0", 0},
    {ACK("{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"ok\"}"), -EINVAL,
     "results[0].status: must be \"stored\", \"duplicate\" or \"rejected\"", 0},
    {ACK("{\"index\":0,\"id\":\"" ID0 "\",\"status\":0}"), -EINVAL,
     "results[0].status: expected a string", 0},
    {ACK("{\"index\":0,\"id\":\"\",\"status\":\"stored\"}"), -EINVAL,
     "results[0].id: empty but the vote was stored", 0},
    {ACK("{\"index\":0,\"status\":\"duplicate\"}"), -EINVAL, "results[0].id: missing", 0},
    {ACK("{\"index\":0,\"id\":\"x\",\"status\":\"rejected\",\"reason\":\"r\"}"), -EINVAL,
     "results[0].id: must be a lower-case UUID or empty", 0},
    {ACK("{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"rejected\"}"), -EINVAL,
     "results[0].reason: missing", 0},
    {ACK("{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"rejected\",\"reason\":\"\"}"), -EINVAL,
     "results[0].reason: must be 1 to 159 bytes without control characters", 0},
    {ACK("{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"rejected\",\"reason\":\"a\\u001bb\"}"),
     -EINVAL, "results[0].reason: must be 1 to 159 bytes without control characters", 0},
    {ACK("{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"stored\",\"reason\":\"fine\"}"), -EINVAL,
     "results[0].reason: only allowed when rejected", 0},
    {ACK("{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"stored\",\"note\":1}"), -EINVAL,
     "results[0]: unknown key \"note\"", 0},
    /* an event result is held to the same rules, and one bad one fails the whole ack */
    {"{\"protocol\":1,\"server_time\":" T_OK_S ",\"results\":[],\"events\":{}}", -EINVAL,
     "events: expected an array", 0},
    {ACK_EV(STORED(0, ID0), "5"), -EINVAL, "events[0]: expected an object", 0},
    {ACK_EV(STORED(0, ID0), STORED(1, EID0)), -EINVAL, "events[0].index: expected 0", 0},
    {ACK_EV(STORED(0, ID0), STORED(0, EID0) "," STORED(2, EID1)), -EINVAL,
     "events[1].index: expected 1", 0},
    {ACK_EV(STORED(0, ID0), STORED(0, EID0) ",{\"index\":1,\"id\":\"" EID1 "\",\"status\":\"ok\"}"),
     -EINVAL, "events[1].status: must be \"stored\", \"duplicate\" or \"rejected\"", 0},
    {ACK_EV("", "{\"index\":0,\"id\":\"" EID0 "\",\"status\":\"rejected\"}"), -EINVAL,
     "events[0].reason: missing", 0},
    {ACK_EV("", "{\"index\":0,\"id\":\"" EID0 "\",\"status\":\"stored\",\"reason\":\"x\"}"),
     -EINVAL, "events[0].reason: only allowed when rejected", 0},
    {ACK_EV("", "{\"index\":0,\"id\":\"\",\"status\":\"duplicate\"}"), -EINVAL,
     "events[0].id: empty but the vote was duplicate", 0},
    {ACK_EV("", "{\"index\":0,\"id\":\"e1\",\"status\":\"stored\"}"), -EINVAL,
     "events[0].id: must be a lower-case UUID or empty", 0},
    {ACK_EV("", "{\"index\":0,\"id\":\"" EID0 "\",\"status\":\"stored\",\"kind\":\"x\"}"), -EINVAL,
     "events[0]: unknown key \"kind\"", 0},
};

static void test_ack_errors(void **state)
{
        for (size_t i = 0; i < sizeof(ack_cases) / sizeof(ack_cases[0]); i++) {
                const struct envelope_case *c = &ack_cases[i];
                struct proto_ack a, untouched;
                char err[256];
                int r;

                memset(&a, 0x5a, sizeof(a));
                untouched = a;
                r = proto_ack_decode(c->json, strlen(c->json), &a, err, sizeof(err));
                print_message("case %zu: %s -> %d %s\n", i, c->json, r, err);
                assert_int_equal(r, c->r);
                assert_string_equal(err, c->message);
                assert_memory_equal(&a, &untouched, sizeof(a));
        }
}

/* An ack of n bare results, in a malloc'd string: enough to trip the count cap. */
static char *big_ack(size_t n)
{
        size_t cap = 128 + n * 32, len;
        char *s = malloc(cap);

        assert_non_null(s);
        len = (size_t)snprintf(s, cap, "{\"protocol\":1,\"server_time\":" T_OK_S ",\"results\":[");
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(s + len, cap - len, "%s{\"index\":%zu}", i ? "," : "", i);
        snprintf(s + len, cap - len, "]}");
        return s;
}

static void test_ack_limits(void **state)
{
        char reason[PROTO_REASON_MAX + 1], json[1024], err[256];
        struct proto_result *res = calloc(PROTO_BATCH_MAX + 1, sizeof(*res));
        struct proto_ack a = {.server_time_ms = T_OK, .results = res}, out = {0};
        char *text = NULL;

        /* a reason of 159 bytes passes, 160 does not; UTF-8 is fine */
        memset(reason, 'r', sizeof(reason));
        memcpy(reason, "\xd0\xb4", 2);
        reason[PROTO_REASON_MAX - 1] = 0;
        snprintf(json, sizeof(json),
                 ACK("{\"index\":0,\"id\":\"\",\"status\":\"rejected\",\"reason\":\"%s\"}"),
                 reason);
        assert_int_equal(proto_ack_decode(json, strlen(json), &out, err, sizeof(err)), 0);
        assert_string_equal(out.results[0].reason, reason);
        proto_ack_finish(&out);
        reason[PROTO_REASON_MAX - 1] = 'r';
        reason[PROTO_REASON_MAX] = 0;
        snprintf(json, sizeof(json),
                 ACK("{\"index\":0,\"id\":\"\",\"status\":\"rejected\",\"reason\":\"%s\"}"),
                 reason);
        assert_int_equal(proto_ack_decode(json, strlen(json), &out, err, sizeof(err)), -EINVAL);
        assert_string_equal(err,
                            "results[0].reason: must be 1 to 159 bytes without control characters");

        /* 1000 results pass, 1001 do not, neither way */
        assert_non_null(res);
        for (size_t i = 0; i <= PROTO_BATCH_MAX; i++) {
                res[i].index = i;
                res[i].status = PROTO_DUPLICATE;
                strcpy(res[i].id.s, ID2);
        }
        a.n_results = PROTO_BATCH_MAX + 1;
        assert_int_equal(proto_ack_encode(&a, &text), -EINVAL);
        a.n_results = PROTO_BATCH_MAX;
        assert_int_equal(proto_ack_encode(&a, &text), 0);
        assert_int_equal(proto_ack_decode(text, strlen(text), &out, err, sizeof(err)), 0);
        assert_int_equal(out.n_results, PROTO_BATCH_MAX);
        proto_ack_finish(&out);
        free(text);
        free(res);

        text = big_ack(PROTO_BATCH_MAX + 1);
        assert_int_equal(proto_ack_decode(text, strlen(text), &out, err, sizeof(err)), -EMSGSIZE);
        assert_string_equal(err, "results: more than 1000 results in one answer");
        free(text);
}

static void test_ack_encode_refuses_what_decode_would(void **state)
{
        struct proto_result res = {.index = 0, .status = PROTO_STORED};
        struct proto_ack a = {.server_time_ms = T_OK, .n_results = 1, .results = &res};
        char *json = NULL;

        strcpy(res.id.s, ID0);
        res.index = 1; /* out of order */
        assert_int_equal(proto_ack_encode(&a, &json), -EINVAL);
        res.index = 0;
        res.status = (enum proto_status)7;
        assert_int_equal(proto_ack_encode(&a, &json), -EINVAL);
        res.status = PROTO_REJECTED; /* without a reason */
        assert_int_equal(proto_ack_encode(&a, &json), -EINVAL);
        strcpy(res.reason, "employee: unknown personal number");
        res.id.s[0] = 0;
        assert_int_equal(proto_ack_encode(&a, &json), 0);
        free(json);
        json = NULL;
        res.status = PROTO_STORED; /* stored, but no id */
        assert_int_equal(proto_ack_encode(&a, &json), -EINVAL);
        assert_null(json);
}

static void test_ack_finish(void **state)
{
        struct proto_ack zero = {0}, a = {0};
        const char *json = ACK(STORED(0, ID0));

        proto_ack_finish(NULL);
        proto_ack_finish(&zero);
        assert_int_equal(proto_ack_decode(json, strlen(json), &a, NULL, 0), 0);
        assert_int_equal(a.n_results, 1);
        assert_int_equal(a.results[0].status, PROTO_STORED);
        assert_string_equal(a.results[0].id.s, ID0);
        proto_ack_finish(&a);
        assert_null(a.results);
        assert_int_equal(a.n_results, 0);
}

static void test_error_body_and_status_names(void **state)
{
        char *json = NULL;

        assert_int_equal(proto_error_encode("votes: missing", &json), 0);
        assert_string_equal(json, "{\"protocol\":1,\"error\":\"votes: missing\"}");
        free(json);
        assert_int_equal(proto_error_encode("say \"hi\"\n", &json), 0);
        assert_string_equal(json, "{\"protocol\":1,\"error\":\"say \\\"hi\\\"\\n\"}");
        free(json);

        assert_string_equal(proto_status_to_string(PROTO_STORED), "stored");
        assert_string_equal(proto_status_to_string(PROTO_DUPLICATE), "duplicate");
        assert_string_equal(proto_status_to_string(PROTO_REJECTED), "rejected");
        assert_null(proto_status_to_string((enum proto_status)3));
        assert_null(proto_status_to_string((enum proto_status) - 1));
}

static void test_error_decode(void **state)
{
        char *json = NULL, buf[16];

        assert_int_equal(proto_error_encode("votes: missing", &json), 0);
        assert_int_equal(proto_error_decode(json, strlen(json), buf, sizeof(buf)), 0);
        assert_string_equal(buf, "votes: missing");
        free(json);
        /* a person reads it: non-ASCII and control bytes are masked, and it is cut to fit */
        assert_int_equal(proto_error_encode("Термінал\nвідкликано", &json), 0);
        assert_int_equal(proto_error_decode(json, strlen(json), buf, sizeof(buf)), 0);
        assert_string_equal(buf, "???????????????");
        free(json);
        /* a body that is not an error object (a proxy's page) is quoted as it is */
        assert_int_equal(proto_error_decode("<h1>Bad\tGateway</h1>", 21, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "<h1>Bad?Gateway");
        assert_int_equal(proto_error_decode("", 0, buf, sizeof(buf)), -ENODATA);
        assert_string_equal(buf, "");
}

static void fill_event(struct vote_event *e, const char *id, const char *kind, const char *employee,
                       const char *shift, const char *detail, int64_t at, const char *boot,
                       int64_t mono)
{
        memset(e, 0, sizeof(*e));
        strcpy(e->id.s, id);
        strcpy(e->kind, kind);
        strcpy(e->employee, employee);
        strcpy(e->shift, shift);
        strcpy(e->detail, detail);
        e->at_ms = at;
        strcpy(e->boot, boot);
        e->mono_ms = mono;
}

static void assert_same_event(const struct vote_event *a, const struct vote_event *b)
{
        assert_string_equal(a->id.s, b->id.s);
        assert_string_equal(a->kind, b->kind);
        assert_string_equal(a->employee, b->employee);
        assert_string_equal(a->shift, b->shift);
        assert_string_equal(a->detail, b->detail);
        assert_int_equal(a->at_ms, b->at_ms);
        assert_string_equal(a->boot, b->boot);
        assert_int_equal(a->mono_ms, b->mono_ms);
}

/* Everything protocol.md's "Batch", "Clocks" and "Fleet status" add: the batch's boot and
 * mono, votes kept but suppressed with their own clock pair, events, the status report. */
static void test_batch_round_trip_clocks_events_status(void **state)
{
        struct proto_vote votes[2];
        struct proto_event events[3];
        struct proto_batch in = {.sent_at_ms = T_OK + 10,
                                 .mono_ms = 9007199254740991LL,
                                 .n_votes = 2,
                                 .votes = votes,
                                 .n_events = 3,
                                 .events = events},
                           out = {0};
        char err[256] = "stale", *json = NULL;

        memset(votes, 0, sizeof(votes));
        strcpy(in.terminal, "T1");
        strcpy(in.boot, BOOT);
        in.status = (struct proto_status_report){
            .present = true, .queue = 12, .rejected = 1, .clock_offset_ms = -3100};
        strcpy(in.status.version, "0.2.0");
        strcpy(in.status.last_error, "collector: 503 Service Unavailable");
        fill_vote(&votes[0].vote, ID0, 3, "W01", SHIFT, T_OK);
        strcpy(votes[0].vote.boot, BOOT);
        votes[0].vote.mono_ms = 0;
        fill_vote(&votes[1].vote, ID1, 1, "W01", SHIFT, T_OK + 1);
        strcpy(votes[1].vote.suppressed, VOTE_SUPPRESSED_MIN_INTERVAL);
        strcpy(votes[1].vote.boot, BOOT);
        votes[1].vote.mono_ms = 123456;
        fill_event(&events[0].event, EID0, VOTE_EVENT_SHIFT_OPEN, "E001", SHIFT, "pin", T_OK - 1,
                   BOOT, 120000);
        fill_event(&events[1].event, EID1, VOTE_EVENT_PIN_LOCKOUT, "E002", "", "300", T_OK + 2, "",
                   0);
        fill_event(&events[2].event, EID2, "a_new_kind_9", "", "", "", T_OK + 3, "", 0);
        strcpy(events[2].error, "not encoded");

        assert_int_equal(proto_batch_encode(&in, &json), 0);
        assert_string_equal(
            json, "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":1750000000010,\"votes\":["
                  "{\"id\":\"" ID0 "\",\"level\":3,\"channel\":\"terminal\",\"employee\":\"E001\","
                  "\"workplace\":\"W01\",\"shift\":\"" SHIFT "\",\"cast_at\":1750000000000,"
                  "\"boot\":\"" BOOT "\",\"mono\":0},"
                  "{\"id\":\"" ID1 "\",\"level\":1,\"channel\":\"terminal\",\"employee\":\"E001\","
                  "\"workplace\":\"W01\",\"shift\":\"" SHIFT "\",\"cast_at\":1750000000001,"
                  "\"suppressed\":\"min_interval\",\"boot\":\"" BOOT "\",\"mono\":123456}],"
                  "\"boot\":\"" BOOT "\",\"mono\":9007199254740991,"
                  "\"status\":{\"version\":\"0.2.0\",\"queue\":12,\"rejected\":1,"
                  "\"clock_offset_ms\":-3100,\"last_error\":\"collector: 503 Service "
                  "Unavailable\"},"
                  "\"events\":[{\"id\":\"" EID0 "\",\"kind\":\"shift_open\",\"at\":1749999999999,"
                  "\"employee\":\"E001\",\"shift\":\"" SHIFT
                  "\",\"detail\":\"pin\",\"boot\":\"" BOOT "\",\"mono\":120000},"
                  "{\"id\":\"" EID1 "\",\"kind\":\"pin_lockout\",\"at\":1750000000002,"
                  "\"employee\":\"E002\",\"detail\":\"300\"},"
                  "{\"id\":\"" EID2 "\",\"kind\":\"a_new_kind_9\",\"at\":1750000000003}]}");

        assert_int_equal(decode_str(json, &out, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_string_equal(out.terminal, "T1");
        assert_int_equal(out.sent_at_ms, T_OK + 10);
        assert_string_equal(out.boot, BOOT);
        assert_int_equal(out.mono_ms, 9007199254740991LL);
        assert_true(out.status.present);
        assert_string_equal(out.status.version, "0.2.0");
        assert_int_equal(out.status.queue, 12);
        assert_int_equal(out.status.rejected, 1);
        assert_int_equal(out.status.clock_offset_ms, -3100);
        assert_string_equal(out.status.last_error, "collector: 503 Service Unavailable");
        assert_int_equal(out.n_votes, 2);
        for (size_t i = 0; i < 2; i++) {
                const struct vote *a = &votes[i].vote, *b = &out.votes[i].vote;

                assert_string_equal(out.votes[i].error, "");
                assert_string_equal(a->id.s, b->id.s);
                assert_int_equal(a->level, b->level);
                assert_string_equal(a->shift, b->shift);
                assert_int_equal(a->cast_at_ms, b->cast_at_ms);
                assert_string_equal(a->suppressed, b->suppressed);
                assert_string_equal(a->boot, b->boot);
                assert_int_equal(a->mono_ms, b->mono_ms);
        }
        assert_int_equal(out.n_events, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_string_equal(out.events[i].error, "");
                assert_same_event(&events[i].event, &out.events[i].event);
        }
        proto_batch_finish(&out);
        assert_null(out.events);
        assert_int_equal(out.n_events, 0);
        free(json);

        /* an old-style batch: no clock pair, no events, no status */
        assert_int_equal(decode_str(BATCH(VOTE(ID0)), &out, err, sizeof(err)), 0);
        assert_string_equal(out.boot, "");
        assert_int_equal(out.mono_ms, 0);
        assert_false(out.status.present);
        assert_int_equal(out.n_events, 0);
        assert_null(out.events);
        assert_string_equal(out.votes[0].vote.suppressed, "");
        assert_string_equal(out.votes[0].vote.boot, "");
        proto_batch_finish(&out);

        /* an empty events array and an empty status object are fine */
        assert_int_equal(
            decode_str(BATCH_WITH("\"events\":[],\"status\":{}"), &out, err, sizeof(err)), 0);
        assert_int_equal(out.n_events, 0);
        assert_true(out.status.present);
        assert_string_equal(out.status.version, "");
        proto_batch_finish(&out);
}

/* Encoders leave out what is empty: the doc's "encoders leave out an empty workplace/shift",
 * and likewise suppressed, boot and mono, an event's employee, shift and detail, an absent
 * status, no events, and an ack's event results when there are none. */
static void test_encoder_leaves_out_empty_optionals(void **state)
{
        struct proto_vote vote;
        struct proto_event event;
        struct proto_batch b = {.sent_at_ms = T_OK,
                                .mono_ms = 77,
                                .n_votes = 1,
                                .votes = &vote,
                                .n_events = 0,
                                .events = &event};
        struct proto_result res = {.index = 0, .status = PROTO_STORED};
        struct proto_ack a = {.server_time_ms = T_OK,
                              .n_results = 1,
                              .results = &res,
                              .n_event_results = 0,
                              .event_results = &res};
        char *json = NULL;

        memset(&vote, 0, sizeof(vote));
        strcpy(b.terminal, "T1");
        fill_vote(&vote.vote, ID0, 2, "", "", T_OK);
        vote.vote.mono_ms = 5;             /* without a boot the mono means nothing: left out */
        strcpy(b.status.version, "0.2.0"); /* not present: not encoded */
        assert_int_equal(proto_batch_encode(&b, &json), 0);
        assert_string_equal(json, "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S
                                  ",\"votes\":[{\"id\":\"" ID0 "\",\"level\":2,\"channel\":"
                                  "\"terminal\",\"employee\":\"E001\",\"cast_at\":" T_OK_S "}]}");
        free(json);

        /* an event with nothing optional: id, kind and at only */
        memset(&event, 0, sizeof(event));
        fill_event(&event.event, EID0, VOTE_EVENT_SHIFT_CLOSE, "", "", "", T_OK, "", 42);
        b.n_votes = 0;
        b.n_events = 1;
        assert_int_equal(proto_batch_encode(&b, &json), 0);
        assert_string_equal(json, "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S
                                  ",\"votes\":[],\"events\":[{\"id\":\"" EID0
                                  "\",\"kind\":\"shift_close\",\"at\":" T_OK_S "}]}");
        free(json);

        /* a present status keeps its empty last_error: the doc's example carries it */
        b.n_events = 0;
        b.status.present = true;
        assert_int_equal(proto_batch_encode(&b, &json), 0);
        assert_string_equal(json, "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S
                                  ",\"votes\":[],\"status\":{\"version\":\"0.2.0\",\"queue\":0,"
                                  "\"rejected\":0,\"clock_offset_ms\":0,\"last_error\":\"\"}}");
        free(json);

        strcpy(res.id.s, ID0);
        assert_int_equal(proto_ack_encode(&a, &json), 0);
        assert_string_equal(json, ACK(STORED(0, ID0)));
        free(json);
}

struct event_case {
        const char *event; /* the JSON of the middle event of three */
        const char *error; /* expected, for events[1] */
        const char *id;    /* the id the decoder must still have read, or "" */
};

#define EV(fields) "{\"id\":\"" EID1 "\"," fields "}"
#define EV_REST "\"kind\":\"shift_open\",\"at\":" T_OK_S

static const struct event_case event_cases[] = {
    {"5", "events[1]: expected an object", ""},
    {"[]", "events[1]: expected an object", ""},
    {EV(EV_REST ",\"colour\":\"red\""), "events[1]: unknown key \"colour\"", EID1},
    {"{" EV_REST "}", "events[1].id: missing", ""},
    {"{\"id\":5," EV_REST "}", "events[1].id: expected a string", ""},
    {"{\"id\":\"" ID1 "0\"," EV_REST "}", "events[1].id: must be a lower-case UUID", ""},
    {EV("\"at\":" T_OK_S), "events[1].kind: missing", EID1},
    {EV("\"kind\":\"Shift_Open\",\"at\":" T_OK_S), "events[1].kind: must be 1 to 32 of a-z 0-9 _",
     EID1},
    {EV("\"kind\":\"shift-open\",\"at\":" T_OK_S), "events[1].kind: must be 1 to 32 of a-z 0-9 _",
     EID1},
    {EV("\"kind\":\"\",\"at\":" T_OK_S), "events[1].kind: must be 1 to 32 of a-z 0-9 _", EID1},
    {EV("\"kind\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"at\":" T_OK_S),
     "events[1].kind: must be 1 to 32 of a-z 0-9 _", EID1},
    {EV("\"kind\":1,\"at\":" T_OK_S), "events[1].kind: expected a string", EID1},
    {EV("\"kind\":\"shift_open\""), "events[1].at: missing", EID1},
    {EV("\"kind\":\"shift_open\",\"at\":\"now\""), "events[1].at: expected an integer", EID1},
    {EV("\"kind\":\"shift_open\",\"at\":1577836799999"), "events[1].at: before 2020-01-01", EID1},
    {EV("\"kind\":\"shift_open\",\"at\":9223372036854775807"),
     "events[1].at: more than 10 years in the future", EID1},
    {EV(EV_REST ",\"employee\":\"E 1\""),
     "events[1].employee: must be 1 to 64 of A-Z a-z 0-9 . _ -", EID1},
    {EV(EV_REST ",\"employee\":5"), "events[1].employee: expected a string", EID1},
    {EV(EV_REST ",\"shift\":\"morning\""), "events[1].shift: must be a lower-case UUID or empty",
     EID1},
    {EV(EV_REST ",\"detail\":\"\\u00e9\""), "events[1].detail: must be printable ASCII", EID1},
    {EV(EV_REST ",\"detail\":\"a\\nb\""), "events[1].detail: must be printable ASCII", EID1},
    {EV(EV_REST ",\"detail\":\"0123456789012345678901234567890123456789012345678901234567890123\""),
     "events[1].detail: longer than 63 bytes", EID1},
    {EV(EV_REST ",\"detail\":300"), "events[1].detail: expected a string", EID1},
    {EV(EV_REST ",\"boot\":\"x\""), "events[1].boot: must be a lower-case UUID or empty", EID1},
    {EV(EV_REST ",\"mono\":-1"), "events[1].mono: " MONO_RULE, EID1},
    {EV(EV_REST ",\"mono\":1.5"), "events[1].mono: expected an integer", EID1},
};

static void check_good_event(const struct proto_event *pe, const char *id)
{
        assert_string_equal(pe->error, "");
        assert_string_equal(pe->event.id.s, id);
        assert_string_equal(pe->event.kind, "shift_open");
        assert_int_equal(pe->event.at_ms, T_OK);
        assert_string_equal(pe->event.employee, "E001");
        assert_string_equal(pe->event.shift, SHIFT);
        assert_string_equal(pe->event.detail, "pin");
}

static void test_event_errors_spoil_only_their_event(void **state)
{
        for (size_t i = 0; i < sizeof(event_cases) / sizeof(event_cases[0]); i++) {
                const struct event_case *c = &event_cases[i];
                struct proto_batch b = {0};
                char json[4096], err[256];

                snprintf(json, sizeof(json),
                         "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S
                         ",\"votes\":[" VOTE(ID0) "," VOTE(ID2) "],\"events\":[" EVENT(
                             EID0) ",%s," EVENT(EID2) "]}",
                         c->event);
                print_message("case %zu: %s\n", i, c->event);
                assert_int_equal(decode_str(json, &b, err, sizeof(err)), 0);
                assert_string_equal(err, "");
                /* every vote still decodes */
                assert_int_equal(b.n_votes, 2);
                check_good(&b.votes[0], ID0);
                check_good(&b.votes[1], ID2);
                /* and the other events */
                assert_int_equal(b.n_events, 3);
                check_good_event(&b.events[0], EID0);
                check_good_event(&b.events[2], EID2);
                assert_string_equal(b.events[1].error, c->error);
                assert_string_equal(b.events[1].event.id.s, c->id);
                proto_batch_finish(&b);
        }
}

/* A batch of one vote and n copies of one valid event, in a malloc'd string. */
static char *many_events(size_t n)
{
        static const char event[] = EVENT(EID0);
        size_t cap = 256 + sizeof(VOTE(ID0)) + n * sizeof(event), len;
        char *s = malloc(cap);

        assert_non_null(s);
        len = (size_t)snprintf(s, cap,
                               "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":" T_OK_S
                               ",\"votes\":[" VOTE(ID0) "],\"events\":[");
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", event);
        snprintf(s + len, cap - len, "]}");
        return s;
}

static void test_event_and_status_caps(void **state)
{
        struct proto_batch b = {0}, untouched;
        char err[256], *json, last_error[PROTO_REASON_MAX + 1], body[1024];

        json = many_events(PROTO_BATCH_MAX);
        assert_int_equal(decode_str(json, &b, err, sizeof(err)), 0);
        assert_int_equal(b.n_events, PROTO_BATCH_MAX);
        free(json);
        json = NULL;
        assert_int_equal(proto_batch_encode(&b, &json), 0);
        free(json);
        b.n_events++;
        assert_int_equal(proto_batch_encode(&b, &json), -EINVAL);
        b.n_events--;
        proto_batch_finish(&b);

        json = many_events(PROTO_BATCH_MAX + 1);
        memset(&b, 0xa5, sizeof(b));
        untouched = b;
        assert_int_equal(decode_str(json, &b, err, sizeof(err)), -EMSGSIZE);
        assert_string_equal(err, "events: more than 1000 events in one batch");
        assert_memory_equal(&b, &untouched, sizeof(b));
        free(json);

        /* status.last_error: 159 bytes pass, 160 do not */
        memset(last_error, 'e', sizeof(last_error));
        last_error[PROTO_REASON_MAX - 1] = 0;
        snprintf(body, sizeof(body), STATUS("\"last_error\":\"%s\""), last_error);
        assert_int_equal(decode_str(body, &b, err, sizeof(err)), 0);
        assert_string_equal(b.status.last_error, last_error);
        proto_batch_finish(&b);
        last_error[PROTO_REASON_MAX - 1] = 'e';
        last_error[PROTO_REASON_MAX] = 0;
        snprintf(body, sizeof(body), STATUS("\"last_error\":\"%s\""), last_error);
        assert_int_equal(decode_str(body, &b, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "status.last_error: longer than 159 bytes");

        /* the extremes that pass */
        assert_int_equal(decode_str(STATUS("\"version\":\"0123456789012345678901234567890\","
                                           "\"queue\":9007199254740991,\"rejected\":0,"
                                           "\"clock_offset_ms\":-315619200000"),
                                    &b, err, sizeof(err)),
                         0);
        assert_int_equal(b.status.queue, 9007199254740991LL);
        assert_int_equal(b.status.clock_offset_ms, -315619200000LL);
        proto_batch_finish(&b);
}

static void test_ack_round_trip_with_events(void **state)
{
        struct proto_result res[2], ev[3];
        struct proto_ack in = {.server_time_ms = T_OK + 9,
                               .n_results = 2,
                               .results = res,
                               .n_event_results = 3,
                               .event_results = ev},
                         out = {0};
        char err[256], *json = NULL;

        memset(res, 0, sizeof(res));
        memset(ev, 0, sizeof(ev));
        res[0] = (struct proto_result){.index = 0, .status = PROTO_STORED};
        strcpy(res[0].id.s, ID0);
        res[1] = (struct proto_result){.index = 1, .status = PROTO_DUPLICATE};
        strcpy(res[1].id.s, ID1);
        ev[0] = (struct proto_result){.index = 0, .status = PROTO_STORED};
        strcpy(ev[0].id.s, EID0);
        ev[1] = (struct proto_result){.index = 1, .status = PROTO_DUPLICATE};
        strcpy(ev[1].id.s, EID1);
        ev[2] = (struct proto_result){.index = 2, .status = PROTO_REJECTED};
        strcpy(ev[2].id.s, EID2);
        strcpy(ev[2].reason, "events[2].kind: must be 1 to 32 of a-z 0-9 _");

        assert_int_equal(proto_ack_encode(&in, &json), 0);
        assert_string_equal(
            json, "{\"protocol\":1,\"server_time\":1750000000009,\"results\":["
                  "{\"index\":0,\"id\":\"" ID0 "\",\"status\":\"stored\"},"
                  "{\"index\":1,\"id\":\"" ID1 "\",\"status\":\"duplicate\"}],\"events\":["
                  "{\"index\":0,\"id\":\"" EID0 "\",\"status\":\"stored\"},"
                  "{\"index\":1,\"id\":\"" EID1 "\",\"status\":\"duplicate\"},"
                  "{\"index\":2,\"id\":\"" EID2 "\",\"status\":\"rejected\",\"reason\":"
                  "\"events[2].kind: must be 1 to 32 of a-z 0-9 _\"}]}");
        assert_int_equal(proto_ack_decode(json, strlen(json), &out, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_int_equal(out.server_time_ms, T_OK + 9);
        assert_int_equal(out.n_results, 2);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(out.results[i].index, i);
                assert_int_equal(out.results[i].status, res[i].status);
                assert_string_equal(out.results[i].id.s, res[i].id.s);
        }
        assert_int_equal(out.n_event_results, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(out.event_results[i].index, i);
                assert_int_equal(out.event_results[i].status, ev[i].status);
                assert_string_equal(out.event_results[i].id.s, ev[i].id.s);
                assert_string_equal(out.event_results[i].reason, ev[i].reason);
        }
        proto_ack_finish(&out);
        assert_null(out.event_results);
        assert_int_equal(out.n_event_results, 0);
        free(json);

        /* an ack without events (to a batch without them), and one with an empty array */
        assert_int_equal(proto_ack_decode(ACK(STORED(0, ID0)), strlen(ACK(STORED(0, ID0))), &out,
                                          err, sizeof(err)),
                         0);
        assert_int_equal(out.n_event_results, 0);
        assert_null(out.event_results);
        proto_ack_finish(&out);
        json = ACK_EV(STORED(0, ID0), "");
        assert_int_equal(proto_ack_decode(json, strlen(json), &out, err, sizeof(err)), 0);
        assert_int_equal(out.n_results, 1);
        assert_int_equal(out.n_event_results, 0);
        proto_ack_finish(&out);

        /* the encoder refuses an event result the decoder would */
        json = NULL;
        ev[1].index = 2;
        assert_int_equal(proto_ack_encode(&in, &json), -EINVAL);
        ev[1].index = 1;
        ev[2].reason[0] = 0;
        assert_int_equal(proto_ack_encode(&in, &json), -EINVAL);
        assert_null(json);
        in.n_event_results = PROTO_BATCH_MAX + 1;
        assert_int_equal(proto_ack_encode(&in, &json), -EINVAL);
        in.n_event_results = 1;
        in.event_results = NULL;
        assert_int_equal(proto_ack_encode(&in, &json), -EINVAL);
        assert_null(json);
}

static void test_ack_event_results_cap(void **state)
{
        size_t n = PROTO_BATCH_MAX + 1, cap = 256 + n * 96, len; /* 77 bytes an item */
        char *s = malloc(cap), err[256];
        struct proto_ack a, untouched;

        assert_non_null(s);
        len = (size_t)snprintf(
            s, cap, "{\"protocol\":1,\"server_time\":" T_OK_S ",\"results\":[],\"events\":[");
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(
                    s + len, cap - len,
                    "%s{\"index\":%zu,\"id\":\"" EID0 "\",\"status\":\"stored\"}", i ? "," : "", i);
        snprintf(s + len, cap - len, "]}");
        memset(&a, 0x5a, sizeof(a));
        untouched = a;
        assert_int_equal(proto_ack_decode(s, strlen(s), &a, err, sizeof(err)), -EMSGSIZE);
        assert_string_equal(err, "events: more than 1000 event results in one answer");
        assert_memory_equal(&a, &untouched, sizeof(a));
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_error_decode),
            cmocka_unit_test(test_batch_round_trip),
            cmocka_unit_test(test_empty_optional_fields),
            cmocka_unit_test(test_envelope_errors),
            cmocka_unit_test(test_duplicate_keys),
            cmocka_unit_test(test_error_messages_bounded_and_printable),
            cmocka_unit_test(test_vote_errors_spoil_only_their_vote),
            cmocka_unit_test(test_cast_at_future_bound),
            cmocka_unit_test(test_size_caps),
            cmocka_unit_test(test_batch_decode_not_nul_terminated),
            cmocka_unit_test(test_batch_encode_refuses_bad_strings),
            cmocka_unit_test(test_batch_finish),
            cmocka_unit_test(test_ack_round_trip),
            cmocka_unit_test(test_ack_errors),
            cmocka_unit_test(test_ack_limits),
            cmocka_unit_test(test_ack_encode_refuses_what_decode_would),
            cmocka_unit_test(test_ack_finish),
            cmocka_unit_test(test_error_body_and_status_names),
            cmocka_unit_test(test_batch_round_trip_clocks_events_status),
            cmocka_unit_test(test_encoder_leaves_out_empty_optionals),
            cmocka_unit_test(test_event_errors_spoil_only_their_event),
            cmocka_unit_test(test_event_and_status_caps),
            cmocka_unit_test(test_ack_round_trip_with_events),
            cmocka_unit_test(test_ack_event_results_cap),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
