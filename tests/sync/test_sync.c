/* SPDX-License-Identifier: MIT */
/* Tests of the uploader against a scripted collector in this process: libmicrohttpd with TLS
 * on 127.0.0.1, certificates made by openssl(1) at start. The fake decodes each batch with
 * proto_batch_decode() and answers what the test scripted; it counts the requests that got
 * past TLS, so that a test can assert that a refused certificate carried no vote. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <microhttpd.h>
#include <sodium.h>

#include "buf.h"
#include "outbox.h"
#include "proto.h"
#include "sync.h"
#include "testutil.h"

#define TERMINAL "term-7"
#define SECRET "s3cret-Ab"
#define MAX_SEEN 4096

/* The throwaway PKI, made once for the whole group. */
static struct {
        char dir[256];
        char ca_good[300];  /* the server's self-signed certificate for 127.0.0.1: the CA */
        char ca_other[300]; /* an unrelated self-signed certificate */
        char ca_wrong[300]; /* self-signed for wrong.invalid, not 127.0.0.1 */
        char *key_good, *cert_good, *key_wrong, *cert_wrong; /* PEM, for the server */
} pki;

enum mode {
        MODE_ACK,      /* 200 with an ack; ids in reject[] rejected */
        MODE_STATUS,   /* `status` with an error body */
        MODE_WRONG_ID, /* 200, but the last result names another vote */
        MODE_SHORT,    /* 200, one result too few */
        MODE_HUGE,     /* 200 with a body over PROTO_BODY_MAX, its length announced */
        MODE_CHUNKED,  /* the same, chunked: the size shows only while it arrives */
        MODE_HANG,     /* hold the request until released, then 503 */
};

struct server {
        struct MHD_Daemon *daemon;
        uint16_t port;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* MODE_HANG waits on it */

        /* the script */
        enum mode mode;
        unsigned status;  /* for MODE_STATUS */
        int fail_first;   /* answer 503 to this many requests first */
        size_t max_votes; /* 413 for larger batches; 0 for no limit */
        vote_id reject[4];
        size_t n_reject;
        bool released; /* ends MODE_HANG */

        /* what it saw */
        int requests;           /* requests that got past TLS */
        int votes;              /* votes in batches it acknowledged */
        int empty;              /* batches without votes that it acknowledged */
        vote_id seen[MAX_SEEN]; /* ids of acknowledged votes, in order */
        size_t n_seen;
};

struct request {
        struct buf body;
        bool too_big;
};

struct fixture {
        struct server sv;
        char dir[300];
        char db[320];
        char url[64];
        struct sync_options opts;
        atomic_int notified; /* notify() calls from the sync thread */
        struct sync *s;      /* a running sync thread, stopped by the teardown if still set */
};

static int run(const char *cmd)
{
        int r = system(cmd);

        return r == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "r");
        char *s;
        long n;

        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        s = calloc(1, (size_t)n + 1);
        if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
                free(s);
                s = NULL;
        }
        fclose(f);
        return s;
}

static int make_cert(const char *name, const char *cn, const char *san)
{
        char cmd[1024];

        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                 "-subj /CN=%s -addext subjectAltName=%s -days 2 -keyout %s.key -out %s.pem "
                 ">/dev/null 2>&1",
                 pki.dir, cn, san, name, name);
        return run(cmd);
}

static int group_setup(void **state)
{
        char path[320];

        if (sodium_init() < 0)
                return -1;
        if (test_mkdtemp(pki.dir, sizeof(pki.dir), "otsinka-sync") < 0)
                return -1;
        if (make_cert("good", "127.0.0.1", "IP:127.0.0.1") < 0 ||
            make_cert("other", "127.0.0.1", "IP:127.0.0.1") < 0 ||
            make_cert("wrong", "wrong.invalid", "DNS:wrong.invalid") < 0) {
                fprintf(stderr, "openssl could not make the test certificates\n");
                return -1;
        }
        snprintf(pki.ca_good, sizeof(pki.ca_good), "%s/good.pem", pki.dir);
        snprintf(pki.ca_other, sizeof(pki.ca_other), "%s/other.pem", pki.dir);
        snprintf(pki.ca_wrong, sizeof(pki.ca_wrong), "%s/wrong.pem", pki.dir);
        pki.cert_good = slurp(pki.ca_good);
        pki.cert_wrong = slurp(pki.ca_wrong);
        snprintf(path, sizeof(path), "%s/good.key", pki.dir);
        pki.key_good = slurp(path);
        snprintf(path, sizeof(path), "%s/wrong.key", pki.dir);
        pki.key_wrong = slurp(path);
        if (!pki.cert_good || !pki.cert_wrong || !pki.key_good || !pki.key_wrong)
                return -1;
        return 0;
}

static int group_teardown(void **state)
{
        free(pki.cert_good);
        free(pki.cert_wrong);
        free(pki.key_good);
        free(pki.key_wrong);
        test_remove_tree(pki.dir);
        return 0;
}

/* ---- the fake collector ---- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        if (!body)
                return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* Spaces, PROTO_BODY_MAX + 1 of them, in chunks of unannounced total size. */
static ssize_t spaces(void *cls, uint64_t pos, char *out, size_t max)
{
        size_t left;

        if (pos > PROTO_BODY_MAX)
                return MHD_CONTENT_READER_END_OF_STREAM;
        left = PROTO_BODY_MAX + 1 - (size_t)pos;
        if (max > left)
                max = left;
        memset(out, ' ', max);
        return (ssize_t)max;
}

static enum MHD_Result reply_chunked(struct MHD_Connection *c)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, spaces, NULL, NULL);
        if (!resp)
                return MHD_NO;
        ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
        char *body = NULL;

        if (proto_error_encode(msg, &body) < 0)
                return MHD_NO;
        return reply(c, status, body);
}

static bool rejected(struct server *sv, const vote_id *id)
{
        for (size_t i = 0; i < sv->n_reject; i++)
                if (strcmp(sv->reject[i].s, id->s) == 0)
                        return true;
        return false;
}

static enum MHD_Result answer(struct server *sv, struct MHD_Connection *c, struct request *req)
{
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        struct proto_batch batch = {0};
        struct proto_ack ack = {0};
        char err[256], *body = NULL;
        enum MHD_Result ret;

        if (!auth || strcmp(auth, "Bearer " TERMINAL ":" SECRET) != 0)
                return reply_error(c, 401, "unknown or revoked terminal");
        if (!type || strcmp(type, "application/json") != 0)
                return reply_error(c, 415, "expected application/json");
        if (req->too_big)
                return reply_error(c, 413, "body too large");

        pthread_mutex_lock(&sv->lock);
        if (sv->mode == MODE_HANG) {
                struct timespec until;

                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += 30;
                while (!sv->released)
                        if (pthread_cond_timedwait(&sv->cond, &sv->lock, &until) == ETIMEDOUT)
                                break;
                pthread_mutex_unlock(&sv->lock);
                return reply_error(c, 503, "held");
        }
        if (sv->fail_first > 0) {
                sv->fail_first--;
                pthread_mutex_unlock(&sv->lock);
                return reply_error(c, 503, "busy, try later");
        }
        if (sv->mode == MODE_STATUS) {
                unsigned status = sv->status;
                pthread_mutex_unlock(&sv->lock);
                return reply_error(c, status, "scripted failure");
        }
        pthread_mutex_unlock(&sv->lock);

        if (proto_batch_decode(req->body.data, req->body.len, &batch, err, sizeof(err)) < 0)
                return reply_error(c, 400, err);
        if (strcmp(batch.terminal, TERMINAL) != 0) {
                proto_batch_finish(&batch);
                return reply_error(c, 403, "wrong terminal");
        }
        pthread_mutex_lock(&sv->lock);
        if (sv->max_votes && batch.n_votes > sv->max_votes) {
                pthread_mutex_unlock(&sv->lock);
                proto_batch_finish(&batch);
                return reply_error(c, 413, "batch too large");
        }
        if (batch.n_votes == 0)
                sv->empty++;
        ack.server_time_ms = (int64_t)time(NULL) * 1000;
        ack.n_results = batch.n_votes;
        ack.results = calloc(batch.n_votes + 1, sizeof(*ack.results));
        for (size_t i = 0; ack.results && i < batch.n_votes; i++) {
                struct proto_result *res = &ack.results[i];

                res->index = i;
                res->id = batch.votes[i].vote.id;
                if (rejected(sv, &res->id)) {
                        res->status = PROTO_REJECTED;
                        snprintf(res->reason, sizeof(res->reason), "votes[%zu].employee: unknown",
                                 i);
                } else
                        res->status = PROTO_STORED;
                if (sv->n_seen < MAX_SEEN)
                        sv->seen[sv->n_seen++] = res->id;
        }
        sv->votes += (int)batch.n_votes;
        if (sv->mode == MODE_WRONG_ID && batch.n_votes > 0)
                vote_id_new(&ack.results[batch.n_votes - 1].id);
        if (sv->mode == MODE_SHORT && batch.n_votes > 0)
                ack.n_results--;
        if (sv->mode == MODE_HUGE) {
                body = malloc(PROTO_BODY_MAX + 2);
                if (body) {
                        memset(body, ' ', PROTO_BODY_MAX + 1);
                        body[PROTO_BODY_MAX + 1] = 0;
                }
        }
        if (sv->mode == MODE_CHUNKED) {
                pthread_mutex_unlock(&sv->lock);
                proto_ack_finish(&ack);
                proto_batch_finish(&batch);
                return reply_chunked(c);
        }
        pthread_mutex_unlock(&sv->lock);

        if (!body && ack.results && proto_ack_encode(&ack, &body) < 0)
                body = NULL;
        ret = body ? reply(c, 200, body) : reply_error(c, 500, "cannot answer");
        proto_ack_finish(&ack);
        proto_batch_finish(&batch);
        return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
        struct server *sv = cls;
        struct request *req = *con_cls;

        if (!req) {
                req = calloc(1, sizeof(*req));
                if (!req)
                        return MHD_NO;
                buf_init(&req->body, PROTO_BODY_MAX);
                *con_cls = req;
                pthread_mutex_lock(&sv->lock);
                sv->requests++;
                pthread_mutex_unlock(&sv->lock);
                return MHD_YES;
        }
        if (*upload_size) {
                if (!req->too_big && buf_add(&req->body, upload, *upload_size) < 0)
                        req->too_big = true;
                *upload_size = 0;
                return MHD_YES;
        }
        if (strcmp(method, "POST") != 0 || strcmp(url, "/api/v1/votes") != 0)
                return reply_error(c, 404, "no such endpoint");
        return answer(sv, c, req);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
        struct request *req = *con_cls;

        if (req) {
                buf_free(&req->body);
                free(req);
                *con_cls = NULL;
        }
}

static int server_start(struct server *sv, const char *key, const char *cert)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        const union MHD_DaemonInfo *info;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        pthread_mutex_init(&sv->lock, NULL);
        pthread_cond_init(&sv->cond, NULL);
        sv->daemon = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS |
                MHD_USE_ERROR_LOG,
            0, NULL, NULL, handle, sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
            MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
            MHD_OPTION_NOTIFY_COMPLETED, completed, sv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
            MHD_OPTION_END);
        if (!sv->daemon)
                return -1;
        info = MHD_get_daemon_info(sv->daemon, MHD_DAEMON_INFO_BIND_PORT);
        if (!info || !info->port)
                return -1;
        sv->port = info->port;
        return 0;
}

static void server_release(struct server *sv)
{
        pthread_mutex_lock(&sv->lock);
        sv->released = true;
        pthread_cond_broadcast(&sv->cond);
        pthread_mutex_unlock(&sv->lock);
}

static void server_stop(struct server *sv)
{
        if (!sv->daemon)
                return;
        server_release(sv);
        MHD_stop_daemon(sv->daemon);
        sv->daemon = NULL;
        pthread_cond_destroy(&sv->cond);
        pthread_mutex_destroy(&sv->lock);
}

/* A snapshot of the server's counters. */
static struct server_seen {
        int requests, votes, empty;
} seen(struct server *sv)
{
        struct server_seen s;

        pthread_mutex_lock(&sv->lock);
        s.requests = sv->requests;
        s.votes = sv->votes;
        s.empty = sv->empty;
        pthread_mutex_unlock(&sv->lock);
        return s;
}

/* ---- fixtures and helpers ---- */

static int setup_with(void **state, const char *key, const char *cert)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char prefix[sizeof(pki.dir) + 8];

        if (!f)
                return -1;
        snprintf(prefix, sizeof(prefix), "%s/db", pki.dir);
        if (test_mkdtemp(f->dir, sizeof(f->dir), prefix) < 0 ||
            server_start(&f->sv, key, cert) < 0) {
                free(f);
                return -1;
        }
        snprintf(f->db, sizeof(f->db), "%s/outbox.db", f->dir);
        snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%u", (unsigned)f->sv.port);
        f->opts = (struct sync_options){
            .url = f->url,
            .ca_file = pki.ca_good,
            .terminal_id = TERMINAL,
            .secret = SECRET,
            .db_path = f->db,
            .batch_max = 100,
            .backoff_min_ms = 20,
            .backoff_max_ms = 200,
            .connect_timeout_s = 5,
            .transfer_timeout_s = 20,
        };
        atomic_init(&f->notified, 0);
        *state = f;
        return 0;
}

static int setup(void **state)
{
        return setup_with(state, pki.key_good, pki.cert_good);
}

static int setup_wrong_name(void **state)
{
        return setup_with(state, pki.key_wrong, pki.cert_wrong);
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        sync_stop(f->s); /* a failed assertion may have left it running */
        server_stop(&f->sv);
        test_remove_tree(f->dir);
        free(f);
        return 0;
}

static void add_votes(const char *db, size_t n, vote_id *ret_ids)
{
        struct outbox *ob = NULL;

        assert_int_equal(outbox_open(db, &ob), 0);
        for (size_t i = 0; i < n; i++) {
                struct vote v = {0};

                vote_id_new(&v.id);
                v.level = 1 + (int)(i % 3);
                strcpy(v.channel, VOTE_CHANNEL_TERMINAL);
                strcpy(v.employee, "E-1042");
                strcpy(v.workplace, "WP.7");
                v.cast_at_ms = (int64_t)time(NULL) * 1000 - 1000;
                assert_int_equal(outbox_add(ob, &v), 0);
                if (ret_ids)
                        ret_ids[i] = v.id;
        }
        outbox_close(ob);
}

static void assert_counts(const char *db, int64_t pending, int64_t sent, int64_t rejected)
{
        struct outbox *ob = NULL;
        struct outbox_counts c;

        assert_int_equal(outbox_open(db, &ob), 0);
        assert_int_equal(outbox_counts(ob, &c), 0);
        outbox_close(ob);
        assert_int_equal(c.pending, pending);
        assert_int_equal(c.sent, sent);
        assert_int_equal(c.rejected, rejected);
}

static void assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_notify(void *userdata)
{
        struct fixture *f = userdata;

        atomic_fetch_add(&f->notified, 1);
}

/* Polls the sync status until pending reaches `pending` or timeout_ms passes. */
static bool wait_pending(struct sync *s, int64_t pending, int64_t timeout_ms)
{
        int64_t until = mono_ms() + timeout_ms;
        struct sync_status st;

        do {
                sync_get_status(s, &st);
                if (st.pending == pending && st.last_ok_unix > 0)
                        return true;
                usleep(10 * 1000);
        } while (mono_ms() < until);
        return false;
}

/* Polls the sync status until it is online (want_online) or names an error, or timeout_ms
 * passes; the last status read goes to *ret. */
static void wait_verdict(struct sync *s, bool want_online, int64_t timeout_ms,
                         struct sync_status *ret)
{
        int64_t until = mono_ms() + timeout_ms;

        do {
                sync_get_status(s, ret);
                if (want_online ? ret->online : ret->last_error[0] != 0)
                        return;
                usleep(10 * 1000);
        } while (mono_ms() < until);
}

/* Points the fixture's URL at a port that was just free: nobody listens there. */
static void use_closed_port(struct fixture *f)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);
        int fd;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        close(fd);
        snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

/* ---- sync_once ---- */

static void test_all_acked(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 3, NULL);
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 3);
        assert_string_equal(err, "");
        assert_counts(f->db, 0, 3, 0);
        assert_int_equal(seen(&f->sv).requests, 1);
        assert_int_equal(seen(&f->sv).votes, 3);

        /* Nothing waits: no request at all. */
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 0);
        assert_int_equal(seen(&f->sv).requests, 1);
}

static void test_rejected_is_kept_and_not_resent(void **state)
{
        struct fixture *f = *state;
        vote_id ids[3], later[1];
        char err[256];
        int times = 0;

        add_votes(f->db, 3, ids);
        f->sv.reject[0] = ids[1];
        f->sv.n_reject = 1;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 3);
        assert_counts(f->db, 0, 2, 1);

        add_votes(f->db, 1, later);
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 1);
        assert_counts(f->db, 0, 3, 1);
        assert_int_equal(seen(&f->sv).requests, 2);
        assert_int_equal(seen(&f->sv).votes, 4);
        for (size_t i = 0; i < f->sv.n_seen; i++)
                times += strcmp(f->sv.seen[i].s, ids[1].s) == 0;
        assert_int_equal(times, 1);
        assert_string_equal(f->sv.seen[3].s, later[0].s);
}

static void test_busy_marks_nothing(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 3, NULL);
        f->sv.mode = MODE_STATUS;
        f->sv.status = 503;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EAGAIN);
        assert_contains(err, "503");
        assert_contains(err, "scripted failure");
        assert_counts(f->db, 3, 0, 0);
        assert_int_equal(seen(&f->sv).requests, 1);

        /* The collector is back: the same votes go, once. */
        f->sv.mode = MODE_ACK;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 3);
        assert_counts(f->db, 0, 3, 0);
}

static void test_inconsistent_ack_marks_nothing(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 3, NULL);
        f->sv.mode = MODE_WRONG_ID;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "nothing marked");
        assert_counts(f->db, 3, 0, 0);

        f->sv.mode = MODE_SHORT;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "2 results for 3 votes");
        assert_counts(f->db, 3, 0, 0);
        assert_int_equal(seen(&f->sv).requests, 2);
}

static void test_huge_answer_is_refused(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 2, NULL);
        f->sv.mode = MODE_HUGE;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "larger than");
        assert_counts(f->db, 2, 0, 0);

        f->sv.mode = MODE_CHUNKED;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "larger than");
        assert_counts(f->db, 2, 0, 0);
        assert_int_equal(seen(&f->sv).requests, 2);
}

static void test_other_ca_is_refused_before_any_request(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 3, NULL);
        f->opts.ca_file = pki.ca_other;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "not signed by the configured CA");
        assert_int_equal(seen(&f->sv).requests, 0);
        assert_counts(f->db, 3, 0, 0);

        /* A CA file that is not there trusts nobody, rather than everybody. */
        f->opts.ca_file = "/nonexistent/ca.pem";
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "/nonexistent/ca.pem");
        assert_int_equal(seen(&f->sv).requests, 0);
        assert_counts(f->db, 3, 0, 0);
}

static void test_wrong_name_is_refused_before_any_request(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 1, NULL);
        f->opts.ca_file = pki.ca_wrong; /* trusted, but issued for wrong.invalid */
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "not issued for");
        assert_int_equal(seen(&f->sv).requests, 0);
        assert_counts(f->db, 1, 0, 0);
}

static void test_server_down(void **state)
{
        struct fixture *f = *state;
        char err[256];

        use_closed_port(f);
        add_votes(f->db, 2, NULL);
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -ECONNREFUSED);
        assert_contains(err, "cannot connect");
        assert_counts(f->db, 2, 0, 0);
}

static void test_unauthorized(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 2, NULL);
        f->opts.secret = "not-the-secret";
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EACCES);
        assert_contains(err, "401");
        assert_contains(err, "unknown or revoked terminal");
        assert_int_equal(seen(&f->sv).requests, 1);
        assert_counts(f->db, 2, 0, 0);
}

static void test_timeout(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 1, NULL);
        f->sv.mode = MODE_HANG;
        f->opts.transfer_timeout_s = 1;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -ETIMEDOUT);
        assert_counts(f->db, 1, 0, 0);
}

static void test_bad_options(void **state)
{
        struct fixture *f = *state;
        char err[256];

        f->opts.url = "http://127.0.0.1:1";
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EINVAL);
        assert_contains(err, "https://");
        f->opts.url = f->url;
        f->opts.batch_max = PROTO_BATCH_MAX + 1;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EINVAL);
        f->opts.batch_max = 10;
        f->opts.secret = "two words";
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EINVAL);
        assert_int_equal(seen(&f->sv).requests, 0);
}

/* ---- the thread ---- */

static void test_thread_drains_and_stops(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;
        int64_t t0;

        add_votes(f->db, 2500, NULL);
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_pending(f->s, 0, 60000));
        assert_counts(f->db, 0, 2500, 0);
        assert_int_equal(seen(&f->sv).requests, 25);
        assert_int_equal(seen(&f->sv).votes, 2500);
        for (size_t i = 1; i < f->sv.n_seen; i++)
                assert_string_not_equal(f->sv.seen[i - 1].s, f->sv.seen[i].s);
        sync_get_status(f->s, &st);
        assert_true(st.online);
        assert_string_equal(st.last_error, "");
        assert_int_equal(st.rejected, 0);
        assert_true(atomic_load(&f->notified) >= 25);

        /* Idle now, waiting for the 30-second poll: a kick sends a new vote at once. */
        usleep(100 * 1000);
        t0 = mono_ms();
        add_votes(f->db, 1, NULL);
        sync_kick(f->s);
        while (seen(&f->sv).votes < 2501 && mono_ms() - t0 < 10000)
                usleep(10 * 1000);
        assert_int_equal(seen(&f->sv).votes, 2501);
        assert_true(mono_ms() - t0 < 5000);

        t0 = mono_ms();
        sync_stop(f->s);
        f->s = NULL;
        assert_true(mono_ms() - t0 < 2000);
        assert_counts(f->db, 0, 2501, 0);
        assert_int_equal(seen(&f->sv).requests, 26);
}

static void test_thread_backs_off_and_recovers(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;

        add_votes(f->db, 5, NULL);
        f->sv.fail_first = 3;
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_pending(f->s, 0, 20000));
        sync_get_status(f->s, &st);
        sync_stop(f->s);
        f->s = NULL;
        assert_int_equal(seen(&f->sv).requests, 4);
        assert_true(atomic_load(&f->notified) >= 4);
        assert_true(st.online);
        assert_string_equal(st.last_error, "");
        assert_counts(f->db, 0, 5, 0);
}

static void test_thread_halves_batches_on_413(void **state)
{
        struct fixture *f = *state;

        add_votes(f->db, 60, NULL);
        f->sv.max_votes = 30;
        assert_int_equal(sync_start(&f->opts, NULL, NULL, &f->s), 0);
        assert_true(wait_pending(f->s, 0, 20000));
        sync_stop(f->s);
        f->s = NULL;
        /* 60 votes: 413, then 50: 413, then 25 + 25 + 10. */
        assert_int_equal(seen(&f->sv).requests, 5);
        assert_int_equal(seen(&f->sv).votes, 60);
        assert_counts(f->db, 0, 60, 0);
}

static void test_thread_keeps_trying_while_down(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;
        int requests;

        add_votes(f->db, 3, NULL);
        f->sv.mode = MODE_STATUS;
        f->sv.status = 503;
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        usleep(1000 * 1000);
        sync_get_status(f->s, &st);
        requests = seen(&f->sv).requests;
        /* Backoff from 20 ms doubling to 200 ms, full jitter: about a dozen tries in a second
         * (an average delay of 10, 20, 40, 80, then 100 ms). Without the doubling it would be
         * about a hundred, without any delay thousands. */
        print_message("%d requests in one second\n", requests);
        assert_true(requests >= 4);
        assert_true(requests <= 40);
        assert_false(st.online);
        assert_int_equal(st.pending, 3);
        assert_contains(st.last_error, "503");
        assert_true(atomic_load(&f->notified) >= requests - 1);
        sync_stop(f->s);
        f->s = NULL;
        assert_counts(f->db, 3, 0, 0);
}

/* An empty outbox: the thread still asks the collector at once (an empty batch), so that the
 * terminal does not show "no connection" from start-up until its first vote goes. */
static void test_thread_idle_reports_online(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;

        add_votes(f->db, 0, NULL); /* the outbox exists, as the kiosk makes it first */
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        wait_verdict(f->s, true, 3000, &st);
        assert_true(st.online);
        assert_true(st.last_ok_unix > 0);
        assert_string_equal(st.last_error, "");
        assert_int_equal(st.pending, 0);
        assert_true(atomic_load(&f->notified) >= 1);

        /* One empty batch, then quiet: the next is due only after the poll interval. */
        usleep(300 * 1000);
        assert_int_equal(seen(&f->sv).requests, 1);
        assert_int_equal(seen(&f->sv).empty, 1);
        assert_int_equal(seen(&f->sv).votes, 0);
        sync_stop(f->s);
        f->s = NULL;
        assert_counts(f->db, 0, 0, 0);
}

/* The same against a closed port: offline, and the status line says why. */
static void test_thread_idle_reports_offline(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;

        add_votes(f->db, 0, NULL);
        use_closed_port(f);
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        wait_verdict(f->s, false, 3000, &st);
        sync_stop(f->s);
        f->s = NULL;
        assert_false(st.online);
        assert_int_equal(st.last_ok_unix, 0);
        assert_contains(st.last_error, "cannot connect to the collector at");
        assert_contains(st.last_error, f->url);
        assert_true(atomic_load(&f->notified) >= 1);
        assert_counts(f->db, 0, 0, 0);
}

static void test_thread_stop_abandons_transfer(void **state)
{
        struct fixture *f = *state;
        int64_t t0;

        add_votes(f->db, 3, NULL);
        f->sv.mode = MODE_HANG;
        f->opts.transfer_timeout_s = 60;
        assert_int_equal(sync_start(&f->opts, NULL, NULL, &f->s), 0);
        t0 = mono_ms();
        while (seen(&f->sv).requests < 1 && mono_ms() - t0 < 10000)
                usleep(10 * 1000);
        assert_int_equal(seen(&f->sv).requests, 1);
        t0 = mono_ms();
        sync_stop(f->s);
        f->s = NULL;
        assert_true(mono_ms() - t0 < 3000);
        assert_counts(f->db, 3, 0, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_all_acked, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rejected_is_kept_and_not_resent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_busy_marks_nothing, setup, teardown),
            cmocka_unit_test_setup_teardown(test_inconsistent_ack_marks_nothing, setup, teardown),
            cmocka_unit_test_setup_teardown(test_huge_answer_is_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_other_ca_is_refused_before_any_request, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_wrong_name_is_refused_before_any_request,
                                            setup_wrong_name, teardown),
            cmocka_unit_test_setup_teardown(test_server_down, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unauthorized, setup, teardown),
            cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_drains_and_stops, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_backs_off_and_recovers, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_halves_batches_on_413, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_keeps_trying_while_down, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_stop_abandons_transfer, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_idle_reports_online, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_idle_reports_offline, setup, teardown),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
