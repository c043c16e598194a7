/* SPDX-License-Identifier: MIT */
/* The terminal's state machine. Invariants: the thank-you screen appears only after
 * outbox_add() returned 0, that is after the vote reached the disk; no vote is taken while no
 * shift is open; every vote carries the shift it was cast in; a shift opens only after the
 * employee's PIN was checked and its shift_open event is stored.
 *
 * Durable state beside the votes (outbox_state_*):
 *   "lang"       "uk" or "en": the language the staff chose in the menu
 *   "shift"      "<shift id> <employee> <logout at> <last active>": the open shift, times in
 *                corrected wall ms (0 = no logout hour), so a restart resumes it
 *   "pin.<id>"   "<wrong PINs in a row> <locked until> <lockout s>": an employee's lockout
 * and, read only, the uploader's "terminal_id": the enrolled terminal's id, which tells that an
 * enrollment with a typed code went through (the collector makes a new terminal each time). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "app.h"
#include "i18n.h"
#include "log.h"
#include "outbox.h"

#define SAVE_ACTIVE_EVERY_MS 60000 /* the shift's last activity is persisted this often */
#define QR_RENEW_OFFSET_MS 5000    /* a clock offset change this large renews the QR code */
#define STATE_MAX 256
#define STATE_TERMINAL_ID "terminal_id" /* written by the uploader (sync.c) */

int64_t app_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t app_wall_ms(const struct app *app, int64_t now_ms)
{
        struct timespec ts;

        if (app->fake_wall_epoch_ms)
                return app->fake_wall_epoch_ms + now_ms;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t app_clock_ms(const struct app *app, int64_t now_ms)
{
        return app_wall_ms(app, now_ms) +
               (app->status.clock_known ? app->status.clock_offset_ms : 0);
}

static void changed(struct app *app)
{
        app->version++;
}

static bool staff_screen(enum app_screen s)
{
        return s == APP_SCREEN_LOGIN_LIST || s == APP_SCREEN_LOGIN_NUMBER || s == APP_SCREEN_PIN ||
               s == APP_SCREEN_MENU || s == APP_SCREEN_STATUS || s == APP_SCREEN_ENROLL;
}

static void entry_wipe(struct app *app)
{
        sodium_memzero(app->entry, sizeof(app->entry));
}

static void copy(char *dst, size_t n, const char *src)
{
        snprintf(dst, n, "%s", src ? src : "");
}

/* ---- settings and the roster ---- */

static void apply_lang(struct app *app)
{
        const struct roster_settings *s = &app->roster.settings;
        enum vote_lang lang = VOTE_LANG_UK;

        if (app->lang_local >= 0)
                lang = (enum vote_lang)app->lang_local;
        else if (app->have_roster)
                lang = s->lang;
        app->lang = lang;
        if (!app->have_roster)
                copy(app->workplace_name, sizeof(app->workplace_name), app->workplace_name_local);
        else if (lang == VOTE_LANG_EN && app->roster.workplace_name_en[0])
                copy(app->workplace_name, sizeof(app->workplace_name),
                     app->roster.workplace_name_en);
        else
                copy(app->workplace_name, sizeof(app->workplace_name), app->roster.workplace_name);
}

static void apply_settings(struct app *app)
{
        struct roster_settings s;

        if (app->have_roster)
                s = app->roster.settings;
        else
                roster_settings_defaults(&s);
        app->min_interval_ms = s.min_interval_s * 1000;
        app->idle_logout_ms = s.idle_logout_s * 1000;
        app->logout_minute = s.logout_minute;
        app->qr_ttl_s = s.qr_ttl_s > 0 ? s.qr_ttl_s : 300;
        app->thanks_ms = s.thanks_s * 1000;
        app->selection_ms = s.selection_s * 1000;
        app->one_tap = app->one_tap_local >= 0 ? app->one_tap_local != 0 : s.one_tap;
        apply_lang(app);
}

void app_init(struct app *app, struct outbox *outbox)
{
        memset(app, 0, sizeof(*app));
        app->screen = APP_SCREEN_CLOSED;
        app->lang_local = -1;
        app->one_tap_local = -1;
        app->outbox = outbox;
        app->version_str = OTSINKA_VERSION;
        apply_settings(app);
        app->version = 1;
}

void app_finish(struct app *app)
{
        roster_finish(&app->roster);
        free(app->order);
        app->order = NULL;
        app->have_roster = false;
        entry_wipe(app);
        sodium_memzero(app->enroll_code_pending, sizeof(app->enroll_code_pending));
}

/* The Ukrainian alphabet's order for sorting names (byte order puts є, і, ї, ґ after я). */
static const char alphabet[] = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя";

static uint32_t utf8_next(const char **p)
{
        const unsigned char *s = (const unsigned char *)*p;
        uint32_t c = s[0];
        int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : 3;

        if (n > 0)
                c &= 0x3f >> n;
        for (int i = 1; i <= n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return (*p)++, 0xfffd;
                c = (c << 6) | (s[i] & 0x3f);
        }
        *p += n + 1;
        return c;
}

/* A letter's place: Latin and digits first, then the Ukrainian alphabet, case ignored. */
static uint32_t sort_key(uint32_t c)
{
        const char *a = alphabet;

        if (c >= 'A' && c <= 'Z')
                c += 'a' - 'A';
        if (c >= 0x0410 && c <= 0x042f)
                c += 0x20; /* А..Я → а..я */
        else if (c >= 0x0400 && c <= 0x040f)
                c += 0x50; /* Ѐ..Џ → ѐ..џ, among them Є І Ї */
        else if (c == 0x0490)
                c = 0x0491; /* Ґ */
        for (uint32_t i = 0; *a; i++) {
                if (utf8_next(&a) == c)
                        return 0x10000 + i;
        }
        return c < 0x80 ? c : 0x20000 + c;
}

static int name_cmp(const void *a, const void *b, void *ctx)
{
        const struct roster *r = ctx;
        const struct roster_employee *x = &r->employees[*(const size_t *)a];
        const struct roster_employee *y = &r->employees[*(const size_t *)b];
        const char *p = x->full_name, *q = y->full_name;

        while (*p && *q) {
                uint32_t kp = sort_key(utf8_next(&p)), kq = sort_key(utf8_next(&q));

                if (kp != kq)
                        return kp < kq ? -1 : 1;
        }
        if (*p || *q)
                return *p ? 1 : -1;
        return strcmp(x->id, y->id);
}

const struct roster_employee *app_list_employee(const struct app *app, size_t i)
{
        if (!app->have_roster || !app->order || i >= app->roster.n_employees)
                return NULL;
        return &app->roster.employees[app->order[i]];
}

const struct roster_employee *app_pin_employee(const struct app *app)
{
        if (!app->have_roster || app->screen != APP_SCREEN_PIN)
                return NULL;
        return roster_find(&app->roster, app->employee_pin);
}

/* ---- the store ---- */

static void store_failed(struct app *app, int r, const char *what)
{
        log_error("Cannot store %s: %s", what, strerror(-r));
        snprintf(app->trouble, sizeof(app->trouble), "%s",
                 r == -ENOSPC ? "disk-full" : "store-broken");
        app->screen = APP_SCREEN_TROUBLE;
        app->selected = 0;
        app->pin_check_pending = false;
        entry_wipe(app);
        changed(app);
}

static int event_add(struct app *app, const char *kind, const char *employee, const char *shift,
                     const char *detail, int64_t now_ms)
{
        struct vote_event e = {0};
        int r;

        if (!app->outbox)
                return -EIO;
        vote_id_new(&e.id);
        copy(e.kind, sizeof(e.kind), kind);
        copy(e.employee, sizeof(e.employee), employee);
        copy(e.shift, sizeof(e.shift), shift);
        copy(e.detail, sizeof(e.detail), detail);
        e.at_ms = app_wall_ms(app, now_ms);
        vote_boot_id(e.boot);
        e.mono_ms = vote_mono_ms();
        r = outbox_add_event(app->outbox, &e);
        if (r < 0) {
                store_failed(app, r, kind);
                return r;
        }
        log_info("Event %s: %s employee %s shift %s %s", e.id.s, kind, employee, shift, detail);
        app->votes_stored++; /* the uploader is kicked */
        return 0;
}

static int state_set(struct app *app, const char *key, const char *value)
{
        int r;

        if (!app->outbox)
                return -EIO;
        r = outbox_state_set(app->outbox, key, value);
        if (r < 0)
                log_error("Cannot save the terminal's state \"%s\": %s", key, strerror(-r));
        return r;
}

static void state_delete(struct app *app, const char *key)
{
        int r;

        if (!app->outbox)
                return;
        r = outbox_state_delete(app->outbox, key);
        if (r < 0 && r != -ENOENT)
                log_error("Cannot clear the terminal's state \"%s\": %s", key, strerror(-r));
}

/* ---- the shift ---- */

/* The first moment after clock_ms (corrected wall ms) whose local time is the logout minute;
 * 0 when there is none. mktime() keeps it right across daylight-saving changes. */
static int64_t logout_after(const struct app *app, int64_t clock_ms)
{
        time_t t = (time_t)(clock_ms / 1000), at;
        struct tm base, tm;

        if (app->logout_minute < 0 || !localtime_r(&t, &base))
                return 0;
        for (int day = 0; day < 3; day++) {
                tm = base;
                tm.tm_mday += day;
                tm.tm_hour = app->logout_minute / 60;
                tm.tm_min = app->logout_minute % 60;
                tm.tm_sec = 0;
                tm.tm_isdst = -1;
                at = mktime(&tm);
                if (at != (time_t)-1 && (int64_t)at * 1000 > clock_ms)
                        return (int64_t)at * 1000;
        }
        return 0;
}

static void shift_save(struct app *app, int64_t clock_ms)
{
        char v[STATE_MAX];

        snprintf(v, sizeof(v), "%s %s %" PRId64 " %" PRId64, app->shift_id, app->employee.id,
                 app->shift_logout_at, clock_ms);
        if (state_set(app, "shift", v) == 0)
                app->shift_saved_active = clock_ms;
}

static bool key_set(const uint8_t key[QRTOKEN_KEY_LEN])
{
        uint8_t any = 0;

        for (size_t i = 0; i < QRTOKEN_KEY_LEN; i++)
                any |= key[i];
        return any != 0;
}

/* Makes the on-screen QR code: valid for qr_ttl_s from the corrected clock, renewed at half
 * of that. Without a roster, a base or a key there is none, and the screen says so. */
static void qr_make(struct app *app, int64_t now_ms)
{
        const struct roster *ro = &app->roster;
        char url[APP_URL_MAX] = "";
        int64_t expires = 0;
        int r;

        if (app->shift_open && app->have_roster && ro->qr_base[0] && key_set(ro->qr_key)) {
                expires = app_clock_ms(app, now_ms) / 1000 + app->qr_ttl_s;
                r = qrtoken_url(ro->qr_key, ro->qr_base, ro->terminal, app->employee.id, expires,
                                url, sizeof(url));
                if (r < 0) {
                        log_warn("Cannot make the on-screen QR code: %s", strerror(-r));
                        url[0] = 0;
                }
        }
        app->qr_expires = url[0] ? expires : 0;
        app->qr_renew_ms = now_ms + app->qr_ttl_s * 1000 / 2;
        app->qr_offset_ms = app->status.clock_offset_ms;
        app->qr_clock_known = app->status.clock_known;
        if (strcmp(url, app->qr_url) != 0) {
                memcpy(app->qr_url, url, sizeof(url));
                if (app->screen == APP_SCREEN_OPEN)
                        changed(app); /* the only redraw the QR code causes */
        }
}

static void show_home(struct app *app)
{
        if (app->screen == APP_SCREEN_TROUBLE)
                return;
        app->screen = app->shift_open ? APP_SCREEN_OPEN : APP_SCREEN_CLOSED;
        app->selected = 0;
        app->note = APP_NOTE_NONE;
        app->pin_check_pending = false;
        entry_wipe(app);
        changed(app);
}

static void activity(struct app *app, int64_t now_ms)
{
        int64_t clock;

        app->last_activity_ms = now_ms;
        if (staff_screen(app->screen))
                app->staff_until_ms = now_ms + APP_STAFF_TIMEOUT_MS;
        if (!app->shift_open)
                return;
        clock = app_clock_ms(app, now_ms);
        if (clock - app->shift_saved_active >= SAVE_ACTIVE_EVERY_MS ||
            clock < app->shift_saved_active)
                shift_save(app, clock);
}

static void employee_copy(struct app_employee *dst, const struct roster_employee *e)
{
        copy(dst->id, sizeof(dst->id), e->id);
        copy(dst->full_name, sizeof(dst->full_name), e->full_name);
        copy(dst->position, sizeof(dst->position), e->position);
        copy(dst->unit, sizeof(dst->unit), e->unit);
}

int app_shift_open(struct app *app, const char *employee_id, int64_t now_ms)
{
        const struct roster_employee *e;
        vote_id shift;
        int64_t clock;
        int r;

        if (!app->outbox || app->screen == APP_SCREEN_TROUBLE)
                return -EIO;
        e = app->have_roster ? roster_find(&app->roster, employee_id) : NULL;
        if (!e)
                return -ENOENT;
        if (app->shift_open)
                app_shift_close(app, "logout", now_ms);
        vote_id_new(&shift);
        r = event_add(app, VOTE_EVENT_SHIFT_OPEN, e->id, shift.s, "pin", now_ms);
        if (r < 0)
                return r;
        employee_copy(&app->employee, e);
        memcpy(app->shift_id, shift.s, sizeof(app->shift_id));
        app->shift_open = true;
        clock = app_clock_ms(app, now_ms);
        app->shift_logout_at = logout_after(app, clock);
        shift_save(app, clock);
        app->last_activity_ms = now_ms;
        app->have_counted = false;
        app->notice_until_ms = 0;
        log_info("Shift %s opened for employee %s", app->shift_id, app->employee.id);
        show_home(app);
        qr_make(app, now_ms);
        return 0;
}

int app_shift_close(struct app *app, const char *detail, int64_t now_ms)
{
        int r;

        if (!app->shift_open)
                return 0;
        r = event_add(app, VOTE_EVENT_SHIFT_CLOSE, app->employee.id, app->shift_id, detail, now_ms);
        state_delete(app, "shift");
        log_info("Shift %s closed (%s)", app->shift_id, detail);
        app->shift_open = false;
        app->shift_id[0] = 0;
        app->employee = (struct app_employee){0};
        app->qr_url[0] = 0;
        app->notice_until_ms = 0;
        show_home(app);
        return r < 0 ? r : 0;
}

/* ---- restoring after a restart ---- */

int app_restore(struct app *app, int64_t now_ms)
{
        char v[STATE_MAX], id[VOTE_ID_LEN + 2] = "", emp[VOTE_REF_MAX + 2] = "";
        long long logout_at = 0, active = 0;
        const struct roster_employee *e = NULL;
        enum vote_lang lang;
        int64_t clock;
        bool resume;

        /* kiosk.conf's overrides (lang, one-tap) hold from the first frame, before any roster */
        apply_settings(app);
        changed(app);
        if (!app->outbox)
                return 0;
        if (outbox_state_get(app->outbox, "lang", v, sizeof(v)) == 0 &&
            i18n_lang_from_string(v, &lang) == 0) {
                app->lang_local = (int)lang;
                apply_lang(app);
                changed(app);
        }
        if (outbox_state_get(app->outbox, "shift", v, sizeof(v)) < 0)
                return 0;
        if (sscanf(v, "%37s %65s %lld %lld", id, emp, &logout_at, &active) != 4 ||
            !vote_id_valid(id) || !vote_ref_valid(emp)) {
                log_warn("The saved shift \"%s\" is malformed; dropping it", v);
                state_delete(app, "shift");
                return 0;
        }
        clock = app_clock_ms(app, now_ms);
        if (app->have_roster)
                e = roster_find(&app->roster, emp);
        /* before its logout time, not idle for too long, the clock not far behind */
        resume = e && (logout_at == 0 || clock < logout_at) &&
                 (app->idle_logout_ms == 0 || clock - active < app->idle_logout_ms) &&
                 clock >= active - 10 * 60 * 1000;
        memcpy(app->shift_id, id, sizeof(app->shift_id));
        copy(app->employee.id, sizeof(app->employee.id), emp);
        app->shift_open = true;
        if (!resume)
                return app_shift_close(app, "restart", now_ms);
        employee_copy(&app->employee, e);
        app->shift_logout_at = logout_at;
        app->shift_saved_active = active;
        app->last_activity_ms = now_ms;
        log_info("Shift %s of employee %s resumed after a restart", app->shift_id, emp);
        show_home(app);
        qr_make(app, now_ms);
        return 0;
}

/* ---- the roster ---- */

void app_set_roster(struct app *app, struct roster *roster, int64_t now_ms)
{
        size_t *order = NULL;
        size_t n = roster->n_employees;

        roster_finish(&app->roster);
        app->roster = *roster;
        memset(roster, 0, sizeof(*roster));
        app->have_roster = true;
        if (n > 0)
                order = malloc(n * sizeof(*order));
        free(app->order);
        app->order = order;
        if (order) {
                for (size_t i = 0; i < n; i++)
                        order[i] = i;
                qsort_r(order, n, sizeof(*order), name_cmp, &app->roster);
        }
        if (app->list_first >= n)
                app->list_first = 0;
        copy(app->workplace, sizeof(app->workplace), app->roster.workplace);
        apply_settings(app);
        if (app->shift_open) {
                const struct roster_employee *e = roster_find(&app->roster, app->employee.id);

                if (!e)
                        app_shift_close(app, "roster", now_ms);
                else {
                        employee_copy(&app->employee, e);
                        qr_make(app, now_ms);
                }
        }
        /* the PIN screen's employee may have left */
        if (app->screen == APP_SCREEN_PIN && !app_pin_employee(app))
                show_home(app);
        changed(app);
}

int app_load_roster(struct app *app, int64_t now_ms)
{
        struct roster r = {0};
        char etag[256], err[256] = "";
        char *json = NULL;
        size_t len = 0;
        int rc;

        if (!app->outbox)
                return -EIO;
        rc = outbox_roster_load(app->outbox, &json, &len, etag, sizeof(etag));
        if (rc < 0) {
                if (rc != -ENOENT)
                        log_error("Cannot read the saved roster: %s", strerror(-rc));
                return rc;
        }
        rc = roster_decode(json, len, &r, err, sizeof(err));
        free(json);
        if (rc < 0) {
                log_error("The saved roster does not decode (%s); keeping the last one", err);
                return rc;
        }
        log_info("Roster: workplace %s, %zu employees", r.workplace, r.n_employees);
        app_set_roster(app, &r, now_ms);
        return 0;
}

/* ---- enrollment with a typed code ---- */

bool app_needs_enrollment(const struct app *app)
{
        return !app->status.enrolled || app->status.unauthorized;
}

/* The terminal id the uploader keeps after enrolling; "" when none. */
static void kept_terminal(struct app *app, char *buf, size_t n)
{
        if (!app->outbox || outbox_state_get(app->outbox, STATE_TERMINAL_ID, buf, n) < 0)
                buf[0] = 0;
}

/* What an error of the uploader's means for a code, from its words (sync.c's messages): the
 * status carries no error code. */
static enum app_enroll enroll_outcome(const char *err)
{
        static const char *const unreachable[] = {
            "cannot connect to the collector", "cannot resolve the collector's name",
            "the collector did not answer in time", "the connection to the collector broke",
            "the collector is busy"};

        if (strstr(err, "(HTTP 429)"))
                return APP_ENROLL_TOO_MANY;
        if (strstr(err, "enrollment refused"))
                return APP_ENROLL_REFUSED;
        for (size_t i = 0; i < sizeof(unreachable) / sizeof(unreachable[0]); i++)
                if (strncmp(err, unreachable[i], strlen(unreachable[i])) == 0)
                        return APP_ENROLL_UNREACHABLE;
        return APP_ENROLL_FAILED;
}

/* Reads how the code handed to the uploader fared from its status (see app_enroll_handed()). */
static void enroll_update(struct app *app, int64_t now_ms)
{
        const struct sync_status *st = &app->status;
        char id[VOTE_REF_MAX + 1];
        enum app_enroll e;
        bool ended = st->enroll_seq != app->enroll_seq;

        if (!app->enroll_watching)
                return;
        /* enrolled with the code; or, on a fresh terminal, with it at a later try */
        if ((ended && !st->enroll_error[0]) ||
            (app->enroll_fresh && app->enroll != APP_ENROLL_CONNECTING && st->enrolled &&
             !st->unauthorized)) {
                kept_terminal(app, id, sizeof(id));
                log_info("Enrolled with the typed code%s%s", id[0] ? " as terminal " : "", id);
                app->enroll_watching = false;
                app->enroll = APP_ENROLL_DONE;
                copy(app->enroll_terminal, sizeof(app->enroll_terminal), id);
                app->enroll_done_ms = now_ms + APP_ENROLL_DONE_MS;
                changed(app);
                return;
        }
        if (!ended)
                return;
        app->enroll_seq = st->enroll_seq;
        e = enroll_outcome(st->enroll_error);
        log_warn("Enrollment with the typed code: %s", st->enroll_error);
        app->enroll = e;
        copy(app->enroll_error, sizeof(app->enroll_error), st->enroll_error);
        /* a working terminal keeps its credential: nothing more will come of this code */
        if (!app->enroll_fresh)
                app->enroll_watching = false;
        changed(app);
}

void app_enroll_handed(struct app *app, int r, int64_t now_ms)
{
        sodium_memzero(app->enroll_code_pending, sizeof(app->enroll_code_pending));
        if (r < 0) {
                log_error("Cannot hand the enrollment code to the uploader: %s", strerror(-r));
                app->enroll_watching = false;
                app->enroll = APP_ENROLL_FAILED;
                copy(app->enroll_error, sizeof(app->enroll_error),
                     r == -ENOTCONN ? "the uploader is not running (see the log)" : strerror(-r));
                changed(app);
                return;
        }
        app->enroll_watching = true;
        app->enroll_seq = app->status.enroll_seq;
        app->enroll_fresh = !app->status.enrolled || app->status.unauthorized;
}

void app_set_status(struct app *app, const struct sync_status *st, int64_t now_ms)
{
        bool shown = st->pending != app->pending || st->online != app->online ||
                     st->unauthorized != app->status.unauthorized ||
                     st->enrolled != app->status.enrolled; /* «Підключити термінал» */

        if (app->screen == APP_SCREEN_STATUS && memcmp(st, &app->status, sizeof(*st)) != 0)
                shown = true;
        app->status = *st;
        app->pending = st->pending;
        app->online = st->online;
        if (shown)
                changed(app);
        enroll_update(app, now_ms);
        if (st->roster_version != app->roster_version) {
                app->roster_version = st->roster_version;
                app_load_roster(app, now_ms);
        }
        if (app->shift_open &&
            (st->clock_known != app->qr_clock_known ||
             llabs(st->clock_offset_ms - app->qr_offset_ms) > QR_RENEW_OFFSET_MS))
                qr_make(app, now_ms);
}

/* ---- voting ---- */

int app_select(struct app *app, int level, int64_t now_ms)
{
        if (app->screen != APP_SCREEN_OPEN || !app->shift_open || !vote_level_valid(level))
                return 0;
        activity(app, now_ms);
        app->selected = level;
        app->selected_until_ms = now_ms + app->selection_ms;
        app->notice_until_ms = 0;
        changed(app);
        if (app->one_tap)
                return app_send(app, now_ms);
        return 0;
}

int app_send(struct app *app, int64_t now_ms)
{
        struct vote v = {0};
        bool suppressed;
        int r;

        if (app->screen != APP_SCREEN_OPEN || !app->shift_open)
                return 0;
        if (!vote_level_valid(app->selected))
                return -EAGAIN;
        if (!app->outbox) {
                store_failed(app, -EIO, "a vote");
                return -EIO;
        }
        /* regulation 3.2: a vote right after a counted one is kept, but not counted */
        suppressed = app->have_counted && now_ms - app->last_counted_ms < app->min_interval_ms;

        vote_id_new(&v.id);
        v.level = app->selected;
        copy(v.channel, sizeof(v.channel), VOTE_CHANNEL_TERMINAL);
        copy(v.employee, sizeof(v.employee), app->employee.id);
        copy(v.workplace, sizeof(v.workplace), app->workplace);
        copy(v.shift, sizeof(v.shift), app->shift_id);
        v.cast_at_ms = app_wall_ms(app, now_ms);
        if (suppressed)
                copy(v.suppressed, sizeof(v.suppressed), VOTE_SUPPRESSED_MIN_INTERVAL);
        vote_boot_id(v.boot);
        v.mono_ms = vote_mono_ms();

        r = outbox_add(app->outbox, &v);
        if (r < 0) {
                store_failed(app, r, "a vote");
                return r;
        }
        app->selected = 0;
        app->pending++; /* shown at once; the uploader's count replaces it */
        app->votes_stored++;
        activity(app, now_ms);
        if (suppressed) {
                /* no second thank-you and no reproach: a quiet notice, then the open screen */
                log_info("Vote %s stored as suppressed (%s): level %d for employee %s", v.id.s,
                         v.suppressed, v.level, v.employee);
                app->votes_suppressed++;
                app->notice_until_ms = now_ms + APP_NOTICE_MS;
        } else {
                log_info("Vote %s stored: level %d for employee %s", v.id.s, v.level, v.employee);
                app->have_counted = true;
                app->last_counted_ms = now_ms;
                app->thanks_until_ms = now_ms + app->thanks_ms;
                app->screen = APP_SCREEN_THANKS;
        }
        changed(app);
        return 0;
}

/* ---- PIN lockouts ---- */

struct lockout {
        int fails;      /* wrong PINs in a row */
        int64_t until;  /* corrected wall ms; 0 not locked */
        int64_t lock_s; /* the last lockout's length */
};

/* "pin.<id>"; an id too long for a state key (64 bytes) is hashed instead. */
static void lockout_key(char *buf, size_t n, const char *id)
{
        uint8_t h[16];
        char hex[2 * sizeof(h) + 1];

        if (strlen(id) <= 56) {
                snprintf(buf, n, "pin.%s", id);
                return;
        }
        crypto_generichash(h, sizeof(h), (const unsigned char *)id, strlen(id), NULL, 0);
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        snprintf(buf, n, "pin#%s", hex);
}

static void lockout_save(struct app *app, const char *id, const struct lockout *l)
{
        char key[16 + VOTE_REF_MAX], v[96];

        lockout_key(key, sizeof(key), id);
        snprintf(v, sizeof(v), "%d %" PRId64 " %" PRId64, l->fails, l->until, l->lock_s);
        state_set(app, key, v);
}

/* The employee's record; a lockout that reaches further ahead than its own length (the clock
 * went back) is cut to that length. */
static void lockout_load(struct app *app, const char *id, int64_t clock, struct lockout *ret)
{
        char key[16 + VOTE_REF_MAX], v[96];
        long long until = 0, lock_s = 0;
        int fails = 0;

        *ret = (struct lockout){0};
        lockout_key(key, sizeof(key), id);
        if (!app->outbox || outbox_state_get(app->outbox, key, v, sizeof(v)) < 0)
                return;
        if (sscanf(v, "%d %lld %lld", &fails, &until, &lock_s) != 3 || fails < 0 || lock_s < 0 ||
            lock_s > APP_LOCK_MAX_S)
                return;
        *ret = (struct lockout){fails, until, lock_s};
        if (ret->until - clock > ret->lock_s * 1000) {
                ret->until = clock + ret->lock_s * 1000;
                lockout_save(app, id, ret);
        }
}

/* Shows the lockout on the PIN screen; true while it lasts. */
static bool lockout_show(struct app *app, int64_t clock)
{
        int64_t left = app->lock_until - clock, s;

        if (app->lock_until == 0 || left <= 0) {
                if (app->note == APP_NOTE_LOCKED) {
                        app->note = APP_NOTE_NONE;
                        changed(app);
                }
                app->lock_until = 0;
                return false;
        }
        s = (left + 999) / 1000;
        if (app->note != APP_NOTE_LOCKED || app->lock_remaining_s != s) {
                app->note = APP_NOTE_LOCKED;
                app->lock_remaining_s = s;
                changed(app);
        }
        return true;
}

static int64_t lockout_length(int fails)
{
        int over = fails - APP_PIN_TRIES;
        int64_t s = APP_LOCK_FIRST_S;

        for (int i = 0; i < over && s < APP_LOCK_MAX_S; i++)
                s *= 2;
        return s < APP_LOCK_MAX_S ? s : APP_LOCK_MAX_S;
}

/* ---- staff screens ---- */

static void staff_show(struct app *app, enum app_screen s, int64_t now_ms)
{
        app->screen = s;
        app->note = APP_NOTE_NONE;
        app->pin_check_pending = false;
        app->selected = 0;
        entry_wipe(app);
        app->staff_until_ms = now_ms + APP_STAFF_TIMEOUT_MS;
        changed(app);
}

static void pin_show(struct app *app, const struct roster_employee *e, enum app_pin_purpose p,
                     int64_t now_ms)
{
        struct lockout l;
        int64_t clock = app_clock_ms(app, now_ms);

        copy(app->employee_pin, sizeof(app->employee_pin), e->id);
        app->pin_for = p;
        staff_show(app, APP_SCREEN_PIN, now_ms);
        lockout_load(app, e->id, clock, &l);
        app->lock_until = l.until;
        if (!lockout_show(app, clock) && !e->pin_hash[0])
                app->note = APP_NOTE_NO_PIN;
}

void app_staff(struct app *app, int64_t now_ms)
{
        const struct roster_employee *e;

        if (app->screen == APP_SCREEN_CLOSED) {
                activity(app, now_ms);
                staff_show(app, APP_SCREEN_LOGIN_LIST, now_ms);
                app->list_first = 0;
        } else if (app->screen == APP_SCREEN_OPEN && app->shift_open) {
                activity(app, now_ms);
                e = app->have_roster ? roster_find(&app->roster, app->employee.id) : NULL;
                if (e)
                        pin_show(app, e, APP_PIN_MENU, now_ms);
        }
}

/* The code keypad; a result from before shows no more, unless the code is still on its way. */
static void enroll_show(struct app *app, bool from_menu, int64_t now_ms)
{
        staff_show(app, APP_SCREEN_ENROLL, now_ms);
        app->enroll_from_menu = from_menu;
        app->enroll_replaces = !app_needs_enrollment(app);
        if (!app->have_collector)
                app->enroll = APP_ENROLL_NO_COLLECTOR;
        else if (app->enroll != APP_ENROLL_CONNECTING)
                app->enroll = APP_ENROLL_NONE;
}

/* No PIN here, unlike the staff menu: a terminal without a credential has no roster, so nobody
 * could log in, and this is the only way in. The code itself is the secret: an administrator
 * makes it for one workplace, it works once and expires, and the collector stops taking codes
 * from an address after a few wrong ones. A terminal that works shows no such control, so a
 * passer-by cannot make it drop its credential; the staff menu's item is behind the PIN. */
void app_connect(struct app *app, int64_t now_ms)
{
        if (app->screen != APP_SCREEN_CLOSED || !app_needs_enrollment(app))
                return;
        activity(app, now_ms);
        enroll_show(app, false, now_ms);
}

void app_list_scroll(struct app *app, long delta, int64_t now_ms)
{
        size_t n = app->have_roster ? app->roster.n_employees : 0, first = app->list_first;

        if (app->screen != APP_SCREEN_LOGIN_LIST)
                return;
        activity(app, now_ms);
        if (delta < 0)
                first = (size_t)-delta > first ? 0 : first - (size_t)-delta;
        else if (first + (size_t)delta < n)
                first += (size_t)delta;
        if (first != app->list_first) {
                app->list_first = first;
                changed(app);
        }
}

void app_list_pick(struct app *app, size_t i, int64_t now_ms)
{
        const struct roster_employee *e = app_list_employee(app, i);

        if (app->screen != APP_SCREEN_LOGIN_LIST || !e)
                return;
        activity(app, now_ms);
        pin_show(app, e, APP_PIN_LOGIN, now_ms);
}

void app_list_number(struct app *app, int64_t now_ms)
{
        if (app->screen != APP_SCREEN_LOGIN_LIST || !app->have_roster)
                return;
        activity(app, now_ms);
        staff_show(app, APP_SCREEN_LOGIN_NUMBER, now_ms);
}

/* The digits of s, without leading zeros, into buf. */
static void digits_of(const char *s, char *buf, size_t n)
{
        size_t k = 0;

        for (; *s && k + 1 < n; s++) {
                if (*s < '0' || *s > '9' || (k == 0 && *s == '0'))
                        continue;
                buf[k++] = *s;
        }
        buf[k] = 0;
}

/* The employee with personal number `typed`: the exact id, else the one id whose digits are
 * the typed number ("17" finds "E017"). -ENOENT for none, -EEXIST for several. */
static int number_find(const struct app *app, const char *typed, const struct roster_employee **ret)
{
        const struct roster_employee *found = NULL;
        char want[APP_NUMBER_MAX + 1], have[VOTE_REF_MAX + 1];

        found = roster_find(&app->roster, typed);
        if (found) {
                *ret = found;
                return 0;
        }
        digits_of(typed, want, sizeof(want));
        for (size_t i = 0; i < app->roster.n_employees; i++) {
                digits_of(app->roster.employees[i].id, have, sizeof(have));
                if (strcmp(want, have) != 0)
                        continue;
                if (found)
                        return -EEXIST;
                found = &app->roster.employees[i];
        }
        if (!found)
                return -ENOENT;
        *ret = found;
        return 0;
}

static void entry_key(struct app *app, char key, size_t max)
{
        size_t n = strlen(app->entry);

        if (key >= '0' && key <= '9' && n < max) {
                app->entry[n] = key;
                app->entry[n + 1] = 0;
                changed(app);
        } else if (key == '\b' && n > 0) {
                app->entry[n - 1] = 0;
                changed(app);
        }
}

void app_key(struct app *app, char key, int64_t now_ms)
{
        const struct roster_employee *e;
        int r;

        if (app->screen == APP_SCREEN_LOGIN_NUMBER) {
                activity(app, now_ms);
                if (key != '\n') {
                        if (app->note != APP_NOTE_NONE) {
                                app->note = APP_NOTE_NONE;
                                changed(app);
                        }
                        entry_key(app, key, APP_NUMBER_MAX);
                        return;
                }
                if (!app->entry[0])
                        return;
                r = number_find(app, app->entry, &e);
                if (r == 0) {
                        pin_show(app, e, APP_PIN_LOGIN, now_ms);
                        return;
                }
                app->note = r == -EEXIST ? APP_NOTE_AMBIGUOUS : APP_NOTE_UNKNOWN_NUMBER;
                entry_wipe(app);
                changed(app);
        } else if (app->screen == APP_SCREEN_PIN) {
                activity(app, now_ms);
                if (app->pin_check_pending || app->note == APP_NOTE_LOCKED ||
                    app->note == APP_NOTE_NO_PIN)
                        return;
                if (key != '\n') {
                        entry_key(app, key, APP_PIN_MAX);
                        return;
                }
                if (!app->entry[0])
                        return;
                /* the frame saying "checking…" is drawn before app_run_pending() checks */
                app->note = APP_NOTE_CHECKING;
                app->pin_check_pending = true;
                changed(app);
        } else if (app->screen == APP_SCREEN_ENROLL) {
                activity(app, now_ms);
                if (!app->have_collector || key == '-' || key == ' ')
                        return;
                if (key != '\n') {
                        /* typing again: the last result no longer stands */
                        if (app->enroll != APP_ENROLL_NONE &&
                            app->enroll != APP_ENROLL_CONNECTING) {
                                app->enroll = APP_ENROLL_NONE;
                                changed(app);
                        }
                        entry_key(app, key, APP_ENROLL_DIGITS);
                        return;
                }
                if (strlen(app->entry) != APP_ENROLL_DIGITS)
                        return;
                memcpy(app->enroll_code_pending, app->entry, APP_ENROLL_DIGITS + 1);
                entry_wipe(app);
                app->enroll = APP_ENROLL_CONNECTING;
                app->enroll_watching = false; /* until handed over; an older code is forgotten */
                log_info("An enrollment code was typed on the terminal");
                changed(app);
        }
}

bool app_run_pending(struct app *app, int64_t now_ms)
{
        const struct roster_employee *e;
        struct lockout l;
        char detail[24];
        int64_t clock;
        int r;

        if (!app->pin_check_pending)
                return false;
        app->pin_check_pending = false;
        e = app_pin_employee(app);
        if (!e) {
                show_home(app);
                return true;
        }
        r = roster_check_pin(e, app->entry);
        entry_wipe(app);
        clock = app_clock_ms(app, now_ms);
        lockout_load(app, e->id, clock, &l);
        app->note = APP_NOTE_NONE;
        changed(app);
        if (r == 0) {
                if (l.fails || l.until) {
                        char key[16 + VOTE_REF_MAX];

                        lockout_key(key, sizeof(key), e->id);
                        state_delete(app, key);
                }
                app->lock_until = 0;
                log_info("Employee %s entered the right PIN", e->id);
                if (app->pin_for == APP_PIN_MENU && app->shift_open &&
                    strcmp(app->employee.id, e->id) == 0)
                        staff_show(app, APP_SCREEN_MENU, now_ms);
                else if (app->pin_for == APP_PIN_LOGIN)
                        app_shift_open(app, e->id, now_ms);
                else
                        show_home(app);
                return true;
        }
        if (r != -EACCES) {
                log_error("Cannot check the PIN of employee %s: %s", e->id, strerror(-r));
                return true;
        }
        l.fails++;
        log_warn("Wrong PIN for employee %s (%d in a row)", e->id, l.fails);
        if (l.fails >= APP_PIN_TRIES) {
                l.lock_s = lockout_length(l.fails);
                l.until = clock + l.lock_s * 1000;
                lockout_save(app, e->id, &l);
                snprintf(detail, sizeof(detail), "%" PRId64, l.lock_s);
                event_add(app, VOTE_EVENT_PIN_LOCKOUT, e->id, "", detail, now_ms);
                if (app->screen != APP_SCREEN_PIN)
                        return true; /* the store failed: the trouble screen shows */
                app->lock_until = l.until;
                lockout_show(app, clock);
        } else {
                lockout_save(app, e->id, &l);
                app->note = APP_NOTE_WRONG_PIN;
                app->tries_left = APP_PIN_TRIES - l.fails;
        }
        return true;
}

void app_back(struct app *app, int64_t now_ms)
{
        switch (app->screen) {
        case APP_SCREEN_LOGIN_NUMBER:
                activity(app, now_ms);
                staff_show(app, APP_SCREEN_LOGIN_LIST, now_ms);
                break;
        case APP_SCREEN_PIN:
                activity(app, now_ms);
                if (app->pin_for == APP_PIN_LOGIN)
                        staff_show(app, APP_SCREEN_LOGIN_LIST, now_ms);
                else
                        show_home(app);
                break;
        case APP_SCREEN_STATUS:
                activity(app, now_ms);
                staff_show(app, APP_SCREEN_MENU, now_ms);
                break;
        case APP_SCREEN_ENROLL:
                activity(app, now_ms);
                if (app->enroll_from_menu && app->shift_open)
                        staff_show(app, APP_SCREEN_MENU, now_ms);
                else
                        show_home(app);
                break;
        case APP_SCREEN_LOGIN_LIST:
        case APP_SCREEN_MENU:
                activity(app, now_ms);
                show_home(app);
                break;
        default:
                break;
        }
}

void app_menu(struct app *app, enum app_menu_item item, int64_t now_ms)
{
        if (app->screen != APP_SCREEN_MENU)
                return;
        activity(app, now_ms);
        switch (item) {
        case APP_MENU_LOGOUT:
                app_shift_close(app, "logout", now_ms);
                break;
        case APP_MENU_STATUS:
                staff_show(app, APP_SCREEN_STATUS, now_ms);
                break;
        case APP_MENU_LANG:
                app->lang_local = app->lang == VOTE_LANG_UK ? VOTE_LANG_EN : VOTE_LANG_UK;
                apply_lang(app);
                state_set(app, "lang", i18n_lang_to_string(app->lang));
                changed(app);
                break;
        case APP_MENU_ENROLL:
                enroll_show(app, true, now_ms);
                break;
        }
}

void app_touch(struct app *app, int64_t now_ms)
{
        activity(app, now_ms);
}

/* ---- time ---- */

static void deadline(int64_t *next, int64_t t)
{
        if (*next < 0 || t < *next)
                *next = t;
}

int64_t app_tick(struct app *app, int64_t now_ms)
{
        int64_t next = -1, clock = app_clock_ms(app, now_ms);

        if (app->pin_check_pending)
                return now_ms;
        if (app->shift_open && app->screen != APP_SCREEN_TROUBLE) {
                if (app->shift_logout_at && clock >= app->shift_logout_at)
                        app_shift_close(app, "hour", now_ms);
                else if (app->idle_logout_ms &&
                         now_ms - app->last_activity_ms >= app->idle_logout_ms)
                        app_shift_close(app, "idle", now_ms);
                else {
                        /* the wall clock may be set meanwhile: look again at least each minute */
                        if (app->shift_logout_at)
                                deadline(&next, now_ms + (app->shift_logout_at - clock < 60000
                                                              ? app->shift_logout_at - clock
                                                              : 60000));
                        if (app->idle_logout_ms)
                                deadline(&next, app->last_activity_ms + app->idle_logout_ms);
                }
        }
        if (app->screen == APP_SCREEN_THANKS) {
                if (now_ms >= app->thanks_until_ms) {
                        app->screen = app->shift_open ? APP_SCREEN_OPEN : APP_SCREEN_CLOSED;
                        changed(app);
                } else
                        deadline(&next, app->thanks_until_ms);
        }
        if (app->screen == APP_SCREEN_OPEN && app->selected) {
                if (now_ms >= app->selected_until_ms) {
                        app->selected = 0;
                        changed(app);
                } else
                        deadline(&next, app->selected_until_ms);
        }
        if (app->notice_until_ms) {
                if (now_ms >= app->notice_until_ms) {
                        app->notice_until_ms = 0;
                        if (app->screen == APP_SCREEN_OPEN)
                                changed(app);
                } else
                        deadline(&next, app->notice_until_ms);
        }
        if (app->screen == APP_SCREEN_ENROLL && app->enroll == APP_ENROLL_DONE) {
                if (now_ms >= app->enroll_done_ms)
                        show_home(app); /* the closed screen names the workplace once known */
                else
                        deadline(&next, app->enroll_done_ms);
        }
        if (staff_screen(app->screen)) {
                if (now_ms >= app->staff_until_ms)
                        show_home(app);
                else
                        deadline(&next, app->staff_until_ms);
        }
        if (app->screen == APP_SCREEN_PIN && app->lock_until) {
                if (lockout_show(app, clock)) {
                        int64_t part = (app->lock_until - clock) % 1000;

                        deadline(&next, now_ms + (part ? part : 1000));
                }
        }
        if (app->shift_open && app->qr_ttl_s > 0) {
                if (now_ms >= app->qr_renew_ms)
                        qr_make(app, now_ms);
                deadline(&next, app->qr_renew_ms);
        }
        return next;
}
