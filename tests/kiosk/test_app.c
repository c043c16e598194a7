/* SPDX-License-Identifier: MIT */
/* The terminal's state machine on a real outbox file, with fake time: a tap highlights,
 * «Відправити відгук» stores and thanks, one-tap mode, no votes while closed; shift login from
 * the roster list or by personal number with a PIN checked offline; wrong PINs lock out with
 * growing delays that survive a restart; the staff menu behind the PIN; logout by hand, at the
 * logout hour and after idling; a shift that survives a restart; the minimum interval keeping
 * a vote as suppressed without a second thank-you; every vote carrying its shift, boot and
 * monotonic time; every shift change stored as an event; the on-screen QR code renewed at half
 * its lifetime and verifiable by the collector; a store that refuses the vote shows the
 * trouble screen instead of a thank-you; and enrollment with a code typed on the terminal:
 * «Підключити термінал» only while the terminal has no credential or was revoked, the code
 * keypad taking exactly 12 digits (dashes ignored), the staff menu's «Новий код підключення»
 * behind the PIN, and the result read from the uploader's status without mistaking the state
 * from before the code for its result. */
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

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "app.h"
#include "i18n.h"
#include "outbox.h"
#include "qrtoken.h"
#include "roster.h"
#include "testutil.h"

/* 2026-11-28 10:00:00 UTC; the tests run with TZ=UTC */
#define EPOCH_MS 1795860000000LL
#define T0 1000000 /* the fake monotonic clock at the start */
#define PIN_E001 "1234"
#define PIN_E002 "5678"

static char hash_e001[ROSTER_PIN_HASH_MAX], hash_e002[ROSTER_PIN_HASH_MAX];
static const uint8_t qr_key[QRTOKEN_KEY_LEN] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

struct fixture {
        char dir[4096];
        char db[4200];
        struct outbox *ob;
        struct app app;
};

/* The workplace's roster: E001 and E002 with PINs, E003 without one, and two whose numbers
 * share their digits ("100"). Hashed with argon2id at its smallest cost: the tests check the
 * rules, not the cost. */
static void make_roster(struct roster *r)
{
        static const struct {
                const char *id, *name, *position;
                const char *hash;
        } people[] = {
            {"E001", "Коваленко Олена Петрівна", "Адміністратор ЦНАП", hash_e001},
            {"E002", "Шевченко Тарас Григорович", "Головний спеціаліст", hash_e002},
            {"E003", "Андрієнко Олег Васильович", "Спеціаліст", ""},
            {"E100", "Ґудзь Ірина Олексіївна", "Спеціаліст", hash_e001},
            {"F100", "Євтушенко Іван Іванович", "Спеціаліст", hash_e001},
        };
        size_t n = sizeof(people) / sizeof(people[0]);

        memset(r, 0, sizeof(*r));
        snprintf(r->terminal, sizeof(r->terminal), "T001");
        snprintf(r->workplace, sizeof(r->workplace), "W001");
        snprintf(r->workplace_name, sizeof(r->workplace_name), "ЦНАП, вікно 1");
        snprintf(r->workplace_name_en, sizeof(r->workplace_name_en), "ASC, window 1");
        snprintf(r->qr_base, sizeof(r->qr_base), "https://otsinka.example.gov.ua");
        memcpy(r->qr_key, qr_key, sizeof(qr_key));
        roster_settings_defaults(&r->settings);
        r->employees = calloc(n, sizeof(*r->employees));
        assert_non_null(r->employees);
        r->n_employees = n;
        for (size_t i = 0; i < n; i++) {
                struct roster_employee *e = &r->employees[i];

                snprintf(e->id, sizeof(e->id), "%s", people[i].id);
                snprintf(e->full_name, sizeof(e->full_name), "%s", people[i].name);
                snprintf(e->position, sizeof(e->position), "%s", people[i].position);
                snprintf(e->unit, sizeof(e->unit), "Відділ обслуговування");
                snprintf(e->pin_hash, sizeof(e->pin_hash), "%s", people[i].hash);
        }
}

static void give_roster(struct fixture *fx, void (*edit)(struct roster *))
{
        struct roster r;

        make_roster(&r);
        if (edit)
                edit(&r);
        app_set_roster(&fx->app, &r, T0);
        assert_null(r.employees); /* taken over */
}

static void app_start(struct fixture *fx)
{
        app_init(&fx->app, fx->ob);
        fx->app.fake_wall_epoch_ms = EPOCH_MS - T0;
}

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));

        if (!fx || test_mkdtemp(fx->dir, sizeof(fx->dir), "otsinka-app") < 0)
                return -1;
        snprintf(fx->db, sizeof(fx->db), "%s/kiosk.db", fx->dir);
        if (outbox_open(fx->db, &fx->ob) < 0)
                return -1;
        app_start(fx);
        give_roster(fx, NULL);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        app_finish(&fx->app);
        outbox_close(fx->ob);
        test_remove_tree(fx->dir);
        free(fx);
        return 0;
}

/* ---- helpers ---- */

static int64_t stored(struct fixture *fx)
{
        struct outbox_counts c;

        assert_int_equal(outbox_counts(fx->ob, &c), 0);
        return c.pending + c.sent + c.rejected;
}

static size_t events(struct fixture *fx, struct vote_event *out, size_t max)
{
        size_t n;

        assert_int_equal(outbox_peek_events(fx->ob, max, out, &n), 0);
        return n;
}

/* The last stored event; fails when there is none. */
static struct vote_event last_event(struct fixture *fx)
{
        struct vote_event ev[64];
        size_t n = events(fx, ev, 64);

        assert_true(n > 0);
        return ev[n - 1];
}

/* The position of employee id in the sorted login list. */
static size_t list_index(struct fixture *fx, const char *id)
{
        for (size_t i = 0;; i++) {
                const struct roster_employee *e = app_list_employee(&fx->app, i);

                assert_non_null(e);
                if (strcmp(e->id, id) == 0)
                        return i;
        }
}

static void type(struct fixture *fx, const char *keys, int64_t now)
{
        for (const char *p = keys; *p; p++)
                app_key(&fx->app, *p, now);
}

/* Enters a PIN on the PIN screen and lets the check run, as the event loop does. */
static void enter_pin(struct fixture *fx, const char *pin, int64_t now)
{
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        type(fx, pin, now);
        app_key(&fx->app, '\n', now);
        assert_int_equal(fx->app.note, APP_NOTE_CHECKING); /* drawn before the check */
        assert_true(fx->app.pin_check_pending);
        assert_int_equal(app_tick(&fx->app, now), now); /* no sleep before the check */
        assert_true(app_run_pending(&fx->app, now));
        assert_false(fx->app.pin_check_pending);
        assert_int_equal(fx->app.entry[0], 0); /* the PIN is not kept */
}

/* Picks the employee from the closed screen's list. */
static void pick(struct fixture *fx, const char *id, int64_t now)
{
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        app_staff(&fx->app, now);
        assert_int_equal(fx->app.screen, APP_SCREEN_LOGIN_LIST);
        app_list_pick(&fx->app, list_index(fx, id), now);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
}

static void login(struct fixture *fx, const char *id, const char *pin, int64_t now)
{
        pick(fx, id, now);
        enter_pin(fx, pin, now);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
        assert_true(fx->app.shift_open);
        assert_string_equal(fx->app.employee.id, id);
}

static void vote(struct fixture *fx, int level, int64_t now)
{
        assert_int_equal(app_select(&fx->app, level, now), 0);
        assert_int_equal(app_send(&fx->app, now), 0);
}

/* Restarts the program on the same outbox: a new app, the saved roster, the saved state. */
static void restart(struct fixture *fx, int64_t now, void (*edit)(struct roster *))
{
        app_finish(&fx->app);
        app_start(fx);
        give_roster(fx, edit);
        assert_int_equal(app_restore(&fx->app, now), 0);
}

/* ---- voting ---- */

static void test_closed_takes_no_vote(void **state)
{
        struct fixture *fx = *state;

        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        assert_int_equal(app_select(&fx->app, 3, T0), 0);
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(app_send(&fx->app, T0), 0);
        fx->app.selected = 3; /* even a selection left over cannot be sent while closed */
        assert_int_equal(app_send(&fx->app, T0), 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        assert_int_equal(stored(fx), 0);
        assert_int_equal(fx->app.qr_url[0], 0); /* and no QR code to vote with */
}

static void test_tap_then_send_stores_then_thanks(void **state)
{
        struct fixture *fx = *state;
        struct vote v;
        size_t n;
        uint64_t version;
        char boot[VOTE_ID_LEN + 1];

        login(fx, "E001", PIN_E001, T0);
        assert_int_equal(app_send(&fx->app, T0 + 500), -EAGAIN); /* nothing selected */
        assert_int_equal(stored(fx), 0);

        version = fx->app.version;
        assert_int_equal(app_select(&fx->app, 2, T0 + 1000), 0);
        assert_int_equal(fx->app.selected, 2);
        assert_true(fx->app.version > version); /* the highlight is drawn */
        assert_int_equal(stored(fx), 0);        /* a tap alone stores nothing */
        assert_int_equal(app_select(&fx->app, 3, T0 + 1100), 0);
        assert_int_equal(fx->app.selected, 3); /* a change of mind */

        assert_int_equal(app_send(&fx->app, T0 + 1200), 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_THANKS);
        assert_int_equal(outbox_peek(fx->ob, 4, &v, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(v.level, 3);
        assert_string_equal(v.channel, "terminal");
        assert_string_equal(v.employee, "E001");
        assert_string_equal(v.workplace, "W001"); /* from the roster */
        assert_string_equal(v.shift, fx->app.shift_id);
        assert_string_equal(v.suppressed, "");
        assert_int_equal(v.cast_at_ms, EPOCH_MS + 1200);
        vote_boot_id(boot);
        assert_string_equal(v.boot, boot);
        assert_true(v.mono_ms > 0);
        assert_true(vote_id_valid(v.id.s));

        /* the thank-you ends by itself and the open screen comes back, nothing selected */
        assert_int_equal(app_tick(&fx->app, T0 + 1300), T0 + 1200 + fx->app.thanks_ms);
        assert_int_equal(fx->app.screen, APP_SCREEN_THANKS);
        app_tick(&fx->app, T0 + 1200 + fx->app.thanks_ms);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(stored(fx), 1);
}

static void test_taps_during_thanks_are_ignored(void **state)
{
        struct fixture *fx = *state;

        login(fx, "E001", PIN_E001, T0);
        vote(fx, 1, T0 + 10);
        assert_int_equal(app_select(&fx->app, 1, T0 + 30), 0);
        assert_int_equal(app_send(&fx->app, T0 + 40), 0);
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(stored(fx), 1);
}

static void test_unsent_selection_clears(void **state)
{
        struct fixture *fx = *state;
        int64_t t = T0 + 1000;

        login(fx, "E001", PIN_E001, T0);
        assert_int_equal(app_select(&fx->app, 1, t), 0);
        assert_int_equal(fx->app.selection_ms, 10000); /* the roster's selection_s */
        assert_true(app_tick(&fx->app, t + 1) <= t + fx->app.selection_ms);
        assert_int_equal(fx->app.selected, 1);
        app_tick(&fx->app, t + fx->app.selection_ms);
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(app_send(&fx->app, t + fx->app.selection_ms + 1), -EAGAIN);
        assert_int_equal(stored(fx), 0);
}

static void one_tap(struct roster *r)
{
        r->settings.one_tap = true;
}

static void test_one_tap_sends_on_the_tap(void **state)
{
        struct fixture *fx = *state;

        give_roster(fx, one_tap);
        assert_true(fx->app.one_tap);
        login(fx, "E001", PIN_E001, T0);
        assert_int_equal(app_select(&fx->app, 2, T0 + 10), 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_THANKS);
        assert_int_equal(stored(fx), 1);
        /* kiosk.conf can say otherwise */
        fx->app.one_tap_local = 0;
        give_roster(fx, one_tap);
        assert_false(fx->app.one_tap);
}

/* Regulation 3.2: a second vote within min_interval_s of a counted one is kept, marked, not
 * counted, and not thanked; the interval runs from the last counted vote. */
static void test_min_interval_keeps_vote_suppressed(void **state)
{
        struct fixture *fx = *state;
        struct outbox_counts c;
        struct vote v[4];
        size_t n;
        int64_t t = T0 + 1000;

        login(fx, "E001", PIN_E001, T0);
        assert_int_equal(fx->app.min_interval_ms, 5000);
        vote(fx, 3, t);
        assert_int_equal(fx->app.screen, APP_SCREEN_THANKS);
        app_tick(&fx->app, t + 4000); /* the thank-you ends after thanks_s = 4 */
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);

        vote(fx, 1, t + 4500);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN); /* no second thank-you */
        assert_true(fx->app.notice_until_ms > t + 4500);   /* a short neutral notice */
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(fx->app.votes_suppressed, 1);
        vote(fx, 2, t + 4900);
        assert_int_equal(fx->app.votes_suppressed, 2);
        /* the notice goes by itself */
        app_tick(&fx->app, t + 4900 + APP_NOTICE_MS);
        assert_int_equal(fx->app.notice_until_ms, 0);

        /* 5 s after the counted vote, the next one counts and is thanked */
        vote(fx, 2, t + 5000);
        assert_int_equal(fx->app.screen, APP_SCREEN_THANKS);

        assert_int_equal(outbox_peek(fx->ob, 4, v, &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(v[0].suppressed, "");
        assert_string_equal(v[1].suppressed, VOTE_SUPPRESSED_MIN_INTERVAL);
        assert_string_equal(v[2].suppressed, VOTE_SUPPRESSED_MIN_INTERVAL);
        assert_string_equal(v[3].suppressed, "");
        for (size_t i = 0; i < n; i++)
                assert_string_equal(v[i].shift, fx->app.shift_id); /* every vote, its shift */
        assert_int_equal(outbox_counts(fx->ob, &c), 0);
        assert_int_equal(c.suppressed, 2);
}

static void test_refused_vote_shows_trouble_not_thanks(void **state)
{
        struct fixture *fx = *state;
        sqlite3 *db;

        login(fx, "E001", PIN_E001, T0);
        /* another connection makes the file refuse every new vote */
        assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "CREATE TRIGGER refuse BEFORE INSERT ON votes"
                                      " BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);

        assert_int_equal(app_select(&fx->app, 3, T0 + 10), 0);
        assert_true(app_send(&fx->app, T0 + 20) < 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_TROUBLE);
        assert_string_equal(fx->app.trouble, "store-broken");
        assert_int_equal(stored(fx), 0);
        /* the trouble screen takes no taps */
        assert_int_equal(app_select(&fx->app, 3, T0 + 30), 0);
        assert_int_equal(fx->app.selected, 0);
        app_staff(&fx->app, T0 + 40);
        assert_int_equal(fx->app.screen, APP_SCREEN_TROUBLE);
}

/* ---- shift login ---- */

static void test_login_opens_shift_with_event(void **state)
{
        struct fixture *fx = *state;
        struct vote_event ev;
        char saved[256];

        pick(fx, "E001", T0);
        assert_string_equal(app_pin_employee(&fx->app)->id, "E001");
        type(fx, "12", T0);
        assert_string_equal(fx->app.entry, "12");
        app_key(&fx->app, '\b', T0); /* erase */
        assert_string_equal(fx->app.entry, "1");
        type(fx, "234", T0);
        enter_pin(fx, "", T0 + 200); /* the entry holds 1234 */
        assert_true(fx->app.shift_open);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
        assert_true(vote_id_valid(fx->app.shift_id));
        assert_string_equal(fx->app.employee.full_name, "Коваленко Олена Петрівна");

        ev = last_event(fx);
        assert_string_equal(ev.kind, VOTE_EVENT_SHIFT_OPEN);
        assert_string_equal(ev.employee, "E001");
        assert_string_equal(ev.shift, fx->app.shift_id);
        assert_string_equal(ev.detail, "pin");
        assert_int_equal(ev.at_ms, EPOCH_MS + 200);
        assert_true(vote_id_valid(ev.id.s));
        /* the open shift is on disk, so that a restart resumes it */
        assert_int_equal(outbox_state_get(fx->ob, "shift", saved, sizeof(saved)), 0);
        assert_memory_equal(saved, fx->app.shift_id, VOTE_ID_LEN);
        /* a right PIN forgets the wrong one */
        assert_int_equal(outbox_state_get(fx->ob, "pin.E001", saved, sizeof(saved)), -ENOENT);
}

static void test_login_by_number(void **state)
{
        struct fixture *fx = *state;

        app_staff(&fx->app, T0);
        app_list_number(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_LOGIN_NUMBER);
        type(fx, "99", T0);
        app_key(&fx->app, '\n', T0);
        assert_int_equal(fx->app.note, APP_NOTE_UNKNOWN_NUMBER);
        assert_int_equal(fx->app.screen, APP_SCREEN_LOGIN_NUMBER);
        type(fx, "100", T0);                           /* E100 and F100 */
        assert_int_equal(fx->app.note, APP_NOTE_NONE); /* typing clears the note */
        app_key(&fx->app, '\n', T0);
        assert_int_equal(fx->app.note, APP_NOTE_AMBIGUOUS);
        type(fx, "0002", T0); /* the digits of E002, leading zeros or not */
        app_key(&fx->app, '\n', T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        assert_string_equal(app_pin_employee(&fx->app)->id, "E002");
        enter_pin(fx, PIN_E002, T0);
        assert_string_equal(fx->app.employee.id, "E002");

        /* an employee without a PIN cannot log in, and is told why */
        app_shift_close(&fx->app, "logout", T0 + 10);
        pick(fx, "E003", T0 + 20);
        assert_int_equal(fx->app.note, APP_NOTE_NO_PIN);
        type(fx, "1234", T0 + 20);
        app_key(&fx->app, '\n', T0 + 20);
        assert_false(fx->app.pin_check_pending);
        assert_false(fx->app.shift_open);
}

static void test_list_pages_and_back(void **state)
{
        struct fixture *fx = *state;

        app_staff(&fx->app, T0);
        /* sorted in the Ukrainian alphabet: А, Ґ, Є, К, Ш */
        assert_string_equal(app_list_employee(&fx->app, 0)->id, "E003");
        assert_string_equal(app_list_employee(&fx->app, 1)->id, "E100");
        assert_string_equal(app_list_employee(&fx->app, 2)->id, "F100");
        assert_string_equal(app_list_employee(&fx->app, 3)->id, "E001");
        assert_string_equal(app_list_employee(&fx->app, 4)->id, "E002");
        assert_null(app_list_employee(&fx->app, 5));
        app_list_scroll(&fx->app, 3, T0);
        assert_int_equal(fx->app.list_first, 3);
        app_list_scroll(&fx->app, 3, T0); /* no page past the end */
        assert_int_equal(fx->app.list_first, 3);
        app_list_scroll(&fx->app, -3, T0);
        app_list_scroll(&fx->app, -3, T0);
        assert_int_equal(fx->app.list_first, 0);
        app_list_pick(&fx->app, 99, T0); /* a row past the end picks nobody */
        assert_int_equal(fx->app.screen, APP_SCREEN_LOGIN_LIST);
        app_list_pick(&fx->app, 3, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        app_back(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_LOGIN_LIST);
        app_back(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        /* a staff screen left alone goes back by itself */
        app_staff(&fx->app, T0);
        assert_true(app_tick(&fx->app, T0 + 1) <= T0 + APP_STAFF_TIMEOUT_MS);
        app_tick(&fx->app, T0 + APP_STAFF_TIMEOUT_MS);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
}

static void test_no_roster_no_login(void **state)
{
        struct fixture *fx = *state;

        app_finish(&fx->app);
        app_start(fx);
        assert_int_equal(app_load_roster(&fx->app, T0), -ENOENT);
        app_staff(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_LOGIN_LIST);
        assert_null(app_list_employee(&fx->app, 0));
        app_list_number(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_LOGIN_LIST);
        assert_int_equal(app_shift_open(&fx->app, "E001", T0), -ENOENT);
}

/* ---- PIN lockouts ---- */

static void wrong_pin(struct fixture *fx, int64_t now)
{
        bool was_open = fx->app.shift_open;

        enter_pin(fx, "0000", now);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        assert_true(fx->app.note == APP_NOTE_WRONG_PIN || fx->app.note == APP_NOTE_LOCKED);
        assert_int_equal(fx->app.shift_open, was_open);
}

static void test_wrong_pins_lock_out_growing(void **state)
{
        struct fixture *fx = *state;
        static const int64_t expect[] = {30, 60, 120, 240, 480, 900, 900};
        struct vote_event ev;
        int64_t t = T0;

        pick(fx, "E001", t);
        wrong_pin(fx, t);
        assert_int_equal(fx->app.note, APP_NOTE_WRONG_PIN);
        assert_int_equal(fx->app.tries_left, 2);
        wrong_pin(fx, t);
        assert_int_equal(fx->app.tries_left, 1);
        assert_int_equal(events(fx, &ev, 1), 0); /* no lockout yet */
        for (size_t k = 0; k < sizeof(expect) / sizeof(expect[0]); k++) {
                char detail[16];

                wrong_pin(fx, t);
                assert_int_equal(fx->app.note, APP_NOTE_LOCKED);
                assert_int_equal(fx->app.lock_remaining_s, expect[k]);
                ev = last_event(fx);
                snprintf(detail, sizeof(detail), "%" PRId64, expect[k]);
                assert_string_equal(ev.kind, VOTE_EVENT_PIN_LOCKOUT);
                assert_string_equal(ev.employee, "E001");
                assert_string_equal(ev.detail, detail);
                /* while locked, keys do nothing, even the right PIN */
                type(fx, PIN_E001, t + 1000);
                app_key(&fx->app, '\n', t + 1000);
                assert_false(fx->app.pin_check_pending);
                assert_int_equal(fx->app.entry[0], 0);
                /* the countdown is shown and redrawn each second */
                assert_true(app_tick(&fx->app, t + 1500) <= t + 2000);
                assert_int_equal(fx->app.lock_remaining_s, expect[k] - 1);
                t += expect[k] * 1000 - 1;
                fx->app.staff_until_ms = t + APP_STAFF_TIMEOUT_MS; /* someone waits there */
                app_tick(&fx->app, t);
                assert_int_equal(fx->app.note, APP_NOTE_LOCKED);
                t += 1;
                app_tick(&fx->app, t);
                assert_int_equal(fx->app.note, APP_NOTE_NONE);
        }
        /* after the wait the right PIN works and resets the count */
        enter_pin(fx, PIN_E001, t);
        assert_true(fx->app.shift_open);
        app_shift_close(&fx->app, "logout", t);
        pick(fx, "E001", t);
        wrong_pin(fx, t);
        assert_int_equal(fx->app.note, APP_NOTE_WRONG_PIN);
        assert_int_equal(fx->app.tries_left, 2);
}

static void test_lockout_survives_restart_and_is_per_employee(void **state)
{
        struct fixture *fx = *state;

        pick(fx, "E001", T0);
        wrong_pin(fx, T0);
        wrong_pin(fx, T0);
        wrong_pin(fx, T0);
        assert_int_equal(fx->app.note, APP_NOTE_LOCKED);

        restart(fx, T0 + 10000, NULL);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        pick(fx, "E001", T0 + 10000);
        assert_int_equal(fx->app.note, APP_NOTE_LOCKED);
        assert_int_equal(fx->app.lock_remaining_s, 20);
        type(fx, PIN_E001, T0 + 10000);
        app_key(&fx->app, '\n', T0 + 10000);
        assert_false(fx->app.pin_check_pending);

        /* a clock set back an hour does not stretch the lockout beyond its 30 s */
        restart(fx, T0 + 10000, NULL);
        fx->app.fake_wall_epoch_ms -= 3600 * 1000;
        pick(fx, "E001", T0 + 10000);
        assert_int_equal(fx->app.lock_remaining_s, 30);
        fx->app.fake_wall_epoch_ms += 3600 * 1000;
        app_back(&fx->app, T0 + 10000);
        app_back(&fx->app, T0 + 10000);

        /* another employee is not locked */
        login(fx, "E002", PIN_E002, T0 + 11000);
}

/* ---- the staff menu ---- */

static void test_menu_behind_pin_and_logout(void **state)
{
        struct fixture *fx = *state;
        struct vote_event ev;
        char saved[256];
        char shift[VOTE_ID_LEN + 1];

        login(fx, "E001", PIN_E001, T0);
        memcpy(shift, fx->app.shift_id, sizeof(shift));
        app_staff(&fx->app, T0 + 100);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        assert_int_equal(fx->app.pin_for, APP_PIN_MENU);
        assert_string_equal(app_pin_employee(&fx->app)->id, "E001");
        assert_int_equal(app_select(&fx->app, 3, T0 + 110), 0); /* no votes from the menu */
        assert_int_equal(fx->app.selected, 0);
        wrong_pin(fx, T0 + 200);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        app_back(&fx->app, T0 + 300);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
        app_staff(&fx->app, T0 + 400);
        enter_pin(fx, PIN_E001, T0 + 400);
        assert_int_equal(fx->app.screen, APP_SCREEN_MENU);
        app_menu(&fx->app, APP_MENU_STATUS, T0 + 500);
        assert_int_equal(fx->app.screen, APP_SCREEN_STATUS);
        app_back(&fx->app, T0 + 600);
        assert_int_equal(fx->app.screen, APP_SCREEN_MENU);
        app_menu(&fx->app, APP_MENU_LOGOUT, T0 + 700);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        assert_false(fx->app.shift_open);

        ev = last_event(fx);
        assert_string_equal(ev.kind, VOTE_EVENT_SHIFT_CLOSE);
        assert_string_equal(ev.detail, "logout");
        assert_string_equal(ev.shift, shift);
        assert_string_equal(ev.employee, "E001");
        assert_int_equal(outbox_state_get(fx->ob, "shift", saved, sizeof(saved)), -ENOENT);
        assert_int_equal(stored(fx), 0);
}

static void test_language_switch_persists(void **state)
{
        struct fixture *fx = *state;

        assert_int_equal(fx->app.lang, VOTE_LANG_UK);
        assert_string_equal(fx->app.workplace_name, "ЦНАП, вікно 1");
        login(fx, "E001", PIN_E001, T0);
        app_staff(&fx->app, T0);
        enter_pin(fx, PIN_E001, T0);
        app_menu(&fx->app, APP_MENU_LANG, T0);
        assert_int_equal(fx->app.lang, VOTE_LANG_EN);
        assert_string_equal(fx->app.workplace_name, "ASC, window 1");
        restart(fx, T0 + 1000, NULL);
        assert_int_equal(fx->app.lang, VOTE_LANG_EN); /* the roster says uk; the staff said en */
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
}

/* ---- automatic logout ---- */

static void logout_at_20(struct roster *r)
{
        r->settings.logout_minute = 20 * 60;
}

static void test_logout_at_the_hour(void **state)
{
        struct fixture *fx = *state;
        /* 19:59:00 UTC, a minute before the logout hour */
        int64_t t = T0 + (int64_t)(9 * 3600 + 59 * 60) * 1000, next;
        struct vote_event ev;

        give_roster(fx, logout_at_20);
        login(fx, "E001", PIN_E001, t);
        next = app_tick(&fx->app, t + 30000);
        assert_true(next > t + 30000 && next <= t + 60000);
        assert_true(fx->app.shift_open);
        app_tick(&fx->app, t + 59999);
        assert_true(fx->app.shift_open);
        app_tick(&fx->app, t + 60000);
        assert_false(fx->app.shift_open);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        ev = last_event(fx);
        assert_string_equal(ev.kind, VOTE_EVENT_SHIFT_CLOSE);
        assert_string_equal(ev.detail, "hour");

        /* a login after the hour lasts until the same hour tomorrow */
        login(fx, "E001", PIN_E001, t + 120000);
        app_tick(&fx->app, t + 3600 * 1000);
        assert_true(fx->app.shift_open);
        assert_int_equal(fx->app.shift_logout_at, EPOCH_MS + (int64_t)(34 * 3600) * 1000);
}

static void idle_30min(struct roster *r)
{
        r->settings.idle_logout_s = 1800;
}

static void test_idle_logout(void **state)
{
        struct fixture *fx = *state;
        int64_t t = T0, idle = 1800 * 1000;

        give_roster(fx, idle_30min);
        login(fx, "E001", PIN_E001, t);
        assert_true(app_tick(&fx->app, t + 1000) <= t + idle);
        /* a vote keeps the shift open */
        vote(fx, 3, t + 600000);
        app_tick(&fx->app, t + 600000 + idle - 1);
        assert_true(fx->app.shift_open);
        /* so does a touch anywhere */
        app_touch(&fx->app, t + 600000 + idle - 1);
        app_tick(&fx->app, t + 600000 + 2 * idle - 2);
        assert_true(fx->app.shift_open);
        app_tick(&fx->app, t + 600000 + 2 * idle - 1);
        assert_false(fx->app.shift_open);
        assert_string_equal(last_event(fx).detail, "idle");
        /* nothing left that could take a vote */
        assert_int_equal(app_select(&fx->app, 3, t + 600000 + 2 * idle), 0);
        assert_int_equal(stored(fx), 1);
}

/* ---- restarts ---- */

static void test_restart_resumes_shift(void **state)
{
        struct fixture *fx = *state;
        char shift[VOTE_ID_LEN + 1];
        struct vote_event ev[8];
        struct vote v[2];
        size_t n;

        give_roster(fx, logout_at_20);
        login(fx, "E001", PIN_E001, T0);
        memcpy(shift, fx->app.shift_id, sizeof(shift));

        /* killed, started again an hour later, before 20:00: the same shift goes on */
        restart(fx, T0 + 3600 * 1000, logout_at_20);
        assert_true(fx->app.shift_open);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
        assert_string_equal(fx->app.shift_id, shift);
        assert_string_equal(fx->app.employee.full_name, "Коваленко Олена Петрівна");
        assert_true(fx->app.qr_url[0]);
        vote(fx, 2, T0 + 3600 * 1000 + 10);
        assert_int_equal(outbox_peek(fx->ob, 2, v, &n), 0);
        assert_string_equal(v[0].shift, shift);
        assert_int_equal(events(fx, ev, 8), 1); /* only the opening */

        /* started again after 20:00: the shift is closed, as a restart */
        restart(fx, T0 + 11 * 3600 * 1000, logout_at_20);
        assert_false(fx->app.shift_open);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        assert_int_equal(events(fx, ev, 8), 2);
        assert_string_equal(ev[1].kind, VOTE_EVENT_SHIFT_CLOSE);
        assert_string_equal(ev[1].detail, "restart");
        assert_string_equal(ev[1].shift, shift);
        assert_string_equal(ev[1].employee, "E001");
        restart(fx, T0 + 12 * 3600 * 1000, logout_at_20);
        assert_int_equal(events(fx, ev, 8), 2); /* closed once */
}

static void test_restart_after_idling_closes(void **state)
{
        struct fixture *fx = *state;

        give_roster(fx, idle_30min);
        login(fx, "E001", PIN_E001, T0);
        vote(fx, 1, T0 + 20 * 60 * 1000); /* activity is saved at most once a minute */
        restart(fx, T0 + 45 * 60 * 1000, idle_30min);
        assert_true(fx->app.shift_open);
        restart(fx, T0 + 90 * 60 * 1000, idle_30min);
        assert_false(fx->app.shift_open);
        assert_string_equal(last_event(fx).detail, "restart");
}

static void drop_e001(struct roster *r)
{
        r->employees[0] = r->employees[r->n_employees - 1];
        r->n_employees--;
}

static void test_roster_update_closes_departed_shift(void **state)
{
        struct fixture *fx = *state;
        struct roster r;
        struct sync_status st = {0};
        char *json;

        login(fx, "E001", PIN_E001, T0);
        /* the uploader saved a roster without E001 */
        make_roster(&r);
        drop_e001(&r);
        assert_int_equal(roster_encode(&r, &json), 0);
        roster_finish(&r);
        assert_int_equal(outbox_roster_save(fx->ob, json, strlen(json), "\"v2\""), 0);
        free(json);
        st.roster_version = 7;
        app_set_status(&fx->app, &st, T0 + 100);
        assert_int_equal(fx->app.roster_version, 7);
        assert_int_equal(fx->app.roster.n_employees, 4);
        assert_false(fx->app.shift_open);
        assert_string_equal(last_event(fx).detail, "roster");
        /* and works offline with it after a restart */
        app_finish(&fx->app);
        app_start(fx);
        assert_int_equal(app_load_roster(&fx->app, T0), 0);
        assert_null(roster_find(&fx->app.roster, "E001"));
        assert_non_null(roster_find(&fx->app.roster, "E002"));
}

/* ---- enrollment with a typed code ---- */

#define CODE "123456789012"
#define NO_CREDENTIAL "this terminal has no credential: configure terminal_id and terminal_secret"
#define REFUSED "enrollment refused (HTTP 403): code: unknown, used or expired"
#define UNREACHABLE                                                                                \
        "cannot connect to the collector at https://127.0.0.1:1: Failed to connect to 127.0.0.1 "  \
        "port 1 after 0 ms: Couldn't connect to server"
#define CERT "the collector's certificate is not signed by the configured CA (/etc/otsinka/ca.pem)"

/* The uploader reports (st may be NULL for a status of all zeros: no credential, nothing
 * heard); err is its last error. */
static void report(struct fixture *fx, bool enrolled, bool unauthorized, const char *err,
                   int64_t now)
{
        struct sync_status st = {0};

        st.enrolled = enrolled;
        st.unauthorized = unauthorized;
        snprintf(st.last_error, sizeof(st.last_error), "%s", err ? err : "");
        /* no attempt with a typed code ended: that stays as the app last heard it */
        st.enroll_seq = fx->app.status.enroll_seq;
        memcpy(st.enroll_error, fx->app.status.enroll_error, sizeof(st.enroll_error));
        app_set_status(&fx->app, &st, now);
}

/* The uploader reports that an attempt with a typed code ended (err "" = enrolled). */
static void report_attempt(struct fixture *fx, bool enrolled, bool unauthorized, const char *err,
                           int64_t now)
{
        struct sync_status st = fx->app.status;

        st.enrolled = enrolled;
        st.unauthorized = unauthorized;
        st.enroll_seq++;
        snprintf(st.enroll_error, sizeof(st.enroll_error), "%s", err);
        snprintf(st.last_error, sizeof(st.last_error), "%s", err);
        app_set_status(&fx->app, &st, now);
}

/* Types the code on the code keypad and presses OK; main.c then hands it over. */
static void type_code(struct fixture *fx, const char *code, int64_t now)
{
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL);
        type(fx, code, now);
        app_key(&fx->app, '\n', now);
        assert_string_equal(fx->app.enroll_code_pending, CODE);
        assert_int_equal(fx->app.enroll, APP_ENROLL_CONNECTING);
        assert_int_equal(fx->app.entry[0], 0); /* the code is not kept on screen */
        app_enroll_handed(&fx->app, 0, now);
        assert_int_equal(fx->app.enroll_code_pending[0], 0);
        assert_true(fx->app.enroll_watching);
}

static void test_connect_only_without_credential(void **state)
{
        struct fixture *fx = *state;
        uint64_t version;

        fx->app.have_collector = true;
        /* no credential yet (the uploader's status is all zeros until it reports) */
        assert_true(app_needs_enrollment(&fx->app));
        app_connect(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL); /* no PIN on the way */
        assert_false(fx->app.enroll_from_menu);
        assert_false(fx->app.enroll_replaces);
        assert_int_equal(fx->app.enroll, APP_ENROLL_NONE);
        app_back(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);

        /* a working terminal has no such control: a passer-by cannot make it drop its
         * credential; the control goes (a redraw) as soon as the uploader has one */
        version = fx->app.version;
        report(fx, true, false, NULL, T0);
        assert_true(fx->app.version > version);
        assert_false(app_needs_enrollment(&fx->app));
        app_connect(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);

        /* revoked: back again */
        report(fx, true, true, "not authorised: revoked or unknown terminal", T0);
        assert_true(app_needs_enrollment(&fx->app));
        app_connect(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL);
        app_back(&fx->app, T0);

        /* only on the closed screen: not while a shift is open */
        login(fx, "E001", PIN_E001, T0);
        app_connect(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);

        /* and like every staff screen it goes back by itself */
        app_shift_close(&fx->app, "logout", T0);
        app_connect(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL);
        app_tick(&fx->app, T0 + APP_STAFF_TIMEOUT_MS);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
}

static void test_code_keypad_takes_twelve_digits(void **state)
{
        struct fixture *fx = *state;

        fx->app.have_collector = true;
        app_connect(&fx->app, T0);
        /* eleven digits cannot be sent */
        type(fx, "1234-5678-901", T0);
        assert_string_equal(fx->app.entry, "12345678901"); /* dashes are no digits */
        app_key(&fx->app, '\n', T0);
        assert_int_equal(fx->app.enroll_code_pending[0], 0);
        assert_int_equal(fx->app.enroll, APP_ENROLL_NONE);
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL);
        /* the twelfth can, and a thirteenth is not taken */
        type(fx, "29", T0);
        assert_string_equal(fx->app.entry, CODE);
        app_key(&fx->app, '\b', T0);
        app_key(&fx->app, '\n', T0);
        assert_int_equal(fx->app.enroll_code_pending[0], 0);
        app_key(&fx->app, '2', T0);
        app_key(&fx->app, '\n', T0);
        assert_string_equal(fx->app.enroll_code_pending, CODE);
        assert_int_equal(fx->app.enroll, APP_ENROLL_CONNECTING);
        app_enroll_handed(&fx->app, 0, T0);

        /* without dashes it is the same code; spaces count for nothing either */
        app_back(&fx->app, T0);
        app_connect(&fx->app, T0);
        assert_int_equal(fx->app.enroll, APP_ENROLL_CONNECTING); /* still on its way */
        type_code(fx, CODE, T0);
        app_back(&fx->app, T0);
        app_connect(&fx->app, T0);
        type_code(fx, "1234 5678 9012", T0);

        /* the uploader did not take it: said plainly, and not watched */
        app_back(&fx->app, T0);
        app_connect(&fx->app, T0);
        type(fx, CODE, T0);
        app_key(&fx->app, '\n', T0);
        app_enroll_handed(&fx->app, -ENOTCONN, T0);
        assert_int_equal(fx->app.enroll, APP_ENROLL_FAILED);
        assert_string_equal(fx->app.enroll_error, "the uploader is not running (see the log)");
        assert_false(fx->app.enroll_watching);
        assert_int_equal(fx->app.enroll_code_pending[0], 0);
}

static void test_no_collector_says_so(void **state)
{
        struct fixture *fx = *state;

        assert_false(fx->app.have_collector); /* no collector-url */
        app_connect(&fx->app, T0);
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL);
        assert_int_equal(fx->app.enroll, APP_ENROLL_NO_COLLECTOR); /* before any typing */
        type(fx, CODE, T0);
        app_key(&fx->app, '\n', T0);
        assert_int_equal(fx->app.enroll_code_pending[0], 0);
        assert_int_equal(fx->app.enroll, APP_ENROLL_NO_COLLECTOR);
}

/* A new terminal: the uploader has no credential and says so; a wrong code, too many wrong
 * codes, a code that cannot reach the collector, one that fails otherwise, then the right
 * one. Only an attempt that ended (its enroll_seq moved) is a result: errors from before,
 * or the uploader's other errors, are not. */
static void test_enroll_result_from_status(void **state)
{
        struct fixture *fx = *state;
        int64_t t = T0;

        fx->app.have_collector = true;
        report(fx, false, false, NO_CREDENTIAL, t);
        app_connect(&fx->app, t);
        type_code(fx, CODE, t);
        /* the status before the attempt ended is no result, whatever its last error */
        report(fx, false, false, NO_CREDENTIAL, t + 10);
        report(fx, false, false, REFUSED, t + 20);
        assert_int_equal(fx->app.enroll, APP_ENROLL_CONNECTING);
        report_attempt(fx, false, false, REFUSED, t + 50);
        assert_int_equal(fx->app.enroll, APP_ENROLL_REFUSED);
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL);

        /* the same wrong code again: a result only when this attempt ends */
        t += 1000;
        type_code(fx, CODE, t);
        assert_int_equal(fx->app.enroll, APP_ENROLL_CONNECTING);
        report(fx, false, false, REFUSED, t + 10);
        assert_int_equal(fx->app.enroll, APP_ENROLL_CONNECTING);
        report_attempt(fx, false, false, REFUSED, t + 20);
        assert_int_equal(fx->app.enroll, APP_ENROLL_REFUSED);

        /* too many wrong codes; no answer at all; anything else in the uploader's words */
        type_code(fx, CODE, t + 30);
        report_attempt(fx, false, false,
                       "enrollment refused (HTTP 429): too many enrollment attempts", t + 40);
        assert_int_equal(fx->app.enroll, APP_ENROLL_TOO_MANY);
        type_code(fx, CODE, t + 50);
        report_attempt(fx, false, false, UNREACHABLE, t + 60);
        assert_int_equal(fx->app.enroll, APP_ENROLL_UNREACHABLE);
        type_code(fx, CODE, t + 70);
        report_attempt(fx, false, false, CERT, t + 80);
        assert_int_equal(fx->app.enroll, APP_ENROLL_FAILED);
        assert_string_equal(fx->app.enroll_error, CERT);

        /* on a new terminal the uploader tries the code again later: once the collector
         * answers, it is enrolled */
        assert_int_equal(outbox_state_set(fx->ob, "terminal_id", "T007"), 0);
        report(fx, true, false, "", t + 90);
        assert_int_equal(fx->app.enroll, APP_ENROLL_DONE);
        assert_string_equal(fx->app.enroll_terminal, "T007");
        assert_false(fx->app.enroll_watching);
        assert_false(app_needs_enrollment(&fx->app));
        /* «Підключено» for a moment, then the closed screen (which names the workplace) */
        assert_int_equal(app_tick(&fx->app, t + 91), t + 90 + APP_ENROLL_DONE_MS);
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL);
        app_tick(&fx->app, t + 90 + APP_ENROLL_DONE_MS);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        /* a later status changes nothing */
        report(fx, true, false, UNREACHABLE, t + 70000);
        assert_int_equal(fx->app.enroll, APP_ENROLL_DONE);
}

/* A working terminal gets a new code from the staff menu, which is behind the PIN. */
static void test_new_code_from_menu_behind_pin(void **state)
{
        struct fixture *fx = *state;
        int64_t t = T0;

        fx->app.have_collector = true;
        assert_int_equal(outbox_state_set(fx->ob, "terminal_id", "T001"), 0);
        report(fx, true, false, "", t);
        login(fx, "E001", PIN_E001, t);
        /* not from the open screen, nor from the PIN screen before the PIN */
        app_menu(&fx->app, APP_MENU_ENROLL, t);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
        app_staff(&fx->app, t);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        app_menu(&fx->app, APP_MENU_ENROLL, t);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        wrong_pin(fx, t);
        app_menu(&fx->app, APP_MENU_ENROLL, t);
        assert_int_equal(fx->app.screen, APP_SCREEN_PIN);
        enter_pin(fx, PIN_E001, t);
        assert_int_equal(fx->app.screen, APP_SCREEN_MENU);
        app_menu(&fx->app, APP_MENU_ENROLL, t);
        assert_int_equal(fx->app.screen, APP_SCREEN_ENROLL);
        assert_true(fx->app.enroll_from_menu);
        assert_true(fx->app.enroll_replaces); /* the screen warns: the credential goes */
        app_back(&fx->app, t);
        assert_int_equal(fx->app.screen, APP_SCREEN_MENU); /* back where it came from */

        app_menu(&fx->app, APP_MENU_ENROLL, t);
        type_code(fx, CODE, t);
        /* the old credential still working is no success: the attempt has not ended */
        report(fx, true, false, "", t + 10);
        assert_int_equal(fx->app.enroll, APP_ENROLL_CONNECTING);
        /* a wrong code: refused, and the working credential stays (nothing more to watch) */
        report_attempt(fx, true, false, REFUSED, t + 15);
        assert_int_equal(fx->app.enroll, APP_ENROLL_REFUSED);
        assert_false(fx->app.enroll_watching);
        type_code(fx, CODE, t + 16);
        assert_int_equal(outbox_state_set(fx->ob, "terminal_id", "T002"), 0);
        report_attempt(fx, true, false, "", t + 20);
        assert_int_equal(fx->app.enroll, APP_ENROLL_DONE);
        assert_string_equal(fx->app.enroll_terminal, "T002");
        assert_true(fx->app.shift_open); /* the shift goes on */
        app_tick(&fx->app, t + 20 + APP_ENROLL_DONE_MS);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);

        /* revoked later: a new code from the menu; the refusal from before is no result */
        report(fx, true, true, "not authorised: revoked or unknown terminal", t + 30);
        app_staff(&fx->app, t + 40);
        enter_pin(fx, PIN_E001, t + 40);
        app_menu(&fx->app, APP_MENU_ENROLL, t + 40);
        type_code(fx, CODE, t + 40);
        report(fx, true, true, "not authorised: revoked or unknown terminal", t + 50);
        assert_int_equal(fx->app.enroll, APP_ENROLL_CONNECTING);
        report_attempt(fx, true, false, "", t + 70);
        assert_int_equal(fx->app.enroll, APP_ENROLL_DONE);
}

/* Every text of the enrollment is in both languages, and translated. */
static void test_enroll_texts(void **state)
{
        static const char *const keys[] = {
            "kiosk.enroll_connect",  "kiosk.enroll_menu",        "kiosk.enroll_title",
            "kiosk.enroll_hint",     "kiosk.enroll_hint_again",  "kiosk.enroll_connecting",
            "kiosk.enroll_done",     "kiosk.enroll_done_as",     "kiosk.enroll_refused",
            "kiosk.enroll_too_many", "kiosk.enroll_failed",      "kiosk.enroll_no_collector",
            "kiosk.enroll_closed",   "kiosk.enroll_closed_hint", "kiosk.enroll_closed_revoked",
        };
        struct i18n *uk, *en;

        assert_int_equal(i18n_load(TEST_SOURCE_DIR "/assets", VOTE_LANG_UK, &uk), 0);
        assert_int_equal(i18n_load(TEST_SOURCE_DIR "/assets", VOTE_LANG_EN, &en), 0);
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                const char *u = i18n_get(uk, keys[i]), *e = i18n_get(en, keys[i]);

                if (strcmp(u, keys[i]) == 0 || strcmp(e, keys[i]) == 0 || strcmp(u, e) == 0)
                        fail_msg("%s: uk \"%s\", en \"%s\"", keys[i], u, e);
                /* the ones filled in take exactly one %s */
                assert_int_equal(strstr(u, "%s") != NULL, strstr(e, "%s") != NULL);
        }
        assert_string_equal(i18n_get(uk, "kiosk.enroll_connect"), "Підключити термінал");
        assert_string_equal(i18n_get(en, "kiosk.enroll_connect"), "Connect this terminal");
        assert_string_equal(i18n_get(uk, "kiosk.enroll_connecting"), "Підключення…");
        i18n_free(uk);
        i18n_free(en);
}

/* ---- the on-screen QR code ---- */

static void check_token(const char *url, int64_t now_s, int64_t ttl, struct qrtoken *ret)
{
        const char *base = "https://otsinka.example.gov.ua" QRTOKEN_PREFIX;

        assert_memory_equal(url, base, strlen(base));
        assert_int_equal(qrtoken_parse(url + strlen(base), ret), 0);
        assert_string_equal(ret->terminal, "T001");
        assert_string_equal(ret->employee, "E001");
        assert_int_equal(qrtoken_verify(qr_key, ret, now_s, ttl), 0);
}

static void test_qr_token_renewed_and_verifiable(void **state)
{
        struct fixture *fx = *state;
        char first[APP_URL_MAX];
        struct qrtoken t;
        uint64_t version;
        int64_t ttl = 300, half = ttl * 1000 / 2, next;
        struct sync_status st = {0};

        login(fx, "E001", PIN_E001, T0);
        check_token(fx->app.qr_url, EPOCH_MS / 1000, ttl, &t);
        assert_int_equal(t.expires, EPOCH_MS / 1000 + ttl);
        snprintf(first, sizeof(first), "%s", fx->app.qr_url);

        /* nothing to redraw until it is renewed at half its lifetime */
        version = fx->app.version;
        next = app_tick(&fx->app, T0 + 1000);
        assert_int_equal(next, T0 + half);
        app_tick(&fx->app, T0 + half - 1);
        assert_int_equal(fx->app.version, version);
        assert_string_equal(fx->app.qr_url, first);
        app_tick(&fx->app, T0 + half);
        assert_int_equal(fx->app.version, version + 1);
        assert_string_not_equal(fx->app.qr_url, first);
        check_token(fx->app.qr_url, EPOCH_MS / 1000 + half / 1000, ttl, &t);
        assert_int_equal(t.expires, EPOCH_MS / 1000 + half / 1000 + ttl);

        /* a photo of the first code stops working when it expires */
        assert_int_equal(qrtoken_parse(first + strlen("https://otsinka.example.gov.ua/s/"), &t), 0);
        assert_int_equal(qrtoken_verify(qr_key, &t, EPOCH_MS / 1000 + ttl, ttl), 0);
        assert_int_equal(qrtoken_verify(qr_key, &t, EPOCH_MS / 1000 + ttl + 1, ttl), -ETIME);

        /* the collector's clock is an hour ahead: the code follows the corrected clock */
        st.clock_known = true;
        st.clock_offset_ms = 3600 * 1000;
        app_set_status(&fx->app, &st, T0 + half + 10);
        check_token(fx->app.qr_url, EPOCH_MS / 1000 + 3600 + half / 1000, ttl, &t);
        assert_int_equal(t.expires, (EPOCH_MS + half + 10) / 1000 + 3600 + ttl);

        /* a shift closed: no code left on screen */
        app_shift_close(&fx->app, "logout", T0 + half + 20);
        assert_int_equal(fx->app.qr_url[0], 0);
}

static void no_key(struct roster *r)
{
        memset(r->qr_key, 0, sizeof(r->qr_key));
}

static void test_no_key_no_qr(void **state)
{
        struct fixture *fx = *state;

        give_roster(fx, no_key);
        login(fx, "E001", PIN_E001, T0);
        assert_int_equal(fx->app.qr_url[0], 0);
        vote(fx, 3, T0 + 10); /* voting on the terminal still works */
        assert_int_equal(stored(fx), 1);
        give_roster(fx, NULL); /* the key arrives */
        assert_true(fx->app.qr_url[0]);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        const struct CMUnitTest tests[] = {
            T(test_closed_takes_no_vote),
            T(test_tap_then_send_stores_then_thanks),
            T(test_taps_during_thanks_are_ignored),
            T(test_unsent_selection_clears),
            T(test_one_tap_sends_on_the_tap),
            T(test_min_interval_keeps_vote_suppressed),
            T(test_refused_vote_shows_trouble_not_thanks),
            T(test_login_opens_shift_with_event),
            T(test_login_by_number),
            T(test_list_pages_and_back),
            T(test_no_roster_no_login),
            T(test_wrong_pins_lock_out_growing),
            T(test_lockout_survives_restart_and_is_per_employee),
            T(test_menu_behind_pin_and_logout),
            T(test_language_switch_persists),
            T(test_logout_at_the_hour),
            T(test_idle_logout),
            T(test_restart_resumes_shift),
            T(test_restart_after_idling_closes),
            T(test_roster_update_closes_departed_shift),
            T(test_qr_token_renewed_and_verifiable),
            T(test_no_key_no_qr),
            T(test_connect_only_without_credential),
            T(test_code_keypad_takes_twelve_digits),
            T(test_no_collector_says_so),
            T(test_enroll_result_from_status),
            T(test_new_code_from_menu_behind_pin),
            T(test_enroll_texts),
        };

        if (sodium_init() < 0)
                return 1;
        setenv("TZ", "UTC", 1);
        tzset();
        /* argon2id at its smallest cost: the tests check the rules, not the cost */
        if (crypto_pwhash_str(hash_e001, PIN_E001, strlen(PIN_E001), 1, 8192) != 0 ||
            crypto_pwhash_str(hash_e002, PIN_E002, strlen(PIN_E002), 1, 8192) != 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
