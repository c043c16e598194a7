/* SPDX-License-Identifier: MIT */
/* Issue 4: a backlog of 100,000 votes drains in <= 10 s over HTTPS on loopback.
 *
 * A real collector (`otsinka-collector demo --dir D --port P`, a child process, ready when
 * /healthz answers over verified HTTPS) and a temporary outbox on the working disk filled with
 * N valid votes (employee, workplace, terminal T001 and its secret from D/kiosk.conf; filled
 * through outbox_add() with fsync turned off for the filling only). Then, timed:
 *   1. sync_once() in a loop, batch 1000, until it returns 0 (what the brief names; each call
 *      opens the outbox afresh, with its quick_check, and a new TLS connection);
 *   2. the uploader thread itself (sync_start()), on a second outbox of N new votes: what the
 *      terminal does, reusing its outbox handle and its TLS connection between batches; the
 *      per-batch times come from its notify callback.
 * References in the same run, on copies of the collector's database taken before any vote
 * (same schema, same seed): the same N votes stored in batches of 1000, one transaction each,
 *   R1 with plain SQL (the collector's own INSERT, WAL, synchronous=FULL): the storage floor;
 *   R2 through the collector's store_batch() in this process: its storage code, no network.
 * And a breakdown of one batch's parts, each timed alone: opening the outbox, peeking 1000,
 * encoding and decoding the JSON, a TLS handshake, the collector's store_batch().
 * Usage: bench_sync_drain [--votes N] [--batch B] [--no-once] [--no-thread] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "benchutil.h"
#include "outbox.h"
#include "period.h"
#include "proto.h"
#include "store.h"
#include "sync.h"
#include "vote.h"

#define TARGET_S 10.0

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A consistent copy of a live SQLite database (the collector keeps running). */
static int db_copy(const char *from, const char *to)
{
        sqlite3 *src = NULL, *dst = NULL;
        sqlite3_backup *b;
        int rc = SQLITE_ERROR;

        if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            sqlite3_open(to, &dst) == SQLITE_OK &&
            (b = sqlite3_backup_init(dst, "main", src, "main"))) {
                sqlite3_backup_step(b, -1);
                rc = sqlite3_backup_finish(b);
        }
        if (rc != SQLITE_OK)
                fprintf(stderr, "cannot copy %s to %s: %s\n", from, to,
                        dst ? sqlite3_errmsg(dst) : "?");
        sqlite3_close(src);
        sqlite3_close(dst);
        return rc == SQLITE_OK ? 0 : -EIO;
}

static int64_t db_count(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int64_t n = -1;

        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
}

/* ---- R2: the collector's store_batch() in this process ---- */

static void batch_fill(struct proto_batch *b, struct proto_vote *pv, size_t k,
                       const struct bench_kiosk_conf *conf, const char *shift)
{
        int64_t now = wall_ms();

        memset(b, 0, sizeof(*b));
        snprintf(b->terminal, sizeof(b->terminal), "%s", conf->terminal_id);
        b->sent_at_ms = now;
        b->n_votes = k;
        b->votes = pv;
        for (size_t i = 0; i < k; i++) {
                memset(&pv[i], 0, sizeof(pv[i]));
                bench_make_vote(&pv[i].vote, 1 + (int)(i % 3), conf->employee, conf->workplace,
                                shift, now - (int64_t)(k - i) * 100);
        }
}

static int floor_store(const char *path, const struct bench_kiosk_conf *conf, size_t n,
                       size_t batch, double *batch_ms, double *total_s)
{
        char location[800];
        struct store *s = NULL;
        struct proto_vote *pv = calloc(batch, sizeof(*pv));
        struct proto_result *res = calloc(batch, sizeof(*res));
        vote_id shift;
        int64_t t0;
        int r;

        vote_id_new(&shift);
        snprintf(location, sizeof(location), "sqlite:%s", path);
        r = pv && res ? store_open(location, &s) : -ENOMEM;
        if (r < 0)
                goto out;
        t0 = bench_now_ns();
        for (size_t b = 0; b * batch < n; b++) {
                size_t k = n - b * batch < batch ? n - b * batch : batch;
                struct proto_batch pb;
                struct proto_ack ack = {0};
                int64_t t;

                batch_fill(&pb, pv, k, conf, shift.s);
                ack.results = res;
                t = bench_now_ns();
                r = s->ops->store_batch(s, conf->terminal_id, &pb, wall_ms(), &ack);
                batch_ms[b] = bench_ms_since(t);
                if (r < 0)
                        goto out;
                for (size_t i = 0; i < k; i++)
                        if (res[i].status != PROTO_STORED) {
                                fprintf(stderr, "R2: vote %zu not stored: %s\n", i, res[i].reason);
                                r = -EIO;
                                goto out;
                        }
        }
        *total_s = bench_ms_since(t0) / 1000.0;
        r = 0;
out:
        if (r < 0)
                fprintf(stderr, "R2 (store_batch): %s\n", strerror(-r));
        store_close(s);
        free(pv);
        free(res);
        return r;
}

/* A handshake's cost: GET /healthz on a new connection each time; TLS time from curl. */
static size_t discard(char *d, size_t s, size_t n, void *u)
{
        (void)d;
        (void)u;
        return s * n;
}

static void tls_cost(const char *url, const char *ca, double *handshake_ms, double *request_ms)
{
        char full[512];
        double hs = 0, total = 0;
        int ok = 0;

        snprintf(full, sizeof(full), "%s/healthz", url);
        for (int i = 0; i < 20; i++) {
                CURL *c = curl_easy_init();
                curl_off_t app = 0, tcp = 0, all = 0;

                curl_easy_setopt(c, CURLOPT_URL, full);
                curl_easy_setopt(c, CURLOPT_CAINFO, ca);
                curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
                curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
                if (curl_easy_perform(c) == CURLE_OK &&
                    curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &app) == CURLE_OK &&
                    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &tcp) == CURLE_OK &&
                    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &all) == CURLE_OK) {
                        hs += (double)(app - tcp) / 1000.0;
                        total += (double)all / 1000.0;
                        ok++;
                }
                curl_easy_cleanup(c);
        }
        *handshake_ms = ok ? hs / ok : -1;
        *request_ms = ok ? total / ok : -1;
}

int main(int argc, char **argv)
{
        size_t n = 100000, batch = 1000, n_batches, calls = 0;
        bool do_once = true, do_thread = true;
        char dir[512], demo[600], path[700], err[256], measured[200], reference[240];
        struct bench_collector col = {0};
        struct bench_kiosk_conf conf;
        struct sync_options so;
        double *once_ms = NULL, *thread_ms = NULL, *r1_ms = NULL, *r2_ms = NULL;
        double once_s = -1, thread_s = -1, r1_s = -1, r2_s = -1, fill_s;
        double open_ms = 0, peek_ms = 0, counts_ms = 0, enc_ms = 0, dec_ms = 0, ack_ms = 0,
               hs_ms = 0, req_ms = 0;
        size_t json_bytes = 0, thread_batches = 0;
        struct bench_stats st_once = {0}, st_thread = {0}, st_r1 = {0}, st_r2 = {0};
        int64_t t0;
        int r, rc = 1;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--votes") == 0 && i + 1 < argc)
                        n = (size_t)strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
                        batch = (size_t)strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--no-once") == 0)
                        do_once = false;
                else if (strcmp(argv[i], "--no-thread") == 0)
                        do_thread = false;
                else {
                        fprintf(stderr,
                                "usage: %s [--votes N] [--batch B] [--no-once] [--no-thread]\n",
                                argv[0]);
                        return 2;
                }
        }
        if (batch < 1 || batch > PROTO_BATCH_MAX || n < batch) {
                fprintf(stderr, "need 1 <= batch <= %d and votes >= batch\n", PROTO_BATCH_MAX);
                return 2;
        }
        n_batches = (n + batch - 1) / batch;
        bench_header("bench_sync_drain", "a backlog drains over HTTPS on loopback (issue 4: "
                                         "100,000 votes in <= 10 s)");
        period_set_zone("Europe/Kyiv"); /* the collector's default, for the day key of R1 */
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (bench_mkdtemp(dir, sizeof(dir), "drain") < 0)
                return 1;
        snprintf(demo, sizeof(demo), "%s/demo", dir);
        t0 = bench_now_ns();
        if (bench_collector_start(&col, demo, 0) < 0) {
                printf("  the demo collector did not start\n");
                goto out;
        }
        printf("  collector %s (pid %d) ready in %.0f ms; folder %s\n", col.url, (int)col.pid,
               bench_ms_since(t0), dir);
        snprintf(path, sizeof(path), "%s/kiosk.conf", demo);
        if (bench_kiosk_conf_read(path, &conf) < 0) {
                printf("  cannot read %s\n", path);
                goto out;
        }
        printf("  terminal %s, employee %s, workplace %s; %zu votes in batches of %zu\n",
               conf.terminal_id, conf.employee, conf.workplace, n, batch);

        /* copies for the references, before any vote reaches the collector */
        snprintf(path, sizeof(path), "%s/floor-sql.db", dir);
        if (db_copy(col.database, path) < 0)
                goto out;
        snprintf(path, sizeof(path), "%s/floor-store.db", dir);
        if (db_copy(col.database, path) < 0)
                goto out;

        once_ms = calloc(n_batches + 16, sizeof(double));
        thread_ms = calloc(2 * n_batches + 64, sizeof(double));
        r1_ms = calloc(n_batches, sizeof(double));
        r2_ms = calloc(n_batches, sizeof(double));

        memset(&so, 0, sizeof(so));
        so.url = col.url;
        so.ca_file = col.ca_file;
        so.terminal_id = conf.terminal_id;
        so.secret = conf.terminal_secret;
        so.batch_max = batch;
        so.backoff_min_ms = 100;
        so.backoff_max_ms = 1000;
        so.connect_timeout_s = 10;
        so.transfer_timeout_s = 60;

        /* ---- 1. sync_once() in a loop ---- */
        if (do_once) {
                char db[700];

                snprintf(db, sizeof(db), "%s/once.db", dir);
                t0 = bench_now_ns();
                if (bench_outbox_fill(db, n, conf.employee, conf.workplace) < 0) {
                        printf("  cannot fill %s\n", db);
                        goto out;
                }
                fill_s = bench_ms_since(t0) / 1000.0;
                printf("  outbox of %zu votes filled in %.1f s (untimed)\n", n, fill_s);

                /* the parts of one batch, each alone, on this full outbox */
                {
                        struct outbox *ob = NULL;
                        struct vote *votes = calloc(batch, sizeof(*votes));
                        struct proto_vote *pv = calloc(batch, sizeof(*pv));
                        struct proto_result *res = calloc(batch, sizeof(*res));
                        struct proto_batch pb = {0}, back = {0};
                        struct proto_ack ack = {0}, ack_back = {0};
                        char *json = NULL, *ack_json = NULL;
                        size_t got = 0;

                        for (int k = 0; k < 3; k++) {
                                t0 = bench_now_ns();
                                outbox_open(db, &ob);
                                open_ms += bench_ms_since(t0) / 3;
                                if (k < 2) {
                                        outbox_close(ob);
                                        ob = NULL;
                                }
                        }
                        t0 = bench_now_ns();
                        if (ob)
                                outbox_peek(ob, batch, votes, &got);
                        peek_ms = bench_ms_since(t0);
                        if (ob) {
                                struct outbox_counts c;

                                t0 = bench_now_ns();
                                outbox_counts(ob, &c);
                                counts_ms = bench_ms_since(t0);
                        }
                        outbox_close(ob);
                        snprintf(pb.terminal, sizeof(pb.terminal), "%s", conf.terminal_id);
                        pb.sent_at_ms = wall_ms();
                        pb.n_votes = got;
                        pb.votes = pv;
                        for (size_t i = 0; i < got; i++)
                                pv[i].vote = votes[i];
                        t0 = bench_now_ns();
                        proto_batch_encode(&pb, &json);
                        enc_ms = bench_ms_since(t0);
                        json_bytes = json ? strlen(json) : 0;
                        t0 = bench_now_ns();
                        if (json)
                                proto_batch_decode(json, json_bytes, &back, err, sizeof(err));
                        dec_ms = bench_ms_since(t0);
                        proto_batch_finish(&back);
                        for (size_t i = 0; i < got; i++) {
                                res[i].index = i;
                                res[i].id = votes[i].id;
                                res[i].status = PROTO_STORED;
                        }
                        ack.server_time_ms = wall_ms();
                        ack.n_results = got;
                        ack.results = res;
                        t0 = bench_now_ns();
                        if (proto_ack_encode(&ack, &ack_json) == 0)
                                proto_ack_decode(ack_json, strlen(ack_json), &ack_back, err,
                                                 sizeof(err));
                        ack_ms = bench_ms_since(t0);
                        proto_ack_finish(&ack_back);
                        free(ack_json);
                        free(json);
                        free(votes);
                        free(pv);
                        free(res);
                }
                tls_cost(col.url, col.ca_file, &hs_ms, &req_ms);

                so.db_path = db;
                t0 = bench_now_ns();
                for (int retries = 0;;) {
                        int64_t t = bench_now_ns();

                        r = sync_once(&so, err, sizeof(err));
                        if (r < 0) {
                                if ((r == -EAGAIN || r == -ECONNRESET) && retries++ < 5)
                                        continue;
                                printf("  sync_once failed: %s\n", err);
                                goto out;
                        }
                        if (r == 0)
                                break;
                        if (calls < n_batches + 16)
                                once_ms[calls] = bench_ms_since(t);
                        calls++;
                }
                once_s = bench_ms_since(t0) / 1000.0;
                bench_stats(once_ms, calls < n_batches + 16 ? calls : n_batches + 16, &st_once);
                {
                        struct outbox *ob = NULL;
                        struct outbox_counts c = {0};

                        if (outbox_open(db, &ob) == 0 && outbox_counts(ob, &c) == 0 &&
                            (c.pending != 0 || c.sent != (int64_t)n))
                                printf("  WARNING: after the drain the outbox has %lld pending, "
                                       "%lld sent, %lld rejected\n",
                                       (long long)c.pending, (long long)c.sent,
                                       (long long)c.rejected);
                        outbox_close(ob);
                }
        }

        /* ---- 2. the uploader thread ---- */
        if (do_thread) {
                char db[700];

                snprintf(db, sizeof(db), "%s/thread.db", dir);
                if (bench_outbox_fill(db, n, conf.employee, conf.workplace) < 0) {
                        printf("  cannot fill %s\n", db);
                        goto out;
                }
                so.db_path = db;
                if (bench_uploader_drain(&so, thread_ms, 2 * n_batches + 64, &thread_batches,
                                         &thread_s) < 0)
                        goto out;
                bench_stats(thread_ms, thread_batches, &st_thread);
        }

        /* ---- references: the storage floor ---- */
        snprintf(path, sizeof(path), "%s/floor-sql.db", dir);
        if (bench_sql_insert_batches(path, &conf, n, batch, r1_ms, NULL, &r1_s) == 0)
                bench_stats(r1_ms, n_batches, &st_r1);
        snprintf(path, sizeof(path), "%s/floor-store.db", dir);
        if (floor_store(path, &conf, n, batch, r2_ms, &r2_s) == 0)
                bench_stats(r2_ms, n_batches, &st_r2);

        {
                int64_t stored = db_count(col.database, "SELECT COUNT(*) FROM votes");
                int64_t want = (do_once ? (int64_t)n : 0) + (do_thread ? (int64_t)n : 0);

                printf("  the collector holds %lld votes (expected %lld)%s\n", (long long)stored,
                       (long long)want, stored == want ? "" : "  <-- MISMATCH");
        }

        printf("\n");
        if (do_once) {
                printf("  1. sync_once() loop:       %zu votes in %6.2f s = %7.0f votes/s (%zu "
                       "calls)\n",
                       n, once_s, (double)n / once_s, calls);
                bench_stats_print("   per sync_once() call", &st_once);
        }
        if (do_thread) {
                printf("  2. uploader thread:        %zu votes in %6.2f s = %7.0f votes/s (%zu "
                       "rounds)\n",
                       n, thread_s, (double)n / thread_s, thread_batches);
                bench_stats_print("   per round (between notifies)", &st_thread);
        }
        if (r1_s > 0) {
                printf("  R1 storage floor, SQL:     %zu votes in %6.2f s = %7.0f votes/s\n", n,
                       r1_s, (double)n / r1_s);
                bench_stats_print("   per batch of 1000, one transaction", &st_r1);
        }
        if (r2_s > 0) {
                printf("  R2 store_batch() in-proc:  %zu votes in %6.2f s = %7.0f votes/s\n", n,
                       r2_s, (double)n / r2_s);
                bench_stats_print("   per batch", &st_r2);
        }
        if (do_once) {
                double parts = open_ms + peek_ms + enc_ms + dec_ms + ack_ms + hs_ms + st_r2.mean;

                printf("\n  one batch of %zu, its parts timed alone (terminal side, then collector "
                       "side):\n",
                       batch);
                printf("      outbox_open() of the full outbox (quick_check)  %8.2f ms\n", open_ms);
                printf("      outbox_peek(%zu)                              %8.2f ms\n", batch,
                       peek_ms);
                printf("      outbox_counts() (the thread, after each round)  %8.2f ms\n",
                       counts_ms);
                printf("      proto_batch_encode (%zu bytes of JSON)     %8.2f ms\n", json_bytes,
                       enc_ms);
                printf("      TLS handshake on a new connection              %8.2f ms (a whole "
                       "GET /healthz: %.2f ms)\n",
                       hs_ms, req_ms);
                printf("      proto_batch_decode (collector)                 %8.2f ms\n", dec_ms);
                printf("      store_batch() (collector, R2 mean)             %8.2f ms\n",
                       st_r2.mean);
                printf("      proto_ack encode + decode                      %8.2f ms\n", ack_ms);
                printf("      sum of the parts                               %8.2f ms; a "
                       "sync_once() call takes %.2f ms (mean): the rest, %.2f ms, is HTTP "
                       "transfer,\n      the collector's auth and threads, and "
                       "outbox_apply_ack() with its fsync\n",
                       parts, st_once.mean, st_once.mean - parts);
        }
        bench_load_note("at end");
        printf("\n");
        snprintf(reference, sizeof(reference),
                 "storage floor: SQL %.2f s (%.0f votes/s), store_batch %.2f s", r1_s,
                 (double)n / r1_s, r2_s);
        if (do_once) {
                printf("  sync_once loop drains %zu votes in %.2f s (%.0f votes/s) | reference: "
                       "%s | target <= %.0f s for 100,000%s: %s\n",
                       n, once_s, (double)n / once_s, reference, TARGET_S,
                       n == 100000 ? "" : " (scaled from this run's votes)",
                       bench_verdict(once_s * 100000.0 / (double)n <= TARGET_S));
                snprintf(measured, sizeof(measured), "%.2f s for %zu (%.0f votes/s)", once_s, n,
                         (double)n / once_s);
                bench_summary("bench_sync_drain", "B drain, sync_once() loop", measured, reference,
                              "100,000 in <= 10 s",
                              bench_verdict(once_s * 100000.0 / (double)n <= TARGET_S));
        }
        if (do_thread) {
                printf("  uploader thread drains %zu votes in %.2f s (%.0f votes/s) | reference: "
                       "%s | target <= %.0f s for 100,000%s: %s\n",
                       n, thread_s, (double)n / thread_s, reference, TARGET_S,
                       n == 100000 ? "" : " (scaled from this run's votes)",
                       bench_verdict(thread_s * 100000.0 / (double)n <= TARGET_S));
                snprintf(measured, sizeof(measured), "%.2f s for %zu (%.0f votes/s)", thread_s, n,
                         (double)n / thread_s);
                bench_summary("bench_sync_drain", "B drain, uploader thread", measured, reference,
                              "100,000 in <= 10 s",
                              bench_verdict(thread_s * 100000.0 / (double)n <= TARGET_S));
        }
        rc = 0;
out:
        bench_collector_stop(&col);
        bench_cleanup_dir(dir);
        free(once_ms);
        free(thread_ms);
        free(r1_ms);
        free(r2_ms);
        return rc;
}
