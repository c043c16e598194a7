/* SPDX-License-Identifier: MIT */
/* The collector tests' request harness (webtest.h): requests through web_handle() over a
 * real SQLite file, assertions that print both what was wanted and what came back, and the
 * fixtures the tests share. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "testutil.h"
#include "webtest.h"

int webtest_mkdir(struct webtest *w, const char *prefix)
{
        int r;

        memset(w, 0, sizeof(*w));
        w->client_addr = "192.0.2.7";
        r = test_mkdtemp(w->dir, sizeof(w->dir), prefix);
        if (r < 0)
                return r;
        snprintf(w->db, sizeof(w->db), "%s/collector.db", w->dir);
        return 0;
}

int webtest_start(struct webtest *w, const char *assets, const char *public_url)
{
        int r;

        if (!w->cfg_set) {
                w->cfg_set = true;
                r = config_defaults(collector_options, collector_options_count, &w->cfg);
                if (r < 0)
                        return r;
                if (assets) {
                        free(w->cfg.assets);
                        w->cfg.assets = strdup(assets);
                }
                if (public_url) {
                        free(w->cfg.public_url);
                        w->cfg.public_url = strdup(public_url);
                }
                if (!w->cfg.assets || !w->cfg.public_url)
                        return -ENOMEM;
        }
        r = store_open(w->db, &w->store);
        if (r < 0)
                return r;
        r = collector_init(&w->c, &w->cfg, w->store);
        if (r < 0) {
                store_close(w->store);
                w->store = NULL;
        }
        return r;
}

int webtest_open(struct webtest *w, const char *prefix, const char *assets, const char *public_url)
{
        int r = webtest_mkdir(w, prefix);

        if (r < 0)
                return r;
        r = webtest_start(w, assets, public_url);
        if (r < 0)
                webtest_close(w);
        return r;
}

int webtest_restart(struct webtest *w)
{
        if (w->store) {
                collector_finish(&w->c);
                store_close(w->store);
                w->store = NULL;
        }
        return webtest_start(w, NULL, NULL);
}

void webtest_close(struct webtest *w)
{
        if (w->store) {
                collector_finish(&w->c);
                store_close(w->store);
        }
        if (w->cfg_set)
                config_free(collector_options, collector_options_count, &w->cfg);
        test_remove_tree(w->dir);
        memset(w, 0, sizeof(*w));
}

const char *webtest_assets(void)
{
        const char *env = getenv("OTSINKA_ASSETS");

        return env && *env ? env : TEST_SOURCE_DIR "/assets";
}

int webtest_setup(void **state, size_t size, const char *prefix, const char *public_url,
                  void (*seed)(void *fixture))
{
        struct webtest *w;

        assert_true(size >= sizeof(*w));
        w = calloc(1, size);
        if (!w)
                return -1;
        if (webtest_open(w, prefix, webtest_assets(), public_url) < 0) {
                free(w);
                return -1;
        }
        *state = w;
        if (seed)
                seed(w);
        return 0;
}

int webtest_teardown(void **state)
{
        struct webtest *w = *state;

        webtest_close(w);
        free(w);
        return 0;
}

int webtest_init(enum log_level level)
{
        if (sodium_init() < 0 || period_set_zone("Europe/Kyiv") < 0)
                return -1;
        log_set_max_level(level);
        return 0;
}

struct request_ctx {
        const struct webtest_field *headers; /* may be NULL */
        const struct webtest_field *args;    /* may be NULL */
};

static const char *find(const struct webtest_field *f, const char *name, bool ignore_case)
{
        for (; f && f->name; f++)
                if (ignore_case ? strcasecmp(f->name, name) == 0 : strcmp(f->name, name) == 0)
                        return f->value;
        return NULL;
}

static const char *lookup_header(void *ctx, const char *name)
{
        return find(((struct request_ctx *)ctx)->headers, name, true);
}

static const char *lookup_arg(void *ctx, const char *name)
{
        return find(((struct request_ctx *)ctx)->args, name, false);
}

/* One request; a text answer must hold no NUL (binary ones, like a PDF, may). */
static void call(struct webtest *w, const char *method, const char *path,
                 const struct webtest_field *headers, const struct webtest_field *args,
                 const char *body, bool text, struct web_response *resp)
{
        struct request_ctx ctx = {headers, args};
        size_t len = body ? strlen(body) : 0;
        char *copy = NULL;
        struct web_request req = {
            .method = method,
            .path = path,
            .client_addr = w->client_addr,
            .header = lookup_header,
            .arg = lookup_arg,
            .ctx = &ctx,
        };

        if (body) {
                copy = malloc(len ? len : 1);
                assert_non_null(copy);
                memcpy(copy, body, len);
        }
        req.body = copy;
        req.body_len = len;
        assert_int_equal(web_handle(&w->c, &req, resp), 0);
        free(copy);
        assert_non_null(resp->body);
        if (text)
                assert_int_equal(strlen(resp->body), resp->body_len);
}

void webtest_call(struct webtest *w, const char *method, const char *path,
                  const struct webtest_field *headers, const struct webtest_field *args,
                  const char *body, struct web_response *resp)
{
        call(w, method, path, headers, args, body, true, resp);
}

void webtest_get_binary(struct webtest *w, const char *path, const struct webtest_field *headers,
                        const struct webtest_field *args, struct web_response *resp)
{
        call(w, "GET", path, headers, args, NULL, false, resp);
}

void webtest_get(struct webtest *w, const char *path, const struct webtest_field *headers,
                 const struct webtest_field *args, struct web_response *resp)
{
        webtest_call(w, "GET", path, headers, args, NULL, resp);
}

void webtest_post_form(struct webtest *w, const char *path, const char *body,
                       struct web_response *resp)
{
        static const struct webtest_field headers[] = {
            {"Content-Type", "application/x-www-form-urlencoded"},
            {NULL, NULL},
        };

        webtest_call(w, "POST", path, headers, NULL, body, resp);
}

void webtest_post_api(struct webtest *w, const char *path, const char *auth, const char *type,
                      const char *body, struct web_response *resp)
{
        struct webtest_field headers[3] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
        size_t n = 0;

        if (auth)
                headers[n++] = (struct webtest_field){"Authorization", auth};
        if (type)
                headers[n++] = (struct webtest_field){"Content-Type", type};
        webtest_call(w, "POST", path, headers, NULL, body, resp);
}

void webtest_vote_page(struct webtest *w, const char *path, const struct webtest_field *args,
                       char form_token[static WEBTEST_FORM_TOKEN_MAX])
{
        static const char mark[] = "name=\"ft\" value=\"";
        struct webtest_field headers[2] = {{"Cookie", w->phone_cookie}, {NULL, NULL}};
        struct web_response page;
        const char *ft;
        size_t n;

        webtest_call(w, "GET", path, w->phone_cookie[0] ? headers : NULL, args, NULL, &page);
        if (page.status != 200)
                print_error("GET %.80s: %d\n", path, page.status);
        assert_int_equal(page.status, 200);
        if (page.set_cookie[0]) {
                n = strcspn(page.set_cookie, ";");
                assert_true(n < sizeof(w->phone_cookie));
                memcpy(w->phone_cookie, page.set_cookie, n);
                w->phone_cookie[n] = 0;
        }
        ft = strstr(page.body, mark);
        if (!ft)
                print_error("no form token in:\n%s\n", page.body);
        assert_non_null(ft);
        ft += strlen(mark);
        n = strcspn(ft, "\"");
        assert_true(n > 0 && n < WEBTEST_FORM_TOKEN_MAX);
        memcpy(form_token, ft, n);
        form_token[n] = 0;
        web_response_finish(&page);
}

void webtest_vote_post(struct webtest *w, const char *path, const struct webtest_field *args,
                       const char *form, const char *form_token, struct web_response *resp)
{
        struct webtest_field headers[3] = {
            {"Content-Type", "application/x-www-form-urlencoded"}, {NULL, NULL}, {NULL, NULL}};
        char body[512];

        if (w->phone_cookie[0])
                headers[1] = (struct webtest_field){"Cookie", w->phone_cookie};
        snprintf(body, sizeof(body), "%s%sft=%s", form ? form : "", form && form[0] ? "&" : "",
                 form_token);
        webtest_call(w, "POST", path, headers, args, body, resp);
}

void webtest_vote(struct webtest *w, const char *path, const struct webtest_field *args,
                  const char *form, struct web_response *resp)
{
        char ft[WEBTEST_FORM_TOKEN_MAX];

        webtest_vote_page(w, path, args, ft);
        webtest_vote_post(w, path, args, form, ft, resp);
}

void webtest_vote_status(struct webtest *w, const char *path, const char *form, int want,
                         const char *file, int line)
{
        struct web_response resp;

        webtest_vote(w, path, NULL, form, &resp);
        if (resp.status != want)
                print_error("vote on %.80s: %.300s\n", path, resp.body);
        _assert_int_equal(cast_to_largest_integral_type(resp.status),
                          cast_to_largest_integral_type(want), file, line);
        web_response_finish(&resp);
}

void webtest_request_status(struct webtest *w, bool post, const char *path, const char *form,
                            int want, const char *file, int line)
{
        struct web_response resp;

        if (post)
                webtest_post_form(w, path, form, &resp);
        else
                webtest_get(w, path, NULL, NULL, &resp);
        if (resp.status != want)
                print_error("%s %.80s\n", post ? "POST" : "GET", path);
        _assert_int_equal(cast_to_largest_integral_type(resp.status),
                          cast_to_largest_integral_type(want), file, line);
        web_response_finish(&resp);
}

void webtest_contains(const char *hay, const char *needle, bool want, const char *file, int line)
{
        if ((strstr(hay, needle) != NULL) == want)
                return;
        print_error("%s \"%s\" in:\n%s\n", want ? "Missing" : "Unexpected", needle, hay);
        _fail(file, line);
}

void webtest_assert_api_error(const struct web_response *resp, int status, const char *prefix)
{
        json_t *root, *error;

        if (resp->status != status)
                print_error("body: %.300s\n", resp->body);
        assert_int_equal(resp->status, status);
        assert_string_equal(resp->content_type, "application/json");
        root = json_loadb(resp->body, resp->body_len, 0, NULL);
        assert_non_null(root);
        error = json_object_get(root, "error");
        assert_true(json_is_string(error));
        if (strncmp(json_string_value(error), prefix, strlen(prefix)) != 0)
                print_error("error \"%s\" does not start with \"%s\"\n", json_string_value(error),
                            prefix);
        assert_int_equal(strncmp(json_string_value(error), prefix, strlen(prefix)), 0);
        json_decref(root);
}

int64_t webtest_vote_count(struct webtest *w)
{
        int64_t n = -1;

        assert_int_equal(w->store->ops->vote_count(w->store, &n), 0);
        return n;
}

int64_t webtest_add_unit(struct store *s, int64_t parent, const char *name)
{
        int64_t id = 0;

        assert_int_equal(s->ops->unit_add(s, parent, "section", name, NULL, &id), 0);
        return id;
}

int64_t webtest_add_employee(struct store *s, const char *no, const char *name, const char *pos,
                             int64_t unit, bool head)
{
        int64_t id = 0;

        assert_int_equal(s->ops->employee_add(s, no, name, pos, unit, head, &id), 0);
        return id;
}

void webtest_add_city(struct store *s, const char *sibling_name, struct webtest_city *ret)
{
        ret->root = webtest_add_unit(s, 0, WEBTEST_CITY_ROOT);
        ret->child = webtest_add_unit(s, ret->root, WEBTEST_CITY_CHILD);
        ret->grandchild = webtest_add_unit(s, ret->child, WEBTEST_CITY_GRANDCHILD);
        ret->sibling =
            webtest_add_unit(s, ret->root, sibling_name ? sibling_name : WEBTEST_CITY_SIBLING);
}

int webtest_setup_city(void **state, const char *prefix, const char *public_url,
                       void (*seed)(struct webtest_fixture *fx))
{
        struct webtest_fixture *fx;
        int r;

        r = webtest_setup(state, sizeof(*fx), prefix, public_url, NULL);
        if (r < 0)
                return r;
        fx = *state;
        webtest_add_city(fx->w.store, NULL, &fx->city);
        if (seed)
                seed(fx);
        return 0;
}

void webtest_month_label(bool previous, struct period *ret, char *label, size_t n)
{
        struct period p;

        assert_int_equal(period_containing(PERIOD_MONTH, time(NULL), &p), 0);
        if (previous)
                assert_int_equal(period_previous(&p, &p), 0);
        assert_int_equal(period_label(&p, label, n), 0);
        *ret = p;
}

json_t *webtest_report(struct webtest *w, const char *label)
{
        const struct webtest_field args[] = {{"period", label}, {NULL, NULL}};
        struct web_response resp;
        json_t *root;

        webtest_get(w, "/api/v1/reports/units", NULL, args, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.content_type, "application/json");
        root = json_loadb(resp.body, resp.body_len, 0, NULL);
        assert_non_null(root);
        assert_string_equal(json_string_value(json_object_get(root, "period")), label);
        web_response_finish(&resp);
        return root;
}

json_t *webtest_find_unit(json_t *report, int64_t unit)
{
        json_t *units = json_object_get(report, "units"), *u, *found = NULL;
        size_t i, n = 0;

        json_array_foreach(units, i, u)
        {
                if (json_integer_value(json_object_get(u, "id")) == unit) {
                        found = found ? found : u;
                        n++;
                }
        }
        if (n == 1)
                return found;
        if (n == 0)
                print_error("unit %lld is not in the report\n", (long long)unit);
        else
                print_error("unit %lld is in the report %zu times\n", (long long)unit, n);
        fail();
        return NULL;
}

int64_t webtest_unit_count(json_t *report, int64_t unit, const char *key)
{
        json_t *v = json_object_get(webtest_find_unit(report, unit), key);

        assert_true(json_is_integer(v));
        return json_integer_value(v);
}

int64_t webtest_month_total(struct webtest *w, int64_t unit)
{
        char label[PERIOD_LABEL_MAX];
        struct period month;
        json_t *r;
        int64_t n;

        webtest_month_label(false, &month, label, sizeof(label));
        r = webtest_report(w, label);
        n = webtest_unit_count(r, unit, "total");
        json_decref(r);
        return n;
}

static sqlite3 *db_open(const char *path)
{
        sqlite3 *db = NULL;

        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        return db;
}

void webtest_file_exec(const char *path, const char *sql)
{
        sqlite3 *db = db_open(path);
        char *msg = NULL;

        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
                print_error("%s: %s\n", sql, msg ? msg : "?");
        assert_null(msg);
        sqlite3_close(db);
}

int64_t webtest_file_query(const char *path, char *buf, size_t n, const char *fmt, ...)
{
        char sql[1024];
        sqlite3 *db = db_open(path);
        sqlite3_stmt *st = NULL;
        int64_t v = INT64_MIN;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(sql, sizeof(sql), fmt, ap);
        va_end(ap);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                print_error("%s: %s\n", sql, sqlite3_errmsg(db));
        assert_non_null(st);
        if (sqlite3_step(st) != SQLITE_ROW) {
                print_error("no row: %s\n", sql);
                fail();
        }
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
                v = sqlite3_column_int64(st, 0);
        if (buf)
                snprintf(buf, n, "%s",
                         sqlite3_column_type(st, 0) == SQLITE_NULL
                             ? "NULL"
                             : (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
}

void webtest_add_user(struct webtest *w, const char *login, const char *password, const char *role,
                      int64_t unit_id)
{
        char hash[crypto_pwhash_STRBYTES];

        assert_int_equal(crypto_pwhash_str(hash, password, strlen(password),
                                           crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN),
                         0);
        assert_int_equal(w->store->ops->user_add(w->store, login, hash, role, unit_id), 0);
}

void webtest_assert_sign_in(struct webtest *w, const char *login, const char *password,
                            struct webtest_browser *b, const char *file, int line)
{
        int status = webtest_sign_in(w, login, password, b);

        if (status == 303 && b->session[0])
                return;
        print_error("%s could not sign in: %d\n", login, status);
        _fail(file, line);
}

/* The cookie "name=value" a Set-Cookie header starts with, into buf. */
static void cookie_of(const char *set_cookie, char *buf, size_t n)
{
        size_t len = strcspn(set_cookie, ";");

        assert_true(len < n);
        memcpy(buf, set_cookie, len);
        buf[len] = 0;
}

/* The value of the first hidden field name="csrf" of a page into buf; false when none. */
static bool csrf_of(const char *page, char *buf, size_t n)
{
        static const char mark[] = "name=\"csrf\" value=\"";
        const char *p = strstr(page, mark);
        size_t len;

        if (!p)
                return false;
        p += strlen(mark);
        len = strcspn(p, "\"");
        assert_true(len > 0 && len < n);
        memcpy(buf, p, len);
        buf[len] = 0;
        return true;
}

void webtest_browse(struct webtest *w, const struct webtest_browser *b, const char *method,
                    const char *path, const struct webtest_field *args, const char *body,
                    bool with_csrf, struct web_response *resp)
{
        struct webtest_field headers[3] = {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}};
        struct webtest_field query[9] = {{NULL, NULL}};
        char cookies[300], form[2048], copy[512], *q, *save = NULL;
        size_t n = 0, n_query = 0;

        /* "?a=b&c=d" in the path, when no args are given, as a browser's address bar has it */
        assert_true(strlen(path) < sizeof(copy));
        memcpy(copy, path, strlen(path) + 1);
        q = args ? NULL : strchr(copy, '?');
        if (q) {
                *q++ = 0;
                for (char *a = strtok_r(q, "&", &save); a; a = strtok_r(NULL, "&", &save)) {
                        char *eq = strchr(a, '=');

                        assert_true(n_query + 1 < sizeof(query) / sizeof(query[0]));
                        if (eq)
                                *eq++ = 0;
                        query[n_query++] = (struct webtest_field){a, eq ? eq : ""};
                }
                args = query;
        }
        snprintf(cookies, sizeof(cookies), "%s%s%s", b->pre, b->pre[0] && b->session[0] ? "; " : "",
                 b->session);
        if (cookies[0])
                headers[n++] = (struct webtest_field){"Cookie", cookies};
        if (body) {
                headers[n++] =
                    (struct webtest_field){"Content-Type", "application/x-www-form-urlencoded"};
                snprintf(form, sizeof(form), "%s%s%s%s", with_csrf ? "csrf=" : "",
                         with_csrf ? b->csrf : "", with_csrf && body[0] ? "&" : "", body);
        }
        webtest_call(w, method, copy, headers, args, body ? form : NULL, resp);
}

int webtest_browse_status(struct webtest *w, const struct webtest_browser *b, const char *method,
                          const char *path, const char *body, bool with_csrf)
{
        struct web_response resp;
        int status;

        webtest_browse(w, b, method, path, NULL, body, with_csrf, &resp);
        status = resp.status;
        web_response_finish(&resp);
        return status;
}

int webtest_sign_in(struct webtest *w, const char *login, const char *password,
                    struct webtest_browser *b)
{
        static const char *const pages[] = {"/admin/flagged", "/admin/terminals"};
        struct web_response resp;
        char form[512];
        int status;

        memset(b, 0, sizeof(*b));
        webtest_get(w, "/login", NULL, NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_true(strncmp(resp.set_cookie, "otsinka_pre=", 12) == 0);
        cookie_of(resp.set_cookie, b->pre, sizeof(b->pre));
        assert_true(csrf_of(resp.body, b->csrf, sizeof(b->csrf)));
        web_response_finish(&resp);

        snprintf(form, sizeof(form), "login=%s&password=%s", login, password);
        webtest_browse(w, b, "POST", "/login", NULL, form, true, &resp);
        status = resp.status;
        snprintf(b->set_cookie, sizeof(b->set_cookie), "%s", resp.set_cookie);
        if (status == 303 && strncmp(resp.set_cookie, "otsinka_session=", 16) == 0)
                cookie_of(resp.set_cookie, b->session, sizeof(b->session));
        web_response_finish(&resp);
        if (!b->session[0])
                return status;
        /* the session's own token, from a page the role may open */
        b->csrf[0] = 0;
        for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]) && !b->csrf[0]; i++) {
                webtest_browse(w, b, "GET", pages[i], NULL, NULL, false, &resp);
                if (resp.status == 200)
                        assert_true(csrf_of(resp.body, b->csrf, sizeof(b->csrf)));
                web_response_finish(&resp);
        }
        return status;
}
