/* SPDX-License-Identifier: MIT */
/* Tests of the uploader against a scripted collector in this process: libmicrohttpd with TLS
 * on 127.0.0.1, certificates made by openssl(1) at start. The fake decodes each batch with
 * proto_batch_decode() and answers what the test scripted; it serves a roster with an ETag
 * (roster_encode()) and enrolls with a one-time code. It counts the requests that got past
 * TLS, so that a test can assert that a refused certificate carried no vote, and keeps what
 * the last batch said about the terminal (boot, mono, status). tests/sync/test_sync_real.c
 * runs the same flows against the real collector. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
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
#include "roster.h"
#include "sync.h"
#include "testutil.h"

#define TERMINAL "term-7"
#define SECRET "s3cret-Ab"
#define CODE "ABCD-EFGH-JKLM"
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
        MODE_ACK,         /* 200 with an ack; ids in reject[] rejected */
        MODE_STATUS,      /* `status` with an error body */
        MODE_WRONG_ID,    /* 200, but the last result names another vote */
        MODE_WRONG_EVENT, /* 200, but the last event result names another event */
        MODE_SHORT,       /* 200, one result too few */
        MODE_HUGE,        /* 200 with a body over PROTO_BODY_MAX, its length announced */
        MODE_CHUNKED,     /* the same, chunked: the size shows only while it arrives */
        MODE_HANG,        /* hold the request until released, then 503 */
};

struct server {
        struct MHD_Daemon *daemon;
        uint16_t port;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* MODE_HANG waits on it */

        /* the script */
        enum mode mode;
        unsigned status;   /* for MODE_STATUS */
        int fail_first;    /* answer 503 to this many requests first */
        size_t max_votes;  /* 413 for larger batches; 0 for no limit */
        vote_id reject[4]; /* votes or events to reject */
        size_t n_reject;
        bool released;        /* ends MODE_HANG */
        bool revoked;         /* 401 to everything authenticated */
        int64_t skew_ms;      /* added to server_time */
        char *roster;         /* the roster's JSON (owned); NULL: 404 */
        char etag[64];        /* its ETag */
        unsigned pull_status; /* answer pulls with this status and no roster; 0 normally */
        char code[64];        /* the enrollment code it takes (once); "" none */

        /* what it saw */
        int total;               /* requests of any kind that got past TLS */
        int requests;            /* batches POSTed to /api/v1/votes */
        int votes;               /* votes in batches it acknowledged */
        int events;              /* events in batches it acknowledged */
        int empty;               /* batches without votes or events that it acknowledged */
        int pulls, not_modified; /* GETs of /api/v1/terminal, and those answered 304 */
        int enrolls;             /* POSTs to /api/v1/enroll */
        char last_inm[80];       /* the If-None-Match of the last pull */
        vote_id seen[MAX_SEEN];  /* ids of acknowledged votes, in order */
        size_t n_seen;
        vote_id seen_events[64]; /* ids of acknowledged events, in order */
        size_t n_seen_events;
        struct proto_batch last; /* the last batch acknowledged, without its arrays */
        struct vote last_vote;   /* its last vote, if it had any */
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

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool authorised(struct server *sv, const char *auth)
{
        bool revoked;

        pthread_mutex_lock(&sv->lock);
        revoked = sv->revoked;
        pthread_mutex_unlock(&sv->lock);
        return !revoked && auth && strcmp(auth, "Bearer " TERMINAL ":" SECRET) == 0;
}

/* GET /api/v1/terminal: the scripted roster with its ETag, or 304 when the terminal has it. */
static enum MHD_Result answer_pull(struct server *sv, struct MHD_Connection *c)
{
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        struct MHD_Response *resp;
        enum MHD_Result ret;
        unsigned status;
        char *body;

        if (!authorised(sv, auth))
                return reply_error(c, 401, "unknown or revoked terminal");
        pthread_mutex_lock(&sv->lock);
        sv->pulls++;
        snprintf(sv->last_inm, sizeof(sv->last_inm), "%s", inm ? inm : "");
        if (sv->pull_status || !sv->roster) {
                status = sv->pull_status ? sv->pull_status : 404;
                pthread_mutex_unlock(&sv->lock);
                return reply_error(c, status, "no roster");
        }
        if (inm && strcmp(inm, sv->etag) == 0) {
                sv->not_modified++;
                body = NULL;
                status = 304;
        } else {
                body = strdup(sv->roster);
                status = 200;
        }
        resp = body ? MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE)
                    : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (resp)
                MHD_add_response_header(resp, "ETag", sv->etag);
        pthread_mutex_unlock(&sv->lock);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        if (status == 200)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* POST /api/v1/enroll: the scripted code, once, buys TERMINAL:SECRET. */
static enum MHD_Result answer_enroll(struct server *sv, struct MHD_Connection *c,
                                     struct request *req)
{
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        struct enroll_answer a = {.terminal = TERMINAL, .secret = SECRET};
        char code[ENROLL_CODE_MAX], err[256], *body = NULL;
        bool good;

        /* The code is the only credential: a request carrying another one is a bug. */
        if (auth)
                return reply_error(c, 400, "authorization: not expected");
        if (enroll_request_decode(req->body.data ? req->body.data : "", req->body.len, code, err,
                                  sizeof(err)) < 0)
                return reply_error(c, 400, err);
        pthread_mutex_lock(&sv->lock);
        sv->enrolls++;
        good = sv->code[0] && strcmp(code, sv->code) == 0;
        if (good)
                sv->code[0] = 0; /* used once */
        pthread_mutex_unlock(&sv->lock);
        if (!good)
                return reply_error(c, 403, "code: unknown, used or expired");
        if (enroll_answer_encode(&a, &body) < 0)
                return MHD_NO;
        return reply(c, 200, body);
}

static enum MHD_Result answer(struct server *sv, struct MHD_Connection *c, struct request *req)
{
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        struct proto_batch batch = {0};
        struct proto_ack ack = {0};
        char err[256], *body = NULL;
        enum MHD_Result ret;

        pthread_mutex_lock(&sv->lock);
        sv->requests++;
        pthread_mutex_unlock(&sv->lock);
        if (!authorised(sv, auth))
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
        if (batch.n_votes == 0 && batch.n_events == 0)
                sv->empty++;
        ack.server_time_ms = wall_ms() + sv->skew_ms;
        ack.n_results = batch.n_votes;
        ack.results = calloc(batch.n_votes + 1, sizeof(*ack.results));
        ack.n_event_results = batch.n_events;
        ack.event_results = calloc(batch.n_events + 1, sizeof(*ack.event_results));
        for (size_t i = 0; ack.event_results && i < batch.n_events; i++) {
                struct proto_result *res = &ack.event_results[i];

                res->index = i;
                res->id = batch.events[i].event.id;
                if (rejected(sv, &res->id)) {
                        res->status = PROTO_REJECTED;
                        snprintf(res->reason, sizeof(res->reason), "events[%zu].shift: unknown", i);
                } else
                        res->status = PROTO_STORED;
                if (sv->n_seen_events < 64)
                        sv->seen_events[sv->n_seen_events++] = res->id;
        }
        sv->events += (int)batch.n_events;
        sv->last = batch;
        sv->last.votes = NULL;
        sv->last.events = NULL;
        if (batch.n_votes > 0)
                sv->last_vote = batch.votes[batch.n_votes - 1].vote;
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
        if (sv->mode == MODE_WRONG_EVENT && batch.n_events > 0)
                vote_id_new(&ack.event_results[batch.n_events - 1].id);
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

        if (!body && ack.results && ack.event_results && proto_ack_encode(&ack, &body) < 0)
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
                sv->total++;
                pthread_mutex_unlock(&sv->lock);
                return MHD_YES;
        }
        if (*upload_size) {
                if (!req->too_big && buf_add(&req->body, upload, *upload_size) < 0)
                        req->too_big = true;
                *upload_size = 0;
                return MHD_YES;
        }
        if (strcmp(method, "POST") == 0 && strcmp(url, "/api/v1/votes") == 0)
                return answer(sv, c, req);
        if (strcmp(method, "GET") == 0 && strcmp(url, "/api/v1/terminal") == 0)
                return answer_pull(sv, c);
        if (strcmp(method, "POST") == 0 && strcmp(url, "/api/v1/enroll") == 0)
                return answer_enroll(sv, c, req);
        return reply_error(c, 404, "no such endpoint");
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
        free(sv->roster);
        sv->roster = NULL;
}

/* Serves a roster for TERMINAL (or `terminal`) whose workplace is named `name`; a new name is
 * a new roster with a new ETag. */
static void server_set_roster(struct server *sv, const char *terminal, const char *name)
{
        struct roster_employee e = {.id = "E-1042",
                                    .full_name = "Коваленко Олена Петрівна",
                                    .position = "Адміністратор",
                                    .unit = "ЦНАП"};
        struct roster ro = {.n_employees = 1, .employees = &e};
        unsigned char h[8];
        char *json = NULL;

        roster_settings_defaults(&ro.settings);
        snprintf(ro.terminal, sizeof(ro.terminal), "%s", terminal);
        snprintf(ro.workplace, sizeof(ro.workplace), "WP.7");
        snprintf(ro.workplace_name, sizeof(ro.workplace_name), "%s", name);
        snprintf(ro.qr_base, sizeof(ro.qr_base), "https://otsinka.example");
        memset(ro.qr_key, 7, sizeof(ro.qr_key));
        assert_int_equal(roster_encode(&ro, &json), 0);
        crypto_generichash(h, sizeof(h), (const unsigned char *)json, strlen(json), NULL, 0);
        pthread_mutex_lock(&sv->lock);
        free(sv->roster);
        sv->roster = json;
        snprintf(sv->etag, sizeof(sv->etag), "\"%02x%02x%02x%02x%02x%02x%02x%02x\"", h[0], h[1],
                 h[2], h[3], h[4], h[5], h[6], h[7]);
        pthread_mutex_unlock(&sv->lock);
}

/* Serves a body that is not a roster at all, under a fresh ETag. */
static void server_set_raw_roster(struct server *sv, const char *json, const char *etag)
{
        pthread_mutex_lock(&sv->lock);
        free(sv->roster);
        sv->roster = strdup(json);
        snprintf(sv->etag, sizeof(sv->etag), "%s", etag);
        pthread_mutex_unlock(&sv->lock);
}

/* A snapshot of the server's counters. */
static struct server_seen {
        int total, requests, votes, events, empty, pulls, not_modified, enrolls;
} seen(struct server *sv)
{
        struct server_seen s;

        pthread_mutex_lock(&sv->lock);
        s.total = sv->total;
        s.requests = sv->requests;
        s.votes = sv->votes;
        s.events = sv->events;
        s.empty = sv->empty;
        s.pulls = sv->pulls;
        s.not_modified = sv->not_modified;
        s.enrolls = sv->enrolls;
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
        server_set_roster(&f->sv, TERMINAL, "Вікно 7");
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

static void add_events(const char *db, size_t n, vote_id *ret_ids)
{
        struct outbox *ob = NULL;

        assert_int_equal(outbox_open(db, &ob), 0);
        for (size_t i = 0; i < n; i++) {
                struct vote_event e = {0};
                vote_id shift;

                vote_id_new(&e.id);
                vote_id_new(&shift);
                strcpy(e.kind, i % 2 ? VOTE_EVENT_SHIFT_CLOSE : VOTE_EVENT_SHIFT_OPEN);
                strcpy(e.employee, "E-1042");
                memcpy(e.shift, shift.s, sizeof(e.shift));
                strcpy(e.detail, i % 2 ? "logout" : "pin");
                e.at_ms = (int64_t)time(NULL) * 1000 - 2000;
                vote_boot_id(e.boot);
                e.mono_ms = vote_mono_ms();
                assert_int_equal(outbox_add_event(ob, &e), 0);
                if (ret_ids)
                        ret_ids[i] = e.id;
        }
        outbox_close(ob);
}

static struct outbox_counts counts_of(const char *db)
{
        struct outbox *ob = NULL;
        struct outbox_counts c;

        assert_int_equal(outbox_open(db, &ob), 0);
        assert_int_equal(outbox_counts(ob, &c), 0);
        outbox_close(ob);
        return c;
}

/* The roster kept in the outbox (malloc'd) and its ETag; NULL when none. */
static char *kept_roster(const char *db, char *etag, size_t n)
{
        struct outbox *ob = NULL;
        char *json = NULL;
        int r;

        assert_int_equal(outbox_open(db, &ob), 0);
        r = outbox_roster_load(ob, &json, NULL, etag, n);
        outbox_close(ob);
        assert_true(r == 0 || r == -ENOENT);
        return json;
}

/* A value of the outbox's state; "" when unset. */
static const char *kept_state(const char *db, const char *key)
{
        static char value[256];
        struct outbox *ob = NULL;
        int r;

        assert_int_equal(outbox_open(db, &ob), 0);
        r = outbox_state_get(ob, key, value, sizeof(value));
        outbox_close(ob);
        assert_true(r == 0 || r == -ENOENT);
        if (r < 0)
                value[0] = 0;
        return value;
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
        assert_int_equal(seen(&f->sv).total, 0);
        assert_counts(f->db, 3, 0, 0);

        /* A CA file that is not there trusts nobody, rather than everybody. */
        f->opts.ca_file = "/nonexistent/ca.pem";
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "/nonexistent/ca.pem");
        assert_int_equal(seen(&f->sv).total, 0);
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
        assert_int_equal(seen(&f->sv).total, 0);
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
        assert_contains(err, "not authorised: revoked or unknown terminal");
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
        /* Half a credential is a mistake, not a reason to enroll. */
        f->opts.secret = NULL;
        f->opts.enroll_code = CODE;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EINVAL);
        f->opts.terminal_id = NULL;
        f->opts.enroll_code = "has space";
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EINVAL);
        assert_int_equal(seen(&f->sv).total, 0);
}

/* Every batch says which boot sent it and when by its monotonic clock, and how the terminal
 * is doing; every vote carries its own boot, mono and suppression. */
static void test_batch_reports_terminal(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote v = {0};
        char err[256], boot[VOTE_ID_LEN + 1];
        int64_t before, after;

        add_votes(f->db, 2, NULL);
        assert_int_equal(outbox_open(f->db, &ob), 0);
        vote_id_new(&v.id);
        v.level = 2;
        strcpy(v.channel, VOTE_CHANNEL_TERMINAL);
        strcpy(v.employee, "E-1042");
        v.cast_at_ms = (int64_t)time(NULL) * 1000;
        strcpy(v.suppressed, VOTE_SUPPRESSED_MIN_INTERVAL);
        vote_boot_id(v.boot);
        v.mono_ms = vote_mono_ms() - 500;
        assert_int_equal(outbox_add(ob, &v), 0);
        outbox_close(ob);
        add_events(f->db, 1, NULL);

        f->opts.version = "9.8.7-test";
        before = vote_mono_ms();
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 4);
        after = vote_mono_ms();
        vote_boot_id(boot);
        assert_string_equal(f->sv.last.boot, boot);
        assert_true(f->sv.last.mono_ms >= before && f->sv.last.mono_ms <= after);
        assert_true(f->sv.last.status.present);
        assert_string_equal(f->sv.last.status.version, "9.8.7-test");
        /* Three votes and one event waited, this batch included. */
        assert_int_equal(f->sv.last.status.queue, 4);
        assert_int_equal(f->sv.last.status.rejected, 0);
        assert_string_equal(f->sv.last.status.last_error, "");
        assert_string_equal(f->sv.last_vote.id.s, v.id.s);
        assert_string_equal(f->sv.last_vote.suppressed, "min_interval");
        assert_string_equal(f->sv.last_vote.boot, boot);
        assert_int_equal(f->sv.last_vote.mono_ms, v.mono_ms);
        /* The suppressed vote was sent and is kept as sent, still counted apart. */
        assert_counts(f->db, 0, 3, 0);
        assert_int_equal(counts_of(f->db).suppressed, 1);
}

/* Events go up beside the votes (or alone) and are marked by the ack's event results. */
static void test_events_acknowledged(void **state)
{
        struct fixture *f = *state;
        vote_id events[3];
        char err[256];
        int times = 0;

        add_events(f->db, 3, events);
        /* Events alone are worth a request. */
        f->sv.reject[0] = events[1];
        f->sv.n_reject = 1;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 3);
        assert_string_equal(err, "");
        assert_int_equal(seen(&f->sv).events, 3);
        assert_int_equal(seen(&f->sv).votes, 0);
        assert_int_equal(counts_of(f->db).events_pending, 0);
        for (size_t i = 0; i < 3; i++)
                assert_string_equal(f->sv.seen_events[i].s, events[i].s);

        /* The rejected one is kept, and never sent again; new ones go with votes. */
        add_events(f->db, 1, NULL);
        add_votes(f->db, 2, NULL);
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 3);
        assert_int_equal(seen(&f->sv).events, 4);
        assert_int_equal(seen(&f->sv).requests, 2);
        for (size_t i = 0; i < f->sv.n_seen_events; i++)
                times += strcmp(f->sv.seen_events[i].s, events[1].s) == 0;
        assert_int_equal(times, 1);
        assert_counts(f->db, 0, 2, 0);
        assert_int_equal(counts_of(f->db).events_pending, 0);
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 0);
        assert_int_equal(seen(&f->sv).requests, 2);
}

/* An answer that names the wrong event marks nothing, votes included. */
static void test_inconsistent_event_ack_marks_nothing(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 1, NULL);
        add_events(f->db, 2, NULL);
        f->sv.mode = MODE_WRONG_EVENT;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EPROTO);
        assert_contains(err, "event");
        assert_contains(err, "nothing marked");
        assert_counts(f->db, 1, 0, 0);
        assert_int_equal(counts_of(f->db).events_pending, 2);
}

static void test_pull_200_then_304(void **state)
{
        struct fixture *f = *state;
        char err[256], etag[64], *json;

        assert_null(kept_roster(f->db, etag, sizeof(etag)));
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 1);
        assert_string_equal(err, "");
        assert_string_equal(f->sv.last_inm, "");
        json = kept_roster(f->db, etag, sizeof(etag));
        assert_non_null(json);
        assert_string_equal(json, f->sv.roster);
        assert_string_equal(etag, f->sv.etag);
        free(json);

        /* Unchanged: asked with the ETag, answered 304, nothing rewritten. */
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 0);
        assert_string_equal(f->sv.last_inm, f->sv.etag);
        assert_int_equal(seen(&f->sv).not_modified, 1);

        /* Changed on the collector: the new copy replaces the old. */
        server_set_roster(&f->sv, TERMINAL, "Вікно 8");
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 1);
        json = kept_roster(f->db, etag, sizeof(etag));
        assert_non_null(json);
        assert_contains(json, "Вікно 8");
        assert_string_equal(etag, f->sv.etag);
        free(json);
        assert_int_equal(seen(&f->sv).pulls, 3);
        assert_int_equal(seen(&f->sv).requests, 0);
}

/* A roster that does not decode, or is another terminal's, is refused: the old copy stays. */
static void test_pull_refuses_bad_roster(void **state)
{
        struct fixture *f = *state;
        char err[256], etag[64], kept_etag[64], *json, *before;

        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 1);
        before = kept_roster(f->db, kept_etag, sizeof(kept_etag));
        assert_non_null(before);

        server_set_raw_roster(&f->sv, "{\"protocol\":1,\"terminal\":\"" TERMINAL "\",\"x\":1}",
                              "\"bad\"");
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), -EBADMSG);
        assert_contains(err, "roster is invalid");
        assert_contains(err, "old copy stays");

        server_set_roster(&f->sv, "another-terminal", "Чуже вікно");
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), -EBADMSG);
        assert_contains(err, "another-terminal");

        json = kept_roster(f->db, etag, sizeof(etag));
        assert_string_equal(json, before);
        assert_string_equal(etag, kept_etag);
        free(json);
        free(before);

        /* A collector that is not there is an error, not an empty roster. */
        f->sv.pull_status = 503;
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), -EAGAIN);
}

/* A terminal with no credential but a one-time code enrolls, keeps the credential, and
 * needs neither the code nor the collector's help again. */
static void test_enroll_with_code(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 3, NULL);
        snprintf(f->sv.code, sizeof(f->sv.code), "%s", CODE);
        f->opts.terminal_id = NULL;
        f->opts.secret = "";
        f->opts.enroll_code = CODE;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 3);
        assert_string_equal(err, "");
        assert_int_equal(seen(&f->sv).enrolls, 1);
        assert_string_equal(kept_state(f->db, "terminal_id"), TERMINAL);
        assert_string_equal(kept_state(f->db, "terminal_secret"), SECRET);
        assert_counts(f->db, 0, 3, 0);

        /* Later runs use the kept credential: no second enrollment (the code is spent). */
        add_votes(f->db, 1, NULL);
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), 1);
        f->opts.enroll_code = NULL;
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), 1);
        assert_int_equal(seen(&f->sv).enrolls, 1);
        assert_counts(f->db, 0, 4, 0);
}

static void test_enroll_refused(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 2, NULL);
        snprintf(f->sv.code, sizeof(f->sv.code), "%s", CODE);
        f->opts.terminal_id = "";
        f->opts.secret = NULL;
        f->opts.enroll_code = "WXYZ-WXYZ-WXYZ";
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -EKEYREJECTED);
        assert_contains(err, "enrollment refused");
        assert_contains(err, "code: unknown, used or expired");
        assert_int_equal(seen(&f->sv).enrolls, 1);
        assert_int_equal(seen(&f->sv).requests, 0);
        assert_string_equal(kept_state(f->db, "terminal_id"), "");
        assert_counts(f->db, 2, 0, 0);
}

/* Neither a credential nor a code: nothing to ask the collector. */
static void test_no_credential(void **state)
{
        struct fixture *f = *state;
        char err[256];

        add_votes(f->db, 1, NULL);
        f->opts.terminal_id = NULL;
        f->opts.secret = NULL;
        assert_int_equal(sync_once(&f->opts, err, sizeof(err)), -ENOKEY);
        assert_contains(err, "no credential");
        assert_int_equal(sync_pull_once(&f->opts, err, sizeof(err)), -ENOKEY);
        assert_int_equal(seen(&f->sv).total, 0);
        assert_counts(f->db, 1, 0, 0);
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
        /* the collector has it; the terminal marks it sent once the answer is read (a stop
         * before that would leave it pending, to be sent again: by design) */
        assert_true(wait_pending(f->s, 0, 10000));

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

        /* One pull and one empty batch, then quiet: the next is due only after the poll
         * interval. */
        usleep(300 * 1000);
        assert_int_equal(seen(&f->sv).requests, 1);
        assert_int_equal(seen(&f->sv).empty, 1);
        assert_int_equal(seen(&f->sv).votes, 0);
        assert_int_equal(seen(&f->sv).pulls, 1);
        assert_int_equal(seen(&f->sv).total, 2);
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

/* Polls the sync status until check() holds or timeout_ms passes; the last status read goes
 * to *ret. */
static bool wait_status(struct sync *s, bool (*check)(const struct sync_status *, int64_t),
                        int64_t arg, int64_t timeout_ms, struct sync_status *ret)
{
        int64_t until = mono_ms() + timeout_ms;

        do {
                sync_get_status(s, ret);
                if (check(ret, arg))
                        return true;
                usleep(10 * 1000);
        } while (mono_ms() < until);
        return false;
}

static bool roster_version_is(const struct sync_status *st, int64_t v)
{
        return st->roster_version == (uint64_t)v;
}

static bool unauthorized(const struct sync_status *st, int64_t unused)
{
        return st->unauthorized;
}

static bool clock_known(const struct sync_status *st, int64_t unused)
{
        return st->clock_known && st->pending == 0;
}

static bool has_error(const struct sync_status *st, int64_t unused)
{
        return st->last_error[0] != 0;
}

static bool drained(const struct sync_status *st, int64_t unused)
{
        return st->pending == 0 && st->events_pending == 0 && st->last_ok_unix > 0;
}

/* The roster is pulled at start; a change on the collector reaches the terminal after its
 * next upload, and bumps roster_version; an unchanged one costs a 304 and bumps nothing. */
static void test_thread_pulls_roster(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;
        char etag[64], *json;
        int64_t t0;

        add_votes(f->db, 0, NULL);
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_status(f->s, roster_version_is, 1, 5000, &st));
        json = kept_roster(f->db, etag, sizeof(etag));
        assert_string_equal(json, f->sv.roster);
        free(json);

        /* An upload with nothing new: 304, still version 1. */
        add_votes(f->db, 1, NULL);
        sync_kick(f->s);
        t0 = mono_ms();
        while (seen(&f->sv).not_modified < 1 && mono_ms() - t0 < 5000)
                usleep(10 * 1000);
        assert_int_equal(seen(&f->sv).not_modified, 1);
        sync_get_status(f->s, &st);
        assert_int_equal(st.roster_version, 1);

        /* Changed on the collector: the next upload brings it. */
        server_set_roster(&f->sv, TERMINAL, "Вікно 9");
        add_votes(f->db, 1, NULL);
        sync_kick(f->s);
        assert_true(wait_status(f->s, roster_version_is, 2, 5000, &st));
        json = kept_roster(f->db, etag, sizeof(etag));
        assert_contains(json, "Вікно 9");
        free(json);
        assert_int_equal(seen(&f->sv).pulls, 3);
        sync_stop(f->s);
        f->s = NULL;
        assert_counts(f->db, 0, 2, 0);
}

/* The collector's clock, from the ack: the offset is measured and reported upward. */
static void test_thread_clock_offset(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;
        int64_t t0;

        f->sv.skew_ms = 3600 * 1000 + 250; /* the collector is an hour ahead */
        add_votes(f->db, 2, NULL);
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_status(f->s, clock_known, 0, 5000, &st));
        print_message("measured offset %" PRId64 " ms for a skew of %" PRId64 " ms\n",
                      st.clock_offset_ms, f->sv.skew_ms);
        /* The fake reads its clock while answering: within a second of the skew. */
        assert_true(st.clock_offset_ms > f->sv.skew_ms - 1000);
        assert_true(st.clock_offset_ms < f->sv.skew_ms + 1000);

        /* The next batch tells the collector what was measured. */
        add_votes(f->db, 1, NULL);
        sync_kick(f->s);
        t0 = mono_ms();
        while (seen(&f->sv).votes < 3 && mono_ms() - t0 < 5000)
                usleep(10 * 1000);
        sync_stop(f->s);
        f->s = NULL;
        assert_int_equal(f->sv.last.status.clock_offset_ms, st.clock_offset_ms);
}

/* 401: the terminal says it is not authorised and stops asking; its votes stay. */
static void test_thread_401_stops_sending(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;
        int total;

        add_votes(f->db, 3, NULL);
        f->sv.revoked = true;
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_status(f->s, unauthorized, 0, 5000, &st));
        assert_false(st.online);
        assert_contains(st.last_error, "not authorised: revoked or unknown terminal");
        total = seen(&f->sv).total;
        assert_true(total >= 1 && total <= 2);

        /* Neither time nor new votes bring it back: backoff from 20 ms would have tried
         * dozens of times in a second. */
        add_votes(f->db, 1, NULL);
        sync_kick(f->s);
        usleep(1000 * 1000);
        assert_int_equal(seen(&f->sv).total, total);
        sync_get_status(f->s, &st);
        assert_true(st.unauthorized);
        sync_stop(f->s);
        f->s = NULL;
        assert_counts(f->db, 4, 0, 0);
}

/* The same when the credential goes bad mid-run: uploads worked, then 401 on an upload. */
static void test_thread_revoked_mid_run(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;
        int total;

        add_votes(f->db, 2, NULL);
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_pending(f->s, 0, 5000));
        pthread_mutex_lock(&f->sv.lock);
        f->sv.revoked = true;
        pthread_mutex_unlock(&f->sv.lock);
        add_votes(f->db, 1, NULL);
        sync_kick(f->s);
        assert_true(wait_status(f->s, unauthorized, 0, 5000, &st));
        total = seen(&f->sv).total;
        usleep(500 * 1000);
        sync_kick(f->s);
        usleep(300 * 1000);
        assert_int_equal(seen(&f->sv).total, total);
        sync_stop(f->s);
        f->s = NULL;
        assert_counts(f->db, 1, 2, 0);
}

/* A refused code is shown and tried again slowly; once an administrator makes it valid, the
 * terminal enrolls and its votes go. */
static void test_thread_enrolls_when_code_fixed(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;
        int enrolls;

        add_votes(f->db, 2, NULL);
        add_events(f->db, 1, NULL);
        f->opts.terminal_id = NULL;
        f->opts.secret = NULL;
        f->opts.enroll_code = CODE;
        f->opts.backoff_max_ms = 400; /* a refused code waits 200..400 ms */
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_status(f->s, has_error, 0, 5000, &st));
        assert_contains(st.last_error, "enrollment refused");
        assert_contains(st.last_error, "code: unknown, used or expired");
        assert_false(st.enrolled);
        assert_false(st.online);

        /* Slowly: no more than one attempt per 200 ms. */
        usleep(1000 * 1000);
        enrolls = seen(&f->sv).enrolls;
        print_message("%d enrollment attempts in about a second\n", enrolls);
        assert_true(enrolls >= 2 && enrolls <= 7);
        assert_int_equal(seen(&f->sv).requests, 0);

        pthread_mutex_lock(&f->sv.lock);
        snprintf(f->sv.code, sizeof(f->sv.code), "%s", CODE);
        pthread_mutex_unlock(&f->sv.lock);
        assert_true(wait_status(f->s, drained, 0, 5000, &st));
        assert_true(st.enrolled);
        assert_true(st.online);
        assert_string_equal(st.last_error, "");
        assert_int_equal(st.roster_version, 1);
        sync_stop(f->s);
        f->s = NULL;
        assert_string_equal(kept_state(f->db, "terminal_id"), TERMINAL);
        assert_counts(f->db, 0, 2, 0);
}

/* Neither credential nor code: the status says so, and nobody is asked. */
static void test_thread_without_credential_waits(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;

        add_votes(f->db, 1, NULL);
        f->opts.terminal_id = NULL;
        f->opts.secret = NULL;
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_status(f->s, has_error, 0, 3000, &st));
        assert_contains(st.last_error, "no credential");
        assert_false(st.enrolled);
        assert_false(st.online);
        assert_int_equal(st.pending, 1); /* what waits is counted all the same */
        sync_kick(f->s);
        usleep(300 * 1000);
        assert_int_equal(seen(&f->sv).total, 0);
        sync_stop(f->s);
        f->s = NULL;
        assert_counts(f->db, 1, 0, 0);
}

/* What went wrong last travels up with the next batch, for the fleet page. */
static void test_thread_reports_last_error(void **state)
{
        struct fixture *f = *state;
        struct sync_status st;

        add_votes(f->db, 2, NULL);
        add_events(f->db, 2, NULL);
        f->sv.fail_first = 1;
        assert_int_equal(sync_start(&f->opts, on_notify, f, &f->s), 0);
        assert_true(wait_status(f->s, drained, 0, 5000, &st));
        sync_stop(f->s);
        f->s = NULL;
        assert_int_equal(seen(&f->sv).requests, 2);
        assert_contains(f->sv.last.status.last_error, "503");
        assert_int_equal(f->sv.last.status.queue, 4);
        assert_int_equal(f->sv.last.n_events, 2);
        assert_int_equal(st.events_pending, 0);
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
            cmocka_unit_test_setup_teardown(test_batch_reports_terminal, setup, teardown),
            cmocka_unit_test_setup_teardown(test_events_acknowledged, setup, teardown),
            cmocka_unit_test_setup_teardown(test_inconsistent_event_ack_marks_nothing, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_pull_200_then_304, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pull_refuses_bad_roster, setup, teardown),
            cmocka_unit_test_setup_teardown(test_enroll_with_code, setup, teardown),
            cmocka_unit_test_setup_teardown(test_enroll_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_no_credential, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_drains_and_stops, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_backs_off_and_recovers, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_halves_batches_on_413, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_keeps_trying_while_down, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_stop_abandons_transfer, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_idle_reports_online, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_idle_reports_offline, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_pulls_roster, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_clock_offset, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_401_stops_sending, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_revoked_mid_run, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_enrolls_when_code_fixed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_without_credential_waits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_thread_reports_last_error, setup, teardown),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
