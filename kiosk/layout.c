/* SPDX-License-Identifier: MIT */
/* The terminal's screen layout as plain integer arithmetic. Landscape: header on top, the QR
 * code in a left column, prompt, smileys and send button on the right, status at the bottom;
 * portrait stacks the same parts. Invariant: for every accepted size all rects lie inside the
 * screen, have a positive size and do not overlap. */
#include <errno.h>

#include "layout.h"

#define LAYOUT_MIN_SHORT 240 /* 320x240 in either orientation is the smallest screen */
#define LAYOUT_MIN_LONG 320
#define LAYOUT_MAX_SIDE 16384

static int clampi(int v, int lo, int hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

static int mini(int a, int b)
{
        return a < b ? a : b;
}

static int maxi(int a, int b)
{
        return a > b ? a : b;
}

static struct layout_rect rect(int x, int y, int w, int h)
{
        return (struct layout_rect){x, y, w, h};
}

/* Heights every orientation shares, derived from the font sizes. */
struct rows {
        int margin, gap;
        int header, prompt, label, send, status, caption;
};

static void rows_compute(struct layout *l, int unit, int short_side, struct rows *r)
{
        l->font_title = clampi(unit / 18, 14, 96);
        l->font_body = clampi(unit / 26, 12, 64);
        l->font_small = clampi(unit / 34, 10, 48);

        r->margin = clampi(short_side / 40, 8, 40);
        r->gap = r->margin;
        /* the name on one line, then position and unit on a line each */
        r->header = l->font_title * 5 / 4 + 2 * (l->font_body * 4 / 3);
        r->prompt = l->font_body * 3 / 2;
        r->label = l->font_body * 3 / 2;
        r->send = clampi(unit / 8, 44, 128);
        r->status = l->font_small * 3 / 2;
        r->caption = 2 * (l->font_small * 5 / 4) + l->font_small / 4; /* up to two lines */
}

/* Places the three smileys of size sw x sh side by side, centred in [x, x + w). */
static void smiley_row(struct layout *l, int x, int w, int y, int sw, int sh, int gap)
{
        int x0 = x + (w - (3 * sw + 2 * gap)) / 2;

        for (int i = 0; i < 3; i++)
                l->smiley[i] = rect(x0 + i * (sw + gap), y, sw, sh);
}

static void landscape(struct layout *l, const struct rows *r)
{
        int W = l->width, H = l->height, m = r->margin, g = r->gap;
        int top, bottom, body, qr_side, block, qy, rx, rw, sw, sh, used, extra, y;

        l->header = rect(m, m, W - 2 * m, r->header);
        l->status = rect(m, H - m / 2 - r->status, W - 2 * m, r->status);
        top = l->header.y + l->header.h + g;
        bottom = l->status.y - g / 2;
        body = bottom - top;

        /* the QR column: as tall as the body allows, but at most about a third of the width */
        qr_side = mini(body - r->caption - g / 2, (W - 2 * m) * 36 / 100);
        qr_side = maxi(qr_side, 1);
        block = qr_side + g / 2 + r->caption;
        qy = top + (body - block) / 2;
        l->qr = rect(m, qy, qr_side, qr_side);
        l->qr_caption = rect(m, qy + qr_side + g / 2, qr_side, r->caption);

        /* the right area: prompt, smileys, send; spare height spread evenly around them */
        rx = m + qr_side + 2 * g;
        rw = W - m - rx;
        sw = (rw - 2 * g) / 3;
        sh = mini(body - r->prompt - r->send - 2 * g, sw + r->label);
        used = r->prompt + g + sh + g + r->send;
        extra = maxi(body - used, 0);
        y = top + extra / 4;
        l->prompt = rect(rx, y, rw, r->prompt);
        y += r->prompt + g + extra / 4;
        smiley_row(l, rx, rw, y, sw, sh, g);
        y += sh + g + extra / 4;
        l->send = rect(l->smiley[0].x, y, l->smiley[2].x + sw - l->smiley[0].x, r->send);
}

static void portrait(struct layout *l, const struct rows *r)
{
        int W = l->width, H = l->height, m = r->margin, g = r->gap;
        int top, bottom, body, sw, sh, fixed, qr_side, extra, y, cw;

        cw = W - 2 * m;
        l->header = rect(m, m, cw, r->header);
        l->status = rect(m, H - m / 2 - r->status, cw, r->status);
        top = l->header.y + l->header.h + g;
        bottom = l->status.y - g / 2;
        body = bottom - top;

        sw = (cw - 2 * g) / 3;
        sh = sw + r->label;
        /* prompt, smileys, send, QR and caption, with a gap between each */
        fixed = r->prompt + g + sh + g + r->send + 2 * g + g / 2 + r->caption;
        if (body - fixed < cw / 3) {
                /* a short portrait screen: smaller smileys leave the QR code some room */
                sh = maxi(sh - (cw / 3 - (body - fixed)), r->label + 1);
                fixed = r->prompt + g + sh + g + r->send + 2 * g + g / 2 + r->caption;
        }
        qr_side = maxi(mini(body - fixed, cw * 55 / 100), 1);
        extra = maxi(body - fixed - qr_side, 0);

        y = top + extra / 5;
        l->prompt = rect(m, y, cw, r->prompt);
        y += r->prompt + g + extra / 5;
        smiley_row(l, m, cw, y, sw, sh, g);
        y += sh + g + extra / 5;
        l->send = rect(l->smiley[0].x, y, l->smiley[2].x + sw - l->smiley[0].x, r->send);
        y += r->send + 2 * g + extra / 5;
        l->qr = rect((W - qr_side) / 2, y, qr_side, qr_side);
        y += qr_side + g / 2;
        l->qr_caption = rect(m, y, cw, r->caption);
}

int layout_compute(int width, int height, struct layout *ret)
{
        struct layout l = {0};
        struct rows r;
        int short_side, long_side, unit;

        if (!ret)
                return -EINVAL;
        short_side = mini(width, height);
        long_side = maxi(width, height);
        if (short_side < LAYOUT_MIN_SHORT || long_side < LAYOUT_MIN_LONG ||
            long_side > LAYOUT_MAX_SIDE)
                return -EINVAL;

        l.width = width;
        l.height = height;
        l.portrait = height > width;
        /* fonts follow the short side, unless the other side is unusually cramped */
        unit = l.portrait ? mini(width, height * 6 / 10) : mini(height, width * 6 / 10);
        rows_compute(&l, unit, short_side, &r);
        if (l.portrait)
                portrait(&l, &r);
        else
                landscape(&l, &r);
        *ret = l;
        return 0;
}

bool layout_rect_contains(const struct layout_rect *r, int x, int y)
{
        return x >= r->x && y >= r->y && x < r->x + r->w && y < r->y + r->h;
}

bool layout_rects_overlap(const struct layout_rect *a, const struct layout_rect *b)
{
        return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

enum layout_target layout_hit(const struct layout *l, int x, int y)
{
        for (int i = 0; i < 3; i++)
                if (layout_rect_contains(&l->smiley[i], x, y))
                        return (enum layout_target)(LAYOUT_SMILEY_1 + i);
        if (layout_rect_contains(&l->send, x, y))
                return LAYOUT_SEND;
        return LAYOUT_NONE;
}
