/* SPDX-License-Identifier: MIT */
/* The SQLite back end's report ops: cuts read the pre-aggregated counts of migrations 5 and 7
 * (store_sqlite_report.h) and add the few votes not folded in yet, never writing. A range
 * of days is split into whole months, read from the monthly tables, and the days left at either
 * end, read from the daily ones; each table's key starts with the period, so a period list is a
 * handful of index seeks. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "store_sqlite.h"
#include "store_sqlite_report.h"

#define CUT_DAYS_MAX (100 * 366) /* the longest range a cut takes */
#define CUT_SQL_MAX (512 * 1024) /* the longest statement a cut builds */

static bool leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

        return m == 2 && leap(y) ? 29 : days[m - 1];
}

static bool day_valid(int32_t k)
{
        int y = k / 10000, m = k / 100 % 100, d = k % 100;

        return y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= month_days(y, m);
}

static int32_t day_next(int32_t k)
{
        int y = k / 10000, m = k / 100 % 100, d = k % 100;

        if (d < month_days(y, m))
                return k + 1;
        if (m < 12)
                return y * 10000 + (m + 1) * 100 + 1;
        return (y + 1) * 10000 + 101;
}

static int32_t month_next_first(int32_t k)
{
        int y = k / 10000, m = k / 100 % 100;

        return m < 12 ? y * 10000 + (m + 1) * 100 + 1 : (y + 1) * 10000 + 101;
}

/* Splits [from, to) into the months it covers whole ("m IN (...)") and the days left
 * ("d IN (...)"); either list may stay empty. */
static int split_range(int32_t from, int32_t to, bool days_only, struct buf *months,
                       struct buf *days)
{
        int n = 0;

        for (int32_t k = from; k < to; n++) {
                if (n > CUT_DAYS_MAX)
                        return -EINVAL;
                if (!days_only && k % 100 == 1 && month_next_first(k) <= to) {
                        buf_printf(months, "%s%" PRId32, months->len ? "," : "", k / 100);
                        k = month_next_first(k);
                } else {
                        buf_printf(days, "%s%" PRId32, days->len ? "," : "", k);
                        k = day_next(k);
                }
        }
        return months->error ? months->error : days->error;
}

/* The key columns of a cut's rows, from a count table; period is "day" or "month". */
static const char *key_expr(enum store_cut_by by, bool day_table)
{
        switch (by) {
        case STORE_BY_TOTAL:
        case STORE_BY_CHANNEL:
        case STORE_BY_TERMINAL:
                return "0";
        case STORE_BY_UNIT:
                return "unit_id";
        case STORE_BY_EMPLOYEE:
        case STORE_BY_EMPLOYEE_UNIT:
                return "employee_id";
        case STORE_BY_DIRECTION:
                return "direction_id";
        case STORE_BY_WORKPLACE:
                return "workplace_id";
        case STORE_BY_DAY:
                return "day";
        case STORE_BY_MONTH:
                return day_table ? "day/100" : "month";
        case STORE_BY_WEEKHOUR:
                return "((wh/100+6)%7+1)*100 + wh%100"; /* Sunday 0 to 7 */
        }
        return "0";
}

/* The same key from a row of votes (the ones not folded yet): NULLs are the tables' 0 or ''. */
static const char *vote_key_expr(enum store_cut_by by)
{
        switch (by) {
        case STORE_BY_DIRECTION:
                return "IFNULL(direction_id, 0)";
        case STORE_BY_WORKPLACE:
                return "IFNULL(workplace_id, 0)";
        case STORE_BY_MONTH:
                return "day/100";
        case STORE_BY_WEEKHOUR:
                return "((" REP_WH_SEL "/100+6)%7+1)*100 + " REP_WH_SEL "%100";
        default:
                return key_expr(by, true);
        }
}

static const char *key2_expr(enum store_cut_by by)
{
        return by == STORE_BY_EMPLOYEE_UNIT ? "unit_id" : "0";
}

static const char *text_expr(enum store_cut_by by, bool votes)
{
        if (by == STORE_BY_CHANNEL)
                return "channel";
        if (by == STORE_BY_TERMINAL)
                return votes ? "IFNULL(terminal_id, '')" : "terminal_id";
        return "''";
}

/* The filters of q (the unit's subtree always; the others when fine) on a count table or, for
 * the votes, with unary + on the columns that have an index of their own, so that the planner
 * keeps to the rowid range of the votes not folded yet. */
static void add_filters(struct buf *sql, const struct store_cut *q, bool fine, bool votes)
{
        const char *plus = votes ? "+" : "";

        if (q->unit_id)
                buf_printf(sql, " AND %sunit_id IN (SELECT id FROM sub)", plus);
        if (!fine)
                return;
        if (q->employee_id)
                buf_printf(sql, " AND %semployee_id = :emp", plus);
        if (q->direction_id)
                buf_adds(sql, " AND direction_id = :dir");
        if (q->workplace_id)
                buf_adds(sql, " AND workplace_id = :wp");
        if (q->channel[0])
                buf_adds(sql, " AND channel = :ch");
        if (q->terminal[0])
                buf_adds(sql, " AND terminal_id = :term");
}

/* Appends one part of the UNION: the rows of table for the periods in list. */
static void add_part(struct buf *sql, const struct store_cut *q, const char *table, bool day_table,
                     bool fine, const char *list, int *parts)
{
        if (!list[0])
                return;
        buf_printf(sql,
                   "%sSELECT %s AS k, %s AS k2, %s AS t, c1, c2, c3, s, f, x FROM %s"
                   " WHERE %s IN (%s)",
                   (*parts)++ ? " UNION ALL " : "", key_expr(q->by, day_table), key2_expr(q->by),
                   text_expr(q->by, false), table, day_table ? "day" : "month", list);
        add_filters(sql, q, fine, false);
}

/* Appends the votes that no fold has reached yet (id above the watermark), one row each: the
 * same statement reads the watermark and the counts, so a vote is counted once whether the
 * background fold took it a moment before or not. */
static void add_unfolded(struct buf *sql, const struct store_cut *q)
{
        buf_printf(sql, " UNION ALL SELECT %s, %s, %s," REP_ROW " AND day >= :from AND day < :to",
                   vote_key_expr(q->by), key2_expr(q->by), text_expr(q->by, true));
        add_filters(sql, q, true, true);
}

/* Builds the statement for q: which tables answer it, and over which periods. */
static int cut_sql(const struct store_cut *q, struct buf *sql, int *parts)
{
        bool fine = q->employee_id || q->direction_id || q->workplace_id || q->channel[0] ||
                    q->terminal[0] || q->by == STORE_BY_EMPLOYEE || q->by == STORE_BY_DIRECTION ||
                    q->by == STORE_BY_WORKPLACE || q->by == STORE_BY_CHANNEL ||
                    q->by == STORE_BY_TERMINAL || q->by == STORE_BY_EMPLOYEE_UNIT;
        bool heat = q->by == STORE_BY_WEEKHOUR;
        const char *mtable, *dtable;
        struct buf months, days;
        int r;

        if (fine) {
                mtable = heat ? "rep_hfm" : "rep_m";
                dtable = heat ? "rep_hfd" : "rep_d";
        } else {
                mtable = heat ? "rep_hm" : "rep_um";
                dtable = "rep_hd";
        }
        buf_init(&months, CUT_SQL_MAX);
        buf_init(&days, CUT_SQL_MAX);
        r = split_range(q->from_day, q->to_day, q->by == STORE_BY_DAY, &months, &days);
        if (r < 0)
                goto out;
        buf_adds(sql, "WITH RECURSIVE sub(id) AS (SELECT id FROM units WHERE id = :unit"
                      " UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)"
                      " SELECT k, k2, t, SUM(c1), SUM(c2), SUM(c3), SUM(s), SUM(f), SUM(x) FROM (");
        add_part(sql, q, mtable, false, fine, months.data ? months.data : "", parts);
        add_part(sql, q, dtable, true, fine, days.data ? days.data : "", parts);
        if (*parts)
                add_unfolded(sql, q);
        buf_adds(sql, ") GROUP BY k, k2, t HAVING SUM(c1) + SUM(c2) + SUM(c3) + SUM(s) + SUM(f) +"
                      " SUM(x) > 0 ORDER BY k, k2, t");
        r = sql->error;
out:
        buf_free(&months);
        buf_free(&days);
        return r;
}

static void bind_named_int(sqlite3_stmt *st, const char *name, int64_t v)
{
        int i = sqlite3_bind_parameter_index(st, name);

        if (i > 0)
                sqlite3_bind_int64(st, i, v);
}

static void bind_named_text(sqlite3_stmt *st, const char *name, const char *v)
{
        int i = sqlite3_bind_parameter_index(st, name);

        if (i > 0)
                sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* One bounded fold step (REP_FOLD_STEP: the votes with ids in (w, w + REP_FOLD_MAX]) in one
 * transaction (a savepoint, so that it nests in one the caller may hold): 1 when votes are
 * left above the new watermark, 0 when none are (nothing done), or a negative errno. Called
 * with the lock held. */
static int fold_step(sqlite3 *db)
{
        sqlite3_stmt *st = NULL;
        int64_t left = 0;
        int r;

        r = sq_prepare(db, "SELECT (SELECT IFNULL(MAX(id), 0) FROM votes) - w FROM rep_state", &st);
        if (r < 0)
                return r;
        if (sqlite3_step(st) == SQLITE_ROW)
                left = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (left <= 0)
                return 0;
        r = sq_exec(db, "SAVEPOINT rep_fold;" REP_FOLD_STEP "RELEASE rep_fold;");
        if (r < 0) {
                sq_exec(db, "ROLLBACK TO rep_fold; RELEASE rep_fold;");
                return r;
        }
        return left > REP_FOLD_MAX;
}

int sq_report_fold(struct store *base)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        int r;

        pthread_mutex_lock(&s->lock);
        r = fold_step(s->db);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* Reports read on a read-only connection of their own where there is one (not for an
 * in-memory database): a commit's fsync or a fold step on the writing connection does not
 * hold them up, nor they the vote pages' lookups, and WAL gives each statement a snapshot of
 * its own. */
static sqlite3 *report_db_lock(struct sqlite_store *s)
{
        pthread_mutex_lock(s->repdb ? &s->replock : &s->lock);
        return s->repdb ? s->repdb : s->db;
}

static void report_db_unlock(struct sqlite_store *s)
{
        pthread_mutex_unlock(s->repdb ? &s->replock : &s->lock);
}

/* A row of a cut: its keys (key2 for a pair of keys), its text key, the three levels and the
 * votes not counted. */
static void fill_cut_row(sqlite3_stmt *st, void *item)
{
        struct store_cut_row *row = item;

        row->key = sqlite3_column_int64(st, 0);
        row->key2 = sqlite3_column_int64(st, 1);
        sq_copy_text(st, 2, row->text, sizeof(row->text));
        for (int l = 1; l <= 3; l++) {
                row->n.level[l] = sqlite3_column_int64(st, 2 + l);
                row->n.level[0] += row->n.level[l];
        }
        row->n.suppressed = sqlite3_column_int64(st, 6);
        row->n.flagged = sqlite3_column_int64(st, 7);
        row->n.excluded = sqlite3_column_int64(st, 8);
}

int sq_report_cut(struct store *base, const struct store_cut *q, struct store_cut_row **ret,
                  size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        struct buf sql;
        void *p = NULL;
        sqlite3 *db;
        int r, parts = 0;

        if ((unsigned)q->by > STORE_BY_EMPLOYEE_UNIT || !day_valid(q->from_day) ||
            !day_valid(q->to_day) || q->from_day > q->to_day)
                return -EINVAL;
        buf_init(&sql, CUT_SQL_MAX);
        r = cut_sql(q, &sql, &parts);
        if (r < 0) {
                buf_free(&sql);
                return r;
        }
        if (parts == 0) {
                /* an empty range */
                buf_free(&sql);
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        db = report_db_lock(s);
        r = sq_prepare(db, sql.data, &st);
        if (r < 0)
                goto out;
        bind_named_int(st, ":unit", q->unit_id);
        bind_named_int(st, ":emp", q->employee_id);
        bind_named_int(st, ":dir", q->direction_id);
        bind_named_int(st, ":wp", q->workplace_id);
        bind_named_text(st, ":ch", q->channel);
        bind_named_text(st, ":term", q->terminal);
        bind_named_int(st, ":from", q->from_day);
        bind_named_int(st, ":to", q->to_day);
        r = sq_collect_stmt(st, sizeof(struct store_cut_row), fill_cut_row, &p, ret_n);
        if (r >= 0)
                *ret = p;
out:
        sqlite3_finalize(st);
        report_db_unlock(s);
        buf_free(&sql);
        return r;
}

static void fill_named(sqlite3_stmt *st, void *item)
{
        struct store_named *row = item;

        row->id = sqlite3_column_int64(st, 0);
        row->parent = sqlite3_column_int64(st, 1);
        sq_copy_text(st, 2, row->code, sizeof(row->code));
        sq_copy_text(st, 3, row->name, sizeof(row->name));
        sq_copy_text(st, 4, row->name_en, sizeof(row->name_en));
        sq_copy_text(st, 5, row->position, sizeof(row->position));
        row->is_head = sqlite3_column_int(st, 6) != 0;
}

/* Runs sql and collects a named row per result row: id, parent, code, name, name_en,
 * position, is_head. */
static int named_rows(sqlite3 *db, const char *sql, struct store_named **ret, size_t *ret_n)
{
        void *p = NULL;
        int r = sq_collect(db, sql, NULL, sizeof(struct store_named), fill_named, &p, ret_n);

        if (r >= 0)
                *ret = p;
        return r;
}

int sq_report_org(struct store *base, struct store_report_org *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        struct store_report_org org = {0};
        sqlite3 *db;
        int r;

        db = report_db_lock(s);
        /* parents before children: walk the tree from the roots */
        r = named_rows(db,
                       "WITH RECURSIVE tree(id, path) AS (SELECT id, printf('%08d', id) FROM units"
                       " WHERE parent_id IS NULL UNION ALL SELECT u.id, t.path || '/' ||"
                       " printf('%08d', u.id) FROM units u JOIN tree t ON u.parent_id = t.id)"
                       " SELECT u.id, IFNULL(u.parent_id, 0), IFNULL(u.code, ''), u.name,"
                       " u.name_en, u.kind, 0 FROM tree t JOIN units u ON u.id = t.id"
                       " ORDER BY t.path",
                       &org.units, &org.n_units);
        if (r >= 0)
                r = named_rows(db,
                               "SELECT id, unit_id, personal_no, full_name, full_name, position,"
                               " is_head FROM employees ORDER BY id",
                               &org.employees, &org.n_employees);
        if (r >= 0)
                r = named_rows(db,
                               "SELECT id, 0, code, name, name_en, '', 0 FROM directions"
                               " ORDER BY id",
                               &org.directions, &org.n_directions);
        if (r >= 0)
                r = named_rows(db,
                               "SELECT id, unit_id, code, name, name, '', 0 FROM workplaces"
                               " ORDER BY id",
                               &org.workplaces, &org.n_workplaces);
        report_db_unlock(s);
        if (r < 0) {
                store_report_org_finish(&org);
                return r;
        }
        *ret = org;
        return 0;
}

int sq_alert_window(struct store *base, int64_t from_ms, int64_t to_ms,
                    struct store_alert_vote **ret, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        struct store_alert_vote *rows = NULL;
        size_t n = 0, size = 0;
        sqlite3_stmt *st = NULL;
        sqlite3 *db;
        int r, rc;

        db = report_db_lock(s);
        /* one seek per unit on votes(unit_id, cast_at): the window is minutes long */
        r = sq_prepare(db,
                       "SELECT unit_id, cast_at, level FROM votes WHERE unit_id IN"
                       " (SELECT id FROM units) AND cast_at >= ?1 AND cast_at < ?2 AND counted = 1"
                       " ORDER BY cast_at",
                       &st);
        if (r < 0)
                goto out;
        sqlite3_bind_int64(st, 1, from_ms);
        sqlite3_bind_int64(st, 2, to_ms);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == size) {
                        struct store_alert_vote *p;

                        size = size ? size * 2 : 64;
                        if (size > 1000000) {
                                r = -E2BIG;
                                goto out;
                        }
                        p = realloc(rows, size * sizeof(*rows));
                        if (!p) {
                                r = -ENOMEM;
                                goto out;
                        }
                        rows = p;
                }
                rows[n].unit_id = sqlite3_column_int64(st, 0);
                rows[n].cast_at_ms = sqlite3_column_int64(st, 1);
                rows[n].level = sqlite3_column_int(st, 2);
                n++;
        }
        if (rc != SQLITE_DONE) {
                r = sq_map_error(db, rc, "alert window");
                goto out;
        }
        *ret = rows;
        *ret_n = n;
        rows = NULL;
        r = 0;
out:
        free(rows);
        sqlite3_finalize(st);
        report_db_unlock(s);
        return r;
}

int sq_alert_add(struct store *base, const struct store_alert *a, int64_t *ret_id)
{
        return sq_run((struct sqlite_store *)base, ret_id,
                      "INSERT INTO rep_alerts(unit_id, from_ms, to_ms, n, n1, raised_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
                      "iiiiii", a->unit_id, a->from_ms, a->to_ms, a->n, a->n1, a->raised_at_ms);
}

int sq_alert_list(struct store *base, int64_t unit_id, int64_t since_ms, size_t limit,
                  struct store_alert **ret, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        struct store_alert *rows;
        size_t n = 0;
        sqlite3_stmt *st = NULL;
        sqlite3 *db;
        int r, rc = SQLITE_DONE;

        rows = calloc(limit ? limit : 1, sizeof(*rows));
        if (!rows)
                return -ENOMEM;
        db = report_db_lock(s);
        r = sq_prepare(db,
                       "WITH RECURSIVE sub(id) AS (SELECT id FROM units WHERE ?1 = 0 OR id = ?1"
                       " UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)"
                       " SELECT id, unit_id, from_ms, to_ms, n, n1, raised_at,"
                       " IFNULL(mailed_at, 0), mail_error FROM rep_alerts"
                       " WHERE unit_id IN (SELECT id FROM sub) AND raised_at >= ?2"
                       " ORDER BY raised_at DESC, id DESC LIMIT ?3",
                       &st);
        if (r < 0)
                goto out;
        sqlite3_bind_int64(st, 1, unit_id);
        sqlite3_bind_int64(st, 2, since_ms);
        sqlite3_bind_int64(st, 3, (int64_t)limit);
        while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct store_alert *a = &rows[n++];

                a->id = sqlite3_column_int64(st, 0);
                a->unit_id = sqlite3_column_int64(st, 1);
                a->from_ms = sqlite3_column_int64(st, 2);
                a->to_ms = sqlite3_column_int64(st, 3);
                a->n = sqlite3_column_int64(st, 4);
                a->n1 = sqlite3_column_int64(st, 5);
                a->raised_at_ms = sqlite3_column_int64(st, 6);
                a->mailed_at_ms = sqlite3_column_int64(st, 7);
                sq_copy_text(st, 8, a->mail_error, sizeof(a->mail_error));
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
                r = sq_map_error(db, rc, "alert list");
                goto out;
        }
        *ret = rows;
        *ret_n = n;
        rows = NULL;
        r = 0;
out:
        free(rows);
        sqlite3_finalize(st);
        report_db_unlock(s);
        return r;
}

int sq_alert_mailed(struct store *base, int64_t id, int64_t at_ms, const char *error)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      "UPDATE rep_alerts SET mailed_at = NULLIF(?, 0), mail_error = ? WHERE id = ?",
                      "iti", error[0] ? (int64_t)0 : at_ms, error, id);
}
