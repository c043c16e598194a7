/* SPDX-License-Identifier: MIT */
/* Report figures: see report.h for the index and its interval. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void report_counts_add(struct store_counts *a, const struct store_counts *b)
{
        for (int l = 0; l < 4; l++)
                a->level[l] += b->level[l];
        a->suppressed += b->suppressed;
        a->flagged += b->flagged;
        a->excluded += b->excluded;
}

void report_fig_make(const struct store_counts *n, struct report_fig *ret)
{
        double total = (double)n->level[0], z2 = REPORT_Z95 * REPORT_Z95, p, den, mid, half;

        memset(ret, 0, sizeof(*ret));
        ret->n = *n;
        ret->not_counted = n->suppressed + n->flagged + n->excluded;
        ret->hi = 100.0;
        if (n->level[0] <= 0)
                return;
        for (int l = 1; l <= 3; l++)
                ret->share[l] = (double)n->level[l] / total;
        p = ((double)n->level[2] + 2.0 * (double)n->level[3]) / (2.0 * total);
        ret->index = 100.0 * p;
        /* Wilson: (p + z²/2n ± z √(p(1-p)/n + z²/4n²)) / (1 + z²/n) */
        den = 1.0 + z2 / total;
        mid = (p + z2 / (2.0 * total)) / den;
        half = REPORT_Z95 * sqrt(p * (1.0 - p) / total + z2 / (4.0 * total * total)) / den;
        ret->lo = 100.0 * fmax(0.0, mid - half);
        ret->hi = 100.0 * fmin(1.0, mid + half);
}

int report_cut_period(const struct period *p, struct store_cut *q)
{
        int32_t from = period_day_key(p->start), to = period_day_key(p->end);

        if (from < 0 || to < 0)
                return -ERANGE;
        q->from_day = from;
        q->to_day = to;
        return 0;
}

int report_periods_make(const char *label, int64_t now_s, enum period_kind dflt,
                        struct report_periods *ret)
{
        struct report_periods ps;
        int r;

        memset(&ps, 0, sizeof(ps));
        if (label && *label)
                r = period_parse(label, &ps.p[REPORT_CUR]);
        else
                r = period_containing(dflt, now_s, &ps.p[REPORT_CUR]);
        if (r < 0)
                return -EINVAL;
        r = period_previous(&ps.p[REPORT_CUR], &ps.p[REPORT_PREV]);
        if (r >= 0)
                r = period_year_earlier(&ps.p[REPORT_CUR], &ps.p[REPORT_YEAR]);
        for (int i = 0; r >= 0 && i < 3; i++)
                r = period_label(&ps.p[i], ps.label[i], sizeof(ps.label[i]));
        if (r < 0)
                return -EINVAL;
        *ret = ps;
        return 0;
}

int report_totals3(struct store *s, const struct store_cut *q, const struct report_periods *ps,
                   struct store_counts ret[3])
{
        for (int i = 0; i < 3; i++) {
                struct store_cut c = *q;
                struct store_cut_row *rows = NULL;
                size_t n = 0;
                int r;

                c.by = STORE_BY_TOTAL;
                memset(&ret[i], 0, sizeof(ret[i]));
                r = report_cut_period(&ps->p[i], &c);
                if (r >= 0)
                        r = s->ops->report_cut(s, &c, &rows, &n);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < n; k++)
                        report_counts_add(&ret[i], &rows[k].n);
                free(rows);
        }
        return 0;
}

const struct store_named *report_find(const struct store_named *v, size_t n, int64_t id)
{
        /* the store lists employees, directions and workplaces by id; units in tree order */
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (v[mid].id == id)
                        return &v[mid];
                if (v[mid].id < id)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (size_t i = 0; i < n; i++)
                if (v[i].id == id)
                        return &v[i];
        return NULL;
}

bool report_in_subtree(const struct store_report_org *org, int64_t root, int64_t unit)
{
        if (root == 0)
                return true;
        for (size_t hops = 0; unit && hops <= org->n_units; hops++) {
                const struct store_named *u;

                if (root == 0 || unit == root)
                        return true;
                u = report_find(org->units, org->n_units, unit);
                if (!u)
                        return false;
                unit = u->parent;
        }
        return false;
}

int report_units(struct store *s, const struct store_report_org *org, int64_t root,
                 const struct store_cut *q, struct report_unit **ret, size_t *ret_n)
{
        struct store_cut c = *q;
        struct store_cut_row *rows = NULL;
        struct report_unit *v;
        size_t n = 0, nrows = 0;
        int r;

        v = calloc(org->n_units ? org->n_units : 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        /* units come parents first, so a unit's parent is placed before it */
        for (size_t i = 0; i < org->n_units; i++) {
                const struct store_named *u = &org->units[i];
                ssize_t parent = -1;

                if (root ? u->id != root : u->parent != 0) {
                        for (size_t k = n; k-- > 0;)
                                if (v[k].unit->id == u->parent) {
                                        parent = (ssize_t)k;
                                        break;
                                }
                        if (parent < 0)
                                continue; /* outside the subtree */
                }
                v[n].unit = u;
                v[n].parent = parent;
                v[n].depth = parent < 0 ? 0 : v[parent].depth + 1;
                n++;
        }
        c.unit_id = root;
        c.by = STORE_BY_UNIT;
        r = s->ops->report_cut(s, &c, &rows, &nrows);
        if (r < 0) {
                free(v);
                return r;
        }
        for (size_t k = 0; k < nrows; k++)
                for (size_t i = 0; i < n; i++)
                        if (v[i].unit->id == rows[k].key) {
                                v[i].own = rows[k].n;
                                break;
                        }
        free(rows);
        for (size_t i = 0; i < n; i++)
                v[i].sum = v[i].own;
        for (size_t i = n; i-- > 0;)
                if (v[i].parent >= 0)
                        report_counts_add(&v[v[i].parent].sum, &v[i].sum);
        *ret = v;
        *ret_n = n;
        return 0;
}

static int rank_cmp(const void *a, const void *b)
{
        const struct report_ranked *x = a, *y = b;

        if (x->ranked != y->ranked)
                return x->ranked ? -1 : 1;
        if (x->fig.lo != y->fig.lo)
                return x->fig.lo > y->fig.lo ? -1 : 1;
        if (x->fig.index != y->fig.index)
                return x->fig.index > y->fig.index ? -1 : 1;
        if (x->fig.n.level[0] != y->fig.n.level[0])
                return x->fig.n.level[0] > y->fig.n.level[0] ? -1 : 1;
        return x->id < y->id ? -1 : x->id > y->id;
}

void report_rank(struct report_ranked *v, size_t n, int64_t min_count)
{
        for (size_t i = 0; i < n; i++)
                v[i].ranked = v[i].fig.n.level[0] >= min_count && v[i].fig.n.level[0] > 0;
        qsort(v, n, sizeof(*v), rank_cmp);
}

void store_report_org_finish(struct store_report_org *org)
{
        if (!org)
                return;
        free(org->units);
        free(org->employees);
        free(org->directions);
        free(org->workplaces);
        memset(org, 0, sizeof(*org));
}
