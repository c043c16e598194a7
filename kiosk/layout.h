/* SPDX-License-Identifier: MIT */
/* Where everything goes on the terminal's screen, for any size from 480x800 to 1920x1080 in
 * either orientation. Plain arithmetic, no SDL: the UI draws into these rectangles and hit-tests
 * taps against them, and tests check that nothing overlaps or leaves the screen. */
#pragma once

#include <stdbool.h>

struct layout_rect {
        int x, y, w, h;
};

enum layout_target {
        LAYOUT_NONE = 0,
        LAYOUT_SMILEY_1 = 1, /* VOTE_LEVEL_SATISFACTORY */
        LAYOUT_SMILEY_2 = 2,
        LAYOUT_SMILEY_3 = 3,
        LAYOUT_SEND = 4,
};

struct layout {
        int width, height;
        bool portrait;
        struct layout_rect header;   /* employee name, position, unit */
        struct layout_rect qr;       /* square: the employee's QR code */
        struct layout_rect qr_caption;
        struct layout_rect prompt;    /* «Оцініть, будь ласка, ...», one line above the smileys */
        struct layout_rect smiley[3]; /* smiley[i] is level i + 1, each with its label below */
        struct layout_rect send;      /* «Відправити відгук» */
        struct layout_rect status;    /* a discreet line: offline, votes waiting */
        int font_title, font_body, font_small; /* pixel heights */
};

/* Computes the layout for a width x height screen. Returns -EINVAL for sizes under 320x240. */
int layout_compute(int width, int height, struct layout *ret);
/* Which target a tap at (x, y) hits. */
enum layout_target layout_hit(const struct layout *l, int x, int y);
bool layout_rect_contains(const struct layout_rect *r, int x, int y);
bool layout_rects_overlap(const struct layout_rect *a, const struct layout_rect *b);
