/* SPDX-License-Identifier: MIT */
/* Internal to the SQLite back end: the schema of the pre-aggregated report counts (migrations
 * 5, 6 and 7) and the report ops over them (store_sqlite_report.c).
 *
 * Votes are folded in in bulk, off the path that stores them: rep_state.w is the watermark,
 * the largest vote id counted in. Storing a vote does nothing more (migration 5's insert
 * trigger, which folded on every 1024th vote, made storing 40-60 % slower and is dropped by
 * migration 6). The collector folds what is new every few seconds from a background thread
 * (report_fold, at most REP_FOLD_MAX votes a call, so that a request never waits long for
 * the lock). That thread is the only writer: a report never folds (it would take the write
 * lock, write and wait for the fsync); it reads the counts and adds the votes above the
 * watermark, counted on the fly from the votes themselves (a rowid range seek: the few stored
 * since the last fold), in the same statement and so the same snapshot, so that every answer
 * counts every vote stored. An update or delete
 * of a vote already folded (id <= w) moves its counts at once, by trigger; one above the
 * watermark needs nothing, its fold will read it as it then is. Per-vote upserts in a trigger
 * made storing votes several times slower (bench/bench_reports.c); in bulk they are cheap.
 *
 * Every count table has the same six counts: c1..c3, the counted votes (counted = 1) per
 * level, and apart the votes that no figure counts: s suppressed by the terminal, f flagged
 * and awaiting review, x flagged and excluded by an official. A vote is in exactly one of the
 * six. The keys (all NOT NULL: 0 or '' stand for "none"):
 *   rep_d   (day, employee_id, unit_id, workplace_id, direction_id, channel, terminal_id)
 *   rep_m   the same by month (YYYYMM)
 *   rep_um  (month, unit_id): the whole city by unit, fast
 *   rep_hd  (day, unit_id, wh) and rep_hm (month, unit_id, wh): the weekday x hour heatmap,
 *           wh = weekday * 100 + local hour, weekday 0 for Sunday as SQLite's %w has it
 *           (107 is Monday 07:00-07:59; the report ops answer ISO weekdays, Sunday 7)
 *   rep_hfd (day, <rep_d's key>, wh) and rep_hfm (month, <rep_m's key>, wh): the heatmap of
 *           any selection (migration 7)
 * Days and months are the city's (votes.day, computed by the collector in the city's zone).
 * The hour comes from SQLite's 'localtime', which follows the process's TZ: the collector sets
 * TZ to its time-zone (period_set_zone) before it opens the store, so both agree. Every key
 * starts with the period, so that the rows new votes touch sit together at the end of each
 * b-tree: folding stays cheap however large the tables grow. */
#pragma once

#include "store.h"

/* The six counts of the vote row V ("NEW" or "OLD"), times the sign S ("1" or "-1"). */
#define REP_VALS(V, S)                                                                             \
        S "*(" V ".counted=1 AND " V ".level=1)," S "*(" V ".counted=1 AND " V ".level=2)," S      \
          "*(" V ".counted=1 AND " V ".level=3)," S "*(" V ".counted=0 AND " V                     \
          ".suppressed IS NOT NULL)," S "*(" V ".counted=0 AND " V ".suppressed IS NULL AND " V    \
          ".review IS NOT 'exclude')," S "*(" V ".counted=0 AND " V ".suppressed IS NULL AND " V   \
          ".review IS 'exclude')"
#define REP_ADD                                                                                    \
        " ON CONFLICT DO UPDATE SET c1=c1+excluded.c1, c2=c2+excluded.c2, c3=c3+excluded.c3,"      \
        " s=s+excluded.s, f=f+excluded.f, x=x+excluded.x;"
#define REP_WH(V) "CAST(strftime('%w%H', " V ".cast_at/1000, 'unixepoch', 'localtime') AS INTEGER)"
#define REP_FINE(V)                                                                                \
        V ".employee_id, " V ".unit_id, IFNULL(" V ".workplace_id, 0), IFNULL(" V                  \
          ".direction_id, 0), " V ".channel, IFNULL(" V ".terminal_id, '')"
/* A vote already folded in (its id at most the watermark) moves its counts in or out at once. */
#define REP_FOLDED(V) " WHERE " V ".id <= (SELECT w FROM rep_state)" REP_ADD
#define REP_APPLY(V, S)                                                                            \
        " INSERT INTO rep_d SELECT " V ".day, " REP_FINE(V) ", " REP_VALS(V, S) REP_FOLDED(        \
            V) " INSERT INTO rep_m SELECT " V ".day/100, " REP_FINE(V) ", " REP_VALS(V, S)         \
            REP_FOLDED(V) " INSERT INTO rep_um SELECT " V ".day/100, " V ".unit_id, " REP_VALS(V,  \
                                                                                               S)  \
                REP_FOLDED(V) " INSERT INTO rep_hd SELECT " V ".day, " V                           \
                              ".unit_id, " REP_WH(V) ", " REP_VALS(V, S)                           \
                                  REP_FOLDED(V) " INSERT INTO rep_hm SELECT " V ".day/100, " V     \
                                                ".unit_id, " REP_WH(V) ", " REP_VALS(V, S)         \
                                                    REP_FOLDED(V)

#define REP_COUNTS                                                                                 \
        " c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, c3 INTEGER NOT NULL, s INTEGER NOT NULL,"      \
        " f INTEGER NOT NULL, x INTEGER NOT NULL"
#define REP_FINE_COLS                                                                              \
        " employee_id INTEGER NOT NULL, unit_id INTEGER NOT NULL, workplace_id INTEGER NOT NULL,"  \
        " direction_id INTEGER NOT NULL, channel TEXT NOT NULL, terminal_id TEXT NOT NULL,"
#define REP_FINE_KEY "employee_id, unit_id, workplace_id, direction_id, channel, terminal_id"
/* The same, vote by vote: upserting row by row needs no sorter (a temporary b-tree for each
 * GROUP BY cost more than the grouping saved), and a key seen twice simply adds up. */
#define REP_ROW                                                                                    \
        " counted=1 AND level=1, counted=1 AND level=2, counted=1 AND level=3,"                    \
        " counted=0 AND suppressed IS NOT NULL,"                                                   \
        " counted=0 AND suppressed IS NULL AND review IS NOT 'exclude',"                           \
        " counted=0 AND suppressed IS NULL AND review IS 'exclude' FROM votes"                     \
        " WHERE id > (SELECT w FROM rep_state)"
#define REP_FINE_SEL                                                                               \
        " employee_id, unit_id, IFNULL(workplace_id, 0), IFNULL(direction_id, 0), channel,"        \
        " IFNULL(terminal_id, ''),"
#define REP_WH_SEL " CAST(strftime('%w%H', cast_at/1000, 'unixepoch', 'localtime') AS INTEGER)"
/* Folds all the votes above the watermark into every table, then moves the watermark: the
 * work of migration 5's insert trigger (kept as it was: that migration's text must not change;
 * the collector now folds by REP_FOLD_STEP). */
#define REP_FOLD                                                                                   \
        "INSERT INTO rep_d SELECT day," REP_FINE_SEL REP_ROW REP_ADD                               \
        "INSERT INTO rep_m SELECT day/100," REP_FINE_SEL REP_ROW REP_ADD                           \
        "INSERT INTO rep_um SELECT day/100, unit_id," REP_ROW REP_ADD                              \
        "INSERT INTO rep_hd SELECT day, unit_id," REP_WH_SEL "," REP_ROW REP_ADD                   \
        "INSERT INTO rep_hm SELECT day/100, unit_id," REP_WH_SEL "," REP_ROW REP_ADD               \
        "UPDATE rep_state SET w = (SELECT IFNULL(MAX(id), 0) FROM votes);"
/* The backfill of the votes stored before migration 5: one grouped upsert per table (on
 * millions of votes the sorter pays for itself). */
#define REP_SUMS                                                                                   \
        " SUM(counted=1 AND level=1), SUM(counted=1 AND level=2), SUM(counted=1 AND level=3),"     \
        " SUM(counted=0 AND suppressed IS NOT NULL),"                                              \
        " SUM(counted=0 AND suppressed IS NULL AND review IS NOT 'exclude'),"                      \
        " SUM(counted=0 AND suppressed IS NULL AND review IS 'exclude') FROM votes WHERE true"
#define REP_BACKFILL                                                                               \
        "INSERT INTO rep_d SELECT day," REP_FINE_SEL REP_SUMS " GROUP BY 1, 2, 3, 4, 5, 6, 7;"     \
        "INSERT INTO rep_m SELECT month, " REP_FINE_KEY ", SUM(c1), SUM(c2), SUM(c3), SUM(s),"     \
        " SUM(f), SUM(x) FROM (SELECT day/100 AS month, * FROM rep_d) GROUP BY 1, 2, 3, 4, 5, 6,"  \
        " 7;"                                                                                      \
        "INSERT INTO rep_um SELECT day/100, unit_id, SUM(c1), SUM(c2), SUM(c3), SUM(s), SUM(f),"   \
        " SUM(x) FROM rep_d GROUP BY 1, 2;"                                                        \
        "INSERT INTO rep_hd SELECT day, unit_id," REP_WH_SEL "," REP_SUMS " GROUP BY 1, 2, 3;"     \
        "INSERT INTO rep_hm SELECT day/100, unit_id, wh, SUM(c1), SUM(c2), SUM(c3), SUM(s),"       \
        " SUM(f), SUM(x) FROM rep_hd GROUP BY 1, 2, 3;"                                            \
        "UPDATE rep_state SET w = (SELECT IFNULL(MAX(id), 0) FROM votes);"
#define REP_FOLD_EVERY "1024" /* migration 5's insert trigger only (dropped by migration 6) */
/* The most votes one fold step takes (the watermark moves by at most this many ids): the
 * longest a write waits for the lock behind the background fold (reports do not: they read on
 * the read-only connection). bench_reports measured 830 ms for a step of 20,000 recent votes
 * at a load average of 6 on 2 cores (39 us a vote) with five tables; with migration 7's two
 * more, 489 ms for a step of 5,000 at a load of 7 (63 us a vote), and 154 ms for 2,500 at
 * a lower load. Votes arrive at up to some 3,000 a second and wait behind a step, so it is
 * 1,000: about 50-60 ms at worst; a step's own commit is a small part of that. */
#define REP_FOLD_MAX 1000
#define REP_FOLD_MAX_S "1000"
/* One bounded step of REP_FOLD: the votes with ids in (w, w + REP_FOLD_MAX]. Both bounds are
 * constant subqueries, so each statement is a range seek on the votes' rowid. */
#define REP_ROW_STEP REP_ROW " AND id <= (SELECT w FROM rep_state) + " REP_FOLD_MAX_S
#define REP_FOLD_STEP                                                                              \
        "INSERT INTO rep_d SELECT day," REP_FINE_SEL REP_ROW_STEP REP_ADD                          \
        "INSERT INTO rep_m SELECT day/100," REP_FINE_SEL REP_ROW_STEP REP_ADD                      \
        "INSERT INTO rep_um SELECT day/100, unit_id," REP_ROW_STEP REP_ADD                         \
        "INSERT INTO rep_hd SELECT day, unit_id," REP_WH_SEL "," REP_ROW_STEP REP_ADD              \
        "INSERT INTO rep_hm SELECT day/100, unit_id," REP_WH_SEL "," REP_ROW_STEP REP_ADD          \
        "INSERT INTO rep_hfd SELECT day," REP_FINE_SEL REP_WH_SEL "," REP_ROW_STEP REP_ADD         \
        "INSERT INTO rep_hfm SELECT day/100," REP_FINE_SEL REP_WH_SEL "," REP_ROW_STEP REP_ADD     \
        "UPDATE rep_state SET w = MIN(w + " REP_FOLD_MAX_S ","                                     \
        " (SELECT IFNULL(MAX(id), 0) FROM votes));"

#define REPORT_MIGRATION                                                                           \
        "CREATE TABLE rep_d(day INTEGER NOT NULL," REP_FINE_COLS REP_COUNTS                        \
        ", PRIMARY KEY(day, " REP_FINE_KEY ")) WITHOUT ROWID;"                                     \
        "CREATE TABLE rep_m(month INTEGER NOT NULL," REP_FINE_COLS REP_COUNTS                      \
        ", PRIMARY KEY(month, " REP_FINE_KEY ")) WITHOUT ROWID;"                                   \
        "CREATE TABLE rep_um(month INTEGER NOT NULL, unit_id INTEGER NOT NULL," REP_COUNTS         \
        ", PRIMARY KEY(month, unit_id)) WITHOUT ROWID;"                                            \
        "CREATE TABLE rep_hd(day INTEGER NOT NULL, unit_id INTEGER NOT NULL,"                      \
        " wh INTEGER NOT NULL," REP_COUNTS ", PRIMARY KEY(day, unit_id, wh)) WITHOUT ROWID;"       \
        "CREATE TABLE rep_hm(month INTEGER NOT NULL, unit_id INTEGER NOT NULL,"                    \
        " wh INTEGER NOT NULL," REP_COUNTS ", PRIMARY KEY(month, unit_id, wh)) WITHOUT ROWID;"     \
        "CREATE TABLE rep_state(w INTEGER NOT NULL);"                                              \
        "INSERT INTO rep_state VALUES (0);" REP_BACKFILL                                           \
        "CREATE TRIGGER rep_vote_in AFTER INSERT ON votes WHEN NEW.id % " REP_FOLD_EVERY " = 0"    \
        " BEGIN " REP_FOLD " END;"                                                                 \
        "CREATE TRIGGER rep_vote_change AFTER UPDATE OF level, employee_id, unit_id, "             \
        "workplace_id,"                                                                            \
        " direction_id, channel, terminal_id, cast_at, day, counted, suppressed, review ON votes"  \
        " BEGIN" REP_APPLY("OLD", "-1")                                                            \
            REP_APPLY("NEW",                                                                       \
                      "1") " END;" /* a new vote takes the largest id + 1: after the largest is    \
                                    * deleted, the watermark comes down, so that the next vote is                                                    \
                                    * still above it */                                            \
                           "CREATE TRIGGER rep_vote_out AFTER DELETE ON votes BEGIN" REP_APPLY(    \
                               "OLD", "-1") " UPDATE rep_state SET w = (SELECT IFNULL(MAX(id), "   \
                                            "0) FROM votes)"                                       \
                                            " WHERE w > (SELECT IFNULL(MAX(id), 0) FROM votes); "  \
                                            "END;" /* alerts                                       \
                                                      (collector/alert.c):                         \
                                                      one row                                      \
                                                      per burst                                    \
                                                      of                                           \
                                                      «Задовільно»                     \
                                                      in a                                         \
                                                      unit's                                       \
                                                      subtree */                                   \
                                            "CREATE TABLE rep_alerts(id INTEGER PRIMARY KEY, "     \
                                            "unit_id INTEGER NOT "                                 \
                                            "NULL,"                                                \
                                            " from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, "  \
                                            "n INTEGER NOT "                                       \
                                            "NULL,"                                                \
                                            " n1 INTEGER NOT NULL, raised_at INTEGER NOT NULL, "   \
                                            "mailed_at INTEGER,"                                   \
                                            " mail_error TEXT NOT NULL DEFAULT '');"               \
                                            "CREATE INDEX rep_alerts_unit ON rep_alerts(unit_id, " \
                                            "to_ms);"

/* Migration 6: votes are no longer folded as they are stored (see the top). The update and
 * delete triggers stay: they act on folded votes only (id <= w, REP_FOLDED). */
#define REPORT_MIGRATION_6 "DROP TRIGGER IF EXISTS rep_vote_in;"

/* Migration 7: the weekday x hour heatmap for any selection, not by unit only. rep_hfd and
 * rep_hfm are rep_d and rep_m with the hour of the week (wh, as in rep_hd) at the end of the
 * key: a filter by employee, direction, workplace, channel or terminal needs it, and no other
 * table has both. They are backfilled from the votes already folded (id <= w; the fold step
 * takes the rest), and the update and delete triggers are made again to move their counts
 * too. */
#define REP_HF_APPLY(V, S)                                                                         \
        " INSERT INTO rep_hfd SELECT " V ".day, " REP_FINE(V) ", " REP_WH(V) ", " REP_VALS(V, S)   \
            REP_FOLDED(V) " INSERT INTO rep_hfm SELECT " V ".day/100, " REP_FINE(V) ", " REP_WH(V) \
                          ", " REP_VALS(V, S) REP_FOLDED(V)
#define REPORT_MIGRATION_7                                                                         \
        "CREATE TABLE rep_hfd(day INTEGER NOT NULL," REP_FINE_COLS " wh INTEGER NOT NULL,"         \
        REP_COUNTS ", PRIMARY KEY(day, " REP_FINE_KEY ", wh)) WITHOUT ROWID;"                      \
        "CREATE TABLE rep_hfm(month INTEGER NOT NULL," REP_FINE_COLS " wh INTEGER NOT NULL,"       \
        REP_COUNTS ", PRIMARY KEY(month, " REP_FINE_KEY ", wh)) WITHOUT ROWID;"                    \
        "INSERT INTO rep_hfd SELECT day," REP_FINE_SEL REP_WH_SEL "," REP_SUMS                     \
        " AND id <= (SELECT w FROM rep_state) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;"                    \
        "INSERT INTO rep_hfm SELECT day/100, " REP_FINE_KEY ", wh, SUM(c1), SUM(c2), SUM(c3),"     \
        " SUM(s), SUM(f), SUM(x) FROM rep_hfd GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;"                    \
        "DROP TRIGGER rep_vote_change; DROP TRIGGER rep_vote_out;"                                 \
        "CREATE TRIGGER rep_vote_change AFTER UPDATE OF level, employee_id, unit_id,"              \
        " workplace_id, direction_id, channel, terminal_id, cast_at, day, counted, suppressed,"    \
        " review ON votes BEGIN" REP_APPLY("OLD", "-1") REP_HF_APPLY("OLD", "-1")                  \
            REP_APPLY("NEW", "1") REP_HF_APPLY("NEW", "1") " END;"                                 \
        "CREATE TRIGGER rep_vote_out AFTER DELETE ON votes BEGIN" REP_APPLY("OLD", "-1")           \
            REP_HF_APPLY("OLD", "-1") " UPDATE rep_state SET w = (SELECT IFNULL(MAX(id), 0)"       \
                                      " FROM votes) WHERE w > (SELECT IFNULL(MAX(id), 0) FROM"     \
                                      " votes); END;"

/* The report ops (struct store_ops), in store_sqlite_report.c. */
int sq_report_fold(struct store *base);
int sq_report_cut(struct store *base, const struct store_cut *q, struct store_cut_row **ret,
                  size_t *ret_n);
int sq_report_org(struct store *base, struct store_report_org *ret);
int sq_alert_window(struct store *base, int64_t from_ms, int64_t to_ms,
                    struct store_alert_vote **ret, size_t *ret_n);
int sq_alert_add(struct store *base, const struct store_alert *a, int64_t *ret_id);
int sq_alert_list(struct store *base, int64_t unit_id, int64_t since_ms, size_t limit,
                  struct store_alert **ret, size_t *ret_n);
int sq_alert_mailed(struct store *base, int64_t id, int64_t at, const char *error);
