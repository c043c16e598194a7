/* SPDX-License-Identifier: MIT */
/* The uploader: batches from the outbox POSTed over HTTPS with libcurl (the only file that
 * includes curl.h), checked against the configured CA only. Invariant, after systemd's
 * journal-upload: nothing is marked sent unless the collector answered 200 with an ack whose
 * every result names, in order, exactly the vote that was sent at that position. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "buf.h"
#include "log.h"
#include "outbox.h"
#include "proto.h"
#include "sync.h"

#define API_PATH "/api/v1/votes"
/* With nothing to do, look at the outbox and greet the collector this often. */
#define POLL_MS 30000
#define ERROR_QUOTE_MAX 160 /* bytes of the collector's error text quoted in messages */

#ifndef OTSINKA_VERSION
#define OTSINKA_VERSION "0"
#endif

/* What one uploader keeps between round trips. sync_once() builds one for a single trip; the
 * thread keeps its own for its lifetime, so the TLS connection is reused between batches. */
struct link {
        const struct sync_options *opts; /* borrowed */
        const atomic_bool *stop;         /* set to abandon a transfer; NULL for none */
        struct outbox *ob;               /* own handle; NULL until opened or after a failure */
        CURL *curl;                      /* reused: keeps the connection alive */
        struct curl_slist *headers;      /* Authorization, Content-Type, Accept, no Expect */
        char *url;                       /* opts->url + API_PATH */
        struct vote *sent;               /* opts->batch_max votes: the batch in flight */
        struct proto_vote *wire;         /* the same votes as the encoder takes them */
        char curl_err[CURL_ERROR_SIZE];  /* curl's message for the last transfer */
};

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int r,
                                                      const char *fmt, ...)
{
        va_list ap;

        if (!err || errlen == 0)
                return r;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        return r;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_curl;
static int global_sodium;

static void global_init_once(void)
{
        global_curl = curl_global_init(CURL_GLOBAL_DEFAULT);
        global_sodium = sodium_init();
}

/* libcurl and libsodium, once per process; never cleaned up (the process ends first). */
static int global_init(char *err, size_t errlen)
{
        pthread_once(&global_once, global_init_once);
        if (global_curl != CURLE_OK)
                return fail(err, errlen, -EIO, "cannot initialise libcurl: %s",
                            curl_easy_strerror(global_curl));
        if (global_sodium < 0)
                return fail(err, errlen, -EIO, "cannot initialise libsodium");
        return 0;
}

static bool printable_token(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if (*s < 0x21 || *s > 0x7e)
                        return false;
        return true;
}

static int check_options(const struct sync_options *o, bool thread, char *err, size_t errlen)
{
        if (!o)
                return fail(err, errlen, -EINVAL, "no options");
        if (!o->url || strncasecmp(o->url, "https://", 8) != 0 || !printable_token(o->url))
                return fail(err, errlen, -EINVAL, "the collector's URL must start with https://");
        if (!o->ca_file || !*o->ca_file)
                return fail(err, errlen, -EINVAL, "no CA file for the collector's certificate");
        if (!vote_ref_valid(o->terminal_id))
                return fail(err, errlen, -EINVAL,
                            "the terminal id must be 1 to %d of A-Z a-z 0-9 . _ -", VOTE_REF_MAX);
        if (!printable_token(o->secret))
                return fail(err, errlen, -EINVAL,
                            "the terminal secret must be printable ASCII without spaces");
        if (!o->db_path || !*o->db_path)
                return fail(err, errlen, -EINVAL, "no outbox path");
        if (o->batch_max < 1 || o->batch_max > PROTO_BATCH_MAX)
                return fail(err, errlen, -EINVAL, "batch_max must be 1 to %d", PROTO_BATCH_MAX);
        if (o->connect_timeout_s < 1 || o->transfer_timeout_s < 1)
                return fail(err, errlen, -EINVAL, "timeouts must be at least one second");
        if (thread && (o->backoff_min_ms < 1 || o->backoff_max_ms < o->backoff_min_ms))
                return fail(err, errlen, -EINVAL, "backoff must satisfy 1 <= min <= max");
        return 0;
}

static void link_finish(struct link *l)
{
        outbox_close(l->ob);
        curl_easy_cleanup(l->curl);
        curl_slist_free_all(l->headers);
        free(l->url);
        free(l->sent);
        free(l->wire);
        memset(l, 0, sizeof(*l));
}

static int link_init(struct link *l, const struct sync_options *o, const atomic_bool *stop,
                     char *err, size_t errlen)
{
        static const char *const more[] = {"Content-Type: application/json",
                                           "Accept: application/json", "Expect:"};
        struct buf b;
        size_t ulen = strlen(o->url);
        int r;

        memset(l, 0, sizeof(*l));
        l->opts = o;
        l->stop = stop;
        while (ulen > 0 && o->url[ulen - 1] == '/')
                ulen--;
        buf_init(&b, 4096);
        r = buf_printf(&b, "%.*s%s", (int)ulen, o->url, API_PATH);
        if (r < 0)
                return fail(err, errlen, r, "the collector's URL is too long");
        l->url = buf_take(&b, NULL);
        if (!l->url)
                goto oom;

        buf_init(&b, 1024);
        r = buf_printf(&b, "Authorization: Bearer %s:%s", o->terminal_id, o->secret);
        if (r < 0) {
                link_finish(l);
                return fail(err, errlen, r, "the terminal's credential is too long");
        }
        l->headers = curl_slist_append(NULL, b.data);
        sodium_memzero(b.data, b.len);
        buf_free(&b);
        if (!l->headers)
                goto oom;
        /* No "Expect: 100-continue": one round trip, and the collector reads the body anyway. */
        for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
                struct curl_slist *h = curl_slist_append(l->headers, more[i]);
                if (!h)
                        goto oom;
                l->headers = h;
        }

        l->curl = curl_easy_init();
        l->sent = calloc(o->batch_max, sizeof(*l->sent));
        l->wire = calloc(o->batch_max, sizeof(*l->wire));
        if (!l->curl || !l->sent || !l->wire)
                goto oom;
        return 0;
oom:
        link_finish(l);
        return fail(err, errlen, -ENOMEM, "out of memory");
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct buf *body = userdata;

        /* A short count makes curl stop with CURLE_WRITE_ERROR: the answer is too large. */
        if (buf_add(body, data, size * nmemb) < 0)
                return 0;
        return size * nmemb;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        const atomic_bool *stop = userdata;

        return stop && atomic_load(stop) ? 1 : 0;
}

#define SETOPT(opt, value)                                                                         \
        do {                                                                                       \
                if (c == CURLE_OK)                                                                 \
                        c = curl_easy_setopt(l->curl, (opt), (value));                             \
        } while (0)

static CURLcode setup_request(struct link *l, const char *json, size_t len, struct buf *body)
{
        const struct sync_options *o = l->opts;
        CURLcode c = CURLE_OK;

        /* Options go back to their defaults; the connection cache and TLS sessions stay. */
        curl_easy_reset(l->curl);
        l->curl_err[0] = 0;
        SETOPT(CURLOPT_ERRORBUFFER, l->curl_err);
        SETOPT(CURLOPT_URL, l->url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
        SETOPT(CURLOPT_PROTOCOLS_STR, "https");
#else
        SETOPT(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
        SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
        /* Trust the configured CA and nothing else: no system store beside it. */
        SETOPT(CURLOPT_CAINFO, o->ca_file);
        SETOPT(CURLOPT_CAPATH, (char *)NULL);
        SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
        SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
        SETOPT(CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
        SETOPT(CURLOPT_TIMEOUT, o->transfer_timeout_s);
        SETOPT(CURLOPT_NOSIGNAL, 1L);
        SETOPT(CURLOPT_USERAGENT, "otsinka-kiosk/" OTSINKA_VERSION);
        SETOPT(CURLOPT_HTTPHEADER, l->headers);
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_POSTFIELDS, json);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PROTO_BODY_MAX);
        SETOPT(CURLOPT_WRITEFUNCTION, on_body);
        SETOPT(CURLOPT_WRITEDATA, body);
        if (l->stop) {
                SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
                SETOPT(CURLOPT_XFERINFODATA, (void *)l->stop);
                SETOPT(CURLOPT_NOPROGRESS, 0L);
        }
        return c;
}

#undef SETOPT

/* Translates a failed transfer into an errno and a sentence for the status line. */
static int transfer_error(struct link *l, CURLcode c, char *err, size_t errlen)
{
        const char *why = l->curl_err[0] ? l->curl_err : curl_easy_strerror(c);
        const struct sync_options *o = l->opts;
        long verify = 0;

        switch (c) {
        case CURLE_COULDNT_CONNECT:
                return fail(err, errlen, -ECONNREFUSED, "cannot connect to the collector at %s: %s",
                            o->url, why);
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return fail(err, errlen, -EHOSTUNREACH, "cannot resolve the collector's name: %s",
                            why);
        case CURLE_OPERATION_TIMEDOUT:
                return fail(err, errlen, -ETIMEDOUT, "the collector did not answer in time: %s",
                            why);
        case CURLE_PEER_FAILED_VERIFICATION: /* also CURLE_SSL_CACERT since 7.62 */
                /* OpenSSL's verdict on the chain; a name mismatch leaves 0 or 1 (OK or
                 * "unspecified") there. 9 and 10 are X509_V_ERR_CERT_NOT_YET_VALID and
                 * _HAS_EXPIRED: on a terminal, most likely its own clock is wrong. */
                if (curl_easy_getinfo(l->curl, CURLINFO_SSL_VERIFYRESULT, &verify) != CURLE_OK)
                        verify = 2; /* unknown: say the likelier thing */
                if (verify == 9 || verify == 10)
                        return fail(err, errlen, -EPROTO,
                                    "the collector's certificate is not valid at this terminal's "
                                    "time (check the clock): %s",
                                    why);
                if (verify > 1)
                        return fail(err, errlen, -EPROTO,
                                    "the collector's certificate is not signed by the configured "
                                    "CA (%s): %s",
                                    o->ca_file, why);
                return fail(err, errlen, -EPROTO,
                            "the collector's certificate is not issued for %s: %s", o->url, why);
        case CURLE_SSL_CACERT_BADFILE:
                return fail(err, errlen, -EPROTO, "cannot use the CA file %s: %s", o->ca_file, why);
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_USE_SSL_FAILED:
                return fail(err, errlen, -EPROTO, "TLS with the collector failed: %s", why);
        case CURLE_ABORTED_BY_CALLBACK:
                return fail(err, errlen, -ECANCELED, "upload abandoned: stopping");
        case CURLE_WRITE_ERROR:
        case CURLE_FILESIZE_EXCEEDED:
                return fail(err, errlen, -EPROTO, "the collector's answer is larger than %d bytes",
                            PROTO_BODY_MAX);
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return fail(err, errlen, -ECONNRESET, "the connection to the collector broke: %s",
                            why);
        case CURLE_OUT_OF_MEMORY:
                return fail(err, errlen, -ENOMEM, "out of memory");
        case CURLE_UNSUPPORTED_PROTOCOL:
                return fail(err, errlen, -EPROTONOSUPPORT, "%s", why);
        case CURLE_URL_MALFORMAT:
                return fail(err, errlen, -EINVAL, "the collector's URL is malformed: %s", why);
        default:
                return fail(err, errlen, -EIO, "uploading failed: %s", why);
        }
}

/* The collector's error text from an error body {"protocol":1,"error":"..."}, or the body
 * itself, cut and scrubbed to printable ASCII. */
static void error_text(const struct buf *body, char *out, size_t n)
{
        size_t cap = n < ERROR_QUOTE_MAX + 1 ? n : ERROR_QUOTE_MAX + 1;

        if (proto_error_decode(body->data, body->len, out, cap) < 0 || !*out)
                snprintf(out, n, "no explanation given");
}

static int status_error(long status, const struct buf *body, char *err, size_t errlen)
{
        char text[ERROR_QUOTE_MAX + 1];

        error_text(body, text, sizeof(text));
        if (status == 401 || status == 403)
                return fail(err, errlen, -EACCES,
                            "the collector refused this terminal's credential (HTTP %ld): %s",
                            status, text);
        if (status == 413)
                return fail(err, errlen, -EMSGSIZE,
                            "the collector finds the batch too large (HTTP 413): %s", text);
        if (status >= 500 || status == 429)
                return fail(err, errlen, -EAGAIN, "the collector is busy (HTTP %ld): %s", status,
                            text);
        return fail(err, errlen, -EPROTO, "the collector answered HTTP %ld: %s", status, text);
}

/* Every result must name, at its index, the vote sent there: anything else means the answer
 * is for another request or mangled, and then none of it is believed. */
static int check_ack(const struct proto_ack *ack, const struct vote *sent, size_t n, char *err,
                     size_t errlen)
{
        if (ack->n_results != n)
                return fail(err, errlen, -EPROTO,
                            "the collector answered %zu results for %zu votes; nothing marked",
                            ack->n_results, n);
        for (size_t i = 0; i < n; i++) {
                const struct proto_result *res = &ack->results[i];

                if (res->index != i || strncmp(res->id.s, sent[i].id.s, sizeof(res->id.s)) != 0)
                        return fail(err, errlen, -EPROTO,
                                    "the collector's result %zu is for vote \"%.36s\", not %s; "
                                    "nothing marked",
                                    i, res->id.s, sent[i].id.s);
                if (!proto_status_to_string(res->status))
                        return fail(err, errlen, -EPROTO,
                                    "the collector's result %zu has an unknown status", i);
        }
        return 0;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drop_outbox(struct link *l)
{
        outbox_close(l->ob);
        l->ob = NULL;
}

/* One round trip of up to `max` votes. Returns how many the collector acknowledged or a
 * negative errno with a sentence in err. When none waited it returns 0 at once, unless
 * `heartbeat` is set: then it sends an empty batch, and 0 means the collector answered it 200
 * with an empty ack. A store error drops the outbox handle, so that the next round opens the
 * file afresh. */
static int round_trip(struct link *l, size_t max, bool heartbeat, char *err, size_t errlen)
{
        const struct sync_options *o = l->opts;
        struct proto_batch batch = {0};
        struct proto_ack ack = {0};
        struct buf body;
        char *json = NULL, why[256];
        size_t n = 0;
        long status = 0;
        CURLcode c;
        int r;

        buf_init(&body, PROTO_BODY_MAX);
        if (!l->ob) {
                r = outbox_open(o->db_path, &l->ob);
                if (r < 0)
                        return fail(err, errlen, r, "cannot open the outbox %s: %s", o->db_path,
                                    strerror(-r));
        }
        r = outbox_peek(l->ob, max, l->sent, &n);
        if (r < 0) {
                drop_outbox(l);
                return fail(err, errlen, r, "cannot read the outbox: %s", strerror(-r));
        }
        if (n == 0 && !heartbeat)
                return 0;

        memcpy(batch.terminal, o->terminal_id, strlen(o->terminal_id) + 1);
        batch.sent_at_ms = wall_ms();
        batch.n_votes = n;
        batch.votes = l->wire; /* borrowed: the batch is not finished */
        for (size_t i = 0; i < n; i++) {
                l->wire[i].vote = l->sent[i];
                l->wire[i].error[0] = 0;
        }
        r = proto_batch_encode(&batch, &json);
        if (r < 0) {
                fail(err, errlen, r, "cannot encode a batch: %s", strerror(-r));
                goto finish;
        }

        c = setup_request(l, json, strlen(json), &body);
        if (c != CURLE_OK) {
                r = fail(err, errlen, -EIO, "cannot set up the request: %s", curl_easy_strerror(c));
                goto finish;
        }
        c = curl_easy_perform(l->curl);
        if (c != CURLE_OK) {
                r = transfer_error(l, c, err, errlen);
                goto finish;
        }
        curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
                r = status_error(status, &body, err, errlen);
                goto finish;
        }

        r = proto_ack_decode(body.data ? body.data : "", body.len, &ack, why, sizeof(why));
        if (r < 0) {
                r = fail(err, errlen, -EPROTO, "the collector's answer is malformed: %s", why);
                goto finish;
        }
        r = check_ack(&ack, l->sent, n, err, errlen);
        if (r < 0)
                goto finish;
        r = n > 0 ? outbox_apply_ack(l->ob, l->sent, n, &ack) : 0;
        if (r < 0) {
                /* The votes stay pending; the collector answers "duplicate" next time. */
                fail(err, errlen, r, "cannot mark votes sent in the outbox: %s", strerror(-r));
                drop_outbox(l);
                goto finish;
        }
        r = (int)n;
finish:
        proto_ack_finish(&ack);
        free(json);
        buf_free(&body);
        return r;
}

int sync_once(const struct sync_options *opts, char *err, size_t errlen)
{
        struct link l;
        int r;

        if (err && errlen)
                err[0] = 0;
        r = check_options(opts, false, err, errlen);
        if (r < 0)
                return r;
        r = global_init(err, errlen);
        if (r < 0)
                return r;
        r = link_init(&l, opts, NULL, err, errlen);
        if (r < 0)
                return r;
        r = round_trip(&l, opts->batch_max, false, err, errlen);
        link_finish(&l);
        return r;
}

struct sync {
        struct sync_options opts; /* its strings point at the copies below */
        char *url, *ca_file, *terminal_id, *secret, *db_path; /* owned copies */
        void (*notify)(void *); /* called after every attempt; may be NULL */
        void *userdata;         /* for notify; not owned */

        struct link link; /* used by the thread only */
        pthread_t thread;
        pthread_mutex_t lock; /* guards kicked and status */
        pthread_cond_t wake;  /* on CLOCK_MONOTONIC: kicks and stop */
        bool kicked;          /* a vote arrived since the last round started */
        atomic_bool stopping; /* read by curl's progress callback without the lock */
        struct sync_status status;
};

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps up to delay_ms, ending early on a kick or stop. Call with the lock held. */
static void wait_locked(struct sync *s, int64_t delay_ms)
{
        int64_t deadline = mono_ms() + delay_ms;

        while (!s->kicked && !atomic_load(&s->stopping)) {
                struct timespec ts = {.tv_sec = deadline / 1000,
                                      .tv_nsec = (long)(deadline % 1000) * 1000000};

                if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) == ETIMEDOUT)
                        break;
        }
}

/* Full jitter: a uniform delay in [0, ceiling], so that a fleet of terminals coming back after
 * an outage does not knock on the collector in step. */
static int64_t jitter(int64_t ceiling)
{
        if (ceiling >= (int64_t)UINT32_MAX)
                ceiling = (int64_t)UINT32_MAX - 1;
        return (int64_t)randombytes_uniform((uint32_t)ceiling + 1);
}

static void *run(void *userdata)
{
        struct sync *s = userdata;
        const struct sync_options *o = &s->opts;
        size_t batch = o->batch_max;
        int64_t ceiling = 0;   /* the current backoff bound; 0 while things work */
        int64_t heard_ms = -1; /* mono_ms() of the collector's last 200; -1 never */
        char err[sizeof(s->status.last_error)], logged[sizeof(err)] = "";
        struct link *l = &s->link;
        int r;

        while (!atomic_load(&s->stopping)) {
                struct outbox_counts counts;
                bool counted, more, heartbeat, heard;
                int64_t delay;

                pthread_mutex_lock(&s->lock);
                s->kicked = false;
                pthread_mutex_unlock(&s->lock);

                /* Not heard from lately (or ever): an empty outbox still sends an empty batch,
                 * so that `online` is true, or names the fault, without waiting for a vote. */
                heartbeat = heard_ms < 0 || mono_ms() - heard_ms >= POLL_MS;
                err[0] = 0;
                r = round_trip(l, batch, heartbeat, err, sizeof(err));
                if (r == -ECANCELED && atomic_load(&s->stopping))
                        break;
                heard = r > 0 || (r == 0 && heartbeat);
                if (heard)
                        heard_ms = mono_ms();
                counted = l->ob && outbox_counts(l->ob, &counts) >= 0;

                pthread_mutex_lock(&s->lock);
                if (counted) {
                        s->status.pending = counts.pending;
                        s->status.rejected = counts.rejected;
                }
                if (heard) {
                        s->status.online = true;
                        s->status.last_ok_unix = (int64_t)time(NULL);
                }
                if (r >= 0) /* not heard: nothing waited, nothing was sent; online stays */
                        s->status.last_error[0] = 0;
                else {
                        s->status.online = false;
                        snprintf(s->status.last_error, sizeof(s->status.last_error), "%s", err);
                }
                pthread_mutex_unlock(&s->lock);
                if (s->notify)
                        s->notify(s->userdata);

                if (r < 0 && strcmp(err, logged) != 0) {
                        log_warn("sync: %s", err);
                        snprintf(logged, sizeof(logged), "%s", err);
                } else if (heard && logged[0]) {
                        log_info("sync: the collector answers again");
                        logged[0] = 0;
                }
                if (r > 0)
                        log_debug("sync: %d votes acknowledged", r);
                else if (heard)
                        log_debug("sync: the collector answered an empty batch");

                if (r >= 0) {
                        ceiling = 0;
                        more = r > 0 && (counted ? counts.pending > 0 : (size_t)r == batch);
                        if (more)
                                continue; /* drain fast */
                        /* Look at the outbox again, and greet the collector, when it is due. */
                        delay = heard_ms < 0 ? POLL_MS : heard_ms + POLL_MS - mono_ms();
                        if (delay < 0)
                                delay = 0;
                } else if (r == -EMSGSIZE && batch > 1) {
                        batch = (batch + 1) / 2; /* 413: smaller batches, at once */
                        log_info("sync: batches cut to %zu votes", batch);
                        continue;
                } else {
                        ceiling = ceiling ? ceiling * 2 : o->backoff_min_ms;
                        if (ceiling > o->backoff_max_ms)
                                ceiling = o->backoff_max_ms;
                        delay = jitter(ceiling);
                }
                pthread_mutex_lock(&s->lock);
                wait_locked(s, delay);
                pthread_mutex_unlock(&s->lock);
        }
        return NULL;
}

static void sync_free(struct sync *s)
{
        if (!s)
                return;
        free(s->url);
        free(s->ca_file);
        free(s->terminal_id);
        if (s->secret)
                sodium_memzero(s->secret, strlen(s->secret));
        free(s->secret);
        free(s->db_path);
        free(s);
}

int sync_start(const struct sync_options *opts, void (*notify)(void *), void *userdata,
               struct sync **ret)
{
        char err[256] = "";
        pthread_condattr_t ca;
        struct sync *s;
        int r;

        if (!ret)
                return -EINVAL;
        r = check_options(opts, true, err, sizeof(err));
        if (r >= 0)
                r = global_init(err, sizeof(err));
        if (r < 0) {
                log_error("sync: %s", err);
                return r;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->opts = *opts;
        s->url = strdup(opts->url);
        s->ca_file = strdup(opts->ca_file);
        s->terminal_id = strdup(opts->terminal_id);
        s->secret = strdup(opts->secret);
        s->db_path = strdup(opts->db_path);
        if (!s->url || !s->ca_file || !s->terminal_id || !s->secret || !s->db_path) {
                r = -ENOMEM;
                goto fail;
        }
        s->opts.url = s->url;
        s->opts.ca_file = s->ca_file;
        s->opts.terminal_id = s->terminal_id;
        s->opts.secret = s->secret;
        s->opts.db_path = s->db_path;
        s->notify = notify;
        s->userdata = userdata;
        atomic_init(&s->stopping, false);
        r = link_init(&s->link, &s->opts, &s->stopping, err, sizeof(err));
        if (r < 0) {
                log_error("sync: %s", err);
                goto fail;
        }

        r = -pthread_mutex_init(&s->lock, NULL);
        if (r < 0)
                goto fail_link;
        r = -pthread_condattr_init(&ca);
        if (r < 0)
                goto fail_mutex;
        r = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (r >= 0)
                r = -pthread_cond_init(&s->wake, &ca);
        pthread_condattr_destroy(&ca);
        if (r < 0)
                goto fail_mutex;
        r = -pthread_create(&s->thread, NULL, run, s);
        if (r < 0)
                goto fail_cond;
        *ret = s;
        return 0;
fail_cond:
        pthread_cond_destroy(&s->wake);
fail_mutex:
        pthread_mutex_destroy(&s->lock);
fail_link:
        link_finish(&s->link);
fail:
        sync_free(s);
        return r;
}

void sync_kick(struct sync *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->kicked = true;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
}

void sync_get_status(struct sync *s, struct sync_status *ret)
{
        if (!s) {
                memset(ret, 0, sizeof(*ret));
                return;
        }
        pthread_mutex_lock(&s->lock);
        *ret = s->status;
        pthread_mutex_unlock(&s->lock);
}

void sync_stop(struct sync *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        atomic_store(&s->stopping, true);
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        link_finish(&s->link);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        sync_free(s);
}
