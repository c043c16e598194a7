/* SPDX-License-Identifier: MIT */
/* The QR code pages (regulation 2.4, 2.5, 3.3): an official lists the employees of a unit with
 * their printed codes per channel, issues, reissues and revokes them, and downloads sheets as
 * PDF (one per page, or six per page for the unit) and single codes as PNG or SVG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "form.h"
#include "qrprint.h"
#include "store.h"

#define SHEET_MAX (64 * 1024 * 1024)

/* The channels of printed codes: at the workplace, and on written replies to appeals. */
static const char *const channels[] = {VOTE_CHANNEL_QR_PRINTED, VOTE_CHANNEL_QR_REPLY};

static bool channel_known(const char *ch)
{
        return strcmp(ch, channels[0]) == 0 || strcmp(ch, channels[1]) == 0;
}

/* A query argument checked as a reference ("" when absent); false when malformed. */
static bool ref_arg(const struct web_request *req, const char *name, char *buf, size_t n)
{
        const char *v = req->arg(req->ctx, name);

        buf[0] = 0;
        if (!v || !v[0])
                return true;
        if (!vote_ref_valid(v) || strlen(v) >= n)
                return false;
        memcpy(buf, v, strlen(v) + 1);
        return true;
}

static void vote_url(struct collector *c, const char *token, char *buf, size_t n)
{
        const char *base = c->cfg->public_url ? c->cfg->public_url : "";
        size_t len = strlen(base);

        while (len > 0 && base[len - 1] == '/')
                len--;
        snprintf(buf, n, "%.*s/r/%s", (int)len, base, token);
}

static int list_page(struct collector *c, const struct web_request *req, enum vote_lang lang,
                     const struct web_session *s, int64_t scope, struct web_response *resp)
{
        char unit[VOTE_REF_MAX + 1];
        struct store_qr *rows[2] = {NULL, NULL};
        size_t n[2] = {0, 0};
        struct buf b;
        int r = 0;

        if (!ref_arg(req, "unit", unit, sizeof(unit)))
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        for (int k = 0; k < 2 && r >= 0; k++)
                r = c->store->ops->qr_list(c->store, scope, unit, "", channels[k], &rows[k], &n[k]);
        if (r < 0) {
                free(rows[0]);
                free(rows[1]);
                return web_message_page(c, lang, 503, "web.error", resp);
        }
        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, "admin.qr");
        buf_adds(&b,
                 "<form method=\"get\" action=\"/admin/qr\" class=\"inline\"><label for=\"unit\">");
        buf_add_html(&b, web_text(c, lang, "admin.unit_code"));
        buf_adds(&b, "</label> <input id=\"unit\" name=\"unit\" maxlength=\"64\" value=\"");
        buf_add_html(&b, unit);
        buf_adds(&b, "\">");
        admin_lang_field(&b, lang);
        buf_adds(&b, "<button type=\"submit\" class=\"small\">");
        buf_add_html(&b, web_text(c, lang, "web.show"));
        buf_adds(&b, "</button></form><p>");
        for (int k = 0; k < 2; k++) {
                buf_printf(&b,
                           "<a class=\"btn-link\" href=\"/admin/qr/sheet.pdf?channel=%s&amp;unit=",
                           channels[k]);
                buf_add_html(&b, unit);
                buf_printf(&b, "&amp;per_page=6%s\">", lang == VOTE_LANG_EN ? "&amp;lang=en" : "");
                buf_add_html(
                    &b, web_text(c, lang,
                                 k == 0 ? "admin.sheet_unit_printed" : "admin.sheet_unit_reply"));
                buf_adds(&b, "</a> ");
        }
        buf_adds(&b, "</p><table><thead><tr>");
        static const char *const heads[] = {"admin.employee", "web.unit", "admin.channel",
                                            "admin.code", NULL};
        for (const char *const *h = heads; *h; h++) {
                buf_adds(&b, "<th scope=\"col\">");
                buf_add_html(&b, web_text(c, lang, *h));
                buf_adds(&b, "</th>");
        }
        buf_adds(&b, "<th></th></tr></thead><tbody>");
        for (size_t i = 0; i < n[0]; i++)
                for (int k = 0; k < 2; k++) {
                        const struct store_qr *q = &rows[k][i];

                        if (i >= n[k])
                                continue;
                        buf_adds(&b, "<tr><td>");
                        if (k == 0) {
                                buf_add_html(&b, q->full_name);
                                buf_adds(&b, "<br><small>");
                                buf_add_html(&b, q->position);
                                buf_adds(&b, "</small>");
                        }
                        buf_adds(&b, "</td><td>");
                        if (k == 0)
                                buf_add_html(&b, q->unit);
                        buf_adds(&b, "</td><td>");
                        buf_add_html(&b, vote_channel_label(q->channel, lang));
                        buf_adds(&b, "</td><td>");
                        if (q->token[0]) {
                                buf_adds(&b, "<code>");
                                buf_add_html(&b, q->token);
                                buf_adds(&b, "</code> <a href=\"/admin/qr/code.png?token=");
                                buf_add_html(&b, q->token);
                                buf_adds(&b, "\">PNG</a> <a href=\"/admin/qr/code.svg?token=");
                                buf_add_html(&b, q->token);
                                buf_adds(&b, "\">SVG</a> <a "
                                             "href=\"/admin/qr/sheet.pdf?per_page=1&amp;channel=");
                                buf_add_html(&b, q->channel);
                                buf_adds(&b, "&amp;employee=");
                                buf_add_html(&b, q->personal_no);
                                buf_printf(&b, "%s\">PDF</a>",
                                           lang == VOTE_LANG_EN ? "&amp;lang=en" : "");
                        } else {
                                buf_add_html(&b, web_text(c, lang, "admin.no_code"));
                        }
                        buf_adds(&b, "</td><td>");
                        admin_form_begin(&b, s, lang, "/admin/qr/issue", "class=\"inline\"");
                        admin_hidden(&b, "channel", q->channel);
                        admin_hidden(&b, "employee", q->personal_no);
                        admin_hidden(&b, "unit", unit);
                        buf_adds(&b, "<button type=\"submit\" class=\"small\">");
                        buf_add_html(
                            &b, web_text(c, lang, q->token[0] ? "admin.reissue" : "admin.issue"));
                        buf_adds(&b, "</button>");
                        if (q->token[0]) {
                                buf_adds(&b, "<button type=\"submit\" class=\"small\" "
                                             "formaction=\"/admin/qr/revoke\" name=\"token\" "
                                             "value=\"");
                                buf_add_html(&b, q->token);
                                buf_adds(&b, "\">");
                                buf_add_html(&b, web_text(c, lang, "admin.revoke"));
                                buf_adds(&b, "</button>");
                        }
                        buf_adds(&b, "</form></td></tr>");
                }
        buf_adds(&b, "</tbody></table>");
        web_page_end(&b);
        free(rows[0]);
        free(rows[1]);
        return web_respond(resp, 200, "text/html; charset=utf-8", &b);
}

static int handle_change(struct collector *c, const struct web_request *req, enum vote_lang lang,
                         const struct web_session *s, int64_t scope, bool revoke,
                         struct web_response *resp)
{
        char employee[VOTE_REF_MAX + 1], channel[VOTE_CHANNEL_MAX + 1], token[80],
            unit[VOTE_REF_MAX + 1] = "", back[160], detail[200];
        int r;

        if (strcmp(req->method, "POST") != 0 || !admin_csrf_ok(req, s))
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        if (admin_field(req, "unit", unit, sizeof(unit)) < 0 || (unit[0] && !vote_ref_valid(unit)))
                unit[0] = 0;
        if (revoke) {
                if (admin_field(req, "token", token, sizeof(token)) <= 0)
                        return web_message_page(c, lang, 400, "admin.bad_form", resp);
                r = c->store->ops->qr_revoke(c->store, scope, token);
                snprintf(detail, sizeof(detail), "%s", token);
        } else {
                if (admin_field(req, "employee", employee, sizeof(employee)) <= 0 ||
                    !vote_ref_valid(employee) ||
                    admin_field(req, "channel", channel, sizeof(channel)) <= 0 ||
                    !channel_known(channel))
                        return web_message_page(c, lang, 400, "admin.bad_form", resp);
                r = c->store->ops->qr_issue(c->store, scope, employee, channel, token,
                                            sizeof(token));
                snprintf(detail, sizeof(detail), "%s %s %s", employee, channel,
                         r >= 0 ? token : "");
        }
        if (r == -ENOENT)
                return web_message_page(c, lang, 404, "web.not_found", resp);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        admin_audit(c, req, s->user.login, revoke ? "qr_revoke" : "qr_issue", detail);
        snprintf(back, sizeof(back), "/admin/qr%s%s", unit[0] ? "?unit=" : "", unit);
        if (lang == VOTE_LANG_EN) {
                snprintf(resp->location, sizeof(resp->location), "%s%slang=en", back,
                         unit[0] ? "&" : "?");
                return web_respond_text(resp, 303, "text/plain; charset=utf-8", "See Other\n");
        }
        return admin_redirect(resp, back, lang);
}

static int sheet(struct collector *c, const struct web_request *req, enum vote_lang lang,
                 int64_t scope, struct web_response *resp)
{
        char unit[VOTE_REF_MAX + 1], employee[VOTE_REF_MAX + 1];
        const char *channel = req->arg(req->ctx, "channel"), *pp = req->arg(req->ctx, "per_page");
        struct qrprint_text text = {web_text(c, lang, "qr.prompt"), web_text(c, lang, "qr.hint")};
        struct qrprint_item *items = NULL;
        struct store_qr *rows = NULL;
        size_t n = 0, m = 0;
        struct buf b;
        int r;

        if (!ref_arg(req, "unit", unit, sizeof(unit)) ||
            !ref_arg(req, "employee", employee, sizeof(employee)) || !channel ||
            !channel_known(channel) || (pp && strcmp(pp, "1") != 0 && strcmp(pp, "6") != 0))
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        r = c->store->ops->qr_list(c->store, scope, unit, employee, channel, &rows, &n);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        items = calloc(n ? n : 1, sizeof(*items));
        if (!items) {
                free(rows);
                return web_message_page(c, lang, 503, "web.error", resp);
        }
        for (size_t i = 0; i < n; i++) {
                if (!rows[i].token[0])
                        continue; /* no live code: issue one first */
                vote_url(c, rows[i].token, items[m].url, sizeof(items[m].url));
                snprintf(items[m].full_name, sizeof(items[m].full_name), "%s", rows[i].full_name);
                snprintf(items[m].position, sizeof(items[m].position), "%s", rows[i].position);
                snprintf(items[m].unit, sizeof(items[m].unit), "%s", rows[i].unit);
                m++;
        }
        free(rows);
        if (m == 0) {
                free(items);
                return web_message_page(c, lang, 404, "admin.no_codes", resp);
        }
        buf_init(&b, SHEET_MAX);
        r = qrprint_pdf(items, m, pp && strcmp(pp, "6") == 0 ? 6 : 1, &text, &b);
        free(items);
        if (r < 0) {
                buf_free(&b);
                return web_message_page(c, lang, 500, "web.error", resp);
        }
        snprintf(resp->disposition, sizeof(resp->disposition),
                 "attachment; filename=\"qr-%s-%s.pdf\"",
                 employee[0] ? employee
                 : unit[0]   ? unit
                             : "all",
                 channel);
        return web_respond(resp, 200, "application/pdf", &b);
}

static int single_code(struct collector *c, const struct web_request *req, enum vote_lang lang,
                       int64_t scope, bool png, struct web_response *resp)
{
        const char *token = req->arg(req->ctx, "token");
        char url[600];
        struct store_employee e;
        struct buf b;
        int r;

        struct store_qr *rows = NULL;
        size_t n = 0;
        bool mine = false;

        /* a live code of an employee the user may see */
        if (!token || !vote_ref_valid(token) ||
            c->store->ops->token_lookup(c->store, token, &e) < 0 || e.revoked)
                return web_message_page(c, lang, 404, "web.not_found", resp);
        if (c->store->ops->qr_list(c->store, scope, "", e.personal_no, e.channel, &rows, &n) < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        for (size_t i = 0; i < n; i++)
                mine = mine || strcmp(rows[i].token, token) == 0;
        free(rows);
        if (!mine)
                return web_message_page(c, lang, 404, "web.not_found", resp);
        vote_url(c, token, url, sizeof(url));
        buf_init(&b, 4 * 1024 * 1024);
        r = png ? qrprint_png(url, 12, &b) : qrprint_svg(url, &b);
        if (r < 0) {
                buf_free(&b);
                return web_message_page(c, lang, 500, "web.error", resp);
        }
        snprintf(resp->disposition, sizeof(resp->disposition), "attachment; filename=\"qr-%s.%s\"",
                 token, png ? "png" : "svg");
        return web_respond(resp, 200, png ? "image/png" : "image/svg+xml", &b);
}

int admin_qr_handle(struct collector *c, const struct web_request *req, enum vote_lang lang,
                    const struct web_session *s, struct web_response *resp)
{
        const char *path = req->path;
        int64_t scope;
        bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

        if (strcmp(path, "/admin/qr") != 0 && strncmp(path, "/admin/qr/", 10) != 0)
                return -ENOENT;
        scope = admin_scope(&s->user);
        if (scope < 0)
                return web_message_page(c, lang, 403, "admin.forbidden", resp);
        if (strcmp(path, "/admin/qr") == 0 && get)
                return list_page(c, req, lang, s, scope, resp);
        if (strcmp(path, "/admin/qr/issue") == 0)
                return handle_change(c, req, lang, s, scope, false, resp);
        if (strcmp(path, "/admin/qr/revoke") == 0)
                return handle_change(c, req, lang, s, scope, true, resp);
        if (strcmp(path, "/admin/qr/sheet.pdf") == 0 && get)
                return sheet(c, req, lang, scope, resp);
        if (strcmp(path, "/admin/qr/code.png") == 0 && get)
                return single_code(c, req, lang, scope, true, resp);
        if (strcmp(path, "/admin/qr/code.svg") == 0 && get)
                return single_code(c, req, lang, scope, false, resp);
        return web_message_page(c, lang, get ? 404 : 405, get ? "web.not_found" : "web.error",
                                resp);
}
