/* SPDX-License-Identifier: MIT */
/* Routing and rendering: /healthz, the terminal API, the vote page behind every QR code and
 * the public report by unit. Everything printed into a page goes through buf_add_html(). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "form.h"
#include "log.h"
#include "period.h"
#include "proto.h"
#include "web.h"

#define PAGE_MAX (4 * 1024 * 1024)
#define TOKEN_MAX 64

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font-family:system-ui,'DejaVu Sans',sans-serif;background:#f5f5f0;"
    "color:#1a1a1a;line-height:1.4}"
    "main{max-width:30rem;margin:0 auto;padding:1rem}"
    "main.wide{max-width:60rem}"
    "h1{font-size:1.35rem;margin:.2rem 0}"
    ".pos,.unit{margin:.1rem 0;color:#333}"
    ".prompt{margin:1.2rem 0 .6rem;font-weight:600}"
    ".faces{display:flex;gap:.5rem;justify-content:space-between}"
    ".faces input{position:absolute;opacity:0}"
    ".faces label{flex:1;display:flex;flex-direction:column;align-items:center;"
    "padding:.5rem .2rem;border:3px solid transparent;border-radius:1rem;background:#fff;"
    "cursor:pointer;font-weight:600}"
    ".faces svg{width:100%;max-width:6rem;height:auto}"
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
    "td.d1{padding-left:1.5rem}td.d2{padding-left:3rem}td.d3{padding-left:4.5rem}";

static const char *text(struct collector *c, enum vote_lang lang, const char *key)
{
        return i18n_get(c->text[lang], key);
}

static enum vote_lang request_lang(const struct web_request *req)
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

static int respond(struct web_response *resp, int status, const char *type, struct buf *b)
{
        resp->status = status;
        resp->content_type = type;
        resp->body = buf_take(b, &resp->body_len);
        if (!resp->body)
                return b->error ? b->error : -ENOMEM;
        return 0;
}

static int respond_text(struct web_response *resp, int status, const char *type, const char *s)
{
        struct buf b;

        buf_init(&b, PAGE_MAX);
        buf_adds(&b, s);
        return respond(resp, status, type, &b);
}

/* Page builders append without checking: struct buf keeps the first failure, and respond()
 * reports it. */
static void page_begin(struct buf *b, struct collector *c, enum vote_lang lang, const char *title,
                       bool wide)
{
        buf_printf(b,
                   "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                   "<title>",
                   lang == VOTE_LANG_EN ? "en" : "uk");
        buf_add_html(b, title);
        buf_printf(b, "</title><style>%s</style></head><body><main%s>", css,
                   wide ? " class=\"wide\"" : "");
}

static void page_end(struct buf *b)
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

static int message_page(struct collector *c, enum vote_lang lang, int status, const char *key,
                        struct web_response *resp)
{
        struct buf b;

        buf_init(&b, PAGE_MAX);
        page_begin(&b, c, lang, text(c, lang, "web.title"), false);
        buf_adds(&b, "<p class=\"err\">");
        buf_add_html(&b, text(c, lang, key));
        buf_adds(&b, "</p>");
        page_end(&b);
        return respond(resp, status, "text/html; charset=utf-8", &b);
}

static int vote_page(struct collector *c, enum vote_lang lang, const char *token,
                     const struct store_employee *e, bool choose_first, struct web_response *resp)
{
        struct buf b;

        buf_init(&b, PAGE_MAX);
        page_begin(&b, c, lang, text(c, lang, "web.title"), false);
        buf_adds(&b, "<h1>");
        buf_add_html(&b, e->full_name);
        buf_adds(&b, "</h1><p class=\"pos\">");
        buf_add_html(&b, e->position);
        buf_adds(&b, "</p><p class=\"unit\">");
        buf_add_html(&b, e->unit);
        buf_adds(&b, "</p><form method=\"post\" action=\"/r/");
        buf_add_html(&b, token);
        buf_printf(&b, "%s\"><p class=\"prompt\">", lang == VOTE_LANG_EN ? "?lang=en" : "");
        buf_add_html(&b, text(c, lang, "web.rate_prompt"));
        if (choose_first) {
                buf_adds(&b, "</p><p class=\"err\">");
                buf_add_html(&b, text(c, lang, "web.choose_first"));
        }
        buf_adds(&b, "</p><div class=\"faces\">");
        for (int l = 1; l <= 3; l++) {
                buf_printf(&b,
                           "<input type=\"radio\" name=\"level\" value=\"%d\" id=\"l%d\">"
                           "<label for=\"l%d\">%s",
                           l, l, l, svg_inline(c, l));
                buf_add_html(&b, vote_level_label(l, lang));
                buf_adds(&b, "</label>");
        }
        buf_adds(&b, "</div><button type=\"submit\">");
        buf_add_html(&b, text(c, lang, "web.send"));
        buf_printf(&b, "</button></form><nav><a href=\"/r/%s?lang=%s\">", token,
                   lang == VOTE_LANG_EN ? "uk" : "en");
        buf_add_html(&b, text(c, lang, "web.lang_other"));
        buf_adds(&b, "</a></nav>");
        page_end(&b);
        return respond(resp, choose_first ? 400 : 200, "text/html; charset=utf-8", &b);
}

static int thanks_page(struct collector *c, enum vote_lang lang, struct web_response *resp)
{
        struct buf b;

        buf_init(&b, PAGE_MAX);
        page_begin(&b, c, lang, text(c, lang, "web.thanks"), false);
        buf_printf(&b, "<div class=\"thanks\">%s<h1>", svg_inline(c, 3));
        buf_add_html(&b, text(c, lang, "web.thanks"));
        buf_adds(&b, "</h1><p>");
        buf_add_html(&b, text(c, lang, "web.thanks_hint"));
        buf_adds(&b, "</p></div>");
        page_end(&b);
        return respond(resp, 200, "text/html; charset=utf-8", &b);
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int handle_vote_page(struct collector *c, const struct web_request *req, const char *rest,
                            struct web_response *resp)
{
        enum vote_lang lang = request_lang(req);
        char token[TOKEN_MAX + 1], level_s[8];
        struct store_employee e;
        bool thanks = false;
        size_t n;
        int r, level;

        n = strcspn(rest, "/");
        if (n > TOKEN_MAX)
                return message_page(c, lang, 404, "web.token_unknown", resp);
        memcpy(token, rest, n);
        token[n] = 0;
        if (rest[n]) {
                if (strcmp(rest + n, "/thanks") != 0)
                        return message_page(c, lang, 404, "web.not_found", resp);
                thanks = true;
        }
        if (!token_valid(token))
                return message_page(c, lang, 404, "web.token_unknown", resp);
        r = c->store->ops->token_lookup(c->store, token, &e);
        if (r == -ENOENT)
                return message_page(c, lang, 404, "web.token_unknown", resp);
        if (r < 0)
                return message_page(c, lang, 503, "web.error", resp);
        if (e.revoked)
                return message_page(c, lang, 410, "web.token_revoked", resp);
        if (thanks)
                return strcmp(req->method, "POST") != 0
                           ? thanks_page(c, lang, resp)
                           : message_page(c, lang, 405, "web.error", resp);

        if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0)
                return vote_page(c, lang, token, &e, false, resp);
        if (strcmp(req->method, "POST") != 0)
                return message_page(c, lang, 405, "web.error", resp);

        r = req->body ? form_get(req->body, req->body_len, "level", level_s, sizeof(level_s))
                      : -ENOENT;
        level = r == 1 ? level_s[0] - '0' : 0;
        if (!vote_level_valid(level))
                return vote_page(c, lang, token, &e, true, resp);
        {
                vote_id id;

                vote_id_new(&id);
                r = c->store->ops->store_web_vote(c->store, &e, level, &id, now_ms());
                if (r < 0)
                        return message_page(c, lang, 503, "web.error", resp);
                log_info("Vote %s stored from a vote page: level %d for employee %s", id.s, level,
                         e.personal_no);
        }
        resp->status = 303;
        resp->content_type = "text/plain; charset=utf-8";
        snprintf(resp->location, sizeof(resp->location), "/r/%s/thanks%s", token,
                 lang == VOTE_LANG_EN ? "?lang=en" : "");
        return respond_text(resp, 303, "text/plain; charset=utf-8", "See Other\n");
}

static int api_error(struct web_response *resp, int status, const char *message)
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

static int handle_api_votes(struct collector *c, const struct web_request *req,
                            struct web_response *resp)
{
        const char *auth = req->header(req->ctx, "Authorization");
        const char *type = req->header(req->ctx, "Content-Type");
        char terminal[VOTE_REF_MAX + 1], err[256];
        struct proto_batch batch = {0};
        struct proto_ack ack = {0};
        const char *secret;
        char *json = NULL;
        size_t n;
        int r;

        if (strcmp(req->method, "POST") != 0)
                return api_error(resp, 405, "method: use POST");
        if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !(secret = strchr(auth + 7, ':')))
                return api_error(resp, 401, "authorization: expected Bearer <terminal>:<secret>");
        n = (size_t)(secret - (auth + 7));
        if (n == 0 || n > VOTE_REF_MAX)
                return api_error(resp, 401, "authorization: unknown terminal");
        memcpy(terminal, auth + 7, n);
        terminal[n] = 0;
        secret++;
        if (c->store->ops->terminal_auth(c->store, terminal, secret) < 0) {
                log_warn("Refused a batch from %s: unknown or revoked terminal \"%s\"",
                         req->client_addr, vote_ref_valid(terminal) ? terminal : "?");
                return api_error(resp, 401, "authorization: unknown or revoked terminal");
        }
        if (!type || strncmp(type, "application/json", 16) != 0 ||
            (type[16] != 0 && type[16] != ';' && type[16] != ' '))
                return api_error(resp, 415, "content-type: expected application/json");
        if (req->body_len > PROTO_BODY_MAX)
                return api_error(resp, 413, "body: too large");

        r = proto_batch_decode(req->body ? req->body : "", req->body_len, &batch, err, sizeof(err));
        if (r < 0)
                return api_error(resp, r == -EMSGSIZE ? 413 : 400, err);
        if (strcmp(batch.terminal, terminal) != 0) {
                proto_batch_finish(&batch);
                return api_error(resp, 403, "terminal: not the authenticated terminal");
        }
        ack.results = calloc(batch.n_votes ? batch.n_votes : 1, sizeof(*ack.results));
        if (!ack.results) {
                r = -ENOMEM;
                goto out;
        }
        r = c->store->ops->store_batch(c->store, terminal, &batch, now_ms(), &ack);
        if (r < 0) {
                r = api_error(resp, 503, "store: busy, try again later");
                goto out;
        }
        r = proto_ack_encode(&ack, &json);
        if (r < 0)
                goto out;
        resp->status = 200;
        resp->content_type = "application/json";
        resp->body = json;
        resp->body_len = strlen(json);
        if (batch.n_votes)
                log_info("Terminal %s: batch of %zu votes stored", terminal, batch.n_votes);
        else
                log_debug("Terminal %s: heartbeat", terminal);
out:
        proto_ack_finish(&ack);
        proto_batch_finish(&batch);
        return r;
}

/* The period from ?period=, defaulting to the current month. */
static int request_period(const struct web_request *req, struct period *ret, char *label, size_t n)
{
        const char *p = req->arg(req->ctx, "period");
        int r;

        if (p && *p)
                r = period_parse(p, ret);
        else
                r = period_containing(PERIOD_MONTH, time(NULL), ret);
        if (r < 0)
                return r;
        if (p && *p && strlen(p) < n)
                snprintf(label, n, "%s", p);
        else
                period_label(ret, label, n);
        return 0;
}

static double happy_index(const int64_t count[4])
{
        return count[0] ? 50.0 * (double)(count[2] + 2 * count[3]) / (double)count[0] : 0.0;
}

static json_t *unit_row_json(const struct store_unit_row *row)
{
        return json_pack("{s:I, s:I, s:i, s:s, s:I, s:I, s:I, s:I, s:f}", "id",
                         (json_int_t)row->unit_id, "parent", (json_int_t)row->parent_id, "depth",
                         row->depth, "name", row->name, "satisfactory", (json_int_t)row->count[1],
                         "good", (json_int_t)row->count[2], "exemplary", (json_int_t)row->count[3],
                         "total", (json_int_t)row->count[0], "index", happy_index(row->count));
}

static int handle_reports(struct collector *c, const struct web_request *req, bool json_api,
                          struct web_response *resp)
{
        enum vote_lang lang = request_lang(req);
        struct store_unit_row *rows = NULL;
        struct period per;
        char label[64];
        size_t n = 0;
        struct buf b;
        int r;

        if (request_period(req, &per, label, sizeof(label)) < 0)
                return json_api ? api_error(resp, 400, "period: unknown; e.g. 2026-11, 2026-W48")
                                : message_page(c, lang, 400, "web.bad_period", resp);
        r = c->store->ops->report_units(c->store, per.start, per.end, &rows, &n);
        if (r < 0)
                return json_api ? api_error(resp, 503, "store: unavailable")
                                : message_page(c, lang, 503, "web.error", resp);
        buf_init(&b, PAGE_MAX);
        if (json_api) {
                json_t *root = json_pack("{s:s, s:I, s:I, s:[]}", "period", label, "from",
                                         (json_int_t)per.start, "to", (json_int_t)per.end, "units");
                json_t *units = root ? json_object_get(root, "units") : NULL;
                char *s;

                for (size_t i = 0; units && i < n; i++)
                        if (json_array_append_new(units, unit_row_json(&rows[i])) < 0)
                                units = NULL; /* a row that cannot be encoded fails the request */
                s = root && units ? json_dumps(root, JSON_COMPACT) : NULL;
                json_decref(root);
                free(rows);
                if (!s)
                        return -ENOMEM;
                resp->status = 200;
                resp->content_type = "application/json";
                resp->body = s;
                resp->body_len = strlen(s);
                return 0;
        }

        page_begin(&b, c, lang, text(c, lang, "web.reports"), true);
        buf_adds(&b, "<h1>");
        buf_add_html(&b, text(c, lang, "web.reports"));
        buf_adds(&b, "</h1><form method=\"get\"><label>");
        buf_add_html(&b, text(c, lang, "web.period"));
        buf_adds(&b, " <input name=\"period\" value=\"");
        buf_add_html(&b, label);
        buf_printf(&b,
                   "\"></label><input type=\"hidden\" name=\"lang\" value=\"%s\">"
                   " <button type=\"submit\" style=\"display:inline;width:auto\">",
                   lang == VOTE_LANG_EN ? "en" : "uk");
        buf_add_html(&b, text(c, lang, "web.show"));
        buf_adds(&b, "</button></form><table id=\"units\"><thead><tr><th>");
        buf_add_html(&b, text(c, lang, "web.unit"));
        for (int l = 1; l <= 3; l++) {
                buf_adds(&b, "</th><th>");
                buf_add_html(&b, vote_level_label(l, lang));
        }
        buf_adds(&b, "</th><th>");
        buf_add_html(&b, text(c, lang, "web.total"));
        buf_adds(&b, "</th><th>");
        buf_add_html(&b, text(c, lang, "web.index"));
        buf_adds(&b, "</th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
                buf_printf(&b, "<tr data-unit=\"%" PRId64 "\"><td class=\"d%d\">", rows[i].unit_id,
                           rows[i].depth > 3 ? 3 : rows[i].depth);
                buf_add_html(&b, rows[i].name);
                buf_printf(&b,
                           "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
                           "</td><td class=\"total\">%" PRId64 "</td><td>",
                           rows[i].count[1], rows[i].count[2], rows[i].count[3], rows[i].count[0]);
                if (rows[i].count[0])
                        buf_printf(&b, "%.1f", happy_index(rows[i].count));
                else
                        buf_adds(&b, "—");
                buf_adds(&b, "</td></tr>");
        }
        free(rows);
        buf_printf(&b, "</tbody></table><nav><a href=\"/reports?lang=%s&amp;period=",
                   lang == VOTE_LANG_EN ? "uk" : "en");
        buf_add_html(&b, label);
        buf_adds(&b, "\">");
        buf_add_html(&b, text(c, lang, "web.lang_other"));
        buf_adds(&b, "</a></nav>");
        page_end(&b);
        return respond(resp, 200, "text/html; charset=utf-8", &b);
}

int web_handle(struct collector *c, const struct web_request *req, struct web_response *resp)
{
        const char *path = req->path;
        int r;

        memset(resp, 0, sizeof(*resp));
        if (strcmp(path, "/healthz") == 0)
                r = respond_text(resp, 200, "text/plain; charset=utf-8", "ok\n");
        else if (strcmp(path, "/api/v1/votes") == 0)
                r = handle_api_votes(c, req, resp);
        else if (strncmp(path, "/r/", 3) == 0)
                r = handle_vote_page(c, req, path + 3, resp);
        else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
                r = message_page(c, request_lang(req), 405, "web.error", resp);
        else if (strcmp(path, "/reports") == 0 || strcmp(path, "/") == 0)
                r = handle_reports(c, req, false, resp);
        else if (strcmp(path, "/api/v1/reports/units") == 0)
                r = handle_reports(c, req, true, resp);
        else
                r = message_page(c, request_lang(req), 404, "web.not_found", resp);
        if (r < 0 && !resp->body)
                log_error("Cannot answer %s %s: %s", req->method, path, strerror(-r));
        return r;
}

void web_response_finish(struct web_response *resp)
{
        free(resp->body);
        resp->body = NULL;
}
