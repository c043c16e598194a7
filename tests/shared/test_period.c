/* SPDX-License-Identifier: MIT */
/* Tests for shared/period.c. Every expected instant is a literal worked out by hand from the
 * offsets (Kyiv is UTC+2 in winter and UTC+3 from the last Sunday of March 01:00 UTC to the
 * last Sunday of October 01:00 UTC); the UTC time is written next to each. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "period.h"

#define HOUR 3600
#define DAY 86400

static void assert_period(const struct period *p, enum period_kind kind, int64_t start, int64_t end)
{
        assert_int_equal(p->kind, kind);
        assert_int_equal(p->start, start);
        assert_int_equal(p->end, end);
}

static void assert_label(const struct period *p, const char *want)
{
        char buf[PERIOD_LABEL_MAX];
        struct period back;

        assert_int_equal(period_label(p, buf, sizeof(buf)), 0);
        assert_string_equal(buf, want);
        /* And the label reads back as the same period. */
        assert_int_equal(period_parse(buf, &back), 0);
        assert_period(&back, p->kind, p->start, p->end);
}

static int setup_kyiv(void **state)
{
        return period_set_zone("Europe/Kyiv");
}

static void test_spring_forward_day_has_23_hours(void **state)
{
        struct period p;

        /* 2026-03-29T10:00Z is 13:00 EEST. */
        assert_int_equal(period_containing(PERIOD_DAY, 1774778400, &p), 0);
        /* 2026-03-28T22:00Z (00:00 EET) .. 2026-03-29T21:00Z (00:00 EEST) */
        assert_period(&p, PERIOD_DAY, 1774735200, 1774818000);
        assert_int_equal(p.end - p.start, 23 * HOUR);
        assert_label(&p, "2026-03-29");

        /* The clock jumps from 02:59:59 EET (00:59:59Z) to 04:00 EEST (01:00Z). */
        assert_int_equal(period_local_hour(1774745999), 2);
        assert_int_equal(period_local_hour(1774746000), 4);
        /* The first and the last second belong to the day, the next one does not. */
        assert_int_equal(period_containing(PERIOD_DAY, 1774735200, &p), 0);
        assert_int_equal(p.start, 1774735200);
        assert_int_equal(period_containing(PERIOD_DAY, 1774818000 - 1, &p), 0);
        assert_int_equal(p.start, 1774735200);
        assert_int_equal(period_containing(PERIOD_DAY, 1774818000, &p), 0);
        assert_int_equal(p.start, 1774818000);
        assert_int_equal(period_containing(PERIOD_DAY, 1774735200 - 1, &p), 0);
        /* 2026-03-27T22:00Z: the 28th, a 24-hour winter day. */
        assert_period(&p, PERIOD_DAY, 1774648800, 1774735200);
}

static void test_fall_back_day_has_25_hours(void **state)
{
        struct period p;

        /* 2026-10-25T12:00Z is 14:00 EET. */
        assert_int_equal(period_containing(PERIOD_DAY, 1792929600, &p), 0);
        /* 2026-10-24T21:00Z (00:00 EEST) .. 2026-10-25T22:00Z (00:00 EET) */
        assert_period(&p, PERIOD_DAY, 1792875600, 1792965600);
        assert_int_equal(p.end - p.start, 25 * HOUR);
        assert_label(&p, "2026-10-25");

        /* 03:00..03:59 happens twice: 00:59:59Z is 03:59:59 EEST, 01:00Z is 03:00 EET. */
        assert_int_equal(period_local_hour(1792889999), 3);
        assert_int_equal(period_local_hour(1792890000), 3);
        assert_int_equal(period_day_key(1792890000), 20261025);
}

static void test_week_month_quarter_year_across_dst(void **state)
{
        struct period p;

        /* 2026-03-29 is the Sunday of 2026-W13: Mon 23 March 00:00 EET (2026-03-22T22:00Z)
         * to Mon 30 March 00:00 EEST (2026-03-29T21:00Z), one hour short of 7 days. */
        assert_int_equal(period_containing(PERIOD_WEEK, 1774778400, &p), 0);
        assert_period(&p, PERIOD_WEEK, 1774216800, 1774818000);
        assert_int_equal(p.end - p.start, 7 * DAY - HOUR);
        assert_label(&p, "2026-W13");

        /* 2026-10-25 is the Sunday of 2026-W43: 2026-10-18T21:00Z .. 2026-10-25T22:00Z. */
        assert_int_equal(period_containing(PERIOD_WEEK, 1792929600, &p), 0);
        assert_period(&p, PERIOD_WEEK, 1792357200, 1792965600);
        assert_int_equal(p.end - p.start, 7 * DAY + HOUR);
        assert_label(&p, "2026-W43");

        /* March 2026: 2026-02-28T22:00Z .. 2026-03-31T21:00Z. */
        assert_int_equal(period_containing(PERIOD_MONTH, 1774778400, &p), 0);
        assert_period(&p, PERIOD_MONTH, 1772316000, 1774990800);
        assert_label(&p, "2026-03");
        /* October 2026: 2026-09-30T21:00Z .. 2026-10-31T22:00Z. */
        assert_int_equal(period_containing(PERIOD_MONTH, 1792929600, &p), 0);
        assert_period(&p, PERIOD_MONTH, 1790802000, 1793484000);
        assert_label(&p, "2026-10");

        /* 2026-Q1: 2025-12-31T22:00Z .. 2026-03-31T21:00Z. */
        assert_int_equal(period_containing(PERIOD_QUARTER, 1774778400, &p), 0);
        assert_period(&p, PERIOD_QUARTER, 1767218400, 1774990800);
        assert_label(&p, "2026-Q1");
        /* 2026-Q4: 2026-09-30T21:00Z .. 2026-12-31T22:00Z. */
        assert_int_equal(period_containing(PERIOD_QUARTER, 1792929600, &p), 0);
        assert_period(&p, PERIOD_QUARTER, 1790802000, 1798754400);
        assert_label(&p, "2026-Q4");

        /* 2026: 2025-12-31T22:00Z .. 2026-12-31T22:00Z, both in winter time. */
        assert_int_equal(period_containing(PERIOD_YEAR, 1774778400, &p), 0);
        assert_period(&p, PERIOD_YEAR, 1767218400, 1798754400);
        assert_int_equal(p.end - p.start, 365 * DAY);
        assert_label(&p, "2026");
}

static void test_iso_week_53(void **state)
{
        /* Noon UTC on 2026-12-31 (Thu), 2027-01-01, and the last second of 2027-01-03 local. */
        static const int64_t in_w53[] = {1798718400, 1798804800, 1799013599};
        struct period p;

        for (size_t i = 0; i < sizeof(in_w53) / sizeof(in_w53[0]); i++) {
                assert_int_equal(period_containing(PERIOD_WEEK, in_w53[i], &p), 0);
                /* Mon 2026-12-28 (2026-12-27T22:00Z) .. Mon 2027-01-04 (2027-01-03T22:00Z) */
                assert_period(&p, PERIOD_WEEK, 1798408800, 1799013600);
                assert_label(&p, "2026-W53");
        }
        /* Monday 2027-01-04 starts 2027-W01. */
        assert_int_equal(period_containing(PERIOD_WEEK, 1799013600, &p), 0);
        assert_int_equal(p.start, 1799013600);
        assert_label(&p, "2027-W01");

        /* Sunday 2021-01-03 is in 2020-W53: 2020-12-27T22:00Z .. 2021-01-03T22:00Z. */
        assert_int_equal(period_containing(PERIOD_WEEK, 1609675200, &p), 0);
        assert_period(&p, PERIOD_WEEK, 1609106400, 1609711200);
        assert_label(&p, "2020-W53");

        /* 2026 has 53 weeks, 2025 has 52. */
        assert_int_equal(period_parse("2026-W53", &p), 0);
        assert_period(&p, PERIOD_WEEK, 1798408800, 1799013600);
        assert_int_equal(period_parse("2025-W52", &p), 0);
        /* Mon 2025-12-22 .. Mon 2025-12-29 */
        assert_period(&p, PERIOD_WEEK, 1766354400, 1766959200);
        assert_int_equal(period_parse("2025-W53", &p), -EINVAL);
        assert_int_equal(period_parse("2026-W54", &p), -EINVAL);
}

static void test_previous(void **state)
{
        struct period p, prev;

        /* The day before Monday 2026-03-30 is the 23-hour day. */
        assert_int_equal(period_parse("2026-03-30", &p), 0);
        assert_period(&p, PERIOD_DAY, 1774818000, 1774818000 + DAY);
        assert_int_equal(period_previous(&p, &prev), 0);
        assert_period(&prev, PERIOD_DAY, 1774735200, 1774818000);

        /* The week before 2026-W14 is W13, which spans the clock change. */
        assert_int_equal(period_parse("2026-W14", &p), 0);
        assert_int_equal(period_previous(&p, &prev), 0);
        assert_period(&prev, PERIOD_WEEK, 1774216800, 1774818000);

        /* The week before 2027-W01 is 2026-W53. */
        assert_int_equal(period_parse("2027-W01", &p), 0);
        assert_int_equal(period_previous(&p, &prev), 0);
        assert_period(&prev, PERIOD_WEEK, 1798408800, 1799013600);

        /* April 2026 follows March, 2026-Q1 follows 2025-Q4, 2026 follows 2025. */
        assert_int_equal(period_parse("2026-04", &p), 0);
        assert_int_equal(period_previous(&p, &prev), 0);
        assert_period(&prev, PERIOD_MONTH, 1772316000, 1774990800);
        assert_int_equal(period_parse("2026-Q1", &p), 0);
        assert_int_equal(period_previous(&p, &prev), 0);
        assert_label(&prev, "2025-Q4");
        assert_int_equal(prev.end, 1767218400);
        assert_int_equal(period_parse("2026", &p), 0);
        assert_int_equal(period_previous(&p, &prev), 0);
        assert_label(&prev, "2025");
        assert_int_equal(prev.end, 1767218400);

        /* A range of three days: the three days before it. */
        assert_int_equal(period_parse("2026-03-28..2026-03-30", &p), 0);
        /* 2026-03-27T22:00Z .. 2026-03-30T21:00Z */
        assert_period(&p, PERIOD_DAY, 1774648800, 1774904400);
        assert_int_equal(period_previous(&p, &prev), 0);
        assert_label(&prev, "2026-03-25..2026-03-27");
        /* 2026-03-24T22:00Z .. 2026-03-27T22:00Z */
        assert_period(&prev, PERIOD_DAY, 1774389600, 1774648800);

        /* Nothing before 1970. */
        assert_int_equal(period_parse("1970", &p), 0);
        assert_int_equal(period_previous(&p, &prev), -ERANGE);
}

static void test_year_earlier(void **state)
{
        struct period p, e;

        /* 2026-W53 has no twin in 2025: week 52 instead. */
        assert_int_equal(period_parse("2026-W53", &p), 0);
        assert_int_equal(period_year_earlier(&p, &e), 0);
        assert_period(&e, PERIOD_WEEK, 1766354400, 1766959200);
        assert_label(&e, "2025-W52");
        /* 2021-W01's twin is 2020-W01, not W53. */
        assert_int_equal(period_parse("2021-W01", &p), 0);
        assert_int_equal(period_year_earlier(&p, &e), 0);
        assert_label(&e, "2020-W01");
        /* 2020-W53 -> 2019-W52. */
        assert_int_equal(period_parse("2020-W53", &p), 0);
        assert_int_equal(period_year_earlier(&p, &e), 0);
        assert_label(&e, "2019-W52");

        /* The 25-hour 2026-10-25 maps to an ordinary 2025-10-25 (2025 fell back on the 26th):
         * 2025-10-24T21:00Z .. 2025-10-25T21:00Z. */
        assert_int_equal(period_parse("2026-10-25", &p), 0);
        assert_int_equal(period_year_earlier(&p, &e), 0);
        assert_period(&e, PERIOD_DAY, 1761339600, 1761426000);

        /* March 2026 -> March 2025: 2025-02-28T22:00Z .. 2025-03-31T21:00Z. */
        assert_int_equal(period_parse("2026-03", &p), 0);
        assert_int_equal(period_year_earlier(&p, &e), 0);
        assert_period(&e, PERIOD_MONTH, 1740780000, 1743454800);

        /* 2028-02-29 -> 2027-02-28, one day: 2027-02-27T22:00Z .. 2027-02-28T22:00Z. */
        assert_int_equal(period_parse("2028-02-29", &p), 0);
        assert_int_equal(p.start, 1835388000);
        assert_int_equal(period_year_earlier(&p, &e), 0);
        assert_period(&e, PERIOD_DAY, 1803765600, 1803852000);

        assert_int_equal(period_parse("2026-Q4", &p), 0);
        assert_int_equal(period_year_earlier(&p, &e), 0);
        assert_label(&e, "2025-Q4");
        assert_int_equal(period_parse("1970-05", &p), 0);
        assert_int_equal(period_year_earlier(&p, &e), -ERANGE);
}

static void test_labels_round_trip(void **state)
{
        static const char *const labels[] = {
            "2026-11-28", "2026-W48", "2026-11",  "2026-Q4", "2026",
            "2024-02-29", "1970-W01", "9999-W52", "9999-12", "2026-12-30..2027-01-02",
        };
        static const enum period_kind kinds[] = {
            PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH, PERIOD_QUARTER, PERIOD_YEAR,
        };
        struct period p;
        char buf[PERIOD_LABEL_MAX];

        for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
                assert_int_equal(period_parse(labels[i], &p), 0);
                assert_label(&p, labels[i]);
        }
        /* Every kind of period around an instant prints a label that parses back. */
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                assert_int_equal(period_containing(kinds[i], 1792890000, &p), 0);
                assert_int_equal(period_label(&p, buf, sizeof(buf)), 0);
                assert_label(&p, buf);
        }

        /* A label that does not fit is refused, not cut short. */
        assert_int_equal(period_parse("2026-11-28", &p), 0);
        assert_int_equal(period_label(&p, buf, 10), -ENOBUFS);
        assert_int_equal(period_label(&p, buf, 11), 0);
        assert_int_equal(period_parse("2026-11-28..2026-11-30", &p), 0);
        assert_int_equal(period_label(&p, buf, 16), -ENOBUFS);

        /* A period these functions did not make has no label. */
        p = (struct period){PERIOD_MONTH, 1774735200, 1774818000};
        assert_int_equal(period_label(&p, buf, sizeof(buf)), -EINVAL);
        p = (struct period){PERIOD_DAY, 1774735200 + 1, 1774818000};
        assert_int_equal(period_label(&p, buf, sizeof(buf)), -EINVAL);
        p = (struct period){(enum period_kind)99, 1774735200, 1774818000};
        assert_int_equal(period_label(&p, buf, sizeof(buf)), -EINVAL);
}

static void test_invalid_labels(void **state)
{
        static const char *const bad[] = {
            "",
            "2026-",
            "1969",
            "10000",
            "0000",
            "2026-00",
            "2026-13",
            "2026-1",
            "2026-Q0",
            "2026-Q5",
            "2026-q4",
            "2026-W00",
            "2026-w48",
            "2026-W5",
            "2025-W53",
            "2026-02-29",
            "2024-02-30",
            "2026-04-31",
            "2026-11-00",
            "2026-11-2a",
            "2026/11/28",
            "2026-11-28 ",
            " 2026-11-28",
            "+2026",
            "-2026-11",
            "2026-11-28..2026-11-27",
            "2026-11-28...2026-11-29",
            "2026-11-28..2026-11-2",
            "2026-11-28..",
            "2026-11-28--2026-11-29",
            "1969-12-31..1970-01-01",
            "9999-12-31..10000-01-01",
        };
        struct period p = {PERIOD_YEAR, 42, 43};

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (period_parse(bad[i], &p) != -EINVAL)
                        fail_msg("\"%s\" was accepted", bad[i]);
        }
        assert_int_equal(period_parse(NULL, &p), -EINVAL);
        /* A failed parse leaves the output alone. */
        assert_period(&p, PERIOD_YEAR, 42, 43);
        assert_int_equal(period_parse("2024-02-29", &p), 0);
}

static void test_kind_strings(void **state)
{
        enum period_kind k = PERIOD_DAY;

        assert_string_equal(period_kind_to_string(PERIOD_QUARTER), "quarter");
        assert_int_equal(period_kind_from_string("week", &k), 0);
        assert_int_equal(k, PERIOD_WEEK);
        assert_int_equal(period_kind_from_string("Week", &k), -EINVAL);
        assert_int_equal(period_kind_from_string("", &k), -EINVAL);
        assert_int_equal(k, PERIOD_WEEK);
        assert_null(period_kind_to_string((enum period_kind)7));

        struct period p;
        assert_int_equal(period_containing((enum period_kind)7, 0, &p), -EINVAL);
}

static void test_keys(void **state)
{
        /* 2026-03-28T22:30Z is Sunday 2026-03-29 00:30 in Kyiv. */
        assert_int_equal(period_day_key(1774737000), 20260329);
        assert_int_equal(period_local_hour(1774737000), 0);
        assert_int_equal(period_iso_weekday(1774737000), 7);
        /* One hour earlier it is still Saturday the 28th, 23:30. */
        assert_int_equal(period_day_key(1774737000 - HOUR), 20260328);
        assert_int_equal(period_local_hour(1774737000 - HOUR), 23);
        assert_int_equal(period_iso_weekday(1774737000 - HOUR), 6);
        /* 2027-01-04 00:00 EET is a Monday. */
        assert_int_equal(period_iso_weekday(1799013600), 1);
}

static void test_zones(void **state)
{
        static const char *const bad[] = {
            "Nowhere/City",
            "../../../etc/passwd",
            "/usr/share/zoneinfo/UTC",
            "Europe/../UTC",
            "",
            "Europe",
            "zone.tab",
            "Europe/Kyiv/",
            "Europe/Kyiv\n",
        };
        struct period p;

        assert_string_equal(period_zone(), "Europe/Kyiv");
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (period_set_zone(bad[i]) != -ENOENT)
                        fail_msg("zone \"%s\" was accepted", bad[i]);
        assert_int_equal(period_set_zone(NULL), -ENOENT);
        assert_string_equal(period_zone(), "Europe/Kyiv");

        /* 2026-03-29 in New York (EDT since 8 March): 04:00Z .. next day 04:00Z. */
        assert_int_equal(period_set_zone("America/New_York"), 0);
        assert_string_equal(period_zone(), "America/New_York");
        assert_int_equal(period_parse("2026-03-29", &p), 0);
        assert_period(&p, PERIOD_DAY, 1774756800, 1774843200);
        /* New York springs forward on 2026-03-08: 05:00Z .. 2026-03-09T04:00Z, 23 hours. */
        assert_int_equal(period_parse("2026-03-08", &p), 0);
        assert_period(&p, PERIOD_DAY, 1772946000, 1773028800);
        /* 2026-03-28T22:30Z is Saturday 18:30 there. */
        assert_int_equal(period_day_key(1774737000), 20260328);
        assert_int_equal(period_local_hour(1774737000), 18);
        assert_int_equal(period_iso_weekday(1774737000), 6);

        /* Santiago skips midnight: 2026-09-06 starts at 01:00 -03 (04:00Z) and lasts 23 hours;
         * on 2026-04-04 it turns 24:00 -03 back to 23:00 -04, a 25-hour Saturday. */
        assert_int_equal(period_set_zone("America/Santiago"), 0);
        assert_int_equal(period_containing(PERIOD_DAY, 1788667200, &p), 0);
        assert_period(&p, PERIOD_DAY, 1788667200, 1788750000);
        assert_label(&p, "2026-09-06");
        assert_int_equal(period_previous(&p, &p), 0);
        assert_period(&p, PERIOD_DAY, 1788580800, 1788667200);
        assert_int_equal(period_parse("2026-04-04", &p), 0);
        assert_period(&p, PERIOD_DAY, 1775271600, 1775361600);

        /* In UTC every day is 24 hours. */
        assert_int_equal(period_set_zone("UTC"), 0);
        assert_int_equal(period_parse("2026-03-29", &p), 0);
        assert_period(&p, PERIOD_DAY, 1774742400, 1774828800);
        assert_int_equal(period_containing(PERIOD_YEAR, 0, &p), 0);
        assert_period(&p, PERIOD_YEAR, 0, 365 * DAY);

        assert_int_equal(period_set_zone("Europe/Kyiv"), 0);
        assert_int_equal(period_parse("2026-03-29", &p), 0);
        assert_period(&p, PERIOD_DAY, 1774735200, 1774818000);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_spring_forward_day_has_23_hours),
            cmocka_unit_test(test_fall_back_day_has_25_hours),
            cmocka_unit_test(test_week_month_quarter_year_across_dst),
            cmocka_unit_test(test_iso_week_53),
            cmocka_unit_test(test_previous),
            cmocka_unit_test(test_year_earlier),
            cmocka_unit_test(test_labels_round_trip),
            cmocka_unit_test(test_invalid_labels),
            cmocka_unit_test(test_kind_strings),
            cmocka_unit_test(test_keys),
            cmocka_unit_test(test_zones),
        };

        return cmocka_run_group_tests(tests, setup_kyiv, NULL);
}
