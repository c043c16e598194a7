/* SPDX-License-Identifier: MIT */
/* Signing in and the administration pages. Sessions live in the store by a hash of their
 * token; the cookie is HttpOnly, Secure and SameSite=Strict, and every form carries a CSRF
 * token checked in constant time: the session's own, or for the sign-in form one bound to a
 * pre-session cookie with a key made at start. Logins are rate-limited per address and per
 * login, and every sign-in, sign-out and change goes to the audit log. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "form.h"
#include "log.h"
#include "pwhash.h"
#include "ratelimit.h"
#include "store.h"
#include "admin.h"
#include "webpage.h"

#define SESSION_COOKIE "otsinka_session"
#define PRE_COOKIE "otsinka_pre"
#define TOKEN_BYTES 32
#define TOKEN_LEN 43  /* base64url of 32 bytes, unpadded */
#define TOKEN_TEXT 48 /* room for it, the NUL, and a little more to spot a longer one */
#define SESSION_MAX_S (12 * 3600)
#define FIELD_MAX 256

static void token_hash(const char *token, uint8_t out[32])
{
        crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

static void random_token(char out[TOKEN_TEXT])
{
        uint8_t b[TOKEN_BYTES];

        randombytes_buf(b, sizeof(b));
        sodium_bin2base64(out, TOKEN_TEXT, b, sizeof(b), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(b, sizeof(b));
}

/* The sign-in form's CSRF token: a keyed hash of the pre-session cookie. */
static void login_csrf(struct collector *c, const char *pre, char out[WEB_CSRF_TEXT])
{
        uint8_t mac[16];

        crypto_generichash(mac, sizeof(mac), (const unsigned char *)pre, strlen(pre), c->login_key,
                           sizeof(c->login_key));
        sodium_bin2hex(out, WEB_CSRF_TEXT, mac, sizeof(mac));
}

static bool same(const char *a, const char *b)
{
        size_t n = strlen(a);

        return n > 0 && n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

static int cookie(const struct web_request *req, const char *name, char *buf, size_t n)
{
        const char *h = req->header(req->ctx, "Cookie");

        return h ? cookie_get(h, name, buf, n) : -ENOENT;
}

int admin_field(const struct web_request *req, const char *name, char *buf, size_t n)
{
        if (!req->body)
                return -ENOENT;
        return form_get(req->body, req->body_len, name, buf, n);
}

int web_session_find(struct collector *c, const struct web_request *req, struct web_session *ret)
{
        char token[TOKEN_TEXT];
        int r = cookie(req, SESSION_COOKIE, token, sizeof(token));

        if (r <= 0)
                return -ENOENT;
        token_hash(token, ret->hash);
        sodium_memzero(token, sizeof(token));
        return c->store->ops->session_get(c->store, ret->hash, web_now_ms() / 1000,
                                          c->cfg->session_idle_s, &ret->user, ret->csrf,
                                          sizeof(ret->csrf));
}

void admin_audit(struct collector *c, const struct web_request *req, const char *login,
                 const char *action, const char *detail)
{
        int r = c->store->ops->audit_add(c->store, login, action, detail, req->client_addr,
                                         web_now_ms() / 1000);

        if (r < 0)
                log_error("Cannot write the audit log (%s %s): %s", login, action, strerror(-r));
}

void admin_lang_field(struct buf *b, enum vote_lang lang)
{
        if (lang == VOTE_LANG_EN)
                buf_adds(b, "<input type=\"hidden\" name=\"lang\" value=\"en\">");
}

void admin_form_begin(struct buf *b, const struct web_session *s, enum vote_lang lang,
                      const char *action, const char *attrs)
{
        buf_printf(b, "<form method=\"post\" action=\"%s\"%s%s>", action, attrs[0] ? " " : "",
                   attrs);
        admin_hidden(b, "csrf", s->csrf);
        admin_lang_field(b, lang);
}

void admin_hidden(struct buf *b, const char *name, const char *value)
{
        buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
        buf_add_html(b, value);
        buf_adds(b, "\">");
}

const char *admin_lang_query(enum vote_lang lang)
{
        return lang == VOTE_LANG_EN ? "?lang=en" : "";
}

int admin_redirect(struct web_response *resp, const char *path, enum vote_lang lang)
{
        snprintf(resp->location, sizeof(resp->location), "%s%s", path, admin_lang_query(lang));
        return web_respond_text(resp, 303, "text/plain; charset=utf-8", "See Other\n");
}

static int login_page(struct collector *c, const struct web_request *req, enum vote_lang lang,
                      int status, const char *error_key, struct web_response *resp)
{
        char pre[TOKEN_TEXT], csrf[WEB_CSRF_TEXT];
        struct buf b;

        /* keep the visitor's pre-session cookie, so that a form open in another tab works */
        if (cookie(req, PRE_COOKIE, pre, sizeof(pre)) != TOKEN_LEN) {
                random_token(pre);
                snprintf(resp->set_cookie, sizeof(resp->set_cookie),
                         PRE_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Strict", pre);
        }
        login_csrf(c, pre, csrf);
        buf_init(&b, WEB_PAGE_MAX);
        web_page_begin(&b, c, lang, web_text(c, lang, "admin.login"), false);
        buf_adds(&b, "<h1>");
        buf_add_html(&b, web_text(c, lang, "admin.title"));
        buf_adds(&b, "</h1>");
        if (error_key) {
                buf_adds(&b, "<p class=\"err\" role=\"alert\">");
                buf_add_html(&b, web_text(c, lang, error_key));
                buf_adds(&b, "</p>");
        }
        buf_printf(&b,
                   "<form method=\"post\" action=\"/login\" class=\"stack\">"
                   "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
                   csrf);
        admin_lang_field(&b, lang);
        buf_adds(&b, "<label for=\"login\">");
        buf_add_html(&b, web_text(c, lang, "admin.login_name"));
        buf_adds(&b, "</label><input id=\"login\" name=\"login\" autocomplete=\"username\" "
                     "required maxlength=\"63\"><label for=\"password\">");
        buf_add_html(&b, web_text(c, lang, "admin.password"));
        buf_adds(&b, "</label><input id=\"password\" name=\"password\" type=\"password\" "
                     "autocomplete=\"current-password\" required maxlength=\"255\">"
                     "<button type=\"submit\">");
        buf_add_html(&b, web_text(c, lang, "admin.sign_in"));
        buf_printf(&b, "</button></form><nav><a href=\"/login?lang=%s\">",
                   lang == VOTE_LANG_EN ? "uk" : "en");
        buf_add_html(&b, web_text(c, lang, "web.lang_other"));
        buf_adds(&b, "</a></nav>");
        web_page_end(&b);
        return web_respond(resp, status, "text/html; charset=utf-8", &b);
}

/* A hash to check against when the login is unknown, so that the answer takes as long. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_make(void)
{
        /* at the cost of a real one, so that an unknown login takes as long as a known */
        if (pwhash_make(dummy_hash, "x", 1) < 0)
                dummy_hash[0] = 0;
}

static bool password_ok(const struct store_user *u, bool known, const char *password)
{
        int r;

        if (!known) {
                pthread_once(&dummy_once, dummy_make);
                if (dummy_hash[0])
                        r = crypto_pwhash_str_verify(dummy_hash, password, strlen(password));
                return false;
        }
        r = crypto_pwhash_str_verify(u->password_hash, password, strlen(password));
        return r == 0;
}

static int handle_login(struct collector *c, const struct web_request *req, enum vote_lang lang,
                        struct web_response *resp)
{
        char pre[TOKEN_TEXT], want[WEB_CSRF_TEXT], csrf[WEB_CSRF_TEXT + 8], login[64],
            password[FIELD_MAX];
        char limit_key[80], token[TOKEN_TEXT], session_csrf[WEB_CSRF_TEXT];
        uint8_t hash[32], raw[16];
        struct store_user u;
        int64_t now = web_now_ms();
        bool known;
        int r;

        if (strcmp(req->method, "POST") != 0)
                return login_page(c, req, lang, 200, NULL, resp);
        if (cookie(req, PRE_COOKIE, pre, sizeof(pre)) != TOKEN_LEN ||
            admin_field(req, "csrf", csrf, sizeof(csrf)) <= 0)
                return login_page(c, req, lang, 400, "admin.bad_form", resp);
        login_csrf(c, pre, want);
        if (!same(csrf, want))
                return login_page(c, req, lang, 400, "admin.bad_form", resp);
        if (admin_field(req, "login", login, sizeof(login)) <= 0 ||
            admin_field(req, "password", password, sizeof(password)) <= 0)
                return login_page(c, req, lang, 400, "admin.bad_login", resp);
        snprintf(limit_key, sizeof(limit_key), "login:%s", login);
        if (ratelimit_blocked(c->login_limit, req->client_addr, now) ||
            ratelimit_blocked(c->login_limit, limit_key, now)) {
                sodium_memzero(password, sizeof(password));
                return login_page(c, req, lang, 429, "admin.too_many", resp);
        }
        r = c->store->ops->user_lookup(c->store, login, &u);
        if (r < 0 && r != -ENOENT) {
                sodium_memzero(password, sizeof(password));
                return web_message_page(c, lang, 503, "web.error", resp);
        }
        known = r == 0;
        if (!password_ok(&u, known, password)) {
                sodium_memzero(password, sizeof(password));
                ratelimit_fail(c->login_limit, req->client_addr, now);
                ratelimit_fail(c->login_limit, limit_key, now);
                admin_audit(c, req, login, "login_failed", "");
                atomic_fetch_add(&c->metrics.logins_failed, 1);
                return login_page(c, req, lang, 401, "admin.bad_login", resp);
        }
        sodium_memzero(password, sizeof(password));

        random_token(token);
        token_hash(token, hash);
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2hex(session_csrf, sizeof(session_csrf), raw, sizeof(raw));
        r = c->store->ops->session_add(c->store, hash, u.id, session_csrf, now / 1000,
                                       now / 1000 + SESSION_MAX_S);
        if (r < 0) {
                sodium_memzero(token, sizeof(token));
                return web_message_page(c, lang, 503, "web.error", resp);
        }
        snprintf(resp->set_cookie, sizeof(resp->set_cookie),
                 SESSION_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Strict", token);
        sodium_memzero(token, sizeof(token));
        admin_audit(c, req, u.login, "login", u.role);
        log_info("%s signed in from %s", u.login, req->client_addr);
        return admin_redirect(resp, "/admin", lang);
}

/* The session's CSRF token must come back in the form. */
bool admin_csrf_ok(const struct web_request *req, const struct web_session *s)
{
        char csrf[WEB_CSRF_TEXT + 8];

        return admin_field(req, "csrf", csrf, sizeof(csrf)) > 0 && same(csrf, s->csrf);
}

static int handle_logout(struct collector *c, const struct web_request *req, enum vote_lang lang,
                         const struct web_session *s, struct web_response *resp)
{
        if (strcmp(req->method, "POST") != 0 || !admin_csrf_ok(req, s))
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        c->store->ops->session_delete(c->store, s->hash);
        admin_audit(c, req, s->user.login, "logout", "");
        snprintf(resp->set_cookie, sizeof(resp->set_cookie),
                 SESSION_COOKIE "=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
        return admin_redirect(resp, "/login", lang);
}

/* The top of every administration page: who is signed in, the sections, sign-out. */
/* The sections of the signed-in pages, and who may open each: 'a' administrators, 'o' also
 * officials, '*' everyone signed in. */
static const struct {
        const char *path, *key;
        char who;
} sections[] = {
    {"/admin/terminals", "admin.terminals", 'a'},
    {"/admin/flagged", "admin.flagged", 'o'},
    {"/admin/qr", "admin.qr", 'o'},
    {"/admin/org", "admin.org", 'o'},
    {"/admin/users", "admin.users", 'a'},
    {"/admin/audit", "admin.audit", 'a'},
    {"/admin/tokens", "admin.tokens", 'a'},
    {"/reports", "admin.reports", '*'},
    {"/dashboard", "report.dashboard", '*'},
};

void admin_page_begin(struct buf *b, struct collector *c, enum vote_lang lang,
                      const struct web_session *s, const char *title_key)
{
        bool admin = strcmp(s->user.role, "admin") == 0;
        bool official = admin_scope(&s->user) >= 0;

        web_page_begin(b, c, lang, web_text(c, lang, title_key), true);
        buf_adds(b, "<header class=\"bar\"><nav>");
        /* only the sections this user may open */
        for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
                if ((sections[i].who == 'a' && !admin) || (sections[i].who == 'o' && !official))
                        continue;
                buf_printf(b, "<a href=\"%s%s\">", sections[i].path, admin_lang_query(lang));
                buf_add_html(b, web_text(c, lang, sections[i].key));
                buf_adds(b, "</a> ");
        }
        buf_adds(b, "</nav><form method=\"post\" action=\"/logout\"><span>");
        buf_add_html(b, web_text(c, lang, "admin.signed_in_as"));
        buf_adds(b, " <b>");
        buf_add_html(b, s->user.login);
        buf_printf(b, "</b> </span><input type=\"hidden\" name=\"csrf\" value=\"%s\">", s->csrf);
        admin_lang_field(b, lang);
        buf_adds(b, "<button type=\"submit\" class=\"link\">");
        buf_add_html(b, web_text(c, lang, "admin.sign_out"));
        buf_adds(b, "</button></form></header><h1>");
        buf_add_html(b, web_text(c, lang, title_key));
        buf_adds(b, "</h1>");
}

void admin_format_time(int64_t t, char *buf, size_t n)
{
        struct tm tm;
        time_t tt = (time_t)t;

        localtime_r(&tt, &tm);
        strftime(buf, n, "%Y-%m-%d %H:%M", &tm);
}

static int terminals_page(struct collector *c, enum vote_lang lang, const struct web_session *s,
                          const char *made_code, const char *error_key, struct web_response *resp)
{
        struct store_terminal *t = NULL;
        size_t n = 0;
        int64_t now = web_now_ms() / 1000;
        struct buf b;
        int r;

        r = c->store->ops->terminals_list(c->store, &t, &n);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, "admin.terminals");
        if (made_code) {
                buf_adds(&b, "<p class=\"ok\" role=\"status\">");
                buf_add_html(&b, web_text(c, lang, "admin.enroll_made"));
                buf_adds(&b, " <code class=\"code\">");
                buf_add_html(&b, made_code);
                buf_adds(&b, "</code></p>");
        }
        if (error_key) {
                buf_adds(&b, "<p class=\"err\" role=\"alert\">");
                buf_add_html(&b, web_text(c, lang, error_key));
                buf_adds(&b, "</p>");
        }
        buf_adds(&b, "<table><thead><tr>");
        static const char *const heads[] = {
            "admin.terminal", "admin.workplace", "admin.state", "admin.last_seen",  "admin.version",
            "admin.queue",    "admin.rejected",  "admin.clock", "admin.last_error", NULL};
        for (const char *const *h = heads; *h; h++) {
                buf_adds(&b, "<th scope=\"col\">");
                buf_add_html(&b, **h ? web_text(c, lang, *h) : "");
                buf_adds(&b, "</th>");
        }
        buf_adds(&b, "<th></th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
                bool silent = !t[i].revoked && (t[i].last_seen == 0 ||
                                                now - t[i].last_seen > c->cfg->silent_after_s);
                const char *state = t[i].revoked ? "admin.revoked"
                                    : silent     ? "admin.silent"
                                                 : "admin.ok";
                char seen[32] = "";

                if (t[i].last_seen)
                        admin_format_time(t[i].last_seen, seen, sizeof(seen));
                buf_printf(&b, "<tr class=\"%s\"><td>", state + strlen("admin."));
                buf_add_html(&b, t[i].id);
                buf_adds(&b, "</td><td>");
                buf_add_html(&b, t[i].workplace);
                buf_adds(&b, " — ");
                buf_add_html(&b, t[i].workplace_name);
                buf_printf(&b, "</td><td class=\"state\">");
                buf_add_html(&b, web_text(c, lang, state));
                buf_adds(&b, "</td><td>");
                buf_add_html(&b, seen[0] ? seen : web_text(c, lang, "admin.never"));
                buf_adds(&b, "</td><td>");
                buf_add_html(&b, t[i].version);
                buf_printf(&b, "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%+.1f</td><td>",
                           t[i].queue, t[i].rejected, (double)t[i].clock_offset_ms / 1000.0);
                buf_add_html(&b, t[i].last_error);
                buf_adds(&b, "</td><td>");
                if (!t[i].revoked) {
                        admin_form_begin(&b, s, lang, "/admin/terminals/revoke", "");
                        admin_hidden(&b, "terminal", t[i].id);
                        buf_adds(&b, "<button type=\"submit\" class=\"small\">");
                        buf_add_html(&b, web_text(c, lang, "admin.revoke"));
                        buf_adds(&b, "</button></form>");
                }
                buf_adds(&b, "</td></tr>");
        }
        buf_adds(&b, "</tbody></table><h2>");
        buf_add_html(&b, web_text(c, lang, "admin.enroll_title"));
        buf_adds(&b, "</h2>");
        admin_form_begin(&b, s, lang, "/admin/terminals/enroll-code", "class=\"inline\"");
        buf_adds(&b, "<label for=\"workplace\">");
        buf_add_html(&b, web_text(c, lang, "admin.workplace"));
        buf_adds(&b, "</label> <input id=\"workplace\" name=\"workplace\" required "
                     "maxlength=\"64\" pattern=\"[A-Za-z0-9._\\-]+\"> <button type=\"submit\" "
                     "class=\"small\">");
        buf_add_html(&b, web_text(c, lang, "admin.enroll_make"));
        buf_adds(&b, "</button></form>");
        web_page_end(&b);
        free(t);
        return web_respond(resp, 200, "text/html; charset=utf-8", &b);
}

static int handle_terminal_action(struct collector *c, const struct web_request *req,
                                  enum vote_lang lang, const struct web_session *s,
                                  const char *action, struct web_response *resp)
{
        char ref[VOTE_REF_MAX + 1], code[ENROLL_CODE_MAX];
        int r;

        if (strcmp(req->method, "POST") != 0 || !admin_csrf_ok(req, s))
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        if (strcmp(action, "revoke") == 0) {
                if (admin_field(req, "terminal", ref, sizeof(ref)) <= 0 || !vote_ref_valid(ref))
                        return web_message_page(c, lang, 400, "admin.bad_form", resp);
                r = c->store->ops->terminal_revoke(c->store, ref);
                if (r < 0 && r != -ENOENT)
                        return web_message_page(c, lang, 503, "web.error", resp);
                if (r == 0) {
                        admin_audit(c, req, s->user.login, "terminal_revoke", ref);
                        log_info("%s revoked terminal %s", s->user.login, ref);
                }
                return admin_redirect(resp, "/admin/terminals", lang);
        }
        /* enroll-code */
        if (admin_field(req, "workplace", ref, sizeof(ref)) <= 0 || !vote_ref_valid(ref))
                return terminals_page(c, lang, s, NULL, "admin.unknown_workplace", resp);
        r = c->store->ops->enroll_code_add(c->store, ref, 7 * 86400, code, sizeof(code));
        if (r == -ENOENT)
                return terminals_page(c, lang, s, NULL, "admin.unknown_workplace", resp);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        admin_audit(c, req, s->user.login, "enroll_code", ref);
        /* shown once, on this answer only: the store keeps only its hash */
        return terminals_page(c, lang, s, code, NULL, resp);
}

/* The subtree a user acts on: everything for an administrator, the own unit's subtree for an
 * official; -1 for a role that may not review. */
int64_t admin_scope(const struct store_user *u)
{
        if (strcmp(u->role, "admin") == 0)
                return 0;
        if (strcmp(u->role, "official") == 0)
                return u->unit_id > 0 ? u->unit_id : -1;
        return -1;
}

static int flagged_page(struct collector *c, enum vote_lang lang, const struct web_session *s,
                        int64_t scope, struct web_response *resp)
{
        struct store_flagged *f = NULL;
        size_t n = 0;
        struct buf b;
        int r;

        r = c->store->ops->flagged_list(c->store, scope, 200, &f, &n);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, "admin.flagged");
        buf_adds(&b, "<p>");
        buf_add_html(&b, web_text(c, lang, "admin.flagged_hint"));
        buf_adds(&b, "</p>");
        if (n == 0) {
                buf_adds(&b, "<p class=\"ok\">");
                buf_add_html(&b, web_text(c, lang, "admin.flagged_none"));
                buf_adds(&b, "</p>");
        } else {
                static const char *const heads[] = {
                    "admin.when",    "admin.employee", "web.unit",       "admin.level",
                    "admin.channel", "admin.reason",   "admin.decision", NULL};
                buf_adds(&b, "<table><thead><tr>");
                for (const char *const *h = heads; *h; h++) {
                        buf_adds(&b, "<th scope=\"col\">");
                        buf_add_html(&b, web_text(c, lang, *h));
                        buf_adds(&b, "</th>");
                }
                buf_adds(&b, "</tr></thead><tbody>");
        }
        for (size_t i = 0; i < n; i++) {
                char when[32], key[64];

                admin_format_time(f[i].cast_at_ms / 1000, when, sizeof(when));
                snprintf(key, sizeof(key), "admin.flag.%s", f[i].flag);
                buf_adds(&b, "<tr><td>");
                buf_add_html(&b, when);
                buf_adds(&b, "</td><td>");
                buf_add_html(&b, f[i].employee);
                buf_adds(&b, "</td><td>");
                buf_add_html(&b, f[i].unit);
                buf_adds(&b, "</td><td>");
                buf_add_html(&b, vote_level_label(f[i].level, lang));
                buf_adds(&b, "</td><td>");
                buf_add_html(&b, vote_channel_label(f[i].channel, lang));
                buf_adds(&b, "</td><td>");
                /* a known reason in words, else its code */
                buf_add_html(&b, strcmp(web_text(c, lang, key), key) != 0 ? web_text(c, lang, key)
                                                                          : f[i].flag);
                buf_adds(&b, "</td><td>");
                if (f[i].review[0]) {
                        buf_add_html(&b, web_text(c, lang,
                                                  strcmp(f[i].review, "count") == 0
                                                      ? "admin.counted"
                                                      : "admin.excluded"));
                        buf_adds(&b, " (");
                        buf_add_html(&b, f[i].review_by);
                        buf_adds(&b, "): ");
                        buf_add_html(&b, f[i].review_reason);
                } else {
                        admin_form_begin(&b, s, lang, "/admin/flagged/review",
                                         "class=\"inline\"");
                        admin_hidden(&b, "vote", f[i].uuid);
                        buf_printf(&b, "<input name=\"reason\" required maxlength=\"200\" "
                                       "aria-label=\"");
                        buf_add_html(&b, web_text(c, lang, "admin.reason"));
                        buf_adds(&b, "\" placeholder=\"");
                        buf_add_html(&b, web_text(c, lang, "admin.reason"));
                        buf_adds(&b, "\"><button type=\"submit\" name=\"decision\" "
                                     "value=\"count\" class=\"small\">");
                        buf_add_html(&b, web_text(c, lang, "admin.count"));
                        buf_adds(&b, "</button><button type=\"submit\" name=\"decision\" "
                                     "value=\"exclude\" class=\"small\">");
                        buf_add_html(&b, web_text(c, lang, "admin.exclude"));
                        buf_adds(&b, "</button></form>");
                }
                buf_adds(&b, "</td></tr>");
        }
        if (n > 0)
                buf_adds(&b, "</tbody></table>");
        web_page_end(&b);
        free(f);
        return web_respond(resp, 200, "text/html; charset=utf-8", &b);
}

static int handle_review(struct collector *c, const struct web_request *req, enum vote_lang lang,
                         const struct web_session *s, int64_t scope, struct web_response *resp)
{
        char vote[VOTE_ID_LEN + 1], decision[16], reason[256], detail[VOTE_ID_LEN + 300];
        bool count;
        int r;

        if (strcmp(req->method, "POST") != 0 || !admin_csrf_ok(req, s) ||
            admin_field(req, "vote", vote, sizeof(vote)) <= 0 || !vote_id_valid(vote) ||
            admin_field(req, "decision", decision, sizeof(decision)) <= 0 ||
            admin_field(req, "reason", reason, sizeof(reason)) <= 0)
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        if (strcmp(decision, "count") != 0 && strcmp(decision, "exclude") != 0)
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        count = strcmp(decision, "count") == 0;
        r = c->store->ops->vote_review(c->store, vote, count, reason, s->user.login, scope,
                                       web_now_ms() / 1000);
        if (r == -ENOENT)
                return web_message_page(c, lang, 404, "web.not_found", resp);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        snprintf(detail, sizeof(detail), "%s %s: %s", decision, vote, reason);
        admin_audit(c, req, s->user.login, "vote_review", detail);
        return admin_redirect(resp, "/admin/flagged", lang);
}

int admin_handle(struct collector *c, const struct web_request *req, struct web_response *resp)
{
        enum vote_lang lang = web_lang(req);
        const char *path = req->path;
        struct web_session s;
        int r;

        if (strcmp(path, "/login") == 0)
                return handle_login(c, req, lang, resp);
        if (strcmp(path, "/logout") != 0 && strcmp(path, "/admin") != 0 &&
            strncmp(path, "/admin/", 7) != 0)
                return -ENOENT;
        r = web_session_find(c, req, &s);
        if (r == -ENOENT)
                return admin_redirect(resp, "/login", lang);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        if (strcmp(path, "/logout") == 0)
                return handle_logout(c, req, lang, &s, resp);
        /* /admin is each user's first section: where signing in lands */
        if (strcmp(path, "/admin") == 0)
                return admin_redirect(resp,
                                      strcmp(s.user.role, "admin") == 0 ? "/admin/terminals"
                                      : admin_scope(&s.user) >= 0       ? "/admin/flagged"
                                                                        : "/dashboard",
                                      lang);
        r = admin_qr_handle(c, req, lang, &s, resp);
        if (r == -ENOENT)
                r = admin_org_handle(c, req, lang, &s, resp);
        if (r == -ENOENT)
                r = admin_tokens_handle(c, req, lang, &s, resp);
        if (r != -ENOENT)
                return r;
        if (strcmp(path, "/admin/flagged") == 0 || strcmp(path, "/admin/flagged/review") == 0) {
                int64_t scope = admin_scope(&s.user);

                if (scope < 0)
                        return web_message_page(c, lang, 403, "admin.forbidden", resp);
                if (strcmp(path, "/admin/flagged/review") == 0)
                        return handle_review(c, req, lang, &s, scope, resp);
                return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0
                           ? flagged_page(c, lang, &s, scope, resp)
                           : web_message_page(c, lang, 405, "web.error", resp);
        }
        /* the fleet is the administrators' */
        if (strcmp(s.user.role, "admin") != 0)
                return web_message_page(c, lang, 403, "admin.forbidden", resp);
        if (strcmp(path, "/admin/terminals") == 0)
                return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0
                           ? terminals_page(c, lang, &s, NULL, NULL, resp)
                           : web_message_page(c, lang, 405, "web.error", resp);
        if (strcmp(path, "/admin/terminals/revoke") == 0)
                return handle_terminal_action(c, req, lang, &s, "revoke", resp);
        if (strcmp(path, "/admin/terminals/enroll-code") == 0)
                return handle_terminal_action(c, req, lang, &s, "enroll-code", resp);
        return web_message_page(c, lang, 404, "web.not_found", resp);
}
