/* SPDX-License-Identifier: MIT */
/* libmicrohttpd adapter. Bodies are capped before anything is allocated for them: the
 * terminal API takes PROTO_BODY_MAX, forms WEB_FORM_MAX, everything else nothing. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <sodium.h>

#include "buf.h"
#include "certgen.h"
#include "fileio.h"
#include "http.h"
#include "log.h"
#include "proto.h"
#include "web.h"

struct http_server {
        struct MHD_Daemon *daemon;
        struct collector *c;
        char *key_pem, *cert_pem; /* kept alive while the daemon runs */
        uint16_t port;
};

/* Per-request state, from the first call of the handler to the completion callback. */
struct request {
        struct buf body; /* capped; its sticky error means the body was too large */
};

static enum MHD_Result queue_plain(struct MHD_Connection *conn, unsigned status, const char *msg)
{
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(strlen(msg), (void *)msg, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret;

        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static size_t body_cap(const char *url, const char *method)
{
        if (strcmp(method, "POST") != 0)
                return 0;
        if (strcmp(url, "/api/v1/votes") == 0)
                return PROTO_BODY_MAX;
        if (strcmp(url, "/admin/org/import") == 0)
                return 4 * 1024 * 1024; /* a pasted table: up to 2 MiB once decoded */
        return WEB_FORM_MAX;
}

static const char *lookup_header(void *ctx, const char *name)
{
        return MHD_lookup_connection_value(ctx, MHD_HEADER_KIND, name);
}

static const char *lookup_arg(void *ctx, const char *name)
{
        return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

static void client_address(struct MHD_Connection *conn, char *buf, size_t n)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;

        snprintf(buf, n, "?");
        if (sa && sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
        else if (sa && sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
                          (socklen_t)n);
}

/* Behind a reverse proxy every request comes from the proxy: when it is the configured
 * trusted one, the client is the last address it appended to X-Forwarded-For. Anything that
 * does not parse as an address leaves the proxy's own. */
static void forwarded_address(const char *trusted, struct MHD_Connection *conn, char *addr,
                              size_t n)
{
        const char *xff, *last;
        char candidate[64];
        unsigned char bin[sizeof(struct in6_addr)];
        size_t len;

        if (!trusted || !trusted[0] || strcmp(trusted, addr) != 0)
                return;
        xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For");
        if (!xff)
                return;
        last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        while (*last == ' ' || *last == '\t')
                last++;
        len = strcspn(last, " \t");
        if (len == 0 || len >= sizeof(candidate) || len >= n)
                return;
        memcpy(candidate, last, len);
        candidate[len] = 0;
        if (inet_pton(AF_INET, candidate, bin) == 1 || inet_pton(AF_INET6, candidate, bin) == 1)
                memcpy(addr, candidate, len + 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
        struct http_server *h = cls;
        struct request *rq = *con_cls;
        struct web_response wr;
        struct MHD_Response *resp;
        enum MHD_Result ret;
        char addr[64];

        if (!rq) {
                const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
                size_t cap = body_cap(url, method);

                if (strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "POST"))
                        return queue_plain(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                           "method not allowed\n");
                if (cl && (strtoull(cl, NULL, 10) > cap || strlen(cl) > 12))
                        return queue_plain(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");
                rq = calloc(1, sizeof(*rq));
                if (!rq)
                        return MHD_NO;
                buf_init(&rq->body, cap);
                *con_cls = rq;
                return MHD_YES;
        }
        if (*upload_data_size) {
                buf_add(&rq->body, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (rq->body.error)
                return queue_plain(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body too large\n");

        client_address(conn, addr, sizeof(addr));
        forwarded_address(h->c->cfg->trusted_proxy, conn, addr, sizeof(addr));
        struct web_request wq = {
            .method = method,
            .path = url,
            .body = rq->body.data,
            .body_len = rq->body.len,
            .client_addr = addr,
            .header = lookup_header,
            .arg = lookup_arg,
            .ctx = conn,
        };
        if (web_handle(h->c, &wq, &wr) < 0 && !wr.body)
                return queue_plain(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");

        resp = MHD_create_response_from_buffer(wr.body_len, wr.body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                web_response_finish(&wr);
                return MHD_NO;
        }
        wr.body = NULL; /* the response owns it now */
        MHD_add_response_header(resp, "Content-Type", wr.content_type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' "
                                "data:; form-action 'self'; frame-ancestors 'none'");
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        if (!h->c->cfg->plain_http)
                MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
        if (wr.location[0])
                MHD_add_response_header(resp, "Location", wr.location);
        if (wr.etag[0])
                MHD_add_response_header(resp, "ETag", wr.etag);
        if (wr.set_cookie[0])
                MHD_add_response_header(resp, "Set-Cookie", wr.set_cookie);
        if (wr.disposition[0])
                MHD_add_response_header(resp, "Content-Disposition", wr.disposition);
        if (wr.www_authenticate[0])
                MHD_add_response_header(resp, "WWW-Authenticate", wr.www_authenticate);
        if (wr.status >= 100 && wr.status < 600)
                atomic_fetch_add(&h->c->metrics.requests[wr.status / 100], 1);
        ret = MHD_queue_response(conn, (unsigned)wr.status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct request *rq = *con_cls;

        if (!rq)
                return;
        buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        size_t n;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        n = strlen(msg);
        while (n && msg[n - 1] == '\n')
                msg[--n] = 0;
        log_warn("HTTP: %s", msg);
}

int http_start(struct collector *c, struct http_server **ret)
{
        const struct collector_config *cfg = c->cfg;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
        struct sockaddr_in sa = {.sin_family = AF_INET};
        const union MHD_DaemonInfo *di;
        struct http_server *h;
        int r;

        if (inet_pton(AF_INET, cfg->listen, &sa.sin_addr) != 1) {
                log_error("listen: \"%s\" is not an IPv4 address", cfg->listen);
                return -EINVAL;
        }
        sa.sin_port = htons((uint16_t)cfg->port);
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->c = c;
        if (!cfg->plain_http) {
                r = fileio_read(cfg->tls_cert, CERTGEN_PEM_MAX, &h->cert_pem, NULL);
                if (r < 0) {
                        log_error("Cannot read the TLS certificate %s: %s", cfg->tls_cert,
                                  strerror(-r));
                        goto fail;
                }
                r = fileio_read(cfg->tls_key, CERTGEN_PEM_MAX, &h->key_pem, NULL);
                if (r < 0) {
                        log_error("Cannot read the TLS key %s: %s", cfg->tls_key, strerror(-r));
                        goto fail;
                }
                flags |= MHD_USE_TLS;
        } else
                log_warn("Serving plain HTTP: only behind a reverse proxy that terminates TLS");

        if (flags & MHD_USE_TLS)
                h->daemon = MHD_start_daemon(
                    flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                    MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_HTTPS_MEM_KEY, h->key_pem,
                    MHD_OPTION_HTTPS_MEM_CERT, h->cert_pem, MHD_OPTION_THREAD_POOL_SIZE,
                    (unsigned)cfg->threads, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                    MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                    h, MHD_OPTION_END);
        else
                h->daemon = MHD_start_daemon(
                    flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                    MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
                    MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 1000u,
                    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
        if (!h->daemon) {
                log_error("Cannot listen on %s:%d (in use, or a bad TLS key or certificate)",
                          cfg->listen, (int)cfg->port);
                r = -EADDRINUSE;
                goto fail;
        }
        di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
        h->port = di ? di->port : (uint16_t)cfg->port;
        *ret = h;
        return 0;
fail:
        http_stop(h);
        return r;
}

uint16_t http_port(const struct http_server *h)
{
        return h->port;
}

void http_stop(struct http_server *h)
{
        if (!h)
                return;
        if (h->daemon)
                MHD_stop_daemon(h->daemon);
        if (h->key_pem)
                sodium_memzero(h->key_pem, strlen(h->key_pem));
        free(h->key_pem);
        free(h->cert_pem);
        free(h);
}
