/* SPDX-License-Identifier: MIT */
/* The monthly report's content and its CSV tables (reportdoc.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "reportdoc.h"

#define FLAGGED_MAX 5000

static int name_cmp(const void *a, const void *b)
{
        const struct report_monthly_row *x = a, *y = b;
        int d = strcmp(x->name, y->name);

        return d ? d : strcmp(x->unit, y->unit);
}

/* The employees' rows: their votes cast in the subtree in the month, and the month before, a row
 * per unit the votes were cast in (votes.unit_id): an employee who moved has one in each. */
static int employee_rows(struct store *s, const struct store_report_org *org,
                         const struct store_cut *base, const struct report_periods *ps,
                         struct report_monthly *m)
{
        struct store_cut_row *rows[2] = {NULL, NULL};
        size_t n[2] = {0, 0};
        int r = 0;

        for (int i = 0; i < 2 && r >= 0; i++) {
                struct store_cut q = *base;

                q.by = STORE_BY_EMPLOYEE_UNIT;
                r = report_cut_period(&ps->p[i == 0 ? REPORT_CUR : REPORT_PREV], &q);
                if (r >= 0)
                        r = s->ops->report_cut(s, &q, &rows[i], &n[i]);
        }
        if (r < 0)
                goto out;
        m->emps = calloc(n[0] + n[1] + 1, sizeof(*m->emps));
        if (!m->emps) {
                r = -ENOMEM;
                goto out;
        }
        /* everyone with a vote this month; last month's figure beside it */
        for (size_t i = 0; i < n[0]; i++) {
                struct report_monthly_row *row = &m->emps[m->n_emps++];
                const struct store_named *e =
                    report_find(org->employees, org->n_employees, rows[0][i].key);
                const struct store_named *u =
                    report_find(org->units, org->n_units, rows[0][i].key2);

                snprintf(row->name, sizeof(row->name), "%s", e ? e->name : "?");
                snprintf(row->position, sizeof(row->position), "%s", e ? e->position : "");
                snprintf(row->unit, sizeof(row->unit), "%s", u ? u->name : "");
                report_fig_make(&rows[0][i].n, &row->cur);
                report_fig_make(&(struct store_counts){{0}, 0, 0, 0}, &row->prev);
                for (size_t k = 0; k < n[1]; k++)
                        if (rows[1][k].key == rows[0][i].key && rows[1][k].key2 == rows[0][i].key2)
                                report_fig_make(&rows[1][k].n, &row->prev);
        }
        qsort(m->emps, m->n_emps, sizeof(*m->emps), name_cmp);
out:
        free(rows[0]);
        free(rows[1]);
        return r;
}

int report_monthly_build(struct store *s, int64_t unit_id, const char *month, int64_t now_s,
                         struct report_monthly *ret)
{
        struct report_monthly m;
        struct store_report_org org = {0};
        struct report_periods ps;
        struct store_cut q;
        struct store_counts tot[3];
        struct report_unit *units = NULL;
        size_t n_units = 0, n_flagged = 0;
        struct store_flagged *flagged = NULL;
        int r;

        memset(&m, 0, sizeof(m));
        memset(&q, 0, sizeof(q));
        m.made_at = now_s;
        if (month && *month) {
                struct period p;

                if (period_parse(month, &p) < 0 || p.kind != PERIOD_MONTH)
                        return -EINVAL;
                r = report_periods_make(month, now_s, PERIOD_MONTH, &ps);
        } else {
                struct period p;

                r = period_containing(PERIOD_MONTH, now_s, &p);
                if (r >= 0)
                        r = period_previous(&p, &p);
                if (r >= 0)
                        r = period_label(&p, m.label, sizeof(m.label));
                if (r >= 0)
                        r = report_periods_make(m.label, now_s, PERIOD_MONTH, &ps);
        }
        if (r < 0)
                return -EINVAL;
        snprintf(m.label, sizeof(m.label), "%s", ps.label[REPORT_CUR]);
        snprintf(m.prev_label, sizeof(m.prev_label), "%s", ps.label[REPORT_PREV]);
        r = s->ops->report_org(s, &org);
        if (r < 0)
                return r;
        m.unit_id = unit_id;
        if (unit_id) {
                const struct store_named *u = report_find(org.units, org.n_units, unit_id);

                if (!u) {
                        r = -ENOENT;
                        goto out;
                }
                snprintf(m.unit_name, sizeof(m.unit_name), "%s", u->name);
        }
        q.unit_id = unit_id;
        r = report_totals3(s, &q, &ps, tot);
        if (r < 0)
                goto out;
        report_fig_make(&tot[REPORT_CUR], &m.total);
        report_fig_make(&tot[REPORT_PREV], &m.total_prev);
        r = employee_rows(s, &org, &q, &ps, &m);
        if (r < 0)
                goto out;
        /* the units just below, this month and the month before */
        for (int i = 0; i < 2; i++) {
                struct store_cut c = q;
                size_t k = 0;

                r = report_cut_period(&ps.p[i == 0 ? REPORT_CUR : REPORT_PREV], &c);
                if (r >= 0)
                        r = report_units(s, &org, unit_id, &c, &units, &n_units);
                if (r < 0)
                        goto out;
                if (i == 0) {
                        m.units = calloc(n_units + 1, sizeof(*m.units));
                        if (!m.units) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
                for (size_t j = 0; j < n_units; j++) {
                        if (units[j].depth != (unit_id ? 1 : 0))
                                continue;
                        if (i == 0) {
                                snprintf(m.units[k].name, sizeof(m.units[k].name), "%s",
                                         units[j].unit->name);
                                report_fig_make(&units[j].sum, &m.units[k].cur);
                                m.n_units = ++k;
                        } else if (k < m.n_units)
                                report_fig_make(&units[j].sum, &m.units[k++].prev);
                }
                free(units);
                units = NULL;
        }
        /* the flagged votes cast in the month */
        r = s->ops->flagged_list(s, unit_id, FLAGGED_MAX, &flagged, &n_flagged);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < n_flagged; i++)
                if (flagged[i].cast_at_ms >= ps.p[REPORT_CUR].start * 1000 &&
                    flagged[i].cast_at_ms < ps.p[REPORT_CUR].end * 1000)
                        flagged[m.n_flagged++] = flagged[i];
        m.flagged = flagged;
        flagged = NULL;
        *ret = m;
        memset(&m, 0, sizeof(m));
        r = 0;
out:
        free(units);
        free(flagged);
        report_monthly_finish(&m);
        store_report_org_finish(&org);
        return r;
}

void report_monthly_finish(struct report_monthly *m)
{
        if (!m)
                return;
        free(m->emps);
        free(m->units);
        free(m->flagged);
        memset(m, 0, sizeof(*m));
}

int report_table_from_string(const char *s, enum report_table *ret)
{
        static const char *const names[] = {"totals", "employees", "units", "flagged"};

        for (int i = 0; s && i < 4; i++)
                if (strcmp(s, names[i]) == 0) {
                        *ret = (enum report_table)i;
                        return 0;
                }
        return -EINVAL;
}

void report_change_text(const struct report_fig *cur, const struct report_fig *prev, char *buf,
                        size_t n)
{
        if (!cur->n.level[0] || !prev->n.level[0])
                snprintf(buf, n, "—");
        else
                snprintf(buf, n, "%+.1f", cur->index - prev->index);
}

/* Numbers go in as they are: csv_write_field() would guard a leading '-' or '+' against
 * spreadsheet formulas with a quote, and a number is no formula. */
static void field_num(struct buf *b, const char *s, bool last)
{
        buf_adds(b, s);
        buf_adds(b, last ? "\r\n" : ",");
}

static void field_i(struct buf *b, int64_t v, bool last)
{
        char s[32];

        snprintf(s, sizeof(s), "%" PRId64, v);
        field_num(b, s, last);
}

static void field_f(struct buf *b, double v, bool have, bool last)
{
        char s[32];

        if (have)
                snprintf(s, sizeof(s), "%.1f", v);
        else
                s[0] = 0;
        field_num(b, s, last);
}

static const char *tx(const struct i18n *t, const char *key)
{
        const char *s = t ? i18n_get(t, key) : NULL;

        return s ? s : key;
}

/* The figure columns every table shares. */
static void fig_header(struct buf *b, const struct i18n *t, bool last)
{
        csv_write_field(b, tx(t, "level.1"), false);
        csv_write_field(b, tx(t, "level.2"), false);
        csv_write_field(b, tx(t, "level.3"), false);
        csv_write_field(b, tx(t, "report.total"), false);
        csv_write_field(b, tx(t, "report.index"), false);
        csv_write_field(b, tx(t, "report.ci_low"), false);
        csv_write_field(b, tx(t, "report.ci_high"), false);
        csv_write_field(b, tx(t, "report.not_counted"), false);
        csv_write_field(b, tx(t, "report.index_prev"), false);
        csv_write_field(b, tx(t, "report.change"), last);
}

static void fig_fields(struct buf *b, const struct report_fig *f, const struct report_fig *prev,
                       bool last)
{
        char change[16];
        bool have = f->n.level[0] > 0;

        for (int l = 1; l <= 3; l++)
                field_i(b, f->n.level[l], false);
        field_i(b, f->n.level[0], false);
        field_f(b, f->index, have, false);
        field_f(b, f->lo, have, false);
        field_f(b, f->hi, have, false);
        field_i(b, f->not_counted, false);
        field_f(b, prev->index, prev->n.level[0] > 0, false);
        report_change_text(f, prev, change, sizeof(change));
        field_num(b, strcmp(change, "—") ? change : "", last);
}

int report_monthly_csv(const struct report_monthly *m, enum report_table table,
                       const struct i18n *t, struct buf *b)
{
        switch (table) {
        case REPORT_TABLE_TOTALS:
                csv_write_field(b, tx(t, "report.unit"), false);
                csv_write_field(b, tx(t, "report.month"), false);
                fig_header(b, t, true);
                csv_write_field(b, m->unit_id ? m->unit_name : tx(t, "report.city"), false);
                csv_write_field(b, m->label, false);
                fig_fields(b, &m->total, &m->total_prev, true);
                break;
        case REPORT_TABLE_EMPLOYEES:
                csv_write_field(b, tx(t, "report.employee"), false);
                csv_write_field(b, tx(t, "report.position"), false);
                csv_write_field(b, tx(t, "report.unit"), false);
                fig_header(b, t, true);
                for (size_t i = 0; i < m->n_emps; i++) {
                        csv_write_field(b, m->emps[i].name, false);
                        csv_write_field(b, m->emps[i].position, false);
                        csv_write_field(b, m->emps[i].unit, false);
                        fig_fields(b, &m->emps[i].cur, &m->emps[i].prev, true);
                }
                break;
        case REPORT_TABLE_UNITS:
                csv_write_field(b, tx(t, "report.unit"), false);
                fig_header(b, t, true);
                for (size_t i = 0; i < m->n_units; i++) {
                        csv_write_field(b, m->units[i].name, false);
                        fig_fields(b, &m->units[i].cur, &m->units[i].prev, true);
                }
                break;
        case REPORT_TABLE_FLAGGED:
                csv_write_field(b, tx(t, "report.cast_at"), false);
                csv_write_field(b, tx(t, "report.level"), false);
                csv_write_field(b, tx(t, "report.employee"), false);
                csv_write_field(b, tx(t, "report.unit"), false);
                csv_write_field(b, tx(t, "report.channel"), false);
                csv_write_field(b, tx(t, "report.flag"), false);
                csv_write_field(b, tx(t, "report.review"), false);
                csv_write_field(b, tx(t, "report.id"), true);
                for (size_t i = 0; i < m->n_flagged; i++) {
                        const struct store_flagged *f = &m->flagged[i];
                        char when[32];
                        time_t tt = (time_t)(f->cast_at_ms / 1000);
                        struct tm tm;

                        localtime_r(&tt, &tm);
                        strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
                        csv_write_field(b, when, false);
                        field_i(b, f->level, false);
                        csv_write_field(b, f->employee, false);
                        csv_write_field(b, f->unit, false);
                        csv_write_field(b, f->channel, false);
                        csv_write_field(b, f->flag, false);
                        csv_write_field(b, f->review, false);
                        csv_write_field(b, f->uuid, true);
                }
                break;
        }
        return b->error;
}
