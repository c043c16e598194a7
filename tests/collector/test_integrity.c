/* SPDX-License-Identifier: MIT */
/* The integrity rules (regulation 3.2) as a resident and an official notice them, through
 * web_handle() over a real SQLite file: a vote form is taken once, a forged or stale one is
 * refused, one phone rates one employee once per vote-interval, suspicious votes are kept but
 * flagged and counted in no report, and /metrics tells the operator what happened and to whom
 * it answers. */
#include <errno.h>
#include <pthread.h>
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
#include <sodium.h>

#include "collector.h"
#include "log.h"
#include "period.h"
#include "proto.h"
#include "store.h"
#include "testutil.h"
#include "web.h"
#include "webtest.h"

#define SECRET "T1-Xq3-vR8s_p2Lm9TzK4wB"
#define AUTH "Bearer T1:" SECRET
#define SHIFT "0190a1b2-0000-7000-8000-000000000001"
#define TOK_E2 "tokGrand0002"
#define TOK_E3 "tokGrand0003"
#define TOK_E4 "tokSibling04"
#define E2_NAME "Коваленко Олена Петрівна"
#define TEXT_FORM_EXPIRED "Ця форма застаріла."
#define TEXT_ALREADY_VOTED "Ви вже оцінили цього працівника."
#define FT_LEN 60 /* "<10 digits>-<16 hex>-<32 hex>", as collector/web.c makes it */

/* root → child → grandchild (E2, E3, terminal T1 at W1), and the sibling (E4). */
static void seed(struct webtest_fixture *fx)
{
        struct store *s = fx->w.store;
        const struct store_ops *o = s->ops;
        int64_t e2, e3, e4, wp;

        e2 = webtest_add_employee(s, "E2", E2_NAME, "Адміністратор ЦНАП", fx->city.grandchild,
                                  false);
        e3 = webtest_add_employee(s, "E3", "Мельник Тарас Іванович", "Адміністратор ЦНАП",
                                  fx->city.grandchild, false);
        e4 = webtest_add_employee(s, "E4", "Лисенко Віктор Петрович", "Головний спеціаліст",
                                  fx->city.sibling, false);
        assert_int_equal(o->workplace_add(s, "W1", "Вікно 1", fx->city.grandchild, 0, &wp), 0);
        assert_int_equal(o->terminal_add(s, "T1", "W1", SECRET), 0);
        assert_int_equal(o->token_add(s, TOK_E2, e2, "W1", VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_E3, e3, "W1", VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_E4, e4, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
}

static int setup(void **state)
{
        return webtest_setup_city(state, "otsinka-integrity", NULL, seed);
}

/* ---- helpers ---- */

/* A phone never seen before: the next vote page gives it a cookie of its own. */
static void new_phone(struct webtest *w)
{
        w->phone_cookie[0] = 0;
}

/* A vote from a phone that keeps no cookie: the page sets one, the POST comes without. */
static void vote_without_cookie(struct webtest *w, const char *path, const char *form,
                                struct web_response *resp)
{
        char ft[WEBTEST_FORM_TOKEN_MAX];

        new_phone(w);
        webtest_vote_page(w, path, NULL, ft);
        assert_true(w->phone_cookie[0] != 0); /* it was offered one */
        new_phone(w);
        webtest_vote_post(w, path, NULL, form, ft, resp);
}

/* The employee's nth vote (from 0, in the order stored). */
#define NTH_VOTE                                                                                   \
        " FROM votes v JOIN employees e ON e.id = v.employee_id WHERE e.personal_no = '%s'"        \
        " ORDER BY v.id LIMIT 1 OFFSET %d"

/* The employee's nth vote was flagged want_flag ("NULL" for none) and counts or not. */
static void assert_vote_flag(struct webtest_fixture *fx, const char *employee, int nth,
                             const char *want_flag, int64_t want_counted)
{
        char flag[32];
        int64_t counted;

        webtest_db_text(&fx->w, flag, "SELECT IFNULL(v.flag, 'NULL')" NTH_VOTE, employee, nth);
        counted = webtest_db_int(&fx->w, "SELECT v.counted" NTH_VOTE, employee, nth);
        if (strcmp(flag, want_flag) != 0 || counted != want_counted)
                print_error("vote %d for %s: flag %s, counted %lld\n", nth, employee, flag,
                            (long long)counted);
        assert_string_equal(flag, want_flag);
        assert_int_equal(counted, want_counted);
}

/* A form token signed with the collector's own key, as collector/web.c makes one: a test
 * may make one with any expiry, which a client cannot. */
static void signed_form_token(struct webtest_fixture *fx, int64_t expires, char ft[FT_LEN + 1])
{
        uint8_t mac[16];
        char hex[33];
        int n;

        n = snprintf(ft, FT_LEN + 1, "%010lld-0123456789abcdef", (long long)expires);
        assert_int_equal(n, 27);
        crypto_generichash(mac, sizeof(mac), (const unsigned char *)ft, (size_t)n,
                           fx->w.c.client_key, sizeof(fx->w.c.client_key));
        sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
        snprintf(ft + n, FT_LEN + 1 - (size_t)n, "-%s", hex);
}

static void set_string(char **field, const char *value)
{
        free(*field);
        *field = strdup(value);
        assert_non_null(*field);
}

/* ---- one form, one vote ---- */

static void test_form_sent_twice_stores_one_vote(void **state)
{
        struct webtest_fixture *fx = *state;
        char ft[WEBTEST_FORM_TOKEN_MAX];
        struct web_response resp;

        webtest_vote_page(&fx->w, "/r/" TOK_E2, NULL, ft);
        webtest_vote_post(&fx->w, "/r/" TOK_E2, NULL, "level=3", ft, &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/r/" TOK_E2 "/thanks");
        web_response_finish(&resp);
        /* a double tap, or the back button and "send" again, even with another choice */
        webtest_vote_post(&fx->w, "/r/" TOK_E2, NULL, "level=1", ft, &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/r/" TOK_E2 "/thanks");
        web_response_finish(&resp);

        assert_int_equal(webtest_vote_count(&fx->w), 1);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT level FROM votes"), 3);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
}

static void test_forged_or_stale_form_is_refused(void **state)
{
        struct webtest_fixture *fx = *state;
        int64_t now = time(NULL);
        char ft[WEBTEST_FORM_TOKEN_MAX], bad[12][WEBTEST_FORM_TOKEN_MAX + 16];
        char signed_future[FT_LEN + 1];
        size_t n_bad = 0;
        struct web_response resp;

        webtest_vote_page(&fx->w, "/r/" TOK_E2, NULL, ft);
        assert_int_equal(strlen(ft), FT_LEN);

        /* truncated, one character too many, and empty */
        snprintf(bad[n_bad++], sizeof(bad[0]), "%.*s", FT_LEN - 1, ft);
        snprintf(bad[n_bad++], sizeof(bad[0]), "%s0", ft);
        bad[n_bad++][0] = 0;
        /* well-formed but tampered with: the mac, the nonce, the expiry moved later */
        snprintf(bad[n_bad], sizeof(bad[0]), "%s", ft);
        bad[n_bad][FT_LEN - 1] = ft[FT_LEN - 1] == '0' ? '1' : '0';
        n_bad++;
        snprintf(bad[n_bad], sizeof(bad[0]), "%s", ft);
        bad[n_bad][20] = ft[20] == 'a' ? 'b' : 'a';
        n_bad++;
        snprintf(bad[n_bad], sizeof(bad[0]), "%010lld%s", (long long)now + 30 * 86400, ft + 10);
        n_bad++;
        /* made up whole, and expired (a client has no key, so its mac is wrong too) */
        snprintf(bad[n_bad++], sizeof(bad[0]),
                 "9999999999-0123456789abcdef-0123456789abcdef0123456789abcdef");
        snprintf(bad[n_bad++], sizeof(bad[0]), "%010lld%s", (long long)now - 60, ft + 10);
        /* expired with a genuine mac: one the collector itself made for a page shown long ago */
        signed_form_token(fx, now - 1, bad[n_bad++]);
        /* the right shape with other characters */
        snprintf(bad[n_bad], sizeof(bad[0]), "%s", ft);
        bad[n_bad][10] = '_';
        n_bad++;

        for (size_t i = 0; i < n_bad; i++) {
                webtest_vote_post(&fx->w, "/r/" TOK_E2, NULL, "level=3", bad[i], &resp);
                if (resp.status != 400)
                        print_error("ft \"%s\": %d\n", bad[i], resp.status);
                assert_int_equal(resp.status, 400);
                assert_string_equal(resp.location, "");
                assert_contains(resp.body, TEXT_FORM_EXPIRED);
                web_response_finish(&resp);
        }
        /* and a POST without any ft */
        webtest_post_form(&fx->w, "/r/" TOK_E2, "level=3", &resp);
        assert_int_equal(resp.status, 400);
        assert_contains(resp.body, TEXT_FORM_EXPIRED);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 0);

        /* none of that used up the genuine form, which still votes once */
        webtest_vote_post(&fx->w, "/r/" TOK_E2, NULL, "level=2", ft, &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);

        /* a token signed the same way but still valid is taken: the expired one above was
         * refused for its expiry, not for being made by this test */
        signed_form_token(fx, now + 600, signed_future);
        new_phone(&fx->w);
        webtest_vote_page(&fx->w, "/r/" TOK_E3, NULL, ft);
        webtest_vote_post(&fx->w, "/r/" TOK_E3, NULL, "level=1", signed_future, &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 2);
}

/* The store fails to keep the vote (a disk in trouble, a lock held too long): the resident is
 * told, and sending the same form again once it is back stores the vote; it is not thanked
 * for a vote that was never kept. */
static void test_form_sent_again_after_a_store_failure_votes(void **state)
{
        struct webtest_fixture *fx = *state;
        char ft[WEBTEST_FORM_TOKEN_MAX];
        struct web_response resp;

        webtest_vote_page(&fx->w, "/r/" TOK_E2, NULL, ft);
        webtest_db_exec(&fx->w, "CREATE TRIGGER votes_fail BEFORE INSERT ON votes"
                                " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
        webtest_vote_post(&fx->w, "/r/" TOK_E2, NULL, "level=3", ft, &resp);
        assert_int_equal(resp.status, 503);
        assert_string_equal(resp.location, "");
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 0);

        webtest_db_exec(&fx->w, "DROP TRIGGER votes_fail");
        webtest_vote_post(&fx->w, "/r/" TOK_E2, NULL, "level=3", ft, &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
        /* and once kept, the form is used up as always */
        webtest_vote_post(&fx->w, "/r/" TOK_E2, NULL, "level=1", ft, &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
}

/* ---- forms sent at the same moment (the store commits them together) ---- */

#define RACE_FORMS 12

struct race_post {
        struct webtest *w;
        pthread_barrier_t *start;
        const char *cookie, *ft;
        int level;
        int status; /* the answer's, or -1 when web_handle() failed */
};

static const char *race_header(void *ctx, const char *name)
{
        const struct race_post *p = ctx;

        if (strcasecmp(name, "Cookie") == 0)
                return p->cookie;
        if (strcasecmp(name, "Content-Type") == 0)
                return "application/x-www-form-urlencoded";
        return NULL;
}

static const char *race_arg(void *ctx, const char *name)
{
        (void)ctx;
        (void)name;
        return NULL;
}

/* One POST of a vote form from its own thread; no cmocka asserts here (they jump). */
static void *race_post_run(void *arg)
{
        struct race_post *p = arg;
        struct web_response resp;
        char body[256];
        struct web_request req = {
            .method = "POST",
            .path = "/r/" TOK_E2,
            .client_addr = p->w->client_addr,
            .header = race_header,
            .arg = race_arg,
            .ctx = p,
        };

        snprintf(body, sizeof(body), "level=%d&ft=%s", p->level, p->ft);
        req.body = body;
        req.body_len = strlen(body);
        pthread_barrier_wait(p->start);
        p->status = web_handle(&p->w->c, &req, &resp) == 0 ? resp.status : -1;
        web_response_finish(&resp);
        return NULL;
}

/* Many phones send their forms at once, each twice (a double tap), and half of the votes
 * cannot be stored (a failing disk, played by a trigger): those that could are stored once
 * each, those that could not leave no trace — not even a used form — so that sending them
 * again votes. */
static void test_forms_sent_at_once_are_kept_or_undone_one_by_one(void **state)
{
        struct webtest_fixture *fx = *state;
        char ft[RACE_FORMS][WEBTEST_FORM_TOKEN_MAX], cookie[RACE_FORMS][128];
        struct race_post posts[2 * RACE_FORMS];
        pthread_t threads[2 * RACE_FORMS];
        pthread_barrier_t start;
        struct web_response resp;

        for (int i = 0; i < RACE_FORMS; i++) {
                new_phone(&fx->w);
                webtest_vote_page(&fx->w, "/r/" TOK_E2, NULL, ft[i]);
                snprintf(cookie[i], sizeof(cookie[i]), "%s", fx->w.phone_cookie);
        }
        /* it fails the last write of a vote, the form's use, after the vote's own row: the
         * vote just inserted is the newest */
        webtest_db_exec(&fx->w, "CREATE TRIGGER forms_fail BEFORE INSERT ON form_tokens"
                                " WHEN (SELECT level FROM votes ORDER BY id DESC LIMIT 1) = 1"
                                " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END");
        assert_int_equal(pthread_barrier_init(&start, NULL, 2 * RACE_FORMS), 0);
        for (int i = 0; i < 2 * RACE_FORMS; i++) {
                int form = i / 2;

                posts[i] =
                    (struct race_post){&fx->w, &start, cookie[form], ft[form], form % 2 ? 1 : 3, 0};
                assert_int_equal(pthread_create(&threads[i], NULL, race_post_run, &posts[i]), 0);
        }
        for (int i = 0; i < 2 * RACE_FORMS; i++)
                assert_int_equal(pthread_join(threads[i], NULL), 0);
        pthread_barrier_destroy(&start);

        for (int i = 0; i < 2 * RACE_FORMS; i++)
                assert_int_equal(posts[i].status, posts[i].level == 3 ? 303 : 503);
        assert_int_equal(webtest_vote_count(&fx->w), RACE_FORMS / 2);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM votes WHERE level = 3"),
                         RACE_FORMS / 2);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM form_tokens"),
                         RACE_FORMS / 2);

        /* the disk mended, the forms that failed are sent again, and vote */
        webtest_db_exec(&fx->w, "DROP TRIGGER forms_fail");
        for (int i = 1; i < RACE_FORMS; i += 2) {
                snprintf(fx->w.phone_cookie, sizeof(fx->w.phone_cookie), "%s", cookie[i]);
                webtest_vote_post(&fx->w, "/r/" TOK_E2, NULL, "level=1", ft[i], &resp);
                assert_int_equal(resp.status, 303);
                web_response_finish(&resp);
        }
        assert_int_equal(webtest_vote_count(&fx->w), RACE_FORMS);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), RACE_FORMS);
}

/* ---- one phone, one vote per employee per interval ---- */

static void test_one_vote_per_phone_per_employee(void **state)
{
        struct webtest_fixture *fx = *state;
        struct web_response resp;

        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        /* the same phone, a fresh page: said plainly, and not stored */
        webtest_vote(&fx->w, "/r/" TOK_E2, NULL, "level=1", &resp);
        assert_int_equal(resp.status, 429);
        assert_contains(resp.body, TEXT_ALREADY_VOTED);
        assert_string_equal(resp.location, "");
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM votes WHERE level = 1"), 0);

        /* the same phone may rate another employee, and another phone the same one */
        assert_vote_status(&fx->w, "/r/" TOK_E3, "level=2", 303);
        assert_int_equal(webtest_vote_count(&fx->w), 2);
        new_phone(&fx->w);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=2", 303);
        assert_int_equal(webtest_vote_count(&fx->w), 3);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 3);
}

static void test_vote_interval_passes(void **state)
{
        struct webtest_fixture *fx = *state;

        /* a one-second interval: refused within it, taken after it */
        fx->w.cfg.vote_interval_s = 1;
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 429);
        usleep(1100 * 1000);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        assert_int_equal(webtest_vote_count(&fx->w), 2);

        /* no interval at all: every vote of the phone is taken, however quick */
        fx->w.cfg.vote_interval_s = 0;
        for (int i = 0; i < 8; i++)
                assert_vote_status(&fx->w, "/r/" TOK_E2, "level=2", 303);
        assert_int_equal(webtest_vote_count(&fx->w), 10);
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM votes WHERE flag IS NULL"),
                         10);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 10);
}

/* ---- flagged, never dropped ---- */

static void test_phone_without_cookie_is_flagged(void **state)
{
        struct webtest_fixture *fx = *state;
        struct web_response resp;

        vote_without_cookie(&fx->w, "/r/" TOK_E2, "level=1", &resp);
        assert_int_equal(resp.status, 303); /* thanked like anyone */
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 1);
        assert_vote_flag(fx, "E2", 0, "no_cookie", 0);
        /* such phones cannot be told apart: the next is taken, and flagged too */
        vote_without_cookie(&fx->w, "/r/" TOK_E2, "level=1", &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        assert_vote_flag(fx, "E2", 1, "no_cookie", 0);
        assert_int_equal(webtest_vote_count(&fx->w), 2);

        /* in no report until an official counts them; a phone with a cookie counts at once */
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 0);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.root), 0);
        new_phone(&fx->w);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        assert_vote_flag(fx, "E2", 2, "NULL", 1);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
}

static void test_many_votes_from_one_address_are_flagged(void **state)
{
        struct webtest_fixture *fx = *state;

        fx->w.cfg.address_votes_per_hour = 3;
        /* four phones behind one address (a shared Wi-Fi, or one person with four browsers) */
        for (int i = 0; i < 4; i++) {
                new_phone(&fx->w);
                assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        }
        for (int i = 0; i < 3; i++)
                assert_vote_flag(fx, "E2", i, "NULL", 1);
        assert_vote_flag(fx, "E2", 3, "many_from_address", 0);
        /* the address counts for every employee: the fifth is flagged though it is for E4 */
        new_phone(&fx->w);
        assert_vote_status(&fx->w, "/r/" TOK_E4, "level=3", 303);
        assert_vote_flag(fx, "E4", 0, "many_from_address", 0);
        /* another address is not held back */
        fx->w.client_addr = "198.51.100.9";
        new_phone(&fx->w);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        assert_vote_flag(fx, "E2", 4, "NULL", 1);

        assert_int_equal(webtest_vote_count(&fx->w), 6);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 4);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.sibling), 0);
}

static void test_burst_for_one_employee_is_flagged(void **state)
{
        static const char *const addrs[] = {"198.51.100.1", "198.51.100.2", "198.51.100.3",
                                            "198.51.100.4", "198.51.100.5"};
        struct webtest_fixture *fx = *state;
        int64_t t = (int64_t)time(NULL) * 1000;
        struct proto_vote tv[5];
        struct proto_batch b = {.terminal = "T1", .sent_at_ms = t, .n_votes = 5, .votes = tv};
        struct web_response resp;
        char *body = NULL;

        fx->w.cfg.page_votes_per_hour = 3;
        /* votes at the counter are no burst from the pages */
        for (int i = 0; i < 5; i++) {
                memset(&tv[i], 0, sizeof(tv[i]));
                vote_id_new(&tv[i].vote.id);
                tv[i].vote.level = 3;
                snprintf(tv[i].vote.channel, sizeof(tv[i].vote.channel), VOTE_CHANNEL_TERMINAL);
                snprintf(tv[i].vote.employee, sizeof(tv[i].vote.employee), "E2");
                snprintf(tv[i].vote.shift, sizeof(tv[i].vote.shift), SHIFT);
                tv[i].vote.cast_at_ms = t - 1000 * (5 - i);
        }
        assert_int_equal(proto_batch_encode(&b, &body), 0);
        webtest_post_api(&fx->w, "/api/v1/votes", AUTH, "application/json", body, &resp);
        assert_int_equal(resp.status, 200);
        web_response_finish(&resp);
        free(body);

        /* four phones from four addresses rate E2 within the hour */
        for (int i = 0; i < 4; i++) {
                fx->w.client_addr = addrs[i];
                new_phone(&fx->w);
                assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        }
        for (int i = 0; i < 8; i++)
                assert_vote_flag(fx, "E2", i, "NULL", 1);
        assert_vote_flag(fx, "E2", 8, "burst", 0);
        /* E3 is not held back by E2's burst */
        fx->w.client_addr = addrs[4];
        new_phone(&fx->w);
        assert_vote_status(&fx->w, "/r/" TOK_E3, "level=3", 303);
        assert_vote_flag(fx, "E3", 0, "NULL", 1);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 5 + 3 + 1);
}

/* Working hours "HH:MM-HH:MM" an hour or more away from now (city time), or around now. */
static void hours_window(bool around_now, char *buf, size_t n)
{
        time_t t = time(NULL);
        struct tm tm;
        int m, from, to;

        localtime_r(&t, &tm);
        m = tm.tm_hour * 60 + tm.tm_min;
        if (m < 12 * 60) {
                from = around_now ? 0 : m + 60;
                to = around_now ? m + 60 : 24 * 60;
        } else {
                from = around_now ? m - 60 : 0;
                to = around_now ? 24 * 60 : m - 60;
        }
        snprintf(buf, n, "%02d:%02d-%02d:%02d", from / 60, from % 60, to / 60, to % 60);
}

static void test_vote_outside_working_hours_is_flagged(void **state)
{
        struct webtest_fixture *fx = *state;
        char hours[48];

        hours_window(false, hours, sizeof(hours));
        set_string(&fx->w.cfg.working_hours, hours);
        assert_int_equal(webtest_restart(&fx->w), 0);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=2", 303);
        assert_vote_flag(fx, "E2", 0, "outside_hours", 0);

        hours_window(true, hours, sizeof(hours));
        set_string(&fx->w.cfg.working_hours, hours);
        assert_int_equal(webtest_restart(&fx->w), 0);
        new_phone(&fx->w);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=2", 303);
        assert_vote_flag(fx, "E2", 1, "NULL", 1);
        assert_int_equal(webtest_vote_count(&fx->w), 2);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
}

static void test_terminal_vote_without_shift_is_flagged(void **state)
{
        struct webtest_fixture *fx = *state;
        int64_t t = (int64_t)time(NULL) * 1000;
        struct proto_vote v[2] = {0};
        struct proto_batch b = {.terminal = "T1", .sent_at_ms = t, .n_votes = 2, .votes = v};
        struct proto_ack ack = {0};
        struct web_response resp;
        char *body = NULL, err[256] = "";

        for (int i = 0; i < 2; i++) {
                vote_id_new(&v[i].vote.id);
                v[i].vote.level = 3 - i;
                snprintf(v[i].vote.channel, sizeof(v[i].vote.channel), VOTE_CHANNEL_TERMINAL);
                snprintf(v[i].vote.employee, sizeof(v[i].vote.employee), "E2");
                v[i].vote.cast_at_ms = t - 1000 + i;
        }
        snprintf(v[1].vote.shift, sizeof(v[1].vote.shift), SHIFT); /* v[0] has none */
        assert_int_equal(proto_batch_encode(&b, &body), 0);
        webtest_post_api(&fx->w, "/api/v1/votes", AUTH, "application/json", body, &resp);
        assert_int_equal(resp.status, 200);
        assert_int_equal(proto_ack_decode(resp.body, resp.body_len, &ack, err, sizeof(err)), 0);
        /* both are the collector's now: the terminal may forget them */
        assert_int_equal(ack.n_results, 2);
        assert_int_equal(ack.results[0].status, PROTO_STORED);
        assert_int_equal(ack.results[1].status, PROTO_STORED);
        proto_ack_finish(&ack);
        web_response_finish(&resp);
        free(body);

        assert_int_equal(webtest_vote_count(&fx->w), 2);
        assert_vote_flag(fx, "E2", 0, "no_shift", 0);
        assert_vote_flag(fx, "E2", 1, "NULL", 1);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.grandchild), 1);
        assert_int_equal(webtest_month_total(&fx->w, fx->city.root), 1);
}

/* ---- /metrics ---- */

/* GET /metrics from w->client_addr with auth (NULL: none); the status, body into buf. */
static int metrics(struct webtest *w, const char *auth, char *buf, size_t n)
{
        struct webtest_field headers[2] = {{"Authorization", auth}, {NULL, NULL}};
        struct web_response resp;
        int status;

        webtest_get(w, "/metrics", auth ? headers : NULL, NULL, &resp);
        status = resp.status;
        if (buf)
                snprintf(buf, n, "%s", resp.body);
        if (status == 200)
                assert_string_equal(resp.content_type, "text/plain; version=0.0.4; charset=utf-8");
        else
                assert_null(strstr(resp.body, "otsinka_"));
        web_response_finish(&resp);
        return status;
}

static void test_metrics_count_what_happened(void **state)
{
        struct webtest_fixture *fx = *state;
        char text[16384];
        struct web_response resp;
        char *body = NULL;
        struct proto_batch b = {.terminal = "T1", .sent_at_ms = (int64_t)time(NULL) * 1000};

        /* two votes stored, one flagged, one refused */
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        assert_vote_status(&fx->w, "/r/" TOK_E3, "level=2", 303);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 429);
        vote_without_cookie(&fx->w, "/r/" TOK_E4, "level=1", &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        assert_int_equal(webtest_vote_count(&fx->w), 3);

        fx->w.client_addr = "127.0.0.1";
        assert_int_equal(metrics(&fx->w, NULL, text, sizeof(text)), 200);
        assert_contains(text,
                        "\notsinka_votes_received_total{source=\"page\",result=\"stored\"} 2\n");
        assert_contains(text,
                        "\notsinka_votes_received_total{source=\"page\",result=\"flagged\"} 1\n");
        assert_contains(text,
                        "\notsinka_votes_received_total{source=\"page\",result=\"refused\"} 1\n");
        assert_contains(text, "\notsinka_votes_stored 3\n");
        /* T1 has never called in */
        assert_contains(text, "\notsinka_terminals 1\n");
        assert_contains(text, "\notsinka_terminals_silent 1\n");

        /* its heartbeat makes it heard */
        assert_int_equal(proto_batch_encode(&b, &body), 0);
        fx->w.client_addr = "192.0.2.7";
        webtest_post_api(&fx->w, "/api/v1/votes", AUTH, "application/json", body, &resp);
        assert_int_equal(resp.status, 200);
        web_response_finish(&resp);
        free(body);
        fx->w.client_addr = "::1";
        assert_int_equal(metrics(&fx->w, NULL, text, sizeof(text)), 200);
        assert_contains(text, "\notsinka_terminals_silent 0\n");
        assert_contains(text, "\notsinka_batches_total 1\n");
}

static void test_metrics_are_for_loopback_or_the_token(void **state)
{
        static const char *const wrong[] = {
            NULL,
            "Bearer ",
            "Bearer m3tr1cs-t0ken-Zq9",   /* a prefix */
            "Bearer m3tr1cs-t0ken-Zq97x", /* and more */
            "Bearer m3tr1cs-t0ken-Zq98",
            "Basic m3tr1cs-t0ken-Zq97",
            "m3tr1cs-t0ken-Zq97",
        };
        struct webtest_fixture *fx = *state;

        /* no token configured: another host gets nothing, whatever it sends */
        assert_int_equal(metrics(&fx->w, NULL, NULL, 0), 403);
        assert_int_equal(metrics(&fx->w, "Bearer ", NULL, 0), 403);
        assert_int_equal(metrics(&fx->w, "Bearer anything", NULL, 0), 403);
        fx->w.client_addr = "127.0.0.1";
        assert_int_equal(metrics(&fx->w, NULL, NULL, 0), 200);

        set_string(&fx->w.cfg.metrics_token, "m3tr1cs-t0ken-Zq97");
        fx->w.client_addr = "203.0.113.40";
        assert_int_equal(metrics(&fx->w, "Bearer m3tr1cs-t0ken-Zq97", NULL, 0), 200);
        for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
                int status = metrics(&fx->w, wrong[i], NULL, 0);

                if (status != 403)
                        print_error("Authorization: %s\n", wrong[i] ? wrong[i] : "(none)");
                assert_int_equal(status, 403);
        }
        /* loopback still needs none */
        fx->w.client_addr = "::1";
        assert_int_equal(metrics(&fx->w, NULL, NULL, 0), 200);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, webtest_teardown)
            T(test_form_sent_twice_stores_one_vote),
            T(test_forged_or_stale_form_is_refused),
            T(test_form_sent_again_after_a_store_failure_votes),
            T(test_forms_sent_at_once_are_kept_or_undone_one_by_one),
            T(test_one_vote_per_phone_per_employee),
            T(test_vote_interval_passes),
            T(test_phone_without_cookie_is_flagged),
            T(test_many_votes_from_one_address_are_flagged),
            T(test_burst_for_one_employee_is_flagged),
            T(test_vote_outside_working_hours_is_flagged),
            T(test_terminal_vote_without_shift_is_flagged),
            T(test_metrics_count_what_happened),
            T(test_metrics_are_for_loopback_or_the_token),
#undef T
        };

        return webtest_run_group(tests, LOG_LEVEL_WARN);
}
