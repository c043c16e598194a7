/* SPDX-License-Identifier: MIT */
/* The vote model: the regulation's exact labels and colours, the open list of channels, the
 * reference validators and UUIDv7 ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "buf.h"
#include "vote.h"

static void test_levels_have_the_regulation_labels(void **state)
{
        assert_string_equal(vote_level_label(1, VOTE_LANG_UK), "Задовільно");
        assert_string_equal(vote_level_label(2, VOTE_LANG_UK), "Добре");
        assert_string_equal(vote_level_label(3, VOTE_LANG_UK), "Зразково");
        assert_string_equal(vote_level_label(1, VOTE_LANG_EN), "Satisfactory");
        assert_string_equal(vote_level_label(3, VOTE_LANG_EN), "Exemplary");
        assert_null(vote_level_label(0, VOTE_LANG_UK));
        assert_null(vote_level_label(4, VOTE_LANG_UK));
        assert_false(vote_level_valid(-1));
        assert_false(vote_level_valid(INT64_MAX));
}

static void test_levels_are_red_yellow_green(void **state)
{
        struct vote_rgb red = vote_level_color(1), yellow = vote_level_color(2),
                        green = vote_level_color(3);

        assert_true(red.r > 0xb0 && red.g < 0x60 && red.b < 0x60);
        assert_true(yellow.r > 0xe0 && yellow.g > 0x90 && yellow.b < 0x60);
        assert_true(green.g > green.r && green.g > green.b);
        assert_string_equal(vote_level_color_hex(1), "#d32f2f");
        assert_string_equal(vote_level_color_hex(9), "#000000");
}

static void test_channels_are_an_open_list(void **state)
{
        char long_name[VOTE_CHANNEL_MAX + 2];

        assert_true(vote_channel_valid(VOTE_CHANNEL_TERMINAL));
        assert_true(vote_channel_valid("qr_reply"));
        assert_true(vote_channel_valid("kiosk-2030")); /* a channel nobody has named yet */
        assert_false(vote_channel_valid(""));
        assert_false(vote_channel_valid("QR"));
        assert_false(vote_channel_valid("qr printed"));
        assert_false(vote_channel_valid(NULL));
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = 0;
        assert_false(vote_channel_valid(long_name));
        long_name[VOTE_CHANNEL_MAX] = 0;
        assert_true(vote_channel_valid(long_name));
        assert_string_equal(vote_channel_label("qr_printed", VOTE_LANG_UK), "Друкований QR-код");
        assert_string_equal(vote_channel_label("kiosk-2030", VOTE_LANG_EN), "kiosk-2030");
}

static void test_refs(void **state)
{
        assert_true(vote_ref_valid("E001"));
        assert_true(vote_ref_valid("W-01.a_b"));
        assert_false(vote_ref_valid(""));
        assert_false(vote_ref_valid("E 001"));
        assert_false(vote_ref_valid("E'01"));
        assert_false(vote_ref_valid("Є001"));
}

static void test_ids_are_unique_uuid7_in_time_order(void **state)
{
        vote_id a, b;

        vote_id_new(&a);
        assert_true(vote_id_valid(a.s));
        assert_int_equal(a.s[14], '7');               /* version 7 */
        assert_true(strchr("89ab", a.s[19]) != NULL); /* RFC 4122 variant */
        for (int i = 0; i < 1000; i++) {
                vote_id_new(&b);
                assert_true(vote_id_valid(b.s));
                assert_string_not_equal(a.s, b.s);
                /* the first 48 bits are milliseconds: never earlier than the previous id */
                assert_true(memcmp(a.s, b.s, 13) <= 0);
                a = b;
        }
        assert_false(vote_id_valid("0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2"));  /* short */
        assert_false(vote_id_valid("0190A1B2-C3D4-7E5F-8A6B-7C8D9E0F1A2B")); /* upper case */
        assert_false(vote_id_valid("0190a1b2xc3d4-7e5f-8a6b-7c8d9e0f1a2b"));
        assert_false(vote_id_valid(NULL));
}

static void test_strlcpy_refuses_to_truncate(void **state)
{
        char small[4];

        assert_int_equal(vote_strlcpy(small, "abc", sizeof(small)), 0);
        assert_string_equal(small, "abc");
        assert_int_equal(vote_strlcpy(small, "abcd", sizeof(small)), -ENAMETOOLONG);
}

static void test_buf_escapes_html_and_keeps_its_cap(void **state)
{
        struct buf b;
        char *s;

        buf_init(&b, 64);
        assert_int_equal(buf_add_html(&b, "<a href=\"x\">'Ко' & Co</a>"), 0);
        s = buf_take(&b, NULL);
        assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;&#39;Ко&#39; &amp; Co&lt;/a&gt;");
        free(s);
        buf_init(&b, 8);
        assert_int_equal(buf_adds(&b, "12345678"), 0);
        assert_int_equal(buf_adds(&b, "9"), -E2BIG);
        assert_null(b.data); /* freed on failure: nobody goes on with half a string */
        assert_int_equal(b.len, 0);
        /* the failure is sticky: a later append that would fit changes nothing */
        assert_int_equal(buf_adds(&b, "x"), -E2BIG);
        assert_int_equal(buf_printf(&b, "%d", 1), -E2BIG);
        assert_null(b.data);
        assert_null(buf_take(&b, NULL));
        assert_int_equal(b.error, -E2BIG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_levels_have_the_regulation_labels),
            cmocka_unit_test(test_levels_are_red_yellow_green),
            cmocka_unit_test(test_channels_are_an_open_list),
            cmocka_unit_test(test_refs),
            cmocka_unit_test(test_ids_are_unique_uuid7_in_time_order),
            cmocka_unit_test(test_strlcpy_refuses_to_truncate),
            cmocka_unit_test(test_buf_escapes_html_and_keeps_its_cap),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
