/* SPDX-License-Identifier: MIT */
/* The administrators' pages for the organisation, users and the audit log: the unit tree with
 * its employees and workplaces, directions, each with a link to its form (admin_edit.c); CSV
 * export of each table and import by pasting a table (checked first, or saved), with the same
 * messages as the command line; the users and a form to add one; the newest audit entries.
 * An official sees the organisation of their own subtree, to reach its employees' forms. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "admin.h"
#include "csv.h"
#include "form.h"
#include "org.h"
#include "pwhash.h"
#include "store.h"

#define IMPORT_MAX (2 * 1024 * 1024) /* bytes of a pasted table (http.c lets it in) */

static const char *const tables[] = {"units.csv", "directions.csv", "employees.csv",
                                     "workplaces.csv", NULL};

static void th(struct buf *b, struct collector *c, enum vote_lang lang, const char *const *keys)
{
        buf_adds(b, "<thead><tr>");
        for (; *keys; keys++) {
                buf_adds(b, "<th scope=\"col\">");
                buf_add_html(b, web_text(c, lang, *keys));
                buf_adds(b, "</th>");
        }
        buf_adds(b, "</tr></thead>");
}

static void td(struct buf *b, const char *text)
{
        buf_adds(b, "<td>");
        buf_add_html(b, text);
        buf_adds(b, "</td>");
}

/* A link to a record's form: "/admin/org/<kind>?code=<code>", with an accessible name that
 * says which record it changes. */
static void edit_link(struct buf *b, struct collector *c, enum vote_lang lang, const char *kind,
                      const char *code, const char *name)
{
        buf_printf(b, "<td><a href=\"/admin/org/%s?code=", kind);
        buf_add_html(b, code);
        buf_printf(b, "%s\" aria-label=\"", lang == VOTE_LANG_EN ? "&amp;lang=en" : "");
        buf_add_html(b, web_text(c, lang, "admin.edit.change"));
        buf_adds(b, ": ");
        buf_add_html(b, name);
        buf_adds(b, "\">");
        buf_add_html(b, web_text(c, lang, "admin.edit.change"));
        buf_adds(b, "</a></td>");
}

/* A heading with the link that adds a record of its kind. */
static void heading(struct buf *b, struct collector *c, enum vote_lang lang, const char *key,
                    const char *kind, const char *add_key)
{
        buf_adds(b, "<h2>");
        buf_add_html(b, web_text(c, lang, key));
        buf_adds(b, "</h2>");
        if (kind) {
                buf_printf(b, "<p><a href=\"/admin/org/%s%s\">+ ", kind, admin_lang_query(lang));
                buf_add_html(b, web_text(c, lang, add_key));
                buf_adds(b, "</a></p>");
        }
}

static const char *name_in(enum vote_lang lang, const char *name, const char *name_en)
{
        return lang == VOTE_LANG_EN && name_en[0] ? name_en : name;
}

/* A unit's cell: its code, short enough to keep the table on one line a row, and its name
 * where the pointer rests. */
static void unit_td(struct buf *b, const struct store_org *org, enum vote_lang lang,
                    const char *code)
{
        buf_adds(b, "<td title=\"");
        for (size_t i = 0; i < org->n_units; i++)
                if (strcmp(org->units[i].code, code) == 0)
                        buf_add_html(b, name_in(lang, org->units[i].name, org->units[i].name_en));
        buf_adds(b, "\">");
        buf_add_html(b, code);
        buf_adds(b, "</td>");
}

/* A row of a record in a unit: the unit's code goes with it, for scripts and tests. */
static void unit_row(struct buf *b, const char *unit)
{
        buf_adds(b, "<tr data-unit=\"");
        buf_add_html(b, unit);
        buf_adds(b, "\">");
}

/* Whether the unit with code is one of the units in[] marks. */
static bool unit_in(const struct store_org *org, const bool *in, const char *code)
{
        for (size_t i = 0; i < org->n_units; i++)
                if (strcmp(org->units[i].code, code) == 0)
                        return in[i];
        return false;
}

/* The organisation: for an administrator (scope 0) all of it, every record with a link to its
 * form, and the CSV tables; for an official the subtree of unit scope, where only employees
 * are theirs to add and change. */
static int org_page(struct collector *c, enum vote_lang lang, const struct web_session *s,
                    int64_t scope, const char *notice, const char *error, const char *pasted,
                    struct web_response *resp)
{
        /* the last, empty heading is over the links to the forms, which officials do not get */
        static const char *const unit_heads[] = {"admin.code", "admin.kind", "web.unit", "", NULL};
        static const char *const unit_heads_ro[] = {"admin.code", "admin.kind", "web.unit", NULL};
        static const char *const wp_heads_ro[] = {"admin.code", "admin.workplace", "web.unit",
                                                  "admin.direction", NULL};
        static const char *const emp_heads[] = {
            "admin.personal_no", "admin.employee", "admin.position", "web.unit", "", NULL};
        static const char *const wp_heads[] = {
            "admin.code", "admin.workplace", "web.unit", "admin.direction", "", NULL};
        static const char *const dir_heads[] = {"admin.code", "admin.edit.name",
                                                "admin.edit.name_en", "", NULL};
        bool admin = scope == 0;
        struct admin_org_view v;
        const struct store_org *org = &v.org;
        const int *depth;
        const bool *in;
        struct buf b;

        if (admin_org_view_load(c, scope, &v) < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        depth = v.depth;
        in = v.in;
        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, "admin.org");
        if (notice) {
                buf_adds(&b, "<p class=\"ok\" role=\"status\">");
                buf_add_html(&b, notice);
                buf_adds(&b, "</p>");
        }
        if (error) {
                buf_adds(&b, "<p class=\"err\" role=\"alert\">");
                buf_add_html(&b, error);
                buf_adds(&b, "</p>");
        }

        heading(&b, c, lang, "admin.units", admin ? "unit" : NULL, "admin.edit.add_unit");
        buf_adds(&b, "<table id=\"org-units\">");
        th(&b, c, lang, admin ? unit_heads : unit_heads_ro);
        buf_adds(&b, "<tbody>");
        for (size_t i = 0; i < org->n_units; i++) {
                const struct store_org_unit *u = &org->units[i];
                const char *name = name_in(lang, u->name, u->name_en);
                char key[48];

                if (!in[i])
                        continue;
                snprintf(key, sizeof(key), "admin.kind.%s", u->kind);
                buf_adds(&b, "<tr>");
                td(&b, u->code);
                td(&b, web_text(c, lang, key));
                buf_printf(&b, "<td class=\"d%d\">", depth[i] > 3 ? 3 : depth[i]);
                buf_add_html(&b, name);
                buf_adds(&b, "</td>");
                if (admin)
                        edit_link(&b, c, lang, "unit", u->code, name);
                buf_adds(&b, "</tr>");
        }
        buf_adds(&b, "</tbody></table>");
        heading(&b, c, lang, "admin.employees", "employee", "admin.edit.add_employee");
        buf_adds(&b, "<table id=\"org-employees\">");
        th(&b, c, lang, emp_heads);
        buf_adds(&b, "<tbody>");
        for (size_t i = 0; i < org->n_employees; i++) {
                const struct store_org_employee *e = &org->employees[i];

                if (!admin && !unit_in(org, in, e->unit))
                        continue;
                unit_row(&b, e->unit);
                td(&b, e->personal_no);
                td(&b, e->full_name);
                td(&b, e->position);
                unit_td(&b, org, lang, e->unit);
                edit_link(&b, c, lang, "employee", e->personal_no, e->full_name);
                buf_adds(&b, "</tr>");
        }
        buf_adds(&b, "</tbody></table>");
        heading(&b, c, lang, "admin.workplaces", admin ? "workplace" : NULL,
                "admin.edit.add_workplace");
        buf_adds(&b, "<table id=\"org-workplaces\">");
        th(&b, c, lang, admin ? wp_heads : wp_heads_ro);
        buf_adds(&b, "<tbody>");
        for (size_t i = 0; i < org->n_workplaces; i++) {
                const struct store_org_workplace *w = &org->workplaces[i];

                if (!admin && !unit_in(org, in, w->unit))
                        continue;
                unit_row(&b, w->unit);
                td(&b, w->code);
                td(&b, w->name);
                unit_td(&b, org, lang, w->unit);
                td(&b, w->direction);
                if (admin)
                        edit_link(&b, c, lang, "workplace", w->code, w->name);
                buf_adds(&b, "</tr>");
        }
        buf_adds(&b, "</tbody></table>");
        if (!admin)
                goto end;

        heading(&b, c, lang, "admin.directions", "direction", "admin.edit.add_direction");
        buf_adds(&b, "<table id=\"org-directions\">");
        th(&b, c, lang, dir_heads);
        buf_adds(&b, "<tbody>");
        for (size_t i = 0; i < org->n_directions; i++) {
                const struct store_org_direction *d = &org->directions[i];

                buf_adds(&b, "<tr>");
                td(&b, d->code);
                td(&b, d->name);
                td(&b, d->name_en);
                edit_link(&b, c, lang, "direction", d->code, d->name);
                buf_adds(&b, "</tr>");
        }
        buf_adds(&b, "</tbody></table><h2>");
        buf_add_html(&b, web_text(c, lang, "admin.import"));
        buf_adds(&b, "</h2><p>");
        for (const char *const *t = tables; *t; t++) {
                buf_printf(&b, "<a href=\"/admin/org/%s\">", *t);
                buf_add_html(&b, *t);
                buf_adds(&b, "</a> ");
        }
        buf_adds(&b, "</p>");
        admin_form_begin(&b, s, lang, "/admin/org/import", "class=\"stack\"");
        buf_adds(&b, "<label for=\"table\">");
        buf_add_html(&b, web_text(c, lang, "admin.table"));
        buf_adds(&b, "</label><select id=\"table\" name=\"table\">");
        for (const char *const *t = tables; *t; t++) {
                buf_printf(&b, "<option>");
                buf_add_html(&b, *t);
                buf_adds(&b, "</option>");
        }
        buf_adds(&b, "</select><label for=\"csv\">");
        buf_add_html(&b, web_text(c, lang, "admin.paste_csv"));
        buf_adds(&b, "</label><textarea id=\"csv\" name=\"csv\" rows=\"8\" required>");
        buf_add_html(&b, pasted ? pasted : "");
        buf_adds(&b, "</textarea><div class=\"inline\"><button type=\"submit\" name=\"mode\" "
                     "value=\"check\" class=\"small\">");
        buf_add_html(&b, web_text(c, lang, "admin.check"));
        buf_adds(&b, "</button><button type=\"submit\" name=\"mode\" value=\"save\" "
                     "class=\"small\">");
        buf_add_html(&b, web_text(c, lang, "admin.import_save"));
        buf_adds(&b, "</button></div></form>");
end:
        web_page_end(&b);
        admin_org_view_finish(&v);
        return web_respond(resp, error ? 400 : 200, "text/html; charset=utf-8", &b);
}

/* One table of the organisation as CSV, as `otsinka-collector export` writes it. */
static int export_table(struct collector *c, enum vote_lang lang, const char *name,
                        struct web_response *resp)
{
        struct store_org org = {0};
        struct buf b;
        int r;

        if (c->store->ops->org_export(c->store, &org) < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        buf_init(&b, 64 * 1024 * 1024);
        r = org_write_table(&org, name, &b);
        store_org_finish(&org);
        if (r < 0) {
                buf_free(&b);
                return web_message_page(c, lang, 500, "web.error", resp);
        }
        snprintf(resp->disposition, sizeof(resp->disposition), "attachment; filename=\"%s\"", name);
        return web_respond(resp, 200, "text/csv; charset=utf-8", &b);
}

static int handle_import(struct collector *c, const struct web_request *req, enum vote_lang lang,
                         const struct web_session *s, struct web_response *resp)
{
        char table[32], mode[8], err[512], notice[512], *csv;
        struct store_org org = {0};
        struct store_org_report rep = {0};
        bool known = false, save;
        int r;

        if (strcmp(req->method, "POST") != 0 || !admin_csrf_ok(req, s) ||
            admin_field(req, "table", table, sizeof(table)) <= 0 ||
            admin_field(req, "mode", mode, sizeof(mode)) <= 0)
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        for (const char *const *t = tables; *t; t++)
                known = known || strcmp(*t, table) == 0;
        if (!known || (strcmp(mode, "check") && strcmp(mode, "save")))
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        save = strcmp(mode, "save") == 0;
        csv = malloc(IMPORT_MAX);
        if (!csv)
                return web_message_page(c, lang, 503, "web.error", resp);
        r = admin_field(req, "csv", csv, IMPORT_MAX);
        if (r < 0) {
                free(csv);
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        }
        r = org_parse(table, csv, (size_t)r, &org, err, sizeof(err));
        if (r >= 0)
                r = c->store->ops->org_import(c->store, &org, !save, &rep);
        else
                snprintf(rep.error, sizeof(rep.error), "%s", err);
        store_org_finish(&org);
        if (r < 0) {
                r = org_page(c, lang, s, 0, NULL, rep.error[0] ? rep.error : strerror(-r), csv,
                             resp);
                free(csv);
                return r;
        }
        snprintf(notice, sizeof(notice), "%s %zu + %zu, %zu + %zu, %zu + %zu, %zu + %zu",
                 web_text(c, lang, save ? "admin.imported" : "admin.checked"), rep.added[0],
                 rep.changed[0], rep.added[1], rep.changed[1], rep.added[2], rep.changed[2],
                 rep.added[3], rep.changed[3]);
        if (save) {
                char detail[96];

                snprintf(detail, sizeof(detail), "%s: %zu added, %zu changed", table,
                         rep.added[0] + rep.added[1] + rep.added[2] + rep.added[3],
                         rep.changed[0] + rep.changed[1] + rep.changed[2] + rep.changed[3]);
                admin_audit(c, req, s->user.login, "org_import", detail);
        }
        r = org_page(c, lang, s, 0, notice, NULL, save ? NULL : csv, resp);
        free(csv);
        return r;
}

static int users_page(struct collector *c, enum vote_lang lang, const struct web_session *s,
                      const char *notice, const char *error_key, struct web_response *resp)
{
        static const char *const heads[] = {"admin.login_name", "admin.role", "web.unit", NULL};
        static const char *const roles[] = {"admin", "official", "manager", "auditor", NULL};
        struct store_user *u = NULL;
        size_t n = 0;
        struct buf b;

        if (c->store->ops->users_list(c->store, &u, &n) < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, "admin.users");
        if (notice) {
                buf_adds(&b, "<p class=\"ok\" role=\"status\">");
                buf_add_html(&b, notice);
                buf_adds(&b, "</p>");
        }
        if (error_key) {
                buf_adds(&b, "<p class=\"err\" role=\"alert\">");
                buf_add_html(&b, web_text(c, lang, error_key));
                buf_adds(&b, "</p>");
        }
        buf_adds(&b, "<table>");
        th(&b, c, lang, heads);
        buf_adds(&b, "<tbody>");
        for (size_t i = 0; i < n; i++) {
                char key[32], unit[24] = "";

                snprintf(key, sizeof(key), "admin.role.%s", u[i].role);
                if (u[i].unit_id)
                        snprintf(unit, sizeof(unit), "U%" PRId64, u[i].unit_id);
                buf_adds(&b, "<tr>");
                td(&b, u[i].login);
                td(&b, web_text(c, lang, key));
                td(&b, unit);
                buf_adds(&b, "</tr>");
        }
        buf_adds(&b, "</tbody></table><h2>");
        buf_add_html(&b, web_text(c, lang, "admin.user_add"));
        buf_adds(&b, "</h2>");
        admin_form_begin(&b, s, lang, "/admin/users/add", "class=\"stack\"");
        buf_adds(&b, "<label for=\"login\">");
        buf_add_html(&b, web_text(c, lang, "admin.login_name"));
        buf_adds(&b, "</label><input id=\"login\" name=\"login\" required maxlength=\"63\" "
                     "autocomplete=\"off\"><label for=\"role\">");
        buf_add_html(&b, web_text(c, lang, "admin.role"));
        buf_adds(&b, "</label><select id=\"role\" name=\"role\">");
        for (const char *const *r = roles; *r; r++) {
                char key[32];

                snprintf(key, sizeof(key), "admin.role.%s", *r);
                buf_printf(&b, "<option value=\"%s\">", *r);
                buf_add_html(&b, web_text(c, lang, key));
                buf_adds(&b, "</option>");
        }
        buf_adds(&b, "</select><label for=\"unit\">");
        buf_add_html(&b, web_text(c, lang, "admin.unit_code"));
        buf_adds(&b, "</label><input id=\"unit\" name=\"unit\" maxlength=\"64\"><label "
                     "for=\"password\">");
        buf_add_html(&b, web_text(c, lang, "admin.new_password"));
        buf_adds(&b, "</label><input id=\"password\" name=\"password\" type=\"password\" "
                     "required minlength=\"12\" maxlength=\"255\" autocomplete=\"new-password\">"
                     "<button type=\"submit\">");
        buf_add_html(&b, web_text(c, lang, "admin.user_add"));
        buf_adds(&b, "</button></form>");
        web_page_end(&b);
        free(u);
        return web_respond(resp, error_key ? 400 : 200, "text/html; charset=utf-8", &b);
}

static int handle_user_add(struct collector *c, const struct web_request *req, enum vote_lang lang,
                           const struct web_session *s, struct web_response *resp)
{
        char login[64], role[16], unit[VOTE_REF_MAX + 1] = "", password[256],
                                                      hash[crypto_pwhash_STRBYTES], notice[128];
        struct store_org org = {0};
        int64_t unit_id = 0;
        bool scoped;
        int r;

        if (strcmp(req->method, "POST") != 0 || !admin_csrf_ok(req, s) ||
            admin_field(req, "login", login, sizeof(login)) <= 0 ||
            admin_field(req, "role", role, sizeof(role)) <= 0 ||
            admin_field(req, "unit", unit, sizeof(unit)) < 0)
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        if (strcmp(role, "admin") && strcmp(role, "official") && strcmp(role, "manager") &&
            strcmp(role, "auditor"))
                return web_message_page(c, lang, 400, "admin.bad_form", resp);
        scoped = strcmp(role, "official") == 0 || strcmp(role, "manager") == 0;
        if (scoped != (unit[0] != 0))
                return users_page(c, lang, s, NULL, "admin.user_unit_rule", resp);
        if (scoped) {
                if (c->store->ops->org_export(c->store, &org) < 0)
                        return web_message_page(c, lang, 503, "web.error", resp);
                for (size_t i = 0; i < org.n_units; i++)
                        if (strcmp(org.units[i].code, unit) == 0)
                                unit_id = org.units[i].id;
                store_org_finish(&org);
                if (!unit_id)
                        return users_page(c, lang, s, NULL, "admin.unknown_unit", resp);
        }
        r = admin_field(req, "password", password, sizeof(password));
        if (r < 12) {
                sodium_memzero(password, sizeof(password));
                return users_page(c, lang, s, NULL, "admin.password_rule", resp);
        }
        r = pwhash_make(hash, password, strlen(password));
        if (r >= 0)
                r = c->store->ops->user_add(c->store, login, hash, role, unit_id);
        sodium_memzero(password, sizeof(password));
        if (r == -EEXIST)
                return users_page(c, lang, s, NULL, "admin.login_taken", resp);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        snprintf(notice, sizeof(notice), "%s %s (%s)", web_text(c, lang, "admin.user_added"), login,
                 role);
        {
                char detail[sizeof(login) + sizeof(role) + sizeof(unit) + 4];

                snprintf(detail, sizeof(detail), "%s %s %s", login, role, unit);
                admin_audit(c, req, s->user.login, "user_add", detail);
        }
        return users_page(c, lang, s, notice, NULL, resp);
}

static int audit_page(struct collector *c, enum vote_lang lang, const struct web_session *s,
                      struct web_response *resp)
{
        static const char *const heads[] = {"admin.when",   "admin.login_name", "admin.action",
                                            "admin.detail", "admin.client",     NULL};
        struct store_audit *a = NULL;
        size_t n = 0;
        struct buf b;

        if (c->store->ops->audit_list(c->store, 500, &a, &n) < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, "admin.audit");
        buf_adds(&b, "<table>");
        th(&b, c, lang, heads);
        buf_adds(&b, "<tbody>");
        for (size_t i = 0; i < n; i++) {
                char when[32];

                admin_format_time(a[i].at, when, sizeof(when));
                buf_adds(&b, "<tr>");
                td(&b, when);
                td(&b, a[i].login);
                td(&b, a[i].action);
                td(&b, a[i].detail);
                td(&b, a[i].client);
                buf_adds(&b, "</tr>");
        }
        buf_adds(&b, "</tbody></table>");
        web_page_end(&b);
        free(a);
        return web_respond(resp, 200, "text/html; charset=utf-8", &b);
}

int admin_org_handle(struct collector *c, const struct web_request *req, enum vote_lang lang,
                     const struct web_session *s, struct web_response *resp)
{
        const char *path = req->path;
        bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
        int r;

        if (strcmp(path, "/admin/org") && strncmp(path, "/admin/org/", 11) &&
            strcmp(path, "/admin/users") && strncmp(path, "/admin/users/", 13) &&
            strcmp(path, "/admin/audit"))
                return -ENOENT;
        /* the record forms check roles themselves: officials edit employees there */
        r = admin_edit_handle(c, req, lang, s, resp);
        if (r != -ENOENT)
                return r;
        if (strcmp(path, "/admin/org") == 0 && get && admin_scope(&s->user) > 0)
                return org_page(c, lang, s, admin_scope(&s->user), NULL, NULL, NULL, resp);
        if (strcmp(s->user.role, "admin") != 0)
                return web_message_page(c, lang, 403, "admin.forbidden", resp);
        if (strcmp(path, "/admin/org") == 0 && get)
                return org_page(c, lang, s, 0, NULL, NULL, NULL, resp);
        if (strcmp(path, "/admin/org/import") == 0)
                return handle_import(c, req, lang, s, resp);
        for (const char *const *t = tables; *t; t++)
                if (strncmp(path, "/admin/org/", 11) == 0 && strcmp(path + 11, *t) == 0 && get)
                        return export_table(c, lang, *t, resp);
        if (strcmp(path, "/admin/users") == 0 && get)
                return users_page(c, lang, s, NULL, NULL, resp);
        if (strcmp(path, "/admin/users/add") == 0)
                return handle_user_add(c, req, lang, s, resp);
        if (strcmp(path, "/admin/audit") == 0 && get)
                return audit_page(c, lang, s, resp);
        return web_message_page(c, lang, get ? 404 : 405, get ? "web.not_found" : "web.error",
                                resp);
}
