/* SPDX-License-Identifier: MIT */
/* Issue 3, target A2: a vote is durable on disk within 10 ms at p99. Times outbox_add() of N
 * votes (default 2,000) to a real outbox file in a folder on the working disk, interleaved
 * round-robin with two references on the same disk in the same run:
 *   - write() + fdatasync() of a 200-byte record appended to a plain file (the disk's floor);
 *   - a plain SQLite INSERT in autocommit, WAL, synchronous=FULL (SQLite's floor).
 * A probing VFS counts the fsyncs each call makes and the time spent in them, so the output
 * says what dominates. Usage: bench_outbox_add [--votes N] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "benchutil.h"
#include "outbox.h"
#include "vote.h"

#define TARGET_MS 10.0

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sql(sqlite3 *db, const char *s)
{
        char *msg = NULL;

        if (sqlite3_exec(db, s, NULL, NULL, &msg) != SQLITE_OK) {
                fprintf(stderr, "sqlite: %s: %s\n", s, msg ? msg : "?");
                sqlite3_free(msg);
                return -EIO;
        }
        return 0;
}

struct series {
        const char *name;
        double *ms;
        int64_t syncs, sync_ns, write_bytes;
};

static void slowest(const char *label, const double *ms, size_t n)
{
        size_t idx[5] = {0};
        size_t k = n < 5 ? n : 5;

        /* the five slowest calls and where they fell: periodic spikes are checkpoints */
        for (size_t j = 0; j < k; j++) {
                size_t best = (size_t)-1;

                for (size_t i = 0; i < n; i++) {
                        bool taken = false;

                        for (size_t q = 0; q < j; q++)
                                taken = taken || idx[q] == i;
                        if (!taken && (best == (size_t)-1 || ms[i] > ms[best]))
                                best = i;
                }
                idx[j] = best;
        }
        printf("  %-20s slowest:", label);
        for (size_t j = 0; j < k; j++)
                printf(" #%zu %.1f ms%s", idx[j], ms[idx[j]], j + 1 < k ? "," : "\n");
}

static size_t over(const double *ms, size_t n, double limit)
{
        size_t c = 0;

        for (size_t i = 0; i < n; i++)
                c += ms[i] > limit;
        return c;
}

int main(int argc, char **argv)
{
        size_t n = 2000;
        char dir[512], path[600], measured[160], reference[200];
        struct outbox *ob = NULL;
        sqlite3 *db = NULL;
        sqlite3_stmt *ins = NULL;
        struct series s[3] = {{.name = "outbox_add"},
                              {.name = "write+fdatasync 200 B"},
                              {.name = "sqlite INSERT WAL FULL"}};
        struct bench_stats st[3];
        char record[200];
        vote_id shift;
        int fd = -1, r = 1;
        double open_ms;
        int64_t t;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--votes") == 0 && i + 1 < argc)
                        n = (size_t)strtoul(argv[++i], NULL, 10);
                else {
                        fprintf(stderr, "usage: %s [--votes N]\n", argv[0]);
                        return 2;
                }
        }
        if (n < 10)
                n = 10;
        bench_header("bench_outbox_add",
                     "a vote durable on disk (issue 3: <= 10 ms at p99), on the working disk");
        if (bench_mkdtemp(dir, sizeof(dir), "outbox") < 0)
                return 1;
        printf("  folder %s, %zu votes, the three writers interleaved round-robin\n", dir, n);
        for (int k = 0; k < 3; k++)
                s[k].ms = calloc(n, sizeof(double));

        bench_probe_vfs(true);
        snprintf(path, sizeof(path), "%s/kiosk.db", dir);
        t = bench_now_ns();
        if (outbox_open(path, &ob) < 0) {
                fprintf(stderr, "cannot open the outbox %s\n", path);
                goto out;
        }
        open_ms = bench_ms_since(t);

        snprintf(path, sizeof(path), "%s/plain.log", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) {
                perror(path);
                goto out;
        }
        snprintf(path, sizeof(path), "%s/plain.db", dir);
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                    " CREATE TABLE t(id TEXT PRIMARY KEY, body TEXT NOT NULL);") < 0 ||
            sqlite3_prepare_v2(db, "INSERT INTO t(id, body) VALUES (?1, ?2)", -1, &ins, NULL) !=
                SQLITE_OK) {
                fprintf(stderr, "cannot set up the plain SQLite reference\n");
                goto out;
        }
        memset(record, 'v', sizeof(record));
        record[sizeof(record) - 1] = '\n';
        vote_id_new(&shift);

        for (size_t i = 0; i < n; i++) {
                for (int j = 0; j < 3; j++) {
                        int k = (int)((i + (size_t)j) % 3); /* rotate who goes first */
                        struct bench_vfs_counters before = bench_vfs_counters;
                        struct vote v;
                        int rc = 0;

                        if (k == 0) {
                                bench_make_vote(&v, 1 + (int)(i % 3), "E001", "W001", shift.s,
                                                wall_ms());
                                t = bench_now_ns();
                                rc = outbox_add(ob, &v);
                        } else if (k == 1) {
                                t = bench_now_ns();
                                if (write(fd, record, sizeof(record)) != (ssize_t)sizeof(record) ||
                                    fdatasync(fd) < 0)
                                        rc = -errno;
                        } else {
                                vote_id id;

                                vote_id_new(&id);
                                t = bench_now_ns();
                                sqlite3_bind_text(ins, 1, id.s, -1, SQLITE_STATIC);
                                sqlite3_bind_text(ins, 2, record, 160, SQLITE_STATIC);
                                rc = sqlite3_step(ins) == SQLITE_DONE ? 0 : -EIO;
                                sqlite3_reset(ins);
                        }
                        s[k].ms[i] = bench_ms_since(t);
                        s[k].syncs += bench_vfs_counters.syncs - before.syncs;
                        s[k].sync_ns += bench_vfs_counters.sync_ns - before.sync_ns;
                        s[k].write_bytes += bench_vfs_counters.write_bytes - before.write_bytes;
                        if (rc < 0) {
                                fprintf(stderr, "%s failed at %zu: %s\n", s[k].name, i,
                                        strerror(-rc));
                                goto out;
                        }
                }
        }

        printf("\n  outbox_open (new file, quick_check, migration): %.2f ms\n\n", open_ms);
        for (int k = 0; k < 3; k++) {
                bench_stats(s[k].ms, n, &st[k]);
                bench_stats_print(s[k].name, &st[k]);
        }
        printf("\n  where the time goes (the probing VFS counts SQLite's own fsyncs):\n");
        for (int k = 0; k < 3; k += 2)
                printf("  %-24s %.2f fsyncs per call, %.3f ms of fsync per call (%.0f%% of its "
                       "mean), %.0f bytes written per call\n",
                       s[k].name, (double)s[k].syncs / (double)n,
                       (double)s[k].sync_ns / 1e6 / (double)n,
                       100.0 * ((double)s[k].sync_ns / 1e6 / (double)n) / st[k].mean,
                       (double)s[k].write_bytes / (double)n);
        printf("  %-24s 1 fdatasync per call\n", s[1].name);
        for (int k = 0; k < 3; k++)
                slowest(k == 0   ? "outbox_add"
                        : k == 1 ? "write+fdatasync"
                                 : "sqlite INSERT",
                        s[k].ms, n);
        printf("  calls over %.0f ms: outbox_add %zu, write+fdatasync %zu, sqlite INSERT %zu (of "
               "%zu each)\n",
               TARGET_MS, over(s[0].ms, n, TARGET_MS), over(s[1].ms, n, TARGET_MS),
               over(s[2].ms, n, TARGET_MS), n);

        bench_load_note("at end");
        printf("\n  outbox_add p99 = %.2f ms | reference: write+fdatasync of 200 bytes p99 = %.2f "
               "ms, sqlite INSERT (WAL, FULL) p99 = %.2f ms | target <= %.0f ms: %s\n",
               st[0].p99, st[1].p99, st[2].p99, TARGET_MS, bench_verdict(st[0].p99 <= TARGET_MS));
        snprintf(measured, sizeof(measured), "p99 %.2f ms (p50 %.2f)", st[0].p99, st[0].p50);
        snprintf(reference, sizeof(reference),
                 "write+fdatasync p99 %.2f ms (p50 %.2f); sqlite INSERT p99 %.2f ms (p50 %.2f)",
                 st[1].p99, st[1].p50, st[2].p99, st[2].p50);
        bench_summary("bench_outbox_add", "A2 vote durable (outbox_add)", measured, reference,
                      "p99 <= 10 ms", bench_verdict(st[0].p99 <= TARGET_MS));
        r = 0;
out:
        sqlite3_finalize(ins);
        sqlite3_close(db);
        if (fd >= 0)
                close(fd);
        outbox_close(ob);
        bench_probe_vfs(false);
        bench_cleanup_dir(dir);
        for (int k = 0; k < 3; k++)
                free(s[k].ms);
        return r;
}
