/* SPDX-License-Identifier: MIT */
/* The uploader against the real collector, every part real: the collector library serving
 * HTTPS on 127.0.0.1 from a temporary SQLite store, with a certificate made by openssl(1) that
 * the terminal checks; the terminal's own outbox file. Enrollment with a code the store made,
 * the roster pulled with its ETag, votes and shift events stored, the status report on the
 * collector's terminals list, the clock offset, and a revoked terminal that stops sending. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "collector.h"
#include "http.h"
#include "outbox.h"
#include "roster.h"
#include "store.h"
#include "sync.h"
#include "testutil.h"

#define TERMINAL "T001"
#define SECRET "t001-secret-0123456789"
#define WORKPLACE "W001"
#define EMPLOYEE "E001"

/* The throwaway certificate, made once for the whole group. */
static struct {
        char dir[256];
        char cert[300]; /* for 127.0.0.1, self-signed: the terminal's CA file */
        char key[300];
} pki;

struct fixture {
        char dir[300];
        char db[320];     /* the collector's store */
        char outbox[320]; /* the terminal's */
        char url[64];
        struct collector_config cfg;
        struct store *store;
        struct collector c;
        bool c_ready;
        struct http_server *http;
        struct sync_options opts;
        struct sync *s;
};

static int group_setup(void **state)
{
        char cmd[1024];

        if (sodium_init() < 0)
                return -1;
        if (test_mkdtemp(pki.dir, sizeof(pki.dir), "otsinka-sync-real") < 0)
                return -1;
        snprintf(pki.cert, sizeof(pki.cert), "%s/cert.pem", pki.dir);
        snprintf(pki.key, sizeof(pki.key), "%s/key.pem", pki.dir);
        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                 "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 -keyout '%s' "
                 "-out '%s' >/dev/null 2>&1",
                 pki.key, pki.cert);
        if (system(cmd) != 0) {
                fprintf(stderr, "openssl could not make the test certificate\n");
                return -1;
        }
        return 0;
}

static int group_teardown(void **state)
{
        test_remove_tree(pki.dir);
        return 0;
}

/* A unit with a workplace, one employee there, and terminal T001 at it. */
static int seed(struct store *s)
{
        const struct store_ops *o = s->ops;
        int64_t unit, direction, employee, workplace;
        int r;

        if ((r = o->unit_add(s, 0, "council", "Міська рада", "City council", &unit)) < 0 ||
            (r = o->direction_add(s, "admin", "Адміністративні послуги", "Administrative services",
                                  &direction)) < 0 ||
            (r = o->employee_add(s, EMPLOYEE, "Коваленко Олена Петрівна", "Адміністратор", unit,
                                 false, &employee)) < 0 ||
            (r = o->workplace_add(s, WORKPLACE, "ЦНАП, вікно 1", unit, direction, &workplace)) < 0)
                return r;
        return o->terminal_add(s, TERMINAL, WORKPLACE, SECRET);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char prefix[sizeof(pki.dir) + 8];

        if (!f)
                return -1;
        snprintf(prefix, sizeof(prefix), "%s/t", pki.dir);
        if (test_mkdtemp(f->dir, sizeof(f->dir), prefix) < 0)
                goto fail;
        snprintf(f->db, sizeof(f->db), "%s/collector.db", f->dir);
        snprintf(f->outbox, sizeof(f->outbox), "%s/outbox.db", f->dir);
        if (store_open(f->db, &f->store) < 0 || seed(f->store) < 0)
                goto fail;
        f->cfg = (struct collector_config){
            .listen = "127.0.0.1",
            .port = 0,
            .tls_cert = pki.cert,
            .tls_key = pki.key,
            .public_url = "https://otsinka.example",
            .assets = TEST_SOURCE_DIR "/assets",
            .time_zone = "Europe/Kyiv",
            .threads = 2,
            .silent_after_s = 600,
            .session_idle_s = 1800,
        };
        if (collector_init(&f->c, &f->cfg, f->store) < 0)
                goto fail;
        f->c_ready = true;
        if (http_start(&f->c, &f->http) < 0)
                goto fail;
        snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%u", (unsigned)http_port(f->http));
        f->opts = (struct sync_options){
            .url = f->url,
            .ca_file = pki.cert,
            .terminal_id = TERMINAL,
            .secret = SECRET,
            .db_path = f->outbox,
            .batch_max = 100,
            .backoff_min_ms = 20,
            .backoff_max_ms = 200,
            .connect_timeout_s = 5,
            .transfer_timeout_s = 20,
        };
        *state = f;
        return 0;
fail:
        http_stop(f->http);
        if (f->c_ready)
                collector_finish(&f->c);
        store_close(f->store);
        test_remove_tree(f->dir);
        free(f);
        return -1;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        sync_stop(f->s); /* a failed assertion may have left it running */
        http_stop(f->http);
        collector_finish(&f->c);
        store_close(f->store);
        test_remove_tree(f->dir);
        free(f);
        return 0;
}

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* n votes for EMPLOYEE in one shift, opened by a shift_open event, all in the outbox. */
static void add_shift(const char *db, size_t n)
{
        struct outbox *ob = NULL;
        struct vote_event e = {0};
        vote_id shift;

        vote_id_new(&shift);
        assert_int_equal(outbox_open(db, &ob), 0);
        vote_id_new(&e.id);
        strcpy(e.kind, VOTE_EVENT_SHIFT_OPEN);
        strcpy(e.employee, EMPLOYEE);
        memcpy(e.shift, shift.s, sizeof(e.shift));
        strcpy(e.detail, "pin");
        e.at_ms = (int64_t)time(NULL) * 1000 - 5000;
        vote_boot_id(e.boot);
        e.mono_ms = vote_mono_ms() - 5000;
        assert_int_equal(outbox_add_event(ob, &e), 0);
        for (size_t i = 0; i < n; i++) {
                struct vote v = {0};

                vote_id_new(&v.id);
                v.level = 1 + (int)(i % 3);
                strcpy(v.channel, VOTE_CHANNEL_TERMINAL);
                strcpy(v.employee, EMPLOYEE);
                strcpy(v.workplace, WORKPLACE);
                memcpy(v.shift, shift.s, sizeof(v.shift));
                v.cast_at_ms = (int64_t)time(NULL) * 1000 - 1000;
                vote_boot_id(v.boot);
                v.mono_ms = vote_mono_ms() - 1000;
                if (i == 1)
                        strcpy(v.suppressed, VOTE_SUPPRESSED_MIN_INTERVAL);
                assert_int_equal(outbox_add(ob, &v), 0);
        }
        outbox_close(ob);
}

static struct outbox_counts counts_of(const char *db)
{
        struct outbox *ob = NULL;
        struct outbox_counts c;

        assert_int_equal(outbox_open(db, &ob), 0);
        assert_int_equal(outbox_counts(ob, &c), 0);
        outbox_close(ob);
        return c;
}

static int64_t stored_votes(struct fixture *f)
{
        int64_t n = -1;

        assert_int_equal(f->store->ops->vote_count(f->store, &n), 0);
        return n;
}

/* The collector's row for a terminal; fails the test when there is none. */
static struct store_terminal terminal_row(struct fixture *f, const char *id)
{
        struct store_terminal *list = NULL, row = {0};
        size_t n = 0;
        bool found = false;

        assert_int_equal(f->store->ops->terminals_list(f->store, &list, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i].id, id) == 0) {
                        row = list[i];
                        found = true;
                }
        free(list);
        if (!found)
                fail_msg("the collector lists no terminal %s", id);
        return row;
}

/* The roster kept in an outbox, decoded. */
static void kept_roster(const char *db, struct roster *ret)
{
        struct outbox *ob = NULL;
        char *json = NULL, err[256];
        size_t len = 0;

        assert_int_equal(outbox_open(db, &ob), 0);
        assert_int_equal(outbox_roster_load(ob, &json, &len, NULL, 0), 0);
        outbox_close(ob);
        if (roster_decode(json, len, ret, err, sizeof(err)) < 0)
                fail_msg("the kept roster does not decode: %s", err);
        free(json);
}

/* A new terminal with a code from the collector: it enrolls, keeps its credential, and its
 * votes, events and status reach the collector under the new id. The code works once. */
static void test_enroll_with_code(void **state)
{
        struct fixture *f = *state;
        char code[ENROLL_CODE_MAX], id[VOTE_REF_MAX + 1], err[256], other[340];
        struct outbox *ob = NULL;
        struct store_terminal row;

        assert_int_equal(
            f->store->ops->enroll_code_add(f->store, WORKPLACE, 3600, code, sizeof(code)), 0);
        add_shift(f->outbox, 3);
        f->opts.terminal_id = NULL;
        f->opts.secret = NULL;
        f->opts.enroll_code = code;
        f->opts.version = "0.2.0-test";
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 4);
        assert_string_equal(err, "");
        assert_int_equal(stored_votes(f), 3);
        assert_int_equal(counts_of(f->outbox).pending, 0);
        assert_int_equal(counts_of(f->outbox).events_pending, 0);
        assert_int_equal(counts_of(f->outbox).suppressed, 1);

        assert_int_equal(outbox_open(f->outbox, &ob), 0);
        assert_int_equal(outbox_state_get(ob, "terminal_id", id, sizeof(id)), 0);
        outbox_close(ob);
        assert_string_not_equal(id, TERMINAL);
        row = terminal_row(f, id);
        assert_string_equal(row.workplace, WORKPLACE);
        assert_false(row.revoked);
        assert_true(row.last_seen > 0);
        assert_string_equal(row.version, "0.2.0-test");
        assert_int_equal(row.queue, 4);

        /* The pull works with the enrolled credential, without the code. */
        f->opts.enroll_code = NULL;
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 1);

        /* Another terminal cannot use the code again. */
        snprintf(other, sizeof(other), "%s/other.db", f->dir);
        f->opts.db_path = other;
        f->opts.enroll_code = code;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EKEYREJECTED);
        assert_contains(err, "code: unknown, used or expired");
}

static void test_pull_200_then_304(void **state)
{
        struct fixture *f = *state;
        struct roster ro = {0};
        char err[256];

        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 1);
        assert_string_equal(err, "");
        kept_roster(f->outbox, &ro);
        assert_string_equal(ro.terminal, TERMINAL);
        assert_string_equal(ro.workplace, WORKPLACE);
        assert_string_equal(ro.qr_base, "https://otsinka.example");
        assert_non_null(roster_find(&ro, EMPLOYEE));
        assert_int_equal(ro.settings.min_interval_s, 5);
        roster_finish(&ro);

        /* Unchanged: the ETag saves the collector the body. */
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 0);

        /* An administrator changes a setting: the next pull brings it. */
        assert_int_equal(f->store->ops->meta_set(f->store, "terminal.min_interval_s", "9"), 0);
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 1);
        kept_roster(f->outbox, &ro);
        assert_int_equal(ro.settings.min_interval_s, 9);
        roster_finish(&ro);
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 0);
}

static bool wait_for(struct sync *s, bool (*check)(const struct sync_status *), int64_t timeout_ms,
                     struct sync_status *ret)
{
        int64_t until = mono_ms() + timeout_ms;

        do {
                sync_get_status(s, ret);
                if (check(ret))
                        return true;
                usleep(10 * 1000);
        } while (mono_ms() < until);
        return false;
}

static bool settled(const struct sync_status *st)
{
        return st->roster_version == 1 && st->clock_known && st->pending == 0 &&
               st->events_pending == 0 && st->online;
}

static bool unauthorized(const struct sync_status *st)
{
        return st->unauthorized;
}

/* The thread: roster at start, uploads, the clock measured against the collector's (the same
 * machine's, so near zero); then the terminal is revoked and it stops, keeping its votes. */
static void test_thread_then_revoked(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;
        struct store_terminal row;

        add_shift(f->outbox, 5);
        assert_int_equal(sync_start(&f->opts, NULL, NULL, &f->s), 0);
        assert_true(wait_for(f->s, settled, 10000, &st));
        print_message("clock offset against the collector: %" PRId64 " ms\n", st.clock_offset_ms);
        assert_true(st.clock_offset_ms > -1000 && st.clock_offset_ms < 1000);
        assert_true(st.enrolled);
        assert_false(st.unauthorized);
        assert_int_equal(stored_votes(f), 5);
        row = terminal_row(f, TERMINAL);
        assert_true(row.last_seen > 0);

        assert_int_equal(f->store->ops->terminal_revoke(f->store, TERMINAL), 0);
        add_shift(f->outbox, 2);
        sync_kick(f->s);
        assert_true(wait_for(f->s, unauthorized, 10000, &st));
        assert_false(st.online);
        assert_contains(st.last_error, "not authorised: revoked or unknown terminal");
        usleep(500 * 1000);
        sync_kick(f->s);
        usleep(200 * 1000);
        sync_get_status(f->s, &st);
        assert_true(st.unauthorized);
        sync_stop(f->s);
        f->s = NULL;
        assert_int_equal(stored_votes(f), 5);
        assert_int_equal(counts_of(f->outbox).pending, 2);
        assert_int_equal(counts_of(f->outbox).events_pending, 1);
}

/* Waits until the collector has stored n votes. */
static bool wait_stored(struct fixture *f, int64_t n, int64_t timeout_ms)
{
        int64_t until = mono_ms() + timeout_ms;

        do {
                if (stored_votes(f) == n)
                        return true;
                usleep(10 * 1000);
        } while (mono_ms() < until);
        print_message("stored %lld votes, not %lld\n", (long long)stored_votes(f), (long long)n);
        return false;
}

/* A revoked terminal is given a new code in the staff menu (sync_enroll): it forgets the old
 * credential, enrolls under a new id, and delivers what waited, without a restart. */
static void test_revoked_then_new_code(void **state)
{
        struct fixture *f = *state;
        char code[ENROLL_CODE_MAX], id[VOTE_REF_MAX + 1];
        struct sync_status st;
        struct outbox *ob = NULL;

        add_shift(f->outbox, 2);
        assert_int_equal(sync_start(&f->opts, NULL, NULL, &f->s), 0);
        assert_true(wait_for(f->s, settled, 10000, &st));
        assert_int_equal(f->store->ops->terminal_revoke(f->store, TERMINAL), 0);
        add_shift(f->outbox, 3);
        sync_kick(f->s);
        assert_true(wait_for(f->s, unauthorized, 10000, &st));
        assert_int_equal(stored_votes(f), 2);

        assert_int_equal(sync_enroll(f->s, ""), -EINVAL);
        assert_int_equal(
            f->store->ops->enroll_code_add(f->store, WORKPLACE, 3600, code, sizeof(code)), 0);
        assert_int_equal(sync_enroll(f->s, code), 0);
        assert_true(wait_stored(f, 5, 10000));
        sync_get_status(f->s, &st);
        assert_int_equal(st.enroll_seq, 1);
        assert_string_equal(st.enroll_error, "");
        assert_false(st.unauthorized);
        sync_stop(f->s);
        f->s = NULL;
        assert_int_equal(outbox_open(f->outbox, &ob), 0);
        assert_int_equal(outbox_state_get(ob, "terminal_id", id, sizeof(id)), 0);
        outbox_close(ob);
        assert_string_not_equal(id, TERMINAL);

        /* after a restart the enrolled credential wins over the configured, revoked one */
        add_shift(f->outbox, 1);
        assert_int_equal(sync_start(&f->opts, NULL, NULL, &f->s), 0);
        assert_true(wait_stored(f, 6, 10000));
        sync_stop(f->s);
        f->s = NULL;
}

static bool attempt_ended(const struct sync_status *st)
{
        return st->enroll_seq == 1;
}

/* A mistyped code on a working terminal is refused and changes nothing: the terminal keeps
 * its credential and goes on delivering under it. */
static void test_wrong_code_keeps_credential(void **state)
{
        struct fixture *f = *state;
        char id[VOTE_REF_MAX + 1] = "";
        struct sync_status st;
        struct outbox *ob = NULL;

        add_shift(f->outbox, 1);
        assert_int_equal(sync_start(&f->opts, NULL, NULL, &f->s), 0);
        assert_true(wait_for(f->s, settled, 10000, &st));
        assert_int_equal(sync_enroll(f->s, "0000-0000-0000"), 0);
        assert_true(wait_for(f->s, attempt_ended, 10000, &st));
        assert_non_null(strstr(st.enroll_error, "enrollment refused (HTTP 403)"));
        assert_true(st.enrolled);
        assert_false(st.unauthorized);
        add_shift(f->outbox, 2);
        sync_kick(f->s);
        assert_true(wait_stored(f, 3, 10000));
        sync_stop(f->s);
        f->s = NULL;
        assert_int_equal(outbox_open(f->outbox, &ob), 0);
        /* the configured credential stayed in effect: nothing enrolled was kept */
        assert_int_equal(outbox_state_get(ob, "terminal_id", id, sizeof(id)), -ENOENT);
        outbox_close(ob);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_enroll_with_code, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pull_200_then_304, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_then_revoked, setup, teardown),
            cmocka_unit_test_setup_teardown(test_revoked_then_new_code, setup, teardown),
            cmocka_unit_test_setup_teardown(test_wrong_code_keeps_credential, setup, teardown),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
