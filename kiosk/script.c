/* SPDX-License-Identifier: MIT */
/* The test mode's script interpreter. Fake time: the app sees a monotonic clock that moves only
 * with "advance", and a wall clock that is a fixed epoch plus it (app.fake_wall_epoch_ms), so
 * timers, the logout hour and QR expiry are the same on every run. After each command the
 * app's timers run, the frame is drawn, and work that follows a frame (the PIN check, a typed
 * enrollment code handed to the uploader) is done, exactly as in the event loop of main.c.
 * The uploader's status reaches the app only in "wait" (or as "status" pretends). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "fileio.h"
#include "log.h"
#include "outbox.h"
#include "script.h"
#include "sync.h"
#include "ui.h"

#define SCRIPT_LINE_MAX 1024
#define SCRIPT_WORDS_MAX 24
#define SCRIPT_ADVANCE_STEPS 100000 /* timers fired within one advance, at most */

struct run {
        const struct script_options *o;
        int64_t now; /* the fake monotonic clock */
        const char *file;
        int line;
};

/* Logs "FILE:LINE: what arg" and returns -EINVAL. */
static int fail(const struct run *r, const char *what, const char *arg)
{
        log_error("%s:%d: %s%s", r->file, r->line, what, arg ? arg : "");
        return -EINVAL;
}

/* The work after a frame besides the PIN check: a typed enrollment code goes to the uploader
 * (when there is none, the app says that it is not running). True when it did something. */
static bool hand_code(struct run *r)
{
        struct app *app = r->o->app;

        if (!app->enroll_code_pending[0])
                return false;
        app_enroll_handed(
            app, r->o->sync ? sync_enroll(r->o->sync, app->enroll_code_pending) : -ENOTCONN,
            r->now);
        return true;
}

/* One turn of the event loop without the wait: timers, a frame, then the work after it. */
static void settle(struct run *r)
{
        struct app *app = r->o->app;

        for (int i = 0; i < 4; i++) {
                bool pin, code;

                app_tick(app, r->now);
                ui_draw(r->o->ui, app);
                pin = app_run_pending(app, r->now);
                code = hand_code(r);
                if (!pin && !code)
                        break;
        }
}

static int advance(struct run *r, int64_t ms)
{
        int64_t end = r->now + ms;

        for (int i = 0; i < SCRIPT_ADVANCE_STEPS; i++) {
                int64_t next = app_tick(r->o->app, r->now);

                app_run_pending(r->o->app, r->now);
                if (next < 0 || next > end)
                        break;
                r->now = next > r->now ? next : r->now + 1;
        }
        r->now = end;
        settle(r);
        return 0;
}

static int wait_real(struct run *r, int64_t ms)
{
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        struct sync_status st;

        nanosleep(&ts, NULL);
        if (r->o->sync) {
                sync_get_status(r->o->sync, &st);
                app_set_status(r->o->app, &st, r->now);
        }
        settle(r);
        return 0;
}

static bool number(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        if (!s || !*s)
                return false;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end)
                return false;
        *ret = v;
        return true;
}

static int key(struct run *r, const char *k)
{
        char c;

        if (strcmp(k, "enter") == 0)
                c = '\n';
        else if (strcmp(k, "backspace") == 0)
                c = '\b';
        else if (strcmp(k, "escape") == 0)
                c = 27;
        else if (strlen(k) == 1)
                c = k[0];
        else
                return fail(r, "key: unknown key ", k);
        ui_key(r->o->ui, r->o->app, c, r->now);
        settle(r);
        return 0;
}

static int status(struct run *r, char **w, int n)
{
        struct sync_status st = r->o->app->status;
        int64_t v;

        if (n % 2 != 1)
                return fail(r, "status: expected KEY VALUE pairs", NULL);
        for (int i = 1; i < n; i += 2) {
                if (!number(w[i + 1], &v))
                        return fail(r, "status: not a number: ", w[i + 1]);
                if (strcmp(w[i], "online") == 0)
                        st.online = v != 0;
                else if (strcmp(w[i], "pending") == 0)
                        st.pending = v;
                else if (strcmp(w[i], "events") == 0)
                        st.events_pending = v;
                else if (strcmp(w[i], "rejected") == 0)
                        st.rejected = v;
                else if (strcmp(w[i], "clock") == 0) {
                        st.clock_known = true;
                        st.clock_offset_ms = v;
                } else if (strcmp(w[i], "unauthorized") == 0)
                        st.unauthorized = v != 0;
                else if (strcmp(w[i], "enrolled") == 0)
                        st.enrolled = v != 0;
                else if (strcmp(w[i], "last-ok") == 0)
                        st.last_ok_unix = v;
                else
                        return fail(r, "status: unknown key ", w[i]);
        }
        app_set_status(r->o->app, &st, r->now);
        settle(r);
        return 0;
}

static int roster(struct run *r, const char *path)
{
        char *json = NULL;
        size_t len = 0;
        int rc;

        if (!r->o->outbox)
                return fail(r, "roster: the store is not open", NULL);
        rc = fileio_read(path, 4 * 1024 * 1024, &json, &len);
        if (rc < 0)
                return fail(r, "roster: cannot read ", path);
        rc = outbox_roster_save(r->o->outbox, json, len, "script");
        free(json);
        if (rc < 0)
                return fail(r, "roster: cannot save ", path);
        rc = app_load_roster(r->o->app, r->now);
        if (rc < 0)
                return fail(r, "roster: does not decode: ", path);
        settle(r);
        return 0;
}

static const char *const screen_names[] = {
    [APP_SCREEN_CLOSED] = "closed",   [APP_SCREEN_OPEN] = "open",
    [APP_SCREEN_THANKS] = "thanks",   [APP_SCREEN_TROUBLE] = "trouble",
    [APP_SCREEN_LOGIN_LIST] = "list", [APP_SCREEN_LOGIN_NUMBER] = "number",
    [APP_SCREEN_PIN] = "pin",         [APP_SCREEN_MENU] = "menu",
    [APP_SCREEN_STATUS] = "status",   [APP_SCREEN_ENROLL] = "enroll",
};

static int expect(struct run *r, const char *want)
{
        const char *have = screen_names[r->o->app->screen];

        if (strcmp(have, want) != 0) {
                char msg[128];

                snprintf(msg, sizeof(msg), "expected the %s screen, but %s shows", want, have);
                return fail(r, msg, NULL);
        }
        return 0;
}

static int shot(struct run *r, const char *name)
{
        char path[4096];
        int rc;

        if (!r->o->screenshots || !*r->o->screenshots)
                return fail(r, "shot: no --screenshots folder", NULL);
        if (strchr(name, '/'))
                return fail(r, "shot: not a plain name: ", name);
        snprintf(path, sizeof(path), "%s/%s.png", r->o->screenshots, name);
        settle(r);
        rc = ui_screenshot(r->o->ui, r->o->app, path);
        if (rc < 0)
                return fail(r, "shot: cannot save ", path);
        log_info("Screenshot %s (screen %s)", path, screen_names[r->o->app->screen]);
        return 0;
}

/* Splits line into words at spaces and tabs, in place. */
static int split(char *line, char **w)
{
        int n = 0;

        for (char *p = strtok(line, " \t\r\n"); p && n < SCRIPT_WORDS_MAX;
             p = strtok(NULL, " \t\r\n"))
                w[n++] = p;
        return n;
}

static int command(struct run *r, char **w, int n)
{
        struct layout_rect rect;
        int64_t a, b;
        const char *c = w[0];

        if (strcmp(c, "clock") == 0 && n == 2 && number(w[1], &a)) {
                r->o->app->fake_wall_epoch_ms = a * 1000 - r->now;
                settle(r);
                return 0;
        }
        if (strcmp(c, "tap") == 0 && n == 3 && number(w[1], &a) && number(w[2], &b)) {
                ui_tap(r->o->ui, r->o->app, (int)a, (int)b, r->now);
                settle(r);
                return 0;
        }
        if (strcmp(c, "tap-target") == 0 && n == 2) {
                if (!ui_target_rect(r->o->ui, r->o->app, w[1], &rect))
                        return fail(r, "tap-target: the screen shown has no target ", w[1]);
                ui_tap(r->o->ui, r->o->app, rect.x + rect.w / 2, rect.y + rect.h / 2, r->now);
                settle(r);
                return 0;
        }
        if (strcmp(c, "key") == 0 && n == 2)
                return key(r, w[1]);
        if (strcmp(c, "type") == 0 && n == 2) {
                for (const char *p = w[1]; *p; p++) {
                        char k[2] = {*p, 0};
                        int rc = key(r, k);

                        if (rc < 0)
                                return rc;
                }
                return 0;
        }
        if (strcmp(c, "advance") == 0 && n == 2 && number(w[1], &a) && a >= 0)
                return advance(r, a);
        if (strcmp(c, "wait") == 0 && n == 2 && number(w[1], &a) && a >= 0 && a <= 600000)
                return wait_real(r, a);
        if (strcmp(c, "status") == 0)
                return status(r, w, n);
        if (strcmp(c, "roster") == 0 && n == 2)
                return roster(r, w[1]);
        if (strcmp(c, "expect") == 0 && n == 2)
                return expect(r, w[1]);
        if (strcmp(c, "shot") == 0 && n == 2)
                return shot(r, w[1]);
        return fail(r, "unknown or malformed command ", c);
}

int script_run(const struct script_options *o)
{
        struct run r = {.o = o, .now = o->start_ms, .file = o->path};
        char line[SCRIPT_LINE_MAX], *w[SCRIPT_WORDS_MAX];
        FILE *f;
        int rc = 0;

        f = fopen(o->path, "re");
        if (!f) {
                rc = -errno;
                log_error("Cannot open the script %s: %s", o->path, strerror(errno));
                return rc;
        }
        if (o->screenshots && *o->screenshots && mkdir(o->screenshots, 0755) < 0 &&
            errno != EEXIST) {
                rc = -errno;
                log_error("Cannot make the folder %s: %s", o->screenshots, strerror(errno));
                goto out;
        }
        if (!o->app->fake_wall_epoch_ms)
                o->app->fake_wall_epoch_ms = (int64_t)time(NULL) * 1000 - r.now;
        settle(&r);
        while (fgets(line, sizeof(line), f)) {
                int n;

                r.line++;
                if (line[0] == '#')
                        continue;
                n = split(line, w);
                if (n == 0)
                        continue;
                if (strcmp(w[0], "quit") == 0)
                        break;
                log_debug("%s:%d: %s", r.file, r.line, w[0]);
                rc = command(&r, w, n);
                if (rc < 0)
                        goto out;
        }
        if (ferror(f)) {
                rc = -EIO;
                log_error("Cannot read the script %s", o->path);
        }
out:
        fclose(f);
        return rc;
}
