/* SPDX-License-Identifier: MIT */
/* The terminal's colours in one table, with the pairs of text and background the screens use,
 * so that a test can hold every pair to WCAG AA contrast. Plain data, no SDL. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct palette_rgb {
        uint8_t r, g, b;
};

enum palette_color {
        PALETTE_BG,       /* the screen: a warm light grey */
        PALETTE_TEXT,     /* body text */
        PALETTE_TEXT2,    /* secondary text: positions, hints */
        PALETTE_QUIET,    /* the status line, captions, the staff control */
        PALETTE_DIM,      /* the labels of unchosen smileys */
        PALETTE_WHITE,    /* cards, keys, rows, the QR code's background */
        PALETTE_ACTION,   /* buttons that act: send, OK, menu items */
        PALETTE_OFF,      /* a disabled button */
        PALETTE_OFF_TEXT, /* its text */
        PALETTE_RULE,     /* hairlines, card borders */
        PALETTE_WARN,     /* a lockout, a revoked terminal: dark red, never alone (words too) */
        PALETTE_COUNT,
};

extern const struct palette_rgb palette[PALETTE_COUNT];

/* A text colour on a background, as some screen draws it. */
struct palette_pair {
        const char *what;
        struct palette_rgb fg, bg;
        bool large; /* bold text of 18.66 px and more: AA asks 3:1 instead of 4.5:1 */
};

const struct palette_pair *palette_pairs(size_t *ret_n);
/* The WCAG 2 contrast ratio of two colours, 1 to 21. */
double palette_contrast(struct palette_rgb a, struct palette_rgb b);
