/* SPDX-License-Identifier: MIT */
/* The terminal's state machine on a real outbox file: a tap highlights, «Відправити відгук»
 * stores and thanks, the thank-you and an unsent selection end by themselves, one-tap mode,
 * no votes while closed, and a store that refuses the vote shows the trouble screen instead
 * of a thank-you. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "app.h"
#include "outbox.h"
#include "testutil.h"

struct fixture {
        char dir[4096];
        char db[4200];
        struct outbox *ob;
        struct app app;
};

static const struct app_employee employee = {
    .id = "E001",
    .full_name = "Коваленко Олена Петрівна",
    .position = "Адміністратор ЦНАП",
    .unit = "Відділ обслуговування громадян",
    .vote_url = "https://127.0.0.1:8443/r/abcdefghijk",
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));

        if (!fx || test_mkdtemp(fx->dir, sizeof(fx->dir), "otsinka-app") < 0)
                return -1;
        snprintf(fx->db, sizeof(fx->db), "%s/kiosk.db", fx->dir);
        if (outbox_open(fx->db, &fx->ob) < 0)
                return -1;
        app_init(&fx->app, fx->ob);
        snprintf(fx->app.workplace, sizeof(fx->app.workplace), "W001");
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        outbox_close(fx->ob);
        test_remove_tree(fx->dir);
        free(fx);
        return 0;
}

static int64_t stored(struct fixture *fx)
{
        struct outbox_counts c;

        assert_int_equal(outbox_counts(fx->ob, &c), 0);
        return c.pending + c.sent + c.rejected;
}

static void test_closed_takes_no_vote(void **state)
{
        struct fixture *fx = *state;

        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        assert_int_equal(app_select(&fx->app, 3, 1000), 0);
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(app_send(&fx->app, 1000), 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        assert_int_equal(stored(fx), 0);
}

static void test_tap_then_send_stores_then_thanks(void **state)
{
        struct fixture *fx = *state;
        struct vote v;
        size_t n;
        uint64_t version;

        assert_int_equal(app_shift_open(&fx->app, &employee, 1000), 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
        assert_int_equal(app_send(&fx->app, 1500), -EAGAIN); /* nothing selected */
        assert_int_equal(stored(fx), 0);

        version = fx->app.version;
        assert_int_equal(app_select(&fx->app, 2, 2000), 0);
        assert_int_equal(fx->app.selected, 2);
        assert_true(fx->app.version > version); /* the highlight is drawn */
        assert_int_equal(stored(fx), 0);        /* a tap alone stores nothing */
        assert_int_equal(app_select(&fx->app, 3, 2100), 0);
        assert_int_equal(fx->app.selected, 3); /* a change of mind */

        assert_int_equal(app_send(&fx->app, 2200), 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_THANKS);
        assert_int_equal(fx->app.votes_stored, 1);
        assert_int_equal(outbox_peek(fx->ob, 4, &v, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(v.level, 3);
        assert_string_equal(v.channel, "terminal");
        assert_string_equal(v.employee, "E001");
        assert_string_equal(v.workplace, "W001");
        assert_string_equal(v.shift, fx->app.shift_id);
        assert_true(vote_id_valid(v.id.s));

        /* the thank-you ends by itself and the open screen comes back, nothing selected */
        assert_int_equal(app_tick(&fx->app, 2300), 2200 + fx->app.thanks_ms);
        assert_int_equal(fx->app.screen, APP_SCREEN_THANKS);
        assert_int_equal(app_tick(&fx->app, 2200 + fx->app.thanks_ms), -1);
        assert_int_equal(fx->app.screen, APP_SCREEN_OPEN);
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(stored(fx), 1);
}

static void test_taps_during_thanks_are_ignored(void **state)
{
        struct fixture *fx = *state;

        assert_int_equal(app_shift_open(&fx->app, &employee, 0), 0);
        assert_int_equal(app_select(&fx->app, 1, 10), 0);
        assert_int_equal(app_send(&fx->app, 20), 0);
        assert_int_equal(app_select(&fx->app, 1, 30), 0);
        assert_int_equal(app_send(&fx->app, 40), 0);
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(stored(fx), 1);
}

static void test_unsent_selection_clears(void **state)
{
        struct fixture *fx = *state;

        assert_int_equal(app_shift_open(&fx->app, &employee, 0), 0);
        assert_int_equal(app_select(&fx->app, 1, 1000), 0);
        assert_int_equal(app_tick(&fx->app, 1001), 1000 + fx->app.selection_ms);
        assert_int_equal(fx->app.selected, 1);
        app_tick(&fx->app, 1000 + fx->app.selection_ms);
        assert_int_equal(fx->app.selected, 0);
        assert_int_equal(app_send(&fx->app, 1000 + fx->app.selection_ms + 1), -EAGAIN);
        assert_int_equal(stored(fx), 0);
}

static void test_one_tap_sends_on_the_tap(void **state)
{
        struct fixture *fx = *state;

        fx->app.one_tap = true;
        assert_int_equal(app_shift_open(&fx->app, &employee, 0), 0);
        assert_int_equal(app_select(&fx->app, 2, 10), 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_THANKS);
        assert_int_equal(stored(fx), 1);
}

static void test_shift_close_stops_votes(void **state)
{
        struct fixture *fx = *state;

        assert_int_equal(app_shift_open(&fx->app, &employee, 0), 0);
        assert_int_equal(app_select(&fx->app, 2, 10), 0);
        app_shift_close(&fx->app, 20);
        assert_int_equal(fx->app.screen, APP_SCREEN_CLOSED);
        assert_int_equal(app_send(&fx->app, 30), 0);
        assert_int_equal(stored(fx), 0);
}

static void test_refused_vote_shows_trouble_not_thanks(void **state)
{
        struct fixture *fx = *state;
        sqlite3 *db;

        /* another connection makes the file refuse every new vote */
        assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "CREATE TRIGGER refuse BEFORE INSERT ON votes"
                                      " BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);

        assert_int_equal(app_shift_open(&fx->app, &employee, 0), 0);
        assert_int_equal(app_select(&fx->app, 3, 10), 0);
        assert_true(app_send(&fx->app, 20) < 0);
        assert_int_equal(fx->app.screen, APP_SCREEN_TROUBLE);
        assert_string_equal(fx->app.trouble, "store-broken");
        assert_int_equal(fx->app.votes_stored, 0);
        assert_int_equal(stored(fx), 0);
        /* the trouble screen takes no taps */
        assert_int_equal(app_select(&fx->app, 3, 30), 0);
        assert_int_equal(fx->app.selected, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_closed_takes_no_vote, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tap_then_send_stores_then_thanks, setup, teardown),
            cmocka_unit_test_setup_teardown(test_taps_during_thanks_are_ignored, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unsent_selection_clears, setup, teardown),
            cmocka_unit_test_setup_teardown(test_one_tap_sends_on_the_tap, setup, teardown),
            cmocka_unit_test_setup_teardown(test_shift_close_stops_votes, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refused_vote_shows_trouble_not_thanks, setup,
                                            teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
