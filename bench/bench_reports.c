/* SPDX-License-Identifier: MIT */
/* The reports' benchmark (issue 6): a generated city (by default 10 million votes, 5,000
 * employees, 500 units, 3 years; each a parameter) in a real collector database, then
 *  - storing votes with the collector's schema (the report triggers on update and delete; the
 *    counts are folded off the insert path) against a schema without any report trigger
 *    (target: <= 20 % slower), in one big transaction and in terminal-sized batches that each
 *    commit (fsync);
 *  - the background fold that the insert no longer does: votes folded per second through the
 *    store's report_fold, and the longest single step (how long it holds the store's lock);
 *  - the whole city for one year by unit, subtree sums included (target p95 <= 50 ms), and one
 *    employee for one month (target p95 <= 5 ms), each beside the same answer by a plain
 *    GROUP BY over the raw votes timed in the same run (and checked to be equal); and both
 *    again right after --fresh new votes scattered over the period that no background fold
 *    has seen (the report counts them on the fly, never folding: the same targets), each
 *    beside the same read once the background fold has taken them in (the reference).
 * Votes are inserted directly with SQL in big transactions, like the collector's own INSERT;
 * the counts are then built by the report migrations' own backfill (timed too). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "benchutil.h"
#include "period.h"
#include "report.h"
#include "store.h"
#include "store_sqlite_report.h"

struct params {
        int64_t votes, employees, units, years;
        int64_t sample;   /* votes inserted per timed round */
        int64_t batch;    /* votes per committed batch in the batched rounds */
        int rounds;       /* timed rounds of each kind */
        int queries;      /* timed runs of each pre-aggregated query */
        int raw_queries;  /* timed runs of each raw-vote query */
        int64_t cache_mb; /* the timed connection's page cache; 0: SQLite's default, as the
                           * collector's own connection has */
        int64_t fresh;    /* votes stored, unfolded, before each run of the unfolded queries */
        int fresh_runs;   /* timed runs of each of those */
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static int exec(sqlite3 *db, const char *sql)
{
        char *msg = NULL;

        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                fprintf(stderr, "SQL: %s: %s\n", sql, msg ? msg : "?");
                sqlite3_free(msg);
                return -EIO;
        }
        return 0;
}

/* The generated city: units in a random tree (each unit's parent an earlier unit, so that
 * subtrees have depth), 4 workplaces and a terminal at 3 of them per unit, 12 directions, and
 * employees spread over the units; one in ten moves once, halfway through. */
struct city {
        int64_t n_units, n_emps, n_wps;
        int64_t *emp_unit, *emp_unit2, *emp_move_ms;
        int64_t first_ms, last_ms;
};

static int make_org(sqlite3 *db, const struct params *p, struct city *c)
{
        sqlite3_stmt *st = NULL;
        char sql[256];
        int r = 0;

        c->n_units = p->units;
        c->n_emps = p->employees;
        c->n_wps = p->units * 4;
        c->emp_unit = calloc((size_t)c->n_emps + 1, sizeof(int64_t));
        c->emp_unit2 = calloc((size_t)c->n_emps + 1, sizeof(int64_t));
        c->emp_move_ms = calloc((size_t)c->n_emps + 1, sizeof(int64_t));
        if (!c->emp_unit || !c->emp_unit2 || !c->emp_move_ms)
                return -ENOMEM;
        if (exec(db, "BEGIN") < 0)
                return -EIO;
        for (int64_t u = 1; u <= c->n_units && r >= 0; u++) {
                snprintf(sql, sizeof(sql),
                         "INSERT INTO units(id, parent_id, kind, name, code) VALUES (%" PRId64
                         ", %s, 'section', 'Unit %" PRId64 "', 'U%" PRId64 "')",
                         u, u == 1 ? "NULL" : "?", u, u);
                r = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK ? 0 : -EIO;
                if (r >= 0 && u > 1)
                        sqlite3_bind_int64(st, 1, 1 + (int64_t)(rnd() % (uint64_t)(u - 1)));
                if (r >= 0 && sqlite3_step(st) != SQLITE_DONE)
                        r = -EIO;
                sqlite3_finalize(st);
        }
        for (int d = 1; d <= 12 && r >= 0; d++) {
                snprintf(
                    sql, sizeof(sql),
                    "INSERT INTO directions(id, code, name) VALUES (%d, 'D%d', 'Direction %d')", d,
                    d, d);
                r = exec(db, sql);
        }
        for (int64_t w = 1; w <= c->n_wps && r >= 0; w++) {
                snprintf(sql, sizeof(sql),
                         "INSERT INTO workplaces(id, code, name, unit_id, direction_id) VALUES"
                         " (%" PRId64 ", 'W%" PRId64 "', 'Window %" PRId64 "', %" PRId64
                         ", %" PRId64 ")",
                         w, w, w, (w - 1) / 4 + 1, 1 + (w % 12));
                r = exec(db, sql);
                if (r >= 0 && w % 4 != 0) {
                        snprintf(sql, sizeof(sql),
                                 "INSERT INTO terminals(id, workplace_id, secret_hash, created_at)"
                                 " VALUES ('T%" PRId64 "', %" PRId64 ", x'00', 0)",
                                 w, w);
                        r = exec(db, sql);
                }
        }
        for (int64_t e = 1; e <= c->n_emps && r >= 0; e++) {
                c->emp_unit[e] = 1 + (int64_t)(rnd() % (uint64_t)c->n_units);
                c->emp_unit2[e] =
                    e % 10 == 0 ? 1 + (int64_t)(rnd() % (uint64_t)c->n_units) : c->emp_unit[e];
                snprintf(sql, sizeof(sql),
                         "INSERT INTO employees(id, personal_no, full_name, position, unit_id)"
                         " VALUES (%" PRId64 ", 'E%" PRId64 "', 'Employee %" PRId64
                         "', 'clerk', %" PRId64 ")",
                         e, e, e, c->emp_unit2[e]);
                r = exec(db, sql);
        }
        if (r >= 0)
                r = exec(db, "COMMIT");
        return r;
}

/* One vote: a uniformly chosen employee, a time in working hours, mostly counted. */
static void bind_vote(sqlite3_stmt *st, const struct city *c, int64_t ms_from, int64_t ms_to)
{
        static const char *const channels[] = {"terminal",  "terminal",   "terminal",
                                               "qr_screen", "qr_printed", "qr_reply"};
        int64_t e = 1 + (int64_t)(rnd() % (uint64_t)c->n_emps);
        int64_t unit, wp, t;
        uint64_t x = rnd();
        int level = x % 100 < 15 ? 1 : x % 100 < 45 ? 2 : 3;
        const char *channel = channels[(x >> 8) % 6];
        char uuid[40];
        uint64_t a = rnd(), b = rnd();
        int32_t day;

        t = ms_from + (int64_t)(rnd() % (uint64_t)(ms_to - ms_from));
        /* in working hours, city time: 06:00..16:00 UTC is 08:00..19:00 in Kyiv */
        t = t - t % 86400000 + 6 * 3600000 + (int64_t)(rnd() % (10 * 3600000ULL));
        unit = c->emp_move_ms[e] && t < c->emp_move_ms[e] ? c->emp_unit[e] : c->emp_unit2[e];
        wp = (unit - 1) * 4 + 1 + (int64_t)((x >> 16) % 4);
        day = period_day_key(t / 1000);
        snprintf(uuid, sizeof(uuid), "%08x-%04x-7%03x-8%03x-%012" PRIx64, (unsigned)(a >> 32),
                 (unsigned)(a & 0xffff), (unsigned)((a >> 16) & 0xfff), (unsigned)(b & 0xfff),
                 (uint64_t)((b >> 12) & 0xffffffffffffULL));
        sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, level);
        sqlite3_bind_int64(st, 3, e);
        sqlite3_bind_int64(st, 4, unit);
        sqlite3_bind_int64(st, 5, wp);
        sqlite3_bind_int64(st, 6, 1 + (wp % 12));
        sqlite3_bind_text(st, 7, channel, -1, SQLITE_STATIC);
        if (strcmp(channel, "terminal") == 0 && wp % 4 != 0) {
                char term[24];

                snprintf(term, sizeof(term), "T%" PRId64, wp);
                sqlite3_bind_text(st, 8, term, -1, SQLITE_TRANSIENT);
        } else
                sqlite3_bind_null(st, 8);
        sqlite3_bind_int64(st, 9, t);
        sqlite3_bind_int64(st, 10, t + 2000);
        sqlite3_bind_int(st, 11, day);
        /* 1 % suppressed, 3 % flagged (half of them reviewed: counted or excluded) */
        sqlite3_bind_null(st, 12);
        sqlite3_bind_null(st, 13);
        sqlite3_bind_null(st, 14);
        sqlite3_bind_int(st, 15, 1);
        if ((x >> 24) % 100 == 0) {
                sqlite3_bind_text(st, 12, "min_interval", -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 15, 0);
        } else if ((x >> 24) % 100 < 4) {
                sqlite3_bind_text(st, 13, "address_rate", -1, SQLITE_STATIC);
                if ((x >> 40) % 2)
                        sqlite3_bind_text(st, 14, (x >> 41) % 2 ? "count" : "exclude", -1,
                                          SQLITE_STATIC);
                sqlite3_bind_int(st, 15, (x >> 40) % 2 && (x >> 41) % 2);
        }
}

#define INSERT_SQL                                                                                 \
        "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id, direction_id,"         \
        " channel, terminal_id, cast_at, received_at, day, suppressed, flag, review, counted)"     \
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"

static int insert_votes(sqlite3 *db, const struct city *c, int64_t n, int64_t per_txn,
                        int64_t ms_from, int64_t ms_to, bool commit)
{
        sqlite3_stmt *st = NULL;
        int r = 0;

        if (sqlite3_prepare_v2(db, INSERT_SQL, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        for (int64_t i = 0; i < n && r >= 0; i++) {
                if (i % per_txn == 0 && commit)
                        r = exec(db, "BEGIN");
                sqlite3_reset(st);
                bind_vote(st, c, ms_from, ms_to);
                if (r >= 0 && sqlite3_step(st) != SQLITE_DONE) {
                        fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
                        r = -EIO;
                }
                if (r >= 0 && commit && (i % per_txn == per_txn - 1 || i == n - 1))
                        r = exec(db, "COMMIT");
        }
        sqlite3_finalize(st);
        return r;
}

/* The triggers' own SQL, to drop and make again. */
static char *trigger_sql(sqlite3 *db)
{
        sqlite3_stmt *st = NULL;
        size_t len = 0;
        char *all = calloc(1, 1);

        if (!all || sqlite3_prepare_v2(db,
                                       "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                                       " AND name LIKE 'rep_vote_%'",
                                       -1, &st, NULL) != SQLITE_OK) {
                free(all);
                return NULL;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *s = (const char *)sqlite3_column_text(st, 0);
                char *p = realloc(all, len + strlen(s) + 3);

                if (!p)
                        break;
                all = p;
                len += (size_t)sprintf(all + len, "%s;\n", s);
        }
        sqlite3_finalize(st);
        return all;
}

#define DROP_TRIGGERS                                                                              \
        "DROP TRIGGER IF EXISTS rep_vote_in; DROP TRIGGER IF EXISTS rep_vote_change;"              \
        " DROP TRIGGER IF EXISTS rep_vote_out;"

/* The plain reference: the city's units by a GROUP BY over the raw votes, then the same
 * subtree sums. */
static int raw_units(sqlite3 *db, const struct store_report_org *org, const struct store_cut *q,
                     int64_t from_ms, int64_t to_ms, struct report_unit *v, size_t n)
{
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(db,
                               "SELECT unit_id, SUM(level = 1), SUM(level = 2), SUM(level = 3)"
                               " FROM votes WHERE cast_at >= ?1 AND cast_at < ?2 AND counted = 1"
                               " GROUP BY unit_id",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        (void)org;
        (void)q;
        sqlite3_bind_int64(st, 1, from_ms);
        sqlite3_bind_int64(st, 2, to_ms);
        for (size_t i = 0; i < n; i++)
                memset(&v[i].own, 0, sizeof(v[i].own));
        while (sqlite3_step(st) == SQLITE_ROW) {
                int64_t id = sqlite3_column_int64(st, 0);

                for (size_t i = 0; i < n; i++)
                        if (v[i].unit->id == id) {
                                for (int l = 1; l <= 3; l++)
                                        v[i].own.level[l] = sqlite3_column_int64(st, l);
                                v[i].own.level[0] =
                                    v[i].own.level[1] + v[i].own.level[2] + v[i].own.level[3];
                                break;
                        }
        }
        sqlite3_finalize(st);
        for (size_t i = 0; i < n; i++)
                v[i].sum = v[i].own;
        for (size_t i = n; i-- > 0;)
                if (v[i].parent >= 0)
                        report_counts_add(&v[v[i].parent].sum, &v[i].sum);
        return 0;
}

static int raw_employee(sqlite3 *db, int64_t emp, int64_t from_ms, int64_t to_ms,
                        struct store_counts *ret)
{
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(db,
                               "SELECT level, COUNT(*) FROM votes WHERE employee_id = ?1 AND"
                               " cast_at >= ?2 AND cast_at < ?3 AND counted = 1 GROUP BY level",
                               -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        sqlite3_bind_int64(st, 1, emp);
        sqlite3_bind_int64(st, 2, from_ms);
        sqlite3_bind_int64(st, 3, to_ms);
        memset(ret, 0, sizeof(*ret));
        while (sqlite3_step(st) == SQLITE_ROW) {
                int l = sqlite3_column_int(st, 0);

                ret->level[l] = sqlite3_column_int64(st, 1);
                ret->level[0] += ret->level[l];
        }
        sqlite3_finalize(st);
        return 0;
}

/* p95 by nearest rank (bench_stats has p90 and p99). */
/* Folds every vote stored so far, as the collector's background thread would. */
static int fold_all(struct store *s)
{
        int r;

        while ((r = s->ops->report_fold(s)) > 0)
                ;
        return r;
}

static int dcmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double p95(double *ms, size_t n)
{
        size_t k;

        qsort(ms, n, sizeof(*ms), dcmp);
        k = (size_t)ceil(0.95 * (double)n);
        return ms[k ? k - 1 : 0];
}

int main(int argc, char **argv)
{
        struct params p = {10000000, 5000, 500, 3, 100000, 50, 3, 200, 3, 0, 1000, 20};
        char dir[512], db_path[600], measured[200], reference[200], *triggers = NULL;
        struct city c = {0};
        struct store *s = NULL;
        struct store_report_org org = {0};
        sqlite3 *db = NULL;
        struct period year, month;
        int64_t now_ms, t0;
        double with_ms[16] = {0}, without_ms[16] = {0}, with_b[16] = {0}, without_b[16] = {0};
        double *ours = NULL, *raw = NULL, store_us = 0;
        int rc = 1;

        for (int i = 1; i < argc; i++) {
                int64_t *dst = NULL;

                if (strcmp(argv[i], "--votes") == 0)
                        dst = &p.votes;
                else if (strcmp(argv[i], "--employees") == 0)
                        dst = &p.employees;
                else if (strcmp(argv[i], "--units") == 0)
                        dst = &p.units;
                else if (strcmp(argv[i], "--years") == 0)
                        dst = &p.years;
                else if (strcmp(argv[i], "--sample") == 0)
                        dst = &p.sample;
                else if (strcmp(argv[i], "--cache-mb") == 0)
                        dst = &p.cache_mb;
                else if (strcmp(argv[i], "--fresh") == 0)
                        dst = &p.fresh;
                if (!dst || i + 1 >= argc || (*dst = strtoll(argv[++i], NULL, 10)) <= 0) {
                        fprintf(stderr,
                                "usage: %s [--votes N] [--employees N] [--units N] [--years N]"
                                " [--sample N] [--cache-mb N] [--fresh N]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (p.rounds > 16)
                p.rounds = 16;
        bench_header("bench_reports", "pre-aggregated reports against GROUP BY over raw votes");
        if (period_set_zone("Europe/Kyiv") < 0 || bench_mkdtemp(dir, sizeof(dir), "reports") < 0)
                return 1;
        snprintf(db_path, sizeof(db_path), "%s/collector.db", dir);
        /* the schema, through the store */
        if (store_open(db_path, &s) < 0)
                goto out;
        store_close(s);
        s = NULL;
        if (sqlite3_open(db_path, &db) != SQLITE_OK)
                goto out;
        sqlite3_busy_timeout(db, 5000);
        if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-200000") <
                0 ||
            make_org(db, &p, &c) < 0)
                goto out;
        now_ms = (int64_t)time(NULL) * 1000;
        c.last_ms = now_ms - 86400000LL * 2;
        c.first_ms = c.last_ms - p.years * 365 * 86400000LL;
        for (int64_t e = 1; e <= c.n_emps; e++)
                c.emp_move_ms[e] =
                    c.emp_unit[e] != c.emp_unit2[e] ? (c.first_ms + c.last_ms) / 2 : 0;

        /* the data, without the triggers; then the migration's own backfill */
        printf("generating %" PRId64 " votes, %" PRId64 " employees, %" PRId64 " units, %" PRId64
               " years...\n",
               p.votes, p.employees, p.units, p.years);
        fflush(stdout);
        triggers = trigger_sql(db);
        if (!triggers || exec(db, DROP_TRIGGERS) < 0)
                goto out;
        t0 = bench_now_ns();
        if (insert_votes(db, &c, p.votes, 200000, c.first_ms, c.last_ms, true) < 0)
                goto out;
        printf("  inserted in %.1f s\n", bench_ms_since(t0) / 1000);
        /* the report migrations' own text, run again on this connection of this process (so in
         * the same zone): later migrations are not the reports' and stay as they are */
        if (exec(db, "DROP TABLE rep_d; DROP TABLE rep_m; DROP TABLE rep_um; DROP TABLE rep_hd;"
                     " DROP TABLE rep_hm; DROP TABLE rep_hfd; DROP TABLE rep_hfm;"
                     " DROP TABLE rep_alerts; DROP TABLE rep_state;") < 0)
                goto out;
        t0 = bench_now_ns();
        if (exec(db, "BEGIN;" REPORT_MIGRATION REPORT_MIGRATION_6 REPORT_MIGRATION_7 "COMMIT;") < 0)
                goto out;
        snprintf(measured, sizeof(measured), "%.1f s", bench_ms_since(t0) / 1000);
        free(triggers);
        triggers = trigger_sql(db);
        if (!triggers)
                goto out;
        sqlite3_close(db);
        db = NULL;
        if (store_open(db_path, &s) < 0)
                goto out;
        printf("  the migrations' backfill of the counts: %s\n", measured);
        bench_summary("bench_reports", "backfill of the counts (migrations 5-7)", measured, "", "",
                      "INFO");
        fflush(stdout);
        if (sqlite3_open(db_path, &db) != SQLITE_OK)
                goto out;
        sqlite3_busy_timeout(db, 5000);
        if (exec(db, "PRAGMA synchronous=FULL") < 0)
                goto out;
        if (p.cache_mb) {
                char sql[64];

                snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%" PRId64, p.cache_mb * 1024);
                if (exec(db, sql) < 0)
                        goto out;
        }
        printf("the timed connection's page cache: %s\n",
               p.cache_mb ? "as --cache-mb" : "SQLite's default (2 MB), as the collector's");

        /* storing: the collector's schema against one without any report trigger, in
         * alternating rounds; each round rolled back so that the data stays as generated */
        for (int round = 0; round < p.rounds; round++) {
                for (int with = 0; with < 2; with++) {
                        double ms;

                        if (exec(db, "BEGIN") < 0 || (!with && exec(db, DROP_TRIGGERS) < 0))
                                goto out;
                        t0 = bench_now_ns();
                        if (insert_votes(db, &c, p.sample, p.sample, now_ms - 86400000LL, now_ms,
                                         false) < 0)
                                goto out;
                        ms = bench_ms_since(t0);
                        if (exec(db, "ROLLBACK") < 0)
                                goto out;
                        (with ? with_ms : without_ms)[round] = ms;
                }
        }
        /* terminal-sized batches, each committed with fsync (synchronous=FULL): what the
         * collector does; the votes stored without triggers are then removed again */
        for (int round = 0; round < p.rounds; round++) {
                for (int with = 0; with < 2; with++) {
                        int64_t n = p.sample / 10, mark = 0;
                        sqlite3_stmt *st = NULL;
                        char sql[128];

                        if (!with && exec(db, DROP_TRIGGERS) < 0)
                                goto out;
                        if (sqlite3_prepare_v2(db, "SELECT IFNULL(MAX(id), 0) FROM votes", -1, &st,
                                               NULL) != SQLITE_OK ||
                            sqlite3_step(st) != SQLITE_ROW) {
                                sqlite3_finalize(st);
                                goto out;
                        }
                        mark = sqlite3_column_int64(st, 0);
                        sqlite3_finalize(st);
                        t0 = bench_now_ns();
                        if (insert_votes(db, &c, n, p.batch, now_ms - 86400000LL, now_ms, true) < 0)
                                goto out;
                        (with ? with_b : without_b)[round] =
                            bench_ms_since(t0) * 1000.0 / (double)n;
                        /* the votes are above the watermark: the delete leaves the counts alone */
                        snprintf(sql, sizeof(sql), "DELETE FROM votes WHERE id > %" PRId64, mark);
                        if (exec(db, sql) < 0 || (!with && exec(db, triggers) < 0))
                                goto out;
                }
        }
        {
                double a = 0, b = 0, ab = 0, bb = 0;

                qsort(with_ms, (size_t)p.rounds, sizeof(double), dcmp);
                qsort(without_ms, (size_t)p.rounds, sizeof(double), dcmp);
                qsort(with_b, (size_t)p.rounds, sizeof(double), dcmp);
                qsort(without_b, (size_t)p.rounds, sizeof(double), dcmp);
                a = with_ms[p.rounds / 2] * 1000.0 / (double)p.sample;
                b = without_ms[p.rounds / 2] * 1000.0 / (double)p.sample;
                ab = with_b[p.rounds / 2];
                bb = without_b[p.rounds / 2];
                store_us = b;
                printf("\nstoring votes (median of %d rounds, us per vote): the collector's schema"
                       " (folded later) against no report trigger at all\n",
                       p.rounds);
                printf("  %-44s %10s %10s %9s\n", "", "collector", "none", "slower");
                printf("  %-44s %10.2f %10.2f %8.1f%%\n", "one transaction of --sample votes", a, b,
                       100.0 * (a - b) / b);
                printf("  %-44s %10.2f %10.2f %8.1f%%\n", "batches of 50, each committed (fsync)",
                       ab, bb, 100.0 * (ab - bb) / bb);
                snprintf(measured, sizeof(measured), "%.1f %% (%.2f us/vote)", 100.0 * (a - b) / b,
                         a);
                snprintf(reference, sizeof(reference), "%.2f us/vote without report triggers", b);
                bench_summary("bench_reports", "insert slowdown, one transaction", measured,
                              reference, "<= 20 %", bench_verdict(a <= 1.2 * b));
                snprintf(measured, sizeof(measured), "%.1f %% (%.1f us/vote)",
                         100.0 * (ab - bb) / bb, ab);
                snprintf(reference, sizeof(reference), "%.1f us/vote without report triggers", bb);
                bench_summary("bench_reports", "insert slowdown, batches of 50 committed", measured,
                              reference, "<= 20 %", bench_verdict(ab <= 1.2 * bb));
        }

        /* the fold the insert no longer does: --sample votes stored (one transaction), then
         * the store's report_fold, as the collector's background thread calls it, until every
         * vote is in; each call holds the store's lock for one step */
        {
                int64_t steps = 0, t1;
                double total, longest = 0, us;
                int r;

                if (insert_votes(db, &c, p.sample, p.sample, now_ms - 86400000LL, now_ms, true) < 0)
                        goto out;
                t0 = bench_now_ns();
                do {
                        double ms;

                        t1 = bench_now_ns();
                        r = s->ops->report_fold(s);
                        ms = bench_ms_since(t1);
                        longest = ms > longest ? ms : longest;
                        steps++;
                } while (r > 0);
                total = bench_ms_since(t0);
                if (r < 0)
                        goto out;
                us = total * 1000.0 / (double)p.sample;
                printf("\nthe background fold (report_fold) of %" PRId64 " new votes\n", p.sample);
                printf("  %.0f votes/s, %.2f us per vote (storing one costs %.2f us: the fold adds"
                       " %.0f %% to the work per vote, off the insert path)\n",
                       (double)p.sample * 1000.0 / total, us, store_us, 100.0 * us / store_us);
                printf("  %" PRId64 " steps; the longest held the store's lock %.1f ms\n", steps,
                       longest);
                snprintf(measured, sizeof(measured), "%.0f votes/s (%.2f us/vote)",
                         (double)p.sample * 1000.0 / total, us);
                snprintf(reference, sizeof(reference),
                         "storing %.2f us/vote; longest step (lock held) %.1f ms", store_us,
                         longest);
                bench_summary("bench_reports", "background fold, votes per second", measured,
                              reference, "", "INFO");
        }

        /* the queries: the last whole year and month of the data */
        if (period_containing(PERIOD_YEAR, c.last_ms / 1000, &year) < 0 ||
            period_previous(&year, &year) < 0 ||
            period_containing(PERIOD_MONTH, c.last_ms / 1000, &month) < 0 ||
            period_previous(&month, &month) < 0 || s->ops->report_org(s, &org) < 0)
                goto out;
        ours = calloc((size_t)p.queries, sizeof(double));
        raw = calloc((size_t)p.queries, sizeof(double));
        if (!ours || !raw)
                goto out;
        {
                struct store_cut q;
                struct report_unit *v = NULL, *w = NULL;
                size_t n = 0, m = 0;
                double ours95, raw95;
                bool same = true;
                char label[PERIOD_LABEL_MAX];

                memset(&q, 0, sizeof(q));
                report_cut_period(&year, &q);
                period_label(&year, label, sizeof(label));
                for (int i = 0; i < p.queries; i++) {
                        free(v);
                        v = NULL;
                        t0 = bench_now_ns();
                        if (report_units(s, &org, 0, &q, &v, &n) < 0)
                                goto out;
                        ours[i] = bench_ms_since(t0);
                }
                if (report_units(s, &org, 0, &q, &w, &m) < 0)
                        goto out;
                for (int i = 0; i < p.raw_queries; i++) {
                        t0 = bench_now_ns();
                        raw_units(db, &org, &q, year.start * 1000, year.end * 1000, w, m);
                        raw[i] = bench_ms_since(t0);
                }
                for (size_t i = 0; i < n && i < m; i++)
                        same = same &&
                               memcmp(v[i].sum.level, w[i].sum.level, sizeof(v[i].sum.level)) == 0;
                ours95 = p95(ours, (size_t)p.queries);
                raw95 = p95(raw, (size_t)p.raw_queries);
                printf("\nthe whole city for %s by unit (%zu units, subtree sums; %" PRId64
                       " votes counted)\n",
                       label, n, n ? v[0].sum.level[0] : 0);
                printf("  pre-aggregated  p50 %9.2f ms  p95 %9.2f ms  (%d runs)\n",
                       ours[p.queries / 2], ours95, p.queries);
                printf("  raw GROUP BY    p50 %9.2f ms  p95 %9.2f ms  (%d runs)  %s\n",
                       raw[p.raw_queries / 2], raw95, p.raw_queries,
                       same ? "same answer" : "DIFFERENT ANSWER");
                snprintf(measured, sizeof(measured), "p95 %.2f ms", ours95);
                snprintf(reference, sizeof(reference), "raw GROUP BY p95 %.0f ms", raw95);
                bench_summary("bench_reports", "city, one year, by unit", measured, reference,
                              "p95 <= 50 ms", bench_verdict(ours95 <= 50.0 && same));
                free(v);
                free(w);
                if (!same)
                        goto out;
        }
        {
                struct store_cut q;
                double ours95, raw95;
                bool same = true;
                char label[PERIOD_LABEL_MAX];

                memset(&q, 0, sizeof(q));
                report_cut_period(&month, &q);
                period_label(&month, label, sizeof(label));
                for (int i = 0; i < p.queries; i++) {
                        struct store_cut_row *rows = NULL;
                        struct store_counts want;
                        size_t n = 0;
                        double t;

                        q.employee_id = 1 + (int64_t)(rnd() % (uint64_t)c.n_emps);
                        t0 = bench_now_ns();
                        if (s->ops->report_cut(s, &q, &rows, &n) < 0)
                                goto out;
                        ours[i] = bench_ms_since(t0);
                        t0 = bench_now_ns();
                        raw_employee(db, q.employee_id, month.start * 1000, month.end * 1000,
                                     &want);
                        t = bench_ms_since(t0);
                        if (i < p.queries)
                                raw[i] = t;
                        same = same &&
                               (n ? memcmp(rows[0].n.level, want.level, sizeof(want.level)) == 0
                                  : want.level[0] == 0);
                        free(rows);
                }
                ours95 = p95(ours, (size_t)p.queries);
                raw95 = p95(raw, (size_t)p.queries);
                printf("\none employee for %s (%d random employees)\n", label, p.queries);
                printf("  pre-aggregated  p50 %9.3f ms  p95 %9.3f ms\n", ours[p.queries / 2],
                       ours95);
                printf("  raw GROUP BY    p50 %9.3f ms  p95 %9.3f ms  (index on employee, cast_at)"
                       "  %s\n",
                       raw[p.queries / 2], raw95, same ? "same answers" : "DIFFERENT ANSWERS");
                snprintf(measured, sizeof(measured), "p95 %.3f ms", ours95);
                snprintf(reference, sizeof(reference), "raw GROUP BY p95 %.3f ms", raw95);
                bench_summary("bench_reports", "one employee, one month", measured, reference,
                              "p95 <= 5 ms", bench_verdict(ours95 <= 5.0 && same));
                if (!same)
                        goto out;
        }
        /* the same right after --fresh new votes scattered over the period that no background
         * fold has seen: the report counts them on the fly (it never folds). Each run is timed
         * again once the background fold's op has taken them in: the reference, with every vote
         * folded, in the same run and on the same data. */
        if (p.fresh_runs > p.queries)
                p.fresh_runs = p.queries;
        {
                struct store_cut q;
                struct report_unit *v = NULL, *w = NULL;
                size_t n = 0, m = 0;
                double ours95, folded95;
                bool same = true;

                memset(&q, 0, sizeof(q));
                report_cut_period(&year, &q);
                for (int i = 0; i < p.fresh_runs; i++) {
                        free(v);
                        v = NULL;
                        if (insert_votes(db, &c, p.fresh, p.fresh, year.start * 1000,
                                         year.end * 1000, true) < 0)
                                goto out;
                        t0 = bench_now_ns();
                        if (report_units(s, &org, 0, &q, &v, &n) < 0)
                                goto out;
                        ours[i] = bench_ms_since(t0);
                        if (fold_all(s) < 0)
                                goto out;
                        free(w);
                        w = NULL;
                        t0 = bench_now_ns();
                        if (report_units(s, &org, 0, &q, &w, &m) < 0)
                                goto out;
                        raw[i] = bench_ms_since(t0);
                        for (size_t k = 0; k < n && k < m; k++)
                                same = same && memcmp(v[k].sum.level, w[k].sum.level,
                                                      sizeof(v[k].sum.level)) == 0;
                }
                free(w);
                w = NULL;
                if (report_units(s, &org, 0, &q, &w, &m) < 0)
                        goto out;
                raw_units(db, &org, &q, year.start * 1000, year.end * 1000, w, m);
                for (size_t i = 0; i < n && i < m; i++)
                        same = same &&
                               memcmp(v[i].sum.level, w[i].sum.level, sizeof(v[i].sum.level)) == 0;
                ours95 = p95(ours, (size_t)p.fresh_runs);
                folded95 = p95(raw, (size_t)p.fresh_runs);
                printf("\nright after %" PRId64
                       " new votes scattered over the period, not yet folded"
                       " (%d runs; counted on the fly, the report never folds)\n",
                       p.fresh, p.fresh_runs);
                printf("  the city for the year by unit  p50 %9.2f ms  p95 %9.2f ms  %s\n",
                       ours[p.fresh_runs / 2], ours95,
                       same ? "same answer as raw" : "DIFFERENT ANSWER");
                printf("    the same, everything folded  p50 %9.2f ms  p95 %9.2f ms\n",
                       raw[p.fresh_runs / 2], folded95);
                snprintf(measured, sizeof(measured), "p95 %.2f ms", ours95);
                snprintf(reference, sizeof(reference), "everything folded p95 %.2f ms", folded95);
                bench_summary("bench_reports", "city, one year, by unit, after new votes", measured,
                              reference, "p95 <= 50 ms", bench_verdict(ours95 <= 50.0 && same));
                free(v);
                free(w);
                if (!same)
                        goto out;
        }
        {
                struct store_cut q;
                double ours95, folded95;
                bool same = true;

                memset(&q, 0, sizeof(q));
                report_cut_period(&month, &q);
                for (int i = 0; i < p.fresh_runs; i++) {
                        struct store_cut_row *rows = NULL, *again = NULL;
                        struct store_counts want;
                        size_t n = 0, m = 0;

                        if (insert_votes(db, &c, p.fresh, p.fresh, month.start * 1000,
                                         month.end * 1000, true) < 0)
                                goto out;
                        q.employee_id = 1 + (int64_t)(rnd() % (uint64_t)c.n_emps);
                        t0 = bench_now_ns();
                        if (s->ops->report_cut(s, &q, &rows, &n) < 0)
                                goto out;
                        ours[i] = bench_ms_since(t0);
                        if (fold_all(s) < 0) {
                                free(rows);
                                goto out;
                        }
                        t0 = bench_now_ns();
                        if (s->ops->report_cut(s, &q, &again, &m) < 0) {
                                free(rows);
                                goto out;
                        }
                        raw[i] = bench_ms_since(t0);
                        raw_employee(db, q.employee_id, month.start * 1000, month.end * 1000,
                                     &want);
                        same = same &&
                               (n ? memcmp(rows[0].n.level, want.level, sizeof(want.level)) == 0
                                  : want.level[0] == 0) &&
                               n == m &&
                               (!n || memcmp(&rows[0].n, &again[0].n, sizeof(rows[0].n)) == 0);
                        free(rows);
                        free(again);
                }
                ours95 = p95(ours, (size_t)p.fresh_runs);
                folded95 = p95(raw, (size_t)p.fresh_runs);
                printf("  one employee for the month     p50 %9.3f ms  p95 %9.3f ms  %s\n",
                       ours[p.fresh_runs / 2], ours95,
                       same ? "same answers as raw" : "DIFFERENT ANSWERS");
                printf("    the same, everything folded  p50 %9.3f ms  p95 %9.3f ms\n",
                       raw[p.fresh_runs / 2], folded95);
                snprintf(measured, sizeof(measured), "p95 %.3f ms", ours95);
                snprintf(reference, sizeof(reference), "everything folded p95 %.3f ms", folded95);
                bench_summary("bench_reports", "one employee, one month, after new votes", measured,
                              reference, "p95 <= 5 ms", bench_verdict(ours95 <= 5.0 && same));
                if (!same)
                        goto out;
        }
        rc = 0;
out:
        if (rc)
                fprintf(stderr, "bench_reports: failed\n");
        free(ours);
        free(raw);
        free(triggers);
        free(c.emp_unit);
        free(c.emp_unit2);
        free(c.emp_move_ms);
        store_report_org_finish(&org);
        sqlite3_close(db);
        store_close(s);
        bench_cleanup_dir(dir);
        return rc;
}
