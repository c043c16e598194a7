/* SPDX-License-Identifier: MIT */
/* What the benchmarks share: a monotonic clock, percentiles, the verdict lines that bench/run-all
 * collects, temporary folders on the working disk, an X server when there is none, a real demo
 * collector as a child process, and a no-fsync SQLite VFS for filling stores quickly. Not a
 * benchmark itself (the bench_*.c glob does not match it). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in nanoseconds, and a difference of two such readings in milliseconds. */
int64_t bench_now_ns(void);
double bench_ms_since(int64_t start_ns);

/* Figures of a sample of latencies in milliseconds; percentiles by nearest rank. */
struct bench_stats {
        size_t n;
        double min, p50, p90, p99, max, mean, total;
};
void bench_stats(const double *ms, size_t n, struct bench_stats *ret);
/* "  label  n=…  p50 …  p90 …  p99 …  max …  mean … ms" */
void bench_stats_print(const char *label, const struct bench_stats *s);

/* One line that bench/run-all collects into its summary table:
 * "SUMMARY|bench|what|measured|reference|target|verdict". verdict is MET, NOT MET or INFO. */
void bench_summary(const char *bench, const char *what, const char *measured, const char *reference,
                   const char *target, const char *verdict);
const char *bench_verdict(bool met);

/* A new folder on the working disk: $BENCH_TMPDIR, else /var/tmp (never a tmpfs /tmp), named
 * otsinka-NAME-XXXXXX. Returns 0 or a negative errno. */
int bench_mkdtemp(char *buf, size_t n, const char *name);
/* Removes dir and all below it, unless BENCH_KEEP=1 (then says where it is). */
void bench_cleanup_dir(const char *dir);

/* Makes sure there is an X display: with $DISPLAY unset, starts `Xvfb -displayfd` with one
 * screen of w x h x 24 (black root, no TCP) and sets $DISPLAY. Returns 0 or a negative errno.
 * The server is stopped at exit. */
int bench_ensure_display(int w, int h);

/* Children started here are sent SIGTERM at exit (and SIGKILL 3 s later). */
void bench_track_child(pid_t pid);
/* SIGTERM, wait up to timeout_ms, then SIGKILL; returns the exit status as waitpid() gave it. */
int bench_stop_child(pid_t pid, int timeout_ms);

/* The build's own programs: $OTSINKA_BUILD/<sub>/<name> when set, else the path CMake baked in. */
const char *bench_collector_bin(void);

/* A demo collector (`otsinka-collector demo --dir DIR --port PORT`) in a child process. */
struct bench_collector {
        pid_t pid;
        int port;
        char dir[PATH_MAX];      /* the demo folder */
        char log[PATH_MAX];      /* its stdout and stderr */
        char url[64];            /* https://127.0.0.1:PORT */
        char ca_file[PATH_MAX];  /* DIR/ca.pem */
        char database[PATH_MAX]; /* DIR/collector.db */
};
/* Starts it and waits until GET /healthz answers "ok" over verified HTTPS. port 0 picks a free
 * one (retrying on a clash). Returns 0 or a negative errno (the log is printed). */
int bench_collector_start(struct bench_collector *c, const char *dir, int port);
/* Stops it with SIGTERM and waits. */
int bench_collector_stop(struct bench_collector *c);
/* GET url over HTTPS verified with ca_file until it answers 200 or timeout_ms passes. */
int bench_healthz_wait(const char *url, const char *ca_file, int timeout_ms);

/* What the demo's kiosk.conf says (the keys the benchmarks need). Without employee and
 * workplace keys (when they come from the collector's roster), the demo's E001 and W001. */
struct bench_kiosk_conf {
        char collector_url[256];
        char ca_file[PATH_MAX];
        char terminal_id[65]; /* VOTE_REF_MAX + 1 */
        char terminal_secret[256];
        char workplace[65];
        char employee[65];
        char employee_name[256];
        char vote_url[256];
};
int bench_kiosk_conf_read(const char *path, struct bench_kiosk_conf *ret);

/* While on, new SQLite connections that use the default VFS get one whose xSync does nothing:
 * a store fills in seconds, and the data reaches the disk by the sync() that turning it off
 * does. Use only to prepare data, never in a timed section. */
int bench_nosync_vfs(bool on);

/* n valid votes for the outbox, ids new, cast_at_ms spread back from now by step_ms. */
struct vote;
void bench_make_vote(struct vote *v, int level, const char *employee, const char *workplace,
                     const char *shift, int64_t cast_at_ms);
/* Fills the outbox file at path (created if need be) with n new votes through outbox_add(),
 * with the no-fsync VFS. Returns 0 or a negative errno. */
int bench_outbox_fill(const char *path, size_t n, const char *employee, const char *workplace);

/* A short description of this machine for the figures: CPU model, cores, kernel. */
void bench_machine(char *buf, size_t n);
void bench_header(const char *bench, const char *what);
/* Prints /proc/loadavg: other work on the machine shows in the figures. */
void bench_load_note(const char *when);

/* While on, new connections on the default VFS count and time their xSync and xWrite calls
 * (the real ones) in bench_vfs_counters: how many fsyncs a commit costs, and how long they take. */
struct bench_vfs_counters {
        int64_t syncs, sync_ns;
        int64_t writes, write_bytes, write_ns;
};
extern struct bench_vfs_counters bench_vfs_counters;
int bench_probe_vfs(bool on);

/* The storage floor: n votes for conf's employee, workplace and terminal inserted into the
 * collector database at path with the collector's own INSERT (WAL, synchronous=FULL, foreign
 * keys on), batch to a transaction. Times each batch into batch_ms[] (n / batch entries) and
 * the whole into *total_s; with batch_cpu_ms, each batch's CPU time too. Needs
 * period_set_zone() first (the day key). */
int bench_sql_insert_batches(const char *path, const struct bench_kiosk_conf *conf, size_t n,
                             size_t batch, double *batch_ms, double *batch_cpu_ms, double *total_s);
/* The CPU time a process has used so far (utime + stime from /proc/PID/stat), in ms: the
 * cost of work measured without the waits that other work on the machine adds. */
double bench_proc_cpu_ms(pid_t pid);

/* Runs the uploader thread (sync_start()) on so until the outbox is empty and the collector
 * answered: the time from start to the last round into *total_s, and each round's time (from
 * one notify to the next; the first from the start) into round_ms[] (max_rounds entries). */
struct sync_options;
int bench_uploader_drain(const struct sync_options *so, double *round_ms, size_t max_rounds,
                         size_t *ret_rounds, double *total_s);
