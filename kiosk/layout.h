/* SPDX-License-Identifier: MIT */
/* Where everything goes on the terminal's screens, for any size from 480x800 to 1920x1080 in
 * either orientation. Plain arithmetic, no SDL: the UI draws into these rectangles and hit-tests
 * taps against them, and tests check that nothing overlaps or leaves the screen. */
#pragma once

#include <stdbool.h>

struct layout_rect {
        int x, y, w, h;
};

/* The screens, as far as their geometry goes. */
enum layout_screen {
        LAYOUT_SCREEN_OPEN,    /* employee, QR code, smileys, send; status and staff control */
        LAYOUT_SCREEN_CLOSED,  /* a message; status and the staff login control */
        LAYOUT_SCREEN_CONNECT, /* the closed screen of a terminal without a (valid) credential:
                                * a shorter message, and «Підключити термінал» above the staff
                                * login control */
        LAYOUT_SCREEN_LIST,    /* staff: the roster, a page of rows */
        LAYOUT_SCREEN_KEYPAD,  /* staff: a personal number, a PIN or an enrollment code */
        LAYOUT_SCREEN_MENU,    /* staff: logout, status, language, new enrollment code */
        LAYOUT_SCREEN_STATUS,  /* staff: the terminal's status */
        LAYOUT_SCREEN_MESSAGE, /* thank-you, trouble: nothing to tap */
        LAYOUT_SCREEN_COUNT,
};

#define LAYOUT_ROWS_MAX 16  /* rows of the login list per page */
#define LAYOUT_INFO_ROWS 9  /* label/value lines of the status screen */
#define LAYOUT_KEYS 12      /* 1..9, erase, 0, OK in reading order */
#define LAYOUT_MENU_ITEMS 4 /* logout, status, language, new enrollment code */

enum layout_target {
        LAYOUT_NONE = 0,
        LAYOUT_SMILEY_1 = 1, /* VOTE_LEVEL_SATISFACTORY */
        LAYOUT_SMILEY_2 = 2,
        LAYOUT_SMILEY_3 = 3,
        LAYOUT_SEND = 4,
        LAYOUT_STAFF = 5, /* the discreet staff control: login when closed, menu when open */
        LAYOUT_BACK = 6,
        LAYOUT_PREV = 7, /* the login list's pages */
        LAYOUT_NEXT = 8,
        LAYOUT_NUMBER = 9,  /* type a personal number instead */
        LAYOUT_LOGOUT = 10, /* the staff menu */
        LAYOUT_STATUS = 11,
        LAYOUT_LANG = 12,
        LAYOUT_CONNECT = 13, /* «Підключити термінал» on the closed screen */
        LAYOUT_ENROLL = 14,  /* «Новий код підключення» in the staff menu */
        LAYOUT_KEY_0 = 32,   /* LAYOUT_KEY_0 + d for the digit d */
        LAYOUT_KEY_ERASE = 42,
        LAYOUT_KEY_OK = 43,
        LAYOUT_ROW_0 = 64, /* LAYOUT_ROW_0 + i for the i-th row of the list's page */
        LAYOUT_TARGET_END = LAYOUT_ROW_0 + LAYOUT_ROWS_MAX,
};

struct layout {
        int width, height;
        bool portrait;
        int margin, gap, touch;                /* touch: the least height of anything tapped */
        int font_title, font_body, font_small; /* pixel heights */

        /* the open screen */
        struct layout_rect header; /* employee name, position, unit */
        struct layout_rect qr;     /* square: the employee's QR code */
        struct layout_rect qr_caption;
        struct layout_rect prompt; /* «Оцініть, будь ласка, ...», one line above the smileys */
        struct layout_rect smiley[3]; /* smiley[i] is level i + 1, each with its label below */
        struct layout_rect send;      /* «Відправити відгук» */
        /* the open and closed screens' footer */
        struct layout_rect status; /* discreet lines: offline, votes waiting */
        struct layout_rect staff; /* «Вхід для працівника» / the staff menu, bottom right */
        /* the closed, thank-you and trouble screens' lines */
        struct layout_rect message;
        /* the closed screen of a terminal to connect: «Підключити термінал» right above the
         * staff control and as wide, and the lines above both */
        struct layout_rect connect;
        struct layout_rect connect_message;

        /* every staff screen */
        struct layout_rect title;
        struct layout_rect back; /* «Назад» */

        /* the login list */
        int list_rows; /* rows per page, at most LAYOUT_ROWS_MAX */
        struct layout_rect row[LAYOUT_ROWS_MAX];
        struct layout_rect prev, next, number;

        /* the keypad */
        struct layout_rect subtitle; /* the employee's name, or what to type */
        struct layout_rect entry;    /* the digits, or dots for a PIN */
        struct layout_rect note;     /* wrong PIN, lockout, checking… */
        struct layout_rect key[LAYOUT_KEYS];

        /* the staff menu: who is on shift; logout, status, language, new enrollment code */
        struct layout_rect who;
        struct layout_rect menu[LAYOUT_MENU_ITEMS];

        /* the status screen */
        struct layout_rect info_label[LAYOUT_INFO_ROWS];
        struct layout_rect info_value[LAYOUT_INFO_ROWS];
};

/* Computes the layout for a width x height screen. Returns -EINVAL for sizes under 320x240. */
int layout_compute(int width, int height, struct layout *ret);
/* Which target of the screen a tap at (x, y) hits. */
enum layout_target layout_hit(const struct layout *l, enum layout_screen s, int x, int y);
/* The rect of a target on a screen; false when the screen has no such target. */
bool layout_target_rect(const struct layout *l, enum layout_screen s, enum layout_target t,
                        struct layout_rect *ret);
/* "smiley1", "send", "staff", "back", "prev", "next", "number", "key7", "erase", "ok", "row0",
 * "logout", "menu-status", "lang", "connect", "enroll"; NULL for LAYOUT_NONE and unknowns. */
const char *layout_target_name(enum layout_target t, char *buf, int n);
enum layout_target layout_target_from_name(const char *name);
bool layout_rect_contains(const struct layout_rect *r, int x, int y);
bool layout_rects_overlap(const struct layout_rect *a, const struct layout_rect *b);
