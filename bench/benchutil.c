/* SPDX-License-Identifier: MIT */
/* Helpers the benchmarks share; see benchutil.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sqlite3.h>

#include "benchutil.h"
#include "outbox.h"
#include "period.h"
#include "sync.h"
#include "vote.h"

#ifndef BENCH_COLLECTOR_BIN
#define BENCH_COLLECTOR_BIN "otsinka-collector"
#endif

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t bench_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double bench_ms_since(int64_t start_ns)
{
        return (double)(bench_now_ns() - start_ns) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double rank(const double *sorted, size_t n, double p)
{
        size_t i = (size_t)ceil(p * (double)n);

        if (i < 1)
                i = 1;
        if (i > n)
                i = n;
        return sorted[i - 1];
}

void bench_stats(const double *ms, size_t n, struct bench_stats *ret)
{
        double *s;

        memset(ret, 0, sizeof(*ret));
        if (n == 0)
                return;
        s = malloc(n * sizeof(*s));
        if (!s)
                abort();
        memcpy(s, ms, n * sizeof(*s));
        qsort(s, n, sizeof(*s), cmp_double);
        ret->n = n;
        ret->min = s[0];
        ret->max = s[n - 1];
        ret->p50 = rank(s, n, 0.50);
        ret->p90 = rank(s, n, 0.90);
        ret->p99 = rank(s, n, 0.99);
        for (size_t i = 0; i < n; i++)
                ret->total += s[i];
        ret->mean = ret->total / (double)n;
        free(s);
}

void bench_stats_print(const char *label, const struct bench_stats *s)
{
        printf("  %-46s n=%-6zu p50 %8.3f  p90 %8.3f  p99 %8.3f  max %8.3f  mean %8.3f ms\n", label,
               s->n, s->p50, s->p90, s->p99, s->max, s->mean);
}

void bench_summary(const char *bench, const char *what, const char *measured, const char *reference,
                   const char *target, const char *verdict)
{
        printf("SUMMARY|%s|%s|%s|%s|%s|%s\n", bench, what, measured, reference, target, verdict);
        fflush(stdout);
}

const char *bench_verdict(bool met)
{
        return met ? "MET" : "NOT MET";
}

int bench_mkdtemp(char *buf, size_t n, const char *name)
{
        const char *base = getenv("BENCH_TMPDIR");

        if (!base || !*base)
                base = "/var/tmp";
        if ((size_t)snprintf(buf, n, "%s/otsinka-%s-XXXXXX", base, name) >= n) {
                buf[0] = 0;
                return -ENAMETOOLONG;
        }
        if (!mkdtemp(buf)) {
                int r = -errno;

                fprintf(stderr, "bench: cannot make a folder in %s: %s\n", base, strerror(errno));
                buf[0] = 0;
                return r;
        }
        return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (type == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

static void rmtree(const char *dir)
{
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void bench_cleanup_dir(const char *dir)
{
        const char *keep = getenv("BENCH_KEEP");

        if (!dir || !*dir)
                return;
        if (keep && strcmp(keep, "1") == 0) {
                printf("  (kept %s: BENCH_KEEP=1)\n", dir);
                return;
        }
        rmtree(dir);
}

/* ---- children ---- */

#define CHILDREN_MAX 16
static pid_t children[CHILDREN_MAX];
static volatile sig_atomic_t n_children;
static bool cleanup_installed;

static void untrack(pid_t pid)
{
        for (int i = 0; i < n_children; i++)
                if (children[i] == pid)
                        children[i] = 0;
}

static void kill_children(void)
{
        for (int i = n_children - 1; i >= 0; i--)
                if (children[i] > 0) {
                        pid_t p = children[i];

                        children[i] = 0;
                        bench_stop_child(p, 3000);
                }
}

static void on_signal(int sig)
{
        for (int i = n_children - 1; i >= 0; i--)
                if (children[i] > 0)
                        kill(children[i], SIGTERM);
        _exit(128 + sig);
}

void bench_track_child(pid_t pid)
{
        if (!cleanup_installed) {
                atexit(kill_children);
                signal(SIGINT, on_signal);
                signal(SIGTERM, on_signal);
                signal(SIGPIPE, SIG_IGN);
                cleanup_installed = true;
        }
        if (n_children < CHILDREN_MAX)
                children[n_children++] = pid;
}

int bench_stop_child(pid_t pid, int timeout_ms)
{
        int status = 0;

        if (pid <= 0)
                return 0;
        untrack(pid);
        kill(pid, SIGTERM);
        for (int waited = 0;; waited += 10) {
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid || (r < 0 && errno == ECHILD))
                        return status;
                if (waited >= timeout_ms) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        return status;
                }
                usleep(10000);
        }
}

int bench_ensure_display(int w, int h)
{
        char fdarg[16], screen[32], line[32] = "";
        int fds[2];
        size_t len = 0;
        pid_t pid;

        if (getenv("DISPLAY") && *getenv("DISPLAY"))
                return 0;
        if (pipe(fds) < 0)
                return -errno;
        snprintf(fdarg, sizeof(fdarg), "%d", fds[1]);
        snprintf(screen, sizeof(screen), "%dx%dx24", w, h);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);

                close(fds[0]);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                execlp("Xvfb", "Xvfb", "-displayfd", fdarg, "-screen", "0", screen, "-nolisten",
                       "tcp", "-br", (char *)NULL);
                _exit(127);
        }
        bench_track_child(pid);
        close(fds[1]);
        for (;;) {
                struct pollfd p = {.fd = fds[0], .events = POLLIN};
                ssize_t k;

                if (poll(&p, 1, 10000) <= 0)
                        break;
                k = read(fds[0], line + len, sizeof(line) - 1 - len);
                if (k <= 0)
                        break;
                len += (size_t)k;
                line[len] = 0;
                if (strchr(line, '\n') || len + 1 >= sizeof(line))
                        break;
        }
        close(fds[0]);
        line[strcspn(line, "\n")] = 0;
        if (!*line) {
                fprintf(stderr, "bench: Xvfb did not start (is the xvfb package installed?)\n");
                return -EIO;
        }
        snprintf(screen, sizeof(screen), ":%s", line);
        setenv("DISPLAY", screen, 1);
        printf("  (no DISPLAY: started Xvfb on %s, %dx%dx24)\n", screen, w, h);
        return 0;
}

/* ---- the collector ---- */

const char *bench_collector_bin(void)
{
        static char path[PATH_MAX];
        const char *build = getenv("OTSINKA_BUILD");

        if (build && *build) {
                snprintf(path, sizeof(path), "%s/collector/otsinka-collector", build);
                return path;
        }
        return BENCH_COLLECTOR_BIN;
}

static int free_port(void)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

        if (fd < 0)
                return -1;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
                port = ntohs(sa.sin_port);
        close(fd);
        return port;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *userdata)
{
        (void)data;
        (void)userdata;
        return size * nmemb;
}

int bench_healthz_wait(const char *url, const char *ca_file, int timeout_ms)
{
        char full[512];
        int64_t start = bench_now_ns();
        CURL *c;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        snprintf(full, sizeof(full), "%s/healthz", url);
        c = curl_easy_init();
        if (!c)
                return -ENOMEM;
        for (;;) {
                long status = 0;

                curl_easy_reset(c);
                curl_easy_setopt(c, CURLOPT_URL, full);
                curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
                curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
                curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
                curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
                if (access(ca_file, R_OK) == 0 && curl_easy_perform(c) == CURLE_OK &&
                    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
                    status == 200) {
                        curl_easy_cleanup(c);
                        return 0;
                }
                if (bench_ms_since(start) > timeout_ms) {
                        curl_easy_cleanup(c);
                        return -ETIMEDOUT;
                }
                usleep(50000);
        }
}

static void print_log(const char *path)
{
        char line[1024];
        FILE *f = fopen(path, "re");

        if (!f)
                return;
        fprintf(stderr, "--- %s\n", path);
        while (fgets(line, sizeof(line), f))
                fputs(line, stderr);
        fclose(f);
}

int bench_collector_start(struct bench_collector *c, const char *dir, int port)
{
        const char *bin = bench_collector_bin();

        for (int attempt = 0; attempt < 5; attempt++) {
                char port_s[16];
                pid_t pid;
                int p = port ? port : free_port(), r, status;

                if (p <= 0)
                        return -EADDRNOTAVAIL;
                snprintf(port_s, sizeof(port_s), "%d", p);
                snprintf(c->dir, sizeof(c->dir), "%s", dir);
                snprintf(c->log, sizeof(c->log), "%s.log", dir);
                snprintf(c->url, sizeof(c->url), "https://127.0.0.1:%d", p);
                snprintf(c->ca_file, sizeof(c->ca_file), "%s/ca.pem", dir);
                snprintf(c->database, sizeof(c->database), "%s/collector.db", dir);
                c->port = p;
                pid = fork();
                if (pid < 0)
                        return -errno;
                if (pid == 0) {
                        int fd = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

                        if (fd >= 0) {
                                dup2(fd, 1);
                                dup2(fd, 2);
                        }
                        execl(bin, bin, "demo", "--dir", dir, "--port", port_s, (char *)NULL);
                        fprintf(stderr, "cannot run %s: %s\n", bin, strerror(errno));
                        _exit(127);
                }
                bench_track_child(pid);
                c->pid = pid;
                r = bench_healthz_wait(c->url, c->ca_file, 30000);
                if (r == 0)
                        return 0;
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        untrack(pid);
                        c->pid = 0;
                        if (!port) { /* perhaps someone took the port: a fresh folder, again */
                                rmtree(dir); /* made for that port */
                                continue;
                        }
                } else
                        bench_collector_stop(c);
                print_log(c->log);
                return r < 0 ? r : -EIO;
        }
        print_log(c->log);
        return -EADDRINUSE;
}

int bench_collector_stop(struct bench_collector *c)
{
        int status;

        if (c->pid <= 0)
                return 0;
        status = bench_stop_child(c->pid, 10000);
        c->pid = 0;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* ---- kiosk.conf ---- */

static void trim(char *s)
{
        size_t n = strlen(s);

        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
                s[--n] = 0;
}

int bench_kiosk_conf_read(const char *path, struct bench_kiosk_conf *ret)
{
        static const struct {
                const char *key;
                size_t off, size;
        } keys[] = {
#define K(k, f) {k, offsetof(struct bench_kiosk_conf, f), sizeof(((struct bench_kiosk_conf *)0)->f)}
            K("collector-url", collector_url), K("ca-file", ca_file),
            K("terminal-id", terminal_id),     K("terminal-secret", terminal_secret),
            K("workplace", workplace),         K("employee", employee),
            K("employee-name", employee_name), K("vote-url", vote_url),
#undef K
        };
        char line[4096];
        FILE *f = fopen(path, "re");

        memset(ret, 0, sizeof(*ret));
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char *eq, *k = line, *v;

                if (line[0] == '#' || !(eq = strchr(line, '=')))
                        continue;
                *eq = 0;
                v = eq + 1;
                trim(k);
                while (*v == ' ' || *v == '\t')
                        v++;
                trim(v);
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                        if (strcmp(k, keys[i].key) == 0)
                                snprintf((char *)ret + keys[i].off, keys[i].size, "%s", v);
        }
        fclose(f);
        /* a kiosk.conf whose staff and workplace come from the collector's roster names
         * neither: the demo's terminal T001 is at W001, where E001 works */
        if (!ret->employee[0])
                snprintf(ret->employee, sizeof(ret->employee), "E001");
        if (!ret->workplace[0])
                snprintf(ret->workplace, sizeof(ret->workplace), "W001");
        if (!ret->terminal_id[0] || !ret->terminal_secret[0])
                return -EINVAL;
        return 0;
}

/* ---- the no-fsync and the probing VFS ---- */

struct bench_vfs_counters bench_vfs_counters;

enum shim_mode { SHIM_NOSYNC, SHIM_PROBE };
static sqlite3_vfs shim_vfs[2];
static sqlite3_vfs *real_vfs;
static pthread_mutex_t methods_lock = PTHREAD_MUTEX_INITIALIZER;
#define SHIM_METHODS_MAX 16
static struct {
        const sqlite3_io_methods *orig;
        enum shim_mode mode;
        sqlite3_io_methods copy;
} methods[SHIM_METHODS_MAX];
static int n_methods;

static const sqlite3_io_methods *orig_of(sqlite3_file *f)
{
        for (int i = 0; i < n_methods; i++)
                if (&methods[i].copy == f->pMethods)
                        return methods[i].orig;
        abort(); /* a file this shim did not open */
}

static int nosync_sync(sqlite3_file *f, int flags)
{
        (void)f;
        (void)flags;
        return SQLITE_OK;
}

static int probe_sync(sqlite3_file *f, int flags)
{
        const sqlite3_io_methods *o = orig_of(f);
        int64_t t = bench_now_ns();
        int rc;

        rc = o->xSync(f, flags);
        bench_vfs_counters.syncs++;
        bench_vfs_counters.sync_ns += bench_now_ns() - t;
        return rc;
}

static int probe_write(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset)
{
        const sqlite3_io_methods *o = orig_of(f);
        int64_t t = bench_now_ns();
        int rc = o->xWrite(f, data, amount, offset);

        bench_vfs_counters.writes++;
        bench_vfs_counters.write_bytes += amount;
        bench_vfs_counters.write_ns += bench_now_ns() - t;
        return rc;
}

static int shim_open(enum shim_mode mode, const char *name, sqlite3_file *f, int flags,
                     int *out_flags)
{
        int rc = real_vfs->xOpen(real_vfs, name, f, flags, out_flags);

        if (rc != SQLITE_OK || !f->pMethods)
                return rc;
        pthread_mutex_lock(&methods_lock);
        for (int i = 0; i < n_methods; i++)
                if (methods[i].orig == f->pMethods && methods[i].mode == mode) {
                        f->pMethods = &methods[i].copy;
                        goto out;
                }
        if (n_methods == SHIM_METHODS_MAX)
                abort();
        methods[n_methods].orig = f->pMethods;
        methods[n_methods].mode = mode;
        methods[n_methods].copy = *f->pMethods;
        if (mode == SHIM_NOSYNC)
                methods[n_methods].copy.xSync = nosync_sync;
        else {
                methods[n_methods].copy.xSync = probe_sync;
                methods[n_methods].copy.xWrite = probe_write;
        }
        f->pMethods = &methods[n_methods].copy;
        n_methods++;
out:
        pthread_mutex_unlock(&methods_lock);
        return rc;
}

static int shim_open_nosync(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
                            int *out_flags)
{
        (void)vfs;
        return shim_open(SHIM_NOSYNC, name, f, flags, out_flags);
}

static int shim_open_probe(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
                           int *out_flags)
{
        (void)vfs;
        return shim_open(SHIM_PROBE, name, f, flags, out_flags);
}

static int shim_set(enum shim_mode mode, bool on)
{
        sqlite3_vfs *v = &shim_vfs[mode];

        if (on) {
                if (!real_vfs)
                        real_vfs = sqlite3_vfs_find("unix");
                if (!real_vfs)
                        return -ENOENT;
                *v = *real_vfs;
                v->zName = mode == SHIM_NOSYNC ? "bench-nosync" : "bench-probe";
                v->pNext = NULL;
                v->xOpen = mode == SHIM_NOSYNC ? shim_open_nosync : shim_open_probe;
                return sqlite3_vfs_register(v, 1) == SQLITE_OK ? 0 : -EIO;
        }
        if (real_vfs)
                sqlite3_vfs_register(real_vfs, 1);
        sqlite3_vfs_unregister(v);
        return 0;
}

int bench_nosync_vfs(bool on)
{
        int r = shim_set(SHIM_NOSYNC, on);

        if (!on)
                sync();
        return r;
}

int bench_probe_vfs(bool on)
{
        return shim_set(SHIM_PROBE, on);
}

void bench_make_vote(struct vote *v, int level, const char *employee, const char *workplace,
                     const char *shift, int64_t cast_at_ms)
{
        memset(v, 0, sizeof(*v));
        vote_id_new(&v->id);
        v->level = level;
        snprintf(v->channel, sizeof(v->channel), "%s", VOTE_CHANNEL_TERMINAL);
        snprintf(v->employee, sizeof(v->employee), "%s", employee);
        snprintf(v->workplace, sizeof(v->workplace), "%s", workplace ? workplace : "");
        snprintf(v->shift, sizeof(v->shift), "%s", shift ? shift : "");
        v->cast_at_ms = cast_at_ms;
}

int bench_outbox_fill(const char *path, size_t n, const char *employee, const char *workplace)
{
        struct outbox *ob = NULL;
        struct timespec ts;
        vote_id shift;
        int64_t now;
        int r;

        clock_gettime(CLOCK_REALTIME, &ts);
        now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        vote_id_new(&shift);
        r = bench_nosync_vfs(true);
        if (r < 0)
                return r;
        r = outbox_open(path, &ob);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct vote v;

                /* one vote every 100 ms, the newest now */
                bench_make_vote(&v, 1 + (int)(i % 3), employee, workplace, shift.s,
                                now - (int64_t)(n - i) * 100);
                r = outbox_add(ob, &v);
        }
        outbox_close(ob);
        bench_nosync_vfs(false);
        return r < 0 ? r : 0;
}

/* ---- the storage floor: plain SQL into a collector database ---- */

static double thread_cpu_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double bench_proc_cpu_ms(pid_t pid)
{
        char path[64], buf[4096], *p;
        unsigned long long ut = 0, st = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
        fclose(f);
        if (!p ||
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
                return -1;
        return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

int bench_sql_insert_batches(const char *path, const struct bench_kiosk_conf *conf, size_t n,
                             size_t batch, double *batch_ms, double *batch_cpu_ms, double *total_s)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *ins = NULL, *q = NULL;
        int64_t emp = 0, unit = 0, wp = 0, dir = 0, t0 = bench_now_ns();
        vote_id shift;
        int r = -EIO;

        vote_id_new(&shift);
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_exec(db,
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         " PRAGMA foreign_keys=ON;",
                         NULL, NULL, NULL) != SQLITE_OK)
                goto out;
        if (sqlite3_prepare_v2(db,
                               "SELECT e.id, e.unit_id, w.id, IFNULL(w.direction_id, 0)"
                               " FROM employees e, workplaces w"
                               " WHERE e.personal_no = ?1 AND w.code = ?2",
                               -1, &q, NULL) != SQLITE_OK)
                goto out;
        sqlite3_bind_text(q, 1, conf->employee, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, conf->workplace, -1, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_ROW)
                goto out;
        emp = sqlite3_column_int64(q, 0);
        unit = sqlite3_column_int64(q, 1);
        wp = sqlite3_column_int64(q, 2);
        dir = sqlite3_column_int64(q, 3);
        /* the collector's statement (collector/store_sqlite.c, sq_store_batch) */
        if (sqlite3_prepare_v2(db,
                               "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id,"
                               " direction_id, channel, terminal_id, shift, cast_at, received_at,"
                               " day) VALUES (?, ?, ?, ?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?,"
                               " ?, ?) ON CONFLICT(uuid) DO NOTHING",
                               -1, &ins, NULL) != SQLITE_OK)
                goto out;
        t0 = bench_now_ns();
        for (size_t b = 0; b * batch < n; b++) {
                int64_t t = bench_now_ns(), now = wall_ms();
                double c = thread_cpu_ms();
                size_t k = n - b * batch < batch ? n - b * batch : batch;

                if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
                        goto out;
                for (size_t i = 0; i < k; i++) {
                        vote_id id;
                        int64_t cast = now - (int64_t)(k - i) * 100;

                        vote_id_new(&id);
                        sqlite3_reset(ins);
                        sqlite3_bind_text(ins, 1, id.s, -1, SQLITE_TRANSIENT);
                        sqlite3_bind_int(ins, 2, 1 + (int)(i % 3));
                        sqlite3_bind_int64(ins, 3, emp);
                        sqlite3_bind_int64(ins, 4, unit);
                        sqlite3_bind_int64(ins, 5, wp);
                        sqlite3_bind_int64(ins, 6, dir);
                        sqlite3_bind_text(ins, 7, VOTE_CHANNEL_TERMINAL, -1, SQLITE_STATIC);
                        sqlite3_bind_text(ins, 8, conf->terminal_id, -1, SQLITE_STATIC);
                        sqlite3_bind_text(ins, 9, shift.s, -1, SQLITE_STATIC);
                        sqlite3_bind_int64(ins, 10, cast);
                        sqlite3_bind_int64(ins, 11, now);
                        sqlite3_bind_int(ins, 12, period_day_key(cast / 1000));
                        if (sqlite3_step(ins) != SQLITE_DONE)
                                goto out;
                }
                if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
                        goto out;
                batch_ms[b] = bench_ms_since(t);
                if (batch_cpu_ms)
                        batch_cpu_ms[b] = thread_cpu_ms() - c;
        }
        *total_s = bench_ms_since(t0) / 1000.0;
        r = 0;
out:
        if (r < 0)
                fprintf(stderr, "storage floor (plain SQL): %s\n",
                        db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_finalize(q);
        sqlite3_finalize(ins);
        sqlite3_close(db);
        return r;
}

/* ---- the uploader thread, timed ---- */

struct watch {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int64_t *stamps; /* bench_now_ns() of each notify */
        size_t n, max;
};

static void on_notify(void *userdata)
{
        struct watch *w = userdata;

        pthread_mutex_lock(&w->lock);
        if (w->n < w->max)
                w->stamps[w->n++] = bench_now_ns();
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

int bench_uploader_drain(const struct sync_options *so, double *round_ms, size_t max_rounds,
                         size_t *ret_rounds, double *total_s)
{
        struct watch w = {.max = max_rounds};
        struct sync *sy = NULL;
        struct sync_status ss;
        size_t seen = 0;
        int64_t start, last = 0;
        bool done = false;
        char logged[sizeof(ss.last_error)] = "";

        *ret_rounds = 0;
        pthread_mutex_init(&w.lock, NULL);
        pthread_cond_init(&w.cond, NULL);
        w.stamps = calloc(max_rounds, sizeof(int64_t));
        if (!w.stamps)
                return -ENOMEM;
        start = bench_now_ns();
        if (sync_start(so, on_notify, &w, &sy) < 0) {
                printf("  sync_start failed\n");
                free(w.stamps);
                return -EIO;
        }
        pthread_mutex_lock(&w.lock);
        while (!done && bench_ms_since(start) < 600000) {
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 50000000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                if (w.n == seen)
                        pthread_cond_timedwait(&w.cond, &w.lock, &ts);
                seen = w.n;
                pthread_mutex_unlock(&w.lock);
                sync_get_status(sy, &ss); /* updated before each notify */
                pthread_mutex_lock(&w.lock);
                if (seen > 0 && ss.pending == 0 && ss.online) {
                        done = true;
                        last = w.stamps[w.n - 1];
                }
                if (ss.last_error[0] && strcmp(ss.last_error, logged) != 0) {
                        printf("  uploader: %s\n", ss.last_error);
                        snprintf(logged, sizeof(logged), "%s", ss.last_error);
                }
        }
        pthread_mutex_unlock(&w.lock);
        sync_stop(sy);
        if (!done) {
                printf("  the uploader did not drain in 600 s\n");
                free(w.stamps);
                return -ETIMEDOUT;
        }
        *total_s = (double)(last - start) / 1e9;
        for (size_t i = 0; i < w.n; i++)
                round_ms[i] = (double)(w.stamps[i] - (i ? w.stamps[i - 1] : start)) / 1e6;
        *ret_rounds = w.n;
        free(w.stamps);
        return 0;
}

/* ---- the machine ---- */

void bench_machine(char *buf, size_t n)
{
        char line[512], model[256] = "?";
        struct utsname u;
        FILE *f = fopen("/proc/cpuinfo", "re");

        if (f) {
                while (fgets(line, sizeof(line), f))
                        if (strncmp(line, "model name", 10) == 0) {
                                char *c = strchr(line, ':');

                                if (c) {
                                        snprintf(model, sizeof(model), "%s", c + 2);
                                        trim(model);
                                }
                                break;
                        }
                fclose(f);
        }
        uname(&u);
        snprintf(buf, n, "%s, %ld cores, Linux %s", model, sysconf(_SC_NPROCESSORS_ONLN),
                 u.release);
}

void bench_load_note(const char *when)
{
        char buf[128] = "";
        FILE *f = fopen("/proc/loadavg", "re");

        if (f) {
                if (!fgets(buf, sizeof(buf), f))
                        buf[0] = 0;
                fclose(f);
        }
        trim(buf);
        printf("   load average %s: %s (other work on this machine makes the figures noisier)\n",
               when, buf);
}

void bench_header(const char *bench, const char *what)
{
        char machine[512], date[64];
        time_t t = time(NULL);
        struct tm tm;

        setvbuf(stdout, NULL, _IOLBF, 0);
        localtime_r(&t, &tm);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
        bench_machine(machine, sizeof(machine));
        printf("== %s: %s\n   %s; %s\n", bench, what, date, machine);
        bench_load_note("at start");
}
