/* SPDX-License-Identifier: MIT */
/* Tests for the collector's pages and API through web_handle(), over a real SQLite file in a
 * temporary folder: a tiny organisation (root → child → grandchild, plus a sibling whose name
 * is HTML) seeded with the store ops, then what terminals, residents and the public see. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "collector.h"
#include "log.h"
#include "period.h"
#include "proto.h"
#include "store.h"
#include "testutil.h"
#include "web.h"
#include "webtest.h"

#define SECRET "Xq3-vR8s_p2Lm9TzK4wB"
#define SHIFT "0190a1b2-0000-7000-8000-000000000001"
#define TOK_E1 "tokChild0001"
#define TOK_E2 "tokGrand0001"
#define TOK_EVIL "tokEvil00001"
#define TOK_E4 "tokSibling01"
#define TOK_REVOKED "tokRevoked01"
/* exactly 64 characters, the longest token a vote page takes */
#define TOK_LONG "L234567890123456789012345678901234567890123456789012345678901234"

#define E2_NAME "Коваленко Олена Петрівна"
#define E2_POSITION "Адміністратор ЦНАП"
#define GRANDCHILD_NAME WEBTEST_CITY_GRANDCHILD
#define EVIL_NAME "<script>alert(1)</script> & \"Ко'\""
#define EVIL_NAME_HTML "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ко&#39;&quot;"
#define SIBLING_NAME "<img src=x onerror=alert(1)> Відділ пільг & \"Ко\""
#define SIBLING_NAME_HTML "&lt;img src=x onerror=alert(1)&gt; Відділ пільг &amp; &quot;Ко&quot;"
/* Real names longer than the store's buffers (struct store_unit_row.name, struct
 * store_employee.position), of a length that puts the cut inside a two-byte letter. */
#define LONG_UNIT_NAME                                                                                                                                                  \
        "Відділ організаційного забезпечення діяльності центру надання адміністративних "       \
        "послуг, управління «Прозорий офіс», сектору взаємодії з громадськістю та засобами "      \
        "масової інформації, відділу контролю за якістю обслуговування громадян міської ради " \
        "та її виконавчих органів, районних у місті рад і комунальних підприємств міста"
#define LONG_POSITION                                                                                                                                            \
        "Головний спеціаліст відділу організаційного забезпечення роботи центру надання " \
        "адміністративних послуг та взаємодії з територіальними громадами області"
#define TOK_LONG_NAMES "tokLongNames"

struct fixture {
        struct webtest w;         /* the database, the collector and the requests */
        struct webtest_city city; /* the sibling named SIBLING_NAME */
        int64_t long_unit;        /* below the child */
};

/* ---- the organisation ---- */

static void seed(void *fixture)
{
        struct fixture *fx = fixture;
        struct store *s = fx->w.store;
        const struct store_ops *o = s->ops;
        int64_t e1, e2, evil, e4, e5, wp;

        webtest_add_city(s, SIBLING_NAME, &fx->city);
        fx->long_unit = webtest_add_unit(s, fx->city.child, LONG_UNIT_NAME);

        e1 = webtest_add_employee(s, "E1", "Шевчук Андрій Миколайович", "Директор департаменту",
                                  fx->city.child, true);
        e2 = webtest_add_employee(s, "E2", E2_NAME, E2_POSITION, fx->city.grandchild, false);
        evil = webtest_add_employee(s, "E3", EVIL_NAME, "Спеціаліст", fx->city.grandchild, false);
        e4 = webtest_add_employee(s, "E4", "Лисенко Віктор Петрович", "Головний спеціаліст",
                                  fx->city.sibling, false);
        e5 = webtest_add_employee(s, "E5", "Мельник Тарас Іванович", LONG_POSITION, fx->long_unit,
                                  false);

        assert_int_equal(o->workplace_add(s, "W1", "Вікно 1", fx->city.grandchild, 0, &wp), 0);
        assert_int_equal(o->workplace_add(s, "W2", "Кабінет 2", fx->city.child, 0, &wp), 0);
        assert_int_equal(o->terminal_add(s, "T1", "W1", SECRET), 0);

        assert_int_equal(o->token_add(s, TOK_E1, e1, "W2", VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_E2, e2, "W1", VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_EVIL, evil, "W1", VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_E4, e4, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_LONG_NAMES, e5, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_LONG, e2, "W1", VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_REVOKED, e2, "W1", VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_revoke(s, TOK_REVOKED), 0);
        assert_int_equal(o->token_revoke(s, "tokNoSuchOne"), -ENOENT);
}

static int setup(void **state)
{
        return webtest_setup(state, sizeof(struct fixture), "otsinka-web", NULL, seed);
}

/* ---- batches ---- */

struct test_vote {
        vote_id id;
        int level;
        const char *employee;
        const char *workplace;
        int64_t cast_at_ms;
};

static int64_t now_ms(void)
{
        return (int64_t)time(NULL) * 1000;
}

static struct test_vote make_vote(int level, const char *employee, const char *workplace,
                                  int64_t cast_at_ms)
{
        struct test_vote v = {
            .level = level, .employee = employee, .workplace = workplace, .cast_at_ms = cast_at_ms};

        vote_id_new(&v.id);
        return v;
}

/* The batch's JSON, as a terminal sends it: every vote in the open shift SHIFT; level is
 * written as given, valid or not. */
static char *batch_json(const char *terminal, const struct test_vote *v, size_t n)
{
        json_t *votes = json_array(), *root;
        char *s;

        assert_non_null(votes);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(
                    json_array_append_new(
                        votes, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:I}", "id", v[i].id.s,
                                         "level", v[i].level, "channel", "terminal", "employee",
                                         v[i].employee, "workplace", v[i].workplace, "shift", SHIFT,
                                         "cast_at", (json_int_t)v[i].cast_at_ms)),
                    0);
        root = json_pack("{s:i, s:s, s:I, s:o}", "protocol", PROTO_VERSION, "terminal", terminal,
                         "sent_at", (json_int_t)now_ms(), "votes", votes);
        assert_non_null(root);
        s = json_dumps(root, JSON_COMPACT);
        assert_non_null(s);
        json_decref(root);
        return s;
}

/* Decodes the answer with the terminal's own decoder and checks it answers every vote, in
 * order, under its id. The caller finishes *ack. */
static void decode_ack(const struct web_response *resp, const struct test_vote *v, size_t n,
                       struct proto_ack *ack)
{
        char err[256] = "";
        int r;

        assert_int_equal(resp->status, 200);
        assert_string_equal(resp->content_type, "application/json");
        r = proto_ack_decode(resp->body, resp->body_len, ack, err, sizeof(err));
        if (r < 0)
                print_error("ack refused: %s\n%s\n", err, resp->body);
        assert_int_equal(r, 0);
        assert_int_equal(ack->n_results, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(ack->results[i].id.s, v[i].id.s);
}

/* Sends the batch as T1 and returns how many of its votes were answered with status. */
static size_t send_as_t1(struct fixture *fx, const struct test_vote *v, size_t n,
                         enum proto_status status)
{
        struct web_response resp;
        struct proto_ack ack = {0};
        char *body = batch_json("T1", v, n);
        size_t count = 0;

        webtest_post_api(&fx->w, "/api/v1/votes", "Bearer T1:" SECRET, "application/json", body,
                         &resp);
        decode_ack(&resp, v, n, &ack);
        for (size_t i = 0; i < n; i++)
                count += ack.results[i].status == status;
        proto_ack_finish(&ack);
        web_response_finish(&resp);
        free(body);
        return count;
}

/* ---- /healthz ---- */

static void test_healthz(void **state)
{
        struct web_response resp;

        webtest_get(&((struct fixture *)*state)->w, "/healthz", NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.body, "ok\n");
        web_response_finish(&resp);
}

/* ---- the terminal API ---- */

static void test_api_batch_is_stored_once(void **state)
{
        struct fixture *fx = *state;
        int64_t t = now_ms();
        struct test_vote v[3] = {
            make_vote(3, "E2", "W1", t - 3000),
            make_vote(2, "E2", "W1", t - 2000),
            make_vote(1, "E1", "W1", t - 1000),
        };

        assert_int_equal(send_as_t1(fx, v, 3, PROTO_STORED), 3);
        assert_int_equal(webtest_vote_count(&fx->w), 3);
        /* the answer was lost; the terminal sends the same batch again */
        assert_int_equal(send_as_t1(fx, v, 3, PROTO_DUPLICATE), 3);
        assert_int_equal(webtest_vote_count(&fx->w), 3);
        /* the same id twice in one batch: stored, then duplicate */
        v[1] = v[0] = make_vote(3, "E2", "W1", t);
        assert_int_equal(send_as_t1(fx, v, 2, PROTO_STORED), 1);
        assert_int_equal(webtest_vote_count(&fx->w), 4);
}

static void test_api_bad_vote_rejects_only_itself(void **state)
{
        struct fixture *fx = *state;
        struct test_vote v[2] = {make_vote(3, "E2", "W1", now_ms()),
                                 make_vote(7, "E2", "W1", now_ms())};
        struct web_response resp;
        struct proto_ack ack = {0};
        char *body = batch_json("T1", v, 2);

        webtest_post_api(&fx->w, "/api/v1/votes", "Bearer T1:" SECRET, "application/json", body,
                         &resp);
        decode_ack(&resp, v, 2, &ack);
        assert_int_equal(ack.results[0].status, PROTO_STORED);
        assert_int_equal(ack.results[1].status, PROTO_REJECTED);
        assert_string_equal(ack.results[1].reason, "votes[1].level: must be 1, 2 or 3");
        assert_int_equal(webtest_vote_count(&fx->w), 1);
        proto_ack_finish(&ack);
        web_response_finish(&resp);
        free(body);
}

static void test_api_refuses_unknown_credentials(void **state)
{
        static const char *const auths[] = {
            "Bearer T1:wrong-secret", "Bearer T1:",
            "Bearer T1:" SECRET "x",  "Bearer T9:" SECRET,
            "Bearer :" SECRET,        "Bearer T1",
            "Basic VDE6c2VjcmV0",     NULL, /* no Authorization at all */
        };
        struct fixture *fx = *state;
        struct test_vote v = make_vote(3, "E2", "W1", now_ms());
        char *body = batch_json("T1", &v, 1);

        for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
                struct web_response resp;

                webtest_post_api(&fx->w, "/api/v1/votes", auths[i], "application/json", body,
                                 &resp);
                webtest_assert_api_error(&resp, 401, "authorization:");
                web_response_finish(&resp);
        }
        assert_int_equal(webtest_vote_count(&fx->w), 0);
        free(body);
}

static void test_api_refuses_batch_of_another_terminal(void **state)
{
        struct fixture *fx = *state;
        struct test_vote v = make_vote(3, "E2", "W1", now_ms());
        struct web_response resp;
        char *body = batch_json("T2", &v, 1);

        webtest_post_api(&fx->w, "/api/v1/votes", "Bearer T1:" SECRET, "application/json", body,
                         &resp);
        webtest_assert_api_error(&resp, 403, "terminal:");
        assert_int_equal(webtest_vote_count(&fx->w), 0);
        web_response_finish(&resp);
        free(body);
}

static void test_api_refuses_wrong_content_type(void **state)
{
        static const char *const types[] = {"text/plain", "application/x-www-form-urlencoded", "",
                                            NULL};
        struct fixture *fx = *state;
        struct test_vote v = make_vote(3, "E2", "W1", now_ms());
        char *body = batch_json("T1", &v, 1);

        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                struct web_response resp;

                webtest_post_api(&fx->w, "/api/v1/votes", "Bearer T1:" SECRET, types[i], body,
                                 &resp);
                webtest_assert_api_error(&resp, 415, "content-type:");
                web_response_finish(&resp);
        }
        assert_int_equal(webtest_vote_count(&fx->w), 0);
        free(body);
}

static void test_api_refuses_malformed_json(void **state)
{
        static const char *const bodies[] = {
            "{\"protocol\":1,\"terminal\":\"T1\",",
            "",
            "[]",
            "{\"protocol\":1,\"terminal\":\"T1\",\"sent_at\":1750000000000,\"votes\":{}}",
        };
        struct fixture *fx = *state;

        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                struct web_response resp;

                webtest_post_api(&fx->w, "/api/v1/votes", "Bearer T1:" SECRET, "application/json",
                                 bodies[i], &resp);
                webtest_assert_api_error(&resp, 400, i < 3 ? "body:" : "votes:");
                web_response_finish(&resp);
        }
        assert_int_equal(webtest_vote_count(&fx->w), 0);
}

static void test_api_rejects_foreign_workplace_and_unknown_employee(void **state)
{
        struct fixture *fx = *state;
        int64_t t = now_ms();
        struct test_vote v[4] = {
            make_vote(3, "E1", "W2", t), /* W2 exists, but T1 stands at W1 */
            make_vote(3, "E999", "W1", t),
            make_vote(2, "E2", "W9", t),
            make_vote(1, "E2", "W1", t),
        };
        struct web_response resp;
        struct proto_ack ack = {0};
        char *body = batch_json("T1", v, 4);

        webtest_post_api(&fx->w, "/api/v1/votes", "Bearer T1:" SECRET, "application/json", body,
                         &resp);
        decode_ack(&resp, v, 4, &ack);
        assert_int_equal(ack.results[0].status, PROTO_REJECTED);
        assert_int_equal(strncmp(ack.results[0].reason, "workplace:", 10), 0);
        assert_int_equal(ack.results[1].status, PROTO_REJECTED);
        assert_int_equal(strncmp(ack.results[1].reason, "employee:", 9), 0);
        assert_int_equal(ack.results[2].status, PROTO_REJECTED);
        assert_int_equal(strncmp(ack.results[2].reason, "workplace:", 10), 0);
        assert_int_equal(ack.results[3].status, PROTO_STORED);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
        proto_ack_finish(&ack);
        web_response_finish(&resp);
        free(body);
}

/* ---- reports ---- */

static void test_report_sums_subtrees(void **state)
{
        struct fixture *fx = *state;
        struct period month, last;
        char label[PERIOD_LABEL_MAX], last_label[PERIOD_LABEL_MAX];
        int64_t t = now_ms();
        struct test_vote v[6];
        json_t *r;

        webtest_month_label(false, &month, label, sizeof(label));
        webtest_month_label(true, &last, last_label, sizeof(last_label));
        v[0] = make_vote(3, "E2", "W1", t); /* grandchild */
        v[1] = make_vote(2, "E2", "W1", t); /* grandchild */
        v[2] = make_vote(1, "E1", "W1", t); /* child's own */
        /* last month: a day after it began, and its very last millisecond */
        v[3] = make_vote(3, "E2", "W1", (last.start + 86400) * 1000);
        v[4] = make_vote(1, "E2", "W1", month.start * 1000 - 1);
        /* this month's very first millisecond (Kyiv time), for the sibling */
        v[5] = make_vote(2, "E4", "W1", month.start * 1000);
        assert_int_equal(send_as_t1(fx, v, 6, PROTO_STORED), 6);
        /* and one each from the vote pages of the child's and the sibling's employees */
        assert_vote_status(&fx->w, "/r/" TOK_E1, "level=3", 303);
        assert_vote_status(&fx->w, "/r/" TOK_E4, "level=1", 303);
        assert_int_equal(webtest_vote_count(&fx->w), 8);

        r = webtest_report(&fx->w, label);
        assert_int_equal(webtest_unit_count(r, fx->city.root, "total"), 6);
        assert_int_equal(webtest_unit_count(r, fx->city.child, "total"), 4);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "total"), 2);
        assert_int_equal(webtest_unit_count(r, fx->city.sibling, "total"), 2);
        assert_int_equal(webtest_unit_count(r, fx->city.sibling, "good"), 1);
        /* per level: the child's subtree has one of each but two «Зразково» */
        assert_int_equal(webtest_unit_count(r, fx->city.child, "satisfactory"), 1);
        assert_int_equal(webtest_unit_count(r, fx->city.child, "good"), 1);
        assert_int_equal(webtest_unit_count(r, fx->city.child, "exemplary"), 2);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "satisfactory"), 0);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "good"), 1);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "exemplary"), 1);
        assert_int_equal(webtest_unit_count(r, fx->city.root, "satisfactory"), 2);
        json_decref(r);

        r = webtest_report(&fx->w, last_label);
        assert_int_equal(webtest_unit_count(r, fx->city.root, "total"), 2);
        assert_int_equal(webtest_unit_count(r, fx->city.child, "total"), 2);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "exemplary"), 1);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "satisfactory"), 1);
        assert_int_equal(webtest_unit_count(r, fx->city.sibling, "total"), 0);
        json_decref(r);
}

static void test_report_refuses_unknown_period(void **state)
{
        static const char *const periods[] = {"garbage", "2026-13", "2026-W60",
                                              "2026-11' OR '1'='1"};
        struct fixture *fx = *state;

        for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
                const struct webtest_field args[] = {{"period", periods[i]}, {NULL, NULL}};
                struct web_response resp;

                webtest_get(&fx->w, "/api/v1/reports/units", NULL, args, &resp);
                webtest_assert_api_error(&resp, 400, "period:");
                web_response_finish(&resp);
                webtest_get(&fx->w, "/reports", NULL, args, &resp);
                assert_int_equal(resp.status, 400);
                assert_contains(resp.body, "Невідомий період");
                web_response_finish(&resp);
        }
}

/* ---- the vote page ---- */

static void assert_small_and_scriptless(const struct web_response *resp)
{
        assert_true(resp->body_len < 30 * 1024);
        assert_null(strcasestr(resp->body, "<script"));
}

static void test_vote_page_shows_employee(void **state)
{
        struct fixture *fx = *state;
        struct web_response resp;

        webtest_get(&fx->w, "/r/" TOK_E2, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.content_type, "text/html; charset=utf-8");
        assert_contains(resp.body, "<h1>" E2_NAME "</h1>");
        assert_contains(resp.body, E2_POSITION);
        assert_contains(resp.body, GRANDCHILD_NAME);
        assert_contains(resp.body, "Задовільно");
        assert_contains(resp.body, "Добре");
        assert_contains(resp.body, "Зразково");
        assert_contains(resp.body, "Відправити відгук");
        assert_contains(resp.body, "action=\"/r/" TOK_E2 "\"");
        assert_small_and_scriptless(&resp);
        web_response_finish(&resp);
}

static void test_vote_page_speaks_english_when_asked(void **state)
{
        static const struct webtest_field en[] = {{"Accept-Language", "en"}, {NULL, NULL}};
        static const struct webtest_field en_gb[] = {{"accept-language", "en-GB,en;q=0.9,uk;q=0.8"},
                                                     {NULL, NULL}};
        static const struct webtest_field lang_en[] = {{"lang", "en"}, {NULL, NULL}};
        static const struct webtest_field uk[] = {{"Accept-Language", "uk-UA,uk;q=0.9,en;q=0.5"},
                                                  {NULL, NULL}};
        struct fixture *fx = *state;
        struct web_response resp;

        webtest_get(&fx->w, "/r/" TOK_E2, en, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "Send feedback");
        assert_contains(resp.body, "Exemplary");
        assert_not_contains(resp.body, "Відправити відгук");
        assert_contains(resp.body, E2_NAME); /* names are not translated */
        web_response_finish(&resp);

        webtest_get(&fx->w, "/r/" TOK_E2, en_gb, NULL, &resp);
        assert_contains(resp.body, "Send feedback");
        web_response_finish(&resp);
        webtest_get(&fx->w, "/r/" TOK_E2, NULL, lang_en, &resp);
        assert_contains(resp.body, "Send feedback");
        web_response_finish(&resp);
        webtest_get(&fx->w, "/r/" TOK_E2, uk, NULL, &resp);
        assert_contains(resp.body, "Відправити відгук");
        web_response_finish(&resp);
}

/* Reads the database file itself, as an auditor would: the single vote on disk. */
static void assert_only_vote_on_disk(struct fixture *fx, int level, const char *channel,
                                     const char *employee)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;

        assert_int_equal(sqlite3_open_v2(fx->w.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT v.level, v.channel, e.personal_no FROM votes v"
                                            " JOIN employees e ON e.id = v.employee_id",
                                            -1, &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), level);
        assert_string_equal((const char *)sqlite3_column_text(st, 1), channel);
        assert_string_equal((const char *)sqlite3_column_text(st, 2), employee);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        sqlite3_close(db);
}

static void test_vote_page_post_stores_one_vote(void **state)
{
        struct fixture *fx = *state;
        struct web_response resp;

        webtest_vote(&fx->w, "/r/" TOK_E2, NULL, "level=3", &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/r/" TOK_E2 "/thanks");
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
        assert_only_vote_on_disk(fx, 3, VOTE_CHANNEL_QR_PRINTED, "E2");

        webtest_get(&fx->w, "/r/" TOK_E2 "/thanks", NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "Дякуємо за Ваш голос!");
        assert_small_and_scriptless(&resp);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
}

static void test_vote_page_post_keeps_english(void **state)
{
        static const struct webtest_field lang_en[] = {{"lang", "en"}, {NULL, NULL}};
        struct fixture *fx = *state;
        struct web_response resp;

        webtest_vote(&fx->w, "/r/" TOK_E2, lang_en, "level=2", &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/r/" TOK_E2 "/thanks?lang=en");
        web_response_finish(&resp);
        assert_only_vote_on_disk(fx, 2, VOTE_CHANNEL_QR_PRINTED, "E2");
}

static void test_vote_page_post_refuses_missing_or_bad_level(void **state)
{
        static const char *const bodies[] = {
            NULL,       "",         "level=",  "level=9",      "level=0",  "level=33", "level=3x",
            "level=-1", "levelx=3", "other=3", "level=%33%33", "level=%3", "level",
        };
        struct fixture *fx = *state;

        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                struct web_response resp;

                webtest_post_form(&fx->w, "/r/" TOK_E2, bodies[i], &resp);
                assert_int_equal(resp.status, 400);
                assert_string_equal(resp.location, "");
                /* the page comes back, asking for a choice */
                assert_contains(resp.body, "Спершу оберіть оцінку.");
                assert_contains(resp.body, "Відправити відгук");
                web_response_finish(&resp);
        }
        assert_int_equal(webtest_vote_count(&fx->w), 0);
}

static void test_vote_page_unknown_token(void **state)
{
        struct fixture *fx = *state;
        struct web_response resp;

        webtest_get(&fx->w, "/r/tokNoSuchOne", NULL, NULL, &resp);
        assert_int_equal(resp.status, 404);
        assert_contains(resp.body, "Цей QR-код не знайдено.");
        web_response_finish(&resp);
        assert_post_status(&fx->w, "/r/tokNoSuchOne", "level=3", 404);
        assert_int_equal(webtest_vote_count(&fx->w), 0);
}

static void test_vote_page_revoked_token(void **state)
{
        static const char *const paths[] = {"/r/" TOK_REVOKED, "/r/" TOK_REVOKED "/thanks"};
        struct fixture *fx = *state;
        struct web_response resp;

        for (size_t i = 0; i < 2; i++) {
                webtest_get(&fx->w, paths[i], NULL, NULL, &resp);
                assert_int_equal(resp.status, 410);
                assert_contains(resp.body, "Цей QR-код більше не діє.");
                assert_not_contains(resp.body, E2_NAME);
                web_response_finish(&resp);
        }
        webtest_post_form(&fx->w, "/r/" TOK_REVOKED, "level=3", &resp);
        assert_int_equal(resp.status, 410);
        assert_string_equal(resp.location, "");
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 0);
        /* the same employee's other token still works */
        assert_get_status(&fx->w, "/r/" TOK_E2, 200);
}

static void test_vote_page_refuses_malformed_tokens(void **state)
{
        char over_long[80], huge[4096];
        const char *const paths[] = {
            "/r/",
            "/r/tok",           /* too short */
            "/r/tokGrand000",   /* a prefix of a real token */
            "/r/tokGrand0001x", /* a real token and more */
            "/r/tok Grand0001", /* bad characters, ... */
            "/r/tokGrand0001.",
            "/r/tokGrand%30001",
            "/r/токен0001",
            "/r/tokGrand0001/other", /* not the thanks page */
            "/r/tokGrand0001/thanks/x",
            "/r/tokGrand0001/",
            "/r//tokGrand0001",
            over_long,
            huge,
        };
        struct fixture *fx = *state;
        struct web_response resp;

        /* the 64-character token is served, 65 characters are not */
        assert_get_status(&fx->w, "/r/" TOK_LONG, 200);
        snprintf(over_long, sizeof(over_long), "/r/%sx", TOK_LONG);
        memcpy(huge, "/r/", 3);
        memset(huge + 3, 'a', sizeof(huge) - 4);
        huge[sizeof(huge) - 1] = 0;

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                webtest_get(&fx->w, paths[i], NULL, NULL, &resp);
                if (resp.status != 404)
                        print_error("GET %.80s\n", paths[i]);
                assert_int_equal(resp.status, 404);
                assert_not_contains(resp.body, E2_NAME);
                web_response_finish(&resp);
                assert_post_status(&fx->w, paths[i], "level=3", 404);
        }
        assert_int_equal(webtest_vote_count(&fx->w), 0);
}

/* ---- escaping ---- */

static void test_vote_page_escapes_employee_name(void **state)
{
        struct fixture *fx = *state;
        struct web_response resp;

        webtest_get(&fx->w, "/r/" TOK_EVIL, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "<h1>" EVIL_NAME_HTML "</h1>");
        assert_not_contains(resp.body, EVIL_NAME);
        assert_not_contains(resp.body, "alert(1)</");
        assert_small_and_scriptless(&resp);
        web_response_finish(&resp);

        /* and on the page that asks again after a bad POST */
        webtest_post_form(&fx->w, "/r/" TOK_EVIL, "level=7", &resp);
        assert_int_equal(resp.status, 400);
        assert_contains(resp.body, EVIL_NAME_HTML);
        assert_small_and_scriptless(&resp);
        web_response_finish(&resp);
}

static void test_reports_escape_unit_name(void **state)
{
        struct fixture *fx = *state;
        struct web_response resp;

        webtest_get(&fx->w, "/reports", NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.content_type, "text/html; charset=utf-8");
        assert_contains(resp.body, GRANDCHILD_NAME);
        assert_contains(resp.body, SIBLING_NAME_HTML);
        assert_not_contains(resp.body, "<img");
        assert_not_contains(resp.body, SIBLING_NAME);
        assert_null(strcasestr(resp.body, "<script"));
        web_response_finish(&resp);

        /* the JSON report carries the name as it is: escaping is the page's business */
        {
                json_t *r;
                char label[PERIOD_LABEL_MAX];
                struct period p;

                webtest_month_label(false, &p, label, sizeof(label));
                r = webtest_report(&fx->w, label);
                assert_string_equal(json_string_value(json_object_get(
                                        webtest_find_unit(r, fx->city.sibling), "name")),
                                    SIBLING_NAME);
                json_decref(r);
        }
}

/* True when s is valid UTF-8 (jansson checks it for every string it makes). */
static bool utf8_valid(const char *s)
{
        json_t *j = json_string(s);

        json_decref(j);
        return j != NULL;
}

/* Names longer than the store keeps are cut, but never inside a letter: a page shows no
 * replacement characters and the JSON report still lists the unit. */
static void test_long_names_are_cut_at_a_letter(void **state)
{
        struct fixture *fx = *state;
        struct web_response resp;
        char label[PERIOD_LABEL_MAX];
        struct period p;
        json_t *r;
        const char *name;

        /* the test is only worth something if the cut really falls inside a letter */
        assert_true(strlen(LONG_UNIT_NAME) > sizeof(((struct store_unit_row *)0)->name));
        assert_true(strlen(LONG_POSITION) > sizeof(((struct store_employee *)0)->position));

        webtest_get(&fx->w, "/r/" TOK_LONG_NAMES, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_true(utf8_valid(resp.body));
        assert_contains(resp.body, "Головний спеціаліст відділу");
        web_response_finish(&resp);

        webtest_get(&fx->w, "/reports", NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_true(utf8_valid(resp.body));
        web_response_finish(&resp);

        webtest_month_label(false, &p, label, sizeof(label));
        r = webtest_report(&fx->w, label);
        name = json_string_value(json_object_get(webtest_find_unit(r, fx->long_unit), "name"));
        assert_non_null(name);
        assert_true(strlen(name) > 100);
        assert_int_equal(strncmp(name, LONG_UNIT_NAME, strlen(name)), 0);
        json_decref(r);
}

/* ---- SQL metacharacters ---- */

static void test_sql_metacharacters_change_nothing(void **state)
{
        static const char *const paths[] = {
            "/r/abc'--;DROP",        "/r/abc'; DROP TABLE votes; --", "/r/x' OR '1'='1",
            "/r/DROP--TABLE--votes", /* valid characters: this one reaches the database */
            "/r/tokGrand0001'--",
        };
        static const char *const auths[] = {
            "Bearer T1' OR '1'='1:x",
            "Bearer T1:' OR '1'='1",
            "Bearer T1'--:" SECRET,
        };
        struct fixture *fx = *state;
        struct test_vote v = make_vote(3, "E2'--", "W1", now_ms());
        struct test_vote ok = make_vote(2, "E2", "W1", now_ms());
        struct web_response resp;
        struct proto_ack ack = {0};
        char *body;

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                assert_get_status(&fx->w, paths[i], 404);
                assert_post_status(&fx->w, paths[i], "level=3", 404);
        }
        body = batch_json("T1", &ok, 1);
        for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
                webtest_post_api(&fx->w, "/api/v1/votes", auths[i], "application/json", body,
                                 &resp);
                assert_int_equal(resp.status, 401);
                web_response_finish(&resp);
        }
        free(body);
        /* an employee reference with a quote does not pass the protocol's decoder */
        body = batch_json("T1", &v, 1);
        webtest_post_api(&fx->w, "/api/v1/votes", "Bearer T1:" SECRET, "application/json", body,
                         &resp);
        decode_ack(&resp, &v, 1, &ack);
        assert_int_equal(ack.results[0].status, PROTO_REJECTED);
        proto_ack_finish(&ack);
        web_response_finish(&resp);
        free(body);
        assert_int_equal(webtest_vote_count(&fx->w), 0);

        /* every table still answers: tokens, employees, units, terminals and votes */
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        assert_int_equal(send_as_t1(fx, &ok, 1, PROTO_STORED), 1);
        assert_int_equal(webtest_vote_count(&fx->w), 2);
        webtest_get(&fx->w, "/reports", NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, GRANDCHILD_NAME);
        web_response_finish(&resp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, webtest_teardown)
            T(test_healthz),
            T(test_api_batch_is_stored_once),
            T(test_api_bad_vote_rejects_only_itself),
            T(test_api_refuses_unknown_credentials),
            T(test_api_refuses_batch_of_another_terminal),
            T(test_api_refuses_wrong_content_type),
            T(test_api_refuses_malformed_json),
            T(test_api_rejects_foreign_workplace_and_unknown_employee),
            T(test_report_sums_subtrees),
            T(test_report_refuses_unknown_period),
            T(test_vote_page_shows_employee),
            T(test_vote_page_speaks_english_when_asked),
            T(test_vote_page_post_stores_one_vote),
            T(test_vote_page_post_keeps_english),
            T(test_vote_page_post_refuses_missing_or_bad_level),
            T(test_vote_page_unknown_token),
            T(test_vote_page_revoked_token),
            T(test_vote_page_refuses_malformed_tokens),
            T(test_vote_page_escapes_employee_name),
            T(test_reports_escape_unit_name),
            T(test_long_names_are_cut_at_a_letter),
            T(test_sql_metacharacters_change_nothing),
#undef T
        };

        return webtest_run_group(tests, LOG_LEVEL_WARN);
}
