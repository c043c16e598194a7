/* SPDX-License-Identifier: MIT */
/* The uploader: the only file that includes curl.h. Over HTTPS checked against the configured
 * CA only, it enrolls the terminal with a one-time code when it has no credential, pulls the
 * terminal's roster (GET with If-None-Match, kept in the outbox), and POSTs batches of votes
 * and events with the terminal's status. Invariant, after systemd's journal-upload: nothing is
 * marked sent unless the collector answered 200 with an ack whose every result names, in
 * order, exactly the vote or event that was sent at that position. After a 401/403 it sends
 * nothing more until restarted. */
#include <dlfcn.h>
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
#include "roster.h"
#include "sync.h"

#define VOTES_PATH "/api/v1/votes"
#define PULL_PATH "/api/v1/terminal"
#define ENROLL_PATH "/api/v1/enroll"
/* With nothing to do, look at the outbox and greet the collector this often. */
#define POLL_MS 30000
/* Pull the roster at least this often, besides at start and after uploads. */
#define PULL_MS (5 * 60 * 1000)
#define ERROR_QUOTE_MAX 160 /* bytes of the collector's error text quoted in messages */
#define ETAG_MAX 256        /* as the outbox keeps it */
#define AUTH_MAX 512        /* "Authorization: Bearer <id>:<secret>" */
/* The outbox state keys of an enrolled credential. */
#define STATE_TERMINAL_ID "terminal_id"
#define STATE_TERMINAL_SECRET "terminal_secret"
#define NOT_AUTHORISED "not authorised: revoked or unknown terminal"

#ifndef OTSINKA_VERSION
#define OTSINKA_VERSION "0"
#endif

/* What one uploader keeps between round trips. sync_once() builds one for a single trip; the
 * thread keeps its own for its lifetime, so the TLS connection is reused between requests. */
struct link {
        const struct sync_options *opts; /* borrowed */
        const atomic_bool *stop;         /* set to abandon a transfer; NULL for none */
        struct outbox *ob;               /* own handle; NULL until opened or after a failure */
        CURL *curl;                      /* reused: keeps the connection alive */
        char *url_votes, *url_pull, *url_enroll; /* opts->url + the paths */
        /* The credential in effect (configured or enrolled); empty until known. */
        char terminal_id[VOTE_REF_MAX + 1];
        bool kept_checked;                 /* the outbox was looked at for an enrolled credential */
        char auth[AUTH_MAX];               /* the Authorization header line; wiped at the end */
        struct curl_slist *post_headers;   /* Authorization, Content-Type, Accept, no Expect */
        struct curl_slist *enroll_headers; /* the same without Authorization */
        struct vote *sent;                 /* opts->batch_max votes: the batch in flight */
        struct proto_vote *wire;           /* the same votes as the encoder takes them */
        struct vote_event *sent_events;    /* opts->batch_max events, likewise */
        struct proto_event *wire_events;
        char etag[ETAG_MAX];            /* the ETag header of the last answer; "" none */
        char curl_err[CURL_ERROR_SIZE]; /* curl's message for the last transfer */
        /* What the batches report (docs/protocol.md, "Fleet status"). */
        char version[PROTO_VERSION_STR_MAX];
        char report_error[PROTO_REASON_MAX]; /* the last sync error, printable ASCII */
        bool clock_known;                    /* clock_offset_ms was measured */
        int64_t clock_offset_ms;             /* collector's clock minus ours */
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

/* libssh2's flag for libssh2_init(): leave the crypto library alone (libssh2.h, stable ABI) */
#define SSH2_INIT_NO_CRYPTO 0x0001

/* Debian's libcurl3-gnutls links libssh2, which is built against OpenSSL, and
 * curl_global_init() calls libssh2_init(0): that loads every OpenSSL cipher, digest and engine,
 * 1.4 MiB of libcrypto made resident for a protocol the terminal never speaks (its TLS is
 * GnuTLS's). libssh2 counts its initialisations and sets up the crypto library only on the
 * first, so a first call with "no crypto" makes curl's a no-op. Looked up at run time: where
 * libcurl has no libssh2 there is nothing to do, and the terminal does not link libssh2. */
static void ssh_init_without_crypto(void)
{
        int (*ssh2_init)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "libssh2_init");

        if (ssh2_init)
                (void)ssh2_init(SSH2_INIT_NO_CRYPTO);
}

static void global_init_once(void)
{
        ssh_init_without_crypto();
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

/* Printable ASCII without spaces: safe inside a header line. */
static bool printable_token(const char *s)
{
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if (*s < 0x21 || *s > 0x7e)
                        return false;
        return true;
}

static bool empty(const char *s)
{
        return !s || !*s;
}

/* Copies s into out (n bytes), every byte that is not printable ASCII made '?': what the
 * protocol allows in a status report. */
static void scrub(char *out, size_t n, const char *s)
{
        size_t i = 0;

        for (; s && s[i] && i + 1 < n; i++)
                out[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
        if (n > 0)
                out[i] = 0;
}

static int check_options(const struct sync_options *o, bool thread, char *err, size_t errlen)
{
        if (!o)
                return fail(err, errlen, -EINVAL, "no options");
        if (!o->url || strncasecmp(o->url, "https://", 8) != 0 || !printable_token(o->url))
                return fail(err, errlen, -EINVAL, "the collector's URL must start with https://");
        if (!o->ca_file || !*o->ca_file)
                return fail(err, errlen, -EINVAL, "no CA file for the collector's certificate");
        /* No credential at all is allowed (enrolled or enrolling); half of one is not. */
        if (!empty(o->terminal_id) || !empty(o->secret)) {
                if (!vote_ref_valid(o->terminal_id))
                        return fail(err, errlen, -EINVAL,
                                    "the terminal id must be 1 to %d of A-Z a-z 0-9 . _ -",
                                    VOTE_REF_MAX);
                if (!printable_token(o->secret) || strlen(o->secret) >= ENROLL_SECRET_MAX)
                        return fail(err, errlen, -EINVAL,
                                    "the terminal secret must be 1 to %d bytes of printable ASCII "
                                    "without spaces",
                                    ENROLL_SECRET_MAX - 1);
        }
        if (!empty(o->enroll_code) &&
            (!printable_token(o->enroll_code) || strlen(o->enroll_code) >= ENROLL_CODE_MAX))
                return fail(err, errlen, -EINVAL,
                            "the enrollment code must be 1 to %d bytes of printable ASCII "
                            "without spaces",
                            ENROLL_CODE_MAX - 1);
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

static void forget_credential(struct link *l)
{
        curl_slist_free_all(l->post_headers);
        l->post_headers = NULL;
        sodium_memzero(l->auth, sizeof(l->auth));
        l->terminal_id[0] = 0;
}

static void link_finish(struct link *l)
{
        forget_credential(l);
        outbox_close(l->ob);
        curl_easy_cleanup(l->curl);
        curl_slist_free_all(l->enroll_headers);
        free(l->url_votes);
        free(l->url_pull);
        free(l->url_enroll);
        free(l->sent);
        free(l->wire);
        free(l->sent_events);
        free(l->wire_events);
        memset(l, 0, sizeof(*l));
}

/* Appends the headers every JSON POST carries to *list. No "Expect: 100-continue": one round
 * trip, and the collector reads the body anyway. */
static int add_json_headers(struct curl_slist **list)
{
        static const char *const more[] = {"Content-Type: application/json",
                                           "Accept: application/json", "Expect:"};

        for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
                struct curl_slist *h = curl_slist_append(*list, more[i]);
                if (!h)
                        return -ENOMEM;
                *list = h;
        }
        return 0;
}

/* Puts a credential in effect: the Authorization header for every later request. */
static int use_credential(struct link *l, const char *terminal_id, const char *secret)
{
        int n;

        forget_credential(l);
        n = snprintf(l->auth, sizeof(l->auth), "Authorization: Bearer %s:%s", terminal_id, secret);
        if (n < 0 || (size_t)n >= sizeof(l->auth)) {
                sodium_memzero(l->auth, sizeof(l->auth));
                return -ENAMETOOLONG;
        }
        l->post_headers = curl_slist_append(NULL, l->auth);
        if (!l->post_headers || add_json_headers(&l->post_headers) < 0) {
                forget_credential(l);
                return -ENOMEM;
        }
        memcpy(l->terminal_id, terminal_id, strlen(terminal_id) + 1);
        return 0;
}

static char *url_join(const char *base, size_t len, const char *path)
{
        struct buf b;

        buf_init(&b, 4096);
        buf_printf(&b, "%.*s%s", (int)len, base, path);
        return buf_take(&b, NULL);
}

static int link_init(struct link *l, const struct sync_options *o, const atomic_bool *stop,
                     char *err, size_t errlen)
{
        size_t ulen = strlen(o->url);
        size_t max = o->batch_max;

        memset(l, 0, sizeof(*l));
        l->opts = o;
        l->stop = stop;
        scrub(l->version, sizeof(l->version), empty(o->version) ? OTSINKA_VERSION : o->version);
        while (ulen > 0 && o->url[ulen - 1] == '/')
                ulen--;
        l->url_votes = url_join(o->url, ulen, VOTES_PATH);
        l->url_pull = url_join(o->url, ulen, PULL_PATH);
        l->url_enroll = url_join(o->url, ulen, ENROLL_PATH);
        if (!l->url_votes || !l->url_pull || !l->url_enroll) {
                link_finish(l);
                return fail(err, errlen, -ENAMETOOLONG, "the collector's URL is too long");
        }
        if (add_json_headers(&l->enroll_headers) < 0)
                goto oom;
        l->curl = curl_easy_init();
        l->sent = calloc(max, sizeof(*l->sent));
        l->wire = calloc(max, sizeof(*l->wire));
        l->sent_events = calloc(max, sizeof(*l->sent_events));
        l->wire_events = calloc(max, sizeof(*l->wire_events));
        if (!l->curl || !l->sent || !l->wire || !l->sent_events || !l->wire_events)
                goto oom;
        if (!empty(o->terminal_id) && use_credential(l, o->terminal_id, o->secret) < 0)
                goto oom;
        return 0;
oom:
        link_finish(l);
        return fail(err, errlen, -ENOMEM, "out of memory");
}

/* The outbox handle, opened on first use (and again after a store error dropped it). */
static int link_outbox(struct link *l, char *err, size_t errlen)
{
        int r;

        if (l->ob)
                return 0;
        r = outbox_open(l->opts->db_path, &l->ob);
        if (r < 0)
                return fail(err, errlen, r, "cannot open the outbox %s: %s", l->opts->db_path,
                            strerror(-r));
        return 0;
}

static void drop_outbox(struct link *l)
{
        outbox_close(l->ob);
        l->ob = NULL;
}

/* ---- one HTTP exchange ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct buf *body = userdata;

        /* A short count makes curl stop with CURLE_WRITE_ERROR: the answer is too large. */
        if (buf_add(body, data, size * nmemb) < 0)
                return 0;
        return size * nmemb;
}

/* Keeps the ETag of the answer, as sent (quotes included): If-None-Match sends it back. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct link *l = userdata;
        size_t len = size * nmemb, name = sizeof("ETag:") - 1;

        if (len > name && strncasecmp(data, "ETag:", name) == 0) {
                const char *v = data + name, *end = data + len;

                while (v < end && (*v == ' ' || *v == '\t'))
                        v++;
                while (end > v &&
                       (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                        end--;
                /* One that would not fit, or is not plain ASCII, is as good as none. */
                l->etag[0] = 0;
                if ((size_t)(end - v) < sizeof(l->etag)) {
                        memcpy(l->etag, v, (size_t)(end - v));
                        l->etag[end - v] = 0;
                        if (!printable_token(l->etag))
                                l->etag[0] = 0;
                }
        }
        return len;
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

/* One request: a POST of json when it is not NULL, else a GET. */
static CURLcode setup_request(struct link *l, const char *url, struct curl_slist *headers,
                              const char *json, size_t len, struct buf *body)
{
        const struct sync_options *o = l->opts;
        CURLcode c = CURLE_OK;

        /* Options go back to their defaults; the connection cache and TLS sessions stay. */
        curl_easy_reset(l->curl);
        l->curl_err[0] = 0;
        l->etag[0] = 0;
        SETOPT(CURLOPT_ERRORBUFFER, l->curl_err);
        SETOPT(CURLOPT_URL, url);
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
        SETOPT(CURLOPT_HTTPHEADER, headers);
        if (json) {
                SETOPT(CURLOPT_POST, 1L);
                SETOPT(CURLOPT_POSTFIELDS, json);
                SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        } else
                SETOPT(CURLOPT_HTTPGET, 1L);
        SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PROTO_BODY_MAX);
        SETOPT(CURLOPT_WRITEFUNCTION, on_body);
        SETOPT(CURLOPT_WRITEDATA, body);
        SETOPT(CURLOPT_HEADERFUNCTION, on_header);
        SETOPT(CURLOPT_HEADERDATA, l);
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
                return fail(err, errlen, -EACCES, NOT_AUTHORISED " (HTTP %ld: %s)", status, text);
        if (status == 413)
                return fail(err, errlen, -EMSGSIZE,
                            "the collector finds the batch too large (HTTP 413): %s", text);
        if (status >= 500 || status == 429)
                return fail(err, errlen, -EAGAIN, "the collector is busy (HTTP %ld): %s", status,
                            text);
        return fail(err, errlen, -EPROTO, "the collector answered HTTP %ld: %s", status, text);
}

/* Performs one request and reads its HTTP status into *ret_status; the answer's body goes to
 * body, its ETag to l->etag. A transfer that fails is a negative errno with a sentence. */
static int exchange(struct link *l, const char *url, struct curl_slist *headers, const char *json,
                    struct buf *body, long *ret_status, char *err, size_t errlen)
{
        long status = 0;
        CURLcode c;

        c = setup_request(l, url, headers, json, json ? strlen(json) : 0, body);
        if (c != CURLE_OK)
                return fail(err, errlen, -EIO, "cannot set up the request: %s",
                            curl_easy_strerror(c));
        c = curl_easy_perform(l->curl);
        if (c != CURLE_OK)
                return transfer_error(l, c, err, errlen);
        curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &status);
        *ret_status = status;
        return 0;
}

/* Every result must name, at its index, the item sent there (n ids, `stride` bytes apart):
 * anything else means the answer is for another request or mangled, and then none of it is
 * believed. */
static int check_results(const struct proto_result *results, size_t n_results, const void *ids,
                         size_t stride, size_t n, const char *what, char *err, size_t errlen)
{
        if (n_results != n)
                return fail(err, errlen, -EPROTO,
                            "the collector answered %zu results for %zu %ss; nothing marked",
                            n_results, n, what);
        for (size_t i = 0; i < n; i++) {
                const struct proto_result *res = &results[i];
                const vote_id *id = (const vote_id *)((const char *)ids + i * stride);

                if (res->index != i || strncmp(res->id.s, id->s, sizeof(res->id.s)) != 0)
                        return fail(err, errlen, -EPROTO,
                                    "the collector's result %zu is for %s \"%.36s\", not %s; "
                                    "nothing marked",
                                    i, what, res->id.s, id->s);
                if (!proto_status_to_string(res->status))
                        return fail(err, errlen, -EPROTO,
                                    "the collector's result %zu has an unknown status", i);
        }
        return 0;
}

static int check_ack(const struct link *l, const struct proto_ack *ack, size_t n, size_t n_events,
                     char *err, size_t errlen)
{
        int r;

        r = check_results(ack->results, ack->n_results, l->sent, sizeof(*l->sent), n, "vote", err,
                          errlen);
        if (r >= 0)
                r = check_results(ack->event_results, ack->n_event_results, l->sent_events,
                                  sizeof(*l->sent_events), n_events, "event", err, errlen);
        return r;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The batch for n votes and n_events events waiting in l->sent / l->sent_events, with the
 * terminal's boot, monotonic time and status. Its arrays are borrowed from l. */
static void fill_batch(struct link *l, size_t n, size_t n_events,
                       const struct outbox_counts *counts, struct proto_batch *b)
{
        memset(b, 0, sizeof(*b));
        memcpy(b->terminal, l->terminal_id, sizeof(b->terminal));
        b->sent_at_ms = wall_ms();
        vote_boot_id(b->boot);
        b->mono_ms = vote_mono_ms();
        b->n_votes = n;
        b->votes = l->wire;
        for (size_t i = 0; i < n; i++) {
                l->wire[i].vote = l->sent[i];
                l->wire[i].error[0] = 0;
        }
        b->n_events = n_events;
        b->events = l->wire_events;
        for (size_t i = 0; i < n_events; i++) {
                l->wire_events[i].event = l->sent_events[i];
                l->wire_events[i].error[0] = 0;
        }
        b->status.present = true;
        memcpy(b->status.version, l->version, sizeof(b->status.version));
        b->status.queue = counts->pending + counts->events_pending;
        b->status.rejected = counts->rejected;
        b->status.clock_offset_ms = l->clock_known ? l->clock_offset_ms : 0;
        memcpy(b->status.last_error, l->report_error, sizeof(b->status.last_error));
}

/* One round trip of up to `max` votes and `max` events. Returns how many the collector
 * acknowledged (votes and events together) or a negative errno with a sentence in err. When
 * none waited it returns 0 at once, unless `heartbeat` is set: then it sends an empty batch,
 * and 0 means the collector answered it 200 with an empty ack. A store error drops the
 * outbox handle, so that the next round opens the file afresh. */
static int round_trip(struct link *l, size_t max, bool heartbeat, char *err, size_t errlen)
{
        struct proto_batch batch;
        struct proto_ack ack = {0};
        struct outbox_counts counts;
        struct buf body;
        char *json = NULL, why[256];
        size_t n = 0, n_events = 0;
        int64_t t0, t1;
        long status = 0;
        int r;

        r = link_outbox(l, err, errlen);
        if (r < 0)
                return r;
        r = outbox_peek(l->ob, max, l->sent, &n);
        if (r >= 0)
                r = outbox_peek_events(l->ob, max, l->sent_events, &n_events);
        if (r >= 0)
                r = outbox_counts(l->ob, &counts);
        if (r < 0) {
                drop_outbox(l);
                return fail(err, errlen, r, "cannot read the outbox: %s", strerror(-r));
        }
        if (n == 0 && n_events == 0 && !heartbeat)
                return 0;

        buf_init(&body, PROTO_BODY_MAX);
        fill_batch(l, n, n_events, &counts, &batch);
        r = proto_batch_encode(&batch, &json);
        if (r < 0) {
                fail(err, errlen, r, "cannot encode a batch: %s", strerror(-r));
                goto finish;
        }
        t0 = wall_ms();
        r = exchange(l, l->url_votes, l->post_headers, json, &body, &status, err, errlen);
        t1 = wall_ms();
        if (r < 0)
                goto finish;
        if (status != 200) {
                r = status_error(status, &body, err, errlen);
                goto finish;
        }

        r = proto_ack_decode(body.data ? body.data : "", body.len, &ack, why, sizeof(why));
        if (r < 0) {
                r = fail(err, errlen, -EPROTO, "the collector's answer is malformed: %s", why);
                goto finish;
        }
        r = check_ack(l, &ack, n, n_events, err, errlen);
        if (r < 0)
                goto finish;
        /* The collector read its clock somewhere between sending and receiving: the midpoint
         * is the best guess of ours at that moment. */
        l->clock_offset_ms = ack.server_time_ms - (t0 + (t1 - t0) / 2);
        l->clock_known = true;
        if (n + n_events > 0) {
                r = outbox_apply_ack(l->ob, l->sent, n, l->sent_events, n_events, &ack);
                if (r < 0) {
                        /* Everything stays pending; the collector answers "duplicate" next time. */
                        fail(err, errlen, r, "cannot mark votes sent in the outbox: %s",
                             strerror(-r));
                        drop_outbox(l);
                        goto finish;
                }
        }
        r = (int)(n + n_events);
finish:
        proto_ack_finish(&ack);
        free(json);
        buf_free(&body);
        return r;
}

/* ---- the credential ---- */

/* Keeps an enrolled credential in the outbox, both halves in one transaction. */
static int save_credential(struct link *l, const struct enroll_answer *a, char *err, size_t errlen)
{
        const char *keys[] = {STATE_TERMINAL_ID, STATE_TERMINAL_SECRET};
        const char *values[] = {a->terminal, a->secret};
        int r;

        r = link_outbox(l, err, errlen);
        if (r < 0)
                return r;
        r = outbox_state_set_many(l->ob, keys, values, 2);
        if (r < 0) {
                drop_outbox(l);
                return fail(err, errlen, r, "cannot keep the enrolled credential in the outbox: %s",
                            strerror(-r));
        }
        return 0;
}

/* Asks the collector for a credential with the configured one-time code, keeps it in the
 * outbox and puts it in effect. -EKEYREJECTED when the collector refused the code (403, or
 * 429 after too many refusals): only an administrator can help, so retry slowly. */
static int enroll(struct link *l, char *err, size_t errlen)
{
        struct enroll_answer answer = {0};
        struct buf body;
        char *json = NULL, why[256], text[ERROR_QUOTE_MAX + 1];
        long status = 0;
        int r;

        buf_init(&body, PROTO_BODY_MAX);
        r = enroll_request_encode(l->opts->enroll_code, &json);
        if (r < 0) {
                fail(err, errlen, r, "cannot encode the enrollment request: %s", strerror(-r));
                goto finish;
        }
        r = exchange(l, l->url_enroll, l->enroll_headers, json, &body, &status, err, errlen);
        if (r < 0)
                goto finish;
        if (status == 401 || status == 403 || status == 429) {
                error_text(&body, text, sizeof(text));
                r = fail(err, errlen, -EKEYREJECTED, "enrollment refused (HTTP %ld): %s", status,
                         text);
                goto finish;
        }
        if (status != 200) {
                r = status_error(status, &body, err, errlen);
                goto finish;
        }
        r = enroll_answer_decode(body.data ? body.data : "", body.len, &answer, why, sizeof(why));
        if (r < 0) {
                r = fail(err, errlen, -EPROTO, "the collector's enrollment answer is malformed: %s",
                         why);
                goto finish;
        }
        /* The pair goes into a header line: nothing there may break it. */
        if (!vote_ref_valid(answer.terminal) || !printable_token(answer.secret)) {
                r = fail(err, errlen, -EPROTO,
                         "the collector's enrollment answer holds an unusable credential");
                goto finish;
        }
        r = save_credential(l, &answer, err, errlen);
        if (r < 0) {
                /* The code is spent: use the credential for now, and say loudly that it will
                 * be lost with this process. */
                log_error("sync: %s; enrolled as %s for this run only", err, answer.terminal);
                if (err && errlen)
                        err[0] = 0;
        }
        r = use_credential(l, answer.terminal, answer.secret);
        if (r < 0) {
                fail(err, errlen, r, "cannot use the enrolled credential: %s", strerror(-r));
                goto finish;
        }
        log_info("sync: enrolled as terminal %s", answer.terminal);
finish:
        sodium_memzero(&answer, sizeof(answer));
        if (body.data)
                sodium_memzero(body.data, body.len);
        buf_free(&body);
        free(json);
        return r;
}

/* Puts a credential in effect unless one is: the configured one (link_init), else the one
 * the outbox keeps, else one got by enrolling. -ENOKEY when there is none and no code. */
static int ensure_credential(struct link *l, char *err, size_t errlen)
{
        char id[VOTE_REF_MAX + 1], secret[ENROLL_SECRET_MAX];
        int r;

        /* an enrolled credential kept in the outbox wins over a configured one: it is the
         * newer (a terminal re-enrolled from its staff menu must not come back as the old,
         * perhaps revoked, one after a restart) */
        if (l->terminal_id[0] && l->kept_checked)
                return 0;
        r = link_outbox(l, err, errlen);
        if (r < 0)
                return l->terminal_id[0] ? 0 : r;
        l->kept_checked = true;
        r = outbox_state_get(l->ob, STATE_TERMINAL_ID, id, sizeof(id));
        if (r >= 0)
                r = outbox_state_get(l->ob, STATE_TERMINAL_SECRET, secret, sizeof(secret));
        if (r >= 0 && vote_ref_valid(id) && printable_token(secret)) {
                r = use_credential(l, id, secret);
                sodium_memzero(secret, sizeof(secret));
                return r < 0 ? fail(err, errlen, r, "cannot use the enrolled credential: %s",
                                    strerror(-r))
                             : 0;
        }
        sodium_memzero(secret, sizeof(secret));
        if (l->terminal_id[0])
                return 0; /* none kept: the configured one stays */
        if (r < 0 && r != -ENOENT && r != -ENOBUFS) {
                drop_outbox(l);
                return fail(err, errlen, r, "cannot read the outbox: %s", strerror(-r));
        }
        if (empty(l->opts->enroll_code))
                return fail(err, errlen, -ENOKEY,
                            "this terminal has no credential: configure terminal_id and "
                            "terminal_secret, or an enrollment code");
        return enroll(l, err, errlen);
}

/* ---- the roster ---- */

/* GET with the credential, and If-None-Match when a copy is kept. */
static struct curl_slist *pull_headers(const struct link *l, const char *etag)
{
        char inm[ETAG_MAX + 32];
        struct curl_slist *h, *more;

        h = curl_slist_append(NULL, l->auth);
        if (!h)
                return NULL;
        more = curl_slist_append(h, "Accept: application/json");
        if (more && *etag) {
                snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
                more = curl_slist_append(more, inm);
        }
        if (!more) {
                curl_slist_free_all(h);
                return NULL;
        }
        return more;
}

/* Takes an answered roster: decoded strictly and for this terminal, or refused. 1 when it was
 * new and is saved, 0 when it is the copy already kept. */
static int take_roster(struct link *l, const struct buf *body, const char *saved, size_t saved_len,
                       const char *saved_etag, char *err, size_t errlen)
{
        struct roster roster = {0};
        char why[256];
        int r;

        r = roster_decode(body->data ? body->data : "", body->len, &roster, why, sizeof(why));
        if (r < 0)
                return fail(err, errlen, -EBADMSG,
                            "the collector's roster is invalid, the old copy stays: %s", why);
        r = strcmp(roster.terminal, l->terminal_id);
        if (r != 0)
                fail(err, errlen, -EBADMSG,
                     "the collector's roster is for terminal %s, not %s; the old copy stays",
                     roster.terminal, l->terminal_id);
        roster_finish(&roster);
        if (r != 0)
                return -EBADMSG;
        if (saved && saved_len == body->len && memcmp(saved, body->data, saved_len) == 0 &&
            strcmp(saved_etag, l->etag) == 0)
                return 0;
        r = outbox_roster_save(l->ob, body->data, body->len, l->etag);
        if (r < 0) {
                drop_outbox(l);
                return fail(err, errlen, r, "cannot keep the roster in the outbox: %s",
                            strerror(-r));
        }
        return 1;
}

/* Pulls the roster. 1 when a new one was saved, 0 when nothing changed (304, or the copy
 * kept), -EBADMSG when the collector sent one that is refused (the old copy stays), else as
 * round_trip(). */
static int pull(struct link *l, char *err, size_t errlen)
{
        char etag[ETAG_MAX] = "", *saved = NULL;
        struct curl_slist *headers = NULL;
        size_t saved_len = 0;
        struct buf body;
        long status = 0;
        int r;

        r = link_outbox(l, err, errlen);
        if (r < 0)
                return r;
        r = outbox_roster_load(l->ob, &saved, &saved_len, etag, sizeof(etag));
        if (r == -ENOBUFS || r == -ENOENT)
                etag[0] = 0; /* none kept, or one we cannot send back: ask for the whole */
        else if (r < 0) {
                drop_outbox(l);
                return fail(err, errlen, r, "cannot read the outbox: %s", strerror(-r));
        }
        buf_init(&body, PROTO_BODY_MAX);
        headers = pull_headers(l, etag);
        if (!headers) {
                r = fail(err, errlen, -ENOMEM, "out of memory");
                goto finish;
        }
        r = exchange(l, l->url_pull, headers, NULL, &body, &status, err, errlen);
        if (r < 0)
                goto finish;
        if (status == 304)
                r = 0;
        else if (status == 200)
                r = take_roster(l, &body, saved, saved_len, etag, err, errlen);
        else
                r = status_error(status, &body, err, errlen);
finish:
        curl_slist_free_all(headers);
        buf_free(&body);
        free(saved);
        return r;
}

/* ---- on the caller's thread ---- */

typedef int (*link_action)(struct link *l, char *err, size_t errlen);

static int once(const struct sync_options *opts, link_action action, char *err, size_t errlen)
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
        r = ensure_credential(&l, err, errlen);
        if (r >= 0)
                r = action(&l, err, errlen);
        link_finish(&l);
        return r;
}

static int upload(struct link *l, char *err, size_t errlen)
{
        return round_trip(l, l->opts->batch_max, false, err, errlen);
}

int sync_once(const struct sync_options *opts, char *err, size_t errlen)
{
        return once(opts, upload, err, errlen);
}

int sync_pull_once(const struct sync_options *opts, char *err, size_t errlen)
{
        return once(opts, pull, err, errlen);
}

/* ---- the thread ---- */

struct sync {
        struct sync_options opts; /* its strings point at the copies below */
        char *url, *ca_file, *terminal_id, *secret, *enroll_code, *version, *db_path; /* owned */
        void (*notify)(void *); /* called after every attempt; may be NULL */
        void *userdata;         /* for notify; not owned */

        struct link link; /* used by the thread only */
        pthread_t thread;
        pthread_mutex_t lock; /* guards kicked and status */
        pthread_cond_t wake;  /* on CLOCK_MONOTONIC: kicks and stop */
        bool kicked;          /* a vote arrived since the last round started */
        char *new_code;       /* an enrollment code given by sync_enroll(), not yet used */
        atomic_bool stopping; /* read by curl's progress callback without the lock */
        struct sync_status status;
};

/* What the thread remembers between rounds. */
struct pace {
        size_t batch;          /* votes per request: opts->batch_max, halved by 413s */
        int64_t ceiling;       /* the current backoff bound; 0 while things work */
        int64_t heard_ms;      /* mono_ms() of the collector's last 200; -1 never */
        int64_t pull_due_ms;   /* mono_ms() when the roster should be pulled next */
        bool pull_failed;      /* the last pull did not reach the collector: again once it does */
        char logged[256];      /* the last sync error logged, so that each is logged once */
        char pull_logged[256]; /* the same for pulls */
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

static void wait_for(struct sync *s, int64_t delay_ms)
{
        pthread_mutex_lock(&s->lock);
        wait_locked(s, delay_ms);
        pthread_mutex_unlock(&s->lock);
}

/* Full jitter: a uniform delay in [0, ceiling], so that a fleet of terminals coming back after
 * an outage does not knock on the collector in step. */
static int64_t jitter(int64_t ceiling)
{
        if (ceiling >= (int64_t)UINT32_MAX)
                ceiling = (int64_t)UINT32_MAX - 1;
        return (int64_t)randombytes_uniform((uint32_t)ceiling + 1);
}

/* The next delay after a failure: the ceiling doubles up to backoff_max_ms. */
static int64_t backoff(struct sync *s, struct pace *p)
{
        p->ceiling = p->ceiling ? p->ceiling * 2 : s->opts.backoff_min_ms;
        if (p->ceiling > s->opts.backoff_max_ms)
                p->ceiling = s->opts.backoff_max_ms;
        return jitter(p->ceiling);
}

/* A refused enrollment code waits for an administrator: between half and all of the longest
 * backoff, never at once (the collector locks out an address after 10 refusals). */
static int64_t slow(const struct sync *s)
{
        int64_t half = s->opts.backoff_max_ms / 2;

        return half + jitter(s->opts.backoff_max_ms - half);
}

/* Logs err unless it is the one logged last (kept in logged, n bytes): a collector that is
 * down for an hour is one line, not one per retry. */
static void log_once(char *logged, size_t n, const char *what, const char *err)
{
        if (strcmp(err, logged) != 0) {
                log_warn("sync: %s%s", what, err);
                snprintf(logged, n, "%s", err);
        }
}

static void notify(struct sync *s)
{
        if (s->notify)
                s->notify(s->userdata);
}

/* A failed attempt to get a credential: offline, and why. What waits is counted all the
 * same, so that the screen can say how much is kept. */
static void publish_error(struct sync *s, const char *err)
{
        struct outbox_counts counts;
        bool counted = s->link.ob && outbox_counts(s->link.ob, &counts) >= 0;

        pthread_mutex_lock(&s->lock);
        if (counted) {
                s->status.pending = counts.pending;
                s->status.rejected = counts.rejected;
                s->status.events_pending = counts.events_pending;
        }
        s->status.online = false;
        snprintf(s->status.last_error, sizeof(s->status.last_error), "%s", err);
        pthread_mutex_unlock(&s->lock);
        notify(s);
}

/* Waits until sync_enroll() gives a code or the thread is stopped. */
static void wait_for_code(struct sync *s)
{
        pthread_mutex_lock(&s->lock);
        while (!atomic_load(&s->stopping) && !s->new_code)
                pthread_cond_wait(&s->wake, &s->lock);
        pthread_mutex_unlock(&s->lock);
}

/* The collector refused the credential (401/403): say so, and send nothing more until
 * restarted: a revoked terminal retrying forever would only load the collector. */
static void refused(struct sync *s, const char *err)
{
        log_error("sync: %s; sending nothing more until restarted or given a new code", err);
        pthread_mutex_lock(&s->lock);
        s->status.unauthorized = true;
        s->status.online = false;
        snprintf(s->status.last_error, sizeof(s->status.last_error), "%s", err);
        pthread_mutex_unlock(&s->lock);
        notify(s);
        wait_for_code(s);
}

/* Takes a code given by sync_enroll() and enrolls with it at once. Only a credential the
 * collector has just issued replaces the one in effect, so a mistyped code leaves a working
 * terminal working; the outcome goes to the status either way. 1 when a new credential is in
 * effect, 0 when no code waited, -1 when the code failed. */
static int take_new_code(struct sync *s)
{
        char err[sizeof(s->status.last_error)] = "", *code;
        int r;

        pthread_mutex_lock(&s->lock);
        code = s->new_code;
        s->new_code = NULL;
        pthread_mutex_unlock(&s->lock);
        if (!code)
                return 0;
        if (s->enroll_code)
                sodium_memzero(s->enroll_code, strlen(s->enroll_code));
        free(s->enroll_code);
        s->enroll_code = code;
        s->opts.enroll_code = code;
        log_info("sync: enrolling with a code typed on the terminal");
        r = enroll(&s->link, err, sizeof(err));
        pthread_mutex_lock(&s->lock);
        if (r >= 0) {
                s->status.unauthorized = false;
                s->status.enrolled = true;
                s->status.last_error[0] = 0;
        } else
                snprintf(s->status.last_error, sizeof(s->status.last_error), "%s", err);
        snprintf(s->status.enroll_error, sizeof(s->status.enroll_error), "%s", r >= 0 ? "" : err);
        s->status.enroll_seq++;
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                log_error("sync: %s", err);
        notify(s);
        return r >= 0 ? 1 : -1;
}

/* Gets a credential in effect. 0, or the delay before trying again. */
static int credential_step(struct sync *s, struct pace *p, int64_t *ret_delay)
{
        char err[sizeof(s->status.last_error)] = "";
        bool was = s->link.terminal_id[0] != 0;
        int r;

        r = ensure_credential(&s->link, err, sizeof(err));
        if (r >= 0) {
                if (!was) {
                        pthread_mutex_lock(&s->lock);
                        s->status.enrolled = true;
                        pthread_mutex_unlock(&s->lock);
                        notify(s);
                }
                return 0;
        }
        if (r == -ECANCELED && atomic_load(&s->stopping))
                return r;
        publish_error(s, err);
        log_once(p->logged, sizeof(p->logged), "", err);
        if (r == -ENOKEY)
                *ret_delay = POLL_MS; /* nothing to ask the collector: look at the outbox again */
        else if (r == -EKEYREJECTED)
                *ret_delay = slow(s);
        else
                *ret_delay = backoff(s, p);
        return r;
}

/* Pulls the roster when due. -EACCES when the collector refused the credential. */
static int pull_step(struct sync *s, struct pace *p)
{
        char err[sizeof(s->status.last_error)] = "";
        int r;

        if (mono_ms() < p->pull_due_ms)
                return 0;
        r = pull(&s->link, err, sizeof(err));
        if (r == -EACCES || (r == -ECANCELED && atomic_load(&s->stopping))) {
                if (r == -EACCES)
                        refused(s, err);
                return r;
        }
        p->pull_due_ms = mono_ms() + PULL_MS;
        /* Answered, even with a roster we refused: wait for the next pull as usual. */
        p->pull_failed = r < 0 && r != -EBADMSG;
        if (r > 0) {
                pthread_mutex_lock(&s->lock);
                s->status.roster_version++;
                pthread_mutex_unlock(&s->lock);
                log_info("sync: a new roster from the collector");
                notify(s);
        }
        if (r < 0)
                log_once(p->pull_logged, sizeof(p->pull_logged), "pulling the roster: ", err);
        else
                p->pull_logged[0] = 0;
        return 0;
}

/* One upload round and what follows from it. Returns 1 to go on at once, 0 to wait
 * *ret_delay, or -EACCES / -ECANCELED to end the thread. */
static int upload_step(struct sync *s, struct pace *p, int64_t *ret_delay)
{
        char err[sizeof(s->status.last_error)] = "";
        struct link *l = &s->link;
        struct outbox_counts counts;
        bool counted, heartbeat, heard, was_failing = p->ceiling > 0;
        int r;

        /* Not heard from lately (or ever): an empty outbox still sends an empty batch, so that
         * `online` is true, or names the fault, without waiting for a vote. */
        heartbeat = p->heard_ms < 0 || mono_ms() - p->heard_ms >= POLL_MS;
        pthread_mutex_lock(&s->lock);
        scrub(l->report_error, sizeof(l->report_error), s->status.last_error);
        pthread_mutex_unlock(&s->lock);

        r = round_trip(l, p->batch, heartbeat, err, sizeof(err));
        if (r == -ECANCELED && atomic_load(&s->stopping))
                return r;
        if (r == -EACCES) {
                refused(s, err);
                return r;
        }
        heard = r > 0 || (r == 0 && heartbeat);
        if (heard)
                p->heard_ms = mono_ms();
        counted = l->ob && outbox_counts(l->ob, &counts) >= 0;

        pthread_mutex_lock(&s->lock);
        if (counted) {
                s->status.pending = counts.pending;
                s->status.rejected = counts.rejected;
                s->status.events_pending = counts.events_pending;
        }
        s->status.clock_known = l->clock_known;
        s->status.clock_offset_ms = l->clock_offset_ms;
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
        notify(s);

        if (r < 0)
                log_once(p->logged, sizeof(p->logged), "", err);
        else if (heard && p->logged[0]) {
                log_info("sync: the collector answers again");
                p->logged[0] = 0;
        }
        if (r > 0)
                log_debug("sync: %d votes and events acknowledged", r);
        else if (heard)
                log_debug("sync: the collector answered an empty batch");

        if (r == -EMSGSIZE && p->batch > 1) {
                p->batch = (p->batch + 1) / 2; /* 413: smaller batches, at once */
                log_info("sync: batches cut to %zu votes", p->batch);
                return 1;
        }
        if (r < 0) {
                *ret_delay = backoff(s, p);
                return 0;
        }
        p->ceiling = 0;
        if (r > 0 && (counted ? counts.pending + counts.events_pending > 0 : (size_t)r >= p->batch))
                return 1; /* drain fast */
        /* An upload that reached the collector, or the first answer after an outage or a
         * failed pull: what the terminal may do could have changed meanwhile. */
        if (heard && (r > 0 || was_failing || p->pull_failed))
                p->pull_due_ms = 0;
        /* Look at the outbox again, and greet the collector, when it is due. */
        *ret_delay = p->heard_ms < 0 ? POLL_MS : p->heard_ms + POLL_MS - mono_ms();
        if (p->pull_due_ms - mono_ms() < *ret_delay)
                *ret_delay = p->pull_due_ms - mono_ms();
        if (*ret_delay < 0)
                *ret_delay = 0;
        return 0;
}

static void *run(void *userdata)
{
        struct sync *s = userdata;
        struct pace p = {.batch = s->opts.batch_max, .heard_ms = -1, .pull_due_ms = 0};

        while (!atomic_load(&s->stopping)) {
                int64_t delay = 0;
                int r;

                pthread_mutex_lock(&s->lock);
                s->kicked = false;
                pthread_mutex_unlock(&s->lock);

                /* without a credential, a failed code is not tried again at once (each try
                 * counts against the collector's limit on wrong codes), only after a while or
                 * when another code is typed; a working credential just goes on */
                if (take_new_code(s) < 0 && !s->link.terminal_id[0]) {
                        wait_for(s, slow(s));
                        continue;
                }
                r = credential_step(s, &p, &delay);
                if (r == -ECANCELED)
                        break;
                if (r < 0) {
                        wait_for(s, delay);
                        continue;
                }
                r = pull_step(s, &p);
                if (r >= 0)
                        r = upload_step(s, &p, &delay);
                if (r < 0) {
                        /* refused: only a new code helps; refused() waited for one (or the
                         * stop), and a code that fails waits for the next */
                        while (!atomic_load(&s->stopping) && take_new_code(s) <= 0)
                                wait_for_code(s);
                        continue;
                }
                if (r == 0)
                        wait_for(s, delay);
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
        if (s->enroll_code)
                sodium_memzero(s->enroll_code, strlen(s->enroll_code));
        free(s->enroll_code);
        if (s->new_code)
                sodium_memzero(s->new_code, strlen(s->new_code));
        free(s->new_code);
        free(s->version);
        free(s->db_path);
        free(s);
}

/* strdup() that takes NULL as "". */
static char *dup_or_empty(const char *s)
{
        return strdup(s ? s : "");
}

int sync_start(const struct sync_options *opts, void (*notify_fn)(void *), void *userdata,
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
        s->url = dup_or_empty(opts->url);
        s->ca_file = dup_or_empty(opts->ca_file);
        s->terminal_id = dup_or_empty(opts->terminal_id);
        s->secret = dup_or_empty(opts->secret);
        s->enroll_code = dup_or_empty(opts->enroll_code);
        s->version = dup_or_empty(opts->version);
        s->db_path = dup_or_empty(opts->db_path);
        if (!s->url || !s->ca_file || !s->terminal_id || !s->secret || !s->enroll_code ||
            !s->version || !s->db_path) {
                r = -ENOMEM;
                goto fail;
        }
        s->opts.url = s->url;
        s->opts.ca_file = s->ca_file;
        s->opts.terminal_id = s->terminal_id;
        s->opts.secret = s->secret;
        s->opts.enroll_code = s->enroll_code;
        s->opts.version = s->version;
        s->opts.db_path = s->db_path;
        s->notify = notify_fn;
        s->userdata = userdata;
        atomic_init(&s->stopping, false);
        r = link_init(&s->link, &s->opts, &s->stopping, err, sizeof(err));
        if (r < 0) {
                log_error("sync: %s", err);
                goto fail;
        }
        s->status.enrolled = s->link.terminal_id[0] != 0;

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

int sync_enroll(struct sync *s, const char *code)
{
        char *copy;

        if (!s || empty(code) || !printable_token(code) || strlen(code) >= ENROLL_CODE_MAX)
                return -EINVAL;
        copy = strdup(code);
        if (!copy)
                return -ENOMEM;
        pthread_mutex_lock(&s->lock);
        if (s->new_code) {
                sodium_memzero(s->new_code, strlen(s->new_code));
                free(s->new_code);
        }
        s->new_code = copy;
        s->kicked = true;
        pthread_cond_broadcast(&s->wake);
        pthread_mutex_unlock(&s->lock);
        return 0;
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
