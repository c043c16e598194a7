/* SPDX-License-Identifier: MIT */
/* The terminal's state machine, in plain C with no SDL: which screen shows, which smiley is
 * selected, when the thank-you ends. The UI draws a struct app and turns input into the calls
 * below; tests drive the same calls directly. Every visible change bumps `version`, so the
 * UI redraws only when something changed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vote.h"

struct outbox;

enum app_screen {
        APP_SCREEN_CLOSED,  /* nobody logged in: no votes taken */
        APP_SCREEN_OPEN,    /* the employee, the QR code and the three smileys */
        APP_SCREEN_THANKS,  /* «Дякуємо за Ваш голос!» for a few seconds */
        APP_SCREEN_TROUBLE, /* the vote store cannot take votes: said in plain words */
};

/* The employee whose shift is open at this workplace. */
struct app_employee {
        char id[VOTE_REF_MAX + 1]; /* personal number, as votes carry it */
        char full_name[128];
        char position[128];
        char unit[192];
        char vote_url[256]; /* what the on-screen QR code opens */
};

struct app {
        enum app_screen screen;
        enum vote_lang lang;
        char workplace[VOTE_REF_MAX + 1]; /* the workplace's code, as votes carry it */
        char workplace_name[128];         /* shown on the closed screen */
        struct app_employee employee;     /* valid while shift_open */
        bool shift_open;
        char shift_id[VOTE_ID_LEN + 1];

        int selected;              /* 0 none, else the highlighted VOTE_LEVEL_* */
        int64_t selected_until_ms; /* an unsent selection clears by itself then */
        int64_t thanks_until_ms;   /* the thank-you screen ends then */
        int64_t last_vote_ms;      /* when the last vote was stored (monotonic ms) */
        uint64_t votes_stored;     /* votes stored since start: the uploader is kicked on change */

        /* settings */
        bool one_tap;         /* a tap on a smiley sends at once */
        int64_t thanks_ms;    /* how long the thank-you shows */
        int64_t selection_ms; /* how long an unsent selection stays */

        /* status, shown discreetly */
        int64_t pending;   /* votes waiting to sync */
        bool online;       /* the last sync attempt reached the collector */
        char trouble[256]; /* why the store refuses votes; shown on APP_SCREEN_TROUBLE */

        struct outbox *outbox; /* not owned */
        uint64_t version;      /* bumped on every visible change */
};

/* Sets defaults; the outbox is borrowed and must outlive the app. */
void app_init(struct app *app, struct outbox *outbox);

/* Opens a shift for the employee (copied) and shows the open screen. */
int app_shift_open(struct app *app, const struct app_employee *employee, int64_t now_ms);
void app_shift_close(struct app *app, int64_t now_ms);

/* A tap on smiley `level`: highlights it, or in one-tap mode stores it at once.
 * Ignored (returns 0) unless the open screen shows. */
int app_select(struct app *app, int level, int64_t now_ms);
/* «Відправити відгук»: stores the selected vote durably, then shows the thank-you.
 * Returns 0 when stored, -EAGAIN with nothing selected, or the store's negative errno
 * (the app then shows the trouble screen). */
int app_send(struct app *app, int64_t now_ms);

/* Advances timers; returns the next deadline in monotonic ms, or -1 for none. */
int64_t app_tick(struct app *app, int64_t now_ms);

/* Updates the sync status shown on screen. */
void app_set_status(struct app *app, int64_t pending, bool online);

int64_t app_now_ms(void); /* CLOCK_MONOTONIC in ms */
