/* SPDX-License-Identifier: MIT */
/* The terminal's colours and the WCAG 2 contrast formula (relative luminance of sRGB). */
#include <math.h>

#include "palette.h"

const struct palette_rgb palette[PALETTE_COUNT] = {
    [PALETTE_BG] = {0xf5, 0xf5, 0xf0},       [PALETTE_TEXT] = {0x1a, 0x1a, 0x1a},
    [PALETTE_TEXT2] = {0x3d, 0x3d, 0x3a},    [PALETTE_QUIET] = {0x55, 0x55, 0x50},
    [PALETTE_DIM] = {0x6b, 0x6b, 0x66},      [PALETTE_WHITE] = {0xff, 0xff, 0xff},
    [PALETTE_ACTION] = {0x1f, 0x4e, 0x8c},   [PALETTE_OFF] = {0xdc, 0xdc, 0xd6},
    [PALETTE_OFF_TEXT] = {0x4f, 0x4f, 0x4a}, [PALETTE_RULE] = {0xd6, 0xd6, 0xce},
    [PALETTE_WARN] = {0xa3, 0x1a, 0x1a},
};

const struct palette_pair *palette_pairs(size_t *ret_n)
{
        static struct palette_pair pairs[16];
        static const struct {
                const char *what;
                enum palette_color fg, bg;
                bool large;
        } table[] = {
            {"text on the screen", PALETTE_TEXT, PALETTE_BG, false},
            {"secondary text on the screen", PALETTE_TEXT2, PALETTE_BG, false},
            {"status line, captions, staff control", PALETTE_QUIET, PALETTE_BG, false},
            {"text on cards, keys and rows", PALETTE_TEXT, PALETTE_WHITE, false},
            {"positions in the login list", PALETTE_TEXT2, PALETTE_WHITE, false},
            {"labels of unchosen smileys", PALETTE_DIM, PALETTE_WHITE, false},
            {"labels of unchosen smileys on the screen", PALETTE_DIM, PALETTE_BG, false},
            {"send, OK and menu buttons", PALETTE_WHITE, PALETTE_ACTION, false},
            {"a disabled button", PALETTE_OFF_TEXT, PALETTE_OFF, false},
            {"a lockout or a revoked terminal", PALETTE_WARN, PALETTE_BG, false},
            {"a lockout on a card", PALETTE_WARN, PALETTE_WHITE, false},
            {"status labels", PALETTE_QUIET, PALETTE_WHITE, false},
        };
        size_t n = sizeof(table) / sizeof(table[0]);

        for (size_t i = 0; i < n; i++)
                pairs[i] = (struct palette_pair){table[i].what, palette[table[i].fg],
                                                 palette[table[i].bg], table[i].large};
        *ret_n = n;
        return pairs;
}

static double channel(uint8_t v)
{
        double c = v / 255.0;

        return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double luminance(struct palette_rgb c)
{
        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
}

double palette_contrast(struct palette_rgb a, struct palette_rgb b)
{
        double la = luminance(a), lb = luminance(b);

        return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}
