/* SPDX-License-Identifier: MIT */
/* Issue 4: the cost of a batch stays flat while the collector's database grows (the issue's
 * figure is 10 million votes; the default here is 1 million, to run in a couple of minutes).
 *
 * A real demo collector (child process). At each size step: the collector is stopped, its
 * votes table is bulk-filled with SQL up to the step's size (valid rows: the demo's employees,
 * their units, workplaces and directions, the terminal, UUIDv7-shaped unique ids, cast times
 * spread over the past year with their day keys — see collector/store_sqlite.c for the
 * schema), then, still stopped, the storage floor at that size is measured (batches of 1000
 * with the collector's own INSERT, WAL, synchronous=FULL: R1); then the collector is started
 * again and the terminal's uploader thread sends K batches of 1000 new votes over HTTPS, each
 * round timed from its notify callback, and the collector's CPU time over them read from
 * /proc. Printed per step: the database's size, the per-batch cost through the collector (wall
 * and the collector's CPU) and the floor beside it (wall and CPU).
 * Usage: bench_sync_growth [--max N] [--steps A,B,C,...] [--batches K] [--batch B] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "benchutil.h"
#include "period.h"
#include "proto.h"
#include "sync.h"
#include "vote.h"

#define STEPS_MAX 16
/* "Flat": at the largest size, the collector's CPU time per batch within 1.5x of the first
 * step's. CPU time, not wall time, decides, because other work on a shared machine moves the
 * wall time (both are printed). */
#define FLAT_RATIO 1.5

struct ref {
        int64_t id, unit, dir;
};

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t count_votes(sqlite3 *db)
{
        sqlite3_stmt *st = NULL;
        int64_t n = -1;

        if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM votes", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

static int load_refs(sqlite3 *db, const char *sql, struct ref *out, int max)
{
        sqlite3_stmt *st = NULL;
        int n = 0;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        while (n < max && sqlite3_step(st) == SQLITE_ROW) {
                out[n].id = sqlite3_column_int64(st, 0);
                out[n].unit = sqlite3_column_int64(st, 1);
                out[n].dir = sqlite3_column_int64(st, 2);
                n++;
        }
        sqlite3_finalize(st);
        return n;
}

/* Adds `add` votes to the collector's database (the collector stopped), in transactions of
 * 100,000 without a journal or fsync (this is data preparation, not a measurement), then
 * puts the file back in WAL mode as the collector keeps it and fsyncs it, so that no later
 * fsync (the floor's first checkpoint) pays for the fill. */
static int bulk_fill(const char *path, const char *terminal, int64_t add, uint64_t *seq)
{
        struct ref emp[64], wp[64];
        sqlite3 *db = NULL;
        sqlite3_stmt *ins = NULL;
        int64_t now = wall_ms(), year = 365LL * 86400 * 1000, hour_cached = -1;
        int32_t day = 0;
        int n_emp, n_wp, r = -EIO;

        if (sqlite3_open(path, &db) != SQLITE_OK)
                goto out;
        if (sqlite3_exec(db,
                         "PRAGMA journal_mode=DELETE; PRAGMA journal_mode=OFF;"
                         " PRAGMA synchronous=OFF; PRAGMA cache_size=-524288;",
                         NULL, NULL, NULL) != SQLITE_OK)
                goto out;
        n_emp = load_refs(db, "SELECT id, unit_id, 0 FROM employees ORDER BY id", emp, 64);
        n_wp = load_refs(
            db, "SELECT id, unit_id, IFNULL(direction_id, 0) FROM workplaces ORDER BY id", wp, 64);
        if (n_emp <= 0 || n_wp <= 0)
                goto out;
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id,"
                               " direction_id, channel, terminal_id, shift, cast_at, received_at,"
                               " day) VALUES (?1, ?2, ?3, ?4, ?5, NULLIF(?6, 0), ?7, ?8, ?9, ?10,"
                               " ?11, ?12)",
                               -1, &ins, NULL) != SQLITE_OK)
                goto out;
        for (int64_t i = 0; i < add; i++) {
                /* in time order across the past year: each fill interleaves with the last */
                int64_t cast = now - year + (int64_t)((double)year * (double)i / (double)add);
                int e = (int)(i % n_emp), w = e % n_wp;
                bool qr = i % 10 >= 7; /* 30% through printed QR codes, no terminal */
                char uuid[64];         /* 36 characters, with room the compiler cannot rule out */
                uint64_t s = (*seq)++;

                if (i % 100000 == 0 &&
                    sqlite3_exec(db, i ? "COMMIT; BEGIN" : "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
                        goto out;
                if (cast / 3600000 != hour_cached) {
                        hour_cached = cast / 3600000;
                        day = period_day_key(cast / 1000);
                }
                /* UUIDv7 shape: 48 bits of ms, version 7, variant 10, a sequence for uniqueness */
                snprintf(uuid, sizeof(uuid), "%08llx-%04llx-7%03llx-%04llx-%012llx",
                         (unsigned long long)((uint64_t)cast >> 16),
                         (unsigned long long)((uint64_t)cast & 0xffff),
                         (unsigned long long)((s >> 48) & 0xfff),
                         (unsigned long long)(0x8000 | ((s >> 36) & 0xfff)),
                         (unsigned long long)(s & 0xffffffffffffULL));
                sqlite3_reset(ins);
                sqlite3_bind_text(ins, 1, uuid, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int(ins, 2, 1 + (int)((i * 7) % 3));
                sqlite3_bind_int64(ins, 3, emp[e].id);
                sqlite3_bind_int64(ins, 4, emp[e].unit);
                sqlite3_bind_int64(ins, 5, wp[w].id);
                sqlite3_bind_int64(ins, 6, wp[w].dir);
                sqlite3_bind_text(ins, 7, qr ? VOTE_CHANNEL_QR_PRINTED : VOTE_CHANNEL_TERMINAL, -1,
                                  SQLITE_STATIC);
                if (qr) {
                        sqlite3_bind_null(ins, 8);
                        sqlite3_bind_null(ins, 9);
                } else {
                        sqlite3_bind_text(ins, 8, terminal, -1, SQLITE_STATIC);
                        sqlite3_bind_null(ins, 9);
                }
                sqlite3_bind_int64(ins, 10, cast);
                sqlite3_bind_int64(ins, 11, cast + 1500);
                sqlite3_bind_int(ins, 12, day);
                if (sqlite3_step(ins) != SQLITE_DONE)
                        goto out;
        }
        if (add > 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                goto out;
        if (sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) != SQLITE_OK)
                goto out;
        r = 0;
out:
        if (r < 0)
                fprintf(stderr, "bulk fill: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_finalize(ins);
        sqlite3_close(db);
        /* Written without fsync: put it on the disk now, or the next fsync of this file (the
         * floor's first checkpoint) would pay for the whole fill, more at every larger step. */
        {
                int fd = open(path, O_RDONLY | O_CLOEXEC);

                if (fd >= 0) {
                        fsync(fd);
                        close(fd);
                }
        }
        return r;
}

static double file_mb(const char *path)
{
        char wal[PATH_MAX + 8];
        struct stat a = {0}, b = {0};

        stat(path, &a);
        snprintf(wal, sizeof(wal), "%s-wal", path);
        stat(wal, &b);
        return (double)(a.st_size + b.st_size) / (1024.0 * 1024.0);
}

static int parse_steps(const char *s, int64_t *steps)
{
        int n = 0;

        while (*s && n < STEPS_MAX) {
                char *end;

                steps[n++] = strtoll(s, &end, 10);
                if (*end != ',' && *end)
                        return -EINVAL;
                s = *end ? end + 1 : end;
        }
        return n;
}

int main(int argc, char **argv)
{
        int64_t max = 1000000, steps[STEPS_MAX];
        int n_steps = 0, batches = 50, rc = 1;
        size_t batch = 1000;
        char dir[512], demo[600], path[700], db[700], measured[200], reference[200];
        struct bench_collector col = {0};
        struct bench_kiosk_conf conf;
        struct bench_stats up[STEPS_MAX] = {0}, fl[STEPS_MAX] = {0}, flc[STEPS_MAX] = {0};
        struct bench_stats flw[STEPS_MAX] = {0};
        double col_cpu[STEPS_MAX] = {0}, *fcpu = NULL;
        double mb[STEPS_MAX] = {0}, fill_s[STEPS_MAX] = {0}, *ms = NULL, *fms = NULL;
        int64_t sizes[STEPS_MAX] = {0};
        uint64_t seq = 1;
        int port;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
                        max = strtoll(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--steps") == 0 && i + 1 < argc) {
                        n_steps = parse_steps(argv[++i], steps);
                        if (n_steps <= 0) {
                                fprintf(stderr, "--steps: a list like 0,100000,1000000\n");
                                return 2;
                        }
                } else if (strcmp(argv[i], "--batches") == 0 && i + 1 < argc)
                        batches = atoi(argv[++i]);
                else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
                        batch = (size_t)strtoul(argv[++i], NULL, 10);
                else {
                        fprintf(stderr,
                                "usage: %s [--max N] [--steps A,B,...] [--batches K] "
                                "[--batch B]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (!n_steps) {
                steps[n_steps++] = 0;
                steps[n_steps++] = max / 100;
                steps[n_steps++] = max / 10;
                steps[n_steps++] = max * 3 / 10;
                steps[n_steps++] = max;
        }
        if (batches < 3 || batch < 1 || batch > PROTO_BATCH_MAX)
                return 2;
        bench_header("bench_sync_growth", "the cost of a batch as the collector's database grows "
                                          "(issue 4: flat up to 10 million)");
        period_set_zone("Europe/Kyiv");
        if (bench_mkdtemp(dir, sizeof(dir), "growth") < 0)
                return 1;
        snprintf(demo, sizeof(demo), "%s/demo", dir);
        if (bench_collector_start(&col, demo, 0) < 0)
                goto out;
        port = col.port;
        snprintf(path, sizeof(path), "%s/kiosk.conf", demo);
        if (bench_kiosk_conf_read(path, &conf) < 0)
                goto out;
        printf("  collector %s; folder %s; %d batches of %zu per step; steps:", col.url, dir,
               batches, batch);
        for (int i = 0; i < n_steps; i++)
                printf(" %lld", (long long)steps[i]);
        printf(" votes\n");
        ms = calloc((size_t)batches * 2 + 64, sizeof(double));
        fms = calloc((size_t)batches, sizeof(double));
        fcpu = calloc((size_t)batches, sizeof(double));

        for (int i = 0; i < n_steps; i++) {
                struct sync_options so = {0};
                size_t rounds = 0;
                double total_s = 0, fl_total = 0, cpu0;
                int64_t have, t0;
                sqlite3 *h = NULL;

                if (bench_collector_stop(&col) < 0)
                        printf("  (the collector did not stop cleanly)\n");
                if (sqlite3_open(col.database, &h) != SQLITE_OK)
                        goto out;
                have = count_votes(h);
                sqlite3_close(h);
                t0 = bench_now_ns();
                if (steps[i] > have &&
                    bulk_fill(col.database, conf.terminal_id, steps[i] - have, &seq) < 0)
                        goto out;
                fill_s[i] = bench_ms_since(t0) / 1000.0;
                /* the floor at this size, on the real file, before the collector comes back */
                if (bench_sql_insert_batches(col.database, &conf, (size_t)batches * batch, batch,
                                             fms, fcpu, &fl_total) < 0)
                        goto out;
                bench_stats(fms, (size_t)batches, &fl[i]);
                bench_stats(fcpu, (size_t)batches, &flc[i]);
                /* the later half alone: a connection whose cache has warmed up */
                bench_stats(fcpu + batches / 2, (size_t)(batches - batches / 2), &flw[i]);
                if (bench_collector_start(&col, demo, port) < 0)
                        goto out;
                if (sqlite3_open_v2(col.database, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
                        sizes[i] = count_votes(h);
                sqlite3_close(h);
                mb[i] = file_mb(col.database);

                snprintf(db, sizeof(db), "%s/outbox-%d.db", dir, i);
                if (bench_outbox_fill(db, (size_t)batches * batch, conf.employee, conf.workplace) <
                    0)
                        goto out;
                so.url = col.url;
                so.ca_file = col.ca_file;
                so.terminal_id = conf.terminal_id;
                so.secret = conf.terminal_secret;
                so.db_path = db;
                so.batch_max = batch;
                so.backoff_min_ms = 100;
                so.backoff_max_ms = 1000;
                so.connect_timeout_s = 10;
                so.transfer_timeout_s = 60;
                cpu0 = bench_proc_cpu_ms(col.pid);
                if (bench_uploader_drain(&so, ms, (size_t)batches * 2 + 64, &rounds, &total_s) < 0)
                        goto out;
                /* the collector's CPU per batch: its cost, whatever else the machine does */
                col_cpu[i] = (bench_proc_cpu_ms(col.pid) - cpu0) / (double)rounds;
                /* the first round carries the TLS handshake and a cold collector: left out */
                bench_stats(ms + 1, rounds - 1, &up[i]);
                printf("  %10lld votes (%7.1f MB, filled in %5.1f s): per batch via HTTPS p50 "
                       "%6.2f p99 %6.2f ms, collector CPU %5.2f ms | storage floor p50 %6.2f "
                       "p99 %6.2f ms, CPU %5.2f ms\n",
                       (long long)sizes[i], mb[i], fill_s[i], up[i].p50, up[i].p99, col_cpu[i],
                       fl[i].p50, fl[i].p99, flc[i].p50);
                unlink(db);
        }
        bench_load_note("at end");

        printf("\n  %12s %8s | %-33s | %-26s\n", "votes", "MB", "a batch of 1000 via HTTPS (ms)",
               "storage floor (ms)");
        printf("  %12s %8s | %7s %7s %7s %9s | %7s %7s %8s %8s\n", "", "", "p50", "p99", "mean",
               "coll.CPU", "p50", "p99", "CPU p50", "2nd half");
        for (int i = 0; i < n_steps; i++)
                printf("  %12lld %8.1f | %7.2f %7.2f %7.2f %9.2f | %7.2f %7.2f %8.2f %8.2f\n",
                       (long long)sizes[i], mb[i], up[i].p50, up[i].p99, up[i].mean, col_cpu[i],
                       fl[i].p50, fl[i].p99, flc[i].p50, flw[i].p50);
        printf(
            "  (coll.CPU: the collector's CPU time per batch; CPU p50: the floor's, and over its "
            "later half of batches only, once its fresh connection's cache is warm)\n");
        {
                int last = n_steps - 1;
                double cpu_ratio = col_cpu[last] / col_cpu[0];
                double wall_ratio = up[last].p50 / up[0].p50;
                double fratio = flc[last].p50 / flc[0].p50;
                bool flat = cpu_ratio <= FLAT_RATIO;

                printf(
                    "\n  the collector's CPU per batch at %lld votes / at %lld = %.2fx (wall p50 "
                    "%.2fx) | reference: storage floor CPU %.2fx (wall p50 %.2fx) | target: "
                    "flat (<= %.1fx): %s\n",
                    (long long)sizes[last], (long long)sizes[0], cpu_ratio, wall_ratio, fratio,
                    fl[last].p50 / fl[0].p50, FLAT_RATIO, bench_verdict(flat));
                snprintf(measured, sizeof(measured),
                         "collector CPU %.2f -> %.2f ms per 1000 (%.2fx), wall p50 %.1f -> %.1f "
                         "ms, at %lld",
                         col_cpu[0], col_cpu[last], cpu_ratio, up[0].p50, up[last].p50,
                         (long long)sizes[last]);
                snprintf(reference, sizeof(reference),
                         "storage floor CPU %.2f -> %.2f ms (%.2fx), wall p50 %.1f -> %.1f ms",
                         flc[0].p50, flc[last].p50, fratio, fl[0].p50, fl[last].p50);
                bench_summary("bench_sync_growth", "B batch cost vs database size", measured,
                              reference, "flat (<= 1.5x)", bench_verdict(flat));
        }
        rc = 0;
out:
        if (rc)
                printf("  failed (the collector's log: %s)\n", col.log);
        bench_collector_stop(&col);
        bench_cleanup_dir(dir);
        free(ms);
        free(fms);
        free(fcpu);
        return rc;
}
