/* SPDX-License-Identifier: MIT */
/* The reports as users meet them, through web_handle() over a real SQLite file: the public
 * page and open data (per-employee results only when the configuration says so), the JSON API,
 * the dashboards of a manager (their subtree only) and of leadership, the monthly report in
 * PDF, XLSX and CSV (written to $OTSINKA_REPORT_OUT when set, for monthly_files.sh to render
 * and read), the weekday x hour heatmap of any selection and an employee's open data by the
 * unit each vote was cast in, both against the raw votes, and the alerts. */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cairo.h>
#include <cmocka.h>
#include <jansson.h>
#include <pango/pangocairo.h>
#include <sodium.h>
#include <sqlite3.h>

#include "alert.h"
#include "collector.h"
#include "log.h"
#include "period.h"
#include "report.h"
#include "store.h"
#include "testutil.h"
#include "web.h"
#include "webtest.h"

struct fx {
        struct webtest w;
        int64_t root, child, grand, sibling;
        int64_t head, clerk, other, dir;
        char month[PERIOD_LABEL_MAX], prev[PERIOD_LABEL_MAX];
        struct period pm, pp;
};

static void web_vote_on(struct fx *f, const char *channel, int64_t emp, const char *wp, int level,
                        int64_t ms, const char *flag)
{
        struct store_employee e;
        struct store_web_vote v;

        memset(&e, 0, sizeof(e));
        memset(&v, 0, sizeof(v));
        e.id = emp;
        snprintf(e.channel, sizeof(e.channel), "%s", channel);
        snprintf(e.workplace, sizeof(e.workplace), "%s", wp);
        v.level = level;
        vote_id_new(&v.id);
        v.cast_ms = ms;
        snprintf(v.flag, sizeof(v.flag), "%s", flag);
        assert_int_equal(f->w.store->ops->store_web_vote(f->w.store, &e, &v), 0);
}

static void web_vote(struct fx *f, int64_t emp, const char *wp, int level, int64_t ms,
                     const char *flag)
{
        web_vote_on(f, "qr_printed", emp, wp, level, ms, flag);
}

static void seed(void *fixture)
{
        struct fx *f = fixture;
        struct store *s = f->w.store;
        const struct store_ops *o = s->ops;
        int64_t wp;

        f->root = webtest_add_unit(s, 0, "Міська рада");
        f->child = webtest_add_unit(s, f->root, "Департамент соціального захисту");
        f->grand = webtest_add_unit(s, f->child, "Відділ пільг");
        f->sibling = webtest_add_unit(s, f->root, "Управління ЖКГ");
        f->head =
            webtest_add_employee(s, "H1", "Шевченко Тарас Григорович", "директор", f->child, true);
        f->clerk =
            webtest_add_employee(s, "C1", "Коваленко Олена Петрівна", "фахівець", f->grand, false);
        f->other = webtest_add_employee(s, "O1", "Бондар Іван", "фахівець", f->sibling, false);
        assert_int_equal(o->direction_add(s, "SOC", "Соціальний захист", "Social", &f->dir), 0);
        assert_int_equal(o->workplace_add(s, "W1", "Вікно 1", f->grand, f->dir, &wp), 0);
        webtest_month_label(false, &f->pm, f->month, sizeof(f->month));
        webtest_month_label(true, &f->pp, f->prev, sizeof(f->prev));
        /* this month: 2 «Зразково», 1 «Добре» for the clerk, 1 «Задовільно» flagged; one for the
         * sibling; last month: one «Добре» for the clerk */
        web_vote(f, f->clerk, "W1", 3, (f->pm.start + 3600) * 1000, "");
        web_vote(f, f->clerk, "W1", 3, (f->pm.start + 7200) * 1000, "");
        web_vote(f, f->clerk, "W1", 2, (f->pm.start + 7300) * 1000, "");
        web_vote(f, f->clerk, "W1", 1, (f->pm.start + 7400) * 1000, "address_rate");
        web_vote(f, f->other, "", 1, (f->pm.start + 9000) * 1000, "");
        web_vote(f, f->clerk, "W1", 2, (f->pp.start + 3600) * 1000, "");
}

static int setup(void **state)
{
        return webtest_setup(state, sizeof(struct fx), "otsinka-report-web", NULL, seed);
}

/* A signed-in user of role for unit, as the sign-in page would leave them: the cookie. */
static void sign_in(struct fx *f, const char *login, const char *role, int64_t unit,
                    char cookie[128])
{
        struct store *s = f->w.store;
        struct store_user u;
        char token[44];
        uint8_t hash[32];
        int64_t now = time(NULL);

        memset(token, 'A', 43);
        token[43] = 0;
        token[0] = login[0];
        token[1] = role[0];
        assert_int_equal(s->ops->user_add(s, login, "$argon2id$unused", role, unit), 0);
        assert_int_equal(s->ops->user_lookup(s, login, &u), 0);
        crypto_generichash(hash, 32, (const unsigned char *)token, 43, NULL, 0);
        assert_int_equal(
            s->ops->session_add(s, hash, u.id, "00112233445566778899aabbccddeeff", now, now + 3600),
            0);
        snprintf(cookie, 128, "otsinka_session=%s", token);
}

static void get(struct fx *f, const char *path, const char *cookie,
                const struct webtest_field *args, struct web_response *resp)
{
        const struct webtest_field headers[] = {{"Cookie", cookie}, {NULL, NULL}};

        webtest_get(&f->w, path, cookie ? headers : NULL, args, resp);
}

/* A GET whose answer may be binary. */
static void get_binary(struct fx *f, const char *path, const char *cookie,
                       const struct webtest_field *args, struct web_response *resp)
{
        const struct webtest_field headers[] = {{"Cookie", cookie}, {NULL, NULL}};

        webtest_get_binary(&f->w, path, cookie ? headers : NULL, args, resp);
}

static void test_public_page_and_open_data(void **state)
{
        struct fx *f = *state;
        const struct webtest_field args[] = {{"period", f->month}, {NULL, NULL}};
        struct web_response resp;
        char path[128];
        json_t *r;

        get(f, "/reports", NULL, args, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "id=\"units\"");
        assert_contains(resp.body, "id=\"directions\"");
        assert_contains(resp.body, "Соціальний захист");
        /* no names of employees unless the city publishes them */
        assert_not_contains(resp.body, "Коваленко");
        assert_null(strcasestr(resp.body, "<script"));
        snprintf(path, sizeof(path), ">units/%s.csv</a>", f->month);
        assert_contains(resp.body, path);
        web_response_finish(&resp);

        /* the JSON of the page: subtree sums, the flagged vote in no figure */
        r = webtest_report(&f->w, f->month);
        assert_int_equal(webtest_unit_count(r, f->root, "total"), 4);
        assert_int_equal(webtest_unit_count(r, f->child, "total"), 3);
        assert_int_equal(webtest_unit_count(r, f->child, "satisfactory"), 0);
        assert_int_equal(webtest_unit_count(r, f->child, "not_counted"), 1);
        json_decref(r);

        snprintf(path, sizeof(path), "/open/v1/units/%s.csv", f->month);
        get(f, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.content_type, "text/csv; charset=utf-8");
        assert_contains(resp.body, "period,id,code,parent,name,satisfactory,good,exemplary,total,"
                                   "index,ci_low,ci_high,not_counted\r\n");
        assert_contains(resp.body, ",Відділ пільг,0,1,2,3,83.33,");
        web_response_finish(&resp);
        snprintf(path, sizeof(path), "/open/v1/directions/%s.json", f->month);
        get(f, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "\"code\":\"SOC\"");
        web_response_finish(&resp);
        snprintf(path, sizeof(path), "/open/v1/employees/%s.csv", f->month);
        get(f, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 404);
        web_response_finish(&resp);
        get(f, "/open/v1/units/garbage.csv", NULL, NULL, &resp);
        assert_int_equal(resp.status, 400);
        web_response_finish(&resp);

        /* the city publishes per-employee results: they appear */
        f->w.cfg.public_employees = true;
        get(f, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "Коваленко Олена Петрівна");
        web_response_finish(&resp);
        get(f, "/reports", NULL, args, &resp);
        assert_contains(resp.body, "id=\"employees\"");
        web_response_finish(&resp);
        f->w.cfg.public_employees = false;
}

static void test_api_cut_compares_periods(void **state)
{
        struct fx *f = *state;
        char unit[24];
        struct web_response resp;
        json_t *root, *t;

        snprintf(unit, sizeof(unit), "%" PRId64, f->child);
        {
                const struct webtest_field args[] = {
                    {"period", f->month}, {"unit", unit}, {"by", "channel"}, {NULL, NULL}};

                get(f, "/api/v1/reports/cut", NULL, args, &resp);
        }
        assert_int_equal(resp.status, 200);
        root = json_loads(resp.body, 0, NULL);
        assert_non_null(root);
        t = json_object_get(json_object_get(root, "total"), "period");
        assert_int_equal(json_integer_value(json_object_get(t, "total")), 3);
        assert_true(json_real_value(json_object_get(t, "index")) > 83.3 &&
                    json_real_value(json_object_get(t, "index")) < 83.4);
        t = json_object_get(json_object_get(root, "total"), "previous");
        assert_int_equal(json_integer_value(json_object_get(t, "total")), 1);
        assert_string_equal(json_string_value(json_object_get(root, "previous")), f->prev);
        assert_int_equal(json_array_size(json_object_get(root, "rows")), 1);
        json_decref(root);
        web_response_finish(&resp);

        /* employees are not public here */
        {
                const struct webtest_field args[] = {{"by", "employee"}, {NULL, NULL}};

                get(f, "/api/v1/reports/cut", NULL, args, &resp);
                webtest_assert_api_error(&resp, 401, "access:");
                web_response_finish(&resp);
        }
        /* the heatmap of one employee is answered too (test_heatmap_any_selection) */
        {
                char cookie[128];
                char emp[24];

                snprintf(emp, sizeof(emp), "%" PRId64, f->clerk);
                sign_in(f, "boss", "admin", 0, cookie);
                const struct webtest_field args[] = {
                    {"period", f->month}, {"by", "weekhour"}, {"employee", emp}, {NULL, NULL}};

                get(f, "/api/v1/reports/cut", cookie, args, &resp);
                assert_int_equal(resp.status, 200);
                root = json_loads(resp.body, 0, NULL);
                assert_non_null(root);
                t = json_object_get(json_object_get(root, "total"), "period");
                assert_int_equal(json_integer_value(json_object_get(t, "total")), 3);
                json_decref(root);
                web_response_finish(&resp);
                /* leadership sees the whole city */
                get(f, "/dashboard", cookie, NULL, &resp);
                assert_int_equal(resp.status, 200);
                assert_contains(resp.body, "Управління ЖКГ");
                assert_contains(resp.body, "Департамент соціального захисту");
                web_response_finish(&resp);
        }
        {
                const struct webtest_field args[] = {{"period", "2026-13"}, {NULL, NULL}};

                get(f, "/api/v1/reports/cut", NULL, args, &resp);
                webtest_assert_api_error(&resp, 400, "period:");
                web_response_finish(&resp);
        }
}

static void test_manager_sees_own_subtree(void **state)
{
        struct fx *f = *state;
        char cookie[128], unit[24], emp[24];
        struct web_response resp;

        sign_in(f, "head", "manager", f->child, cookie);
        {
                const struct webtest_field args[] = {{"period", f->month}, {NULL, NULL}};

                get(f, "/dashboard", NULL, args, &resp);
                assert_int_equal(resp.status, 303);
                web_response_finish(&resp);
                get(f, "/dashboard", cookie, args, &resp);
        }
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "Департамент соціального захисту");
        assert_contains(resp.body, "class=\"chart trend\"");
        assert_contains(resp.body, "class=\"chart heat\"");
        assert_contains(resp.body, "id=\"rank-employees\"");
        assert_contains(resp.body, "Коваленко Олена Петрівна");
        assert_not_contains(resp.body, "Бондар");
        assert_not_contains(resp.body, "Управління ЖКГ");
        assert_null(strcasestr(resp.body, "<script"));
        web_response_finish(&resp);

        /* another branch is closed to them */
        snprintf(unit, sizeof(unit), "%" PRId64, f->sibling);
        {
                const struct webtest_field args[] = {{"unit", unit}, {NULL, NULL}};

                get(f, "/dashboard", cookie, args, &resp);
                assert_int_equal(resp.status, 403);
                web_response_finish(&resp);
                get(f, "/api/v1/reports/cut", cookie, args, &resp);
                assert_int_equal(resp.status, 403);
                web_response_finish(&resp);
        }
        /* down to one employee */
        snprintf(emp, sizeof(emp), "%" PRId64, f->clerk);
        {
                const struct webtest_field args[] = {
                    {"period", f->month}, {"employee", emp}, {NULL, NULL}};

                get(f, "/dashboard", cookie, args, &resp);
                assert_int_equal(resp.status, 200);
                assert_contains(resp.body, "id=\"employee\">Коваленко Олена Петрівна");
                web_response_finish(&resp);
        }
}

/* The counted votes of this month that match where (SQL over votes), by ISO weekday and local
 * hour, computed here from cast_at with localtime_r(): what the heatmap must show. */
static int64_t raw_heat(struct fx *f, const char *where, int64_t want[7][24])
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        char sql[512];
        int64_t total = 0;

        memset(want, 0, sizeof(int64_t) * 7 * 24);
        snprintf(sql, sizeof(sql),
                 "SELECT cast_at FROM votes WHERE counted = 1 AND cast_at >= %" PRId64
                 " AND cast_at < %" PRId64 " AND (%s)",
                 f->pm.start * 1000, f->pm.end * 1000, where);
        assert_int_equal(sqlite3_open(f->w.db, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
                time_t t = (time_t)(sqlite3_column_int64(st, 0) / 1000);
                struct tm tm;

                assert_non_null(localtime_r(&t, &tm));
                want[(tm.tm_wday + 6) % 7][tm.tm_hour]++;
                total++;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return total;
}

/* The heatmap of the API and of the dashboard's SVG for the selection args, cell by cell
 * against raw_heat(where); returns how many votes it shows. */
static int64_t check_heat(struct fx *f, const char *cookie, const struct webtest_field *args,
                          const char *where)
{
        int64_t want[7][24], total = 0, want_total;
        struct web_response resp;
        json_t *root, *days;
        const char *p;
        int cells = 0, want_cells = 0;

        want_total = raw_heat(f, where, want);
        get(f, "/api/v1/reports/heatmap", cookie, args, &resp);
        assert_int_equal(resp.status, 200);
        root = json_loads(resp.body, 0, NULL);
        assert_non_null(root);
        days = json_object_get(root, "counts");
        assert_int_equal(json_array_size(days), 7);
        for (int d = 0; d < 7; d++)
                for (int h = 0; h < 24; h++) {
                        int64_t got = json_integer_value(
                            json_array_get(json_array_get(days, (size_t)d), (size_t)h));

                        if (got != want[d][h])
                                fail_msg("%s: weekday %d %02d:00: %" PRId64 " votes, want %" PRId64,
                                         where, d + 1, h, got, want[d][h]);
                        total += got;
                        want_cells += want[d][h] > 0;
                }
        assert_int_equal(total, want_total);
        json_decref(root);
        web_response_finish(&resp);

        /* the dashboard draws the same cells */
        get(f, "/dashboard", cookie, args, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "class=\"chart heat\"");
        for (int d = 0; d < 7; d++)
                for (int h = 0; h < 24; h++) {
                        char cell[64], n[32];

                        snprintf(cell, sizeof(cell), "data-wh=\"%d\"><title>", (d + 1) * 100 + h);
                        p = strstr(resp.body, cell);
                        assert_non_null(p);
                        p = strstr(p, " n=");
                        assert_non_null(p);
                        snprintf(n, sizeof(n), " n=%" PRId64 "%s", want[d][h],
                                 want[d][h] ? "," : "<");
                        if (strncmp(p, n, strlen(n)) != 0)
                                fail_msg("%s: the SVG's cell %d: '%.20s', want '%s'", where,
                                         (d + 1) * 100 + h, p, n);
                        cells += want[d][h] > 0;
                }
        assert_int_equal(cells, want_cells);
        assert_null(strcasestr(resp.body, "<script"));
        web_response_finish(&resp);
        return total;
}

/* The heatmap follows every filter of the selection: direction, employee, workplace, channel,
 * terminal (none here: no terminal votes) and unit, cell by cell as the raw votes say. */
static void test_heatmap_any_selection(void **state)
{
        struct fx *f = *state;
        char cookie[128], dir[24], dir2[24], emp[24], wp2s[24], unit[24], where[160];
        int64_t dir2_id, wp2;
        struct web_response resp;

        assert_int_equal(f->w.store->ops->direction_add(f->w.store, "ADM",
                                                        "Адміністративні послуги", "Administrative",
                                                        &dir2_id),
                         0);
        assert_int_equal(
            f->w.store->ops->workplace_add(f->w.store, "W2", "Вікно 2", f->grand, dir2_id, &wp2),
            0);
        /* votes at other hours and weekdays, other directions and channels */
        for (int i = 0; i < 40; i++) {
                int64_t ms = (f->pm.start + 86400 * (i % 9) + 3600 * (7 + i % 11) + 60 * i) * 1000;

                web_vote_on(f, i % 3 ? "qr_printed" : "qr_reply", i % 4 ? f->clerk : f->head,
                            i % 2 ? "W2" : "W1", 1 + i % 3, ms, i % 13 == 5 ? "address_rate" : "");
        }
        web_vote_on(f, "qr_screen", f->other, "", 3, (f->pm.start + 86400 * 3 + 3600 * 15) * 1000,
                    "");
        sign_in(f, "lead", "auditor", 0, cookie);
        snprintf(dir, sizeof(dir), "%" PRId64, f->dir);
        snprintf(dir2, sizeof(dir2), "%" PRId64, dir2_id);
        snprintf(emp, sizeof(emp), "%" PRId64, f->clerk);
        snprintf(wp2s, sizeof(wp2s), "%" PRId64, wp2);
        snprintf(unit, sizeof(unit), "%" PRId64, f->grand);
        {
                const struct webtest_field a[] = {{"period", f->month}, {NULL, NULL}};

                /* 4 counted in the setup, 37 of the 40 here, the sibling's 1 */
                assert_int_equal(check_heat(f, cookie, a, "true"), 42);
        }
        {
                const struct webtest_field a[] = {
                    {"period", f->month}, {"direction", dir2}, {NULL, NULL}};

                snprintf(where, sizeof(where), "direction_id = %s", dir2);
                assert_in_range(check_heat(f, cookie, a, where), 1, 41);
        }
        {
                const struct webtest_field a[] = {
                    {"period", f->month}, {"direction", dir}, {"employee", emp}, {NULL, NULL}};

                snprintf(where, sizeof(where), "direction_id = %s AND employee_id = %s", dir, emp);
                assert_in_range(check_heat(f, cookie, a, where), 1, 41);
        }
        {
                const struct webtest_field a[] = {{"period", f->month},
                                                  {"workplace", wp2s},
                                                  {"channel", "qr_reply"},
                                                  {NULL, NULL}};

                snprintf(where, sizeof(where), "workplace_id = %s AND channel = 'qr_reply'", wp2s);
                assert_in_range(check_heat(f, cookie, a, where), 1, 41);
        }
        {
                const struct webtest_field a[] = {
                    {"period", f->month}, {"unit", unit}, {"channel", "qr_printed"}, {NULL, NULL}};

                snprintf(where, sizeof(where), "unit_id = %s AND channel = 'qr_printed'", unit);
                assert_in_range(check_heat(f, cookie, a, where), 1, 41);
        }
        {
                const struct webtest_field a[] = {
                    {"period", f->month}, {"terminal", "T9"}, {NULL, NULL}};

                assert_int_equal(check_heat(f, cookie, a, "terminal_id = 'T9'"), 0);
        }
        /* the dashboard says which filters apply, keeps them for another period and drills
         * down from its tables */
        {
                const struct webtest_field a[] = {{"period", f->month},
                                                  {"direction", dir2},
                                                  {"channel", "qr_reply"},
                                                  {NULL, NULL}};
                char link[160];

                get(f, "/dashboard", cookie, a, &resp);
                assert_int_equal(resp.status, 200);
                assert_contains(resp.body, "Напрям: <b>Адміністративні послуги</b>");
                assert_contains(resp.body, "Канал: <b>");
                snprintf(link, sizeof(link), "name=\"direction\" value=\"%s\"", dir2);
                assert_contains(resp.body, link);
                assert_contains(resp.body, "name=\"channel\" value=\"qr_reply\"");
                /* dropping the channel keeps the direction */
                snprintf(link, sizeof(link),
                         "class=\"drop\" title=\"Прибрати цей фільтр\" href=\"/dashboard?period=%s"
                         "&amp;direction=%s\"",
                         f->month, dir2);
                assert_contains(resp.body, link);
                web_response_finish(&resp);
        }
        {
                const struct webtest_field a[] = {{"period", f->month}, {NULL, NULL}};
                char link[160];

                get(f, "/dashboard", cookie, a, &resp);
                snprintf(link, sizeof(link), "<a href=\"/dashboard?period=%s&amp;direction=%s\">",
                         f->month, dir2);
                assert_contains(resp.body, link);
                snprintf(link, sizeof(link),
                         "<a href=\"/dashboard?period=%s&amp;channel=qr_reply\">", f->month);
                assert_contains(resp.body, link);
                web_response_finish(&resp);
        }
}

/* An employee moved to another unit in the middle of the month: the open data give each of
 * their votes under the unit it was cast in, one row per unit, with the counts of the raw
 * votes; the move itself changes no row. */
static void test_open_employees_by_vote_unit(void **state)
{
        struct fx *f = *state;
        struct web_response resp;
        char path[128], sql[160], line[256];
        json_t *root, *rows;
        int found = 0;

        /* 2 more counted votes for the clerk after a move to the sibling */
        snprintf(sql, sizeof(sql), "UPDATE employees SET unit_id = %" PRId64 " WHERE id = %" PRId64,
                 f->sibling, f->clerk);
        webtest_db_exec(&f->w, sql);
        web_vote(f, f->clerk, "", 1, (f->pm.start + 86400 * 5) * 1000, "");
        web_vote(f, f->clerk, "", 3, (f->pm.start + 86400 * 5 + 60) * 1000, "");
        f->w.cfg.public_employees = true;

        snprintf(path, sizeof(path), "/open/v1/employees/%s.json", f->month);
        get(f, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        root = json_loads(resp.body, 0, NULL);
        assert_non_null(root);
        rows = json_object_get(root, "rows");
        for (size_t i = 0; i < json_array_size(rows); i++) {
                json_t *o = json_array_get(rows, i);
                int64_t unit = json_integer_value(json_object_get(o, "unit"));
                int64_t want[4] = {0, 0, 0, 0};
                sqlite3 *db = NULL;
                sqlite3_stmt *st = NULL;

                if (json_integer_value(json_object_get(o, "id")) != f->clerk)
                        continue;
                found++;
                /* the raw votes of the clerk in that unit this month */
                assert_int_equal(sqlite3_open(f->w.db, &db), SQLITE_OK);
                snprintf(sql, sizeof(sql),
                         "SELECT level, COUNT(*) FROM votes WHERE employee_id = ?1 AND unit_id = ?2"
                         " AND counted = 1 AND cast_at >= ?3 AND cast_at < ?4 GROUP BY level");
                assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
                sqlite3_bind_int64(st, 1, f->clerk);
                sqlite3_bind_int64(st, 2, unit);
                sqlite3_bind_int64(st, 3, f->pm.start * 1000);
                sqlite3_bind_int64(st, 4, f->pm.end * 1000);
                while (sqlite3_step(st) == SQLITE_ROW) {
                        want[sqlite3_column_int(st, 0)] = sqlite3_column_int64(st, 1);
                        want[0] += sqlite3_column_int64(st, 1);
                }
                sqlite3_finalize(st);
                sqlite3_close(db);
                assert_true(want[0] > 0);
                assert_int_equal(json_integer_value(json_object_get(o, "total")), want[0]);
                assert_int_equal(json_integer_value(json_object_get(o, "satisfactory")), want[1]);
                assert_int_equal(json_integer_value(json_object_get(o, "good")), want[2]);
                assert_int_equal(json_integer_value(json_object_get(o, "exemplary")), want[3]);
                if (unit == f->grand)
                        assert_int_equal(want[0], 3); /* before the move: 0/1/2 */
                else
                        assert_int_equal(unit, f->sibling);
        }
        assert_int_equal(found, 2);
        json_decref(root);
        web_response_finish(&resp);

        /* the CSV: the parent column is the unit of the votes */
        snprintf(path, sizeof(path), "/open/v1/employees/%s.csv", f->month);
        get(f, path, NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        snprintf(line, sizeof(line),
                 "%s,%" PRId64 ",C1,%" PRId64 ",Коваленко Олена Петрівна,0,1,2,3,", f->month,
                 f->clerk, f->grand);
        assert_contains(resp.body, line);
        snprintf(line, sizeof(line),
                 "%s,%" PRId64 ",C1,%" PRId64 ",Коваленко Олена Петрівна,1,0,1,2,", f->month,
                 f->clerk, f->sibling);
        assert_contains(resp.body, line);
        web_response_finish(&resp);
        f->w.cfg.public_employees = false;
}

static void write_out(const char *name, const struct web_response *resp)
{
        const char *dir = getenv("OTSINKA_REPORT_OUT");
        char path[512];
        FILE *fp;

        if (!dir || !*dir)
                return;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(resp->body, 1, resp->body_len, fp), resp->body_len);
        fclose(fp);
}

static void test_monthly_report_three_formats(void **state)
{
        struct fx *f = *state;
        char cookie[128], unit[24];
        struct web_response resp;

        sign_in(f, "lead", "auditor", 0, cookie);
        /* many employees, so that the PDF runs over more than one page */
        for (int i = 0; i < 70; i++) {
                char no[16], name[128];
                int64_t e;

                snprintf(no, sizeof(no), "X%02d", i);
                snprintf(name, sizeof(name), "Працівник Номер %02d Довгопризвищенко-Кириленко", i);
                e = webtest_add_employee(f->w.store, no, name, "головний спеціаліст", f->grand,
                                         false);
                web_vote(f, e, "W1", 1 + i % 3, (f->pm.start + 10000 + i) * 1000, "");
                web_vote(f, e, "W1", 3, (f->pp.start + 10000 + i) * 1000, "");
        }
        snprintf(unit, sizeof(unit), "%" PRId64, f->child);
        const struct webtest_field args[] = {{"unit", unit}, {"month", f->month}, {NULL, NULL}};

        get(f, "/reports/monthly.pdf", NULL, args, &resp);
        assert_int_equal(resp.status, 401);
        web_response_finish(&resp);

        get_binary(f, "/reports/monthly.pdf", cookie, args, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.content_type, "application/pdf");
        assert_true(resp.body_len > 1000 && memcmp(resp.body, "%PDF-", 5) == 0);
        write_out("monthly.pdf", &resp);
        web_response_finish(&resp);

        get_binary(f, "/reports/monthly.xlsx", cookie, args, &resp);
        assert_int_equal(resp.status, 200);
        assert_true(resp.body_len > 1000 && memcmp(resp.body, "PK", 2) == 0);
        write_out("monthly.xlsx", &resp);
        web_response_finish(&resp);

        {
                const struct webtest_field a2[] = {
                    {"unit", unit}, {"month", f->month}, {"table", "employees"}, {NULL, NULL}};

                get(f, "/reports/monthly.csv", cookie, a2, &resp);
                assert_int_equal(resp.status, 200);
                assert_contains(resp.body, "Працівник,Посада,Підрозділ,Задовільно,Добре,Зразково,");
                /* the clerk: 0/1/2 this month, index 83.3; 50.0 the month before: +33.3 */
                assert_contains(resp.body,
                                "Коваленко Олена Петрівна,фахівець,Відділ пільг,0,1,2,3,83.3,");
                assert_contains(resp.body, ",50.0,+33.3\r\n");
                write_out("employees.csv", &resp);
                web_response_finish(&resp);
        }
        {
                const struct webtest_field a2[] = {
                    {"unit", unit}, {"month", f->month}, {"table", "flagged"}, {NULL, NULL}};

                get(f, "/reports/monthly.csv", cookie, a2, &resp);
                assert_int_equal(resp.status, 200);
                assert_contains(resp.body, ",address_rate,");
                web_response_finish(&resp);
        }
        {
                const struct webtest_field a2[] = {{"month", "2026-W01"}, {NULL, NULL}};

                get(f, "/reports/monthly.pdf", cookie, a2, &resp);
                webtest_assert_api_error(&resp, 400, "month:");
                web_response_finish(&resp);
        }
}

static void test_alert_for_manager(void **state)
{
        struct fx *f = *state;
        struct collector *c = &f->w.c;
        int64_t t0 = ((int64_t)time(NULL) - 600) * 1000;
        size_t n = 99;
        char cookie[128], *mail = NULL;
        struct store_alert *a = NULL;
        struct web_response resp;

        /* 2 of 4 within 15 minutes in the head's subtree: 50 % of 4, an alert */
        web_vote(f, f->clerk, "W1", 1, t0, "");
        web_vote(f, f->clerk, "W1", 3, t0 + 60000, "");
        web_vote(f, f->clerk, "W1", 1, t0 + 120000, "");
        assert_int_equal(alert_scan(c, t0 + 180000, &n), 0);
        assert_int_equal(n, 0); /* 2 of 3: too few votes yet */
        web_vote(f, f->clerk, "W1", 2, t0 + 180000, "");
        assert_int_equal(alert_scan(c, t0 + 240000, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(alert_scan(c, t0 + 300000, &n), 0);
        assert_int_equal(n, 0); /* the same burst is not raised twice */
        assert_int_equal(f->w.store->ops->alert_list(f->w.store, 0, 0, 10, &a, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(a[0].unit_id, f->child);
        assert_int_equal(a[0].n, 4);
        assert_int_equal(a[0].n1, 2);
        assert_int_equal(a[0].mailed_at_ms, 0); /* no SMTP server configured */
        assert_int_equal(alert_mail_text(c, &a[0], "Департамент", "Шевченко", &mail), 0);
        assert_contains(mail, "Subject: Otsinka: Департамент — 2/4 «Задовільно»");
        free(mail);
        free(a);

        sign_in(f, "head2", "manager", f->child, cookie);
        get(f, "/dashboard", cookie, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "class=\"alert\"");
        web_response_finish(&resp);
        /* the sibling's manager does not see it */
        sign_in(f, "zhkg", "manager", f->sibling, cookie);
        get(f, "/dashboard", cookie, NULL, &resp);
        assert_not_contains(resp.body, "class=\"alert\"");
        web_response_finish(&resp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_public_page_and_open_data, setup,
                                            webtest_teardown),
            cmocka_unit_test_setup_teardown(test_api_cut_compares_periods, setup, webtest_teardown),
            cmocka_unit_test_setup_teardown(test_manager_sees_own_subtree, setup, webtest_teardown),
            cmocka_unit_test_setup_teardown(test_monthly_report_three_formats, setup,
                                            webtest_teardown),
            cmocka_unit_test_setup_teardown(test_alert_for_manager, setup, webtest_teardown),
            cmocka_unit_test_setup_teardown(test_heatmap_any_selection, setup, webtest_teardown),
            cmocka_unit_test_setup_teardown(test_open_employees_by_vote_unit, setup,
                                            webtest_teardown),
        };

        int failed = webtest_run_group(tests, LOG_LEVEL_INFO);

        /* the PDF's fonts: pango, cairo and fontconfig keep caches for the process's life;
         * let them go, so that LeakSanitizer sees only what the code under test leaks */
        pango_cairo_font_map_set_default(NULL);
        cairo_debug_reset_static_data();
        {
                /* fontconfig comes in through pango, unlinked by name: found at run time */
                void (*fc_fini)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");

                if (fc_fini)
                        fc_fini();
        }
        return failed;
}
