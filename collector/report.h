/* SPDX-License-Identifier: MIT */
/* Report figures over the store's cuts (issue 6): shares, the index with its confidence
 * interval, comparisons with the period before and the same period a year earlier, unit
 * subtree sums (regulation 2.7) and fair rankings. No I/O but the store's ops.
 *
 * The index is 50 x (Good + 2 x Exemplary) / total, from 0 to 100: the mean of a vote's score
 * when «Задовільно» scores 0, «Добре» 50 and «Зразково» 100. Its 95 % confidence interval is
 * the Wilson score interval for that mean over the n counted votes, p = index / 100: a score in
 * [0, 1] with mean p has a variance of at most p(1 - p), so the interval is the Wilson interval
 * of a proportion, conservative for three levels. It stays inside 0..100, is wide for a few
 * votes and never collapses to a point at 0 or 100 — which is what lets rankings order by its
 * lower bound fairly to units and employees with few votes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "period.h"
#include "store.h"

#define REPORT_Z95 1.959963984540054

struct report_fig {
        struct store_counts n;
        double share[4];     /* [1..3] each level's share of the counted votes, 0..1 */
        double index;        /* 0..100; 0 when there is no counted vote */
        double lo, hi;       /* the 95 % confidence interval of the index; 0, 100 without votes */
        int64_t not_counted; /* suppressed + flagged + excluded */
};

void report_counts_add(struct store_counts *a, const struct store_counts *b);
void report_fig_make(const struct store_counts *n, struct report_fig *ret);

/* The local days of p into q->from_day / q->to_day. */
int report_cut_period(const struct period *p, struct store_cut *q);

/* A period with the one before and the same one a year earlier, and their labels. */
enum { REPORT_CUR, REPORT_PREV, REPORT_YEAR };
struct report_periods {
        struct period p[3];
        char label[3][PERIOD_LABEL_MAX];
};
/* From a label ("2026-11", "2026-W48", "2026-11-01..2026-11-28", ...), or when label is NULL
 * or "" the month that holds now_s. -EINVAL for a label period_parse() refuses. */
int report_periods_make(const char *label, int64_t now_s, enum period_kind dflt,
                        struct report_periods *ret);

/* The total of q over each of the three periods (q's own days are ignored). */
int report_totals3(struct store *s, const struct store_cut *q, const struct report_periods *ps,
                   struct store_counts ret[3]);

/* One unit of a subtree with its own votes and its whole subtree's. */
struct report_unit {
        const struct store_named *unit; /* in the org it came from */
        int depth;                      /* 0 for the subtree's root */
        ssize_t parent;                 /* index in the array, -1 for the root */
        struct store_counts own, sum;
};
/* The units of root's subtree (0 = the whole city: every root) in tree order, with q's counts
 * (q->unit_id and q->by are set here). *ret is malloc'd. */
int report_units(struct store *s, const struct store_report_org *org, int64_t root,
                 const struct store_cut *q, struct report_unit **ret, size_t *ret_n);

/* Lookups in an org by id; NULL when unknown. */
const struct store_named *report_find(const struct store_named *v, size_t n, int64_t id);
/* True when unit is root or below it (root 0: always). */
bool report_in_subtree(const struct store_report_org *org, int64_t root, int64_t unit);

/* A ranked entry: what report_rank() orders. */
struct report_ranked {
        int64_t id;
        struct report_fig fig;
        bool ranked; /* it had at least the minimum count */
};
/* Orders v: those with at least min_count counted votes by the lower bound of the interval
 * (then the index, then the count), highest first; the rest after them, marked unranked. */
void report_rank(struct report_ranked *v, size_t n, int64_t min_count);
