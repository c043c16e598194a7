/* SPDX-License-Identifier: MIT */
/* Tests for form_get(), the reader of the vote page's POST body: what a browser sends comes
 * out decoded, and anything malformed, truncated or too long is an error, never a guess. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"

/* form_get() over a string literal without its NUL, so that nothing may read past len. */
static int get(const char *data, const char *name, char *buf, size_t n)
{
        return form_get(data, strlen(data), name, buf, n);
}

/* Checks that field name of data decodes to want through a buffer of exactly n (> 0) bytes. The
 * buffer is on the heap, so that ASan sees a write past it, and starts filled with '#', so
 * that an empty value must really be written. */
static void decodes(const char *data, const char *name, size_t n, const char *want,
                    const char *file, int line)
{
        char *buf = malloc(n);
        int r;

        assert_non_null(buf);
        memset(buf, '#', n - 1);
        buf[n - 1] = '\0';
        r = get(data, name, buf, n);
        _assert_int_equal(cast_to_largest_integral_type(r),
                          cast_to_largest_integral_type(strlen(want)), file, line);
        _assert_string_equal(buf, want, file, line);
        free(buf);
}

/* get(data, name) returns strlen(want) and leaves want in the buffer. */
#define assert_decodes(data, name, want) decodes((data), (name), 32, (want), __FILE__, __LINE__)
/* The same through a buffer of n bytes. */
#define assert_decodes_in(n, data, name, want)                                                     \
        decodes((data), (name), (n), (want), __FILE__, __LINE__)

static void test_plain_value(void **state)
{
        assert_decodes("level=3", "level", "3");
        assert_decodes("a=1&level=2&b=3", "level", "2");
        assert_decodes("a=1&b=xyz", "b", "xyz");
}

static void test_plus_is_space(void **state)
{
        assert_decodes("name=Ivan+Franko+", "name", "Ivan Franko ");
}

static void test_percent_escapes(void **state)
{
        assert_decodes("x=%41%62%2B%2b%26%3D", "x", "Ab++&=");
        assert_decodes("x=%4a%4A", "x", "JJ");
        /* UTF-8 as a browser sends it: «Добре» */
        assert_decodes("x=%D0%94%D0%BE%D0%B1%D1%80%D0%B5", "x", "Добре");
        /* an escaped '&' or '=' does not split the field */
        assert_decodes("x=a%26level%3D3&level=1", "level", "1");
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

        assert_decodes("level=1&level=3", "level", "1");
        /* the first one wins even when it is the malformed one */
        assert_int_equal(get("level=%zz&level=3", "level", buf, sizeof(buf)), -EINVAL);
}

static void test_empty_value(void **state)
{
        assert_decodes("level=&x=1", "level", "");
        assert_decodes("x=1&level", "level", "");
}

static void test_name_is_matched_whole(void **state)
{
        char buf[32];

        assert_int_equal(get("levelx=1", "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(get("xlevel=1", "level", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(get("leve=1", "level", buf, sizeof(buf)), -ENOENT);
        assert_decodes("levelx=1&level=2", "level", "2");
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

        assert_decodes_in(sizeof(buf), "x=abc", "x", "abc");
        assert_int_equal(get("x=abcd", "x", buf, sizeof(buf)), -ENAMETOOLONG);
        /* the decoded length counts, not the encoded one */
        assert_decodes_in(sizeof(buf), "x=%41%42%43", "x", "ABC");
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
