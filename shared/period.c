/* SPDX-License-Identifier: MIT */
/* Period arithmetic: calendar dates are counted in days with plain integer arithmetic, and only
 * the step between a local date and an instant goes through the C library's zone code (TZ set
 * once). A period always starts at the first instant of its first local day, so the periods of
 * one kind tile the time line even where a day has 23 or 25 hours. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "period.h"

#define ZONE_DIR "/usr/share/zoneinfo"
#define ZONE_DEFAULT "Europe/Kyiv"
#define ZONE_NAME_MAX 128
#define YEAR_MIN 1970
#define YEAR_MAX 9999
#define SECONDS_PER_DAY 86400

/* A proleptic Gregorian calendar date; month 1..12, day 1..31. */
struct date {
        int y, m, d;
};

/* The zone TZ is set to; written by period_set_zone() at start-up, before threads exist. */
static char zone_name[ZONE_NAME_MAX] = ZONE_DEFAULT;
static pthread_once_t zone_once = PTHREAD_ONCE_INIT;

static const char *const kind_names[] = {
    [PERIOD_DAY] = "day",         [PERIOD_WEEK] = "week", [PERIOD_MONTH] = "month",
    [PERIOD_QUARTER] = "quarter", [PERIOD_YEAR] = "year",
};

static void zone_apply_default(void)
{
        setenv("TZ", zone_name, 1);
        tzset();
}

static void zone_ensure(void)
{
        pthread_once(&zone_once, zone_apply_default);
}

/* True for a name that can only resolve inside the zone directory. */
static bool zone_name_valid(const char *zone)
{
        size_t len = strnlen(zone, ZONE_NAME_MAX);

        if (len == 0 || len >= ZONE_NAME_MAX || zone[0] == '/' || strstr(zone, ".."))
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = zone[i];

                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '/' || c == '_' || c == '-' || c == '+' || c == '.'))
                        return false;
        }
        return true;
}

/* Checks that the zone database holds a compiled zone (a regular file starting "TZif"). */
static int zone_file_check(const char *zone)
{
        char path[sizeof(ZONE_DIR) + ZONE_NAME_MAX];
        char magic[4];
        struct stat st;
        int fd, r;

        snprintf(path, sizeof(path), "%s/%s", ZONE_DIR, zone);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -ENOENT;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
            read(fd, magic, sizeof(magic)) != (ssize_t)sizeof(magic) ||
            memcmp(magic, "TZif", sizeof(magic)) != 0)
                r = -ENOENT;
        else
                r = 0;
        close(fd);
        return r;
}

int period_set_zone(const char *zone)
{
        int r;

        if (!zone || !zone_name_valid(zone))
                return -ENOENT;
        r = zone_file_check(zone);
        if (r < 0)
                return r;
        zone_ensure();
        if (setenv("TZ", zone, 1) < 0)
                return -errno;
        snprintf(zone_name, sizeof(zone_name), "%s", zone);
        tzset();
        return 0;
}

const char *period_zone(void)
{
        zone_ensure();
        return zone_name;
}

const char *period_kind_to_string(enum period_kind kind)
{
        if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
                return NULL;
        return kind_names[kind];
}

int period_kind_from_string(const char *s, enum period_kind *ret_kind)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
                if (strcmp(s, kind_names[i]) == 0) {
                        *ret_kind = (enum period_kind)i;
                        return 0;
                }
        return -EINVAL;
}

/* --- Calendar arithmetic, independent of any zone (H. Hinnant's civil-date algorithms). --- */

static bool is_leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01. */
static int64_t date_to_days(struct date dt)
{
        int64_t y = dt.y - (dt.m <= 2);
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (dt.m > 2 ? dt.m - 3 : dt.m + 9) + 2) / 5 + dt.d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return era * 146097 + doe - 719468;
}

static struct date days_to_date(int64_t z)
{
        int64_t era, doe, yoe, doy, mp;
        struct date dt;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        dt.d = (int)(doy - (153 * mp + 2) / 5 + 1);
        dt.m = (int)(mp < 10 ? mp + 3 : mp - 9);
        dt.y = (int)(yoe + era * 400 + (dt.m <= 2));
        return dt;
}

static struct date date_add_days(struct date dt, int64_t days)
{
        return days_to_date(date_to_days(dt) + days);
}

static int64_t date_key(struct date dt)
{
        return (int64_t)dt.y * 10000 + dt.m * 100 + dt.d;
}

/* 0 = Monday .. 6 = Sunday; 1970-01-01 was a Thursday. */
static int weekday_of_days(int64_t days)
{
        return (int)(((days + 3) % 7 + 7) % 7);
}

/* The ISO week-year and week number of a date. */
static void date_iso_week(struct date dt, int *ret_year, int *ret_week)
{
        int64_t days = date_to_days(dt);
        int64_t thursday = days - weekday_of_days(days) + 3;
        struct date th = days_to_date(thursday);

        *ret_year = th.y;
        *ret_week = (int)((thursday - date_to_days((struct date){th.y, 1, 1})) / 7 + 1);
}

static int iso_weeks_in_year(int y)
{
        int wy, w;

        /* December 28 always lies in the year's last week. */
        date_iso_week((struct date){y, 12, 28}, &wy, &w);
        return w;
}

/* The Monday of ISO week w of week-year y; January 4 always lies in week 1. */
static struct date iso_week_start(int y, int w)
{
        int64_t jan4 = date_to_days((struct date){y, 1, 4});

        return days_to_date(jan4 - weekday_of_days(jan4) + 7 * (int64_t)(w - 1));
}

/* The first day of the period of this kind that holds dt. */
static struct date period_first_day(enum period_kind kind, struct date dt)
{
        switch (kind) {
        case PERIOD_WEEK:
                return date_add_days(dt, -weekday_of_days(date_to_days(dt)));
        case PERIOD_MONTH:
                return (struct date){dt.y, dt.m, 1};
        case PERIOD_QUARTER:
                return (struct date){dt.y, (dt.m - 1) / 3 * 3 + 1, 1};
        case PERIOD_YEAR:
                return (struct date){dt.y, 1, 1};
        case PERIOD_DAY:
        default:
                return dt;
        }
}

/* The first day of the next period, given the first day of one. */
static struct date period_next_day(enum period_kind kind, struct date first)
{
        int months;

        switch (kind) {
        case PERIOD_WEEK:
                return date_add_days(first, 7);
        case PERIOD_MONTH:
                months = 1;
                break;
        case PERIOD_QUARTER:
                months = 3;
                break;
        case PERIOD_YEAR:
                return (struct date){first.y + 1, 1, 1};
        case PERIOD_DAY:
        default:
                return date_add_days(first, 1);
        }
        months += first.m - 1;
        return (struct date){first.y + months / 12, months % 12 + 1, 1};
}

/* The year that a period's label shows: the ISO week-year for a week. */
static int period_label_year(enum period_kind kind, struct date first)
{
        int wy, w;

        if (kind != PERIOD_WEEK)
                return first.y;
        date_iso_week(first, &wy, &w);
        return wy;
}

/* --- The step between local dates and instants, through the zone. --- */

static int local_tm(int64_t t, struct tm *ret)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if ((int64_t)tt != t)
                return -ERANGE;
        zone_ensure();
        if (!localtime_r(&tt, &tm))
                return -ERANGE;
        *ret = tm;
        return 0;
}

static int local_date(int64_t t, struct date *ret)
{
        struct tm tm;
        int r;

        r = local_tm(t, &tm);
        if (r < 0)
                return r;
        if (tm.tm_year > INT_MAX - 1900)
                return -ERANGE;
        *ret = (struct date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
        return 0;
}

/* The first instant whose local date is dt or later. Usually local midnight, which mktime()
 * finds; where midnight was skipped or repeated by a clock change, a search finds the edge. */
static int local_day_start(struct date dt, int64_t *ret)
{
        int64_t want = date_key(dt), lo, hi;
        struct tm tm = {
            .tm_year = dt.y - 1900,
            .tm_mon = dt.m - 1,
            .tm_mday = dt.d,
            .tm_isdst = -1,
        };
        struct date got;
        time_t t0;
        int r;

        zone_ensure();
        errno = 0;
        t0 = mktime(&tm);
        if (t0 == (time_t)-1 && errno != 0)
                return -ERANGE;

        r = local_tm(t0, &tm);
        if (r < 0)
                return r;
        if (tm.tm_year + 1900 == dt.y && tm.tm_mon + 1 == dt.m && tm.tm_mday == dt.d &&
            tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0) {
                r = local_date((int64_t)t0 - 1, &got);
                if (r < 0)
                        return r;
                if (date_key(got) < want) {
                        *ret = t0;
                        return 0;
                }
        }

        /* Binary search for the edge: before lo the date is earlier, from hi on it is dt or
         * later. No zone moves its clock by anywhere near two days. */
        lo = (int64_t)t0 - 2 * SECONDS_PER_DAY;
        hi = (int64_t)t0 + 2 * SECONDS_PER_DAY;
        r = local_date(lo, &got);
        if (r < 0)
                return r;
        if (date_key(got) >= want)
                return -ERANGE;
        r = local_date(hi, &got);
        if (r < 0)
                return r;
        if (date_key(got) < want)
                return -ERANGE;
        while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;

                r = local_date(mid, &got);
                if (r < 0)
                        return r;
                if (date_key(got) >= want)
                        hi = mid;
                else
                        lo = mid;
        }
        *ret = hi;
        return 0;
}

/* Builds the period [first, next) of a kind, refusing labels outside years 1970..9999. */
static int period_make(enum period_kind kind, struct date first, struct date next,
                       struct period *ret)
{
        struct period p = {.kind = kind};
        int y = period_label_year(kind, first);
        int r;

        if (y < YEAR_MIN || y > YEAR_MAX)
                return -ERANGE;
        if (kind == PERIOD_DAY) {
                struct date last = date_add_days(next, -1);

                if (last.y < YEAR_MIN || last.y > YEAR_MAX)
                        return -ERANGE;
        }
        r = local_day_start(first, &p.start);
        if (r < 0)
                return r;
        r = local_day_start(next, &p.end);
        if (r < 0)
                return r;
        *ret = p;
        return 0;
}

/* Recovers the first days of p and of the period after it; -EINVAL unless p is a period that
 * period_containing() or period_parse() could have produced. */
static int period_decode(const struct period *p, struct date *ret_first, struct date *ret_next)
{
        struct date first, next;
        struct period canon;
        int r;

        if (!p || (unsigned)p->kind >= sizeof(kind_names) / sizeof(kind_names[0]) ||
            p->start >= p->end)
                return -EINVAL;
        r = local_date(p->start, &first);
        if (r < 0)
                return -EINVAL;
        if (p->kind == PERIOD_DAY) {
                r = local_date(p->end, &next);
                if (r < 0)
                        return -EINVAL;
        } else {
                if (date_key(period_first_day(p->kind, first)) != date_key(first))
                        return -EINVAL;
                next = period_next_day(p->kind, first);
        }
        r = period_make(p->kind, first, next, &canon);
        if (r < 0)
                return r == -ERANGE ? -ERANGE : -EINVAL;
        if (canon.start != p->start || canon.end != p->end)
                return -EINVAL;
        *ret_first = first;
        *ret_next = next;
        return 0;
}

int period_containing(enum period_kind kind, int64_t t, struct period *ret)
{
        struct date dt, first;
        int r;

        if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
                return -EINVAL;
        r = local_date(t, &dt);
        if (r < 0)
                return r;
        if (dt.y < YEAR_MIN - 1 || dt.y > YEAR_MAX + 1)
                return -ERANGE;
        first = period_first_day(kind, dt);
        return period_make(kind, first, period_next_day(kind, first), ret);
}

int period_previous(const struct period *p, struct period *ret)
{
        struct date first, next, prev;
        int r;

        r = period_decode(p, &first, &next);
        if (r < 0)
                return r;
        if (p->kind == PERIOD_DAY)
                /* A range of days: as many days just before it. */
                prev = date_add_days(first, date_to_days(first) - date_to_days(next));
        else
                prev = period_first_day(p->kind, date_add_days(first, -1));
        return period_make(p->kind, prev, first, ret);
}

/* The same calendar date a year earlier; February 29 becomes February 28. */
static struct date date_year_earlier(struct date dt)
{
        struct date e = {dt.y - 1, dt.m, dt.d};

        if (e.d > days_in_month(e.y, e.m))
                e.d = days_in_month(e.y, e.m);
        return e;
}

int period_year_earlier(const struct period *p, struct period *ret)
{
        struct date first, next, efirst, elast;
        int r, wy, w;

        r = period_decode(p, &first, &next);
        if (r < 0)
                return r;
        switch (p->kind) {
        case PERIOD_DAY:
                efirst = date_year_earlier(first);
                elast = date_year_earlier(date_add_days(next, -1));
                return period_make(PERIOD_DAY, efirst, date_add_days(elast, 1), ret);
        case PERIOD_WEEK:
                date_iso_week(first, &wy, &w);
                if (wy - 1 < YEAR_MIN)
                        return -ERANGE;
                if (w > iso_weeks_in_year(wy - 1))
                        w = iso_weeks_in_year(wy - 1);
                efirst = iso_week_start(wy - 1, w);
                break;
        default:
                efirst = (struct date){first.y - 1, first.m, 1};
                break;
        }
        return period_make(p->kind, efirst, period_next_day(p->kind, efirst), ret);
}

int period_label(const struct period *p, char *buf, size_t n)
{
        struct date first, next, last;
        int r, len, wy, w;

        if (!buf)
                return -EINVAL;
        r = period_decode(p, &first, &next);
        if (r < 0)
                return r;
        switch (p->kind) {
        case PERIOD_DAY:
                last = date_add_days(next, -1);
                if (date_key(last) == date_key(first))
                        len = snprintf(buf, n, "%04d-%02d-%02d", first.y, first.m, first.d);
                else
                        len = snprintf(buf, n, "%04d-%02d-%02d..%04d-%02d-%02d", first.y, first.m,
                                       first.d, last.y, last.m, last.d);
                break;
        case PERIOD_WEEK:
                date_iso_week(first, &wy, &w);
                len = snprintf(buf, n, "%04d-W%02d", wy, w);
                break;
        case PERIOD_MONTH:
                len = snprintf(buf, n, "%04d-%02d", first.y, first.m);
                break;
        case PERIOD_QUARTER:
                len = snprintf(buf, n, "%04d-Q%d", first.y, (first.m - 1) / 3 + 1);
                break;
        case PERIOD_YEAR:
        default:
                len = snprintf(buf, n, "%04d", first.y);
                break;
        }
        if (len < 0 || (size_t)len >= n)
                return -ENOBUFS;
        return 0;
}

/* Exactly n ASCII digits. */
static bool parse_digits(const char *s, size_t n, int *ret)
{
        int v = 0;

        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

static bool parse_year(const char *s, int *ret)
{
        int y;

        if (!parse_digits(s, 4, &y) || y < YEAR_MIN || y > YEAR_MAX)
                return false;
        *ret = y;
        return true;
}

/* "YYYY-MM-DD", a real date. */
static bool parse_date(const char *s, struct date *ret)
{
        struct date dt;

        if (!parse_year(s, &dt.y) || s[4] != '-' || !parse_digits(s + 5, 2, &dt.m) || s[7] != '-' ||
            !parse_digits(s + 8, 2, &dt.d))
                return false;
        if (dt.m < 1 || dt.m > 12 || dt.d < 1 || dt.d > days_in_month(dt.y, dt.m))
                return false;
        *ret = dt;
        return true;
}

int period_parse(const char *label, struct period *ret)
{
        enum period_kind kind;
        struct date first, next, last;
        size_t len;
        int y, v, r;

        if (!label)
                return -EINVAL;
        len = strnlen(label, 32);
        switch (len) {
        case 4: /* YYYY */
                if (!parse_year(label, &y))
                        return -EINVAL;
                kind = PERIOD_YEAR;
                first = (struct date){y, 1, 1};
                break;
        case 7: /* YYYY-MM or YYYY-Qn */
                if (!parse_year(label, &y) || label[4] != '-')
                        return -EINVAL;
                if (label[5] == 'Q') {
                        if (!parse_digits(label + 6, 1, &v) || v < 1 || v > 4)
                                return -EINVAL;
                        kind = PERIOD_QUARTER;
                        first = (struct date){y, (v - 1) * 3 + 1, 1};
                } else {
                        if (!parse_digits(label + 5, 2, &v) || v < 1 || v > 12)
                                return -EINVAL;
                        kind = PERIOD_MONTH;
                        first = (struct date){y, v, 1};
                }
                break;
        case 8: /* YYYY-Www */
                if (!parse_year(label, &y) || label[4] != '-' || label[5] != 'W' ||
                    !parse_digits(label + 6, 2, &v) || v < 1 || v > iso_weeks_in_year(y))
                        return -EINVAL;
                kind = PERIOD_WEEK;
                first = iso_week_start(y, v);
                break;
        case 10: /* YYYY-MM-DD */
                if (!parse_date(label, &first))
                        return -EINVAL;
                kind = PERIOD_DAY;
                break;
        case 22: /* YYYY-MM-DD..YYYY-MM-DD, both days included */
                if (!parse_date(label, &first) || label[10] != '.' || label[11] != '.' ||
                    !parse_date(label + 12, &last) || date_key(last) < date_key(first))
                        return -EINVAL;
                r = period_make(PERIOD_DAY, first, date_add_days(last, 1), ret);
                return r < 0 ? -EINVAL : 0;
        default:
                return -EINVAL;
        }
        next = period_next_day(kind, first);
        r = period_make(kind, first, next, ret);
        return r < 0 ? -EINVAL : 0;
}

int32_t period_day_key(int64_t t)
{
        struct date dt;
        int r;

        r = local_date(t, &dt);
        if (r < 0)
                return r;
        if (dt.y < 0 || dt.y > YEAR_MAX)
                return -ERANGE;
        return (int32_t)date_key(dt);
}

int period_local_hour(int64_t t)
{
        struct tm tm;
        int r;

        r = local_tm(t, &tm);
        if (r < 0)
                return r;
        return tm.tm_hour;
}

int period_iso_weekday(int64_t t)
{
        struct tm tm;
        int r;

        r = local_tm(t, &tm);
        if (r < 0)
                return r;
        return tm.tm_wday == 0 ? 7 : tm.tm_wday;
}
