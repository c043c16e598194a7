/* SPDX-License-Identifier: MIT */
/* cutproxy: a TCP proxy on loopback for the sync fault tests (tests/sync/fault_*.sh). It
 * forwards every connection to the collector and, with a seeded RNG, cuts a share of them
 * after a random number of bytes in one direction: client to collector (mid-handshake or
 * mid-request) or collector to client (mid-handshake or mid-response), with a FIN or a RST,
 * on both sides at once. It does not look inside TLS; the terminal's certificate checks stay
 * end to end with the collector.
 *
 * It can also answer the first N connections itself, as a gateway in front of the collector
 * would: TLS with the collector's own certificate and key, then one HTTP error (500, 503, ...)
 * for whatever request comes, then close. Later connections are forwarded as above.
 *
 * Every decision is drawn at accept time, in accept order, from the seed: the same seed makes
 * the same plan for the n-th connection. Events go to --log (default stderr), one line each:
 *   conn 3 plan cut s2c@12000 rst        conn 3 cut s2c at 12000 bytes (c2s 4711, s2c 12000)
 *   conn 4 plan pass                     conn 4 close (c2s 812, s2c 3110)
 *   conn 1 answer 500 (request of 512 bytes)
 * and with --verbose every forwarded chunk:  conn 3 c2s +1380 = 4711
 *
 * Prints "port N" on stdout once it listens (--listen 0, the default, takes a free port).
 * Stops on SIGTERM or SIGINT. A test tool: built with the tests, never installed. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define ANSWER_STATUS_MAX 8
#define REQUEST_MAX (2 * 1024 * 1024) /* a request to answer is read and dropped, up to this */
#define IO_TIMEOUT_S 30               /* a stuck peer does not hold a thread for ever */

enum dir { C2S = 0, S2C = 1 };
static const char *const dir_name[] = {"c2s", "s2c"};

struct options {
        int listen_port;
        int to_port;
        uint64_t seed;
        unsigned share; /* percent of forwarded connections that are cut */
        uint64_t min_bytes, max_bytes;
        bool verbose;
        unsigned answer[ANSWER_STATUS_MAX];
        size_t n_answer;
        unsigned answer_count; /* connections answered before forwarding starts */
        const char *cert, *key;
};

struct conn {
        unsigned id;
        int cfd;
        bool answer; /* answer this one over TLS, do not forward */
        unsigned status;
        bool cut;
        enum dir dir;
        uint64_t limit; /* bytes in dir after which the connection is cut */
        bool rst;       /* cut with a RST rather than a FIN */
};

static struct options opt = {
    .seed = 1,
    .share = 50,
    .min_bytes = 1,
    .max_bytes = 65536,
};
static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static gnutls_certificate_credentials_t xcred;

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
        va_list ap;

        pthread_mutex_lock(&log_lock);
        va_start(ap, fmt);
        vfprintf(log_file, fmt, ap);
        va_end(ap);
        fputc('\n', log_file);
        fflush(log_file);
        pthread_mutex_unlock(&log_lock);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
        va_list ap;

        fputs("cutproxy: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(2);
}

/* splitmix64: small, seedable, and the same on every platform. */
static uint64_t rng_state;
static uint64_t rng(void)
{
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static uint64_t parse_u64(const char *what, const char *s, uint64_t lo, uint64_t hi)
{
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
                die("%s: \"%s\" is not a number in %" PRIu64 "..%" PRIu64, what, s, lo, hi);
        return v;
}

static void parse_answer(const char *s)
{
        char copy[128], *tok, *save = NULL;

        if (strlen(s) >= sizeof(copy))
                die("--answer: too long");
        strcpy(copy, s);
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (opt.n_answer == ANSWER_STATUS_MAX)
                        die("--answer: at most %d statuses", ANSWER_STATUS_MAX);
                opt.answer[opt.n_answer++] = (unsigned)parse_u64("--answer", tok, 100, 599);
        }
}

static void usage(void)
{
        fputs(
            "Usage: cutproxy --to PORT [--listen PORT] [--seed N] [--share PERCENT]\n"
            "                [--min-bytes N] [--max-bytes N] [--log FILE] [--verbose]\n"
            "                [--answer STATUS[,STATUS...] --answer-count N --cert PEM --key PEM]\n",
            stderr);
        exit(2);
}

static void parse_args(int argc, char **argv)
{
        const char *log_path = NULL;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(a, "--verbose") == 0) {
                        opt.verbose = true;
                        continue;
                }
                if (!v || strncmp(a, "--", 2) != 0)
                        usage();
                i++;
                if (strcmp(a, "--to") == 0)
                        opt.to_port = (int)parse_u64(a, v, 1, 65535);
                else if (strcmp(a, "--listen") == 0)
                        opt.listen_port = (int)parse_u64(a, v, 0, 65535);
                else if (strcmp(a, "--seed") == 0)
                        opt.seed = parse_u64(a, v, 0, UINT64_MAX);
                else if (strcmp(a, "--share") == 0)
                        opt.share = (unsigned)parse_u64(a, v, 0, 100);
                else if (strcmp(a, "--min-bytes") == 0)
                        opt.min_bytes = parse_u64(a, v, 1, UINT32_MAX);
                else if (strcmp(a, "--max-bytes") == 0)
                        opt.max_bytes = parse_u64(a, v, 1, UINT32_MAX);
                else if (strcmp(a, "--log") == 0)
                        log_path = v;
                else if (strcmp(a, "--answer") == 0)
                        parse_answer(v);
                else if (strcmp(a, "--answer-count") == 0)
                        opt.answer_count = (unsigned)parse_u64(a, v, 0, 1000000);
                else if (strcmp(a, "--cert") == 0)
                        opt.cert = v;
                else if (strcmp(a, "--key") == 0)
                        opt.key = v;
                else
                        usage();
        }
        if (!opt.to_port)
                usage();
        if (opt.min_bytes > opt.max_bytes)
                die("--min-bytes is larger than --max-bytes");
        if (opt.answer_count && (!opt.n_answer || !opt.cert || !opt.key))
                die("--answer-count needs --answer, --cert and --key");
        log_file = stderr;
        if (log_path) {
                log_file = fopen(log_path, "ae");
                if (!log_file)
                        die("cannot open %s: %s", log_path, strerror(errno));
        }
}

static void set_timeouts(int fd)
{
        struct timeval tv = {.tv_sec = IO_TIMEOUT_S};

        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Closes a socket with a RST (no lingering FIN handshake) when rst is set. */
static void drop(int fd, bool rst)
{
        if (fd < 0)
                return;
        if (rst) {
                struct linger l = {.l_onoff = 1, .l_linger = 0};
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        }
        close(fd);
}

static int send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

static int connect_upstream(void)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.to_port)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Forwards both ways until both sides have closed, or until the planned cut. */
static void forward(struct conn *c)
{
        static __thread char buf[64 * 1024];
        uint64_t count[2] = {0, 0};
        bool open_in[2] = {true, true}; /* still reading from: [C2S] the client, [S2C] the server */
        int fd[2], sfd;

        sfd = connect_upstream();
        if (sfd < 0) {
                say("conn %u upstream refused: %s", c->id, strerror(-sfd));
                drop(c->cfd, true);
                return;
        }
        set_timeouts(sfd);
        fd[C2S] = c->cfd; /* read from the client, write to the server */
        fd[S2C] = sfd;
        while (open_in[C2S] || open_in[S2C]) {
                struct pollfd p[2];

                for (int i = 0; i < 2; i++) {
                        p[i].fd = open_in[i] ? fd[i] : -1;
                        p[i].events = POLLIN;
                        p[i].revents = 0;
                }
                int ready = poll(p, 2, IO_TIMEOUT_S * 1000);

                if (ready < 0 && errno == EINTR)
                        continue;
                if (ready <= 0) {
                        say("conn %u idle for %d s: closed", c->id, IO_TIMEOUT_S);
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        ssize_t n;
                        size_t take;
                        bool cut_now = false;

                        if (!p[i].revents)
                                continue;
                        n = recv(fd[i], buf, sizeof(buf), 0);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0) { /* a RST from one side goes on to the other */
                                say("conn %u %s read: %s (c2s %" PRIu64 ", s2c %" PRIu64 ")", c->id,
                                    dir_name[i], strerror(errno), count[C2S], count[S2C]);
                                drop(fd[0], true);
                                drop(fd[1], true);
                                return;
                        }
                        if (n == 0) {
                                open_in[i] = false;
                                shutdown(fd[1 - i], SHUT_WR);
                                continue;
                        }
                        take = (size_t)n;
                        if (c->cut && c->dir == (enum dir)i && count[i] + take >= c->limit) {
                                take = (size_t)(c->limit - count[i]);
                                cut_now = true;
                        }
                        if (take > 0 && send_all(fd[1 - i], buf, take) < 0) {
                                say("conn %u %s write: %s", c->id, dir_name[i], strerror(errno));
                                drop(fd[0], true);
                                drop(fd[1], true);
                                return;
                        }
                        count[i] += take;
                        if (opt.verbose && take > 0)
                                say("conn %u %s +%zu = %" PRIu64, c->id, dir_name[i], take,
                                    count[i]);
                        if (cut_now) {
                                say("conn %u cut %s at %" PRIu64 " bytes (c2s %" PRIu64
                                    ", s2c %" PRIu64 ")",
                                    c->id, dir_name[i], c->limit, count[C2S], count[S2C]);
                                drop(fd[0], c->rst);
                                drop(fd[1], c->rst);
                                return;
                        }
                }
        }
        say("conn %u close (c2s %" PRIu64 ", s2c %" PRIu64 ")", c->id, count[C2S], count[S2C]);
        close(fd[0]);
        close(fd[1]);
}

static const char *reason_phrase(unsigned status)
{
        switch (status) {
        case 500:
                return "Internal Server Error";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 504:
                return "Gateway Timeout";
        case 429:
                return "Too Many Requests";
        default:
                return "Error";
        }
}

/* The request's Content-Length, or 0; hdr is NUL-terminated and ends at the blank line. */
static size_t content_length(const char *hdr)
{
        for (const char *p = strstr(hdr, "\r\n"); p; p = strstr(p + 2, "\r\n"))
                if (strncasecmp(p + 2, "Content-Length:", 15) == 0)
                        return (size_t)strtoull(p + 17, NULL, 10);
        return 0;
}

static ssize_t tls_recv(gnutls_session_t s, char *p, size_t n)
{
        ssize_t r;

        do
                r = gnutls_record_recv(s, p, n);
        while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
        return r;
}

/* TLS with the collector's certificate, one HTTP request read whole, one error answered. */
static void answer(struct conn *c)
{
        static __thread char buf[16 * 1024];
        gnutls_session_t s;
        char head[8192], resp[512], body[160];
        size_t have = 0, want = 0, got = 0, total = 0;
        bool headers_done = false;
        int r;

        if (gnutls_init(&s, GNUTLS_SERVER) < 0) {
                drop(c->cfd, true);
                return;
        }
        gnutls_set_default_priority(s);
        gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, xcred);
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
        gnutls_transport_set_int(s, c->cfd);
        gnutls_handshake_set_timeout(s, IO_TIMEOUT_S * 1000);
        do
                r = gnutls_handshake(s);
        while (r < 0 && !gnutls_error_is_fatal(r));
        if (r < 0) {
                say("conn %u answer: TLS handshake failed: %s", c->id, gnutls_strerror(r));
                goto out;
        }
        while (!headers_done) {
                ssize_t n = tls_recv(s, head + have, sizeof(head) - 1 - have);
                char *end;

                if (n <= 0) {
                        say("conn %u answer: the request ended early", c->id);
                        goto out;
                }
                have += (size_t)n;
                total += (size_t)n;
                head[have] = 0;
                end = strstr(head, "\r\n\r\n");
                if (end) {
                        headers_done = true;
                        got = have - (size_t)(end + 4 - head);
                        end[2] = 0;
                        want = content_length(head);
                } else if (have == sizeof(head) - 1) {
                        say("conn %u answer: headers too long", c->id);
                        goto out;
                }
        }
        if (want > REQUEST_MAX)
                want = REQUEST_MAX;
        while (got < want) {
                ssize_t n = tls_recv(s, buf, sizeof(buf));

                if (n <= 0) {
                        say("conn %u answer: the body ended early", c->id);
                        goto out;
                }
                got += (size_t)n;
                total += (size_t)n;
        }
        snprintf(body, sizeof(body),
                 "{\"protocol\":1,\"error\":\"gateway: HTTP %u injected by cutproxy\"}", c->status);
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n\r\n%s",
                 c->status, reason_phrase(c->status), strlen(body), body);
        for (size_t off = 0, len = strlen(resp); off < len;) {
                ssize_t w = gnutls_record_send(s, resp + off, len - off);

                if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
                        continue;
                if (w < 0)
                        goto out;
                off += (size_t)w;
        }
        say("conn %u answer %u (request of %zu bytes)", c->id, c->status, total);
        gnutls_bye(s, GNUTLS_SHUT_WR);
out:
        gnutls_deinit(s);
        close(c->cfd);
}

static void *serve(void *arg)
{
        struct conn *c = arg;

        if (c->answer)
                answer(c);
        else
                forward(c);
        free(c);
        return NULL;
}

int main(int argc, char **argv)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);
        pthread_attr_t attr;
        unsigned next_id = 0;
        int lfd, one = 1, r;

        parse_args(argc, argv);
        signal(SIGPIPE, SIG_IGN);
        rng_state = opt.seed;
        if (opt.answer_count) {
                r = gnutls_certificate_allocate_credentials(&xcred);
                if (r >= 0)
                        r = gnutls_certificate_set_x509_key_file(xcred, opt.cert, opt.key,
                                                                 GNUTLS_X509_FMT_PEM);
                if (r < 0)
                        die("cannot load %s and %s: %s", opt.cert, opt.key, gnutls_strerror(r));
        }

        lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0)
                die("socket: %s", strerror(errno));
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)opt.listen_port);
        if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                die("cannot listen on 127.0.0.1:%d: %s", opt.listen_port, strerror(errno));
        if (listen(lfd, 64) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
                die("listen: %s", strerror(errno));
        printf("port %u\n", ntohs(sa.sin_port));
        fflush(stdout);
        say("listening on 127.0.0.1:%u, forwarding to 127.0.0.1:%d, seed %" PRIu64
            ", share %u%%, cut after %" PRIu64 "..%" PRIu64 " bytes, %u answered",
            ntohs(sa.sin_port), opt.to_port, opt.seed, opt.share, opt.min_bytes, opt.max_bytes,
            opt.answer_count);

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        for (;;) {
                struct conn *c;
                pthread_t t;
                int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
                            errno == ENFILE)
                                continue;
                        die("accept: %s", strerror(errno));
                }
                setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                set_timeouts(cfd);
                c = calloc(1, sizeof(*c));
                if (!c) {
                        drop(cfd, true);
                        continue;
                }
                c->id = ++next_id;
                c->cfd = cfd;
                /* Every draw is made for every connection, so that the n-th plan depends on
                 * the seed alone. */
                c->cut = rng() % 100 < opt.share;
                c->dir = (enum dir)(rng() % 2);
                c->limit = opt.min_bytes + rng() % (opt.max_bytes - opt.min_bytes + 1);
                c->rst = rng() % 2;
                if (c->id <= opt.answer_count) {
                        c->answer = true;
                        c->status = opt.answer[(c->id - 1) % opt.n_answer];
                        say("conn %u plan answer %u", c->id, c->status);
                } else if (c->cut)
                        say("conn %u plan cut %s@%" PRIu64 " %s", c->id, dir_name[c->dir], c->limit,
                            c->rst ? "rst" : "fin");
                else
                        say("conn %u plan pass", c->id);
                r = pthread_create(&t, &attr, serve, c);
                if (r) {
                        say("conn %u: cannot start a thread: %s", c->id, strerror(r));
                        drop(cfd, true);
                        free(c);
                }
        }
}
