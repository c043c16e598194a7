/* SPDX-License-Identifier: MIT */
/* Tests for what a terminal does with the collector beyond sending votes (docs/protocol.md):
 * the roster pull with its ETag, enrollment with one-time codes and its rate limit, the
 * expiring on-screen QR vote page, shift events, clock correction, status reports, suppressed
 * votes, revoking a terminal, and the schema migration from version 1. Requests go through
 * web_handle() over a real SQLite file (tests/common/webtest.h); answers are decoded with the
 * terminal's own decoders, and the database file is read directly where the store has no
 * call for it. */
#include <errno.h>
#include <inttypes.h>
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

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "collector.h"
#include "log.h"
#include "period.h"
#include "proto.h"
#include "qrtoken.h"
#include "roster.h"
#include "store.h"
#include "testutil.h"
#include "web.h"
#include "webtest.h"

#define PUBLIC_URL "https://otsinka.example.gov.ua"
#define SECRET1 "T1-Xq3-vR8s_p2Lm9TzK4wB"
#define SECRET2 "T2-Hj7_nW2q-Lp5sYc8vZ3d"
#define AUTH1 "Bearer T1:" SECRET1
#define E2_NAME "Коваленко Олена Петрівна"
#define E2_POSITION "Адміністратор ЦНАП"
#define GRANDCHILD_NAME WEBTEST_CITY_GRANDCHILD
#define TEXT_EXPIRED "Цей QR-код уже застарів."
#define TEXT_REVOKED "Цей QR-код більше не діє."
/* boot ids: two boots of T1 and one the collector never heard of */
#define BOOT_A "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
#define BOOT_B "0b7d9c41-58e2-4a63-9f10-2d3e4f5a6b7c"
#define BOOT_C "d2e3f4a5-b6c7-4d8e-9f01-a2b3c4d5e6f7"
#define SHIFT "0190a1b2-0000-7000-8000-000000000001"
#define DAY_MS (INT64_C(86400) * 1000)

/* The organisation: root → child → grandchild, and a sibling of child. W1 is at the
 * grandchild (T1 stands there), W2 at the child (T2), W3 at the sibling. */
static void seed(struct webtest_fixture *fx)
{
        struct store *s = fx->w.store;
        const struct store_ops *o = s->ops;
        int64_t wp;

        webtest_add_employee(s, "E1", "Шевчук Андрій Миколайович", "Директор департаменту",
                             fx->city.child, true);
        webtest_add_employee(s, "E2", E2_NAME, E2_POSITION, fx->city.grandchild, false);
        webtest_add_employee(s, "E3", "Мельник Тарас Іванович", "Адміністратор ЦНАП",
                             fx->city.grandchild, false);
        webtest_add_employee(s, "E4", "Лисенко Віктор Петрович", "Головний спеціаліст",
                             fx->city.sibling, false);
        assert_int_equal(o->workplace_add(s, "W1", "Вікно 1", fx->city.grandchild, 0, &wp), 0);
        assert_int_equal(o->workplace_add(s, "W2", "Кабінет 2", fx->city.child, 0, &wp), 0);
        assert_int_equal(o->workplace_add(s, "W3", "Кабінет 3", fx->city.sibling, 0, &wp), 0);
        assert_int_equal(o->terminal_add(s, "T1", "W1", SECRET1), 0);
        assert_int_equal(o->terminal_add(s, "T2", "W2", SECRET2), 0);
}

static int setup(void **state)
{
        return webtest_setup_city(state, "otsinka-terminal-api", PUBLIC_URL, seed);
}

/* ---- helpers ---- */

static int64_t real_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void auth_of(char *buf, size_t n, const char *terminal, const char *secret)
{
        snprintf(buf, n, "Bearer %s:%s", terminal, secret);
}

/* GET /api/v1/terminal as terminal; etag NULL sends no If-None-Match. */
static void pull(struct webtest *w, const char *terminal, const char *secret, const char *etag,
                 struct web_response *resp)
{
        char auth[256];
        struct webtest_field headers[3] = {{"Authorization", auth}, {NULL, NULL}, {NULL, NULL}};

        auth_of(auth, sizeof(auth), terminal, secret);
        if (etag)
                headers[1] = (struct webtest_field){"If-None-Match", etag};
        webtest_get(w, "/api/v1/terminal", headers, NULL, resp);
}

/* Pulls as a terminal does and decodes the answer with the terminal's own decoder. etag
 * (64 bytes) may be NULL. The caller finishes *ret. */
static void pull_roster(struct webtest *w, const char *terminal, const char *secret,
                        struct roster *ret, char *etag)
{
        struct web_response resp;
        char err[256] = "";
        int r;

        pull(w, terminal, secret, NULL, &resp);
        if (resp.status != 200)
                print_error("pull as %s: %.300s\n", terminal, resp.body);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.content_type, "application/json");
        assert_true(strlen(resp.etag) > 2);
        r = roster_decode(resp.body, resp.body_len, ret, err, sizeof(err));
        if (r < 0)
                print_error("roster refused: %s\n%s\n", err, resp.body);
        assert_int_equal(r, 0);
        if (etag)
                snprintf(etag, 64, "%s", resp.etag);
        web_response_finish(&resp);
}

/* A vote as a terminal casts it: at its own workplace (left out), in shift SHIFT. */
static struct proto_vote make_vote(int level, const char *employee, int64_t cast_at_ms)
{
        struct proto_vote v = {0};

        vote_id_new(&v.vote.id);
        v.vote.level = level;
        snprintf(v.vote.channel, sizeof(v.vote.channel), "%s", VOTE_CHANNEL_TERMINAL);
        snprintf(v.vote.employee, sizeof(v.vote.employee), "%s", employee);
        snprintf(v.vote.shift, sizeof(v.vote.shift), "%s", SHIFT);
        v.vote.cast_at_ms = cast_at_ms;
        return v;
}

static struct proto_event make_event(const char *kind, const char *detail, int64_t at_ms)
{
        struct proto_event e = {0};

        vote_id_new(&e.event.id);
        snprintf(e.event.kind, sizeof(e.event.kind), "%s", kind);
        snprintf(e.event.employee, sizeof(e.event.employee), "E2");
        snprintf(e.event.shift, sizeof(e.event.shift), "%s", SHIFT);
        snprintf(e.event.detail, sizeof(e.event.detail), "%s", detail);
        e.event.at_ms = at_ms;
        return e;
}

/* Sends b as its terminal with secret, encoded with the terminal's encoder, and decodes the
 * ack with its decoder: one result per vote and per event, in order, under their ids. The
 * collector's clock during the request lies in [*ret_before, *ret_after] when those are given.
 * The caller finishes *ack. */
static void send_batch(struct webtest *w, const char *secret, const struct proto_batch *b,
                       struct proto_ack *ack, int64_t *ret_before, int64_t *ret_after)
{
        struct web_response resp;
        char auth[256], err[256] = "", *body = NULL;
        int64_t before, after;
        int r;

        auth_of(auth, sizeof(auth), b->terminal, secret);
        assert_int_equal(proto_batch_encode(b, &body), 0);
        before = real_ms();
        webtest_post_api(w, "/api/v1/votes", auth, "application/json", body, &resp);
        after = real_ms();
        if (resp.status != 200)
                print_error("batch: %s\nanswer: %.300s\n", body, resp.body);
        assert_int_equal(resp.status, 200);
        r = proto_ack_decode(resp.body, resp.body_len, ack, err, sizeof(err));
        if (r < 0)
                print_error("ack refused: %s\n%s\n", err, resp.body);
        assert_int_equal(r, 0);
        assert_int_equal(ack->n_results, b->n_votes);
        assert_int_equal(ack->n_event_results, b->n_events);
        for (size_t i = 0; i < b->n_votes; i++)
                assert_string_equal(ack->results[i].id.s, b->votes[i].vote.id.s);
        for (size_t i = 0; i < b->n_events; i++)
                assert_string_equal(ack->event_results[i].id.s, b->events[i].event.id.s);
        web_response_finish(&resp);
        free(body);
        if (ret_before)
                *ret_before = before;
        if (ret_after)
                *ret_after = after;
}

/* POST /api/v1/enroll of a body as application/json. */
static void enroll_post(struct webtest *w, const char *body, struct web_response *resp)
{
        webtest_post_api(w, "/api/v1/enroll", NULL, "application/json", body, resp);
}

/* Enrolls with code as a terminal does; the status of the answer, and the answer when 200. */
static int enroll_with(struct webtest *w, const char *code, struct enroll_answer *ret)
{
        struct web_response resp;
        char *body = NULL, err[256] = "";
        int status;

        assert_int_equal(enroll_request_encode(code, &body), 0);
        enroll_post(w, body, &resp);
        free(body);
        status = resp.status;
        assert_string_equal(resp.content_type, "application/json");
        if (status == 200) {
                int r = enroll_answer_decode(resp.body, resp.body_len, ret, err, sizeof(err));

                if (r < 0)
                        print_error("answer refused: %s\n%s\n", err, resp.body);
                assert_int_equal(r, 0);
        } else {
                webtest_assert_api_error(&resp, status, "");
        }
        web_response_finish(&resp);
        return status;
}

static bool code_well_formed(const char *code)
{
        static const char alphabet[] = "0123456789";

        if (strlen(code) != 14 || code[4] != '-' || code[9] != '-')
                return false;
        for (int i = 0; i < 14; i++)
                if (i != 4 && i != 9 && !strchr(alphabet, code[i]))
                        return false;
        return true;
}

/* The path (after the public URL) of terminal's on-screen QR code for employee, made as the
 * terminal makes it: with the key and base it pulled. */
static void screen_path(struct webtest *w, const char *terminal, const char *secret,
                        const char *employee, int64_t expires, char *path, size_t n)
{
        struct roster ro = {0};
        char url[512];

        pull_roster(w, terminal, secret, &ro, NULL);
        assert_string_equal(ro.qr_base, PUBLIC_URL);
        assert_int_equal(
            qrtoken_url(ro.qr_key, ro.qr_base, terminal, employee, expires, url, sizeof(url)), 0);
        roster_finish(&ro);
        assert_int_equal(strncmp(url, PUBLIC_URL QRTOKEN_PREFIX, strlen(PUBLIC_URL) + 3), 0);
        snprintf(path, n, "%s", url + strlen(PUBLIC_URL));
}

static void make_pin_hash(const char *pin, char hash[static crypto_pwhash_STRBYTES])
{
        assert_int_equal(crypto_pwhash_str(hash, pin, strlen(pin), crypto_pwhash_OPSLIMIT_MIN,
                                           crypto_pwhash_MEMLIMIT_MIN),
                         0);
}

/* ---- the pull ---- */

static void assert_default_settings(const struct roster_settings *s)
{
        assert_int_equal(s->min_interval_s, 5);
        assert_int_equal(s->idle_logout_s, 0);
        assert_int_equal(s->logout_minute, -1);
        assert_int_equal(s->qr_ttl_s, 300);
        assert_int_equal(s->thanks_s, 4);
        assert_int_equal(s->selection_s, 10);
        assert_false(s->one_tap);
        assert_int_equal(s->lang, VOTE_LANG_UK);
}

static void test_pull_gives_workplace_subtree_and_key(void **state)
{
        struct webtest_fixture *fx = *state;
        struct roster ro = {0}, ro1 = {0};
        const struct roster_employee *e;
        char hex[2 * QRTOKEN_KEY_LEN + 1], db_hex[2 * QRTOKEN_KEY_LEN + 8];

        /* T2 stands at W2, in the child unit: the child's and the grandchild's staff */
        pull_roster(&fx->w, "T2", SECRET2, &ro, NULL);
        assert_string_equal(ro.terminal, "T2");
        assert_string_equal(ro.workplace, "W2");
        assert_string_equal(ro.workplace_name, "Кабінет 2");
        assert_string_equal(ro.qr_base, PUBLIC_URL);
        assert_int_equal(ro.n_employees, 3);
        assert_non_null(roster_find(&ro, "E1"));
        assert_non_null(roster_find(&ro, "E3"));
        assert_null(roster_find(&ro, "E4")); /* the sibling unit's */
        e = roster_find(&ro, "E2");
        assert_non_null(e);
        assert_string_equal(e->full_name, E2_NAME);
        assert_string_equal(e->position, E2_POSITION);
        assert_string_equal(e->unit, GRANDCHILD_NAME);
        assert_string_equal(e->pin_hash, ""); /* no PIN yet: cannot log in */
        assert_int_equal(roster_check_pin(e, "0000"), -EACCES);
        assert_default_settings(&ro.settings);
        /* the key is the terminal's own, as kept */
        sodium_bin2hex(hex, sizeof(hex), ro.qr_key, sizeof(ro.qr_key));
        webtest_db_text(&fx->w, db_hex, "SELECT lower(hex(qr_key)) FROM terminals WHERE id = 'T2'");
        assert_string_equal(hex, db_hex);

        /* T1 stands at W1, in the grandchild: only its staff, and another key */
        pull_roster(&fx->w, "T1", SECRET1, &ro1, NULL);
        assert_string_equal(ro1.workplace, "W1");
        assert_int_equal(ro1.n_employees, 2);
        assert_non_null(roster_find(&ro1, "E2"));
        assert_non_null(roster_find(&ro1, "E3"));
        assert_null(roster_find(&ro1, "E1"));
        assert_true(sodium_memcmp(ro.qr_key, ro1.qr_key, QRTOKEN_KEY_LEN) != 0);
        roster_finish(&ro1);
        roster_finish(&ro);
}

static void test_pull_carries_settings(void **state)
{
        static const struct {
                const char *key, *value;
        } meta[] = {
            {"terminal.min_interval_s", "7"}, {"terminal.idle_logout_s", "1800"},
            {"terminal.logout_at", "20:00"},  {"terminal.qr_ttl_s", "120"},
            {"terminal.thanks_s", "6"},       {"terminal.selection_s", "15"},
            {"terminal.one_tap", "1"},        {"terminal.lang", "en"},
        };
        struct webtest_fixture *fx = *state;
        struct store *s = fx->w.store;
        struct roster ro = {0};

        for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
                assert_int_equal(s->ops->meta_set(s, meta[i].key, meta[i].value), 0);
        pull_roster(&fx->w, "T1", SECRET1, &ro, NULL);
        assert_int_equal(ro.settings.min_interval_s, 7);
        assert_int_equal(ro.settings.idle_logout_s, 1800);
        assert_int_equal(ro.settings.logout_minute, 20 * 60);
        assert_int_equal(ro.settings.qr_ttl_s, 120);
        assert_int_equal(ro.settings.thanks_s, 6);
        assert_int_equal(ro.settings.selection_s, 15);
        assert_true(ro.settings.one_tap);
        assert_int_equal(ro.settings.lang, VOTE_LANG_EN);
        roster_finish(&ro);

        /* a value out of range or not a number never reaches the fleet: that setting keeps
         * its default (a word is not 0: no minimum interval at all) */
        assert_int_equal(s->ops->meta_set(s, "terminal.min_interval_s", "abc"), 0);
        assert_int_equal(s->ops->meta_set(s, "terminal.qr_ttl_s", "5"), 0);
        assert_int_equal(s->ops->meta_set(s, "terminal.thanks_s", "6x"), 0);
        assert_int_equal(s->ops->meta_set(s, "terminal.selection_s", "99999"), 0);
        assert_int_equal(s->ops->meta_set(s, "terminal.one_tap", "2"), 0);
        assert_int_equal(s->ops->meta_set(s, "terminal.lang", "de"), 0);
        pull_roster(&fx->w, "T1", SECRET1, &ro, NULL);
        assert_int_equal(ro.settings.min_interval_s, 5);
        assert_int_equal(ro.settings.qr_ttl_s, 300);
        assert_int_equal(ro.settings.thanks_s, 4);
        assert_int_equal(ro.settings.selection_s, 10);
        assert_false(ro.settings.one_tap);
        assert_int_equal(ro.settings.lang, VOTE_LANG_UK);
        /* while the good ones stay */
        assert_int_equal(ro.settings.idle_logout_s, 1800);
        assert_int_equal(ro.settings.logout_minute, 20 * 60);
        roster_finish(&ro);
}

static void test_pull_etag_and_304(void **state)
{
        struct webtest_fixture *fx = *state;
        struct store *s = fx->w.store;
        struct web_response resp;
        struct roster ro = {0};
        char etag[64], etag2[64], hash[crypto_pwhash_STRBYTES];
        const struct roster_employee *e;

        pull_roster(&fx->w, "T1", SECRET1, &ro, etag);
        roster_finish(&ro);

        /* unchanged: 304 with no body, and the same tag */
        pull(&fx->w, "T1", SECRET1, etag, &resp);
        assert_int_equal(resp.status, 304);
        assert_int_equal(resp.body_len, 0);
        assert_string_equal(resp.etag, etag);
        web_response_finish(&resp);
        /* a tag it does not know: the whole roster */
        pull(&fx->w, "T1", SECRET1, "\"0123456789abcdef\"", &resp);
        assert_int_equal(resp.status, 200);
        assert_true(resp.body_len > 0);
        web_response_finish(&resp);

        /* a PIN set for someone who is not on T1's roster changes nothing for T1 */
        make_pin_hash("1357", hash);
        assert_int_equal(s->ops->employee_set_pin(s, "E4", hash), 0);
        pull(&fx->w, "T1", SECRET1, etag, &resp);
        assert_int_equal(resp.status, 304);
        web_response_finish(&resp);

        /* a PIN set for E2 does: a new tag, and the new PIN opens a shift on the terminal */
        make_pin_hash("2580", hash);
        assert_int_equal(s->ops->employee_set_pin(s, "E2", hash), 0);
        pull(&fx->w, "T1", SECRET1, etag, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_not_equal(resp.etag, etag);
        web_response_finish(&resp);
        pull_roster(&fx->w, "T1", SECRET1, &ro, etag2);
        assert_string_not_equal(etag2, etag);
        e = roster_find(&ro, "E2");
        assert_non_null(e);
        assert_int_equal(roster_check_pin(e, "2580"), 0);
        assert_int_equal(roster_check_pin(e, "2581"), -EACCES);
        assert_int_equal(roster_check_pin(roster_find(&ro, "E3"), "2580"), -EACCES);
        roster_finish(&ro);
        pull(&fx->w, "T1", SECRET1, etag2, &resp);
        assert_int_equal(resp.status, 304);
        web_response_finish(&resp);

        /* so does a setting */
        assert_int_equal(s->ops->meta_set(s, "terminal.thanks_s", "9"), 0);
        pull(&fx->w, "T1", SECRET1, etag2, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_not_equal(resp.etag, etag2);
        web_response_finish(&resp);

        assert_int_equal(s->ops->employee_set_pin(s, "E999", hash), -ENOENT);
}

static void test_pull_refuses_bad_credentials(void **state)
{
        struct webtest_fixture *fx = *state;
        struct web_response resp;

        pull(&fx->w, "T1", SECRET2, NULL, &resp);
        webtest_assert_api_error(&resp, 401, "authorization:");
        web_response_finish(&resp);
        pull(&fx->w, "T9", SECRET1, NULL, &resp);
        webtest_assert_api_error(&resp, 401, "authorization:");
        web_response_finish(&resp);
        webtest_get(&fx->w, "/api/v1/terminal", NULL, NULL, &resp);
        webtest_assert_api_error(&resp, 401, "authorization:");
        web_response_finish(&resp);
}

/* ---- revoking a terminal ---- */

static void test_revoked_terminal_is_refused(void **state)
{
        struct webtest_fixture *fx = *state;
        struct store *s = fx->w.store;
        struct proto_vote v = make_vote(3, "E2", real_ms());
        struct proto_batch b = {
            .terminal = "T1", .sent_at_ms = real_ms(), .n_votes = 1, .votes = &v};
        struct web_response resp;
        char path[512], thanks[600], *body = NULL;

        screen_path(&fx->w, "T1", SECRET1, "E2", time(NULL) + 300, path, sizeof(path));
        assert_get_status(&fx->w, path, 200);

        assert_int_equal(s->ops->terminal_revoke(s, "T1"), 0);
        pull(&fx->w, "T1", SECRET1, NULL, &resp);
        webtest_assert_api_error(&resp, 401, "authorization:");
        web_response_finish(&resp);
        assert_int_equal(proto_batch_encode(&b, &body), 0);
        webtest_post_api(&fx->w, "/api/v1/votes", AUTH1, "application/json", body, &resp);
        webtest_assert_api_error(&resp, 401, "authorization:");
        web_response_finish(&resp);
        free(body);

        /* its on-screen codes stop working, politely */
        webtest_get(&fx->w, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 410);
        assert_contains(resp.body, TEXT_REVOKED);
        assert_not_contains(resp.body, E2_NAME);
        web_response_finish(&resp);
        assert_post_status(&fx->w, path, "level=3", 410);
        snprintf(thanks, sizeof(thanks), "%s/thanks", path);
        assert_get_status(&fx->w, thanks, 410);
        assert_int_equal(webtest_vote_count(&fx->w), 0);

        /* the other terminal is not affected; an unknown one cannot be revoked */
        pull(&fx->w, "T2", SECRET2, NULL, &resp);
        assert_int_equal(resp.status, 200);
        web_response_finish(&resp);
        assert_int_equal(s->ops->terminal_revoke(s, "T9"), -ENOENT);
}

/* ---- enrollment ---- */

static void test_enroll_makes_a_working_terminal(void **state)
{
        struct webtest_fixture *fx = *state;
        struct store *s = fx->w.store;
        char code[ENROLL_CODE_MAX], code2[ENROLL_CODE_MAX], where[128], want[128];
        struct enroll_answer a = {0}, a2 = {0};
        struct roster ro = {0};
        struct proto_vote v = make_vote(3, "E1", real_ms());
        struct proto_batch b = {.sent_at_ms = real_ms(), .n_votes = 1, .votes = &v};
        struct proto_ack ack = {0};
        struct web_response resp;

        assert_int_equal(s->ops->enroll_code_add(s, "W2", 3600, code, sizeof(code)), 0);
        if (!code_well_formed(code))
                print_error("code \"%s\"\n", code);
        assert_true(code_well_formed(code));
        assert_int_equal(s->ops->enroll_code_add(s, "W9", 3600, code2, sizeof(code2)), -ENOENT);

        assert_int_equal(enroll_with(&fx->w, code, &a), 200);
        assert_true(vote_ref_valid(a.terminal));
        assert_string_not_equal(a.terminal, "T1");
        assert_string_not_equal(a.terminal, "T2");
        assert_true(strlen(a.secret) >= 16);

        /* the new credential pulls the roster of the code's workplace ... */
        pull_roster(&fx->w, a.terminal, a.secret, &ro, NULL);
        assert_string_equal(ro.terminal, a.terminal);
        assert_string_equal(ro.workplace, "W2");
        assert_int_equal(ro.n_employees, 3);
        roster_finish(&ro);
        /* ... and sends votes, which count at that workplace */
        snprintf(b.terminal, sizeof(b.terminal), "%s", a.terminal);
        send_batch(&fx->w, a.secret, &b, &ack, NULL, NULL);
        assert_int_equal(ack.results[0].status, PROTO_STORED);
        proto_ack_finish(&ack);
        webtest_db_text(&fx->w, where,
                        "SELECT w.code || ' ' || v.terminal_id FROM votes v"
                        " JOIN workplaces w ON w.id = v.workplace_id WHERE v.uuid = '%s'",
                        v.vote.id.s);
        snprintf(want, sizeof(want), "W2 %s", a.terminal);
        assert_string_equal(where, want);

        /* the code works once */
        assert_int_equal(enroll_with(&fx->w, code, &a2), 403);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM terminals"), 3);

        /* another code makes another terminal, whose secret is its own */
        assert_int_equal(s->ops->enroll_code_add(s, "W3", 3600, code2, sizeof(code2)), 0);
        assert_string_not_equal(code2, code);
        assert_int_equal(enroll_with(&fx->w, code2, &a2), 200);
        assert_string_not_equal(a2.terminal, a.terminal);
        assert_string_not_equal(a2.secret, a.secret);
        pull(&fx->w, a2.terminal, a.secret, NULL, &resp);
        webtest_assert_api_error(&resp, 401, "authorization:");
        web_response_finish(&resp);
        pull_roster(&fx->w, a2.terminal, a2.secret, &ro, NULL);
        assert_string_equal(ro.workplace, "W3");
        roster_finish(&ro);
        /* only a hash of the secret is kept */
        assert_int_equal(webtest_db_int(&fx->w,
                                        "SELECT COUNT(*) FROM terminals WHERE"
                                        " instr(secret_hash, CAST('%s' AS BLOB)) > 0",
                                        a2.secret),
                         0);
        sodium_memzero(&a, sizeof(a));
        sodium_memzero(&a2, sizeof(a2));
}

static void test_enroll_refuses_expired_code(void **state)
{
        struct webtest_fixture *fx = *state;
        struct store *s = fx->w.store;
        char code[ENROLL_CODE_MAX];
        struct enroll_answer a = {0};

        /* a week's code, two weeks later */
        assert_int_equal(s->ops->enroll_code_add(s, "W1", 7 * 86400, code, sizeof(code)), 0);
        webtest_db_exec(&fx->w, "UPDATE enroll_codes SET expires_at = expires_at - 14 * 86400,"
                                " created_at = created_at - 14 * 86400");
        assert_int_equal(enroll_with(&fx->w, code, &a), 403);
        /* a code that expired a second ago */
        assert_int_equal(s->ops->enroll_code_add(s, "W1", -1, code, sizeof(code)), 0);
        assert_int_equal(enroll_with(&fx->w, code, &a), 403);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM terminals"), 2);
        /* a fresh one still works */
        assert_int_equal(s->ops->enroll_code_add(s, "W1", 60, code, sizeof(code)), 0);
        assert_int_equal(enroll_with(&fx->w, code, &a), 200);
}

static void test_enroll_is_rate_limited_per_address(void **state)
{
        struct webtest_fixture *fx = *state;
        struct store *s = fx->w.store;
        char code[ENROLL_CODE_MAX], wrong[ENROLL_CODE_MAX];
        struct enroll_answer a = {0};
        struct web_response resp;
        char *body = NULL;

        assert_int_equal(s->ops->enroll_code_add(s, "W1", 3600, code, sizeof(code)), 0);
        fx->w.client_addr = "203.0.113.5";
        for (int i = 0; i < 10; i++) {
                /* the right code with one letter changed: as close as a guess gets */
                size_t k = (size_t)(i + i / 4); /* the i-th letter, past the dashes */

                snprintf(wrong, sizeof(wrong), "%s", code);
                wrong[k] = wrong[k] == 'A' ? 'B' : 'A';
                assert_int_equal(enroll_with(&fx->w, wrong, &a), 403);
        }
        /* the eleventh is refused unseen, even the right code */
        assert_int_equal(enroll_request_encode(code, &body), 0);
        enroll_post(&fx->w, body, &resp);
        webtest_assert_api_error(&resp, 429, "code:");
        web_response_finish(&resp);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM terminals"), 2);

        /* another address is not held up by it, and the code was not used up */
        fx->w.client_addr = "198.51.100.9";
        assert_int_equal(enroll_with(&fx->w, code, &a), 200);
        fx->w.client_addr = "203.0.113.5";
        enroll_post(&fx->w, body, &resp);
        webtest_assert_api_error(&resp, 429, "code:");
        web_response_finish(&resp);
        free(body);
}

static void test_enroll_refuses_malformed_requests(void **state)
{
        static const char *const bodies[] = {
            "",
            "{",
            "[]",
            "{\"protocol\":1}",
            "{\"protocol\":2,\"code\":\"ABCD-EFGH-JKLM\"}",
            "{\"protocol\":1,\"code\":7}",
            "{\"protocol\":1,\"code\":\"ABCD-EFGH-JKLM\",\"terminal\":\"T9\"}",
            "{\"protocol\":1,\"code\":\"ABCD-EFGH-JKLM\",\"code\":\"ABCD-EFGH-JKLN\"}",
            "{\"protocol\":1,\"code\":"
            "\"ABCDEFGHJKLMABCDEFGHJKLMABCDEFGHJKLMABCDEFGHJKLMABCDEFGHJKLM"
            "ABCDEFGHJKLM\"}",
        };
        static const char *const types[] = {NULL, "text/plain", "application/x-www-form-urlencoded",
                                            "application/jsonx"};
        struct webtest_fixture *fx = *state;
        struct store *s = fx->w.store;
        char code[ENROLL_CODE_MAX], *body = NULL;
        struct enroll_answer a = {0};
        struct web_response resp;

        assert_int_equal(s->ops->enroll_code_add(s, "W1", 3600, code, sizeof(code)), 0);
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                enroll_post(&fx->w, bodies[i], &resp);
                if (resp.status != 400)
                        print_error("body %s\n", bodies[i]);
                webtest_assert_api_error(&resp, 400, "");
                web_response_finish(&resp);
        }
        assert_int_equal(enroll_request_encode(code, &body), 0);
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                webtest_post_api(&fx->w, "/api/v1/enroll", NULL, types[i], body, &resp);
                webtest_assert_api_error(&resp, 415, "content-type:");
                web_response_finish(&resp);
        }
        webtest_get(&fx->w, "/api/v1/enroll", NULL, NULL, &resp);
        assert_int_equal(resp.status, 405);
        web_response_finish(&resp);
        free(body);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM terminals"), 2);
        /* none of that used the code up or locked the address out */
        assert_int_equal(enroll_with(&fx->w, code, &a), 200);
}

/* ---- the on-screen QR code's vote page ---- */

static void test_screen_page_takes_a_vote(void **state)
{
        struct webtest_fixture *fx = *state;
        struct web_response resp;
        char path[512], want[600], row[256], label[PERIOD_LABEL_MAX];
        struct period month;
        json_t *r;

        screen_path(&fx->w, "T1", SECRET1, "E2", time(NULL) + 300, path, sizeof(path));
        webtest_get(&fx->w, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.content_type, "text/html; charset=utf-8");
        assert_contains(resp.body, "<h1>" E2_NAME "</h1>");
        assert_contains(resp.body, E2_POSITION);
        assert_contains(resp.body, "Відправити відгук");
        web_response_finish(&resp);

        webtest_vote(&fx->w, path, NULL, "level=3", &resp);
        assert_int_equal(resp.status, 303);
        snprintf(want, sizeof(want), "%s/thanks", path);
        assert_string_equal(resp.location, want);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
        webtest_db_text(
            &fx->w, row,
            "SELECT v.channel || ' ' || e.personal_no || ' ' || IFNULL(w.code, '-') || ' ' ||"
            " v.level FROM votes v JOIN employees e ON e.id = v.employee_id"
            " LEFT JOIN workplaces w ON w.id = v.workplace_id");
        assert_string_equal(row, "qr_screen E2 W1 3");
        /* and it counts for the employee's unit */
        webtest_month_label(false, &month, label, sizeof(label));
        r = webtest_report(&fx->w, label);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "exemplary"), 1);
        json_decref(r);

        webtest_get(&fx->w, want, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "Дякуємо за Ваш голос!");
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
}

static void test_screen_page_refuses_forged_codes(void **state)
{
        struct webtest_fixture *fx = *state;
        char good[512], forged[512], other[512], far[512];
        const char *const paths[] = {forged, other, far, NULL}, *const * p;
        int64_t expires = time(NULL) + 300;
        size_t n;

        screen_path(&fx->w, "T1", SECRET1, "E2", expires, good, sizeof(good));
        /* one hex digit of the mac changed */
        snprintf(forged, sizeof(forged), "%s", good);
        n = strlen(forged);
        forged[n - 1] = forged[n - 1] == '0' ? '1' : '0';
        /* T2's key signing a code in T1's name */
        screen_path(&fx->w, "T2", SECRET2, "E2", expires, other, sizeof(other));
        memcpy(other + strlen(QRTOKEN_PREFIX), "T1", 2);
        /* a genuine code valid for longer than any terminal makes them */
        screen_path(&fx->w, "T1", SECRET1, "E2", time(NULL) + 3 * 86400, far, sizeof(far));

        for (p = paths; *p; p++) {
                struct web_response resp;

                webtest_get(&fx->w, *p, NULL, NULL, &resp);
                if (resp.status != 404)
                        print_error("GET %s\n", *p);
                assert_int_equal(resp.status, 404);
                assert_not_contains(resp.body, E2_NAME);
                web_response_finish(&resp);
                assert_post_status(&fx->w, *p, "level=3", 404);
        }
        /* a code for somebody else, or the expiry moved, under the same mac */
        snprintf(forged, sizeof(forged), "%s", good);
        forged[strlen(QRTOKEN_PREFIX) + 4] = '3'; /* /s/T1/E2/ → /s/T1/E3/ */
        assert_get_status(&fx->w, forged, 404);
        snprintf(forged, sizeof(forged), "/s/T1/E2/%" PRId64 "%s", expires + 1000,
                 strrchr(good, '/'));
        assert_get_status(&fx->w, forged, 404);
        assert_int_equal(webtest_vote_count(&fx->w), 0);
        assert_get_status(&fx->w, good, 200);
}

static void test_screen_page_expires(void **state)
{
        static const struct webtest_field en[] = {{"Accept-Language", "en"}, {NULL, NULL}};
        struct webtest_fixture *fx = *state;
        struct web_response resp;
        char path[512], fresh[512], thanks[600], ft[WEBTEST_FORM_TOKEN_MAX];
        int64_t expires;

        /* expired a few seconds ago: a polite page, in the person's language */
        screen_path(&fx->w, "T1", SECRET1, "E2", time(NULL) - 5, path, sizeof(path));
        webtest_get(&fx->w, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 410);
        assert_contains(resp.body, TEXT_EXPIRED);
        assert_not_contains(resp.body, E2_NAME);
        web_response_finish(&resp);
        webtest_get(&fx->w, path, en, NULL, &resp);
        assert_int_equal(resp.status, 410);
        assert_contains(resp.body, "This QR code has expired.");
        web_response_finish(&resp);
        /* its thank-you still shows: the code is genuine */
        snprintf(thanks, sizeof(thanks), "%s/thanks", path);
        assert_get_status(&fx->w, thanks, 200);

        /* a page loaded while its code was valid may be sent after it expired */
        expires = time(NULL) + 1;
        screen_path(&fx->w, "T1", SECRET1, "E2", expires, path, sizeof(path));
        webtest_vote_page(&fx->w, path, NULL, ft);
        while (time(NULL) <= expires)
                nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        assert_get_status(&fx->w, path, 410);
        webtest_vote_post(&fx->w, path, NULL, "level=2", ft, &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);

        /* but not more than five minutes after */
        screen_path(&fx->w, "T1", SECRET1, "E3", time(NULL) + 300, fresh, sizeof(fresh));
        webtest_vote_page(&fx->w, fresh, NULL, ft);
        screen_path(&fx->w, "T1", SECRET1, "E3", time(NULL) - 400, path, sizeof(path));
        webtest_vote_post(&fx->w, path, NULL, "level=3", ft, &resp);
        assert_int_equal(resp.status, 410);
        assert_contains(resp.body, TEXT_EXPIRED);
        assert_string_equal(resp.location, "");
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
}

/* ---- batches: events, clocks, status, suppressed votes ---- */

static void test_batch_events_are_stored_once(void **state)
{
        struct webtest_fixture *fx = *state;
        int64_t t = real_ms();
        struct proto_event e[3] = {
            make_event(VOTE_EVENT_SHIFT_OPEN, "pin", t - 2000),
            make_event(VOTE_EVENT_SHIFT_CLOSE, "idle", t - 1000),
            make_event("Shift-Open!", "", t),
        };
        struct proto_vote v = make_vote(3, "E2", t - 1500);
        struct proto_batch b = {.terminal = "T1",
                                .sent_at_ms = t,
                                .n_votes = 1,
                                .votes = &v,
                                .n_events = 3,
                                .events = e};
        struct proto_ack ack = {0};
        char row[256];

        send_batch(&fx->w, SECRET1, &b, &ack, NULL, NULL);
        assert_int_equal(ack.results[0].status, PROTO_STORED);
        assert_int_equal(ack.event_results[0].status, PROTO_STORED);
        assert_int_equal(ack.event_results[1].status, PROTO_STORED);
        assert_int_equal(ack.event_results[2].status, PROTO_REJECTED);
        assert_int_equal(strncmp(ack.event_results[2].reason, "events[2].kind:", 15), 0);
        proto_ack_finish(&ack);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM terminal_events"), 2);
        webtest_db_text(
            &fx->w, row,
            "SELECT terminal_id || ' ' || kind || ' ' || employee || ' ' || shift || ' ' ||"
            " detail || ' ' || (at = %" PRId64 ") FROM terminal_events WHERE uuid = '%s'",
            t - 1000, e[1].event.id.s);
        assert_string_equal(row, "T1 shift_close E2 " SHIFT " idle 1");

        /* the answer was lost: the terminal sends it all again */
        send_batch(&fx->w, SECRET1, &b, &ack, NULL, NULL);
        assert_int_equal(ack.results[0].status, PROTO_DUPLICATE);
        assert_int_equal(ack.event_results[0].status, PROTO_DUPLICATE);
        assert_int_equal(ack.event_results[1].status, PROTO_DUPLICATE);
        assert_int_equal(ack.event_results[2].status, PROTO_REJECTED);
        proto_ack_finish(&ack);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM terminal_events"), 2);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
}

/* The stored cast time of a vote, and its original (INT64_MIN when not kept). */
static int64_t stored_cast(struct webtest *w, const struct proto_vote *v, int64_t *ret_orig)
{
        *ret_orig =
            webtest_db_int(w, "SELECT cast_at_orig FROM votes WHERE uuid = '%s'", v->vote.id.s);
        return webtest_db_int(w, "SELECT cast_at FROM votes WHERE uuid = '%s'", v->vote.id.s);
}

static void assert_within(int64_t got, int64_t lo, int64_t hi)
{
        if (got < lo || got > hi)
                print_error("%" PRId64 " is not in [%" PRId64 ", %" PRId64 "]\n", got, lo, hi);
        assert_true(got >= lo && got <= hi);
}

static void test_clock_corrects_votes_of_the_sending_boot(void **state)
{
        struct webtest_fixture *fx = *state;
        const int64_t mono = 3600 * 1000; /* an hour after boot */
        int64_t t = real_ms(), before, after, cast, orig, day;
        struct proto_vote v[3];
        struct proto_event e = make_event(VOTE_EVENT_SHIFT_OPEN, "pin", t - DAY_MS - 40000);
        struct proto_batch b = {.terminal = "T1",
                                .boot = BOOT_B,
                                .mono_ms = mono,
                                .sent_at_ms = t - DAY_MS,
                                .n_votes = 3,
                                .votes = v,
                                .n_events = 1,
                                .events = &e};
        struct proto_ack ack = {0};

        /* the terminal's clock is a day behind; the vote was cast 30 s before sending */
        v[0] = make_vote(3, "E2", t - DAY_MS - 30000);
        snprintf(v[0].vote.boot, sizeof(v[0].vote.boot), BOOT_B);
        v[0].vote.mono_ms = mono - 30000;
        /* cast 20 s before sending, with a clock 50 s fast: within the tolerance */
        v[1] = make_vote(2, "E2", t - 20000 + 50000);
        snprintf(v[1].vote.boot, sizeof(v[1].vote.boot), BOOT_B);
        v[1].vote.mono_ms = mono - 20000;
        /* no boot: nothing to correct with */
        v[2] = make_vote(1, "E2", t - DAY_MS);
        snprintf(e.event.boot, sizeof(e.event.boot), BOOT_B);
        e.event.mono_ms = mono - 40000;

        send_batch(&fx->w, SECRET1, &b, &ack, &before, &after);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(ack.results[i].status, PROTO_STORED);
        assert_int_equal(ack.event_results[0].status, PROTO_STORED);
        proto_ack_finish(&ack);

        cast = stored_cast(&fx->w, &v[0], &orig);
        assert_within(cast, before - 30000 - 1000, after - 30000 + 1000);
        assert_int_equal(orig, t - DAY_MS - 30000);
        /* it counts on the day it was really cast */
        day = webtest_db_int(&fx->w, "SELECT day FROM votes WHERE uuid = '%s'", v[0].vote.id.s);
        assert_int_equal(day, period_day_key(cast / 1000));

        assert_int_equal(stored_cast(&fx->w, &v[1], &orig), t - 20000 + 50000);
        assert_int_equal(orig, INT64_MIN);
        assert_int_equal(stored_cast(&fx->w, &v[2], &orig), t - DAY_MS);
        assert_int_equal(orig, INT64_MIN);

        assert_within(webtest_db_int(&fx->w, "SELECT at FROM terminal_events WHERE uuid = '%s'",
                                     e.event.id.s),
                      before - 40000 - 1000, after - 40000 + 1000);
        assert_int_equal(webtest_db_int(&fx->w,
                                        "SELECT at_orig FROM terminal_events WHERE uuid = '%s'",
                                        e.event.id.s),
                         t - DAY_MS - 40000);
}

static void test_clock_corrects_votes_of_an_earlier_boot(void **state)
{
        struct webtest_fixture *fx = *state;
        const int64_t mono_a = 7200 * 1000;
        int64_t t = real_ms(), before, after, orig, cast;
        struct proto_batch hb = {
            .terminal = "T1", .boot = BOOT_A, .mono_ms = mono_a, .sent_at_ms = t - DAY_MS};
        struct proto_vote v[2];
        struct proto_batch b = {.terminal = "T1",
                                .boot = BOOT_B,
                                .mono_ms = 5000,
                                .sent_at_ms = t,
                                .n_votes = 2,
                                .votes = v};
        struct proto_ack ack = {0};

        /* boot A reached the collector once, with a heartbeat */
        send_batch(&fx->w, SECRET1, &hb, &ack, &before, &after);
        proto_ack_finish(&ack);

        /* after a restart (boot B), two votes kept from earlier boots arrive: one cast 10 s
         * before that heartbeat, one of a boot that never reached the collector */
        v[0] = make_vote(3, "E2", t - DAY_MS - 10000);
        snprintf(v[0].vote.boot, sizeof(v[0].vote.boot), BOOT_A);
        v[0].vote.mono_ms = mono_a - 10000;
        v[1] = make_vote(2, "E2", t - 2 * DAY_MS);
        snprintf(v[1].vote.boot, sizeof(v[1].vote.boot), BOOT_C);
        v[1].vote.mono_ms = 60000;
        send_batch(&fx->w, SECRET1, &b, &ack, NULL, NULL);
        assert_int_equal(ack.results[0].status, PROTO_STORED);
        assert_int_equal(ack.results[1].status, PROTO_STORED);
        proto_ack_finish(&ack);

        cast = stored_cast(&fx->w, &v[0], &orig);
        assert_within(cast, before - 10000 - 1000, after - 10000 + 1000);
        assert_int_equal(orig, t - DAY_MS - 10000);
        assert_int_equal(stored_cast(&fx->w, &v[1], &orig), t - 2 * DAY_MS);
        assert_int_equal(orig, INT64_MIN);
}

static void test_status_report_is_kept(void **state)
{
        struct webtest_fixture *fx = *state;
        struct proto_batch b = {.terminal = "T1", .sent_at_ms = real_ms()};
        struct proto_ack ack = {0};
        struct web_response resp;
        int64_t before, after;
        char row[512], *body = NULL;
        json_t *root;

        b.status = (struct proto_status_report){.present = true,
                                                .version = "0.2.0",
                                                .queue = 12,
                                                .rejected = 1,
                                                .clock_offset_ms = -3100,
                                                .last_error = "collector: timed out"};
        send_batch(&fx->w, SECRET1, &b, &ack, &before, &after);
        proto_ack_finish(&ack);
        webtest_db_text(
            &fx->w, row,
            "SELECT version || '|' || queue || '|' || rejected || '|' || clock_offset_ms ||"
            " '|' || last_error FROM terminals WHERE id = 'T1'");
        assert_string_equal(row, "0.2.0|12|1|-3100|collector: timed out");
        assert_within(webtest_db_int(&fx->w, "SELECT status_at FROM terminals WHERE id = 'T1'"),
                      before / 1000, after / 1000);
        assert_within(webtest_db_int(&fx->w, "SELECT last_seen FROM terminals WHERE id = 'T1'"),
                      before / 1000, after / 1000);
        /* the other terminal has reported nothing */
        assert_int_equal(webtest_db_int(&fx->w, "SELECT status_at FROM terminals WHERE id = 'T2'"),
                         INT64_MIN);

        /* a batch without a report keeps the last one */
        b.status.present = false;
        send_batch(&fx->w, SECRET1, &b, &ack, NULL, NULL);
        proto_ack_finish(&ack);
        webtest_db_text(&fx->w, row,
                        "SELECT version || '|' || queue FROM terminals WHERE id = 'T1'");
        assert_string_equal(row, "0.2.0|12");

        /* a new one replaces it, a cleared error included */
        b.status = (struct proto_status_report){.present = true, .version = "0.2.1"};
        send_batch(&fx->w, SECRET1, &b, &ack, NULL, NULL);
        proto_ack_finish(&ack);
        webtest_db_text(
            &fx->w, row,
            "SELECT version || '|' || queue || '|' || rejected || '|' || clock_offset_ms ||"
            " '|' || last_error FROM terminals WHERE id = 'T1'");
        assert_string_equal(row, "0.2.1|0|0|0|");

        /* a malformed report refuses the batch and changes nothing */
        b.status.queue = 3;
        assert_int_equal(proto_batch_encode(&b, &body), 0);
        root = json_loads(body, 0, NULL);
        assert_non_null(root);
        free(body);
        assert_int_equal(
            json_object_set_new(json_object_get(root, "status"), "queue", json_integer(-1)), 0);
        body = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        webtest_post_api(&fx->w, "/api/v1/votes", AUTH1, "application/json", body, &resp);
        webtest_assert_api_error(&resp, 400, "status.queue:");
        web_response_finish(&resp);
        free(body);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT queue FROM terminals WHERE id = 'T1'"), 0);
}

static void test_suppressed_vote_is_kept_but_not_counted(void **state)
{
        struct webtest_fixture *fx = *state;
        int64_t t = real_ms();
        struct proto_vote v[2] = {make_vote(3, "E2", t - 3000), make_vote(1, "E2", t - 1000)};
        struct proto_batch b = {.terminal = "T1", .sent_at_ms = t, .n_votes = 2, .votes = v};
        struct proto_ack ack = {0};
        char label[PERIOD_LABEL_MAX], why[64];
        struct period month;
        json_t *r;

        /* pressed again within the minimum interval (regulation 3.2) */
        snprintf(v[1].vote.suppressed, sizeof(v[1].vote.suppressed), "%s",
                 VOTE_SUPPRESSED_MIN_INTERVAL);
        send_batch(&fx->w, SECRET1, &b, &ack, NULL, NULL);
        assert_int_equal(ack.results[0].status, PROTO_STORED);
        assert_int_equal(ack.results[1].status, PROTO_STORED);
        proto_ack_finish(&ack);
        assert_int_equal(webtest_vote_count(&fx->w), 2);
        webtest_db_text(&fx->w, why, "SELECT suppressed FROM votes WHERE uuid = '%s'",
                        v[1].vote.id.s);
        assert_string_equal(why, "min_interval");
        webtest_db_text(&fx->w, why, "SELECT suppressed FROM votes WHERE uuid = '%s'",
                        v[0].vote.id.s);
        assert_string_equal(why, "NULL");

        webtest_month_label(false, &month, label, sizeof(label));
        r = webtest_report(&fx->w, label);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "total"), 1);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "exemplary"), 1);
        assert_int_equal(webtest_unit_count(r, fx->city.grandchild, "satisfactory"), 0);
        assert_int_equal(webtest_unit_count(r, fx->city.root, "total"), 1);
        json_decref(r);

        /* sent again, both are known */
        send_batch(&fx->w, SECRET1, &b, &ack, NULL, NULL);
        assert_int_equal(ack.results[0].status, PROTO_DUPLICATE);
        assert_int_equal(ack.results[1].status, PROTO_DUPLICATE);
        proto_ack_finish(&ack);
        assert_int_equal(webtest_vote_count(&fx->w), 2);
}

/* ---- migration from schema version 1 ---- */

/* Schema version 1 exactly as collector/store_sqlite.c's migrations[0] made it. */
static const char schema_v1[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE units(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES units(id),"
    " kind TEXT NOT NULL, name TEXT NOT NULL, name_en TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX units_parent ON units(parent_id);"
    "CREATE TABLE directions(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, name_en TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE employees(id INTEGER PRIMARY KEY, personal_no TEXT NOT NULL UNIQUE,"
    " full_name TEXT NOT NULL, position TEXT NOT NULL,"
    " unit_id INTEGER NOT NULL REFERENCES units(id), is_head INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE workplaces(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, unit_id INTEGER NOT NULL REFERENCES units(id),"
    " direction_id INTEGER REFERENCES directions(id));"
    "CREATE TABLE terminals(id TEXT PRIMARY KEY,"
    " workplace_id INTEGER NOT NULL REFERENCES workplaces(id),"
    " secret_hash BLOB NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, last_seen INTEGER);"
    "CREATE TABLE qr_tokens(token TEXT PRIMARY KEY,"
    " employee_id INTEGER NOT NULL REFERENCES employees(id),"
    " workplace_id INTEGER REFERENCES workplaces(id), channel TEXT NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
    "CREATE TABLE users(id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL,"
    " role TEXT NOT NULL CHECK(role IN ('admin','official','manager','auditor')),"
    " unit_id INTEGER REFERENCES units(id));"
    "CREATE TABLE votes(id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
    " level INTEGER NOT NULL CHECK(level BETWEEN 1 AND 3),"
    " employee_id INTEGER NOT NULL REFERENCES employees(id),"
    " unit_id INTEGER NOT NULL REFERENCES units(id),"
    " workplace_id INTEGER REFERENCES workplaces(id),"
    " direction_id INTEGER REFERENCES directions(id),"
    " channel TEXT NOT NULL, terminal_id TEXT, shift TEXT,"
    " cast_at INTEGER NOT NULL, received_at INTEGER NOT NULL, day INTEGER NOT NULL);"
    "CREATE INDEX votes_unit_cast ON votes(unit_id, cast_at);"
    "CREATE INDEX votes_employee_cast ON votes(employee_id, cast_at);";

/* A version 1 database at path, as a collector of that version left it: an organisation,
 * two terminals (secret hashes made the way it made them), a printed token and two votes. */
static void make_v1_database(const char *path)
{
        unsigned char hash[2][32];
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        char sql[1024];
        int64_t t = real_ms();

        crypto_generichash(hash[0], 32, (const unsigned char *)SECRET1, strlen(SECRET1), NULL, 0);
        crypto_generichash(hash[1], 32, (const unsigned char *)SECRET2, strlen(SECRET2), NULL, 0);
        assert_int_equal(
            sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), SQLITE_OK);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO units VALUES (1, NULL, 'council', 'Міська рада', ''),"
                 " (2, 1, 'section', '" GRANDCHILD_NAME "', '');"
                 "INSERT INTO employees VALUES (1, 'E2', '" E2_NAME "', '" E2_POSITION "', 2, 0);"
                 "INSERT INTO workplaces VALUES (1, 'W1', 'Вікно 1', 2, NULL);"
                 "INSERT INTO qr_tokens VALUES ('tokOldPrint1', 1, 1, 'qr_printed', 0, %" PRId64
                 ");"
                 "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id, channel,"
                 " terminal_id, cast_at, received_at, day) VALUES"
                 " ('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a50', 3, 1, 2, 1, 'terminal', 'T1',"
                 " %" PRId64 ", %" PRId64 ", %d),"
                 " ('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51', 1, 1, 2, 1, 'qr_printed', NULL,"
                 " %" PRId64 ", %" PRId64 ", %d);"
                 "PRAGMA user_version = 1;",
                 t / 1000, t - 2000, t - 1000, (int)period_day_key(t / 1000), t - 1000, t,
                 (int)period_day_key(t / 1000));
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "INSERT INTO terminals(id, workplace_id, secret_hash,"
                                            " created_at) VALUES (?, 1, ?, ?)",
                                            -1, &st, NULL),
                         SQLITE_OK);
        for (int i = 0; i < 2; i++) {
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, i ? "T2" : "T1", -1, SQLITE_STATIC);
                sqlite3_bind_blob(st, 2, hash[i], 32, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, t / 1000);
                assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
}

/* The fixture over a version 1 database instead of a fresh one. */
static int setup_v1(void **state)
{
        struct webtest_fixture *fx = calloc(1, sizeof(*fx));

        if (!fx)
                return -1;
        *state = fx;
        if (webtest_mkdir(&fx->w, "otsinka-migrate") < 0)
                return -1;
        make_v1_database(fx->w.db);
        return webtest_start(&fx->w, webtest_assets(), PUBLIC_URL) < 0 ? -1 : 0;
}

static void test_migration_from_v1_keeps_data(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest *w = &fx->w;
        struct proto_batch hb = {.terminal = "T1", .sent_at_ms = real_ms()};
        struct proto_ack ack = {0};
        struct roster ro = {0};
        char key1[80], key2[80], key1_again[80], hex[2 * QRTOKEN_KEY_LEN + 1];
        char label[PERIOD_LABEL_MAX];
        char fresh[sizeof(w->dir) + 16];
        struct store *s = NULL;
        struct period month;
        int version = 0, latest = 0;
        json_t *r;

        /* to the version a new database has */
        snprintf(fresh, sizeof(fresh), "%s/fresh.db", w->dir);
        assert_int_equal(store_open(fresh, &s), 0);
        assert_int_equal(s->ops->migrate(s, &latest), 0);
        store_close(s);
        assert_true(latest >= 2);
        assert_int_equal(w->store->ops->migrate(w->store, &version), 0);
        assert_int_equal(version, latest);
        assert_int_equal(webtest_db_int(w, "PRAGMA user_version"), latest);
        /* the votes are kept, and counted as before */
        assert_int_equal(webtest_vote_count(w), 2);
        assert_int_equal(webtest_db_int(w, "SELECT COUNT(*) FROM votes WHERE suppressed IS NULL"
                                           " AND cast_at_orig IS NULL"),
                         2);
        webtest_month_label(false, &month, label, sizeof(label));
        r = webtest_report(w, label);
        assert_int_equal(webtest_unit_count(r, 2, "total"), 2);
        json_decref(r);
        /* the printed token still opens its page */
        assert_get_status(w, "/r/tokOldPrint1", 200);

        /* every old terminal has a key of its own */
        assert_int_equal(webtest_db_int(w,
                                        "SELECT COUNT(*) FROM terminals"
                                        " WHERE typeof(qr_key) = 'blob' AND length(qr_key) = 32"),
                         2);
        webtest_db_text(w, key1, "SELECT lower(hex(qr_key)) FROM terminals WHERE id = 'T1'");
        webtest_db_text(w, key2, "SELECT lower(hex(qr_key)) FROM terminals WHERE id = 'T2'");
        assert_string_not_equal(key1, key2);
        /* and keeps working: it sends, and pulls a roster with that key */
        send_batch(w, SECRET1, &hb, &ack, NULL, NULL);
        proto_ack_finish(&ack);
        pull_roster(w, "T1", SECRET1, &ro, NULL);
        sodium_bin2hex(hex, sizeof(hex), ro.qr_key, sizeof(ro.qr_key));
        assert_string_equal(hex, key1);
        assert_string_equal(ro.workplace, "W1");
        assert_non_null(roster_find(&ro, "E2"));
        assert_string_equal(roster_find(&ro, "E2")->pin_hash, "");
        roster_finish(&ro);

        /* a restart migrates nothing more: the keys stay, and so do the votes */
        assert_int_equal(webtest_restart(w), 0);
        webtest_db_text(w, key1_again, "SELECT lower(hex(qr_key)) FROM terminals WHERE id = 'T1'");
        assert_string_equal(key1_again, key1);
        assert_int_equal(webtest_db_int(w, "PRAGMA user_version"), latest);
        assert_int_equal(webtest_vote_count(w), 2);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, webtest_teardown)
            T(test_pull_gives_workplace_subtree_and_key),
            T(test_pull_carries_settings),
            T(test_pull_etag_and_304),
            T(test_pull_refuses_bad_credentials),
            T(test_revoked_terminal_is_refused),
            T(test_enroll_makes_a_working_terminal),
            T(test_enroll_refuses_expired_code),
            T(test_enroll_is_rate_limited_per_address),
            T(test_enroll_refuses_malformed_requests),
            T(test_screen_page_takes_a_vote),
            T(test_screen_page_refuses_forged_codes),
            T(test_screen_page_expires),
            T(test_batch_events_are_stored_once),
            T(test_clock_corrects_votes_of_the_sending_boot),
            T(test_clock_corrects_votes_of_an_earlier_boot),
            T(test_status_report_is_kept),
            T(test_suppressed_vote_is_kept_but_not_counted),
            cmocka_unit_test_setup_teardown(test_migration_from_v1_keeps_data, setup_v1,
                                            webtest_teardown),
#undef T
        };

        return webtest_run_group(tests, LOG_LEVEL_WARN);
}
