/* SPDX-License-Identifier: MIT */
/* The terminal API (docs/protocol.md): batches of votes and events up, the roster down with an
 * ETag, and enrollment with a one-time code. JSON in and out; every error names the field. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "proto.h"
#include "ratelimit.h"
#include "roster.h"
#include "store.h"
#include "webpage.h"

int web_api_error(struct web_response *resp, int status, const char *message)
{
        char *json = NULL;
        int r = proto_error_encode(message, &json);

        if (r < 0)
                return r;
        resp->status = status;
        resp->content_type = "application/json";
        resp->body = json;
        resp->body_len = strlen(json);
        return 0;
}

/* True for "Content-Type: application/json" with or without parameters. */
static bool is_json(const struct web_request *req)
{
        const char *type = req->header(req->ctx, "Content-Type");

        return type && strncmp(type, "application/json", 16) == 0 &&
               (type[16] == 0 || type[16] == ';' || type[16] == ' ');
}

/* Checks "Authorization: Bearer <terminal>:<secret>". Returns 1 with the terminal's id, or
 * 0 with a 401 answer in resp. */
static int authenticate(struct collector *c, const struct web_request *req,
                        char terminal[static VOTE_REF_MAX + 1], struct web_response *resp)
{
        const char *auth = req->header(req->ctx, "Authorization");
        const char *secret;
        size_t n;
        int r;

        if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !(secret = strchr(auth + 7, ':'))) {
                r = web_api_error(resp, 401, "authorization: expected Bearer <terminal>:<secret>");
                return r < 0 ? r : 0;
        }
        n = (size_t)(secret - (auth + 7));
        if (n == 0 || n > VOTE_REF_MAX) {
                r = web_api_error(resp, 401, "authorization: unknown terminal");
                return r < 0 ? r : 0;
        }
        memcpy(terminal, auth + 7, n);
        terminal[n] = 0;
        if (c->store->ops->terminal_auth(c->store, terminal, secret + 1) < 0) {
                log_warn("Refused %s %s from %s: unknown or revoked terminal \"%s\"", req->method,
                         req->path, req->client_addr, vote_ref_valid(terminal) ? terminal : "?");
                r = web_api_error(resp, 401, "authorization: unknown or revoked terminal");
                return r < 0 ? r : 0;
        }
        return 1;
}

static int handle_api_votes(struct collector *c, const struct web_request *req,
                            struct web_response *resp)
{
        char terminal[VOTE_REF_MAX + 1], err[256];
        struct proto_batch batch = {0};
        struct proto_ack ack = {0};
        char *json = NULL;
        int r;

        if (strcmp(req->method, "POST") != 0)
                return web_api_error(resp, 405, "method: use POST");
        r = authenticate(c, req, terminal, resp);
        if (r <= 0)
                return r;
        if (!is_json(req))
                return web_api_error(resp, 415, "content-type: expected application/json");
        if (req->body_len > PROTO_BODY_MAX)
                return web_api_error(resp, 413, "body: too large");

        r = proto_batch_decode(req->body ? req->body : "", req->body_len, &batch, err, sizeof(err));
        if (r < 0)
                return web_api_error(resp, r == -EMSGSIZE ? 413 : 400, err);
        if (strcmp(batch.terminal, terminal) != 0) {
                proto_batch_finish(&batch);
                return web_api_error(resp, 403, "terminal: not the authenticated terminal");
        }
        ack.results = calloc(batch.n_votes ? batch.n_votes : 1, sizeof(*ack.results));
        ack.event_results = calloc(batch.n_events ? batch.n_events : 1, sizeof(*ack.event_results));
        if (!ack.results || !ack.event_results) {
                r = -ENOMEM;
                goto out;
        }
        r = c->store->ops->store_batch(c->store, terminal, &batch, web_now_ms(), &ack);
        if (r < 0) {
                r = web_api_error(resp, 503, "store: busy, try again later");
                goto out;
        }
        r = proto_ack_encode(&ack, &json);
        if (r < 0)
                goto out;
        resp->status = 200;
        resp->content_type = "application/json";
        resp->body = json;
        resp->body_len = strlen(json);
        atomic_fetch_add(&c->metrics.batches, 1);
        for (size_t i = 0; i < ack.n_results; i++)
                atomic_fetch_add(ack.results[i].status == PROTO_STORED ? &c->metrics.terminal_votes
                                 : ack.results[i].status == PROTO_DUPLICATE ? &c->metrics.duplicates
                                                                            : &c->metrics.rejected,
                                 1);
        if (batch.n_votes || batch.n_events)
                log_info("Terminal %s: batch of %zu votes and %zu events processed", terminal,
                         batch.n_votes, batch.n_events);
        else
                log_debug("Terminal %s: heartbeat", terminal);
out:
        proto_ack_finish(&ack);
        proto_batch_finish(&batch);
        return r;
}

/* GET /api/v1/terminal: what the terminal needs to work (docs/protocol.md, "Pull"), with an
 * ETag so that an unchanged roster costs a 304. */
static int handle_api_terminal(struct collector *c, const struct web_request *req,
                               struct web_response *resp)
{
        char terminal[VOTE_REF_MAX + 1], hex[33];
        const char *inm = req->header(req->ctx, "If-None-Match");
        struct roster ro = {0};
        uint8_t h[16];
        char *json = NULL;
        int r;

        if (strcmp(req->method, "GET") != 0)
                return web_api_error(resp, 405, "method: use GET");
        r = authenticate(c, req, terminal, resp);
        if (r <= 0)
                return r;
        r = c->store->ops->roster_get(c->store, terminal, &ro);
        if (r == -EACCES)
                return web_api_error(resp, 401, "authorization: unknown or revoked terminal");
        if (r < 0)
                return web_api_error(resp, 503, "store: busy, try again later");
        snprintf(ro.qr_base, sizeof(ro.qr_base), "%s",
                 c->cfg->public_url ? c->cfg->public_url : "");
        r = roster_encode(&ro, &json);
        roster_finish(&ro);
        if (r < 0)
                return web_api_error(resp, 500, "roster: cannot encode");
        crypto_generichash(h, sizeof(h), (const unsigned char *)json, strlen(json), NULL, 0);
        sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
        snprintf(resp->etag, sizeof(resp->etag), "\"%s\"", hex);
        if (inm && strcmp(inm, resp->etag) == 0) {
                free(json);
                return web_respond_text(resp, 304, "application/json", "");
        }
        resp->status = 200;
        resp->content_type = "application/json";
        resp->body = json;
        resp->body_len = strlen(json);
        return 0;
}

/* POST /api/v1/enroll: a one-time code buys a new terminal its credential. */
static int handle_api_enroll(struct collector *c, const struct web_request *req,
                             struct web_response *resp)
{
        char code[ENROLL_CODE_MAX], err[256];
        struct enroll_answer a = {0};
        char *json = NULL;
        int64_t now = web_now_ms();
        int r;

        if (strcmp(req->method, "POST") != 0)
                return web_api_error(resp, 405, "method: use POST");
        if (!is_json(req))
                return web_api_error(resp, 415, "content-type: expected application/json");
        if (ratelimit_blocked(c->enroll_limit, req->client_addr, now))
                return web_api_error(resp, 429, "code: too many wrong codes; try again later");
        r = enroll_request_decode(req->body ? req->body : "", req->body_len, code, err,
                                  sizeof(err));
        if (r < 0)
                return web_api_error(resp, 400, err);
        r = c->store->ops->enroll(c->store, code, now / 1000, &a);
        sodium_memzero(code, sizeof(code));
        if (r == -EACCES) {
                ratelimit_fail(c->enroll_limit, req->client_addr, now);
                log_warn("Refused an enrollment from %s: unknown, used or expired code",
                         req->client_addr);
                return web_api_error(resp, 403, "code: unknown, used or expired");
        }
        if (r < 0)
                return web_api_error(resp, 503, "store: busy, try again later");
        r = enroll_answer_encode(&a, &json);
        log_info("Terminal %s enrolled from %s", a.terminal, req->client_addr);
        atomic_fetch_add(&c->metrics.enrollments, 1);
        sodium_memzero(&a, sizeof(a));
        if (r < 0)
                return r;
        resp->status = 200;
        resp->content_type = "application/json";
        resp->body = json;
        resp->body_len = strlen(json);
        return 0;
}

/* GET /metrics: Prometheus text format, for loopback or with the configured Bearer token. */
static int handle_metrics(struct collector *c, const struct web_request *req,
                          struct web_response *resp)
{
        const struct collector_metrics *m = &c->metrics;
        const char *auth = req->header(req->ctx, "Authorization");
        const char *token = c->cfg->metrics_token;
        bool local =
            strcmp(req->client_addr, "127.0.0.1") == 0 || strcmp(req->client_addr, "::1") == 0;
        struct store_terminal *t = NULL;
        size_t n_terminals = 0, silent = 0;
        int64_t votes = -1, now = web_now_ms() / 1000;
        struct buf b;

        if (!local && !(token && token[0] && auth && strncmp(auth, "Bearer ", 7) == 0 &&
                        strlen(auth + 7) == strlen(token) &&
                        sodium_memcmp(auth + 7, token, strlen(token)) == 0))
                return web_respond_text(resp, 403, "text/plain; charset=utf-8", "forbidden\n");
        if (c->store->ops->vote_count(c->store, &votes) < 0)
                votes = -1;
        if (c->store->ops->terminals_list(c->store, &t, &n_terminals) >= 0)
                for (size_t i = 0; i < n_terminals; i++)
                        silent += !t[i].revoked && now - t[i].last_seen > c->cfg->silent_after_s;
        free(t);
        buf_init(&b, 64 * 1024);
        buf_adds(&b, "# HELP otsinka_http_requests_total Requests answered, by status class.\n"
                     "# TYPE otsinka_http_requests_total counter\n");
        for (int i = 1; i <= 5; i++)
                buf_printf(&b, "otsinka_http_requests_total{code=\"%dxx\"} %" PRIuFAST64 "\n", i,
                           atomic_load(&m->requests[i]));
        buf_printf(
            &b,
            "# HELP otsinka_batches_total Terminal batches stored.\n"
            "# TYPE otsinka_batches_total counter\notsinka_batches_total %" PRIuFAST64 "\n"
            "# HELP otsinka_votes_received_total Votes received, by source and result.\n"
            "# TYPE otsinka_votes_received_total counter\n"
            "otsinka_votes_received_total{source=\"terminal\",result=\"stored\"} %" PRIuFAST64 "\n"
            "otsinka_votes_received_total{source=\"terminal\",result=\"duplicate\"} %" PRIuFAST64
            "\n"
            "otsinka_votes_received_total{source=\"terminal\",result=\"rejected\"} %" PRIuFAST64
            "\n"
            "otsinka_votes_received_total{source=\"page\",result=\"stored\"} %" PRIuFAST64 "\n"
            "otsinka_votes_received_total{source=\"page\",result=\"flagged\"} %" PRIuFAST64 "\n"
            "otsinka_votes_received_total{source=\"page\",result=\"refused\"} %" PRIuFAST64 "\n"
            "# HELP otsinka_logins_failed_total Failed sign-ins.\n"
            "# TYPE otsinka_logins_failed_total counter\notsinka_logins_failed_total %" PRIuFAST64
            "\n"
            "# HELP otsinka_enrollments_total Terminals enrolled.\n"
            "# TYPE otsinka_enrollments_total counter\notsinka_enrollments_total %" PRIuFAST64 "\n"
            "# HELP otsinka_votes_stored Votes in the store.\n"
            "# TYPE otsinka_votes_stored gauge\notsinka_votes_stored %" PRId64 "\n"
            "# HELP otsinka_terminals Terminals known.\n"
            "# TYPE otsinka_terminals gauge\notsinka_terminals %zu\n"
            "# HELP otsinka_terminals_silent Terminals silent longer than silent-after.\n"
            "# TYPE otsinka_terminals_silent gauge\notsinka_terminals_silent %zu\n",
            atomic_load(&m->batches), atomic_load(&m->terminal_votes), atomic_load(&m->duplicates),
            atomic_load(&m->rejected), atomic_load(&m->page_votes), atomic_load(&m->page_flagged),
            atomic_load(&m->page_refused), atomic_load(&m->logins_failed),
            atomic_load(&m->enrollments), votes, n_terminals, silent);
        return web_respond(resp, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
}

int api_handle(struct collector *c, const struct web_request *req, struct web_response *resp)
{
        if (strcmp(req->path, "/api/v1/votes") == 0)
                return handle_api_votes(c, req, resp);
        if (strcmp(req->path, "/api/v1/terminal") == 0)
                return handle_api_terminal(c, req, resp);
        if (strcmp(req->path, "/api/v1/enroll") == 0)
                return handle_api_enroll(c, req, resp);
        if (strcmp(req->path, "/metrics") == 0)
                return handle_metrics(c, req, resp);
        return -ENOENT;
}
