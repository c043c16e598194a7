/* SPDX-License-Identifier: MIT */
/* The pre-aggregated report counts against a straightforward computation: a random tree of
 * units, employees who move between units while votes arrive (a vote keeps the unit it was
 * cast in), votes through the real store ops (terminal batches and vote pages) bunched around
 * the days daylight saving starts and ends in Kyiv, suppressed and flagged votes, some flagged
 * ones then counted or excluded by an official. Every cut (by each key, with each filter, over
 * days, weeks, months, quarters, years and ranges) must equal the same cut computed here in C
 * from the test's own list of votes, with local days and hours from localtime_r(). Votes are
 * folded into the counts now and then while they arrive (as the collector's background thread
 * does), so that reviews meet both folded votes and votes no fold has seen. Every cut is
 * checked twice: first with the last votes left unfolded (reports count them on the fly and
 * must not fold them), then with everything folded. Then the migrations' backfill is checked
 * the same way, by dropping the counts and migrating again; and apart, that a report right
 * after new votes counts them without folding, and that folding is idempotent. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "period.h"
#include "proto.h"
#include "report.h"
#include "store.h"
#include "store_sqlite_report.h"
#include "testutil.h"
#include "webtest.h"

#define N_UNITS 14
#define N_DIRS 3
#define N_WPS 9
#define N_TERMS 5
#define N_EMPS 24
#define N_VOTES 3000
#define SECRET "Xq3-vR8s_p2Lm9TzK4wB"
#define SHIFT "0190a1b2-0000-7000-8000-000000000001"

enum { CAT_COUNTED, CAT_SUPPRESSED, CAT_FLAGGED, CAT_EXCLUDED };

/* A vote as the test cast it, with what the store must have made of it. */
struct rv {
        char uuid[VOTE_ID_LEN + 1];
        int level;
        int64_t emp, unit, wp, dir;
        char channel[VOTE_CHANNEL_MAX + 1];
        char term[VOTE_REF_MAX + 1];
        int64_t cast_ms;
        int cat;
        int32_t day;
        int wh;
        bool flagged; /* may be reviewed */
};

struct world {
        char dir[256], db[300];
        struct store *s;
        int64_t unit[N_UNITS], unit_parent[N_UNITS]; /* ids; parent id or 0 */
        int64_t dirs[N_DIRS];
        int64_t wp[N_WPS], wp_unit[N_WPS], wp_dir[N_WPS];
        char wp_code[N_WPS][16];
        int term_wp[N_TERMS]; /* index of the terminal's workplace */
        int64_t emp[N_EMPS], emp_unit[N_EMPS];
        char emp_no[N_EMPS][16];
        struct rv *v;
        size_t n;
        uint64_t rng;
};

static uint32_t rnd(struct world *w)
{
        w->rng ^= w->rng << 13;
        w->rng ^= w->rng >> 7;
        w->rng ^= w->rng << 17;
        return (uint32_t)(w->rng >> 11);
}

static int64_t rnd_range(struct world *w, int64_t lo, int64_t hi) /* [lo, hi) */
{
        uint64_t x = ((uint64_t)rnd(w) << 32) | rnd(w);

        return lo + (int64_t)(x % (uint64_t)(hi - lo));
}

static void local_keys(int64_t ms, int32_t *day, int *wh)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;

        assert_non_null(localtime_r(&t, &tm));
        *day = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
        *wh = (tm.tm_wday == 0 ? 7 : tm.tm_wday) * 100 + tm.tm_hour;
}

/* Kyiv's daylight-saving changes: 2024-03-31, 2024-10-27, 2025-03-30, 2025-10-26, at 01:00
 * UTC. */
static const int64_t dst_s[] = {1711846800, 1729990800, 1743296400, 1761440400};

static int64_t pick_time(struct world *w)
{
        /* 2024-01-01 .. 2026-03-01 (UTC), or within 36 hours of a change */
        if (rnd(w) % 10 < 4)
                return (dst_s[rnd(w) % 4] + rnd_range(w, -36 * 3600, 36 * 3600)) * 1000 +
                       rnd_range(w, 0, 1000);
        return rnd_range(w, 1704067200000LL, 1772323200000LL);
}

static void build_org(struct world *w)
{
        const struct store_ops *o = w->s->ops;
        char code[32], name[64];

        for (int i = 0; i < N_UNITS; i++) {
                /* two roots: the city and one body outside it */
                int64_t parent = i == 0 || i == 5 ? 0 : w->unit[rnd(w) % i];

                snprintf(name, sizeof(name), "Підрозділ %d", i);
                assert_int_equal(o->unit_add(w->s, parent, "section", name, "", &w->unit[i]), 0);
                w->unit_parent[i] = parent;
        }
        for (int i = 0; i < N_DIRS; i++) {
                snprintf(code, sizeof(code), "D%d", i);
                assert_int_equal(o->direction_add(w->s, code, code, code, &w->dirs[i]), 0);
        }
        for (int i = 0; i < N_WPS; i++) {
                w->wp_unit[i] = w->unit[rnd(w) % N_UNITS];
                w->wp_dir[i] = i % 4 == 3 ? 0 : w->dirs[rnd(w) % N_DIRS];
                snprintf(w->wp_code[i], sizeof(w->wp_code[i]), "W%d", i);
                assert_int_equal(o->workplace_add(w->s, w->wp_code[i], w->wp_code[i], w->wp_unit[i],
                                                  w->wp_dir[i], &w->wp[i]),
                                 0);
        }
        for (int i = 0; i < N_TERMS; i++) {
                w->term_wp[i] = i;
                snprintf(code, sizeof(code), "T%d", i);
                assert_int_equal(o->terminal_add(w->s, code, w->wp_code[i], SECRET), 0);
        }
        for (int i = 0; i < N_EMPS; i++) {
                w->emp_unit[i] = w->unit[rnd(w) % N_UNITS];
                snprintf(w->emp_no[i], sizeof(w->emp_no[i]), "E%03d", i);
                snprintf(name, sizeof(name), "Працівник %d", i);
                assert_int_equal(o->employee_add(w->s, w->emp_no[i], name, "фахівець",
                                                 w->emp_unit[i], i % 7 == 0, &w->emp[i]),
                                 0);
        }
}

static void cast_terminal(struct world *w, struct rv *v, int e)
{
        int t = (int)(rnd(w) % N_TERMS);
        struct proto_vote pv;
        struct proto_batch b = {0};
        struct proto_result res;
        struct proto_ack ack = {0};
        uint32_t x = rnd(w) % 20;

        memset(&pv, 0, sizeof(pv));
        vote_id_new(&pv.vote.id);
        pv.vote.level = v->level;
        snprintf(pv.vote.channel, sizeof(pv.vote.channel), "%s", VOTE_CHANNEL_TERMINAL);
        snprintf(pv.vote.employee, sizeof(pv.vote.employee), "%s", w->emp_no[e]);
        pv.vote.cast_at_ms = v->cast_ms;
        if (x == 0) /* no open shift: flagged */
                v->cat = CAT_FLAGGED, v->flagged = true;
        else
                snprintf(pv.vote.shift, sizeof(pv.vote.shift), "%s", SHIFT);
        if (x == 1 || x == 2) {
                snprintf(pv.vote.suppressed, sizeof(pv.vote.suppressed), "%s",
                         VOTE_SUPPRESSED_MIN_INTERVAL);
                v->cat = CAT_SUPPRESSED;
                v->flagged = false;
        }
        snprintf(b.terminal, sizeof(b.terminal), "T%d", t);
        b.n_votes = 1;
        b.votes = &pv;
        ack.results = &res;
        assert_int_equal(w->s->ops->store_batch(w->s, b.terminal, &b, v->cast_ms, &ack), 0);
        assert_int_equal(res.status, PROTO_STORED);
        snprintf(v->uuid, sizeof(v->uuid), "%s", pv.vote.id.s);
        snprintf(v->channel, sizeof(v->channel), "%s", VOTE_CHANNEL_TERMINAL);
        snprintf(v->term, sizeof(v->term), "T%d", t);
        v->wp = w->wp[w->term_wp[t]];
        v->dir = w->wp_dir[w->term_wp[t]];
}

static void cast_page(struct world *w, struct rv *v, int e)
{
        static const char *const channels[] = {VOTE_CHANNEL_QR_PRINTED, VOTE_CHANNEL_QR_REPLY,
                                               VOTE_CHANNEL_QR_SCREEN};
        struct store_employee se;
        struct store_web_vote wv;
        int wpi = (int)(rnd(w) % (N_WPS + 2)); /* sometimes no workplace */

        memset(&se, 0, sizeof(se));
        memset(&wv, 0, sizeof(wv));
        se.id = w->emp[e];
        snprintf(se.channel, sizeof(se.channel), "%s", channels[rnd(w) % 3]);
        if (wpi < N_WPS) {
                snprintf(se.workplace, sizeof(se.workplace), "%s", w->wp_code[wpi]);
                v->wp = w->wp[wpi];
                v->dir = w->wp_dir[wpi];
        }
        wv.level = v->level;
        vote_id_new(&wv.id);
        wv.cast_ms = v->cast_ms;
        for (int i = 0; i < 32; i++)
                wv.client_hash[i] = wv.phone_hash[i] = (uint8_t)rnd(w);
        if (rnd(w) % 8 == 0) {
                snprintf(wv.flag, sizeof(wv.flag), "address_rate");
                v->cat = CAT_FLAGGED;
                v->flagged = true;
        }
        assert_int_equal(w->s->ops->store_web_vote(w->s, &se, &wv), 0);
        snprintf(v->uuid, sizeof(v->uuid), "%s", wv.id.s);
        snprintf(v->channel, sizeof(v->channel), "%s", se.channel);
}

/* Folds every vote stored so far into the counts, as the collector's background thread does. */
static void fold_all(struct world *w)
{
        int r;

        while ((r = w->s->ops->report_fold(w->s)) > 0)
                ;
        assert_int_equal(r, 0);
}

/* Casts votes from .. to - 1 of w->v (room for them allocated), folding after every
 * fold_every-th (0: never). */
static void cast_range(struct world *w, size_t from, size_t to, size_t fold_every)
{
        char sql[256];

        for (size_t i = from; i < to; i++) {
                struct rv *v = &w->v[i];
                int e = (int)(rnd(w) % N_EMPS);

                /* now and then an employee moves to another unit; votes cast before stay */
                if (i % 150 == 149) {
                        int m = (int)(rnd(w) % N_EMPS);

                        w->emp_unit[m] = w->unit[rnd(w) % N_UNITS];
                        snprintf(sql, sizeof(sql),
                                 "UPDATE employees SET unit_id = %" PRId64 " WHERE id = %" PRId64,
                                 w->emp_unit[m], w->emp[m]);
                        webtest_file_exec(w->db, sql);
                }
                v->level = 1 + (int)(rnd(w) % 3);
                v->emp = w->emp[e];
                v->unit = w->emp_unit[e];
                v->cast_ms = pick_time(w);
                v->cat = CAT_COUNTED;
                if (rnd(w) % 2)
                        cast_terminal(w, v, e);
                else
                        cast_page(w, v, e);
                local_keys(v->cast_ms, &v->day, &v->wh);
                if (fold_every && i % fold_every == fold_every - 1)
                        fold_all(w);
        }
        w->n = to;
}

static void cast_all(struct world *w)
{
        w->v = calloc(N_VOTES, sizeof(*w->v));
        assert_non_null(w->v);
        /* the last votes stay unfolded: some reviews below meet votes no fold has seen */
        cast_range(w, 0, N_VOTES, 700);
        /* an official reviews some of the flagged votes: counts some, excludes others */
        for (size_t i = 0; i < w->n; i++) {
                struct rv *v = &w->v[i];
                uint32_t x;

                if (!v->flagged)
                        continue;
                x = rnd(w) % 3;
                if (x == 2)
                        continue;
                assert_int_equal(
                    w->s->ops->vote_review(w->s, v->uuid, x == 0, "checked", "official", 0, 1), 0);
                v->cat = x == 0 ? CAT_COUNTED : CAT_EXCLUDED;
        }
        /* and one excluded vote is counted after all, one counted one excluded again */
        for (size_t i = 0, moved = 0; i < w->n && moved < 2; i++) {
                struct rv *v = &w->v[i];

                if (!v->flagged || v->cat == CAT_FLAGGED)
                        continue;
                assert_int_equal(w->s->ops->vote_review(w->s, v->uuid, v->cat == CAT_EXCLUDED,
                                                        "second look", "official", 0, 2),
                                 0);
                v->cat = v->cat == CAT_EXCLUDED ? CAT_COUNTED : CAT_EXCLUDED;
                moved++;
        }
}

static bool in_subtree(const struct world *w, int64_t root, int64_t unit)
{
        for (int hops = 0; hops <= N_UNITS; hops++) {
                if (root == 0 || unit == root)
                        return true;
                for (int i = 0; i < N_UNITS; i++)
                        if (w->unit[i] == unit) {
                                unit = w->unit_parent[i];
                                break;
                        }
                if (unit == 0)
                        return false;
        }
        return false;
}

/* The cut over the test's own list, as rows sorted like the store's. */
static size_t reference(const struct world *w, const struct store_cut *q, struct store_cut_row *out)
{
        size_t n = 0;

        for (size_t i = 0; i < w->n; i++) {
                const struct rv *v = &w->v[i];
                int64_t key = 0, key2 = 0;
                const char *text = "";
                size_t k;

                if (v->day < q->from_day || v->day >= q->to_day ||
                    !in_subtree(w, q->unit_id, v->unit) ||
                    (q->employee_id && v->emp != q->employee_id) ||
                    (q->direction_id && v->dir != q->direction_id) ||
                    (q->workplace_id && v->wp != q->workplace_id) ||
                    (q->channel[0] && strcmp(v->channel, q->channel) != 0) ||
                    (q->terminal[0] && strcmp(v->term, q->terminal) != 0))
                        continue;
                switch (q->by) {
                case STORE_BY_TOTAL:
                        break;
                case STORE_BY_UNIT:
                        key = v->unit;
                        break;
                case STORE_BY_EMPLOYEE:
                        key = v->emp;
                        break;
                case STORE_BY_EMPLOYEE_UNIT:
                        key = v->emp;
                        key2 = v->unit;
                        break;
                case STORE_BY_DIRECTION:
                        key = v->dir;
                        break;
                case STORE_BY_WORKPLACE:
                        key = v->wp;
                        break;
                case STORE_BY_CHANNEL:
                        text = v->channel;
                        break;
                case STORE_BY_TERMINAL:
                        text = v->term;
                        break;
                case STORE_BY_DAY:
                        key = v->day;
                        break;
                case STORE_BY_MONTH:
                        key = v->day / 100;
                        break;
                case STORE_BY_WEEKHOUR:
                        key = v->wh;
                        break;
                }
                for (k = 0; k < n; k++)
                        if (out[k].key == key && out[k].key2 == key2 &&
                            strcmp(out[k].text, text) == 0)
                                break;
                if (k == n) {
                        memset(&out[n], 0, sizeof(out[n]));
                        out[n].key = key;
                        out[n].key2 = key2;
                        snprintf(out[n].text, sizeof(out[n].text), "%s", text);
                        n++;
                }
                switch (v->cat) {
                case CAT_COUNTED:
                        out[k].n.level[v->level]++;
                        out[k].n.level[0]++;
                        break;
                case CAT_SUPPRESSED:
                        out[k].n.suppressed++;
                        break;
                case CAT_FLAGGED:
                        out[k].n.flagged++;
                        break;
                case CAT_EXCLUDED:
                        out[k].n.excluded++;
                        break;
                }
        }
        return n;
}

static int row_cmp(const void *a, const void *b)
{
        const struct store_cut_row *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        if (x->key2 != y->key2)
                return x->key2 < y->key2 ? -1 : 1;
        return strcmp(x->text, y->text);
}

static const char *const by_names[] = {"total",     "unit",     "employee",     "direction",
                                       "workplace", "channel",  "terminal",     "day",
                                       "month",     "weekhour", "employee_unit"};

static int checked;

static void check_cut(const struct world *w, const struct store_cut *q, const char *what)
{
        static struct store_cut_row want[N_VOTES + 1];
        struct store_cut_row *got = NULL;
        size_t n_got = 0, n_want;
        int r = w->s->ops->report_cut(w->s, q, &got, &n_got);

        if (r < 0)
                fail_msg("%s by %s: report_cut: %s", what, by_names[q->by], strerror(-r));
        n_want = reference(w, q, want);
        qsort(want, n_want, sizeof(want[0]), row_cmp);
        if (n_got)
                qsort(got, n_got, sizeof(got[0]), row_cmp);
        if (n_got != n_want)
                fail_msg("%s by %s (unit %" PRId64 ", employee %" PRId64 "): %zu rows, want %zu",
                         what, by_names[q->by], q->unit_id, q->employee_id, n_got, n_want);
        for (size_t i = 0; i < n_got; i++) {
                const struct store_counts *a = &got[i].n, *b = &want[i].n;

                if (got[i].key != want[i].key || got[i].key2 != want[i].key2 ||
                    strcmp(got[i].text, want[i].text) != 0 || memcmp(a, b, sizeof(*a)) != 0)
                        fail_msg("%s by %s, row %zu: got key %" PRId64 "/%" PRId64 " '%s' %" PRId64
                                 "/%" PRId64 "/%" PRId64 " s%" PRId64 " f%" PRId64 " x%" PRId64
                                 "; want key %" PRId64 "/%" PRId64 " '%s' %" PRId64 "/%" PRId64
                                 "/%" PRId64 " s%" PRId64 " f%" PRId64 " x%" PRId64,
                                 what, by_names[q->by], i, got[i].key, got[i].key2, got[i].text,
                                 a->level[1], a->level[2], a->level[3], a->suppressed, a->flagged,
                                 a->excluded, want[i].key, want[i].key2, want[i].text, b->level[1],
                                 b->level[2], b->level[3], b->suppressed, b->flagged, b->excluded);
        }
        free(got);
        checked++;
}

/* Every grouping with every kind of filter, over one period. */
static void check_period(struct world *w, const char *label)
{
        struct period p;
        struct store_cut q;

        assert_int_equal(period_parse(label, &p), 0);
        for (int f = 0; f < 8; f++) {
                memset(&q, 0, sizeof(q));
                assert_int_equal(report_cut_period(&p, &q), 0);
                switch (f) {
                case 1:
                        q.unit_id = w->unit[rnd(w) % N_UNITS];
                        break;
                case 2:
                        q.unit_id = w->unit[0];
                        break; /* the city's root */
                case 3:
                        q.employee_id = w->emp[rnd(w) % N_EMPS];
                        break;
                case 4:
                        q.direction_id = w->dirs[rnd(w) % N_DIRS];
                        break;
                case 5:
                        q.workplace_id = w->wp[rnd(w) % N_WPS];
                        break;
                case 6:
                        snprintf(q.channel, sizeof(q.channel), "%s",
                                 rnd(w) % 2 ? VOTE_CHANNEL_TERMINAL : VOTE_CHANNEL_QR_PRINTED);
                        break;
                case 7:
                        snprintf(q.terminal, sizeof(q.terminal), "T%u", rnd(w) % N_TERMS);
                        q.unit_id = w->unit[rnd(w) % N_UNITS];
                        break;
                }
                /* every grouping, the heatmap (by weekhour) included, with every filter */
                for (int by = STORE_BY_TOTAL; by <= STORE_BY_EMPLOYEE_UNIT; by++) {
                        q.by = (enum store_cut_by)by;
                        check_cut(w, &q, label);
                }
        }
}

static const char *const fixed_periods[] = {
    "2025-03-30",
    "2025-10-26",
    "2024-03-31",
    "2024-10-27",
    "2025-03-29",
    "2025-10-27",
    "2025-W13",
    "2025-W43",
    "2024-W13",
    "2024-W44",
    "2025-03",
    "2025-10",
    "2024-02",
    "2024-03",
    "2025-Q1",
    "2024-Q4",
    "2024",
    "2025",
    "2026",
    "2025-03-29..2025-03-31",
    "2024-10-15..2025-04-10",
    "2024-01-01..2026-02-28",
    "2024-03-31..2024-03-31",
    "2023-12-31..2024-01-02",
};

static void check_all(struct world *w)
{
        char label[PERIOD_LABEL_MAX];

        for (size_t i = 0; i < sizeof(fixed_periods) / sizeof(fixed_periods[0]); i++)
                check_period(w, fixed_periods[i]);
        /* random days and ranges, some around the changes */
        for (int i = 0; i < 16; i++) {
                struct period a, b, r;

                assert_int_equal(period_containing(PERIOD_DAY, pick_time(w) / 1000, &a), 0);
                assert_int_equal(period_containing(PERIOD_DAY, pick_time(w) / 1000, &b), 0);
                r.kind = PERIOD_DAY;
                r.start = a.start < b.start ? a.start : b.start;
                r.end = a.start < b.start ? b.end : a.end;
                assert_int_equal(period_label(i % 2 ? &a : &r, label, sizeof(label)), 0);
                check_period(w, label);
        }
}

static void world_open(struct world *w, uint64_t seed)
{
        memset(w, 0, sizeof(*w));
        w->rng = seed;
        assert_int_equal(period_set_zone("Europe/Kyiv"), 0);
        assert_int_equal(test_mkdtemp(w->dir, sizeof(w->dir), "otsinka-report-cuts"), 0);
        snprintf(w->db, sizeof(w->db), "%s/collector.db", w->dir);
        assert_int_equal(store_open(w->db, &w->s), 0);
}

static void world_close(struct world *w)
{
        store_close(w->s);
        test_remove_tree(w->dir);
        free(w->v);
}

/* How many vote ids are above the watermark: 0 when every vote is folded in. */
static int64_t behind(const struct world *w)
{
        return webtest_file_query(
            w->db, NULL, 0, "SELECT (SELECT IFNULL(MAX(id), 0) FROM votes) - w FROM rep_state");
}

static void test_cuts_match_raw_votes(void **state)
{
        struct world w;
        int64_t tail;
        const char *seed_env = getenv("OTSINKA_TEST_SEED");
        uint64_t seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL);

        (void)state;
        if (!seed)
                seed = 1;
        print_message("seed %" PRIu64 " (OTSINKA_TEST_SEED repeats it)\n", seed);
        world_open(&w, seed);
        build_org(&w);
        cast_all(&w);
        /* the last votes are not folded: reports count them on the fly and leave them so */
        tail = behind(&w);
        assert_true(tail > 0);
        checked = 0;
        check_all(&w);
        assert_int_equal(behind(&w), tail);
        print_message("%d cuts equal the computation over the raw votes with %" PRId64
                      " votes unfolded\n",
                      checked, tail);
        fold_all(&w);
        assert_int_equal(behind(&w), 0);
        checked = 0;
        check_all(&w);
        print_message("%d cuts equal it again with every vote folded\n", checked);

        /* the migrations' backfill: drop the counts, run the report migrations again (their
         * own text, on a connection of this process, so in the same zone), the same answers */
        store_close(w.s);
        w.s = NULL;
        webtest_file_exec(w.db, "DROP TRIGGER IF EXISTS rep_vote_in; DROP TRIGGER rep_vote_change;"
                                " DROP TRIGGER rep_vote_out; DROP TABLE rep_d; DROP TABLE rep_m;"
                                " DROP TABLE rep_um; DROP TABLE rep_hd; DROP TABLE rep_hm;"
                                " DROP TABLE rep_hfd; DROP TABLE rep_hfm;"
                                " DROP TABLE rep_alerts; DROP TABLE rep_state;");
        webtest_file_exec(w.db, "BEGIN;" REPORT_MIGRATION REPORT_MIGRATION_6 REPORT_MIGRATION_7
                                "COMMIT;");
        assert_int_equal(store_open(w.db, &w.s), 0);
        checked = 0;
        check_all(&w);
        print_message("after the backfill: %d cuts equal again\n", checked);

        /* a vote deleted leaves the counts too */
        {
                char sql[128];

                snprintf(sql, sizeof(sql), "DELETE FROM votes WHERE uuid = '%s'", w.v[0].uuid);
                webtest_file_exec(w.db, sql);
                w.v[0] = w.v[--w.n];
                check_period(&w, "2024-01-01..2026-02-28");
        }
        world_close(&w);
}

/* A few cuts over every vote cast, each against the raw computation. */
static void check_whole(struct world *w)
{
        static const enum store_cut_by bys[] = {STORE_BY_TOTAL,    STORE_BY_UNIT,
                                                STORE_BY_EMPLOYEE, STORE_BY_WEEKHOUR,
                                                STORE_BY_DAY,      STORE_BY_EMPLOYEE_UNIT};
        struct period p;
        struct store_cut q;

        assert_int_equal(period_parse("2024-01-01..2026-02-28", &p), 0);
        for (size_t i = 0; i < sizeof(bys) / sizeof(bys[0]); i++) {
                memset(&q, 0, sizeof(q));
                assert_int_equal(report_cut_period(&p, &q), 0);
                q.by = bys[i];
                check_cut(w, &q, "the whole range");
        }
}

/* An official counts (count) or excludes the first vote of w->v[from, to) awaiting review. */
static void review_first_flagged(struct world *w, size_t from, size_t to, bool count)
{
        for (size_t i = from; i < to; i++)
                if (w->v[i].flagged && w->v[i].cat == CAT_FLAGGED) {
                        assert_int_equal(w->s->ops->vote_review(w->s, w->v[i].uuid, count,
                                                                "checked", "official", 0, 1),
                                         0);
                        w->v[i].cat = count ? CAT_COUNTED : CAT_EXCLUDED;
                        return;
                }
}

/* No background fold: a report right after new votes counts them (on the fly: it never folds,
 * so the votes stay above the watermark), and folding again, or with nothing new, changes
 * nothing. A fold takes at most REP_FOLD_MAX votes a call and says when more are left. */
static void test_unfolded_on_read_and_idempotent(void **state)
{
        struct world w;
        size_t copies = REP_FOLD_MAX + REP_FOLD_MAX / 2, cap = 700 + copies;
        char sql[1024];

        (void)state;
        world_open(&w, 12345);
        build_org(&w);
        w.v = calloc(cap, sizeof(*w.v));
        assert_non_null(w.v);

        /* stored, never folded: a report counts them, and leaves them to the fold */
        cast_range(&w, 0, 400, 0);
        assert_int_equal(behind(&w), 400);
        check_whole(&w);
        assert_int_equal(behind(&w), 400);
        fold_all(&w);
        assert_int_equal(behind(&w), 0);
        check_whole(&w);

        /* idempotent: nothing new, nothing done, the same answers */
        assert_int_equal(w.s->ops->report_fold(w.s), 0);
        assert_int_equal(w.s->ops->report_fold(w.s), 0);
        check_whole(&w);

        /* some folded by the background op, then more that no fold has seen */
        cast_range(&w, 400, 600, 0);
        assert_int_equal(w.s->ops->report_fold(w.s), 0); /* 200 votes: one step */
        assert_int_equal(behind(&w), 0);
        assert_int_equal(w.s->ops->report_fold(w.s), 0);
        cast_range(&w, 600, 650, 0);
        /* a review of a vote no fold has seen: its fold reads it as it then is */
        review_first_flagged(&w, 600, 650, false);
        assert_int_equal(behind(&w), 50);
        check_whole(&w);
        assert_int_equal(behind(&w), 50);
        /* a review of a folded vote while others are unfolded: moved by trigger, once */
        review_first_flagged(&w, 0, 600, true);
        check_whole(&w);
        fold_all(&w);
        check_whole(&w);

        /* more than one step: copies of vote 0 stored with SQL */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id,"
                 " direction_id, channel, terminal_id, shift, cast_at, received_at, day,"
                 " suppressed, counted, flag, review)"
                 " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %zu)"
                 " SELECT v.uuid || '-' || n.i, level, employee_id, unit_id, workplace_id,"
                 " direction_id, channel, terminal_id, shift, cast_at, received_at, day,"
                 " suppressed, counted, flag, review FROM votes v, n WHERE v.uuid = '%s'",
                 copies, w.v[0].uuid);
        webtest_file_exec(w.db, sql);
        for (size_t i = 0; i < copies; i++)
                w.v[w.n++] = w.v[0];
        assert_int_equal(w.s->ops->report_fold(w.s), 1); /* more are left */
        assert_int_equal(behind(&w), (int64_t)(copies - REP_FOLD_MAX));
        assert_int_equal(w.s->ops->report_fold(w.s), 0);
        assert_int_equal(behind(&w), 0);
        assert_int_equal(w.s->ops->report_fold(w.s), 0);
        check_whole(&w);
        world_close(&w);
}

static void test_index_and_interval(void **state)
{
        struct report_fig f;
        struct store_counts n;

        (void)state;
        memset(&n, 0, sizeof(n));
        report_fig_make(&n, &f);
        assert_true(f.index == 0.0 && f.lo == 0.0 && f.hi == 100.0);
        /* 1 satisfactory, 1 good, 2 exemplary: 50 * (1 + 4) / 4 = 62.5 */
        n.level[1] = 1, n.level[2] = 1, n.level[3] = 2, n.level[0] = 4, n.flagged = 3;
        report_fig_make(&n, &f);
        assert_true(fabs(f.index - 62.5) < 1e-9);
        assert_true(fabs(f.share[3] - 0.5) < 1e-9);
        assert_int_equal(f.not_counted, 3);
        assert_true(f.lo < 62.5 && f.hi > 62.5 && f.lo >= 0 && f.hi <= 100);
        /* all exemplary: 100, and the interval is not a point */
        memset(&n, 0, sizeof(n));
        n.level[3] = n.level[0] = 5;
        report_fig_make(&n, &f);
        assert_true(f.index == 100.0 && f.hi == 100.0 && f.lo < 70.0 && f.lo > 40.0);
        /* more votes, the same index: a narrower interval (Wilson, 95 %: 1000 votes at p=0.5
         * give 50 ± 3.1) */
        memset(&n, 0, sizeof(n));
        n.level[2] = n.level[0] = 1000;
        report_fig_make(&n, &f);
        assert_true(fabs(f.lo - 46.9) < 0.1 && fabs(f.hi - 53.1) < 0.1);
}

static void test_rank_small_counts(void **state)
{
        struct report_ranked v[3];
        struct store_counts n;

        (void)state;
        memset(v, 0, sizeof(v));
        /* 2 votes, both exemplary; 200 votes at 90; 1 vote below the minimum */
        memset(&n, 0, sizeof(n));
        n.level[3] = n.level[0] = 2;
        v[0].id = 1;
        report_fig_make(&n, &v[0].fig);
        memset(&n, 0, sizeof(n));
        n.level[3] = 160, n.level[2] = 40, n.level[0] = 200;
        v[1].id = 2;
        report_fig_make(&n, &v[1].fig);
        memset(&n, 0, sizeof(n));
        n.level[3] = n.level[0] = 1;
        v[2].id = 3;
        report_fig_make(&n, &v[2].fig);
        report_rank(v, 3, 2);
        assert_int_equal(v[0].id, 2); /* many votes at 90 beat two at 100 */
        assert_int_equal(v[1].id, 1);
        assert_int_equal(v[2].id, 3);
        assert_false(v[2].ranked);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_index_and_interval),
            cmocka_unit_test(test_rank_small_counts),
            cmocka_unit_test(test_cuts_match_raw_votes),
            cmocka_unit_test(test_unfolded_on_read_and_idempotent),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
