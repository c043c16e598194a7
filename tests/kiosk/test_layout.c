/* SPDX-License-Identifier: MIT */
/* The terminal's layout on the screens it ships on: everything on screen, nothing on top of
 * anything else, smileys big enough for a finger, a QR code big enough to scan at arm's
 * length, and taps landing on what they were aimed at. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "layout.h"

static const int sizes[][2] = {
    {800, 480}, {1024, 600}, {1280, 800}, {1920, 1080}, {480, 800}, {1080, 1920},
};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

struct named {
        const char *name;
        const struct layout_rect *r;
};

/* The rects that must not overlap one another. */
static size_t parts(const struct layout *l, struct named out[9])
{
        size_t n = 0;

        out[n++] = (struct named){"header", &l->header};
        out[n++] = (struct named){"qr", &l->qr};
        out[n++] = (struct named){"qr_caption", &l->qr_caption};
        out[n++] = (struct named){"prompt", &l->prompt};
        out[n++] = (struct named){"smiley 1", &l->smiley[0]};
        out[n++] = (struct named){"smiley 2", &l->smiley[1]};
        out[n++] = (struct named){"smiley 3", &l->smiley[2]};
        out[n++] = (struct named){"send", &l->send};
        out[n++] = (struct named){"status", &l->status};
        return n;
}

static void check_geometry(int w, int h)
{
        struct named p[9];
        struct layout l;
        size_t n;

        assert_int_equal(layout_compute(w, h, &l), 0);
        assert_int_equal(l.width, w);
        assert_int_equal(l.height, h);
        assert_int_equal(l.portrait, h > w);
        n = parts(&l, p);
        for (size_t i = 0; i < n; i++) {
                const struct layout_rect *r = p[i].r;

                if (r->w <= 0 || r->h <= 0 || r->x < 0 || r->y < 0 || r->x + r->w > w ||
                    r->y + r->h > h)
                        fail_msg("%dx%d: %s at %d,%d %dx%d is not inside the screen", w, h,
                                 p[i].name, r->x, r->y, r->w, r->h);
                for (size_t j = i + 1; j < n; j++)
                        if (layout_rects_overlap(p[i].r, p[j].r))
                                fail_msg("%dx%d: %s overlaps %s", w, h, p[i].name, p[j].name);
        }
        assert_int_equal(l.qr.w, l.qr.h);
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

static void test_hit(void **state)
{
        for (size_t i = 0; i < N_SIZES; i++) {
                int w = sizes[i][0], h = sizes[i][1];
                struct named p[9];
                struct layout l;
                size_t n;

                assert_int_equal(layout_compute(w, h, &l), 0);
                for (int k = 0; k < 3; k++) {
                        const struct layout_rect *r = &l.smiley[k];

                        assert_int_equal(layout_hit(&l, r->x + r->w / 2, r->y + r->h / 2),
                                         LAYOUT_SMILEY_1 + k);
                        /* the corners count, one pixel beyond does not */
                        assert_int_equal(layout_hit(&l, r->x, r->y), LAYOUT_SMILEY_1 + k);
                        assert_int_equal(layout_hit(&l, r->x + r->w - 1, r->y + r->h - 1),
                                         LAYOUT_SMILEY_1 + k);
                        assert_int_not_equal(layout_hit(&l, r->x + r->w, r->y + r->h / 2),
                                             LAYOUT_SMILEY_1 + k);
                }
                assert_int_equal(layout_hit(&l, l.send.x + l.send.w / 2, l.send.y + l.send.h / 2),
                                 LAYOUT_SEND);
                /* the rest of the screen is not a button */
                n = parts(&l, p);
                for (size_t j = 0; j < n; j++) {
                        const struct layout_rect *r = p[j].r;

                        if (r == &l.send || (r >= &l.smiley[0] && r <= &l.smiley[2]))
                                continue;
                        assert_int_equal(layout_hit(&l, r->x + r->w / 2, r->y + r->h / 2),
                                         LAYOUT_NONE);
                }
                assert_int_equal(layout_hit(&l, 0, 0), LAYOUT_NONE);
                assert_int_equal(layout_hit(&l, w - 1, h - 1), LAYOUT_NONE);
                assert_int_equal(layout_hit(&l, -5, -5), LAYOUT_NONE);
                assert_int_equal(layout_hit(&l, w + 10, h / 2), LAYOUT_NONE);
        }
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
            cmocka_unit_test(test_rejects_tiny_and_absurd),
            cmocka_unit_test(test_fonts_follow_screen),
            cmocka_unit_test(test_rect_helpers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
