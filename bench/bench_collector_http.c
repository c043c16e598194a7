/* SPDX-License-Identifier: MIT */
/* Issue 5: the load generator of bench/collector_http.sh for vote submissions (the page rate is
 * measured with wrk there). libcurl's multi interface over C keep-alive HTTPS connections,
 * verified with the demo's CA; every answer is checked and counted, and a run stops only when
 * every request it started has been answered, so the count of votes it was thanked for can be
 * compared exactly with the rows the collector stored.
 *
 *   pairs  a resident's vote: GET /r/<token> without a cookie (a new phone), then POST
 *          level=1..3&ft=<the page's form token> with the page's cookie; one vote = one 303.
 *          Timed by --seconds: no new pair starts after it, pairs under way finish.
 *   posts  the same POSTs alone: --count pages fetched first (untimed; a form token lasts
 *          2 hours and is used once), then all posted, timed.
 *   api    POST /api/v1/votes, a batch of one new vote each (terminal and secret from the
 *          demo's kiosk.conf, employee E001 at W001), timed by --seconds; one vote = one
 *          "stored" in a 200 ack.
 *
 * Run with no arguments (as bench/run-all does) it runs bench/collector_http.sh, which runs it.
 * Usage: bench_collector_http MODE --url https://127.0.0.1:P --token T --ca CA.pem
 *            [--conns 32] [--seconds 10] [--count 20000] [--kiosk-conf FILE] [--pid PID] */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "benchutil.h"
#include "vote.h"

#define BODY_MAX (256 * 1024)
#define FT_MAX 80
#define COOKIE_MAX 96

enum mode { MODE_PAIRS, MODE_POSTS, MODE_API };
enum step { STEP_IDLE, STEP_GET, STEP_POST };

struct fetched {
        char ft[FT_MAX];
        char cookie[COOKIE_MAX]; /* "otsinka_phone=..." */
};

/* One connection's worth of work: an easy handle reused, so that its connection is kept. */
struct slot {
        CURL *h;
        enum step step;
        char body[BODY_MAX]; /* the answer so far (cut at BODY_MAX) */
        size_t body_len;
        char cookie[COOKIE_MAX]; /* from the answer's Set-Cookie */
        char post[512];          /* the request body being sent */
        struct curl_slist *headers;
        int64_t start_ns;   /* when the vote (pair: its GET) started */
        int64_t post_ns;    /* when its POST started */
        struct fetched got; /* pairs: what the GET brought */
};

struct run {
        enum mode mode;
        const char *url, *token, *ca;
        char auth[512];
        char page_url[512], api_url[512];
        int conns;
        double seconds;
        size_t count;
        pid_t pid;
        /* figures */
        size_t ok, started, status[6], transport_errors, unexpected;
        double *vote_ms, *post_ms;
        size_t n_vote_ms, n_post_ms, cap_ms;
        /* posts: the tokens fetched beforehand */
        struct fetched *pool;
        size_t pool_n, pool_next;
        char first_error[256];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
        struct slot *s = ud;
        size_t len = size * n, room = BODY_MAX - 1 - s->body_len;

        memcpy(s->body + s->body_len, p, len < room ? len : room);
        s->body_len += len < room ? len : room;
        s->body[s->body_len] = 0;
        return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
        struct slot *s = ud;
        size_t len = size * n;

        if (len > 12 && strncasecmp(p, "Set-Cookie: ", 12) == 0) {
                size_t k = 12;

                while (k < len && k - 12 < COOKIE_MAX - 1 && p[k] != ';' && p[k] != '\r')
                        k++;
                if (k - 12 < COOKIE_MAX && strncmp(p + 12, "otsinka_phone=", 14) == 0) {
                        memcpy(s->cookie, p + 12, k - 12);
                        s->cookie[k - 12] = 0;
                }
        }
        return len;
}

static void note_error(struct run *r, const char *what, long code)
{
        if (!r->first_error[0])
                snprintf(r->first_error, sizeof(r->first_error), "%.200s (%ld)", what, code);
}

static void keep_ms(struct run *r, double vote_ms, double post_ms)
{
        if (r->n_vote_ms == r->cap_ms) {
                size_t cap = r->cap_ms ? r->cap_ms * 2 : 65536;
                double *a = realloc(r->vote_ms, cap * sizeof(double));
                double *b = a ? realloc(r->post_ms, cap * sizeof(double)) : NULL;

                if (a)
                        r->vote_ms = a;
                if (!b)
                        return;
                r->post_ms = b;
                r->cap_ms = cap;
        }
        r->vote_ms[r->n_vote_ms++] = vote_ms;
        r->post_ms[r->n_post_ms++] = post_ms;
}

static void slot_reset(struct slot *s)
{
        s->body_len = 0;
        s->body[0] = 0;
        s->cookie[0] = 0;
        curl_slist_free_all(s->headers);
        s->headers = NULL;
}

static void start_get(struct run *r, struct slot *s)
{
        slot_reset(s);
        curl_easy_setopt(s->h, CURLOPT_URL, r->page_url);
        curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(s->h, CURLOPT_COOKIE, NULL);
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, NULL);
        s->step = STEP_GET;
}

static void start_post(struct run *r, struct slot *s, const struct fetched *f, int level)
{
        char cookie[COOKIE_MAX + 16];

        slot_reset(s);
        snprintf(s->post, sizeof(s->post), "level=%d&ft=%s", level, f->ft);
        snprintf(cookie, sizeof(cookie), "Cookie: %s", f->cookie);
        s->headers = curl_slist_append(NULL, cookie);
        curl_easy_setopt(s->h, CURLOPT_URL, r->page_url);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->post);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(s->post));
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->headers);
        s->post_ns = bench_now_ns();
        s->step = STEP_POST;
}

static void start_api(struct run *r, struct slot *s)
{
        struct timespec ts;
        long long now;
        vote_id id;

        clock_gettime(CLOCK_REALTIME, &ts);
        now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        vote_id_new(&id);
        slot_reset(s);
        snprintf(s->post, sizeof(s->post),
                 "{\"protocol\":1,\"terminal\":\"T001\",\"sent_at\":%lld,\"votes\":[{\"id\":\"%s\","
                 "\"level\":%d,\"channel\":\"terminal\",\"employee\":\"E001\","
                 "\"workplace\":\"W001\",\"cast_at\":%lld}]}",
                 now, id.s, (int)(r->started % 3) + 1, now);
        s->headers = curl_slist_append(NULL, "Content-Type: application/json");
        s->headers = curl_slist_append(s->headers, r->auth);
        curl_easy_setopt(s->h, CURLOPT_URL, r->api_url);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->post);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(s->post));
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->headers);
        s->start_ns = s->post_ns = bench_now_ns();
        s->step = STEP_POST;
}

/* What a vote page's GET brought: its form token and cookie; false when they are not there. */
static bool page_parse(const struct slot *s, struct fetched *ret)
{
        const char *p = strstr(s->body, "name=\"ft\" value=\"");
        size_t n;

        if (!p || !s->cookie[0])
                return false;
        p += strlen("name=\"ft\" value=\"");
        n = strcspn(p, "\"");
        if (n == 0 || n >= FT_MAX)
                return false;
        memcpy(ret->ft, p, n);
        ret->ft[n] = 0;
        snprintf(ret->cookie, sizeof(ret->cookie), "%s", s->cookie);
        return true;
}

static void status_count(struct run *r, long code)
{
        if (code >= 100 && code < 600)
                r->status[code / 100]++;
}

/* The next request for a free slot, or false when the run is over for it. */
static bool slot_next(struct run *r, struct slot *s, int64_t deadline_ns)
{
        if (r->mode == MODE_POSTS) {
                if (r->pool_next >= r->pool_n)
                        return false;
                s->start_ns = bench_now_ns();
                start_post(r, s, &r->pool[r->pool_next], (int)(r->pool_next % 3) + 1);
                r->pool_next++;
                r->started++;
                return true;
        }
        if (bench_now_ns() >= deadline_ns)
                return false;
        r->started++;
        if (r->mode == MODE_API) {
                start_api(r, s);
                return true;
        }
        s->start_ns = bench_now_ns();
        start_get(r, s);
        return true;
}

/* Handles a finished request; returns true when the slot has another request to send. */
static bool slot_done(struct run *r, struct slot *s, CURLcode rc, int64_t deadline_ns)
{
        long code = 0;

        if (rc != CURLE_OK) {
                r->transport_errors++;
                note_error(r, curl_easy_strerror(rc), (long)rc);
                return slot_next(r, s, deadline_ns);
        }
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
        status_count(r, code);
        if (s->step == STEP_GET) {
                if (code == 200 && page_parse(s, &s->got)) {
                        start_post(r, s, &s->got, (int)(r->started % 3) + 1);
                        return true;
                }
                r->unexpected++;
                note_error(r, "GET: no 200 with a form token and a cookie", code);
                return slot_next(r, s, deadline_ns);
        }
        if ((r->mode == MODE_API && code == 200 && strstr(s->body, "\"status\":\"stored\"")) ||
            (r->mode != MODE_API && code == 303)) {
                r->ok++;
                keep_ms(r, (double)(bench_now_ns() - s->start_ns) / 1e6,
                        (double)(bench_now_ns() - s->post_ns) / 1e6);
        } else {
                r->unexpected++;
                note_error(r, "POST: unexpected answer", code);
        }
        return slot_next(r, s, deadline_ns);
}

/* Runs the slots until none has work; the time from start to the last answer in *ret_s. */
static int drive(struct run *r, struct slot *slots, double *ret_s)
{
        CURLM *m = curl_multi_init();
        int64_t t0 = bench_now_ns(), deadline = t0 + (int64_t)(r->seconds * 1e9);
        int active = 0, running = 1;

        if (!m)
                return -ENOMEM;
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)r->conns);
        for (int i = 0; i < r->conns; i++)
                if (slot_next(r, &slots[i], deadline)) {
                        curl_multi_add_handle(m, slots[i].h);
                        active++;
                }
        while (active > 0) {
                CURLMsg *msg;
                int left;

                curl_multi_perform(m, &running);
                while ((msg = curl_multi_info_read(m, &left))) {
                        struct slot *s = NULL;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
                        curl_multi_remove_handle(m, s->h);
                        if (slot_done(r, s, msg->data.result, deadline))
                                curl_multi_add_handle(m, s->h);
                        else
                                active--;
                }
                if (active > 0)
                        curl_multi_poll(m, NULL, 0, 100, NULL);
        }
        *ret_s = (double)(bench_now_ns() - t0) / 1e9;
        curl_multi_cleanup(m);
        return 0;
}

static CURL *easy_new(struct run *r, struct slot *s)
{
        CURL *h = curl_easy_init();

        if (!h)
                return NULL;
        curl_easy_setopt(h, CURLOPT_CAINFO, r->ca);
        /* only the demo's CA: with GnuTLS, libcurl would parse the system's whole CA folder
         * for every new connection, seconds of CPU for 32 connections on a busy machine */
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
        curl_easy_setopt(h, CURLOPT_PRIVATE, s);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        return h;
}

/* posts: fetches r->count pages beforehand (untimed) into r->pool. */
static int prefetch(struct run *r, struct slot *slots)
{
        CURLM *m = curl_multi_init();
        size_t asked = 0;
        int active = 0, running;

        r->pool = calloc(r->count, sizeof(*r->pool));
        if (!m || !r->pool)
                return -ENOMEM;
        for (int i = 0; i < r->conns && asked < r->count; i++, asked++) {
                start_get(r, &slots[i]);
                curl_multi_add_handle(m, slots[i].h);
                active++;
        }
        while (active > 0) {
                CURLMsg *msg;
                int left;

                curl_multi_perform(m, &running);
                while ((msg = curl_multi_info_read(m, &left))) {
                        struct slot *s = NULL;
                        long code = 0;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
                        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
                        curl_multi_remove_handle(m, s->h);
                        if (msg->data.result == CURLE_OK && code == 200 &&
                            page_parse(s, &r->pool[r->pool_n]))
                                r->pool_n++;
                        if (asked < r->count) {
                                asked++;
                                start_get(r, s);
                                curl_multi_add_handle(m, s->h);
                        } else
                                active--;
                }
                if (active > 0)
                        curl_multi_poll(m, NULL, 0, 100, NULL);
        }
        curl_multi_cleanup(m);
        return r->pool_n == r->count ? 0 : -EIO;
}

static double self_cpu_ms(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 +
               (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
}

static int read_auth(const char *path, char *buf, size_t n)
{
        char line[1024], id[128] = "", secret[256] = "";
        FILE *f = fopen(path, "re");

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\r\n")] = 0;
                if (strncmp(line, "terminal-id = ", 14) == 0)
                        snprintf(id, sizeof(id), "%.100s", line + 14);
                else if (strncmp(line, "terminal-secret = ", 18) == 0)
                        snprintf(secret, sizeof(secret), "%.200s", line + 18);
        }
        fclose(f);
        if (!id[0] || !secret[0])
                return -EINVAL;
        snprintf(buf, n, "Authorization: Bearer %s:%s", id, secret);
        return 0;
}

/* No arguments: bench/run-all runs every bench_X; the benchmark is the script beside this file. */
static int run_script(const char *argv0)
{
        char src[PATH_MAX], script[PATH_MAX + 32], build[PATH_MAX], self[PATH_MAX];

        snprintf(src, sizeof(src), "%s", __FILE__);
        snprintf(script, sizeof(script), "%s/collector_http.sh", dirname(src));
        if (access(script, R_OK) != 0) {
                fprintf(stderr, "%s: usage: MODE --url ... (see %s)\n", argv0, __FILE__);
                return 2;
        }
        /* the build folder is two levels up from bench/bench_collector_http */
        if (!getenv("OTSINKA_BUILD") && realpath("/proc/self/exe", self)) {
                snprintf(build, sizeof(build), "%s", dirname(dirname(self)));
                setenv("OTSINKA_BUILD", build, 1);
        }
        execlp("bash", "bash", script, (char *)NULL);
        perror("bash");
        return 1;
}

int main(int argc, char **argv)
{
        struct run r = {.conns = 32, .seconds = 10, .count = 20000};
        const char *mode = argc > 1 ? argv[1] : NULL, *kiosk_conf = NULL;
        struct slot *slots = NULL;
        struct bench_stats st;
        double secs = 0, cpu0, cpu_srv0 = 0, cpu_srv = 0, cpu_self;
        int rc = 1;

        if (argc == 1)
                return run_script(argv[0]);
        for (int i = 2; i + 1 < argc; i += 2) {
                const char *k = argv[i], *v = argv[i + 1];

                if (strcmp(k, "--url") == 0)
                        r.url = v;
                else if (strcmp(k, "--token") == 0)
                        r.token = v;
                else if (strcmp(k, "--ca") == 0)
                        r.ca = v;
                else if (strcmp(k, "--conns") == 0)
                        r.conns = atoi(v);
                else if (strcmp(k, "--seconds") == 0)
                        r.seconds = atof(v);
                else if (strcmp(k, "--count") == 0)
                        r.count = (size_t)atol(v);
                else if (strcmp(k, "--kiosk-conf") == 0)
                        kiosk_conf = v;
                else if (strcmp(k, "--pid") == 0)
                        r.pid = (pid_t)atoi(v);
                else {
                        fprintf(stderr, "unknown option %s\n", k);
                        return 2;
                }
        }
        if (!mode || !r.url || !r.ca || r.conns < 1 || r.conns > 4096 ||
            (strcmp(mode, "api") != 0 && !r.token)) {
                fprintf(stderr,
                        "usage: %s pairs|posts|api --url U --ca F [--token T] [--conns N]"
                        " [--seconds S] [--count N] [--kiosk-conf F] [--pid P]\n",
                        argv[0]);
                return 2;
        }
        r.mode = strcmp(mode, "pairs") == 0   ? MODE_PAIRS
                 : strcmp(mode, "posts") == 0 ? MODE_POSTS
                 : strcmp(mode, "api") == 0   ? MODE_API
                                              : (enum mode) - 1;
        if ((int)r.mode < 0) {
                fprintf(stderr, "unknown mode %s\n", mode);
                return 2;
        }
        if (r.mode == MODE_API &&
            (!kiosk_conf || read_auth(kiosk_conf, r.auth, sizeof(r.auth)) < 0)) {
                fprintf(stderr, "api: --kiosk-conf with terminal-id and terminal-secret needed\n");
                return 2;
        }
        snprintf(r.page_url, sizeof(r.page_url), "%.300s/r/%.100s", r.url, r.token ? r.token : "");
        snprintf(r.api_url, sizeof(r.api_url), "%.300s/api/v1/votes", r.url);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        slots = calloc((size_t)r.conns, sizeof(*slots));
        if (!slots)
                goto out;
        for (int i = 0; i < r.conns; i++)
                if (!(slots[i].h = easy_new(&r, &slots[i])))
                        goto out;
        if (r.mode == MODE_POSTS && prefetch(&r, slots) < 0) {
                fprintf(stderr, "posts: fetched %zu of %zu pages\n", r.pool_n, r.count);
                goto out;
        }
        cpu0 = self_cpu_ms();
        if (r.pid > 0)
                cpu_srv0 = bench_proc_cpu_ms(r.pid);
        if (drive(&r, slots, &secs) < 0)
                goto out;
        cpu_self = self_cpu_ms() - cpu0;
        if (r.pid > 0)
                cpu_srv = bench_proc_cpu_ms(r.pid) - cpu_srv0;

        printf("%s: %zu votes thanked in %.2f s = %.0f votes/s over %d connections", mode, r.ok,
               secs, (double)r.ok / secs, r.conns);
        printf(" (answers 2xx %zu, 3xx %zu, 4xx %zu, 5xx %zu; unexpected %zu; transport errors "
               "%zu)\n",
               r.status[2], r.status[3], r.status[4], r.status[5], r.unexpected,
               r.transport_errors);
        if (r.first_error[0])
                printf("  first problem: %s\n", r.first_error);
        bench_stats(r.vote_ms, r.n_vote_ms, &st);
        bench_stats_print(r.mode == MODE_PAIRS ? "  GET+POST (ms)" : "  POST (ms)", &st);
        if (r.mode == MODE_PAIRS) {
                bench_stats(r.post_ms, r.n_post_ms, &st);
                bench_stats_print("  its POST (ms)", &st);
        }
        if (r.ok)
                printf("  CPU per vote: collector %.3f ms%s, this load generator %.3f ms\n",
                       r.pid > 0 ? cpu_srv / (double)r.ok : 0.0, r.pid > 0 ? "" : " (no --pid)",
                       cpu_self / (double)r.ok);
        printf("RESULT|%s|%zu|%.1f|%zu\n", mode, r.ok, (double)r.ok / secs,
               r.unexpected + r.transport_errors);
        rc = r.unexpected + r.transport_errors ? 3 : 0;
out:
        for (int i = 0; slots && i < r.conns; i++) {
                slot_reset(&slots[i]);
                curl_easy_cleanup(slots[i].h);
        }
        free(slots);
        free(r.pool);
        free(r.vote_ms);
        free(r.post_ms);
        curl_global_cleanup();
        return rc;
}
