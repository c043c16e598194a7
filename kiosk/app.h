/* SPDX-License-Identifier: MIT */
/* The terminal's state machine, in plain C with no SDL: which screen shows, who is on shift,
 * which smiley is selected, the staff screens (login from the roster, PIN keypad, menu,
 * status, the enrollment code keypad), the integrity rules (minimum interval, PIN lockouts,
 * automatic logout) and the expiring on-screen QR code. The UI draws a struct app and turns input
 * into the calls below; tests and the script mode drive the same calls directly with fake time.
 * Every visible change bumps `version`, so the UI redraws only when something changed.
 *
 * Time: every call takes now_ms, a monotonic clock (app_now_ms()). The wall clock is read
 * through app_wall_ms(), which in fake time (fake_wall_epoch_ms set) is that epoch plus now_ms,
 * so a test or a script controls both clocks with one number. Policies that read the time of
 * day or outlive a restart (logout hour, shift resume, PIN lockouts, QR expiry) use the
 * corrected clock: the wall clock plus the collector's measured offset once it is known. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster.h"
#include "sync.h"
#include "vote.h"

struct outbox;

enum app_screen {
        APP_SCREEN_CLOSED,       /* nobody on shift: no votes taken; a discreet staff login */
        APP_SCREEN_OPEN,         /* the employee, the QR code and the three smileys */
        APP_SCREEN_THANKS,       /* «Дякуємо за Ваш голос!» for a few seconds */
        APP_SCREEN_TROUBLE,      /* the vote store cannot take votes: said in plain words */
        APP_SCREEN_LOGIN_LIST,   /* staff: pick yourself from the workplace's roster */
        APP_SCREEN_LOGIN_NUMBER, /* staff: type a personal number on the keypad */
        APP_SCREEN_PIN,          /* staff: the PIN on the keypad, masked */
        APP_SCREEN_MENU,         /* staff menu: logout, status, language, new enrollment code */
        APP_SCREEN_STATUS,       /* the terminal's status, for staff */
        APP_SCREEN_ENROLL,       /* the keypad: a one-time enrollment code, 1234-5678-9012 */
};

/* What the line under a keypad entry says. */
enum app_note {
        APP_NOTE_NONE,
        APP_NOTE_CHECKING,       /* the PIN is being checked */
        APP_NOTE_WRONG_PIN,      /* with tries_left */
        APP_NOTE_LOCKED,         /* with lock_remaining_s */
        APP_NOTE_NO_PIN,         /* the employee has no PIN set */
        APP_NOTE_UNKNOWN_NUMBER, /* no such personal number here */
        APP_NOTE_AMBIGUOUS,      /* several employees match the digits */
};

/* What the PIN screen opens. */
enum app_pin_purpose {
        APP_PIN_LOGIN, /* a new shift */
        APP_PIN_MENU,  /* the staff menu of the shift that is open */
};

enum app_menu_item {
        APP_MENU_LOGOUT,
        APP_MENU_STATUS,
        APP_MENU_LANG,
        APP_MENU_ENROLL, /* «Новий код підключення»: the code keypad */
};

/* What the code keypad says about the enrollment (the line under the entry). */
enum app_enroll {
        APP_ENROLL_NONE,
        APP_ENROLL_CONNECTING, /* «Підключення…»: the code is on its way to the collector */
        APP_ENROLL_DONE,        /* enrolled with the code; home after APP_ENROLL_DONE_MS */
        APP_ENROLL_REFUSED,     /* the collector refused it: unknown, used or expired */
        APP_ENROLL_TOO_MANY,    /* the collector refuses codes from here for a while (429) */
        APP_ENROLL_UNREACHABLE, /* no answer (network, name, timeout): the uploader keeps trying */
        APP_ENROLL_FAILED,      /* anything else: enroll_error says what, in the uploader's words */
        APP_ENROLL_NO_COLLECTOR, /* no collector-url is configured: nowhere to enroll */
};

/* PIN lockouts: after APP_PIN_TRIES wrong PINs in a row the employee waits APP_LOCK_FIRST_S,
 * and every further wrong PIN doubles the wait, up to APP_LOCK_MAX_S. */
#define APP_PIN_TRIES 3
#define APP_LOCK_FIRST_S 30
#define APP_LOCK_MAX_S (15 * 60)
#define APP_PIN_MAX 12             /* digits of a PIN */
#define APP_NUMBER_MAX 16          /* digits of a typed personal number */
#define APP_STAFF_TIMEOUT_MS 60000 /* a staff screen left alone goes back by itself */
#define APP_NOTICE_MS 3000         /* the neutral notice after a vote inside the minimum interval */
#define APP_URL_MAX 512
#define APP_ENROLL_DIGITS 12    /* an enrollment code, shown 1234-5678-9012 */
#define APP_ENROLL_DONE_MS 4000 /* «Підключено» shows this long, then the closed screen */
#define APP_ENROLL_ERROR_MAX 256

/* The employee whose shift is open. */
struct app_employee {
        char id[VOTE_REF_MAX + 1]; /* personal number, as votes carry it */
        char full_name[ROSTER_NAME_MAX];
        char position[ROSTER_NAME_MAX];
        char unit[ROSTER_NAME_MAX];
};

struct app {
        enum app_screen screen;
        enum vote_lang lang;
        char workplace[VOTE_REF_MAX + 1];     /* the workplace's code, as votes carry it */
        char workplace_name[ROSTER_NAME_MAX]; /* in the current language; shown while closed */
        char workplace_name_local[ROSTER_NAME_MAX]; /* before a roster: from the configuration */

        /* the roster: the last copy pulled from the collector, kept to work offline */
        struct roster roster; /* owned; empty until have_roster */
        bool have_roster;
        size_t *order;           /* roster.employees indices sorted by name; owned */
        uint64_t roster_version; /* the sync's roster_version last loaded */

        /* the shift */
        bool shift_open;
        char shift_id[VOTE_ID_LEN + 1];
        struct app_employee employee; /* valid while shift_open */
        int64_t shift_logout_at;      /* corrected wall ms the hour closes it; 0 never */
        int64_t shift_saved_active;   /* corrected wall ms of activity last persisted */
        int64_t last_activity_ms;     /* the last vote or touch */

        /* voting */
        int selected;              /* 0 none, else the highlighted VOTE_LEVEL_* */
        int64_t selected_until_ms; /* an unsent selection clears by itself then */
        int64_t thanks_until_ms;   /* the thank-you screen ends then */
        bool have_counted;         /* a counted vote was stored since start */
        int64_t last_counted_ms;   /* when the last counted vote was stored */
        int64_t notice_until_ms;   /* the "already received" notice shows until then; 0 none */
        uint64_t votes_stored;     /* votes and events stored since start: kicks the uploader */
        uint64_t votes_suppressed; /* votes stored inside the minimum interval since start */

        /* staff screens */
        size_t list_first;              /* the first row shown of the sorted roster */
        char entry[APP_NUMBER_MAX + 1]; /* the digits typed (number or PIN); wiped after use */
        enum app_pin_purpose pin_for;
        char employee_pin[VOTE_REF_MAX + 1]; /* the PIN screen's employee */
        enum app_note note;
        int tries_left;           /* with APP_NOTE_WRONG_PIN */
        int64_t lock_until;       /* corrected wall ms; the PIN screen's employee */
        int64_t lock_remaining_s; /* shown with APP_NOTE_LOCKED */
        bool pin_check_pending;   /* app_run_pending() checks the PIN */
        int64_t staff_until_ms;   /* a staff screen goes back by itself then */

        /* enrollment with a code typed on the code keypad. The app talks to no uploader:
         * main.c sees enroll_code_pending, hands it to sync_enroll() and calls
         * app_enroll_handed(), and the result comes back through app_set_status(). */
        char enroll_code_pending[APP_ENROLL_DIGITS + 1]; /* the digits after OK; wiped once
                                                          * handed over, "" otherwise */
        bool have_collector;    /* a collector-url is configured: somewhere to enroll */
        enum app_enroll enroll; /* what the code keypad says */
        bool enroll_from_menu;  /* «Назад» on the code keypad goes to the staff menu */
        bool enroll_replaces;   /* opened on a working terminal: a code replaces its credential */
        bool enroll_watching;   /* a code was handed over: the status tells how it went */
        uint64_t enroll_seq;    /* the uploader's enroll_seq when the code was handed over */
        bool enroll_fresh;      /* the terminal had no working credential then */
        int64_t enroll_done_ms; /* DONE on screen: the closed screen from then */
        char enroll_terminal[VOTE_REF_MAX + 1];  /* DONE: the terminal's new id */
        char enroll_error[APP_ENROLL_ERROR_MAX]; /* FAILED: the uploader's words */

        /* the on-screen QR code */
        char qr_url[APP_URL_MAX]; /* "" when there is no roster or key yet */
        int64_t qr_expires;       /* its expiry, Unix seconds */
        int64_t qr_renew_ms;      /* replaced then, at half its lifetime */
        int64_t qr_offset_ms;     /* the clock offset it was made with */
        bool qr_clock_known;

        /* settings: the roster's, with local overrides */
        int lang_local;       /* -1 none, else a vote_lang the staff or kiosk.conf chose */
        int one_tap_local;    /* -1 none, 0 or 1 from kiosk.conf */
        bool one_tap;         /* a tap on a smiley sends at once */
        int64_t thanks_ms;    /* how long the thank-you shows */
        int64_t selection_ms; /* how long an unsent selection stays */
        int64_t min_interval_ms;
        int64_t idle_logout_ms; /* 0 never */
        int logout_minute;      /* -1 never */
        int64_t qr_ttl_s;

        /* status, shown discreetly and on the status screen */
        struct sync_status status;
        int64_t pending;         /* votes waiting to sync */
        bool online;             /* the last sync attempt reached the collector */
        char trouble[256];       /* why the store refuses votes; shown on APP_SCREEN_TROUBLE */
        const char *version_str; /* the program's version, shown on the status screen */

        int64_t fake_wall_epoch_ms; /* fake time: the wall clock is this plus now_ms; 0 real */
        struct outbox *outbox;      /* not owned; NULL when the store could not open */
        uint64_t version;           /* bumped on every visible change */
};

/* Sets defaults; the outbox is borrowed and must outlive the app (NULL: the trouble screen). */
void app_init(struct app *app, struct outbox *outbox);
/* Frees the roster; the app can be initialised again. */
void app_finish(struct app *app);

/* Applies the local overrides (lang_local, one_tap_local) set since app_init(), then reads
 * the persisted language and the open shift from the outbox state: a shift still before
 * its logout time (and not idle for longer than allowed) goes on, otherwise it is closed with
 * the detail "restart". Call once at start, after the first app_load_roster(). */
int app_restore(struct app *app, int64_t now_ms);

/* Takes the roster over (the source is zeroed) and applies its settings, workplace and
 * employees; a shift whose employee left the roster is closed ("roster"). */
void app_set_roster(struct app *app, struct roster *roster, int64_t now_ms);
/* Loads the outbox's copy of the roster: 0, -ENOENT when none yet, -EINVAL when it does not
 * decode (the last good copy stays in use), or the outbox's error. */
int app_load_roster(struct app *app, int64_t now_ms);
/* Updates the sync status shown on screen; reloads the roster when the sync saved a new one,
 * renews the QR code when the clock offset changed. */
void app_set_status(struct app *app, const struct sync_status *st, int64_t now_ms);

/* Opens a shift for a roster employee without a PIN (the PIN screen calls it after the
 * check): stores a shift_open event, persists the shift, shows the open screen. */
int app_shift_open(struct app *app, const char *employee_id, int64_t now_ms);
/* Closes the open shift with a reason ("logout", "idle", "hour", "restart", "roster"). */
int app_shift_close(struct app *app, const char *detail, int64_t now_ms);

/* ---- input; each counts as activity ---- */

/* A tap on smiley `level`: highlights it, or in one-tap mode stores it at once.
 * Ignored (returns 0) unless the open screen shows. */
int app_select(struct app *app, int level, int64_t now_ms);
/* «Відправити відгук»: stores the selected vote durably, then shows the thank-you; inside
 * the minimum interval after a counted vote the vote is stored as suppressed and, instead of
 * a second thank-you, the open screen shows a short neutral notice. Returns 0 when stored,
 * -EAGAIN with nothing selected, or the store's negative errno (then the trouble screen). */
int app_send(struct app *app, int64_t now_ms);
/* The discreet staff control: on the closed screen the login list, on the open one the PIN
 * screen for the staff menu. */
void app_staff(struct app *app, int64_t now_ms);
/* Whether the terminal has no credential or the collector refused it (revoked): then the
 * closed screen offers «Підключити термінал». */
bool app_needs_enrollment(const struct app *app);
/* «Підключити термінал» on the closed screen: the code keypad, without a PIN. Ignored unless
 * the closed screen shows and app_needs_enrollment(). */
void app_connect(struct app *app, int64_t now_ms);
/* main.c handed enroll_code_pending to sync_enroll(), which returned r: wipes the code; on
 * success the app watches the uploader's status for the result: the attempt with this code
 * ended once its enroll_seq moves, enrolled when enroll_error is empty. On a terminal that had
 * no working credential the uploader keeps trying the code, so a failure shown may still
 * turn into APP_ENROLL_DONE. */
void app_enroll_handed(struct app *app, int r, int64_t now_ms);
/* The login list: scrolls by delta rows (clamped), picks the employee at sorted position i,
 * or switches to typing a personal number. */
void app_list_scroll(struct app *app, long delta, int64_t now_ms);
void app_list_pick(struct app *app, size_t i, int64_t now_ms);
void app_list_number(struct app *app, int64_t now_ms);
/* A keypad key on the number, PIN and code screens: '0'..'9', '\b' erases, '\n' confirms. A
 * confirmed PIN shows "checking…" and sets pin_check_pending. On the code keypad '-' and ' '
 * are ignored (a code may be typed as printed), and OK takes exactly APP_ENROLL_DIGITS
 * digits: it sets enroll_code_pending and shows «Підключення…», or says that no collector is
 * configured. */
void app_key(struct app *app, char key, int64_t now_ms);
/* "Back" on a staff screen: one screen up, to the closed or open screen in the end. */
void app_back(struct app *app, int64_t now_ms);
void app_menu(struct app *app, enum app_menu_item item, int64_t now_ms);
/* Any other touch: keeps the shift from idling out. */
void app_touch(struct app *app, int64_t now_ms);

/* Work that must follow a drawn frame: the PIN check (argon2id, 50-100 ms on a Pi) runs here,
 * after the "checking…" frame is on screen. Returns true when it did something. */
bool app_run_pending(struct app *app, int64_t now_ms);

/* Advances timers (thank-you, selection, notices, staff screens, idle and hour logout, QR
 * renewal, lockout countdown); returns the next deadline in monotonic ms, or -1 for none. */
int64_t app_tick(struct app *app, int64_t now_ms);

/* The sorted roster's employee at position i; NULL past the end. */
const struct roster_employee *app_list_employee(const struct app *app, size_t i);
/* The employee the PIN screen is for; NULL when none. */
const struct roster_employee *app_pin_employee(const struct app *app);

int64_t app_now_ms(void);                                    /* CLOCK_MONOTONIC in ms */
int64_t app_wall_ms(const struct app *app, int64_t now_ms);  /* Unix ms, the terminal's clock */
int64_t app_clock_ms(const struct app *app, int64_t now_ms); /* corrected: + the offset */
