/* SPDX-License-Identifier: MIT */
/* Signing in and reviewing flagged votes, as officials and administrators use the pages,
 * through web_handle() over a real SQLite file: the real sign-in flow (pre-session cookie and
 * CSRF token), what each role may open, counting or excluding a flagged vote with the report
 * and the audit log following, and sessions that end on sign-out, when idle, and after too
 * many wrong passwords. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "collector.h"
#include "log.h"
#include "period.h"
#include "proto.h"
#include "store.h"
#include "testutil.h"
#include "web.h"
#include "webtest.h"

#define SECRET "T1-Xq3-vR8s_p2Lm9TzK4wB"
#define TOK_E2 "tokGrand0002"
#define TOK_E4 "tokSibling04"
#define E2_NAME "Коваленко Олена Петрівна"
#define E4_NAME "Лисенко Віктор Петрович"
#define PW_ADMIN "Adm1n-pass-Qx7"
#define PW_OFFICIAL "0fficial-pass-Lm2"
#define PW_OTHER "0ther-pass-Vb5"
#define PW_MANAGER "Manag3r-pass-Tr8"
#define PW_AUDITOR "Aud1tor-pass-Zn4"
#define TEXT_NO_COOKIE "телефон не зберігає cookie"
#define TEXT_NONE_FLAGGED "Позначених голосів немає."
#define TEXT_BAD_LOGIN "Неправильний логін або пароль."
#define TEXT_TOO_MANY "Забагато невдалих спроб."
#define TEXT_FORBIDDEN "Ця сторінка Вам недоступна."
#define REASON "Perevireno+na+misci" /* form-encoded; stored with spaces */
#define REASON_TEXT "Perevireno na misci"

/* root → child → grandchild (E2), and the sibling (E4). The official looks after the child's
 * subtree, the other official after the sibling's, the manager after the child's. */
static void seed(struct webtest_fixture *fx)
{
        struct store *s = fx->w.store;
        const struct store_ops *o = s->ops;
        int64_t e2, e4, wp;

        e2 = webtest_add_employee(s, "E2", E2_NAME, "Адміністратор ЦНАП", fx->city.grandchild,
                                  false);
        e4 = webtest_add_employee(s, "E4", E4_NAME, "Головний спеціаліст", fx->city.sibling, false);
        assert_int_equal(o->token_add(s, TOK_E2, e2, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_E4, e4, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->workplace_add(s, "W1", "Вікно 1", fx->city.grandchild, 0, &wp), 0);
        assert_int_equal(o->terminal_add(s, "T1", "W1", SECRET), 0);
        webtest_add_user(&fx->w, "admin", PW_ADMIN, "admin", 0);
        webtest_add_user(&fx->w, "official", PW_OFFICIAL, "official", fx->city.child);
        webtest_add_user(&fx->w, "other", PW_OTHER, "official", fx->city.sibling);
        webtest_add_user(&fx->w, "manager", PW_MANAGER, "manager", fx->city.child);
        webtest_add_user(&fx->w, "auditor", PW_AUDITOR, "auditor", 0);
}

static int setup(void **state)
{
        return webtest_setup_city(state, "otsinka-admin", NULL, seed);
}

/* ---- helpers ---- */

/* A phone that keeps no cookie rates E2 (or E4): stored, flagged. Its id into uuid. */
static void flagged_vote(struct webtest_fixture *fx, const char *token, char uuid[VOTE_ID_LEN + 1])
{
        char ft[WEBTEST_FORM_TOKEN_MAX], path[64];
        struct web_response resp;

        snprintf(path, sizeof(path), "/r/%s", token);
        fx->w.phone_cookie[0] = 0;
        webtest_vote_page(&fx->w, path, NULL, ft);
        fx->w.phone_cookie[0] = 0;
        webtest_vote_post(&fx->w, path, NULL, "level=1", ft, &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        webtest_db_query(&fx->w, uuid, VOTE_ID_LEN + 1,
                         "SELECT uuid FROM votes WHERE flag = 'no_cookie' ORDER BY id DESC");
}

/* The review form's body for vote: decision and REASON (the caller adds the csrf). */
static void review_form(char *buf, size_t n, const char *uuid, const char *decision)
{
        snprintf(buf, n, "vote=%s&decision=%s&reason=" REASON, uuid, decision);
}

/* The state of a vote: "counted review review_by reason". */
static void vote_state(struct webtest_fixture *fx, const char *uuid, char *buf, size_t n)
{
        webtest_db_query(&fx->w, buf, n,
                         "SELECT counted || ' ' || IFNULL(review, '-') || ' ' ||"
                         " IFNULL(review_by, '-') || ' ' || IFNULL(review_reason, '-')"
                         " FROM votes WHERE uuid = '%s'",
                         uuid);
}

static int64_t audit_count(struct webtest_fixture *fx, const char *login, const char *action)
{
        return webtest_db_int(&fx->w,
                              "SELECT COUNT(*) FROM audit WHERE login = '%s' AND action = '%s'",
                              login, action);
}

/* ---- review ---- */

static void test_admin_counts_a_flagged_vote(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser admin;
        struct web_response resp;
        char uuid[VOTE_ID_LEN + 1], form[256], st[256], detail[256];

        flagged_vote(fx, TOK_E2, uuid);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 0);
        assert_sign_in(&fx->w, "admin", PW_ADMIN, &admin);

        webtest_browse(&fx->w, &admin, "GET", "/admin/flagged", NULL, NULL, false, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, E2_NAME);
        assert_contains(resp.body, TEXT_NO_COOKIE); /* the reason in words */
        assert_contains(resp.body, uuid);
        assert_not_contains(resp.body, TEXT_NONE_FLAGGED);
        web_response_finish(&resp);

        review_form(form, sizeof(form), uuid, "count");
        webtest_browse(&fx->w, &admin, "POST", "/admin/flagged/review", NULL, form, true, &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/admin/flagged");
        web_response_finish(&resp);

        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.root), 1);
        vote_state(fx, uuid, st, sizeof(st));
        assert_string_equal(st, "1 count admin " REASON_TEXT);
        /* who, what and why, in the audit log */
        assert_int_equal(audit_count(fx, "admin", "vote_review"), 1);
        webtest_db_text(
            &fx->w, detail,
            "SELECT detail || ' from ' || client FROM audit WHERE action = 'vote_review'");
        assert_contains(detail, "count");
        assert_contains(detail, uuid);
        assert_contains(detail, REASON_TEXT);
        assert_contains(detail, "from 192.0.2.7");

        /* the page says what was decided, and offers no second decision */
        webtest_browse(&fx->w, &admin, "GET", "/admin/flagged", NULL, NULL, false, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "зараховано (admin): " REASON_TEXT);
        assert_not_contains(resp.body, "name=\"vote\" value=\"");
        web_response_finish(&resp);
}

static void test_official_excludes_a_flagged_vote(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser official;
        struct web_response resp;
        char uuid[VOTE_ID_LEN + 1], form[256], st[256];

        flagged_vote(fx, TOK_E2, uuid);
        assert_sign_in(&fx->w, "official", PW_OFFICIAL, &official);
        webtest_browse(&fx->w, &official, "GET", "/admin/flagged", NULL, NULL, false, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, uuid);
        assert_contains(resp.body, TEXT_NO_COOKIE);
        web_response_finish(&resp);

        review_form(form, sizeof(form), uuid, "exclude");
        webtest_browse(&fx->w, &official, "POST", "/admin/flagged/review", NULL, form, true, &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        vote_state(fx, uuid, st, sizeof(st));
        assert_string_equal(st, "0 exclude official " REASON_TEXT);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 0);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.root), 0);
        assert_int_equal(webtest_vote_count(&fx->w), 1); /* kept, not deleted */
        assert_int_equal(audit_count(fx, "official", "vote_review"), 1);

        webtest_browse(&fx->w, &official, "GET", "/admin/flagged", NULL, NULL, false, &resp);
        assert_contains(resp.body, "виключено (official): " REASON_TEXT);
        web_response_finish(&resp);
}

static void test_review_needs_the_session_csrf(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser admin, official;
        char uuid[VOTE_ID_LEN + 1], form[256], other_csrf[512], made_up[512], body[512], st[256];
        const char *const bodies[] = {form, other_csrf, made_up};

        flagged_vote(fx, TOK_E2, uuid);
        assert_sign_in(&fx->w, "admin", PW_ADMIN, &admin);
        assert_sign_in(&fx->w, "official", PW_OFFICIAL, &official);
        review_form(form, sizeof(form), uuid, "count");
        /* no csrf at all, the csrf of another session, a made-up one */
        snprintf(other_csrf, sizeof(other_csrf), "csrf=%s&%s", official.csrf, form);
        snprintf(made_up, sizeof(made_up), "csrf=00112233445566778899aabbccddeeff&%s", form);
        assert_true(official.csrf[0] && strcmp(official.csrf, admin.csrf) != 0);

        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
                assert_int_equal(webtest_browse_status(&fx->w, &admin, "POST",
                                                       "/admin/flagged/review", bodies[i], false),
                                 400);
        /* a link (GET) that carries it all in the query changes nothing either */
        snprintf(body, sizeof(body),
                 "/admin/flagged/review?csrf=%s&vote=%s&decision=count&reason=x", admin.csrf, uuid);
        assert_int_equal(webtest_browse_status(&fx->w, &admin, "GET", body, NULL, false), 400);
        /* nor an unknown decision, an empty reason or a malformed vote id */
        snprintf(body, sizeof(body), "vote=%s&decision=keep&reason=x", uuid);
        assert_int_equal(
            webtest_browse_status(&fx->w, &admin, "POST", "/admin/flagged/review", body, true),
            400);
        snprintf(body, sizeof(body), "vote=%s&decision=count&reason=", uuid);
        assert_int_equal(
            webtest_browse_status(&fx->w, &admin, "POST", "/admin/flagged/review", body, true),
            400);
        assert_int_equal(webtest_browse_status(&fx->w, &admin, "POST", "/admin/flagged/review",
                                               "vote=1%27+OR+1%3D1&decision=count&reason=x", true),
                         400);

        vote_state(fx, uuid, st, sizeof(st));
        assert_string_equal(st, "0 - - -");
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 0);
        assert_int_equal(audit_count(fx, "admin", "vote_review"), 0);
}

static void test_official_reviews_only_own_subtree(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser other, official;
        struct web_response resp;
        char e2_vote[VOTE_ID_LEN + 1], e4_vote[VOTE_ID_LEN + 1], form[256], st[256];

        flagged_vote(fx, TOK_E2, e2_vote); /* the child's subtree */
        flagged_vote(fx, TOK_E4, e4_vote); /* the sibling's */
        assert_sign_in(&fx->w, "other", PW_OTHER, &other);
        assert_sign_in(&fx->w, "official", PW_OFFICIAL, &official);

        /* each sees the votes of their own subtree only */
        webtest_browse(&fx->w, &other, "GET", "/admin/flagged", NULL, NULL, false, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, e4_vote);
        assert_not_contains(resp.body, e2_vote);
        assert_not_contains(resp.body, E2_NAME);
        web_response_finish(&resp);
        webtest_browse(&fx->w, &official, "GET", "/admin/flagged", NULL, NULL, false, &resp);
        assert_contains(resp.body, e2_vote);
        assert_not_contains(resp.body, e4_vote);
        assert_not_contains(resp.body, E4_NAME);
        web_response_finish(&resp);

        /* and cannot decide on another's, even knowing its id */
        review_form(form, sizeof(form), e2_vote, "count");
        webtest_browse(&fx->w, &other, "POST", "/admin/flagged/review", NULL, form, true, &resp);
        assert_int_equal(resp.status, 404);
        web_response_finish(&resp);
        vote_state(fx, e2_vote, st, sizeof(st));
        assert_string_equal(st, "0 - - -");
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 0);
        assert_int_equal(audit_count(fx, "other", "vote_review"), 0);

        /* their own they can */
        review_form(form, sizeof(form), e4_vote, "count");
        webtest_browse(&fx->w, &other, "POST", "/admin/flagged/review", NULL, form, true, &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.sibling), 1);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 0);
}

static void test_review_touches_only_flagged_votes(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser admin;
        char uuid[VOTE_ID_LEN + 1], form[256], st[256];

        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        webtest_db_text(&fx->w, uuid, "SELECT uuid FROM votes");
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
        assert_sign_in(&fx->w, "admin", PW_ADMIN, &admin);
        /* a vote nobody flagged cannot be excluded, even by an administrator who knows its id */
        review_form(form, sizeof(form), uuid, "exclude");
        assert_int_equal(
            webtest_browse_status(&fx->w, &admin, "POST", "/admin/flagged/review", form, true),
            404);
        /* nor can one that does not exist */
        review_form(form, sizeof(form), "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a50", "count");
        assert_int_equal(
            webtest_browse_status(&fx->w, &admin, "POST", "/admin/flagged/review", form, true),
            404);
        vote_state(fx, uuid, st, sizeof(st));
        assert_string_equal(st, "1 - - -");
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
        assert_int_equal(audit_count(fx, "admin", "vote_review"), 0);
}

static void test_terminal_vote_without_shift_is_reviewed(void **state)
{
        struct webtest_fixture *fx = *state;
        int64_t t = (int64_t)time(NULL) * 1000;
        struct proto_vote v = {0};
        struct proto_batch b = {.terminal = "T1", .sent_at_ms = t, .n_votes = 1, .votes = &v};
        struct webtest_browser official;
        struct web_response resp;
        char *body = NULL, form[256];

        vote_id_new(&v.vote.id);
        v.vote.level = 2;
        snprintf(v.vote.channel, sizeof(v.vote.channel), VOTE_CHANNEL_TERMINAL);
        snprintf(v.vote.employee, sizeof(v.vote.employee), "E2");
        v.vote.cast_at_ms = t - 1000;
        assert_int_equal(proto_batch_encode(&b, &body), 0);
        webtest_post_api(&fx->w, "/api/v1/votes", "Bearer T1:" SECRET, "application/json", body,
                         &resp);
        assert_int_equal(resp.status, 200);
        web_response_finish(&resp);
        free(body);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 0);

        assert_sign_in(&fx->w, "official", PW_OFFICIAL, &official);
        webtest_browse(&fx->w, &official, "GET", "/admin/flagged", NULL, NULL, false, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, v.vote.id.s);
        assert_contains(resp.body, "термінал без відкритої зміни");
        web_response_finish(&resp);
        review_form(form, sizeof(form), v.vote.id.s, "count");
        assert_int_equal(
            webtest_browse_status(&fx->w, &official, "POST", "/admin/flagged/review", form, true),
            303);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
}

/* ---- who may open what ---- */

static void test_roles_are_kept_to_their_pages(void **state)
{
        static const char *const review_only[] = {"/admin/flagged", "/admin/qr",
                                                  "/admin/qr/code.svg?token=" TOK_E2};
        static const char *const admin_only[] = {"/admin/terminals"};
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        char uuid[VOTE_ID_LEN + 1], form[256], st[256];
        struct web_response resp;

        flagged_vote(fx, TOK_E2, uuid);
        review_form(form, sizeof(form), uuid, "count");
        /* a manager and an auditor read reports; they review nothing and run no fleet */
        for (int k = 0; k < 2; k++) {
                assert_sign_in(&fx->w, k ? "auditor" : "manager", k ? PW_AUDITOR : PW_MANAGER, &b);
                for (size_t i = 0; i < sizeof(review_only) / sizeof(review_only[0]); i++)
                        assert_int_equal(
                            webtest_browse_status(&fx->w, &b, "GET", review_only[i], NULL, false),
                            403);
                for (size_t i = 0; i < sizeof(admin_only) / sizeof(admin_only[0]); i++)
                        assert_int_equal(
                            webtest_browse_status(&fx->w, &b, "GET", admin_only[i], NULL, false),
                            403);
                assert_int_equal(
                    webtest_browse_status(&fx->w, &b, "POST", "/admin/flagged/review", form, true),
                    403);
                assert_int_equal(webtest_browse_status(&fx->w, &b, "POST", "/admin/qr/issue",
                                                       "employee=E2&channel=qr_printed", true),
                                 403);
                webtest_browse(&fx->w, &b, "GET", "/admin/flagged", NULL, NULL, false, &resp);
                assert_contains(resp.body, TEXT_FORBIDDEN);
                assert_not_contains(resp.body, uuid);
                web_response_finish(&resp);
        }
        vote_state(fx, uuid, st, sizeof(st));
        assert_string_equal(st, "0 - - -");

        /* an official reviews and prints codes, but the fleet is the administrators' */
        assert_sign_in(&fx->w, "official", PW_OFFICIAL, &b);
        for (size_t i = 0; i < sizeof(review_only) / sizeof(review_only[0]); i++)
                assert_int_equal(
                    webtest_browse_status(&fx->w, &b, "GET", review_only[i], NULL, false), 200);
        for (size_t i = 0; i < sizeof(admin_only) / sizeof(admin_only[0]); i++)
                assert_int_equal(
                    webtest_browse_status(&fx->w, &b, "GET", admin_only[i], NULL, false), 403);
        assert_int_equal(webtest_browse_status(&fx->w, &b, "POST", "/admin/terminals/enroll-code",
                                               "workplace=W1", true),
                         403);
        assert_int_equal(webtest_browse_status(&fx->w, &b, "POST", "/admin/terminals/revoke",
                                               "terminal=T1", true),
                         403);

        /* the administrator opens everything */
        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        for (size_t i = 0; i < sizeof(review_only) / sizeof(review_only[0]); i++)
                assert_int_equal(
                    webtest_browse_status(&fx->w, &b, "GET", review_only[i], NULL, false), 200);
        for (size_t i = 0; i < sizeof(admin_only) / sizeof(admin_only[0]); i++)
                assert_int_equal(
                    webtest_browse_status(&fx->w, &b, "GET", admin_only[i], NULL, false), 200);
}

static void test_anonymous_is_sent_to_sign_in(void **state)
{
        static const char *const paths[] = {
            "/admin",
            "/admin/",
            "/admin/terminals",
            "/admin/terminals/revoke",
            "/admin/terminals/enroll-code",
            "/admin/flagged",
            "/admin/flagged/review",
            "/admin/qr",
            "/admin/qr/issue",
            "/admin/qr/revoke",
            "/admin/qr/code.png?token=" TOK_E2,
            "/admin/qr/code.svg?token=" TOK_E2,
            "/admin/qr/sheet.pdf?channel=qr_printed&per_page=6",
            "/admin/qr/sheet.pdf?channel=qr_printed&per_page=1&employee=E2",
            "/admin/org",
            "/admin/users",
            "/admin/audit",
            "/admin/no-such-page",
            "/logout",
        };
        /* no cookie; a made-up session; a pre-session cookie is not a session */
        static const struct webtest_browser browsers[] = {
            {.pre = ""},
            {.session = "otsinka_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
             .csrf = "00112233445566778899aabbccddeeff"},
            {.session = "otsinka_session=", .csrf = "x"},
            {.pre = "otsinka_pre=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
        };
        struct webtest_fixture *fx = *state;
        char uuid[VOTE_ID_LEN + 1], form[256], st[256];

        flagged_vote(fx, TOK_E2, uuid);
        review_form(form, sizeof(form), uuid, "count");
        for (size_t k = 0; k < sizeof(browsers) / sizeof(browsers[0]); k++)
                for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                        for (int post = 0; post < 2; post++) {
                                struct web_response resp;

                                webtest_browse(&fx->w, &browsers[k], post ? "POST" : "GET",
                                               paths[i], NULL, post ? form : NULL, post, &resp);
                                if (resp.status != 303 || strcmp(resp.location, "/login") != 0)
                                        print_error("%s %s (browser %zu): %d %s\n",
                                                    post ? "POST" : "GET", paths[i], k, resp.status,
                                                    resp.location);
                                assert_int_equal(resp.status, 303);
                                assert_string_equal(resp.location, "/login");
                                /* nothing of the page: no PNG, PDF or form */
                                assert_string_equal(resp.disposition, "");
                                assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
                                web_response_finish(&resp);
                        }
        vote_state(fx, uuid, st, sizeof(st));
        assert_string_equal(st, "0 - - -");
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM sessions"), 0);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM audit"), 0);
}

/* ---- sessions ---- */

static void test_session_cookie_is_strict(void **state)
{
        static const char *const attrs[] = {"; Path=/", "; HttpOnly", "; Secure",
                                            "; SameSite=Strict"};
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;

        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        assert_true(strncmp(b.set_cookie, "otsinka_session=", 16) == 0);
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
                assert_contains(b.set_cookie, attrs[i]);
        /* a session cookie: gone when the browser closes */
        assert_not_contains(b.set_cookie, "Max-Age");
        assert_not_contains(b.set_cookie, "Expires");
        assert_int_equal(audit_count(fx, "admin", "login"), 1);
        assert_int_equal(webtest_browse_status(&fx->w, &b, "GET", "/admin/terminals", NULL, false),
                         200);
}

static void test_sign_in_form_needs_its_csrf(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;

        /* a fresh sign-in page, then the form sent without its cookie, or with another token */
        assert_int_equal(webtest_sign_in(&fx->w, "admin", "wrong", &b), 401);
        b.pre[0] = 0;
        webtest_browse(&fx->w, &b, "POST", "/login", NULL, "login=admin&password=" PW_ADMIN, true,
                       &resp);
        assert_int_equal(resp.status, 400);
        assert_true(strncmp(resp.set_cookie, "otsinka_session=", 16) != 0);
        web_response_finish(&resp);
        assert_int_equal(webtest_sign_in(&fx->w, "admin", "wrong", &b), 401);
        snprintf(b.csrf, sizeof(b.csrf), "00112233445566778899aabbccddeeff");
        webtest_browse(&fx->w, &b, "POST", "/login", NULL, "login=admin&password=" PW_ADMIN, true,
                       &resp);
        assert_int_equal(resp.status, 400);
        assert_true(strncmp(resp.set_cookie, "otsinka_session=", 16) != 0);
        web_response_finish(&resp);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM sessions"), 0);
}

static void test_wrong_password_is_refused_and_audited(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;
        char client[64];

        assert_int_equal(webtest_sign_in(&fx->w, "admin", PW_OFFICIAL, &b), 401);
        assert_string_equal(b.session, "");
        webtest_browse(&fx->w, &b, "POST", "/login", NULL, "login=admin&password=wrong", true,
                       &resp);
        assert_int_equal(resp.status, 401);
        assert_contains(resp.body, TEXT_BAD_LOGIN);
        assert_true(strncmp(resp.set_cookie, "otsinka_session=", 16) != 0);
        web_response_finish(&resp);
        assert_int_equal(audit_count(fx, "admin", "login_failed"), 2);
        webtest_db_text(&fx->w, client, "SELECT client FROM audit WHERE action = 'login_failed'");
        assert_string_equal(client, "192.0.2.7");
        /* an unknown login answers the same */
        assert_int_equal(webtest_sign_in(&fx->w, "nobody", PW_ADMIN, &b), 401);
        assert_int_equal(audit_count(fx, "nobody", "login_failed"), 1);
        assert_int_equal(audit_count(fx, "admin", "login"), 0);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM sessions"), 0);
}

static void test_too_many_wrong_passwords_lock_the_login(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;

        for (int i = 0; i < 5; i++)
                assert_int_equal(webtest_sign_in(&fx->w, "official", "wrong", &b), 401);
        /* the sixth, right this time, from the same address and from another */
        assert_int_equal(webtest_sign_in(&fx->w, "official", PW_OFFICIAL, &b), 429);
        webtest_browse(&fx->w, &b, "POST", "/login", NULL, "login=official&password=" PW_OFFICIAL,
                       true, &resp);
        assert_int_equal(resp.status, 429);
        assert_contains(resp.body, TEXT_TOO_MANY);
        web_response_finish(&resp);
        fx->w.client_addr = "198.51.100.20";
        assert_int_equal(webtest_sign_in(&fx->w, "official", PW_OFFICIAL, &b), 429);
        assert_int_equal(audit_count(fx, "official", "login"), 0);
        /* the same address is held back for other logins too; another address is not */
        fx->w.client_addr = "192.0.2.7";
        assert_int_equal(webtest_sign_in(&fx->w, "admin", PW_ADMIN, &b), 429);
        fx->w.client_addr = "203.0.113.5";
        assert_int_equal(webtest_sign_in(&fx->w, "admin", PW_ADMIN, &b), 303);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM sessions"), 1);
}

static void test_sign_out_ends_the_session(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;

        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        /* without the session's token, or by GET, sign-out does nothing */
        assert_int_equal(webtest_browse_status(&fx->w, &b, "POST", "/logout", "", false), 400);
        assert_int_equal(webtest_browse_status(&fx->w, &b, "GET", "/logout", NULL, false), 400);
        assert_int_equal(webtest_browse_status(&fx->w, &b, "GET", "/admin/flagged", NULL, false),
                         200);

        webtest_browse(&fx->w, &b, "POST", "/logout", NULL, "", true, &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/login");
        assert_true(strncmp(resp.set_cookie, "otsinka_session=;", 17) == 0);
        assert_contains(resp.set_cookie, "Max-Age=0");
        web_response_finish(&resp);
        assert_int_equal(audit_count(fx, "admin", "logout"), 1);

        /* a browser that kept the old cookie is sent to sign in */
        webtest_browse(&fx->w, &b, "GET", "/admin/flagged", NULL, NULL, false, &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/login");
        web_response_finish(&resp);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM sessions"), 0);
}

static void test_idle_session_ends(void **state)
{
        struct webtest_fixture *fx = *state;
        int64_t idle = fx->w.cfg.session_idle_s;
        struct webtest_browser b;
        char sql[256];

        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        /* unused for a minute less than session-idle: still there, and used again now */
        snprintf(sql, sizeof(sql), "UPDATE sessions SET idle_until = %lld",
                 (long long)time(NULL) - idle + 60);
        webtest_db_exec(&fx->w, sql);
        assert_int_equal(webtest_browse_status(&fx->w, &b, "GET", "/admin/flagged", NULL, false),
                         200);
        assert_true(webtest_db_int(&fx->w, "SELECT idle_until FROM sessions") >= time(NULL) - 5);

        /* unused for longer than session-idle: over */
        snprintf(sql, sizeof(sql), "UPDATE sessions SET idle_until = %lld",
                 (long long)time(NULL) - idle - 1);
        webtest_db_exec(&fx->w, sql);
        assert_int_equal(webtest_browse_status(&fx->w, &b, "GET", "/admin/flagged", NULL, false),
                         303);
        assert_int_equal(webtest_browse_status(&fx->w, &b, "POST", "/logout", "", true), 303);

        /* and a session in use ends at its hard limit all the same */
        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        webtest_db_exec(&fx->w, "UPDATE sessions SET expires_at = strftime('%s', 'now') - 1");
        assert_int_equal(webtest_browse_status(&fx->w, &b, "GET", "/admin/flagged", NULL, false),
                         303);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, webtest_teardown)
            T(test_admin_counts_a_flagged_vote),
            T(test_official_excludes_a_flagged_vote),
            T(test_review_needs_the_session_csrf),
            T(test_official_reviews_only_own_subtree),
            T(test_review_touches_only_flagged_votes),
            T(test_terminal_vote_without_shift_is_reviewed),
            T(test_roles_are_kept_to_their_pages),
            T(test_anonymous_is_sent_to_sign_in),
            T(test_session_cookie_is_strict),
            T(test_sign_in_form_needs_its_csrf),
            T(test_wrong_password_is_refused_and_audited),
            T(test_too_many_wrong_passwords_lock_the_login),
            T(test_sign_out_ends_the_session),
            T(test_idle_session_ends),
#undef T
        };

        return webtest_run_group(tests, LOG_LEVEL_WARN);
}
