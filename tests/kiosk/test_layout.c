/* SPDX-License-Identifier: MIT */
/* The terminal's layout on the screens it ships on: on every screen (open, closed, closed with
 * «Підключити термінал», login list, keypad, staff menu, status) everything on screen and
 * nothing on top of anything else,
 * smileys, keys and buttons big enough for a finger, a QR code big enough to scan at arm's
 * length, taps landing on what they were aimed at, and text colours readable (WCAG AA). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "layout.h"
#include "palette.h"

static const int sizes[][2] = {
    {800, 480}, {1024, 600}, {1280, 800}, {1920, 1080}, {480, 800}, {1080, 1920},
};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

struct named {
        char name[32];
        const struct layout_rect *r;
};

#define PARTS_MAX 64

static size_t add(struct named *out, size_t n, const char *name, const struct layout_rect *r)
{
        assert_true(n < PARTS_MAX);
        snprintf(out[n].name, sizeof(out[n].name), "%s", name);
        out[n].r = r;
        return n + 1;
}

/* The rects of one screen that must lie inside it and not overlap one another. */
static size_t parts(const struct layout *l, enum layout_screen s, struct named out[PARTS_MAX])
{
        char name[32];
        size_t n = 0;

        switch (s) {
        case LAYOUT_SCREEN_OPEN:
                n = add(out, n, "header", &l->header);
                n = add(out, n, "qr", &l->qr);
                n = add(out, n, "qr_caption", &l->qr_caption);
                n = add(out, n, "prompt", &l->prompt);
                n = add(out, n, "smiley 1", &l->smiley[0]);
                n = add(out, n, "smiley 2", &l->smiley[1]);
                n = add(out, n, "smiley 3", &l->smiley[2]);
                n = add(out, n, "send", &l->send);
                n = add(out, n, "status", &l->status);
                n = add(out, n, "staff", &l->staff);
                break;
        case LAYOUT_SCREEN_CLOSED:
        case LAYOUT_SCREEN_MESSAGE:
                n = add(out, n, "message", &l->message);
                n = add(out, n, "status", &l->status);
                n = add(out, n, "staff", &l->staff);
                break;
        case LAYOUT_SCREEN_CONNECT:
                n = add(out, n, "connect_message", &l->connect_message);
                n = add(out, n, "connect", &l->connect);
                n = add(out, n, "status", &l->status);
                n = add(out, n, "staff", &l->staff);
                break;
        case LAYOUT_SCREEN_LIST:
                n = add(out, n, "title", &l->title);
                for (int i = 0; i < l->list_rows; i++) {
                        snprintf(name, sizeof(name), "row %d", i);
                        n = add(out, n, name, &l->row[i]);
                }
                n = add(out, n, "back", &l->back);
                n = add(out, n, "prev", &l->prev);
                n = add(out, n, "next", &l->next);
                n = add(out, n, "number", &l->number);
                break;
        case LAYOUT_SCREEN_KEYPAD:
                n = add(out, n, "title", &l->title);
                n = add(out, n, "subtitle", &l->subtitle);
                n = add(out, n, "entry", &l->entry);
                n = add(out, n, "note", &l->note);
                for (int i = 0; i < LAYOUT_KEYS; i++) {
                        snprintf(name, sizeof(name), "key[%d]", i);
                        n = add(out, n, name, &l->key[i]);
                }
                n = add(out, n, "back", &l->back);
                break;
        case LAYOUT_SCREEN_MENU:
                n = add(out, n, "title", &l->title);
                n = add(out, n, "who", &l->who);
                for (int i = 0; i < LAYOUT_MENU_ITEMS; i++) {
                        snprintf(name, sizeof(name), "menu[%d]", i);
                        n = add(out, n, name, &l->menu[i]);
                }
                n = add(out, n, "back", &l->back);
                break;
        case LAYOUT_SCREEN_STATUS:
                n = add(out, n, "title", &l->title);
                for (int i = 0; i < LAYOUT_INFO_ROWS; i++) {
                        snprintf(name, sizeof(name), "info_label[%d]", i);
                        n = add(out, n, name, &l->info_label[i]);
                        snprintf(name, sizeof(name), "info_value[%d]", i);
                        n = add(out, n, name, &l->info_value[i]);
                }
                n = add(out, n, "back", &l->back);
                break;
        default:
                break;
        }
        return n;
}

static const char *screen_name(enum layout_screen s)
{
        static const char *const names[] = {
            [LAYOUT_SCREEN_OPEN] = "open",       [LAYOUT_SCREEN_CLOSED] = "closed",
            [LAYOUT_SCREEN_CONNECT] = "connect", [LAYOUT_SCREEN_LIST] = "list",
            [LAYOUT_SCREEN_KEYPAD] = "keypad",   [LAYOUT_SCREEN_MENU] = "menu",
            [LAYOUT_SCREEN_STATUS] = "status",   [LAYOUT_SCREEN_MESSAGE] = "message",
        };

        assert_true(s >= 0 && s < LAYOUT_SCREEN_COUNT && names[s]);
        return names[s];
}

static void check_geometry(int w, int h)
{
        struct named p[PARTS_MAX];
        struct layout l;
        size_t n;

        assert_int_equal(layout_compute(w, h, &l), 0);
        assert_int_equal(l.width, w);
        assert_int_equal(l.height, h);
        assert_int_equal(l.portrait, h > w);
        for (int s = 0; s < LAYOUT_SCREEN_COUNT; s++) {
                n = parts(&l, (enum layout_screen)s, p);
                for (size_t i = 0; i < n; i++) {
                        const struct layout_rect *r = p[i].r;

                        if (r->w <= 0 || r->h <= 0 || r->x < 0 || r->y < 0 || r->x + r->w > w ||
                            r->y + r->h > h)
                                fail_msg("%dx%d %s: %s at %d,%d %dx%d is not inside the screen", w,
                                         h, screen_name(s), p[i].name, r->x, r->y, r->w, r->h);
                        for (size_t j = i + 1; j < n; j++)
                                if (layout_rects_overlap(p[i].r, p[j].r))
                                        fail_msg("%dx%d %s: %s overlaps %s", w, h, screen_name(s),
                                                 p[i].name, p[j].name);
                }
        }
        assert_int_equal(l.qr.w, l.qr.h);
        assert_true(l.list_rows >= 1 && l.list_rows <= LAYOUT_ROWS_MAX);
        assert_true(l.font_small > 0 && l.font_small <= l.font_body);
        assert_true(l.font_body <= l.font_title);
}

static void test_shipped_sizes(void **state)
{
        for (size_t i = 0; i < N_SIZES; i++)
                check_geometry(sizes[i][0], sizes[i][1]);
}

/* Any size between the smallest and a 4K screen, odd ones included. */
static void test_every_size(void **state)
{
        for (int w = 240; w <= 3840; w += 37)
                for (int h = 240; h <= 3840; h += 41)
                        if ((w >= 320 || h >= 320))
                                check_geometry(w, h);
}

static void test_big_enough(void **state)
{
        for (size_t i = 0; i < N_SIZES; i++) {
                int w = sizes[i][0], h = sizes[i][1];
                /* scaled from the 96 px / 180 px asked of an 800x480 screen */
                int scale = w < h ? w : h;
                int min_smiley = 96 * scale / 480, min_qr = 180 * scale / 480;
                struct layout l;

                assert_int_equal(layout_compute(w, h, &l), 0);
                for (int k = 0; k < 3; k++) {
                        if (l.smiley[k].w < min_smiley || l.smiley[k].h < min_smiley)
                                fail_msg("%dx%d: smiley %d is %dx%d, under %d px", w, h, k + 1,
                                         l.smiley[k].w, l.smiley[k].h, min_smiley);
                        /* all three the same size, in one row */
                        assert_int_equal(l.smiley[k].w, l.smiley[0].w);
                        assert_int_equal(l.smiley[k].h, l.smiley[0].h);
                        assert_int_equal(l.smiley[k].y, l.smiley[0].y);
                }
                assert_true(l.smiley[0].x < l.smiley[1].x && l.smiley[1].x < l.smiley[2].x);
                if (l.qr.w < min_qr)
                        fail_msg("%dx%d: QR is %d px, under %d px", w, h, l.qr.w, min_qr);
                if (!l.portrait && l.qr.h * 10 < h * 4)
                        fail_msg("%dx%d: QR is %d px, under 40%% of the height", w, h, l.qr.h);
                /* the send button is wide: as wide as the row of smileys */
                assert_int_equal(l.send.w, l.smiley[2].x + l.smiley[2].w - l.smiley[0].x);
                assert_true(l.send.h >= 44);
        }
}

static void test_800x480_exact_minimums(void **state)
{
        struct layout l;

        assert_int_equal(layout_compute(800, 480, &l), 0);
        assert_false(l.portrait);
        for (int k = 0; k < 3; k++)
                assert_true(l.smiley[k].w >= 96 && l.smiley[k].h >= 96);
        assert_true(l.qr.w >= 180);
        /* landscape: the QR code in a left column, the smileys to its right */
        assert_true(l.qr.x + l.qr.w <= l.smiley[0].x);
        assert_true(l.header.y + l.header.h <= l.qr.y);
        assert_true(l.status.y >= l.send.y + l.send.h);
        assert_true(l.smiley[0].y + l.smiley[0].h <= l.send.y);
}

static void test_portrait_stacks(void **state)
{
        struct layout l;

        assert_int_equal(layout_compute(480, 800, &l), 0);
        assert_true(l.portrait);
        assert_true(l.header.y + l.header.h <= l.smiley[0].y);
        assert_true(l.smiley[0].y + l.smiley[0].h <= l.send.y);
        assert_true(l.send.y + l.send.h <= l.qr.y);
        assert_true(l.qr.y + l.qr.h <= l.qr_caption.y);
        assert_true(l.qr_caption.y + l.qr_caption.h <= l.status.y);
        /* the QR code is centred */
        assert_true(abs(l.qr.x + l.qr.w / 2 - 240) <= 1);
}

/* Is r one of the rects the screen's targets use? */
static bool is_target(const struct layout *l, enum layout_screen s, const struct layout_rect *r)
{
        struct layout_rect t;

        for (int k = LAYOUT_SMILEY_1; k < LAYOUT_TARGET_END; k++)
                if (layout_target_rect(l, s, (enum layout_target)k, &t) && t.x == r->x &&
                    t.y == r->y && t.w == r->w && t.h == r->h)
                        return true;
        return false;
}

static void test_hit(void **state)
{
        for (size_t i = 0; i < N_SIZES; i++) {
                int w = sizes[i][0], h = sizes[i][1];
                struct named p[PARTS_MAX];
                struct layout l;
                size_t n;

                assert_int_equal(layout_compute(w, h, &l), 0);
                for (int s = 0; s < LAYOUT_SCREEN_COUNT; s++) {
                        int targets = 0;

                        for (int k = LAYOUT_SMILEY_1; k < LAYOUT_TARGET_END; k++) {
                                struct layout_rect r;

                                if (!layout_target_rect(&l, (enum layout_screen)s,
                                                        (enum layout_target)k, &r))
                                        continue;
                                targets++;
                                /* the centre and the corners count, one pixel beyond does not */
                                assert_int_equal(layout_hit(&l, s, r.x + r.w / 2, r.y + r.h / 2),
                                                 k);
                                assert_int_equal(layout_hit(&l, s, r.x, r.y), k);
                                assert_int_equal(layout_hit(&l, s, r.x + r.w - 1, r.y + r.h - 1),
                                                 k);
                                assert_int_not_equal(layout_hit(&l, s, r.x + r.w, r.y + r.h / 2),
                                                     k);
                        }
                        if (s != LAYOUT_SCREEN_MESSAGE)
                                assert_true(targets > 0);
                        else
                                assert_int_equal(targets, 0);
                        /* the rest of the screen is not a button */
                        n = parts(&l, s, p);
                        for (size_t j = 0; j < n; j++) {
                                const struct layout_rect *r = p[j].r;

                                if (is_target(&l, s, r))
                                        continue;
                                assert_int_equal(
                                    layout_hit(&l, s, r->x + r->w / 2, r->y + r->h / 2),
                                    LAYOUT_NONE);
                        }
                        assert_int_equal(layout_hit(&l, s, 0, 0), LAYOUT_NONE);
                        assert_int_equal(layout_hit(&l, s, w - 1, h - 1), LAYOUT_NONE);
                        assert_int_equal(layout_hit(&l, s, -5, -5), LAYOUT_NONE);
                        assert_int_equal(layout_hit(&l, s, w + 10, h / 2), LAYOUT_NONE);
                }
                /* the smileys are not buttons on the closed screen */
                assert_int_equal(layout_hit(&l, LAYOUT_SCREEN_CLOSED,
                                            l.smiley[1].x + l.smiley[1].w / 2,
                                            l.smiley[1].y + l.smiley[1].h / 2),
                                 LAYOUT_NONE);
        }
}

/* Everything tapped on the staff screens is big enough for a finger: 44 px on the smallest
 * screen, more on bigger ones; the keypad reads 1 2 3 / 4 5 6 / 7 8 9 / erase 0 OK. */
static void test_touch_targets(void **state)
{
        for (size_t i = 0; i < N_SIZES; i++) {
                int w = sizes[i][0], h = sizes[i][1];
                struct layout l;

                assert_int_equal(layout_compute(w, h, &l), 0);
                assert_true(l.touch >= 40);
                for (int s = 0; s < LAYOUT_SCREEN_COUNT; s++)
                        for (int k = LAYOUT_STAFF; k < LAYOUT_TARGET_END; k++) {
                                struct layout_rect r;

                                if (!layout_target_rect(&l, s, k, &r))
                                        continue;
                                if (r.h < l.touch || r.w < l.touch)
                                        fail_msg("%dx%d %s: target %d is %dx%d, under %d px", w, h,
                                                 screen_name(s), k, r.w, r.h, l.touch);
                        }
                for (int k = 0; k < LAYOUT_KEYS; k++) {
                        const struct layout_rect *r = &l.key[k];

                        /* a key is at least a finger square, and the keys share a size */
                        if (r->w < 64 * w / (w < h ? 480 : 800) || r->h < 56)
                                fail_msg("%dx%d: key %d is %dx%d", w, h, k, r->w, r->h);
                        assert_int_equal(r->w, l.key[0].w);
                        assert_int_equal(r->h, l.key[0].h);
                        if (k % 3)
                                assert_true(l.key[k - 1].x + l.key[k - 1].w <= r->x);
                        if (k >= 3)
                                assert_true(l.key[k - 3].y + l.key[k - 3].h <= r->y);
                }
                /* a page of the list shows a useful number of names */
                assert_true(l.list_rows >= (w > h ? 6 : 5));
                if (!l.portrait)
                        assert_true(l.entry.x + l.entry.w <= l.key[0].x); /* side by side */
                else
                        assert_true(l.note.y + l.note.h <= l.key[0].y); /* stacked */
        }
}

/* «Підключити термінал» is where staff look for the staff control and as easy to hit; the
 * code keypad shows a whole code, 1234-5678-9012, at the entry's size; the staff menu's
 * fourth item, «Новий код підключення», is as big as the others. */
static void test_connect_and_code(void **state)
{
        for (size_t i = 0; i < N_SIZES; i++) {
                int w = sizes[i][0], h = sizes[i][1];
                /* the entry's digits are drawn at 5/4 of the title font (ui_screens.c); a digit
                 * of DejaVu Sans Bold is 0.70 em wide, the dash less */
                int code_w;
                struct layout_rect r;
                struct layout l;

                assert_int_equal(layout_compute(w, h, &l), 0);
                code_w = 14 * (l.font_title * 5 / 4) * 70 / 100;
                /* stacked on the staff control: the same column, just above it */
                assert_int_equal(l.connect.x, l.staff.x);
                assert_int_equal(l.connect.w, l.staff.w);
                assert_true(l.connect.y + l.connect.h <= l.staff.y);
                assert_true(l.staff.y - (l.connect.y + l.connect.h) <= l.gap);
                assert_true(l.connect.h >= l.touch);
                /* the closed screen's lines end above it; only that screen has it */
                assert_true(l.connect_message.y + l.connect_message.h <= l.connect.y);
                assert_true(layout_target_rect(&l, LAYOUT_SCREEN_CONNECT, LAYOUT_CONNECT, &r));
                assert_int_equal(
                    layout_hit(&l, LAYOUT_SCREEN_CONNECT, r.x + r.w / 2, r.y + r.h / 2),
                    LAYOUT_CONNECT);
                assert_int_equal(layout_hit(&l, LAYOUT_SCREEN_CLOSED, r.x + r.w / 2, r.y + r.h / 2),
                                 LAYOUT_NONE);
                for (int s = 0; s < LAYOUT_SCREEN_COUNT; s++)
                        if (s != LAYOUT_SCREEN_CONNECT)
                                assert_false(layout_target_rect(&l, s, LAYOUT_CONNECT, &r));
                assert_true(layout_target_rect(&l, LAYOUT_SCREEN_CONNECT, LAYOUT_STAFF, &r));
                /* the whole code fits the entry without shrinking */
                if (code_w > l.entry.w)
                        fail_msg("%dx%d: a code needs %d px, the entry is %d", w, h, code_w,
                                 l.entry.w);
                /* the menu's items are alike, the new code's last */
                assert_true(layout_target_rect(&l, LAYOUT_SCREEN_MENU, LAYOUT_ENROLL, &r));
                assert_memory_equal(&r, &l.menu[LAYOUT_MENU_ITEMS - 1], sizeof(r));
                for (int k = 0; k < LAYOUT_MENU_ITEMS; k++) {
                        assert_int_equal(l.menu[k].w, l.menu[0].w);
                        assert_int_equal(l.menu[k].h, l.menu[0].h);
                        assert_true(l.menu[k].h >= l.touch);
                        if (k)
                                assert_true(l.menu[k - 1].y + l.menu[k - 1].h <= l.menu[k].y);
                }
        }
        assert_int_equal(layout_target_from_name("connect"), LAYOUT_CONNECT);
        assert_int_equal(layout_target_from_name("enroll"), LAYOUT_ENROLL);
}

static void test_target_names(void **state)
{
        char buf[16];

        for (int k = LAYOUT_SMILEY_1; k < LAYOUT_TARGET_END; k++) {
                if (!layout_target_name(k, buf, sizeof(buf)))
                        continue;
                assert_int_equal(layout_target_from_name(buf), k);
        }
        assert_int_equal(layout_target_from_name("send"), LAYOUT_SEND);
        assert_int_equal(layout_target_from_name("key0"), LAYOUT_KEY_0);
        assert_int_equal(layout_target_from_name("key7"), LAYOUT_KEY_0 + 7);
        assert_int_equal(layout_target_from_name("ok"), LAYOUT_KEY_OK);
        assert_int_equal(layout_target_from_name("row3"), LAYOUT_ROW_0 + 3);
        assert_int_equal(layout_target_from_name("row99"), LAYOUT_NONE);
        assert_int_equal(layout_target_from_name("nonsense"), LAYOUT_NONE);
        assert_null(layout_target_name(LAYOUT_NONE, buf, sizeof(buf)));
}

/* Every pair of text colour and background the screens use reaches WCAG AA: 4.5:1 for text,
 * 3:1 for the large text of buttons. */
static void test_contrast(void **state)
{
        size_t n;
        const struct palette_pair *p = palette_pairs(&n);

        assert_true(n >= 8);
        for (size_t i = 0; i < n; i++) {
                double c = palette_contrast(p[i].fg, p[i].bg);

                if (c < (p[i].large ? 3.0 : 4.5))
                        fail_msg("%s: contrast %.2f:1 is under WCAG AA", p[i].what, c);
        }
        /* the formula itself: black on white is 21:1, a colour on itself 1:1 */
        assert_true(palette_contrast((struct palette_rgb){0, 0, 0},
                                     (struct palette_rgb){255, 255, 255}) > 20.99);
        assert_true(palette_contrast((struct palette_rgb){0x77, 0x77, 0x77},
                                     (struct palette_rgb){0x77, 0x77, 0x77}) < 1.001);
}

static void test_rejects_tiny_and_absurd(void **state)
{
        struct layout l = {.width = 7};

        assert_int_equal(layout_compute(319, 240, &l), -EINVAL);
        assert_int_equal(layout_compute(320, 239, &l), -EINVAL);
        assert_int_equal(layout_compute(239, 320, &l), -EINVAL);
        assert_int_equal(layout_compute(0, 0, &l), -EINVAL);
        assert_int_equal(layout_compute(-800, 480, &l), -EINVAL);
        assert_int_equal(layout_compute(100000, 480, &l), -EINVAL);
        assert_int_equal(layout_compute(800, 480, NULL), -EINVAL);
        assert_int_equal(l.width, 7); /* untouched on failure */
        assert_int_equal(layout_compute(320, 240, &l), 0);
        assert_int_equal(layout_compute(240, 320, &l), 0);
}

static void test_fonts_follow_screen(void **state)
{
        struct layout small, big;

        assert_int_equal(layout_compute(800, 480, &small), 0);
        assert_int_equal(layout_compute(1920, 1080, &big), 0);
        assert_true(big.font_title > small.font_title);
        assert_true(big.font_body > small.font_body);
        assert_true(big.font_small > small.font_small);
        /* readable at the counter even on the smallest screen */
        assert_true(small.font_small >= 12);
        assert_true(small.font_title >= 24);
}

static void test_rect_helpers(void **state)
{
        struct layout_rect a = {10, 10, 10, 10}, b = {20, 10, 10, 10}, c = {19, 19, 5, 5};

        assert_false(layout_rects_overlap(&a, &b)); /* touching edges do not overlap */
        assert_true(layout_rects_overlap(&a, &c));
        assert_true(layout_rects_overlap(&c, &a));
        assert_true(layout_rect_contains(&a, 10, 10));
        assert_true(layout_rect_contains(&a, 19, 19));
        assert_false(layout_rect_contains(&a, 20, 19));
        assert_false(layout_rect_contains(&a, 9, 15));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_shipped_sizes),
            cmocka_unit_test(test_every_size),
            cmocka_unit_test(test_big_enough),
            cmocka_unit_test(test_800x480_exact_minimums),
            cmocka_unit_test(test_portrait_stacks),
            cmocka_unit_test(test_hit),
            cmocka_unit_test(test_touch_targets),
            cmocka_unit_test(test_connect_and_code),
            cmocka_unit_test(test_target_names),
            cmocka_unit_test(test_contrast),
            cmocka_unit_test(test_rejects_tiny_and_absurd),
            cmocka_unit_test(test_fonts_follow_screen),
            cmocka_unit_test(test_rect_helpers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
