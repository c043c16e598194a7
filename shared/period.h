/* SPDX-License-Identifier: MIT */
/* Period arithmetic in the city's IANA time zone (Europe/Kyiv by default, daylight saving
 * included): the day, ISO week, month, quarter and year that contain an instant, their
 * labels ("2026-11-28", "2026-W48", "2026-11", "2026-Q4", "2026") and the periods before.
 * Instants are Unix seconds; a period is the half-open range [start, end). */
#pragma once

#include <stdint.h>
#include <stddef.h>

enum period_kind {
        PERIOD_DAY,
        PERIOD_WEEK, /* ISO 8601: Monday to Sunday; week 1 holds the year's first Thursday */
        PERIOD_MONTH,
        PERIOD_QUARTER,
        PERIOD_YEAR,
};

struct period {
        enum period_kind kind;
        int64_t start; /* first second, inclusive */
        int64_t end;   /* first second of the next period, exclusive */
};

/* Selects the zone for the whole process (it sets TZ). Returns -ENOENT when the zone is not
 * in the system's zone database. */
int period_set_zone(const char *zone);
const char *period_zone(void);

const char *period_kind_to_string(enum period_kind kind); /* "day", "week", ... */
int period_kind_from_string(const char *s, enum period_kind *ret_kind);

/* The period of the given kind that contains instant t. */
int period_containing(enum period_kind kind, int64_t t, struct period *ret);
/* The period just before p, and the same period a year earlier. A year earlier, ISO week W is
 * week W of the previous week-year (week 52 if that has no week 53), a day is the same date
 * (29 February becomes the 28th); a range of days "before" is as many days just before it.
 * -ERANGE when the result would fall outside the years 1970..9999. */
int period_previous(const struct period *p, struct period *ret);
int period_year_earlier(const struct period *p, struct period *ret);

/* Its label, as above; needs at least 16 bytes, or PERIOD_LABEL_MAX for a range of days.
 * -ENOBUFS when buf is too small, -EINVAL when p is not a period these functions made. */
#define PERIOD_LABEL_MAX 24
int period_label(const struct period *p, char *buf, size_t n);
/* The inverse of period_label(); also accepts "YYYY-MM-DD..YYYY-MM-DD" (an inclusive range
 * of days, kind PERIOD_DAY with start and end spanning it). -EINVAL for anything else. */
int period_parse(const char *label, struct period *ret);

/* The local calendar day of t as YYYYMMDD, and the local hour (0..23) and ISO weekday
 * (1 = Monday .. 7 = Sunday): the keys that pre-aggregated counts are kept by. Each returns
 * -ERANGE for an instant the C library cannot convert. */
int32_t period_day_key(int64_t t);
int period_local_hour(int64_t t);
int period_iso_weekday(int64_t t);
