/* SPDX-License-Identifier: MIT */
/* The terminal's screen layout as plain integer arithmetic. The open screen, landscape: header
 * on top, the QR code in a left column, prompt, smileys and send button on the right, a footer
 * with the status line and the staff control (and, on the closed screen of a terminal still to
 * be connected, «Підключити термінал» right above it); portrait stacks the same parts. The staff
 * screens put a title on top and «Назад» at the bottom left; the keypad sits to the right of
 * the entry in landscape and under it in portrait. Invariant: for every accepted size the rects
 * of each screen lie inside the screen, have a positive size and do not overlap. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
        return (struct layout_rect){x, y, maxi(w, 1), maxi(h, 1)};
}

/* Heights every orientation shares, derived from the font sizes. */
struct rows {
        int margin, gap;
        int header, prompt, label, send, status, caption, footer;
};

static void rows_compute(struct layout *l, int unit, int short_side, struct rows *r)
{
        l->font_title = clampi(unit / 18, 14, 96);
        l->font_body = clampi(unit / 26, 12, 64);
        l->font_small = clampi(unit / 34, 10, 48);

        r->margin = clampi(short_side / 40, 8, 40);
        r->gap = r->margin;
        l->margin = r->margin;
        l->gap = r->gap;
        l->touch = clampi(unit / 11, 40, 80);
        /* the name on one line, then position and unit on a line each */
        r->header = l->font_title * 5 / 4 + 2 * (l->font_body * 4 / 3);
        r->prompt = l->font_body * 3 / 2;
        r->label = l->font_body * 3 / 2;
        r->send = clampi(unit / 8, 44, 128);
        r->status = l->font_small * 3 / 2;
        r->caption = 2 * (l->font_small * 5 / 4) + l->font_small / 4; /* up to two lines */
        /* the status line beside a staff control a finger can hit */
        r->footer = maxi(r->status, l->touch);
}

/* The footer: the status line on the left, the staff control on the right. */
static void footer(struct layout *l, const struct rows *r)
{
        int W = l->width, H = l->height, m = r->margin, g = r->gap;
        int y = H - m / 2 - r->footer;
        int sw = mini(l->font_small * 14, (W - 2 * m) * 40 / 100);

        l->staff = rect(W - m - sw, y, sw, r->footer);
        /* as tall as the control: a long status wraps onto a second line there */
        l->status = rect(m, y, W - 2 * m - sw - g, r->footer);
        /* «Підключити термінал» stacked on the staff control: the two controls for staff stay
         * together in their corner, away from what a resident reads */
        l->connect = rect(l->staff.x, y - g / 2 - r->footer, sw, r->footer);
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
        int W = l->width, m = r->margin, g = r->gap;
        int top, bottom, body, qr_side, block, qy, rx, rw, sw, sh, used, extra, y;

        l->header = rect(m, m, W - 2 * m, r->header);
        footer(l, r);
        top = l->header.y + l->header.h + g;
        bottom = l->staff.y - g / 2;
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
        int W = l->width, m = r->margin, g = r->gap;
        int top, bottom, body, sw, sh, fixed, qr_side, extra, y, cw;

        cw = W - 2 * m;
        l->header = rect(m, m, cw, r->header);
        footer(l, r);
        top = l->header.y + l->header.h + g;
        bottom = l->staff.y - g / 2;
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

/* ---- the staff screens ---- */

/* The title on top and «Назад» at the bottom left, shared by every staff screen; returns the
 * band between them in *top and *bottom. */
static void staff_frame(struct layout *l, int *top, int *bottom)
{
        int W = l->width, H = l->height, m = l->margin, g = l->gap;
        int th = l->font_title * 3 / 2, bw = clampi(W / 4, l->touch * 2, l->font_body * 12);

        l->title = rect(m, m, W - 2 * m, th);
        l->back = rect(m, H - m - l->touch, mini(bw, (W - 2 * m) / 3), l->touch);
        *top = l->title.y + l->title.h + g;
        *bottom = l->back.y - g;
}

static void list_screen(struct layout *l, int top, int bottom)
{
        int W = l->width, m = l->margin, g = l->gap, avail, cols, per_col, row_h, col_w, rest, x;

        /* the bottom bar: «Назад», the two page arrows, «Ввести номер» */
        x = l->back.x + l->back.w + g;
        rest = W - m - x - 2 * g;
        l->prev = rect(x, l->back.y, rest * 22 / 100, l->touch);
        x += l->prev.w + g;
        l->next = rect(x, l->back.y, rest * 22 / 100, l->touch);
        x += l->next.w + g;
        l->number = rect(x, l->back.y, W - m - x, l->touch);

        /* rows of a name over a position, two columns on a wide screen */
        avail = bottom - top;
        row_h = maxi(l->touch, l->font_body * 4 / 3 + l->font_small * 4 / 3 + g / 2);
        cols = !l->portrait && l->width * 3 >= l->height * 4 ? 2 : 1;
        per_col = clampi((avail + g / 2) / (row_h + g / 2), 1, LAYOUT_ROWS_MAX / cols);
        if (per_col * (row_h + g / 2) - g / 2 > avail)
                row_h = maxi((avail - (per_col - 1) * (g / 2)) / per_col, 1);
        l->list_rows = per_col * cols;
        col_w = (W - 2 * m - (cols - 1) * g) / cols;
        for (int i = 0; i < l->list_rows; i++) {
                int c = i / per_col, k = i % per_col;

                l->row[i] = rect(m + c * (col_w + g), top + k * (row_h + g / 2), col_w, row_h);
        }
}

/* The 3 x 4 keys in the box, no wider than 1.6 times their height, centred. */
static void keypad_grid(struct layout *l, int x, int y, int w, int h)
{
        int g = l->gap, kw = (w - 2 * g) / 3, kh = (h - 3 * g) / 4, x0, y0;

        kw = maxi(mini(kw, kh * 8 / 5), 1);
        kh = maxi(mini(kh, kw), 1);
        x0 = x + (w - (3 * kw + 2 * g)) / 2;
        y0 = y + (h - (4 * kh + 3 * g)) / 2;
        for (int i = 0; i < LAYOUT_KEYS; i++)
                l->key[i] = rect(x0 + (i % 3) * (kw + g), y0 + (i / 3) * (kh + g), kw, kh);
}

static void keypad_screen(struct layout *l, int top, int bottom)
{
        int W = l->width, H = l->height, m = l->margin, g = l->gap;
        int sub_h = l->font_body * 3, entry_h = l->font_title * 2, note_h = l->font_body * 3;
        int lw, y, extra;

        if (!l->portrait) {
                /* the entry on the left above «Назад», the keys on the right */
                lw = maxi((W - 2 * m - g) * 45 / 100, l->back.w);
                extra = maxi(bottom - top - (sub_h + entry_h + note_h + 2 * g), 0);
                y = top + extra / 3;
                l->subtitle = rect(m, y, lw, sub_h);
                y += sub_h + g + extra / 3;
                l->entry = rect(m, y, lw, entry_h);
                y += entry_h + g;
                l->note = rect(m, y, lw, note_h);
                keypad_grid(l, m + lw + g, top, W - 2 * m - lw - g, H - m - top);
                return;
        }
        y = top;
        l->subtitle = rect(m, y, W - 2 * m, sub_h);
        y += sub_h + g / 2;
        l->entry = rect(m, y, W - 2 * m, entry_h);
        y += entry_h + g / 2;
        l->note = rect(m, y, W - 2 * m, note_h);
        y += note_h + g;
        keypad_grid(l, m, y, W - 2 * m, bottom - y);
}

static void menu_screen(struct layout *l, int top, int bottom)
{
        int W = l->width, m = l->margin, g = l->gap, bh, bw, y, n = LAYOUT_MENU_ITEMS;

        /* who is on shift, under the title */
        l->who = rect(m, top, W - 2 * m, l->font_body * 3 / 2);
        top += l->who.h + g;
        bh = clampi((bottom - top - (n - 1) * g) / n, 1, maxi(l->touch * 3 / 2, l->font_title * 2));
        bw = l->portrait ? W - 2 * m : mini(W - 2 * m, maxi(W * 55 / 100, l->font_title * 16));
        y = top + maxi(0, (bottom - top - (n * bh + (n - 1) * g)) / 2);
        for (int i = 0; i < n; i++)
                l->menu[i] = rect((W - bw) / 2, y + i * (bh + g), bw, bh);
}

static void status_screen(struct layout *l, int top, int bottom)
{
        int W = l->width, m = l->margin, rh, lw;

        rh = maxi((bottom - top) / LAYOUT_INFO_ROWS, 1);
        lw = l->portrait ? W - 2 * m : (W - 2 * m) * 42 / 100;
        for (int i = 0; i < LAYOUT_INFO_ROWS; i++) {
                int y = top + i * rh;

                if (l->portrait) {
                        /* the label over its value */
                        int lh = rh * 2 / 5;

                        l->info_label[i] = rect(m, y, lw, lh);
                        l->info_value[i] = rect(m, y + lh, lw, rh - lh);
                } else {
                        l->info_label[i] = rect(m, y, lw - l->gap, rh);
                        l->info_value[i] = rect(m + lw, y, W - 2 * m - lw, rh);
                }
        }
}

int layout_compute(int width, int height, struct layout *ret)
{
        struct layout l = {0};
        struct rows r;
        int short_side, long_side, unit, top, bottom;

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
        l.message =
            rect(r.margin, r.margin, width - 2 * r.margin, l.staff.y - r.gap / 2 - r.margin);
        l.connect_message =
            rect(r.margin, r.margin, width - 2 * r.margin, l.connect.y - r.gap / 2 - r.margin);
        staff_frame(&l, &top, &bottom);
        list_screen(&l, top, bottom);
        keypad_screen(&l, top, bottom);
        menu_screen(&l, top, bottom);
        status_screen(&l, top, bottom);
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

bool layout_target_rect(const struct layout *l, enum layout_screen s, enum layout_target t,
                        struct layout_rect *ret)
{
        const struct layout_rect *r = NULL;

        switch (s) {
        case LAYOUT_SCREEN_OPEN:
                if (t >= LAYOUT_SMILEY_1 && t <= LAYOUT_SMILEY_3)
                        r = &l->smiley[t - LAYOUT_SMILEY_1];
                else if (t == LAYOUT_SEND)
                        r = &l->send;
                else if (t == LAYOUT_STAFF)
                        r = &l->staff;
                break;
        case LAYOUT_SCREEN_CLOSED:
                if (t == LAYOUT_STAFF)
                        r = &l->staff;
                break;
        case LAYOUT_SCREEN_CONNECT:
                if (t == LAYOUT_STAFF)
                        r = &l->staff;
                else if (t == LAYOUT_CONNECT)
                        r = &l->connect;
                break;
        case LAYOUT_SCREEN_LIST:
                if (t == LAYOUT_BACK)
                        r = &l->back;
                else if (t == LAYOUT_PREV)
                        r = &l->prev;
                else if (t == LAYOUT_NEXT)
                        r = &l->next;
                else if (t == LAYOUT_NUMBER)
                        r = &l->number;
                else if (t >= LAYOUT_ROW_0 && (int)t < LAYOUT_ROW_0 + l->list_rows)
                        r = &l->row[t - LAYOUT_ROW_0];
                break;
        case LAYOUT_SCREEN_KEYPAD:
                if (t == LAYOUT_BACK)
                        r = &l->back;
                else if (t >= LAYOUT_KEY_0 + 1 && t <= LAYOUT_KEY_0 + 9)
                        r = &l->key[t - LAYOUT_KEY_0 - 1];
                else if (t == LAYOUT_KEY_ERASE)
                        r = &l->key[9];
                else if (t == LAYOUT_KEY_0)
                        r = &l->key[10];
                else if (t == LAYOUT_KEY_OK)
                        r = &l->key[11];
                break;
        case LAYOUT_SCREEN_MENU:
                if (t == LAYOUT_BACK)
                        r = &l->back;
                else if (t == LAYOUT_LOGOUT)
                        r = &l->menu[0];
                else if (t == LAYOUT_STATUS)
                        r = &l->menu[1];
                else if (t == LAYOUT_LANG)
                        r = &l->menu[2];
                else if (t == LAYOUT_ENROLL)
                        r = &l->menu[3];
                break;
        case LAYOUT_SCREEN_STATUS:
                if (t == LAYOUT_BACK)
                        r = &l->back;
                break;
        default:
                break;
        }
        if (!r)
                return false;
        *ret = *r;
        return true;
}

enum layout_target layout_hit(const struct layout *l, enum layout_screen s, int x, int y)
{
        struct layout_rect r;

        for (int t = LAYOUT_SMILEY_1; t < LAYOUT_TARGET_END; t++)
                if (layout_target_rect(l, s, (enum layout_target)t, &r) &&
                    layout_rect_contains(&r, x, y))
                        return (enum layout_target)t;
        return LAYOUT_NONE;
}

static const struct {
        enum layout_target t;
        const char *name;
} names[] = {
    {LAYOUT_SMILEY_1, "smiley1"}, {LAYOUT_SMILEY_2, "smiley2"},   {LAYOUT_SMILEY_3, "smiley3"},
    {LAYOUT_SEND, "send"},        {LAYOUT_STAFF, "staff"},        {LAYOUT_BACK, "back"},
    {LAYOUT_PREV, "prev"},        {LAYOUT_NEXT, "next"},          {LAYOUT_NUMBER, "number"},
    {LAYOUT_LOGOUT, "logout"},    {LAYOUT_STATUS, "menu-status"}, {LAYOUT_LANG, "lang"},
    {LAYOUT_KEY_ERASE, "erase"},  {LAYOUT_KEY_OK, "ok"},          {LAYOUT_CONNECT, "connect"},
    {LAYOUT_ENROLL, "enroll"},
};

const char *layout_target_name(enum layout_target t, char *buf, int n)
{
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (names[i].t == t) {
                        snprintf(buf, (size_t)n, "%s", names[i].name);
                        return buf;
                }
        if (t >= LAYOUT_KEY_0 && t <= LAYOUT_KEY_0 + 9)
                snprintf(buf, (size_t)n, "key%d", t - LAYOUT_KEY_0);
        else if (t >= LAYOUT_ROW_0 && t < LAYOUT_TARGET_END)
                snprintf(buf, (size_t)n, "row%d", t - LAYOUT_ROW_0);
        else
                return NULL;
        return buf;
}

enum layout_target layout_target_from_name(const char *name)
{
        char buf[16];

        for (int t = LAYOUT_SMILEY_1; t < LAYOUT_TARGET_END; t++)
                if (layout_target_name((enum layout_target)t, buf, sizeof(buf)) &&
                    strcmp(buf, name) == 0)
                        return (enum layout_target)t;
        return LAYOUT_NONE;
}
