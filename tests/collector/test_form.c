/* SPDX-License-Identifier: MIT */
/* Tests for form_get(), the reader of the vote page's POST body: what a browser sends comes
 * out decoded, and anything malformed, truncated or too long is an error, never a guess. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"

/* form_get() over a string literal without its NUL, so that nothing may read past len. */
static int get(const char *data, const char *name, char *buf, size_t n)
{
        return form_get(data, strlen(data), name, buf, n);
}

static void test_plain_value(void **state)
{
        char buf[32];

        assert_int_equal(get("level=3", "level", buf, sizeof(buf)), 1);
        assert_string_equal(buf, "3");
        assert_int_equal(get("a=1&level=2&b=3", "level", buf, sizeof(buf)), 1);
        assert_string_equal(buf, "2");
        assert_int_equal(get("a=1&b=xyz", "b", buf, sizeof(buf)), 3);
        assert_string_equal(buf, "xyz");
}

static void test_plus_is_space(void **state)
{
        char buf[32];

        assert_int_equal(get("name=Ivan+Franko+", "name", buf, sizeof(buf)), 12);
        assert_string_equal(buf, "Ivan Franko ");
}

static void test_percent_escapes(void **state)
{
        char buf[32];

        assert_int_equal(get("x=%41%62%2B%2b%26%3D", "x", buf, sizeof(buf)), 6);
        assert_string_equal(buf, "Ab++&=");
        assert_int_equal(get("x=%4a%4A", "x", buf, sizeof(buf)), 2);
        assert_string_equal(buf, "JJ");
        /* UTF-8 as a browser sends it: «Добре» */
        assert_int_equal(get("x=%D0%94%D0%BE%D0%B1%D1%80%D0%B5", "x", buf, sizeof(buf)), 10);
        assert_string_equal(buf, "Добре");
        /* an escaped '&' or '=' does not split the field */
        assert_int_equal(get("x=a%26level%3D3&level=1", "level", buf, sizeof(buf)), 1);
        assert_string_equal(buf, "1");
}

static void test_missing_field(void **state)
{
        char buf[32] = "untouched";

        assert_int_equal(get("a=1&b=2", "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(get("&&&", "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(get("=3", "level", buf, sizeof(buf)), -ENOENT);
        assert_string_equal(buf, "untouched");
}

static void test_first_of_repeated_fields(void **state)
{
        char buf[32];

        assert_int_equal(get("level=1&level=3", "level", buf, sizeof(buf)), 1);
        assert_string_equal(buf, "1");
        /* the first one wins even when it is the malformed one */
        assert_int_equal(get("level=%zz&level=3", "level", buf, sizeof(buf)), -EINVAL);
}

static void test_empty_value(void **state)
{
        char buf[32] = "untouched";

        assert_int_equal(get("level=&x=1", "level", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        strcpy(buf, "untouched");
        assert_int_equal(get("x=1&level", "level", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
}

static void test_name_is_matched_whole(void **state)
{
        char buf[32];

        assert_int_equal(get("levelx=1", "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(get("xlevel=1", "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(get("leve=1", "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(get("levelx=1&level=2", "level", buf, sizeof(buf)), 1);
        assert_string_equal(buf, "2");
        /* names are not decoded: "lev%65l" is not "level" */
        assert_int_equal(get("lev%65l=1", "level", buf, sizeof(buf)), -ENOENT);
}

static void test_truncated_escape(void **state)
{
        char buf[32];

        assert_int_equal(get("x=%", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(get("x=%4", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(get("x=ab%4&y=1", "x", buf, sizeof(buf)), -EINVAL);
        /* the field ends at len even when the buffer goes on: "x=%4" of "x=%41" */
        assert_int_equal(form_get("x=%41", 4, "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(form_get("x=%41", 5, "x", buf, sizeof(buf)), 1);
        assert_string_equal(buf, "A");
}

static void test_bad_hex(void **state)
{
        char buf[32];

        assert_int_equal(get("x=%g1", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(get("x=%1g", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(get("x=% 1", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(get("x=%-1", "x", buf, sizeof(buf)), -EINVAL);
}

static void test_nul_is_refused(void **state)
{
        char buf[32];
        static const char raw[] = {'x', '=', 'a', '\0', 'b'};

        assert_int_equal(get("x=%00", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(get("x=3%00", "x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(form_get(raw, sizeof(raw), "x", buf, sizeof(buf)), -EINVAL);
}

static void test_value_too_long(void **state)
{
        char buf[4];

        assert_int_equal(get("x=abc", "x", buf, sizeof(buf)), 3);
        assert_string_equal(buf, "abc");
        assert_int_equal(get("x=abcd", "x", buf, sizeof(buf)), -ENAMETOOLONG);
        /* the decoded length counts, not the encoded one */
        assert_int_equal(get("x=%41%42%43", "x", buf, sizeof(buf)), 3);
        assert_string_equal(buf, "ABC");
        assert_int_equal(get("x=%41%42%43%44", "x", buf, sizeof(buf)), -ENAMETOOLONG);
        assert_int_equal(get("x=", "x", buf, 0), -ENAMETOOLONG);
        assert_int_equal(get("x=a", "x", buf, 1), -ENAMETOOLONG);
}

static void test_empty_input(void **state)
{
        char buf[32];

        assert_int_equal(form_get("", 0, "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(form_get("level=3", 0, "level", buf, sizeof(buf)), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plain_value),
            cmocka_unit_test(test_plus_is_space),
            cmocka_unit_test(test_percent_escapes),
            cmocka_unit_test(test_missing_field),
            cmocka_unit_test(test_first_of_repeated_fields),
            cmocka_unit_test(test_empty_value),
            cmocka_unit_test(test_name_is_matched_whole),
            cmocka_unit_test(test_truncated_escape),
            cmocka_unit_test(test_bad_hex),
            cmocka_unit_test(test_nul_is_refused),
            cmocka_unit_test(test_value_too_long),
            cmocka_unit_test(test_empty_input),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
