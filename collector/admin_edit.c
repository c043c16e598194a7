/* SPDX-License-Identifier: MIT */
/* The organisation record by record: a form to add or change a unit, a direction of service,
 * an employee or a workplace (/admin/org/<kind>, with ?code= to change one). Administrators
 * edit everything; an official adds and changes the employees of their own unit's subtree and
 * nothing else: a record outside it answers 404 as if it did not exist, a move out of it 403;
 * managers and auditors edit nothing. A refused form comes back with what was typed and the
 * field at fault marked. Every change is one store transaction and one audit entry that says
 * what changed; votes keep the unit they were cast in, so a move never rewrites history. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin.h"
#include "store.h"

#define INPUT_MAX 1024 /* bytes of one typed field read, so that a long one can be shown */
#define TEXT_CHARS 127 /* maxlength of a name: 255 bytes hold 127 Cyrillic letters */
#define AUDIT_MAX 8192 /* bytes of an audit entry's details: room for every field twice */

/* The unit kinds of the regulation (section 1), as the store checks them. */
static const char *const unit_kinds[] = {
    "council",    "executive_body", "department",  "directorate", "district_committee",
    "enterprise", "establishment",  "institution", "section",     NULL};

enum field_type {
        F_CODE,      /* a code: 1 to 64 of A-Z a-z 0-9 . _ - */
        F_TEXT,      /* a name: UTF-8 without control characters */
        F_UNIT,      /* a unit's code, chosen from the units the user may use */
        F_DIRECTION, /* a direction's code, or none */
        F_KIND,      /* one of unit_kinds */
        F_CHECK,     /* yes or no (a bool) */
};

/* One field of a form: its name (the CSV column's), its label, and where it lives in a record. */
struct field {
        const char *name;
        const char *label;
        enum field_type type;
        bool required;
        size_t off, size; /* in struct store_org_record; size of the char array */
};

#define FIELD(member, name, label, type, required)                                                 \
        {                                                                                          \
                name, label, type, required, offsetof(struct store_org_record, member),            \
                    sizeof(((struct store_org_record *)0)->member)                                 \
        }

static const struct field unit_fields[] = {
    FIELD(unit.code, "code", "admin.code", F_CODE, true),
    FIELD(unit.parent, "parent", "admin.edit.parent", F_UNIT, false),
    FIELD(unit.kind, "kind", "admin.kind", F_KIND, true),
    FIELD(unit.name, "name", "admin.edit.name", F_TEXT, true),
    FIELD(unit.name_en, "name_en", "admin.edit.name_en", F_TEXT, false),
    {0},
};
static const struct field direction_fields[] = {
    FIELD(direction.code, "code", "admin.code", F_CODE, true),
    FIELD(direction.name, "name", "admin.edit.name", F_TEXT, true),
    FIELD(direction.name_en, "name_en", "admin.edit.name_en", F_TEXT, false),
    {0},
};
static const struct field employee_fields[] = {
    FIELD(employee.personal_no, "personal_no", "admin.personal_no", F_CODE, true),
    FIELD(employee.full_name, "full_name", "admin.edit.full_name", F_TEXT, true),
    FIELD(employee.position, "position", "admin.position", F_TEXT, true),
    FIELD(employee.unit, "unit", "web.unit", F_UNIT, true),
    FIELD(employee.is_head, "is_head", "admin.edit.is_head", F_CHECK, false),
    {0},
};
static const struct field workplace_fields[] = {
    FIELD(workplace.code, "code", "admin.code", F_CODE, true),
    FIELD(workplace.name, "name", "admin.edit.name", F_TEXT, true),
    FIELD(workplace.unit, "unit", "web.unit", F_UNIT, true),
    FIELD(workplace.direction, "direction", "admin.direction", F_DIRECTION, false),
    {0},
};

/* The kinds of records, by the last part of their path. */
static const struct kind {
        const char *path;
        enum store_org_kind kind;
        const char *title_new, *title_edit; /* translation keys */
        const struct field *fields;         /* the first is the code the record is known by */
        bool officials;                     /* officials edit it inside their subtree */
} kinds[] = {
    {"unit", STORE_ORG_UNIT, "admin.edit.new_unit", "admin.edit.unit", unit_fields, false},
    {"direction", STORE_ORG_DIRECTION, "admin.edit.new_direction", "admin.edit.direction",
     direction_fields, false},
    {"employee", STORE_ORG_EMPLOYEE, "admin.edit.new_employee", "admin.edit.employee",
     employee_fields, true},
    {"workplace", STORE_ORG_WORKPLACE, "admin.edit.new_workplace", "admin.edit.workplace",
     workplace_fields, false},
};

static char *text_of(struct store_org_record *rec, const struct field *f)
{
        return (char *)rec + f->off;
}

static const char *ctext_of(const struct store_org_record *rec, const struct field *f)
{
        return (const char *)rec + f->off;
}

static bool *flag_of(struct store_org_record *rec, const struct field *f)
{
        return (bool *)((char *)rec + f->off);
}

static bool cflag_of(const struct store_org_record *rec, const struct field *f)
{
        return *(const bool *)((const char *)rec + f->off);
}

void admin_org_view_finish(struct admin_org_view *v)
{
        store_org_finish(&v->org);
        free(v->depth);
        free(v->in);
        memset(v, 0, sizeof(*v));
}

int admin_org_view_load(struct collector *c, int64_t scope, struct admin_org_view *ret)
{
        struct admin_org_view v = {0};
        const struct store_org *org = &v.org;
        int r;

        r = c->store->ops->org_export(c->store, &v.org);
        if (r < 0)
                return r;
        v.depth = calloc(org->n_units + 1, sizeof(*v.depth));
        v.in = calloc(org->n_units + 1, sizeof(*v.in));
        if (!v.depth || !v.in) {
                admin_org_view_finish(&v);
                return -ENOMEM;
        }
        for (size_t i = 0; i < org->n_units; i++) {
                const struct store_org_unit *u = &org->units[i];
                size_t j = i;

                /* the parent, listed before */
                if (u->parent[0])
                        for (j = 0; j < i && strcmp(org->units[j].code, u->parent) != 0; j++)
                                ;
                v.depth[i] = j < i ? v.depth[j] + 1 : 0;
                v.in[i] = scope == 0 || u->id == scope || (j < i && v.in[j]);
        }
        *ret = v;
        return 0;
}

/* What went wrong with a form: the field (NULL for the whole form), the message, the status. */
struct problem {
        const struct field *field;
        const char *key;
        int status;
};

/* ---- the page ---- */

/* One <option>: the code as its value, "name (code)" shown, indented by depth. */
static void option(struct buf *b, const char *code, const char *name, int depth, bool selected)
{
        buf_adds(b, "<option value=\"");
        buf_add_html(b, code);
        buf_adds(b, selected ? "\" selected>" : "\">");
        for (int d = 0; d < depth && d < 6; d++)
                buf_adds(b, "\u00a0\u00a0\u00a0");
        buf_add_html(b, name);
        buf_adds(b, " (");
        buf_add_html(b, code);
        buf_adds(b, ")</option>");
}

/* The options of a <select> of units (the ones the user may use) or of directions, after an
 * empty one (none, or for a required choice the prompt to make one). A chosen code that is
 * not among them is shown too, so that nothing sent is lost. */
static void options(struct buf *b, struct collector *c, enum vote_lang lang,
                    const struct admin_org_view *v, bool units, const char *empty_key,
                    const char *chosen)
{
        const struct store_org *org = &v->org;
        bool found = !chosen[0];
        size_t n = units ? org->n_units : org->n_directions;

        buf_adds(b, "<option value=\"\">");
        buf_add_html(b, web_text(c, lang, empty_key));
        buf_adds(b, "</option>");
        for (size_t i = 0; i < n; i++) {
                const char *code = units ? org->units[i].code : org->directions[i].code;
                const char *name = units ? org->units[i].name : org->directions[i].name;
                const char *name_en = units ? org->units[i].name_en : org->directions[i].name_en;
                bool sel = strcmp(code, chosen) == 0;

                if (units && !v->in[i])
                        continue;
                found = found || sel;
                option(b, code, lang == VOTE_LANG_EN && name_en[0] ? name_en : name,
                       units ? v->depth[i] : 0, sel);
        }
        if (!found)
                option(b, chosen, "?", 0, true);
}

static void kind_options(struct buf *b, struct collector *c, enum vote_lang lang,
                         const char *chosen)
{
        for (const char *const *k = unit_kinds; *k; k++) {
                char key[48];

                snprintf(key, sizeof(key), "admin.kind.%s", *k);
                buf_printf(b, "<option value=\"%s\"%s>", *k,
                           strcmp(*k, chosen) == 0 ? " selected" : "");
                buf_add_html(b, web_text(c, lang, key));
                buf_adds(b, "</option>");
        }
}

/* One field of the form with its label; the one at fault is marked and takes the focus. */
static void field_html(struct buf *b, struct collector *c, enum vote_lang lang,
                       const struct field *f, const struct store_org_record *rec,
                       const struct admin_org_view *view, bool bad)
{
        const char *v = ctext_of(rec, f);
        const char *mark =
            bad ? " aria-invalid=\"true\" aria-describedby=\"problem\" autofocus" : "";

        if (f->type == F_CHECK) {
                buf_printf(b,
                           "<label class=\"inline\"><input type=\"checkbox\" id=\"f-%s\" "
                           "name=\"%s\" value=\"1\"%s%s> ",
                           f->name, f->name, cflag_of(rec, f) ? " checked" : "", mark);
                buf_add_html(b, web_text(c, lang, f->label));
                buf_adds(b, "</label>");
                return;
        }
        buf_printf(b, "<label for=\"f-%s\">", f->name);
        buf_add_html(b, web_text(c, lang, f->label));
        buf_adds(b, "</label>");
        switch (f->type) {
        case F_UNIT:
        case F_DIRECTION:
        case F_KIND:
                buf_printf(b, "<select id=\"f-%s\" name=\"%s\"%s%s>", f->name, f->name,
                           f->required ? " required" : "", mark);
                if (f->type == F_KIND)
                        kind_options(b, c, lang, v);
                else
                        options(b, c, lang, view, f->type == F_UNIT,
                                f->type == F_DIRECTION ? "admin.edit.no_direction"
                                : f->required          ? "admin.edit.choose"
                                                       : "admin.edit.no_parent",
                                v);
                buf_adds(b, "</select>");
                break;
        default:
                buf_printf(b, "<input id=\"f-%s\" name=\"%s\"%s%s", f->name, f->name,
                           f->required ? " required" : "", mark);
                if (f->type == F_CODE)
                        buf_printf(b,
                                   " maxlength=\"%d\" pattern=\"[A-Za-z0-9._\\-]+\" "
                                   "autocomplete=\"off\" spellcheck=\"false\"",
                                   VOTE_REF_MAX);
                else
                        buf_printf(b, " maxlength=\"%d\"", TEXT_CHARS);
                buf_adds(b, " value=\"");
                buf_add_html(b, v);
                buf_adds(b, "\">");
        }
}

/* The form: orig is the code of the record being changed ("" for a new one), rec what it
 * shows, notice_key a line above it, p what was wrong (or NULL). */
static int edit_page(struct collector *c, enum vote_lang lang, const struct web_session *s,
                     int64_t scope, const struct kind *k, const char *orig,
                     const struct store_org_record *rec, const char *notice_key,
                     const struct problem *p, struct web_response *resp)
{
        struct admin_org_view v;
        char action[64];
        struct buf b;

        if (admin_org_view_load(c, scope, &v) < 0)
                return web_message_page(c, lang, 503, "web.error", resp);

        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, orig[0] ? k->title_edit : k->title_new);
        buf_printf(&b, "<p><a href=\"/admin/org%s\">", admin_lang_query(lang));
        buf_add_html(&b, web_text(c, lang, "admin.edit.back"));
        buf_adds(&b, "</a></p>");
        if (notice_key) {
                buf_adds(&b, "<p class=\"ok\" role=\"status\">");
                buf_add_html(&b, web_text(c, lang, notice_key));
                buf_adds(&b, "</p>");
        }
        if (p) {
                buf_adds(&b, "<p class=\"err\" role=\"alert\" id=\"problem\">");
                if (p->field) {
                        buf_add_html(&b, web_text(c, lang, p->field->label));
                        buf_adds(&b, ": ");
                }
                buf_add_html(&b, web_text(c, lang, p->key));
                buf_adds(&b, "</p>");
        }
        snprintf(action, sizeof(action), "/admin/org/%s", k->path);
        admin_form_begin(&b, s, lang, action, "class=\"stack\" style=\"max-width:40rem\"");
        admin_hidden(&b, "orig", orig);
        for (const struct field *f = k->fields; f->name; f++)
                field_html(&b, c, lang, f, rec, &v, p && p->field == f);
        buf_adds(&b, "<button type=\"submit\">");
        buf_add_html(&b, web_text(c, lang, "admin.edit.save"));
        buf_adds(&b, "</button></form>");
        web_page_end(&b);
        admin_org_view_finish(&v);
        return web_respond(resp, p ? p->status : 200, "text/html; charset=utf-8", &b);
}

/* A refusal inside the signed-in frame, so that the way back stays on the screen: 403, 404. */
static int refusal(struct collector *c, enum vote_lang lang, const struct web_session *s,
                   const struct kind *k, int status, const char *key, struct web_response *resp)
{
        struct buf b;

        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, s, k->title_edit);
        buf_adds(&b, "<p class=\"err\" role=\"alert\">");
        buf_add_html(&b, web_text(c, lang, key));
        buf_adds(&b, "</p>");
        if (admin_scope(&s->user) >= 0) {
                buf_printf(&b, "<p><a href=\"/admin/org%s\">", admin_lang_query(lang));
                buf_add_html(&b, web_text(c, lang, "admin.edit.back"));
                buf_adds(&b, "</a></p>");
        }
        web_page_end(&b);
        return web_respond(resp, status, "text/html; charset=utf-8", &b);
}

/* ---- reading and checking a form ---- */

static bool text_ok(const char *s)
{
        json_t *j;

        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        /* the reports write names as JSON: what jansson refuses (not UTF-8) would break them */
        j = json_string(s);
        json_decref(j);
        return j != NULL;
}

/* Cuts ASCII blanks off both ends. */
static void trim(char *s)
{
        size_t n = strlen(s), a = 0;

        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        while (a < n && (s[a] == ' ' || s[a] == '\t'))
                a++;
        memmove(s, s + a, n - a);
        s[n - a] = 0;
}

/* Copies what was typed into dst (n bytes), cut before a UTF-8 character it would split. */
static void keep(char *dst, size_t n, const char *src)
{
        size_t len = strlen(src);

        if (len >= n) {
                len = n - 1;
                while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
                        len--;
        }
        memcpy(dst, src, len);
        dst[len] = 0;
}

/* Reads the form's fields into *rec (as much as fits, to show them again) and checks them:
 * 0, or -EINVAL with *p saying what is wrong. */
static int read_form(const struct web_request *req, const struct kind *k,
                     struct store_org_record *rec, struct problem *p)
{
        char in[INPUT_MAX];
        int bad = 0;

        memset(rec, 0, sizeof(*rec));
        rec->kind = k->kind;
        for (const struct field *f = k->fields; f->name; f++) {
                const char *key = NULL;
                int r = admin_field(req, f->name, in, sizeof(in));

                if (r == -ENOENT) { /* a browser leaves out an unticked box, nothing else */
                        r = 0;
                        in[0] = 0;
                }
                if (f->type == F_CHECK) {
                        *flag_of(rec, f) = r > 0 && strcmp(in, "1") == 0;
                        continue;
                }
                if (r < 0) {
                        in[0] = 0;
                        key = r == -ENAMETOOLONG ? "admin.edit.too_long" : "admin.edit.bad_text";
                } else {
                        trim(in);
                        if (!in[0] && f->required)
                                key = "admin.edit.required";
                        else if (f->type != F_TEXT && in[0] && !vote_ref_valid(in))
                                key = f->type == F_CODE ? "admin.edit.bad_code"
                                                        : "admin.edit.no_such";
                        else if (strlen(in) >= f->size)
                                key = "admin.edit.too_long";
                        else if (!text_ok(in))
                                key = "admin.edit.bad_text";
                }
                keep(text_of(rec, f), f->size, text_ok(in) ? in : "");
                if (key && !bad) {
                        *p = (struct problem){f, key, 400};
                        bad = -EINVAL;
                }
        }
        return bad;
}

/* ---- the audit entry ---- */

static void field_value(struct buf *b, const struct store_org_record *rec, const struct field *f)
{
        if (f->type == F_CHECK)
                buf_adds(b, cflag_of(rec, f) ? "1" : "0");
        else
                buf_printf(b, "\"%s\"", ctext_of(rec, f));
}

/* What an audit entry says, into *ret (malloc'd; NULL when memory ran out): "CODE: field
 * "old" -> "new"; ..." for a change, "CODE: field "value"; ..." for a new record. Returns
 * whether anything changed. */
static bool audit_detail(const struct kind *k, const char *orig, const struct store_org_record *old,
                         const struct store_org_record *rec, char **ret)
{
        const char *sep = ": ";
        struct buf b;
        bool changed = false;

        buf_init(&b, AUDIT_MAX);
        buf_adds(&b, orig[0] ? orig : ctext_of(rec, k->fields));
        for (const struct field *f = k->fields; f->name; f++) {
                bool same = f->type == F_CHECK ? cflag_of(old, f) == cflag_of(rec, f)
                                               : strcmp(ctext_of(old, f), ctext_of(rec, f)) == 0;

                if (orig[0] && same)
                        continue;
                changed = true;
                buf_adds(&b, sep);
                buf_adds(&b, f->name);
                buf_adds(&b, " ");
                if (orig[0]) {
                        field_value(&b, old, f);
                        buf_adds(&b, " -> ");
                }
                field_value(&b, rec, f);
                sep = "; ";
        }
        *ret = buf_take(&b, NULL);
        return changed;
}

/* ---- requests ---- */

/* 303 to the record's form, saying it was saved (or that nothing changed). */
static int to_record(struct web_response *resp, const struct kind *k, const char *code,
                     bool changed, enum vote_lang lang)
{
        snprintf(resp->location, sizeof(resp->location), "/admin/org/%s?code=%s&done=%s%s", k->path,
                 code, changed ? "saved" : "same", lang == VOTE_LANG_EN ? "&lang=en" : "");
        return web_respond_text(resp, 303, "text/plain; charset=utf-8", "See Other\n");
}

static const struct field *field_named(const struct kind *k, const char *name)
{
        for (const struct field *f = k->fields; name && f->name; f++)
                if (strcmp(f->name, name) == 0)
                        return f;
        return NULL;
}

static int handle_save(struct collector *c, const struct web_request *req, enum vote_lang lang,
                       const struct web_session *s, int64_t scope, const struct kind *k,
                       struct web_response *resp)
{
        struct store_org_record rec, old;
        struct problem p = {0};
        const char *field = NULL;
        char orig[VOTE_REF_MAX + 1], action[32], *detail = NULL;
        bool changed;
        int r;

        if (!admin_csrf_ok(req, s))
                return refusal(c, lang, s, k, 403, "admin.bad_form", resp);
        r = admin_field(req, "orig", orig, sizeof(orig));
        if (r == -ENOENT)
                orig[0] = 0;
        else if (r < 0 || (orig[0] && !vote_ref_valid(orig)))
                return refusal(c, lang, s, k, 404, "web.not_found", resp);
        if (read_form(req, k, &rec, &p) < 0)
                return edit_page(c, lang, s, scope, k, orig, &rec, NULL, &p, resp);
        r = c->store->ops->org_record_save(c->store, scope, orig, &rec, &old, &field);
        p.field = field_named(k, field);
        switch (r) {
        case 0:
                break;
        case -ENOENT:
                if (!p.field) /* the record is gone, or was never the user's to see */
                        return refusal(c, lang, s, k, 404, "web.not_found", resp);
                p.key = "admin.edit.no_such";
                p.status = 400;
                break;
        case -EACCES:
                if (!p.field)
                        return refusal(c, lang, s, k, 403, "admin.forbidden", resp);
                p.key = "admin.edit.outside";
                p.status = 403;
                break;
        case -EEXIST:
                p.key = "admin.edit.taken";
                p.status = 409;
                break;
        case -ELOOP:
                p.key = "admin.edit.loop";
                p.status = 400;
                break;
        case -EINVAL:
                p.key = "admin.edit.bad_value";
                p.status = 400;
                break;
        default:
                return web_message_page(c, lang, 503, "web.error", resp);
        }
        if (r < 0)
                return edit_page(c, lang, s, scope, k, orig, &rec, NULL, &p, resp);

        changed = audit_detail(k, orig, &old, &rec, &detail);
        if (changed) {
                snprintf(action, sizeof(action), "org_%s_%s", k->path, orig[0] ? "edit" : "add");
                admin_audit(c, req, s->user.login, action,
                            detail ? detail : ctext_of(&rec, k->fields));
        }
        free(detail);
        return to_record(resp, k, ctext_of(&rec, k->fields), changed, lang);
}

/* The form of a record (?code=) or of a new one (?unit= or ?parent= chooses where). */
static int show_form(struct collector *c, const struct web_request *req, enum vote_lang lang,
                     const struct web_session *s, int64_t scope, const struct kind *k,
                     struct web_response *resp)
{
        const char *code = req->arg(req->ctx, "code");
        const char *done = req->arg(req->ctx, "done");
        const char *where = req->arg(req->ctx, k->kind == STORE_ORG_UNIT ? "parent" : "unit");
        const char *notice = NULL;
        struct store_org_record rec = {.kind = k->kind};
        int r;

        if (code) {
                if (!vote_ref_valid(code))
                        return refusal(c, lang, s, k, 404, "web.not_found", resp);
                r = c->store->ops->org_record_get(c->store, scope, code, &rec);
                if (r == -ENOENT)
                        return refusal(c, lang, s, k, 404, "web.not_found", resp);
                if (r < 0)
                        return web_message_page(c, lang, 503, "web.error", resp);
                if (done)
                        notice = strcmp(done, "saved") == 0 ? "admin.edit.saved"
                                                            : "admin.edit.unchanged";
                return edit_page(c, lang, s, scope, k, code, &rec, notice, NULL, resp);
        }
        for (const struct field *f = k->fields; f->name; f++)
                if (f->type == F_UNIT && where && vote_ref_valid(where))
                        keep(text_of(&rec, f), f->size, where);
        if (k->kind == STORE_ORG_UNIT)
                keep(rec.unit.kind, sizeof(rec.unit.kind), "section");
        return edit_page(c, lang, s, scope, k, "", &rec, NULL, NULL, resp);
}

int admin_edit_handle(struct collector *c, const struct web_request *req, enum vote_lang lang,
                      const struct web_session *s, struct web_response *resp)
{
        const char *path = req->path;
        const struct kind *k = NULL;
        bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
        int64_t scope;

        if (strncmp(path, "/admin/org/", 11) != 0)
                return -ENOENT;
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !k; i++)
                if (strcmp(path + 11, kinds[i].path) == 0)
                        k = &kinds[i];
        if (!k)
                return -ENOENT;
        /* administrators everything; officials what the kind allows, in their subtree */
        scope = admin_scope(&s->user);
        if (scope < 0 || (scope > 0 && !k->officials))
                return refusal(c, lang, s, k, 403, "admin.forbidden", resp);
        if (get)
                return show_form(c, req, lang, s, scope, k, resp);
        if (strcmp(req->method, "POST") == 0)
                return handle_save(c, req, lang, s, scope, k, resp);
        return web_message_page(c, lang, 405, "web.error", resp);
}
