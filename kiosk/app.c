/* SPDX-License-Identifier: MIT */
/* The terminal's state machine. Invariant: the thank-you screen appears only after
 * outbox_add() returned 0, that is after the vote reached the disk. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "outbox.h"

int64_t app_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void changed(struct app *app)
{
        app->version++;
}

void app_init(struct app *app, struct outbox *outbox)
{
        memset(app, 0, sizeof(*app));
        app->screen = APP_SCREEN_CLOSED;
        app->lang = VOTE_LANG_UK;
        app->thanks_ms = 4000;
        app->selection_ms = 15000;
        app->outbox = outbox;
        app->version = 1;
}

int app_shift_open(struct app *app, const struct app_employee *employee, int64_t now_ms)
{
        vote_id shift;

        if (!vote_ref_valid(employee->id))
                return -EINVAL;
        app->employee = *employee;
        vote_id_new(&shift);
        memcpy(app->shift_id, shift.s, sizeof(app->shift_id));
        app->shift_open = true;
        app->selected = 0;
        if (app->screen != APP_SCREEN_TROUBLE)
                app->screen = APP_SCREEN_OPEN;
        log_info("Shift %s opened for employee %s", app->shift_id, app->employee.id);
        changed(app);
        return 0;
}

void app_shift_close(struct app *app, int64_t now_ms)
{
        if (!app->shift_open)
                return;
        log_info("Shift %s closed", app->shift_id);
        app->shift_open = false;
        app->shift_id[0] = 0;
        app->selected = 0;
        if (app->screen != APP_SCREEN_TROUBLE)
                app->screen = APP_SCREEN_CLOSED;
        changed(app);
}

int app_select(struct app *app, int level, int64_t now_ms)
{
        if (app->screen != APP_SCREEN_OPEN || !vote_level_valid(level))
                return 0;
        app->selected = level;
        app->selected_until_ms = now_ms + app->selection_ms;
        changed(app);
        if (app->one_tap)
                return app_send(app, now_ms);
        return 0;
}

int app_send(struct app *app, int64_t now_ms)
{
        struct vote v = {0};
        int r;

        if (app->screen != APP_SCREEN_OPEN)
                return 0;
        if (!vote_level_valid(app->selected))
                return -EAGAIN;

        vote_id_new(&v.id);
        v.level = app->selected;
        memcpy(v.channel, VOTE_CHANNEL_TERMINAL, sizeof(VOTE_CHANNEL_TERMINAL));
        memcpy(v.employee, app->employee.id, sizeof(v.employee));
        memcpy(v.workplace, app->workplace, sizeof(v.workplace));
        memcpy(v.shift, app->shift_id, sizeof(v.shift));
        v.cast_at_ms = wall_ms();

        r = outbox_add(app->outbox, &v);
        if (r < 0) {
                log_error("Cannot store vote %s: %s", v.id.s, strerror(-r));
                snprintf(app->trouble, sizeof(app->trouble), "%s",
                         r == -ENOSPC ? "disk-full" : "store-broken");
                app->screen = APP_SCREEN_TROUBLE;
                app->selected = 0;
                changed(app);
                return r;
        }
        log_info("Vote %s stored: level %d for employee %s", v.id.s, v.level, v.employee);
        app->selected = 0;
        app->last_vote_ms = now_ms;
        app->thanks_until_ms = now_ms + app->thanks_ms;
        app->screen = APP_SCREEN_THANKS;
        app->pending++; /* shown at once; the uploader's count replaces it */
        app->votes_stored++;
        changed(app);
        return 0;
}

int64_t app_tick(struct app *app, int64_t now_ms)
{
        int64_t next = -1;

        if (app->screen == APP_SCREEN_THANKS) {
                if (now_ms >= app->thanks_until_ms) {
                        app->screen = app->shift_open ? APP_SCREEN_OPEN : APP_SCREEN_CLOSED;
                        changed(app);
                } else
                        next = app->thanks_until_ms;
        }
        if (app->screen == APP_SCREEN_OPEN && app->selected) {
                if (now_ms >= app->selected_until_ms) {
                        app->selected = 0;
                        changed(app);
                } else if (next < 0 || app->selected_until_ms < next)
                        next = app->selected_until_ms;
        }
        return next;
}

void app_set_status(struct app *app, int64_t pending, bool online)
{
        if (app->pending == pending && app->online == online)
                return;
        app->pending = pending;
        app->online = online;
        changed(app);
}
