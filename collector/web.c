/* SPDX-License-Identifier: MIT */
/* Routing, the page frame, and the vote pages behind printed and on-screen QR codes; the
 * terminal API is api.c, the results reportweb.c, administration admin.c. Everything printed
 * into a page goes through buf_add_html(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "form.h"
#include "log.h"
#include "period.h"
#include "qrtoken.h"
#include "web.h"
#include "webpage.h"

#define TOKEN_MAX 64

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font-family:system-ui,'DejaVu Sans',sans-serif;background:#f5f5f0;"
    "color:#1a1a1a;line-height:1.4}"
    "main{max-width:30rem;margin:0 auto;padding:1rem}"
    "main.wide{max-width:60rem}"
    "h1{font-size:1.35rem;margin:.2rem 0}h2{font-size:1.15rem}"
    ".pos,.unit{margin:.1rem 0;color:#333}"
    ".prompt{margin:1.2rem 0 .6rem;font-weight:600}"
    ".faces{display:flex;gap:.5rem;justify-content:space-between}"
    ".faces input{position:absolute;opacity:0}"
    ".faces label{flex:1;display:flex;flex-direction:column;align-items:center;"
    "padding:.5rem .2rem;border:3px solid transparent;border-radius:1rem;background:#fff;"
    "cursor:pointer;font-weight:600}"
    ".faces svg{width:100%;max-width:4.5rem;height:auto}"
    "@media(max-width:22rem){.faces label{font-size:.8rem}}"
    ".faces input:checked+label{border-color:#0d47a1;background:#e3ecfa}"
    ".faces input:focus-visible+label{outline:3px solid #0d47a1}"
    "button,.btn{display:block;width:100%;margin-top:1rem;padding:.9rem;font-size:1.1rem;"
    "font-weight:600;color:#fff;background:#0d47a1;border:0;border-radius:.6rem}"
    ".err{color:#b71c1c;font-weight:600}"
    ".thanks{text-align:center;margin-top:3rem}.thanks svg{width:8rem;height:8rem}"
    "nav{margin-top:2rem;font-size:.9rem}a{color:#0d47a1}"
    "table{border-collapse:collapse;width:100%;background:#fff}"
    "th,td{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:right}"
    "th:first-child,td:first-child{text-align:left}"
    "td.d1{padding-left:1.5rem}td.d2{padding-left:3rem}td.d3{padding-left:4.5rem}"
    "#units td+td,#units th+th{text-align:right}"
    ".stack{display:flex;flex-direction:column;gap:.3rem}"
    "input,select,textarea{font-size:1rem;padding:.5rem;border:1px solid #767676;"
    "border-radius:.3rem;background:#fff;color:#1a1a1a;font-family:inherit}"
    ".bar{display:flex;justify-content:space-between;align-items:center;flex-wrap:wrap;"
    "gap:.5rem;padding-bottom:.5rem;border-bottom:1px solid #ccc}.bar nav{margin:0}"
    ".bar a{margin-right:1rem}.bar form{margin:0}"
    "button.link{display:inline;width:auto;margin:0;padding:0;background:none;color:#0d47a1;"
    "font-size:1rem;text-decoration:underline}"
    "button.small{display:inline-block;width:auto;margin:0;padding:.3rem .7rem;font-size:.9rem}"
    ".inline{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}"
    "tr.silent td.state{color:#b71c1c;font-weight:700}tr.revoked{color:#555}"
    ".ok{color:#1b5e20;font-weight:600}code.code{font-size:1.3rem;background:#fff;"
    "padding:.2rem .5rem;border:1px solid #ccc}"
    "td,th{text-align:left}";

const char *web_text(struct collector *c, enum vote_lang lang, const char *key)
{
        return i18n_get(c->text[lang], key);
}

enum vote_lang web_lang(const struct web_request *req)
{
        const char *l = req->arg(req->ctx, "lang");
        const char *al;

        if (l)
                return strcmp(l, "en") == 0 ? VOTE_LANG_EN : VOTE_LANG_UK;
        al = req->header(req->ctx, "Accept-Language");
        if (al && (strncmp(al, "en", 2) == 0))
                return VOTE_LANG_EN;
        return VOTE_LANG_UK;
}

int web_respond(struct web_response *resp, int status, const char *type, struct buf *b)
{
        resp->status = status;
        resp->content_type = type;
        resp->body = buf_take(b, &resp->body_len);
        if (!resp->body)
                return b->error ? b->error : -ENOMEM;
        return 0;
}

int web_respond_text(struct web_response *resp, int status, const char *type, const char *s)
{
        struct buf b;

        buf_init(&b, WEB_PAGE_MAX);
        buf_adds(&b, s);
        return web_respond(resp, status, type, &b);
}

/* Page builders append without checking: struct buf keeps the first failure, and web_respond()
 * reports it. */
void web_page_begin(struct buf *b, struct collector *c, enum vote_lang lang, const char *title,
                    bool wide)
{
        /* no printf here: every page starts so, and a vote page is served 10,000 times a
         * second (vsnprintf copies a long %s in small pieces, and buf_printf() runs it twice) */
        buf_adds(b, lang == VOTE_LANG_EN ? "<!doctype html><html lang=\"en\">"
                                         : "<!doctype html><html lang=\"uk\">");
        buf_adds(b, "<head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                    "<link rel=\"icon\" href=\"data:,\">"
                    "<title>");
        buf_add_html(b, title);
        buf_adds(b, "</title><style>");
        buf_add(b, css, sizeof(css) - 1);
        buf_adds(b, wide ? "</style></head><body><main class=\"wide\">"
                         : "</style></head><body><main>");
}

void web_page_end(struct buf *b)
{
        buf_adds(b, "</main></body></html>");
}

/* The artwork without an XML declaration, for inlining. */
static const char *svg_inline(struct collector *c, int level)
{
        const char *s = c->smiley_svg[level];
        const char *p = s ? strstr(s, "<svg") : NULL;

        return p ? p : "";
}

static bool token_valid(const char *t)
{
        size_t n = 0;

        for (; t[n]; n++) {
                char ch = t[n];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
                        return false;
        }
        return n >= 8 && n <= TOKEN_MAX;
}

int web_message_page(struct collector *c, enum vote_lang lang, int status, const char *key,
                     struct web_response *resp)
{
        struct buf b;

        buf_init(&b, WEB_PAGE_MAX);
        web_page_begin(&b, c, lang, web_text(c, lang, "web.title"), false);
        buf_adds(&b, "<p class=\"err\">");
        buf_add_html(&b, web_text(c, lang, key));
        buf_adds(&b, "</p>");
        web_page_end(&b);
        return web_respond(resp, status, "text/html; charset=utf-8", &b);
}

/* ---- integrity (regulation 3.2) ---- */

#define PHONE_COOKIE "otsinka_phone"
#define PHONE_COOKIE_LEN 43 /* base64url of 32 random bytes */
#define FORM_TOKEN_TTL_S (2 * 3600)

/* A keyed hash of s with the store's client key: addresses and cookies are kept only so. */
static void client_hash(struct collector *c, const char *s, uint8_t out[32])
{
        crypto_generichash(out, 32, (const unsigned char *)s, strlen(s), c->client_key,
                           sizeof(c->client_key));
}

/* The vote form's one-use token: "<expires>-<nonce>-<mac>", a keyed hash over the other two,
 * so that showing a page writes nothing (the page must be cheap); the POST checks it and
 * records its use, once. FT_LEN is its length: 10 digits, 16 and 32 hex digits, 2 dashes. */
#define FT_LEN (10 + 1 + 16 + 1 + 32)

static void form_token_mac(struct collector *c, const char *expires_nonce, size_t n,
                           char hex[static 33])
{
        uint8_t mac[16];

        crypto_generichash(mac, sizeof(mac), (const unsigned char *)expires_nonce, n, c->client_key,
                           sizeof(c->client_key));
        sodium_bin2hex(hex, 33, mac, sizeof(mac));
}

/* Makes a form token, and sets the phone's cookie when the phone has none yet, so that the
 * POST can tell one phone's second vote. */
static void form_token_make(struct collector *c, const struct web_request *req,
                            char ft[static FT_LEN + 1], struct web_response *resp)
{
        const char *cookies = req->header(req->ctx, "Cookie");
        char phone[PHONE_COOKIE_LEN + 8], nonce[17], mac[33];
        uint8_t raw[32];
        int n;

        randombytes_buf(raw, 8);
        sodium_bin2hex(nonce, sizeof(nonce), raw, 8);
        n = snprintf(ft, FT_LEN + 1, "%010lld-%s",
                     (long long)(web_now_ms() / 1000 + FORM_TOKEN_TTL_S), nonce);
        form_token_mac(c, ft, (size_t)n, mac);
        snprintf(ft + n, FT_LEN + 1 - (size_t)n, "-%s", mac);
        if (!cookies ||
            cookie_get(cookies, PHONE_COOKIE, phone, sizeof(phone)) != PHONE_COOKIE_LEN) {
                randombytes_buf(raw, sizeof(raw));
                sodium_bin2base64(phone, sizeof(phone), raw, sizeof(raw),
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                snprintf(resp->set_cookie, sizeof(resp->set_cookie),
                         PHONE_COOKIE "=%s; Path=/; Max-Age=31536000; HttpOnly; Secure; "
                                      "SameSite=Lax",
                         phone);
        }
}

/* Checks a form token's mac and expiry: its expiry, or -EINVAL for a forged, malformed or
 * expired one. */
static int64_t form_token_check(struct collector *c, const char *ft, int64_t now_s)
{
        char mac[33];
        int64_t expires = 0;

        if (strlen(ft) != FT_LEN || ft[10] != '-' || ft[27] != '-')
                return -EINVAL;
        for (int i = 0; i < 10; i++) {
                if (ft[i] < '0' || ft[i] > '9')
                        return -EINVAL;
                expires = expires * 10 + (ft[i] - '0');
        }
        form_token_mac(c, ft, 27, mac);
        if (sodium_memcmp(mac, ft + 28, 32) != 0 || expires < now_s)
                return -EINVAL;
        return expires;
}

/* Minutes of the day in the city's zone. */
static int local_minute(int64_t t)
{
        struct tm tm;
        time_t tt = (time_t)t;

        localtime_r(&tt, &tm);
        return tm.tm_hour * 60 + tm.tm_min;
}

/* Why a vote from a page looks suspect, or "" (regulation 3.2: flagged, never dropped). */
static const char *vote_flag(struct collector *c, const struct store_web_recent *recent,
                             bool had_cookie, int64_t now_s)
{
        const struct collector_config *cfg = c->cfg;
        int m = local_minute(now_s);

        if (!had_cookie)
                return "no_cookie";
        if (recent->client_votes >= cfg->address_votes_per_hour)
                return "many_from_address";
        if (recent->employee_votes >= cfg->page_votes_per_hour)
                return "burst";
        if (c->work_from >= 0 && (m < c->work_from || m >= c->work_to))
                return "outside_hours";
        return "";
}

struct vote_decision {
        struct collector *c;
        bool had_cookie;
        int64_t now_s;
};

/* Called by the store with what it counted, inside the vote's transaction: one vote per
 * phone per employee per interval (refused, said plainly, not stored), else the flag. */
static int vote_decide(void *userdata, const struct store_web_recent *recent,
                       struct store_web_vote *v)
{
        const struct vote_decision *d = userdata;

        if (d->had_cookie && recent->phone_voted)
                return -EDQUOT;
        snprintf(v->flag, sizeof(v->flag), "%s",
                 vote_flag(d->c, recent, d->had_cookie, d->now_s));
        return 0;
}

/* base is the page's own path ("/r/<token>" or "/s/..."): made of checked characters only. */
static int vote_page(struct collector *c, const struct web_request *req, enum vote_lang lang,
                     const char *base, const struct store_employee *e, bool choose_first,
                     struct web_response *resp)
{
        char ft[FT_LEN + 1];
        struct buf b;

        form_token_make(c, req, ft, resp);

        buf_init(&b, WEB_PAGE_MAX);
        web_page_begin(&b, c, lang, web_text(c, lang, "web.title"), false);
        buf_adds(&b, "<h1>");
        buf_add_html(&b, e->full_name);
        buf_adds(&b, "</h1><p class=\"pos\">");
        buf_add_html(&b, e->position);
        buf_adds(&b, "</p><p class=\"unit\">");
        buf_add_html(&b, lang == VOTE_LANG_EN && e->unit_en[0] ? e->unit_en : e->unit);
        buf_adds(&b, "</p><form method=\"post\" action=\"");
        buf_add_html(&b, base);
        buf_adds(&b, lang == VOTE_LANG_EN ? "?lang=en" : "");
        buf_adds(&b, "\"><input type=\"hidden\" name=\"ft\" value=\"");
        buf_adds(&b, ft); /* digits, hex and dashes */
        buf_adds(&b, "\"><p class=\"prompt\">");
        buf_add_html(&b, web_text(c, lang, "web.rate_prompt"));
        if (choose_first) {
                buf_adds(&b, "</p><p class=\"err\">");
                buf_add_html(&b, web_text(c, lang, "web.choose_first"));
        }
        buf_adds(&b, "</p><div class=\"faces\">");
        for (int l = 1; l <= 3; l++) {
                static const char *const radio[] = {
                    "",
                    "<input type=\"radio\" name=\"level\" value=\"1\" id=\"l1\"><label for=\"l1\">",
                    "<input type=\"radio\" name=\"level\" value=\"2\" id=\"l2\"><label for=\"l2\">",
                    "<input type=\"radio\" name=\"level\" value=\"3\" id=\"l3\"><label for=\"l3\">",
                };

                buf_adds(&b, radio[l]);
                buf_adds(&b, svg_inline(c, l));
                buf_add_html(&b, vote_level_label(l, lang));
                buf_adds(&b, "</label>");
        }
        buf_adds(&b, "</div><button type=\"submit\">");
        buf_add_html(&b, web_text(c, lang, "web.send"));
        buf_adds(&b, "</button></form><nav><a href=\"");
        buf_add_html(&b, base);
        buf_adds(&b, lang == VOTE_LANG_EN ? "?lang=uk\">" : "?lang=en\">");
        buf_add_html(&b, web_text(c, lang, "web.lang_other"));
        buf_adds(&b, "</a></nav>");
        web_page_end(&b);
        return web_respond(resp, choose_first ? 400 : 200, "text/html; charset=utf-8", &b);
}

static int thanks_page(struct collector *c, enum vote_lang lang, struct web_response *resp)
{
        struct buf b;

        buf_init(&b, WEB_PAGE_MAX);
        web_page_begin(&b, c, lang, web_text(c, lang, "web.thanks"), false);
        buf_adds(&b, "<div class=\"thanks\">");
        buf_adds(&b, svg_inline(c, 3));
        buf_adds(&b, "<h1>");
        buf_add_html(&b, web_text(c, lang, "web.thanks"));
        buf_adds(&b, "</h1><p>");
        buf_add_html(&b, web_text(c, lang, "web.thanks_hint"));
        buf_adds(&b, "</p></div>");
        web_page_end(&b);
        return web_respond(resp, 200, "text/html; charset=utf-8", &b);
}

int64_t web_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* GET shows the vote page, POST stores the vote and redirects to base/thanks (so that a
 * reload does not vote again), GET base/thanks thanks. e is who the page is for. */
static int vote_flow(struct collector *c, const struct web_request *req, enum vote_lang lang,
                     const char *base, const struct store_employee *e, bool thanks,
                     struct web_response *resp)
{
        char level_s[8], ft[FT_LEN + 8], phone[PHONE_COOKIE_LEN + 8];
        int64_t expires;
        struct store_web_vote v = {0};
        int64_t now = web_now_ms();
        struct vote_decision d = {.c = c, .now_s = now / 1000};
        struct store_web_submit q = {.decide = vote_decide, .userdata = &d};
        const char *cookies;
        int r, level;

        if (thanks)
                return strcmp(req->method, "POST") != 0
                           ? thanks_page(c, lang, resp)
                           : web_message_page(c, lang, 405, "web.error", resp);
        if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
                return vote_page(c, req, lang, base, e, false, resp);
        if (strcmp(req->method, "POST") != 0)
                return web_message_page(c, lang, 405, "web.error", resp);

        r = req->body ? form_get(req->body, req->body_len, "level", level_s, sizeof(level_s))
                      : -ENOENT;
        level = r == 1 ? level_s[0] - '0' : 0;
        if (!vote_level_valid(level))
                return vote_page(c, req, lang, base, e, true, resp);

        /* the form's one-use token: a form sent twice (a double tap, the back button) is
         * thanked again but counted once */
        r = req->body ? form_get(req->body, req->body_len, "ft", ft, sizeof(ft)) : -ENOENT;
        expires = r == FT_LEN ? form_token_check(c, ft, now / 1000) : -EINVAL;
        if (expires < 0)
                return web_message_page(c, lang, 400, "web.form_expired", resp);
        client_hash(c, ft, q.form_hash);
        q.form_expires_s = expires;
        q.now_s = now / 1000;

        cookies = req->header(req->ctx, "Cookie");
        d.had_cookie =
            cookies && cookie_get(cookies, PHONE_COOKIE, phone, sizeof(phone)) == PHONE_COOKIE_LEN;
        client_hash(c, d.had_cookie ? phone : "", v.phone_hash);
        client_hash(c, req->client_addr, v.client_hash);
        /* the phone's window is the interval before now, its first millisecond left out: with
         * vote-interval 0 no earlier vote falls in it, not even one of this same millisecond */
        q.phone_since_ms = now - c->cfg->vote_interval_s * 1000 + 1;
        q.since_ms = now - 3600 * 1000;
        q.client_cap = c->cfg->address_votes_per_hour;
        q.employee_cap = c->cfg->page_votes_per_hour;

        v.level = level;
        v.cast_ms = now;
        vote_id_new(&v.id);
        r = c->store->ops->web_vote_submit(c->store, e, &v, &q);
        if (r == -EALREADY)
                goto thanks;
        if (r == -EDQUOT) {
                atomic_fetch_add(&c->metrics.page_refused, 1);
                return web_message_page(c, lang, 429, "web.already_voted", resp);
        }
        if (r < 0) /* nothing kept, the form not used (the store has logged why) */
                return web_message_page(c, lang, 503, "web.error", resp);
        atomic_fetch_add(v.flag[0] ? &c->metrics.page_flagged : &c->metrics.page_votes, 1);
        log_info("Vote %s stored from a vote page (%s): level %d for employee %s%s%s", v.id.s,
                 e->channel, level, e->personal_no, v.flag[0] ? "; flagged: " : "", v.flag);
thanks:
        snprintf(resp->location, sizeof(resp->location), "%s/thanks%s", base,
                 lang == VOTE_LANG_EN ? "?lang=en" : "");
        return web_respond_text(resp, 303, "text/plain; charset=utf-8", "See Other\n");
}

/* Splits "<rest>/thanks" off a path; true when it was there. */
static bool strip_thanks(char *path)
{
        size_t n = strlen(path), k = strlen("/thanks");

        if (n > k && strcmp(path + n - k, "/thanks") == 0) {
                path[n - k] = 0;
                return true;
        }
        return false;
}

/* /r/<token>: a printed QR code (regulation 2.4). */
static int handle_vote_page(struct collector *c, const struct web_request *req, const char *rest,
                            struct web_response *resp)
{
        enum vote_lang lang = web_lang(req);
        char token[TOKEN_MAX + 16], base[TOKEN_MAX + 24];
        struct store_employee e;
        bool thanks;
        int r;

        if (strlen(rest) >= sizeof(token))
                return web_message_page(c, lang, 404, "web.token_unknown", resp);
        memcpy(token, rest, strlen(rest) + 1);
        thanks = strip_thanks(token);
        if (!token_valid(token))
                return web_message_page(c, lang, 404, "web.token_unknown", resp);
        r = c->store->ops->token_lookup(c->store, token, &e);
        if (r == -ENOENT)
                return web_message_page(c, lang, 404, "web.token_unknown", resp);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        if (e.revoked)
                return web_message_page(c, lang, 410, "web.token_revoked", resp);
        snprintf(base, sizeof(base), "/r/%s", token);
        return vote_flow(c, req, lang, base, &e, thanks, resp);
}

/* A page loaded while its code was valid may be sent a little after the code expired. */
#define SCREEN_POST_GRACE_S 300

/* /s/<terminal>/<employee>/<expires>/<mac>: the terminal's expiring on-screen QR code. */
static int handle_screen_page(struct collector *c, const struct web_request *req, const char *rest,
                              struct web_response *resp)
{
        enum vote_lang lang = web_lang(req);
        char path[256], base[sizeof(path) + 4];
        uint8_t key[QRTOKEN_KEY_LEN];
        struct store_employee e;
        struct qrtoken t;
        int64_t now = web_now_ms() / 1000;
        bool thanks;
        int r;

        if (strlen(rest) >= sizeof(path))
                return web_message_page(c, lang, 404, "web.token_unknown", resp);
        memcpy(path, rest, strlen(rest) + 1);
        thanks = strip_thanks(path);
        if (qrtoken_parse(path, &t) < 0)
                return web_message_page(c, lang, 404, "web.token_unknown", resp);
        r = c->store->ops->screen_lookup(c->store, t.terminal, t.employee, key, &e);
        if (r == -ENOENT)
                return web_message_page(c, lang, 404, "web.token_unknown", resp);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        /* the thank-you needs a genuine code, not a live one; a vote a live one, or one that
         * was live when the page was loaded */
        r = qrtoken_verify(key, &t,
                           thanks                             ? 0
                           : strcmp(req->method, "POST") == 0 ? now - SCREEN_POST_GRACE_S
                                                              : now,
                           thanks ? INT64_MAX / 2 : 86400 + 600);
        sodium_memzero(key, sizeof(key));
        if (r == -ETIME)
                return web_message_page(c, lang, 410, "web.token_expired", resp);
        if (r < 0)
                return web_message_page(c, lang, 404, "web.token_unknown", resp);
        if (e.revoked)
                return web_message_page(c, lang, 410, "web.token_revoked", resp);
        snprintf(base, sizeof(base), "/s/%s", path);
        return vote_flow(c, req, lang, base, &e, thanks, resp);
}

int web_handle(struct collector *c, const struct web_request *req, struct web_response *resp)
{
        const char *path = req->path;
        int r;

        memset(resp, 0, sizeof(*resp));
        r = admin_handle(c, req, resp);
        if (r == -ENOENT)
                r = api_handle(c, req, resp);
        if (r == -ENOENT)
                r = reports_handle(c, req, resp);
        if (r != -ENOENT)
                ;
        else if (strcmp(path, "/healthz") == 0)
                r = web_respond_text(resp, 200, "text/plain; charset=utf-8", "ok\n");
        else if (strncmp(path, "/r/", 3) == 0)
                r = handle_vote_page(c, req, path + 3, resp);
        else if (strncmp(path, QRTOKEN_PREFIX, strlen(QRTOKEN_PREFIX)) == 0)
                r = handle_screen_page(c, req, path + strlen(QRTOKEN_PREFIX), resp);
        else
                r = web_message_page(c, web_lang(req), 404, "web.not_found", resp);
        if (r < 0 && !resp->body)
                log_error("Cannot answer %s %s: %s", req->method, path, strerror(-r));
        return r;
}

void web_response_finish(struct web_response *resp)
{
        free(resp->body);
        resp->body = NULL;
}
