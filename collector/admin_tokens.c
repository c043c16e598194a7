/* SPDX-License-Identifier: MIT */
/* The administrators' page of API tokens (/admin/tokens): the tokens the city's other systems
 * read reports with, each with its role, unit, expiry and last use; a form that makes one and
 * shows its text this once (only its hash is kept), and revoking. Every change is audited,
 * never with a token's text. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "apitoken.h"
#include "log.h"
#include "store.h"

static void notice(struct buf *b, struct collector *c, enum vote_lang lang, const char *cls,
                   const char *role, const char *key)
{
        buf_printf(b, "<p class=\"%s\" role=\"%s\">", cls, role);
        buf_add_html(b, web_text(c, lang, key));
        buf_adds(b, "</p>");
}

/* The last day a token works, from the first second it does not. */
static void expiry_day(int64_t expires_at, char *buf, size_t n)
{
        char t[32];

        admin_format_time(expires_at - 1, t, sizeof(t));
        snprintf(buf, n, "%.10s", t);
}

/* A unit's code and name, as the form's list shows it. */
static void unit_label(struct buf *b, enum vote_lang lang, const struct store_org_unit *u)
{
        buf_add_html(b, u->code);
        buf_adds(b, " — ");
        buf_add_html(b, lang == VOTE_LANG_EN && u->name_en[0] ? u->name_en : u->name);
}

static void token_row(struct buf *b, struct collector *c, enum vote_lang lang,
                      const struct web_session *s, const struct store_org *org,
                      const struct store_api_token *t, int64_t now)
{
        bool expired = t->expires_at && t->expires_at <= now;
        const char *state = t->revoked_at ? "admin.revoked"
                            : expired     ? "admin.token_expired"
                                          : "admin.token_live";
        char when[32], key[32];

        /* a token that no longer works is greyed like a revoked terminal */
        buf_printf(b, "<tr data-token=\"%" PRId64 "\"%s><td>", t->id,
                   t->revoked_at || expired ? " class=\"revoked\"" : "");
        buf_add_html(b, t->name);
        snprintf(key, sizeof(key), "admin.role.%s", t->role);
        buf_adds(b, "</td><td>");
        buf_add_html(b, web_text(c, lang, key));
        buf_adds(b, "</td><td>");
        for (size_t i = 0; t->unit_code[0] && i < org->n_units; i++)
                if (strcmp(org->units[i].code, t->unit_code) == 0)
                        unit_label(b, lang, &org->units[i]);
        admin_format_time(t->created_at, when, sizeof(when));
        buf_adds(b, "</td><td style=\"white-space:nowrap\">");
        buf_add_html(b, when);
        if (t->created_by[0]) {
                buf_adds(b, " (");
                buf_add_html(b, t->created_by);
                buf_adds(b, ")");
        }
        buf_adds(b, "</td><td style=\"white-space:nowrap\">");
        if (t->expires_at) {
                expiry_day(t->expires_at, when, sizeof(when));
                buf_add_html(b, when);
        } else
                buf_add_html(b, web_text(c, lang, "admin.token_no_expiry"));
        buf_adds(b, "</td><td style=\"white-space:nowrap\">");
        if (t->last_used_at)
                admin_format_time(t->last_used_at, when, sizeof(when));
        buf_add_html(b, t->last_used_at ? when : web_text(c, lang, "admin.never"));
        buf_adds(b, "</td><td class=\"state\">");
        buf_add_html(b, web_text(c, lang, state));
        buf_adds(b, "</td><td>");
        if (!t->revoked_at) {
                char id[24];

                snprintf(id, sizeof(id), "%" PRId64, t->id);
                admin_form_begin(b, s, lang, "/admin/tokens/revoke", "");
                admin_hidden(b, "id", id);
                buf_adds(b, "<button type=\"submit\" class=\"small\">");
                buf_add_html(b, web_text(c, lang, "admin.revoke"));
                buf_adds(b, "</button></form>");
        }
        buf_adds(b, "</td></tr>");
}

/* The form that makes a token; name is what was typed when the form comes back with an error. */
static void add_form(struct buf *b, struct collector *c, enum vote_lang lang,
                     const struct web_session *s, const struct store_org *org, const char *name)
{
        static const char *const roles[] = {"auditor", "manager", NULL};

        buf_adds(b, "<h2>");
        buf_add_html(b, web_text(c, lang, "admin.token_add"));
        buf_adds(b, "</h2>");
        admin_form_begin(b, s, lang, "/admin/tokens/add", "class=\"stack\"");
        buf_adds(b, "<label for=\"name\">");
        buf_add_html(b, web_text(c, lang, "admin.token_name"));
        buf_printf(b,
                   "</label><input id=\"name\" name=\"name\" required maxlength=\"%d\" "
                   "autocomplete=\"off\" value=\"",
                   APITOKEN_NAME_MAX);
        buf_add_html(b, name ? name : "");
        buf_adds(b, "\"><label for=\"role\">");
        buf_add_html(b, web_text(c, lang, "admin.token_role"));
        buf_adds(b, "</label><select id=\"role\" name=\"role\">");
        for (const char *const *r = roles; *r; r++) {
                char key[32];

                snprintf(key, sizeof(key), "admin.role_hint.%s", *r);
                buf_printf(b, "<option value=\"%s\">", *r);
                buf_add_html(b, web_text(c, lang, key));
                buf_adds(b, "</option>");
        }
        buf_adds(b, "</select><label for=\"unit\">");
        buf_add_html(b, web_text(c, lang, "admin.token_unit"));
        buf_adds(b, "</label><select id=\"unit\" name=\"unit\"><option value=\"\">—</option>");
        for (size_t i = 0; i < org->n_units; i++) {
                const struct store_org_unit *u = &org->units[i];

                buf_adds(b, "<option value=\"");
                buf_add_html(b, u->code);
                buf_adds(b, "\">");
                unit_label(b, lang, u);
                buf_adds(b, "</option>");
        }
        buf_adds(b, "</select><label for=\"expires\">");
        buf_add_html(b, web_text(c, lang, "admin.token_expires"));
        buf_adds(b, "</label><input id=\"expires\" name=\"expires\" type=\"date\">"
                    "<button type=\"submit\">");
        buf_add_html(b, web_text(c, lang, "admin.token_add"));
        buf_adds(b, "</button></form>");
}

/* The page; made is a token's text just made (shown this once), error_key a refusal of the
 * form (answered 400), name what the form had. */
static int tokens_page(struct collector *c, enum vote_lang lang, const struct web_session *s,
                       const char *made, const char *error_key, const char *name,
                       struct web_response *resp)
{
        static const char *const heads[] = {
            "admin.token_name",   "admin.token_role",      "web.unit",    "admin.token_created",
            "admin.token_expiry", "admin.token_last_used", "admin.state", NULL};
        struct store_api_token *t = NULL;
        struct store_org org = {0};
        int64_t now = web_now_ms() / 1000;
        size_t n = 0;
        struct buf b;

        if (c->store->ops->api_token_list(c->store, &t, &n) < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        if (c->store->ops->org_export(c->store, &org) < 0) {
                free(t);
                return web_message_page(c, lang, 503, "web.error", resp);
        }
        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, "admin.tokens");
        if (made) {
                buf_adds(&b, "<div class=\"made\">");
                notice(&b, c, lang, "ok", "status", "admin.token_made");
                buf_adds(&b, "<p><code class=\"code\" id=\"token\" "
                             "style=\"word-break:break-all\">");
                buf_add_html(&b, made);
                buf_adds(&b, "</code></p><p>");
                buf_add_html(&b, web_text(c, lang, "admin.token_usage"));
                buf_adds(&b, "</p><pre style=\"white-space:pre-wrap;word-break:break-all\">"
                             "curl -H \"Authorization: Bearer ");
                buf_add_html(&b, made);
                buf_adds(&b, "\" \\\n  ");
                buf_add_html(&b, c->cfg->public_url);
                buf_adds(&b, "/api/v1/reports/cut?by=unit</pre></div>");
        }
        if (error_key)
                notice(&b, c, lang, "err", "alert", error_key);
        buf_adds(&b, "<p>");
        buf_add_html(&b, web_text(c, lang, "admin.tokens_hint"));
        buf_adds(&b, "</p>");
        if (n == 0)
                notice(&b, c, lang, "", "note", "admin.token_none");
        else {
                /* a narrow screen scrolls the table, not the page; dates stay whole */
                buf_adds(&b, "<div style=\"overflow-x:auto\"><table id=\"tokens\"><thead><tr>");
                for (const char *const *h = heads; *h; h++) {
                        buf_adds(&b, "<th scope=\"col\">");
                        buf_add_html(&b, web_text(c, lang, *h));
                        buf_adds(&b, "</th>");
                }
                buf_adds(&b, "<th></th></tr></thead><tbody>");
                for (size_t i = 0; i < n; i++)
                        token_row(&b, c, lang, s, &org, &t[i], now);
                buf_adds(&b, "</tbody></table></div>");
        }
        add_form(&b, c, lang, s, &org, error_key ? name : NULL);
        web_page_end(&b);
        store_org_finish(&org);
        free(t);
        return web_respond(resp, error_key ? 400 : 200, "text/html; charset=utf-8", &b);
}

/* A form field that may be left out: "" then. */
static int optional_field(const struct web_request *req, const char *field, char *buf, size_t n)
{
        int r = admin_field(req, field, buf, n);

        if (r == -ENOENT) {
                buf[0] = 0;
                return 0;
        }
        return r;
}

static int handle_add(struct collector *c, const struct web_request *req, enum vote_lang lang,
                      const struct web_session *s, struct web_response *resp)
{
        struct store_api_token t = {0};
        char name[APITOKEN_NAME_MAX + 8], expires[16] = "", text[APITOKEN_TEXT];
        char detail[sizeof(t.name) + sizeof(t.unit_code) + 96];
        int64_t now = web_now_ms() / 1000;
        int r;

        if (strcmp(req->method, "POST") != 0 || !admin_csrf_ok(req, s) ||
            admin_field(req, "role", t.role, sizeof(t.role)) <= 0 ||
            optional_field(req, "unit", t.unit_code, sizeof(t.unit_code)) < 0 ||
            optional_field(req, "expires", expires, sizeof(expires)) < 0)
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        if (strcmp(t.role, "auditor") != 0 && strcmp(t.role, "manager") != 0)
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        r = optional_field(req, "name", name, sizeof(name));
        if (r <= 0 || r > APITOKEN_NAME_MAX)
                return tokens_page(c, lang, s, NULL, "admin.token_bad_name", r > 0 ? name : "",
                                   resp);
        snprintf(t.name, sizeof(t.name), "%s", name);
        if ((strcmp(t.role, "manager") == 0) != (t.unit_code[0] != 0))
                return tokens_page(c, lang, s, NULL, "admin.token_unit_rule", name, resp);
        if (expires[0] && apitoken_parse_expiry(expires, now, &t.expires_at) < 0)
                return tokens_page(c, lang, s, NULL, "admin.token_bad_expiry", name, resp);
        snprintf(t.created_by, sizeof(t.created_by), "%s", s->user.login);
        t.created_at = now;
        r = apitoken_create(c->store, &t, text);
        if (r == -ENOENT)
                return tokens_page(c, lang, s, NULL, "admin.unknown_unit", name, resp);
        if (r == -EINVAL)
                return tokens_page(c, lang, s, NULL, "admin.token_bad_name", name, resp);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        snprintf(detail, sizeof(detail), "#%" PRId64 " %s: %s %s%s%s", t.id, t.name, t.role,
                 t.unit_code, expires[0] ? " until " : "", expires);
        admin_audit(c, req, s->user.login, "api_token_add", detail);
        log_info("%s made API token #%" PRId64 " (%s)", s->user.login, t.id, t.role);
        /* shown once, on this answer only: the store keeps only its hash */
        r = tokens_page(c, lang, s, text, NULL, NULL, resp);
        sodium_memzero(text, sizeof(text));
        return r;
}

static int handle_revoke(struct collector *c, const struct web_request *req, enum vote_lang lang,
                         const struct web_session *s, struct web_response *resp)
{
        char id_s[24], name[sizeof(((struct store_api_token *)0)->name)], detail[sizeof(name) + 32];
        char *end;
        long long id;
        int r;

        if (strcmp(req->method, "POST") != 0 || !admin_csrf_ok(req, s) ||
            admin_field(req, "id", id_s, sizeof(id_s)) <= 0)
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        errno = 0;
        id = strtoll(id_s, &end, 10);
        if (errno || *end || id <= 0)
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        r = c->store->ops->api_token_revoke(c->store, id, web_now_ms() / 1000, name, sizeof(name));
        if (r == -ENOENT)
                return web_message_page(c, lang, 404, "web.not_found", resp);
        if (r < 0 && r != -EALREADY)
                return web_message_page(c, lang, 503, "web.error", resp);
        if (r == 0) {
                snprintf(detail, sizeof(detail), "#%lld %s", id, name);
                admin_audit(c, req, s->user.login, "api_token_revoke", detail);
                log_info("%s revoked API token #%lld", s->user.login, id);
        }
        return admin_redirect(resp, "/admin/tokens", lang);
}

int admin_tokens_handle(struct collector *c, const struct web_request *req, enum vote_lang lang,
                        const struct web_session *s, struct web_response *resp)
{
        const char *path = req->path;
        bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

        if (strcmp(path, "/admin/tokens") != 0 && strncmp(path, "/admin/tokens/", 14) != 0)
                return -ENOENT;
        if (strcmp(s->user.role, "admin") != 0)
                return web_message_page(c, lang, 403, "admin.forbidden", resp);
        if (strcmp(path, "/admin/tokens") == 0)
                return get ? tokens_page(c, lang, s, NULL, NULL, NULL, resp)
                           : web_message_page(c, lang, 405, "web.error", resp);
        if (strcmp(path, "/admin/tokens/add") == 0)
                return handle_add(c, req, lang, s, resp);
        if (strcmp(path, "/admin/tokens/revoke") == 0)
                return handle_revoke(c, req, lang, s, resp);
        return web_message_page(c, lang, 404, "web.not_found", resp);
}
