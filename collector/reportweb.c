/* SPDX-License-Identifier: MIT */
/* The results on the web (docs/reports-api.md): the public page and open data (no sign-in;
 * per-employee results only with public-employees), the JSON API of every report, the
 * dashboards of signed-in users (leadership — admin, auditor — the whole city; a manager or an
 * official their unit's subtree) drilling down from the city to one employee, and the monthly
 * report as PDF, XLSX and CSV. Every figure comes from the store's pre-aggregated cuts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admin.h"
#include "alert.h"
#include "apitoken.h"
#include "csv.h"
#include "period.h"
#include "report.h"
#include "reportdoc.h"
#include "reportsvg.h"
#include "store.h"
#include "webpage.h"

#define TREND_MONTHS 12
#define ROWS_MAX 100000

/* Who asks, and what they may see. */
struct viewer {
        bool signed_in; /* by the sign-in page's session, or by an API token */
        struct web_session s;
        int64_t scope;  /* the subtree they see; 0 = the whole city */
        bool employees; /* per-employee results */
};

/* Who asks: an API token (Authorization: Bearer, apitoken.h) where programs read — not on the
 * dashboard, a page for people — else the sign-in page's session, else the public. A token acts
 * exactly as a signed-in user of its role. A bearer token that is not a live API token is an
 * error for apitoken_reject(), never an answer as to the public. */
static int viewer_find(struct collector *c, const struct web_request *req, struct viewer *v)
{
        int r;

        memset(v, 0, sizeof(*v));
        v->employees = c->cfg->public_employees;
        r = strcmp(req->path, "/dashboard") != 0 ? apitoken_find(c, req, &v->s.user) : -ENOENT;
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == -ENOENT && web_session_find(c, req, &v->s) < 0)
                return 0;
        v->signed_in = true;
        v->employees = true;
        if (strcmp(v->s.user.role, "admin") == 0 || strcmp(v->s.user.role, "auditor") == 0)
                v->scope = 0;
        else
                v->scope = v->s.user.unit_id;
        return 0;
}

static const char *arg(const struct web_request *req, const char *name)
{
        const char *s = req->arg(req->ctx, name);

        return s && *s ? s : NULL;
}

/* A positive id from ?name=, 0 when absent; -EINVAL when malformed. */
static int arg_id(const struct web_request *req, const char *name, int64_t *ret)
{
        const char *s = arg(req, name);
        char *end;
        long long v;

        *ret = 0;
        if (!s)
                return 0;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end || v <= 0 || end - s > 18)
                return -EINVAL;
        *ret = v;
        return 0;
}

static const char *unit_name(const struct store_named *u, enum vote_lang lang)
{
        if (!u)
                return "?";
        return lang == VOTE_LANG_EN && u->name_en[0] ? u->name_en : u->name;
}

static int respond_json(struct web_response *resp, json_t *root)
{
        char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;

        json_decref(root);
        if (!s)
                return -ENOMEM;
        resp->status = 200;
        resp->content_type = "application/json";
        resp->body = s;
        resp->body_len = strlen(s);
        return 0;
}

static int respond_bytes(struct web_response *resp, const char *type, char *data, size_t len)
{
        resp->status = 200;
        resp->content_type = type;
        resp->body = data;
        resp->body_len = len;
        return 0;
}

/* The figure columns of an open-data CSV row, which they end: the three levels, the total, the
 * index and its interval (empty without votes) and the votes not counted. */
static void csv_fig(struct buf *b, const struct report_fig *f)
{
        const double ci[] = {f->index, f->lo, f->hi};
        char s[64];

        for (int l = 1; l <= 3; l++) {
                snprintf(s, sizeof(s), "%" PRId64, f->n.level[l]);
                csv_write_field(b, s, false);
        }
        snprintf(s, sizeof(s), "%" PRId64, f->n.level[0]);
        csv_write_field(b, s, false);
        for (int k = 0; k < 3; k++) {
                s[0] = 0;
                if (f->n.level[0])
                        snprintf(s, sizeof(s), "%.2f", ci[k]);
                csv_write_field(b, s, false);
        }
        snprintf(s, sizeof(s), "%" PRId64, f->not_counted);
        csv_write_field(b, s, true);
}

static json_t *fig_json(const struct report_fig *f)
{
        json_t *o = json_pack(
            "{s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}}", "satisfactory", (json_int_t)f->n.level[1],
            "good", (json_int_t)f->n.level[2], "exemplary", (json_int_t)f->n.level[3], "total",
            (json_int_t)f->n.level[0], "not_counted", "suppressed", (json_int_t)f->n.suppressed,
            "flagged", (json_int_t)f->n.flagged, "excluded", (json_int_t)f->n.excluded);

        if (o && f->n.level[0]) {
                json_object_set_new(o, "index", json_real(f->index));
                json_object_set_new(o, "ci_low", json_real(f->lo));
                json_object_set_new(o, "ci_high", json_real(f->hi));
                json_object_set_new(o, "shares",
                                    json_pack("{s:f, s:f, s:f}", "satisfactory", f->share[1],
                                              "good", f->share[2], "exemplary", f->share[3]));
        } else if (o) {
                json_object_set_new(o, "index", json_null());
                json_object_set_new(o, "ci_low", json_null());
                json_object_set_new(o, "ci_high", json_null());
        }
        return o;
}

/* ---- the selection a request asks for ---- */

struct selection {
        struct report_periods ps;
        struct store_cut q; /* unit, filters; days of ps.p[REPORT_CUR] */
        enum store_cut_by by;
};

static const char *const by_names[] = {"total",     "unit",     "employee",     "direction",
                                       "workplace", "channel",  "terminal",     "day",
                                       "month",     "weekhour", "employee_unit"};

/* Reads period, unit, employee, direction, workplace, channel, terminal and by. -EINVAL names
 * the bad parameter in what; -EACCES for a unit outside the viewer's subtree or employees the
 * viewer may not see. */
static int selection_read(struct collector *c, const struct web_request *req,
                          const struct viewer *v, const struct store_report_org *org,
                          struct selection *sel, const char **what)
{
        const char *s;
        int r;

        memset(sel, 0, sizeof(*sel));
        *what = "period";
        if (report_periods_make(arg(req, "period"), time(NULL), PERIOD_MONTH, &sel->ps) < 0)
                return -EINVAL;
        r = report_cut_period(&sel->ps.p[REPORT_CUR], &sel->q);
        if (r < 0)
                return -EINVAL;
        *what = "unit";
        if (arg_id(req, "unit", &sel->q.unit_id) < 0 ||
            (sel->q.unit_id && !report_find(org->units, org->n_units, sel->q.unit_id)))
                return -EINVAL;
        if (!sel->q.unit_id)
                sel->q.unit_id = v->scope;
        if (!report_in_subtree(org, v->scope, sel->q.unit_id))
                return -EACCES;
        *what = "employee";
        if (arg_id(req, "employee", &sel->q.employee_id) < 0)
                return -EINVAL;
        if (sel->q.employee_id && !v->employees)
                return -EACCES;
        *what = "direction";
        if (arg_id(req, "direction", &sel->q.direction_id) < 0)
                return -EINVAL;
        *what = "workplace";
        if (arg_id(req, "workplace", &sel->q.workplace_id) < 0)
                return -EINVAL;
        *what = "channel";
        s = arg(req, "channel");
        if (s && (strlen(s) > VOTE_CHANNEL_MAX || !vote_ref_valid(s)))
                return -EINVAL;
        snprintf(sel->q.channel, sizeof(sel->q.channel), "%s", s ? s : "");
        *what = "terminal";
        s = arg(req, "terminal");
        if (s && !vote_ref_valid(s))
                return -EINVAL;
        snprintf(sel->q.terminal, sizeof(sel->q.terminal), "%s", s ? s : "");
        *what = "by";
        s = arg(req, "by");
        sel->by = STORE_BY_TOTAL;
        if (s) {
                size_t i;

                for (i = 0; i < sizeof(by_names) / sizeof(by_names[0]); i++)
                        if (strcmp(s, by_names[i]) == 0)
                                break;
                if (i == sizeof(by_names) / sizeof(by_names[0]))
                        return -EINVAL;
                sel->by = (enum store_cut_by)i;
        }
        if ((sel->by == STORE_BY_EMPLOYEE || sel->by == STORE_BY_EMPLOYEE_UNIT) && !v->employees)
                return -EACCES;
        (void)c;
        return 0;
}

static int cut_rows(struct store *s, const struct store_cut *q, const struct period *p,
                    enum store_cut_by by, struct store_cut_row **ret, size_t *ret_n)
{
        struct store_cut c = *q;
        int r;

        c.by = by;
        r = report_cut_period(p, &c);
        return r < 0 ? r : s->ops->report_cut(s, &c, ret, ret_n);
}

/* The name of a cut row's key, for pages and JSON. */
static void row_name(const struct store_report_org *org, enum store_cut_by by,
                     const struct store_cut_row *row, enum vote_lang lang, char *buf, size_t n)
{
        const struct store_named *x = NULL;

        switch (by) {
        case STORE_BY_UNIT:
                x = report_find(org->units, org->n_units, row->key);
                snprintf(buf, n, "%s", unit_name(x, lang));
                return;
        case STORE_BY_EMPLOYEE:
        case STORE_BY_EMPLOYEE_UNIT:
                x = report_find(org->employees, org->n_employees, row->key);
                break;
        case STORE_BY_DIRECTION:
                x = report_find(org->directions, org->n_directions, row->key);
                if (x) {
                        snprintf(buf, n, "%s", unit_name(x, lang));
                        return;
                }
                break;
        case STORE_BY_WORKPLACE:
                x = report_find(org->workplaces, org->n_workplaces, row->key);
                break;
        case STORE_BY_CHANNEL:
                snprintf(buf, n, "%s", vote_channel_label(row->text, lang));
                return;
        case STORE_BY_TERMINAL:
                snprintf(buf, n, "%s", row->text[0] ? row->text : "—");
                return;
        default:
                snprintf(buf, n, "%" PRId64, row->key);
                return;
        }
        snprintf(buf, n, "%s", x ? x->name : "—");
}

/* ---- JSON API ---- */

static int api_cut(struct collector *c, const struct selection *sel,
                   const struct store_report_org *org, enum vote_lang lang, json_t **ret)
{
        struct store_counts tot[3];
        struct store_cut_row *rows[3] = {NULL, NULL, NULL};
        size_t n[3] = {0, 0, 0};
        json_t *root, *arr;
        int r;

        r = report_totals3(c->store, &sel->q, &sel->ps, tot);
        for (int i = 0; r >= 0 && i < 3 && sel->by != STORE_BY_TOTAL; i++)
                r = cut_rows(c->store, &sel->q, &sel->ps.p[i], sel->by, &rows[i], &n[i]);
        if (r < 0)
                goto out;
        root =
            json_pack("{s:s, s:s, s:s, s:s, s:I}", "period", sel->ps.label[REPORT_CUR], "previous",
                      sel->ps.label[REPORT_PREV], "year_earlier", sel->ps.label[REPORT_YEAR], "by",
                      by_names[sel->by], "unit", (json_int_t)sel->q.unit_id);
        if (!root) {
                r = -ENOMEM;
                goto out;
        }
        {
                json_t *t = json_object();

                for (int i = 0; i < 3; i++) {
                        struct report_fig f;

                        report_fig_make(&tot[i], &f);
                        json_object_set_new(t,
                                            i == 0   ? "period"
                                            : i == 1 ? "previous"
                                                     : "year_earlier",
                                            fig_json(&f));
                }
                json_object_set_new(root, "total", t);
        }
        arr = json_array();
        for (size_t i = 0; i < n[0]; i++) {
                struct report_fig f, fp, fy;
                struct store_counts z;
                char name[512];
                json_t *o;

                memset(&z, 0, sizeof(z));
                report_fig_make(&rows[0][i].n, &f);
                report_fig_make(&z, &fp);
                report_fig_make(&z, &fy);
                for (int k = 1; k < 3; k++)
                        for (size_t j = 0; j < n[k]; j++)
                                if (rows[k][j].key == rows[0][i].key &&
                                    rows[k][j].key2 == rows[0][i].key2 &&
                                    strcmp(rows[k][j].text, rows[0][i].text) == 0)
                                        report_fig_make(&rows[k][j].n, k == 1 ? &fp : &fy);
                row_name(org, sel->by, &rows[0][i], lang, name, sizeof(name));
                o = json_pack("{s:s, s:o, s:o, s:o}", "name", name, "period", fig_json(&f),
                              "previous", fig_json(&fp), "year_earlier", fig_json(&fy));
                if (o && (sel->by == STORE_BY_CHANNEL || sel->by == STORE_BY_TERMINAL))
                        json_object_set_new(o, "key", json_string(rows[0][i].text));
                else if (o)
                        json_object_set_new(o, "key", json_integer(rows[0][i].key));
                if (o && sel->by == STORE_BY_EMPLOYEE_UNIT)
                        json_object_set_new(o, "unit", json_integer(rows[0][i].key2));
                json_array_append_new(arr, o);
        }
        json_object_set_new(root, "rows", arr);
        *ret = root;
out:
        for (int i = 0; i < 3; i++)
                free(rows[i]);
        return r;
}

/* The points of a trend: the 12 months up to the period's (step month), or the days of the
 * period (step day). */
static int trend_points(struct collector *c, const struct selection *sel, bool days,
                        struct report_point **ret, size_t *ret_n)
{
        struct report_point *pts;
        size_t n = 0;
        int r = 0;

        pts = calloc(days ? 400 : TREND_MONTHS, sizeof(*pts));
        if (!pts)
                return -ENOMEM;
        if (days) {
                struct store_cut_row *rows = NULL;
                size_t nr = 0;
                int64_t t;

                if (sel->ps.p[REPORT_CUR].end - sel->ps.p[REPORT_CUR].start > 370 * 86400) {
                        free(pts);
                        return -E2BIG;
                }
                r = cut_rows(c->store, &sel->q, &sel->ps.p[REPORT_CUR], STORE_BY_DAY, &rows, &nr);
                for (t = sel->ps.p[REPORT_CUR].start;
                     r >= 0 && t < sel->ps.p[REPORT_CUR].end && n < 400; n++) {
                        struct period d;
                        struct store_counts z;
                        int32_t key;

                        memset(&z, 0, sizeof(z));
                        period_containing(PERIOD_DAY, t, &d);
                        key = period_day_key(t);
                        period_label(&d, pts[n].label, sizeof(pts[n].label));
                        for (size_t k = 0; k < nr; k++)
                                if (rows[k].key == key)
                                        z = rows[k].n;
                        report_fig_make(&z, &pts[n].fig);
                        t = d.end;
                }
                free(rows);
        } else {
                struct period p;

                r = period_containing(PERIOD_MONTH, sel->ps.p[REPORT_CUR].end - 1, &p);
                for (int i = TREND_MONTHS - 1; r >= 0 && i >= 0; i--) {
                        struct store_cut_row *rows = NULL;
                        struct store_counts z;
                        size_t nr = 0;

                        memset(&z, 0, sizeof(z));
                        r = cut_rows(c->store, &sel->q, &p, STORE_BY_TOTAL, &rows, &nr);
                        if (r >= 0 && nr)
                                z = rows[0].n;
                        free(rows);
                        report_fig_make(&z, &pts[i].fig);
                        period_label(&p, pts[i].label, sizeof(pts[i].label));
                        if (i > 0)
                                r = period_previous(&p, &p);
                }
                n = TREND_MONTHS;
        }
        if (r < 0) {
                free(pts);
                return r;
        }
        *ret = pts;
        *ret_n = n;
        return 0;
}

static int heat_counts(struct collector *c, const struct selection *sel,
                       struct store_counts heat[7][24])
{
        struct store_cut_row *rows = NULL;
        struct store_cut q = sel->q;
        size_t n = 0;
        int r;

        memset(heat, 0, sizeof(struct store_counts) * 7 * 24);
        /* every filter of the selection applies (rep_hfd, rep_hfm) */
        r = cut_rows(c->store, &q, &sel->ps.p[REPORT_CUR], STORE_BY_WEEKHOUR, &rows, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                int d = (int)(rows[i].key / 100) - 1, h = (int)(rows[i].key % 100);

                if (d >= 0 && d < 7 && h >= 0 && h < 24)
                        heat[d][h] = rows[i].n;
        }
        free(rows);
        return r;
}

/* Ranked units (every unit below the selection's, by subtree) or employees. */
static int ranking(struct collector *c, const struct selection *sel,
                   const struct store_report_org *org, bool employees, struct report_ranked **ret,
                   size_t *ret_n)
{
        struct report_ranked *v = NULL;
        size_t n = 0;
        int r;

        if (employees) {
                struct store_cut_row *rows = NULL;
                size_t nr = 0;

                r = cut_rows(c->store, &sel->q, &sel->ps.p[REPORT_CUR], STORE_BY_EMPLOYEE, &rows,
                             &nr);
                if (r < 0)
                        return r;
                v = calloc(nr + 1, sizeof(*v));
                for (size_t i = 0; v && i < nr; i++) {
                        v[n].id = rows[i].key;
                        report_fig_make(&rows[i].n, &v[n++].fig);
                }
                free(rows);
        } else {
                struct report_unit *u = NULL;
                size_t nu = 0;

                r = report_units(c->store, org, sel->q.unit_id, &sel->q, &u, &nu);
                if (r < 0)
                        return r;
                v = calloc(nu + 1, sizeof(*v));
                for (size_t i = 0; v && i < nu; i++) {
                        if (u[i].depth == 0 && sel->q.unit_id)
                                continue;
                        v[n].id = u[i].unit->id;
                        report_fig_make(&u[i].sum, &v[n++].fig);
                }
                free(u);
        }
        if (!v)
                return -ENOMEM;
        report_rank(v, n, c->cfg->report_min_count);
        *ret = v;
        *ret_n = n;
        return 0;
}

static int handle_api(struct collector *c, const struct web_request *req, const char *what_path,
                      struct web_response *resp)
{
        enum vote_lang lang = web_lang(req);
        struct store_report_org org = {0};
        struct selection sel;
        struct viewer v;
        const char *bad = "";
        json_t *root = NULL;
        int r;

        r = viewer_find(c, req, &v);
        if (r < 0)
                return apitoken_reject(resp, r);
        r = c->store->ops->report_org(c->store, &org);
        if (r < 0)
                return web_api_error(resp, 503, "store: unavailable");
        r = selection_read(c, req, &v, &org, &sel, &bad);
        if (r == -EACCES) {
                store_report_org_finish(&org);
                return web_api_error(resp, v.signed_in ? 403 : 401,
                                     "access: sign in, or ask for a unit you may see");
        }
        if (r < 0) {
                char msg[96];

                store_report_org_finish(&org);
                snprintf(msg, sizeof(msg), "%s: malformed or unknown", bad);
                return web_api_error(resp, 400, msg);
        }
        if (strcmp(what_path, "cut") == 0) {
                r = api_cut(c, &sel, &org, lang, &root);
        } else if (strcmp(what_path, "trend") == 0) {
                struct report_point *pts = NULL;
                size_t n = 0;
                const char *step = arg(req, "step");

                r = trend_points(c, &sel, step && strcmp(step, "day") == 0, &pts, &n);
                if (r >= 0) {
                        json_t *arr = json_array();

                        for (size_t i = 0; i < n; i++)
                                json_array_append_new(arr,
                                                      json_pack("{s:s, s:o}", "label", pts[i].label,
                                                                "figures", fig_json(&pts[i].fig)));
                        root = json_pack("{s:s, s:o}", "period", sel.ps.label[REPORT_CUR], "points",
                                         arr);
                }
                free(pts);
        } else if (strcmp(what_path, "heatmap") == 0) {
                struct store_counts heat[7][24];

                r = heat_counts(c, &sel, heat);
                if (r >= 0) {
                        json_t *days = json_array();

                        for (int d = 0; d < 7; d++) {
                                json_t *hours = json_array();

                                for (int h = 0; h < 24; h++)
                                        json_array_append_new(hours,
                                                              json_integer(heat[d][h].level[0]));
                                json_array_append_new(days, hours);
                        }
                        root = json_pack("{s:s, s:I, s:o}", "period", sel.ps.label[REPORT_CUR],
                                         "unit", (json_int_t)sel.q.unit_id, "counts", days);
                }
        } else if (strcmp(what_path, "ranking") == 0) {
                const char *of = arg(req, "of");
                bool emps = of && strcmp(of, "employees") == 0;
                struct report_ranked *rk = NULL;
                size_t n = 0;

                if (emps && !v.employees) {
                        store_report_org_finish(&org);
                        return web_api_error(resp, v.signed_in ? 403 : 401,
                                             "access: sign in to rank employees");
                }
                r = ranking(c, &sel, &org, emps, &rk, &n);
                if (r >= 0) {
                        json_t *arr = json_array();

                        for (size_t i = 0; i < n; i++) {
                                const struct store_named *x =
                                    emps ? report_find(org.employees, org.n_employees, rk[i].id)
                                         : report_find(org.units, org.n_units, rk[i].id);
                                json_t *o = json_pack(
                                    "{s:I, s:s, s:b, s:o}", "id", (json_int_t)rk[i].id, "name",
                                    emps ? (x ? x->name : "?") : unit_name(x, lang), "ranked",
                                    rk[i].ranked, "figures", fig_json(&rk[i].fig));

                                if (o && rk[i].ranked)
                                        json_object_set_new(o, "rank", json_integer((int)i + 1));
                                json_array_append_new(arr, o);
                        }
                        root = json_pack("{s:s, s:s, s:I, s:o}", "period", sel.ps.label[REPORT_CUR],
                                         "of", emps ? "employees" : "units", "min_count",
                                         (json_int_t)c->cfg->report_min_count, "rows", arr);
                }
                free(rk);
        } else if (strcmp(what_path, "alerts") == 0) {
                struct store_alert *a = NULL;
                size_t n = 0;

                if (!v.signed_in) {
                        store_report_org_finish(&org);
                        return web_api_error(resp, 401, "access: sign in");
                }
                r = c->store->ops->alert_list(c->store, sel.q.unit_id, 0, 200, &a, &n);
                if (r >= 0) {
                        json_t *arr = json_array();

                        for (size_t i = 0; i < n; i++)
                                json_array_append_new(
                                    arr,
                                    json_pack(
                                        "{s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "id",
                                        (json_int_t)a[i].id, "unit", (json_int_t)a[i].unit_id,
                                        "unit_name",
                                        unit_name(report_find(org.units, org.n_units, a[i].unit_id),
                                                  lang),
                                        "from_ms", (json_int_t)a[i].from_ms, "to_ms",
                                        (json_int_t)a[i].to_ms, "votes", (json_int_t)a[i].n,
                                        "satisfactory", (json_int_t)a[i].n1, "mailed_at_ms",
                                        (json_int_t)a[i].mailed_at_ms));
                        root = json_pack("{s:o}", "alerts", arr);
                }
                free(a);
        } else
                r = -ENOENT;
        store_report_org_finish(&org);
        if (r == -ENOENT)
                return web_api_error(resp, 404, "report: unknown");
        if (r == -EINVAL || r == -E2BIG)
                return web_api_error(resp, 400, "by: this cut is not kept (see the API docs)");
        if (r < 0 || !root) {
                json_decref(root);
                return web_api_error(resp, 503, "store: unavailable");
        }
        return respond_json(resp, root);
}

/* ---- the public page: /reports (and /api/v1/reports/units, its JSON) ---- */

static json_t *unit_row_json(const struct report_unit *u, enum vote_lang lang)
{
        struct report_fig f;
        json_t *o;

        report_fig_make(&u->sum, &f);
        o = json_pack("{s:I, s:I, s:i, s:s, s:I, s:I, s:I, s:I, s:f}", "id",
                      (json_int_t)u->unit->id, "parent", (json_int_t)u->unit->parent, "depth",
                      u->depth, "name", unit_name(u->unit, lang), "satisfactory",
                      (json_int_t)u->sum.level[1], "good", (json_int_t)u->sum.level[2], "exemplary",
                      (json_int_t)u->sum.level[3], "total", (json_int_t)u->sum.level[0], "index",
                      f.index);
        if (o) {
                json_object_set_new(o, "ci_low", json_real(f.lo));
                json_object_set_new(o, "ci_high", json_real(f.hi));
                json_object_set_new(o, "not_counted", json_integer(f.not_counted));
        }
        return o;
}

static void fig_cells(struct buf *b, const struct report_fig *f)
{
        buf_printf(b,
                   "<td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
                   "</td><td class=\"total\">%" PRId64 "</td><td>",
                   f->n.level[1], f->n.level[2], f->n.level[3], f->n.level[0]);
        if (f->n.level[0])
                buf_printf(b, "%.1f", f->index);
        else
                buf_adds(b, "—");
        buf_adds(b, "</td>");
}

static void fig_head(struct collector *c, struct buf *b, enum vote_lang lang, const char *first,
                     bool ci)
{
        buf_adds(b, "<thead><tr><th>");
        buf_add_html(b, first);
        for (int l = 1; l <= 3; l++) {
                buf_adds(b, "</th><th>");
                buf_add_html(b, vote_level_label(l, lang));
        }
        buf_adds(b, "</th><th>");
        buf_add_html(b, web_text(c, lang, "web.total"));
        buf_adds(b, "</th><th>");
        buf_add_html(b, web_text(c, lang, "web.index"));
        if (ci) {
                buf_adds(b, "</th><th>");
                buf_add_html(b, web_text(c, lang, "report.ci"));
                buf_adds(b, "</th><th>");
                buf_add_html(b, web_text(c, lang, "report.not_counted"));
        }
        buf_adds(b, "</th></tr></thead><tbody>");
}

static void ci_cells(struct buf *b, const struct report_fig *f)
{
        if (f->n.level[0])
                buf_printf(b, "<td>%.1f–%.1f</td>", f->lo, f->hi);
        else
                buf_adds(b, "<td>—</td>");
        buf_printf(b, "<td>%" PRId64 "</td>", f->not_counted);
}

/* The dashboard's address for a selection: the period, the unit and every filter set in q,
 * escaped for an attribute (ids are numbers; channels and terminals pass vote_ref_valid()). */
static void dash_href(struct buf *b, enum vote_lang lang, const char *period,
                      const struct store_cut *q)
{
        buf_adds(b, "/dashboard?period=");
        buf_add_html(b, period);
        if (q->unit_id)
                buf_printf(b, "&amp;unit=%" PRId64, q->unit_id);
        if (q->employee_id)
                buf_printf(b, "&amp;employee=%" PRId64, q->employee_id);
        if (q->direction_id)
                buf_printf(b, "&amp;direction=%" PRId64, q->direction_id);
        if (q->workplace_id)
                buf_printf(b, "&amp;workplace=%" PRId64, q->workplace_id);
        if (q->channel[0]) {
                buf_adds(b, "&amp;channel=");
                buf_add_html(b, q->channel);
        }
        if (q->terminal[0]) {
                buf_adds(b, "&amp;terminal=");
                buf_add_html(b, q->terminal);
        }
        if (lang == VOTE_LANG_EN)
                buf_adds(b, "&amp;lang=en");
}

/* q narrowed to a cut row's key: false when the row has no key to filter by (none, or the
 * filter is set already). */
static bool drill_cut(const struct store_cut *q, enum store_cut_by by,
                      const struct store_cut_row *row, struct store_cut *ret)
{
        *ret = *q;
        switch (by) {
        case STORE_BY_DIRECTION:
                ret->direction_id = row->key;
                return row->key && !q->direction_id;
        case STORE_BY_WORKPLACE:
                ret->workplace_id = row->key;
                return row->key && !q->workplace_id;
        case STORE_BY_CHANNEL:
                if (!row->text[0] || q->channel[0] || strlen(row->text) >= sizeof(ret->channel) ||
                    !vote_ref_valid(row->text))
                        return false;
                memcpy(ret->channel, row->text, strlen(row->text) + 1);
                return true;
        case STORE_BY_TERMINAL:
                snprintf(ret->terminal, sizeof(ret->terminal), "%s", row->text);
                return row->text[0] && !q->terminal[0] && vote_ref_valid(row->text);
        default:
                return false;
        }
}

/* A table of one cut: name, the figures, the interval. drill: on the dashboard, the selection
 * that each row narrows (a link to the same dashboard with the row's key as a filter); NULL
 * for no links. */
static void cut_table(struct collector *c, struct buf *b, enum vote_lang lang,
                      const struct store_report_org *org, const struct store_cut_row *rows,
                      size_t n, enum store_cut_by by, const char *id, const char *title,
                      const struct selection *drill)
{
        buf_printf(b, "<h2>");
        buf_add_html(b, title);
        buf_printf(b, "</h2><table id=\"%s\">", id);
        fig_head(c, b, lang,
                 web_text(c, lang,
                          by == STORE_BY_DIRECTION   ? "report.direction"
                          : by == STORE_BY_EMPLOYEE  ? "report.employee"
                          : by == STORE_BY_WORKPLACE ? "report.workplace"
                          : by == STORE_BY_TERMINAL  ? "report.terminal"
                          : by == STORE_BY_UNIT      ? "report.unit"
                                                     : "report.channel"),
                 true);
        for (size_t i = 0; i < n; i++) {
                struct store_cut dq;
                struct report_fig f;
                char name[512];

                report_fig_make(&rows[i].n, &f);
                row_name(org, by, &rows[i], lang, name, sizeof(name));
                if (by == STORE_BY_DIRECTION && rows[i].key == 0)
                        snprintf(name, sizeof(name), "%s", web_text(c, lang, "report.none_dir"));
                buf_adds(b, "<tr><td>");
                if (drill && drill_cut(&drill->q, by, &rows[i], &dq)) {
                        buf_adds(b, "<a href=\"");
                        dash_href(b, lang, drill->ps.label[REPORT_CUR], &dq);
                        buf_adds(b, "\">");
                        buf_add_html(b, name);
                        buf_adds(b, "</a>");
                } else
                        buf_add_html(b, name);
                buf_adds(b, "</td>");
                fig_cells(b, &f);
                ci_cells(b, &f);
                buf_adds(b, "</tr>");
        }
        buf_adds(b, "</tbody></table>");
}

static int handle_public(struct collector *c, const struct web_request *req, bool json_api,
                         struct web_response *resp)
{
        enum vote_lang lang = web_lang(req);
        struct store_report_org org = {0};
        struct report_unit *units = NULL;
        struct report_periods ps;
        struct store_cut q;
        const char *label_arg = arg(req, "period");
        char label[64];
        size_t n = 0;
        struct buf b;
        int r;

        memset(&q, 0, sizeof(q));
        if (report_periods_make(label_arg, time(NULL), PERIOD_MONTH, &ps) < 0)
                return json_api
                           ? web_api_error(resp, 400, "period: unknown; e.g. 2026-11, 2026-W48")
                           : web_message_page(c, lang, 400, "web.bad_period", resp);
        snprintf(label, sizeof(label), "%s", ps.label[REPORT_CUR]);
        r = c->store->ops->report_org(c->store, &org);
        if (r >= 0)
                r = report_cut_period(&ps.p[REPORT_CUR], &q);
        if (r >= 0)
                r = report_units(c->store, &org, 0, &q, &units, &n);
        if (r < 0) {
                store_report_org_finish(&org);
                return json_api ? web_api_error(resp, 503, "store: unavailable")
                                : web_message_page(c, lang, 503, "web.error", resp);
        }
        if (json_api) {
                json_t *root = json_pack("{s:s, s:I, s:I, s:[]}", "period", label, "from",
                                         (json_int_t)ps.p[REPORT_CUR].start, "to",
                                         (json_int_t)ps.p[REPORT_CUR].end, "units");
                json_t *arr = root ? json_object_get(root, "units") : NULL;

                for (size_t i = 0; arr && i < n; i++)
                        if (json_array_append_new(arr, unit_row_json(&units[i], lang)) < 0)
                                arr = NULL;
                free(units);
                store_report_org_finish(&org);
                if (!arr) {
                        json_decref(root);
                        return -ENOMEM;
                }
                return respond_json(resp, root);
        }
        buf_init(&b, WEB_PAGE_MAX);
        web_page_begin(&b, c, lang, web_text(c, lang, "web.reports"), true);
        buf_adds(&b, "<h1>");
        buf_add_html(&b, web_text(c, lang, "web.reports"));
        buf_adds(&b, "</h1><form method=\"get\"><label>");
        buf_add_html(&b, web_text(c, lang, "web.period"));
        buf_adds(&b, " <input name=\"period\" value=\"");
        buf_add_html(&b, label);
        buf_printf(&b,
                   "\"></label><input type=\"hidden\" name=\"lang\" value=\"%s\">"
                   " <button type=\"submit\" style=\"display:inline;width:auto\">",
                   lang == VOTE_LANG_EN ? "en" : "uk");
        buf_add_html(&b, web_text(c, lang, "web.show"));
        buf_adds(&b, "</button></form><table id=\"units\">");
        fig_head(c, &b, lang, web_text(c, lang, "web.unit"), false);
        for (size_t i = 0; i < n; i++) {
                struct report_fig f;

                report_fig_make(&units[i].sum, &f);
                buf_printf(&b, "<tr data-unit=\"%" PRId64 "\"><td class=\"d%d\">",
                           units[i].unit->id, units[i].depth > 3 ? 3 : units[i].depth);
                buf_add_html(&b, unit_name(units[i].unit, lang));
                buf_adds(&b, "</td>");
                fig_cells(&b, &f);
                buf_adds(&b, "</tr>");
        }
        buf_adds(&b, "</tbody></table>");
        free(units);
        /* by direction, and by employee where the city publishes it (regulation 4.3) */
        {
                struct store_cut_row *rows = NULL;
                size_t nr = 0;

                if (cut_rows(c->store, &q, &ps.p[REPORT_CUR], STORE_BY_DIRECTION, &rows, &nr) >= 0)
                        cut_table(c, &b, lang, &org, rows, nr, STORE_BY_DIRECTION, "directions",
                                  web_text(c, lang, "report.by_direction"), NULL);
                free(rows);
                rows = NULL;
                if (c->cfg->public_employees &&
                    cut_rows(c->store, &q, &ps.p[REPORT_CUR], STORE_BY_EMPLOYEE, &rows, &nr) >= 0)
                        cut_table(c, &b, lang, &org, rows, nr, STORE_BY_EMPLOYEE, "employees",
                                  web_text(c, lang, "report.employees"), NULL);
                free(rows);
        }
        store_report_org_finish(&org);
        buf_adds(&b, "<p class=\"note\">");
        buf_add_html(&b, web_text(c, lang, "report.method"));
        buf_adds(&b, "</p><h2>");
        buf_add_html(&b, web_text(c, lang, "report.open_data"));
        buf_adds(&b, "</h2><p>");
        {
                static const char *const sets[] = {"units", "directions", "employees"};

                for (int i = 0; i < 3; i++) {
                        if (i == 2 && !c->cfg->public_employees)
                                break;
                        for (int k = 0; k < 2; k++) {
                                buf_printf(&b, "<a href=\"/open/v1/%s/", sets[i]);
                                buf_add_html(&b, label);
                                buf_printf(&b, ".%s\">%s/", k ? "json" : "csv", sets[i]);
                                buf_add_html(&b, label);
                                buf_printf(&b, ".%s</a> ", k ? "json" : "csv");
                        }
                }
        }
        buf_printf(&b, "</p><nav><a href=\"/reports?lang=%s&amp;period=",
                   lang == VOTE_LANG_EN ? "uk" : "en");
        buf_add_html(&b, label);
        buf_adds(&b, "\">");
        buf_add_html(&b, web_text(c, lang, "web.lang_other"));
        buf_adds(&b, "</a></nav>");
        web_page_end(&b);
        return web_respond(resp, 200, "text/html; charset=utf-8", &b);
}

/* ---- open data: /open/v1/{units,directions,employees}/{period}.{csv,json} ---- */

static int handle_open(struct collector *c, const struct web_request *req, const char *rest,
                       struct web_response *resp)
{
        char set[16], label[PERIOD_LABEL_MAX + 8], *dot;
        struct store_report_org org = {0};
        struct report_periods ps;
        struct store_cut q;
        enum store_cut_by by;
        bool csv;
        struct buf b;
        int r;

        (void)req;
        if (strcmp(rest, "") == 0 || strcmp(rest, "index.json") == 0) {
                json_t *root = json_pack(
                    "{s:s, s:[s, s, s], s:[s, s], s:s, s:b}", "scheme",
                    "/open/v1/{dataset}/{period}.{format}", "datasets", "units", "directions",
                    "employees", "formats", "csv", "json", "periods",
                    "YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn, YYYY, YYYY-MM-DD..YYYY-MM-DD",
                    "employees_published", c->cfg->public_employees);

                return respond_json(resp, root);
        }
        if (sscanf(rest, "%15[a-z]/%31s", set, label) != 2 || strchr(label, '/'))
                return -ENOENT;
        dot = strrchr(label, '.');
        if (!dot || (strcmp(dot, ".csv") != 0 && strcmp(dot, ".json") != 0))
                return -ENOENT;
        csv = strcmp(dot, ".csv") == 0;
        *dot = 0;
        if (strcmp(set, "units") == 0)
                by = STORE_BY_UNIT;
        else if (strcmp(set, "directions") == 0)
                by = STORE_BY_DIRECTION;
        else if (strcmp(set, "employees") == 0 && c->cfg->public_employees)
                by = STORE_BY_EMPLOYEE_UNIT; /* a row per unit the employee was voted in */
        else
                return -ENOENT;
        if (report_periods_make(label, 0, PERIOD_MONTH, &ps) < 0)
                return web_api_error(resp, 400, "period: unknown; e.g. 2026-11, 2026-W48");
        memset(&q, 0, sizeof(q));
        r = c->store->ops->report_org(c->store, &org);
        if (r >= 0)
                r = report_cut_period(&ps.p[REPORT_CUR], &q);
        if (r < 0) {
                store_report_org_finish(&org);
                return web_api_error(resp, 503, "store: unavailable");
        }
        buf_init(&b, WEB_PAGE_MAX);
        json_t *arr = json_array();

        if (csv) {
                static const char *const head[] = {
                    "period",    "id",    "code",  "parent", "name",    "satisfactory", "good",
                    "exemplary", "total", "index", "ci_low", "ci_high", "not_counted"};

                for (int i = 0; i < 13; i++)
                        csv_write_field(&b, head[i], i == 12);
        }
        if (by == STORE_BY_UNIT) {
                struct report_unit *u = NULL;
                size_t n = 0;

                r = report_units(c->store, &org, 0, &q, &u, &n);
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        struct report_fig f;
                        char s[4][64];

                        report_fig_make(&u[i].sum, &f);
                        if (!csv) {
                                json_t *o = unit_row_json(&u[i], VOTE_LANG_UK);

                                json_object_set_new(o, "code", json_string(u[i].unit->code));
                                json_array_append_new(arr, o);
                                continue;
                        }
                        snprintf(s[0], 64, "%s", ps.label[REPORT_CUR]);
                        snprintf(s[1], 64, "%" PRId64, u[i].unit->id);
                        snprintf(s[3], 64, "%" PRId64, u[i].unit->parent);
                        csv_write_field(&b, s[0], false);
                        csv_write_field(&b, s[1], false);
                        csv_write_field(&b, u[i].unit->code, false);
                        csv_write_field(&b, s[3], false);
                        csv_write_field(&b, u[i].unit->name, false);
                        csv_fig(&b, &f);
                }
                free(u);
        } else {
                struct store_cut_row *rows = NULL;
                size_t n = 0;

                r = cut_rows(c->store, &q, &ps.p[REPORT_CUR], by, &rows, &n);
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        const struct store_named *x =
                            by == STORE_BY_EMPLOYEE_UNIT
                                ? report_find(org.employees, org.n_employees, rows[i].key)
                                : report_find(org.directions, org.n_directions, rows[i].key);
                        struct report_fig f;
                        char s[64];

                        report_fig_make(&rows[i].n, &f);
                        if (!csv) {
                                json_t *o = fig_json(&f);

                                json_object_set_new(o, "id", json_integer(rows[i].key));
                                json_object_set_new(o, "code", json_string(x ? x->code : ""));
                                json_object_set_new(o, "name", json_string(x ? x->name : ""));
                                if (by == STORE_BY_EMPLOYEE_UNIT)
                                        json_object_set_new(o, "unit", json_integer(rows[i].key2));
                                json_array_append_new(arr, o);
                                continue;
                        }
                        csv_write_field(&b, ps.label[REPORT_CUR], false);
                        snprintf(s, sizeof(s), "%" PRId64, rows[i].key);
                        csv_write_field(&b, s, false);
                        csv_write_field(&b, x ? x->code : "", false);
                        snprintf(s, sizeof(s), "%" PRId64,
                                 by == STORE_BY_EMPLOYEE_UNIT ? rows[i].key2 : 0);
                        csv_write_field(&b, s, false);
                        csv_write_field(&b, x ? x->name : "", false);
                        csv_fig(&b, &f);
                }
                free(rows);
        }
        store_report_org_finish(&org);
        if (r < 0) {
                buf_free(&b);
                json_decref(arr);
                return web_api_error(resp, 503, "store: unavailable");
        }
        if (!csv) {
                buf_free(&b);
                return respond_json(resp, json_pack("{s:s, s:s, s:I, s:I, s:o}", "dataset", set,
                                                    "period", ps.label[REPORT_CUR], "from",
                                                    (json_int_t)ps.p[REPORT_CUR].start, "to",
                                                    (json_int_t)ps.p[REPORT_CUR].end, "rows", arr));
        }
        json_decref(arr);
        return web_respond(resp, 200, "text/csv; charset=utf-8", &b);
}

/* ---- the monthly report: /reports/monthly.{pdf,xlsx,csv,json}?unit=&month=&table= ---- */

static int handle_monthly(struct collector *c, const struct web_request *req, const char *fmt,
                          struct web_response *resp)
{
        enum vote_lang lang = web_lang(req);
        struct store_report_org org = {0};
        struct report_monthly m;
        struct viewer v;
        int64_t unit = 0;
        char *data = NULL;
        size_t len = 0;
        int r;

        r = viewer_find(c, req, &v);
        if (r < 0)
                return apitoken_reject(resp, r);
        if (!v.signed_in)
                return web_api_error(resp, 401, "access: sign in");
        if (arg_id(req, "unit", &unit) < 0)
                return web_api_error(resp, 400, "unit: malformed");
        if (!unit)
                unit = v.scope;
        r = c->store->ops->report_org(c->store, &org);
        if (r < 0)
                return web_api_error(resp, 503, "store: unavailable");
        r = report_in_subtree(&org, v.scope, unit) &&
                    (!unit || report_find(org.units, org.n_units, unit))
                ? 0
                : -EACCES;
        store_report_org_finish(&org);
        if (r < 0)
                return web_api_error(resp, 403, "access: not your unit");
        r = report_monthly_build(c->store, unit, arg(req, "month"), time(NULL), &m);
        if (r == -EINVAL)
                return web_api_error(resp, 400, "month: expected YYYY-MM");
        if (r < 0)
                return web_api_error(resp, 503, "store: unavailable");
        if (strcmp(fmt, "pdf") == 0) {
                r = report_monthly_pdf(&m, c->text[lang], &data, &len);
                if (r >= 0)
                        respond_bytes(resp, "application/pdf", data, len);
        } else if (strcmp(fmt, "xlsx") == 0) {
                r = report_monthly_xlsx(&m, c->text[lang], &data, &len);
                if (r >= 0)
                        respond_bytes(resp,
                                      "application/vnd.openxmlformats-officedocument."
                                      "spreadsheetml.sheet",
                                      data, len);
        } else if (strcmp(fmt, "csv") == 0) {
                enum report_table t = REPORT_TABLE_EMPLOYEES;
                struct buf b;

                if (arg(req, "table") && report_table_from_string(arg(req, "table"), &t) < 0) {
                        report_monthly_finish(&m);
                        return web_api_error(resp, 400,
                                             "table: one of totals, employees, units, flagged");
                }
                buf_init(&b, WEB_PAGE_MAX);
                r = report_monthly_csv(&m, t, c->text[lang], &b);
                if (r >= 0)
                        r = web_respond(resp, 200, "text/csv; charset=utf-8", &b);
                else
                        buf_free(&b);
        } else
                r = -ENOENT;
        report_monthly_finish(&m);
        if (r == -ENOENT)
                return web_api_error(resp, 404, "format: pdf, xlsx or csv");
        if (r < 0)
                return web_api_error(resp, 503, "report: could not be made");
        return 0;
}

/* ---- the dashboard ---- */

static void dash_link(struct buf *b, enum vote_lang lang, const char *period, int64_t unit,
                      int64_t employee)
{
        buf_adds(b, "<a href=\"/dashboard?period=");
        buf_add_html(b, period);
        if (unit)
                buf_printf(b, "&amp;unit=%" PRId64, unit);
        if (employee)
                buf_printf(b, "&amp;employee=%" PRId64, employee);
        if (lang == VOTE_LANG_EN)
                buf_adds(b, "&amp;lang=en");
        buf_adds(b, "\">");
}

/* The selection's unit and filters as hidden fields, so that the period form keeps them. */
static void hidden_fields(struct buf *b, const struct store_cut *q)
{
        const struct {
                const char *name;
                int64_t id;
                const char *text;
        } f[] = {{"unit", q->unit_id, NULL},           {"employee", q->employee_id, NULL},
                 {"direction", q->direction_id, NULL}, {"workplace", q->workplace_id, NULL},
                 {"channel", 0, q->channel},           {"terminal", 0, q->terminal}};

        for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
                if (f[i].text ? !f[i].text[0] : !f[i].id)
                        continue;
                buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", f[i].name);
                if (f[i].text)
                        buf_add_html(b, f[i].text);
                else
                        buf_printf(b, "%" PRId64, f[i].id);
                buf_adds(b, "\">");
        }
}

/* The filters other than unit and employee, each with a link that drops it. */
static void filters_shown(struct collector *c, struct buf *b, enum vote_lang lang,
                          const struct store_report_org *org, const struct selection *sel)
{
        for (int i = 0; i < 4; i++) {
                static const char *const keys[] = {"report.direction", "report.workplace",
                                                   "report.channel", "report.terminal"};
                struct store_cut dq = sel->q;
                const struct store_named *x;
                const char *value;

                switch (i) {
                case 0:
                        if (!sel->q.direction_id)
                                continue;
                        x = report_find(org->directions, org->n_directions, sel->q.direction_id);
                        value = x ? unit_name(x, lang) : "?";
                        dq.direction_id = 0;
                        break;
                case 1:
                        if (!sel->q.workplace_id)
                                continue;
                        x = report_find(org->workplaces, org->n_workplaces, sel->q.workplace_id);
                        value = x ? x->name : "?";
                        dq.workplace_id = 0;
                        break;
                case 2:
                        if (!sel->q.channel[0])
                                continue;
                        value = vote_channel_label(sel->q.channel, lang);
                        dq.channel[0] = 0;
                        break;
                default:
                        if (!sel->q.terminal[0])
                                continue;
                        value = sel->q.terminal;
                        dq.terminal[0] = 0;
                        break;
                }
                buf_adds(b, " › <span class=\"filter\">");
                buf_add_html(b, web_text(c, lang, keys[i]));
                buf_adds(b, ": <b>");
                buf_add_html(b, value);
                buf_adds(b, "</b> <a class=\"drop\" title=\"");
                buf_add_html(b, web_text(c, lang, "report.filter_drop"));
                buf_adds(b, "\" href=\"");
                dash_href(b, lang, sel->ps.label[REPORT_CUR], &dq);
                buf_adds(b, "\">×</a></span>");
        }
}

static void rank_table(struct collector *c, struct buf *b, enum vote_lang lang,
                       const struct store_report_org *org, const struct report_ranked *rk, size_t n,
                       bool emps, const char *period, int64_t unit)
{
        buf_adds(b, "<h2>");
        buf_add_html(b,
                     web_text(c, lang, emps ? "report.ranking_employees" : "report.ranking_units"));
        buf_printf(b, "</h2><p class=\"note\">");
        buf_add_html(b, web_text(c, lang, "report.ranking_note"));
        buf_printf(b, " %" PRId64 " ", c->cfg->report_min_count);
        buf_add_html(b, web_text(c, lang, "report.votes"));
        buf_printf(b, ".</p><table id=\"%s\"><thead><tr><th>",
                   emps ? "rank-employees" : "rank-units");
        buf_add_html(b, web_text(c, lang, "report.rank"));
        buf_adds(b, "</th><th>");
        buf_add_html(b, web_text(c, lang, emps ? "report.employee" : "report.unit"));
        buf_adds(b, "</th><th>");
        buf_add_html(b, web_text(c, lang, "web.index"));
        buf_adds(b, "</th><th>");
        buf_add_html(b, web_text(c, lang, "report.ci"));
        buf_adds(b, "</th><th>");
        buf_add_html(b, web_text(c, lang, "web.total"));
        buf_adds(b, "</th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
                const struct store_named *x =
                    emps ? report_find(org->employees, org->n_employees, rk[i].id)
                         : report_find(org->units, org->n_units, rk[i].id);

                if (!rk[i].fig.n.level[0])
                        continue;
                buf_adds(b, "<tr><td>");
                if (rk[i].ranked)
                        buf_printf(b, "%zu", i + 1);
                else
                        buf_add_html(b, web_text(c, lang, "report.unranked"));
                buf_adds(b, "</td><td>");
                dash_link(b, lang, period, emps ? unit : rk[i].id, emps ? rk[i].id : 0);
                buf_add_html(b, emps ? (x ? x->name : "?") : unit_name(x, lang));
                buf_printf(b, "</a></td><td>%.1f</td><td>%.1f–%.1f</td><td>%" PRId64 "</td></tr>",
                           rk[i].fig.index, rk[i].fig.lo, rk[i].fig.hi, rk[i].fig.n.level[0]);
        }
        buf_adds(b, "</tbody></table>");
}

static int handle_dashboard(struct collector *c, const struct web_request *req,
                            struct web_response *resp)
{
        enum vote_lang lang = web_lang(req);
        struct store_report_org org = {0};
        struct selection sel;
        struct store_counts tot[3];
        struct viewer v;
        const char *bad = "";
        char link[256];
        struct buf b;
        int r;

        viewer_find(c, req, &v);
        if (!v.signed_in)
                return admin_redirect(resp, "/login", lang);
        r = c->store->ops->report_org(c->store, &org);
        if (r < 0)
                return web_message_page(c, lang, 503, "web.error", resp);
        r = selection_read(c, req, &v, &org, &sel, &bad);
        if (r < 0) {
                store_report_org_finish(&org);
                return r == -EACCES ? web_message_page(c, lang, 403, "report.forbidden", resp)
                                    : web_message_page(c, lang, 400, "web.bad_period", resp);
        }
        r = report_totals3(c->store, &sel.q, &sel.ps, tot);
        if (r < 0) {
                store_report_org_finish(&org);
                return web_message_page(c, lang, 503, "web.error", resp);
        }
        buf_init(&b, WEB_PAGE_MAX);
        admin_page_begin(&b, c, lang, &v.s, "report.dashboard");
        /* where we are: the city down to the unit, and the employee */
        buf_adds(&b, "<p class=\"crumbs\">");
        {
                int64_t path[64];
                int np = 0;

                for (int64_t u = sel.q.unit_id; u && np < 64;) {
                        const struct store_named *x = report_find(org.units, org.n_units, u);

                        path[np++] = u;
                        if (!x || u == v.scope)
                                break;
                        u = x->parent;
                }
                if (!v.scope) {
                        dash_link(&b, lang, sel.ps.label[REPORT_CUR], 0, 0);
                        buf_add_html(&b, web_text(c, lang, "report.back_city"));
                        buf_adds(&b, "</a>");
                }
                while (np-- > 0) {
                        buf_adds(&b, " › ");
                        dash_link(&b, lang, sel.ps.label[REPORT_CUR], path[np], 0);
                        buf_add_html(
                            &b, unit_name(report_find(org.units, org.n_units, path[np]), lang));
                        buf_adds(&b, "</a>");
                }
                if (sel.q.employee_id) {
                        const struct store_named *e =
                            report_find(org.employees, org.n_employees, sel.q.employee_id);

                        buf_adds(&b, " › <b id=\"employee\">");
                        buf_add_html(&b, e ? e->name : "?");
                        buf_adds(&b, "</b>");
                }
                filters_shown(c, &b, lang, &org, &sel);
        }
        buf_adds(&b, "</p><form method=\"get\"><label>");
        buf_add_html(&b, web_text(c, lang, "web.period"));
        buf_adds(&b, " <input name=\"period\" value=\"");
        buf_add_html(&b, sel.ps.label[REPORT_CUR]);
        buf_adds(&b, "\"></label>");
        hidden_fields(&b, &sel.q);
        admin_lang_field(&b, lang);
        buf_adds(&b, " <button type=\"submit\" style=\"display:inline;width:auto\">");
        buf_add_html(&b, web_text(c, lang, "web.show"));
        buf_adds(&b, "</button></form>");

        /* the period beside the one before and the same one a year earlier */
        buf_adds(&b, "<h2>");
        buf_add_html(&b, web_text(c, lang, "report.compare"));
        buf_adds(&b, "</h2><table id=\"compare\">");
        fig_head(c, &b, lang, web_text(c, lang, "web.period"), true);
        for (int i = 0; i < 3; i++) {
                struct report_fig f;

                report_fig_make(&tot[i], &f);
                buf_adds(&b, "<tr><td>");
                buf_add_html(&b, sel.ps.label[i]);
                buf_adds(&b, "</td>");
                fig_cells(&b, &f);
                ci_cells(&b, &f);
                buf_adds(&b, "</tr>");
        }
        buf_adds(&b, "</tbody></table>");

        /* the trend and the heatmap */
        {
                struct report_point *pts = NULL;
                size_t n = 0;

                buf_adds(&b, "<h2>");
                buf_add_html(&b, web_text(c, lang, "report.trend"));
                buf_adds(&b, "</h2>");
                if (trend_points(c, &sel, false, &pts, &n) >= 0)
                        report_svg_trend(&b, web_text(c, lang, "report.trend"), pts, n);
                free(pts);
        }
        {
                struct store_counts heat[7][24];
                char days[64], *wd[7], *save = NULL;
                int k = 0;

                snprintf(days, sizeof(days), "%s", web_text(c, lang, "report.weekdays"));
                for (char *t = strtok_r(days, ",", &save); t && k < 7;
                     t = strtok_r(NULL, ",", &save))
                        wd[k++] = t;
                while (k < 7)
                        wd[k++] = "";
                buf_adds(&b, "<h2>");
                buf_add_html(&b, web_text(c, lang, "report.heatmap"));
                buf_adds(&b, "</h2>");
                if (heat_counts(c, &sel, heat) >= 0)
                        report_svg_heatmap(&b, web_text(c, lang, "report.heatmap"), heat,
                                           (const char *const *)wd);
        }

        /* drilling down: the units below, the employees, then the other cuts */
        if (!sel.q.employee_id) {
                struct report_ranked *rk = NULL;
                size_t n = 0;

                if (ranking(c, &sel, &org, false, &rk, &n) >= 0 && n)
                        rank_table(c, &b, lang, &org, rk, n, false, sel.ps.label[REPORT_CUR], 0);
                free(rk);
                rk = NULL;
                if (ranking(c, &sel, &org, true, &rk, &n) >= 0)
                        rank_table(c, &b, lang, &org, rk, n, true, sel.ps.label[REPORT_CUR],
                                   sel.q.unit_id);
                free(rk);
        }
        {
                static const enum store_cut_by cuts[] = {STORE_BY_DIRECTION, STORE_BY_CHANNEL,
                                                         STORE_BY_WORKPLACE, STORE_BY_TERMINAL};
                static const char *const keys[] = {"report.by_direction", "report.by_channel",
                                                   "report.by_workplace", "report.by_terminal"};
                static const char *const ids[] = {"by-direction", "by-channel", "by-workplace",
                                                  "by-terminal"};

                for (int i = 0; i < 4; i++) {
                        struct store_cut_row *rows = NULL;
                        size_t n = 0;

                        if (cut_rows(c->store, &sel.q, &sel.ps.p[REPORT_CUR], cuts[i], &rows, &n) >=
                                0 &&
                            n)
                                cut_table(c, &b, lang, &org, rows, n, cuts[i], ids[i],
                                          web_text(c, lang, keys[i]), &sel);
                        free(rows);
                }
        }

        /* alerts in the subtree */
        {
                struct store_alert *a = NULL;
                size_t n = 0;

                buf_adds(&b, "<h2>");
                buf_add_html(&b, web_text(c, lang, "report.alerts"));
                buf_adds(&b, "</h2><ul id=\"alerts\">");
                if (c->store->ops->alert_list(c->store, sel.q.unit_id, 0, 20, &a, &n) >= 0) {
                        for (size_t i = 0; i < n; i++) {
                                char from[32], to[32];
                                time_t t1 = (time_t)(a[i].from_ms / 1000),
                                       t2 = (time_t)(a[i].to_ms / 1000);
                                struct tm tm;

                                localtime_r(&t1, &tm);
                                strftime(from, sizeof(from), "%Y-%m-%d %H:%M", &tm);
                                localtime_r(&t2, &tm);
                                strftime(to, sizeof(to), "%H:%M", &tm);
                                buf_printf(&b, "<li class=\"alert\">%s–%s ", from, to);
                                buf_add_html(
                                    &b, unit_name(report_find(org.units, org.n_units, a[i].unit_id),
                                                  lang));
                                buf_printf(&b, ": %" PRId64 " / %" PRId64 " — ", a[i].n1, a[i].n);
                                buf_add_html(&b, web_text(c, lang, "report.alert_text"));
                                buf_adds(&b, "</li>");
                        }
                        if (!n) {
                                buf_adds(&b, "<li>");
                                buf_add_html(&b, web_text(c, lang, "report.no_alerts"));
                                buf_adds(&b, "</li>");
                        }
                }
                free(a);
                buf_adds(&b, "</ul>");
        }

        /* the monthly report of the period's month */
        if (!sel.q.employee_id) {
                struct period mp;
                char month[PERIOD_LABEL_MAX];

                if (period_containing(PERIOD_MONTH, sel.ps.p[REPORT_CUR].start, &mp) >= 0 &&
                    period_label(&mp, month, sizeof(month)) >= 0) {
                        buf_adds(&b, "<h2>");
                        buf_add_html(&b, web_text(c, lang, "report.downloads"));
                        buf_printf(&b, " %s</h2><p id=\"downloads\">", month);
                        if (sel.q.unit_id)
                                snprintf(link, sizeof(link), "unit=%" PRId64 "&amp;month=%s%s",
                                         sel.q.unit_id, month,
                                         lang == VOTE_LANG_EN ? "&amp;lang=en" : "");
                        else
                                snprintf(link, sizeof(link), "month=%s%s", month,
                                         lang == VOTE_LANG_EN ? "&amp;lang=en" : "");
                        buf_printf(&b,
                                   "<a href=\"/reports/monthly.pdf?%s\">PDF</a> · "
                                   "<a href=\"/reports/monthly.xlsx?%s\">XLSX</a> · CSV: "
                                   "<a href=\"/reports/monthly.csv?%s&amp;table=totals\">totals</a>"
                                   " <a href=\"/reports/monthly.csv?%s&amp;table=employees\">"
                                   "employees</a> <a href=\"/reports/monthly.csv?%s&amp;"
                                   "table=units\">units</a> <a href=\"/reports/monthly.csv?%s"
                                   "&amp;table=flagged\">flagged</a></p>",
                                   link, link, link, link, link, link);
                }
        }
        buf_adds(&b, "<p class=\"note\">");
        buf_add_html(&b, web_text(c, lang, "report.method"));
        buf_adds(&b, "</p>");
        store_report_org_finish(&org);
        web_page_end(&b);
        return web_respond(resp, 200, "text/html; charset=utf-8", &b);
}

int reports_handle(struct collector *c, const struct web_request *req, struct web_response *resp)
{
        const char *p = req->path;
        bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
        bool mine = strcmp(p, "/reports") == 0 || strcmp(p, "/") == 0 ||
                    strncmp(p, "/api/v1/reports/", 16) == 0 || strncmp(p, "/open/v1/", 9) == 0 ||
                    strcmp(p, "/open/v1") == 0 || strncmp(p, "/reports/monthly.", 17) == 0 ||
                    strcmp(p, "/dashboard") == 0;

        if (!mine)
                return -ENOENT;
        if (!get)
                return strncmp(p, "/api/", 5) == 0 || strncmp(p, "/open/", 6) == 0
                           ? web_api_error(resp, 405, "method: GET only")
                           : web_message_page(c, web_lang(req), 405, "web.error", resp);
        if (strcmp(p, "/reports") == 0 || strcmp(p, "/") == 0)
                return handle_public(c, req, false, resp);
        /* the public addresses programs read need no token, but a bad one is refused there
         * too: a program must not take the public answer for its token's */
        if (strcmp(p, "/api/v1/reports/units") == 0 || strncmp(p, "/open/v1", 8) == 0) {
                struct store_user token_user;
                int r = apitoken_find(c, req, &token_user);

                if (r < 0 && r != -ENOENT)
                        return apitoken_reject(resp, r);
        }
        if (strcmp(p, "/api/v1/reports/units") == 0)
                return handle_public(c, req, true, resp);
        if (strncmp(p, "/api/v1/reports/", 16) == 0)
                return handle_api(c, req, p + 16, resp);
        if (strncmp(p, "/open/v1", 8) == 0) {
                int r = handle_open(c, req, p[8] == '/' ? p + 9 : "", resp);

                return r == -ENOENT ? web_api_error(resp, 404, "open data: no such dataset") : r;
        }
        if (strncmp(p, "/reports/monthly.", 17) == 0)
                return handle_monthly(c, req, p + 17, resp);
        return handle_dashboard(c, req, resp);
}
