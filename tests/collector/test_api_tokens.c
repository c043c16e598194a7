/* SPDX-License-Identifier: MIT */
/* API tokens as the city's other systems and its administrators use them, through
 * web_handle() over a real SQLite file: an administrator makes a token on /admin/tokens (CSRF
 * enforced, audited, shown once, only its hash kept — not even in the database file's bytes);
 * "Authorization: Bearer" then reads reports exactly as a signed-in user of the token's role
 * (a manager's token only its unit's subtree); revoked, expired and wrong tokens get 401 with
 * WWW-Authenticate and never the public answer, and too many wrong ones from an address 429;
 * tokens open no administration page and send no form. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "apitoken.h"
#include "collector.h"
#include "log.h"
#include "period.h"
#include "store.h"
#include "testutil.h"
#include "web.h"
#include "webtest.h"

#define TOK_E2 "tokGrand0002"
#define TOK_E4 "tokSibling04"
#define PW_ADMIN "Adm1n-pass-Qx7"
#define PW_MANAGER "Manag3r-pass-Tr8"
#define TEXT_MADE "Скопіюйте його зараз"
#define TEXT_UNIT_RULE "Токену керівника потрібен підрозділ"
#define TEXT_BAD_EXPIRY "Останній день має бути сьогодні або пізніше"

/* root → child → grandchild (E2, one vote), and the sibling (E4, one vote). */
struct fixture {
        struct webtest w;
        struct webtest_city city;
        struct webtest_browser admin;
        char label[PERIOD_LABEL_MAX]; /* this month */
};

static void seed(void *fixture)
{
        struct fixture *fx = fixture;
        struct store *s = fx->w.store;
        const struct store_ops *o = s->ops;
        struct period month;
        int64_t e2, e4;

        webtest_add_city(s, NULL, &fx->city);
        e2 = webtest_add_employee(s, "E2", "Коваленко Олена Петрівна", "Адміністратор",
                                  fx->city.grandchild, false);
        e4 = webtest_add_employee(s, "E4", "Лисенко Віктор Петрович", "Спеціаліст",
                                  fx->city.sibling, false);
        assert_int_equal(o->token_add(s, TOK_E2, e2, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(o->token_add(s, TOK_E4, e4, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        fx->w.phone_cookie[0] = 0;
        assert_vote_status(&fx->w, "/r/" TOK_E4, "level=1", 303);
        webtest_add_user(&fx->w, "admin", PW_ADMIN, "admin", 0);
        webtest_add_user(&fx->w, "manager", PW_MANAGER, "manager", fx->city.child);
        webtest_month_label(false, &month, fx->label, sizeof(fx->label));
        assert_sign_in(&fx->w, "admin", PW_ADMIN, &fx->admin);
}

static int setup(void **state)
{
        return webtest_setup(state, sizeof(struct fixture), "otsinka-tokens", NULL, seed);
}

/* ---- helpers ---- */

/* The token text an answer shows: "otk_" and 43 base64url characters, or "" when none. */
static void token_of(const char *body, char out[APITOKEN_TEXT])
{
        const char *p = body ? strstr(body, APITOKEN_PREFIX) : NULL;

        out[0] = 0;
        if (!p)
                return;
        if (strspn(p + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
            APITOKEN_LEN - 4)
                return;
        memcpy(out, p, APITOKEN_LEN);
        out[APITOKEN_LEN] = 0;
}

/* Makes a token on the page as the administrator; form is "name=...&role=...[&unit=..]...".
 * Returns the status; the token shown into text ("" when none). */
static int make_token(struct fixture *fx, const char *form, char text[APITOKEN_TEXT])
{
        struct web_response resp;
        int status;

        webtest_browse(&fx->w, &fx->admin, "POST", "/admin/tokens/add", NULL, form, true, &resp);
        status = resp.status;
        token_of(resp.body, text);
        if (status == 200) {
                assert_contains(resp.body, TEXT_MADE);
                assert_true(text[0] != 0);
        }
        web_response_finish(&resp);
        return status;
}

static void must_make(struct fixture *fx, const char *form, char text[APITOKEN_TEXT])
{
        assert_int_equal(make_token(fx, form, text), 200);
}

/* GET path?query with "Authorization: <auth>" (NULL: none) from w->client_addr. */
static void bearer_get(struct fixture *fx, const char *auth, const char *path,
                       const struct webtest_field *args, struct web_response *resp)
{
        struct webtest_field headers[2] = {{"Authorization", auth}, {NULL, NULL}};

        webtest_get_binary(&fx->w, path, auth ? headers : NULL, args, resp);
}

static int bearer_status(struct fixture *fx, const char *text, const char *path,
                         const struct webtest_field *args)
{
        struct web_response resp;
        char auth[128];
        int status;

        snprintf(auth, sizeof(auth), "Bearer %s", text);
        bearer_get(fx, auth, path, args, &resp);
        status = resp.status;
        web_response_finish(&resp);
        return status;
}

/* The cut by employee (never public here) for unit (0: none given), as text. */
static int cut_status(struct fixture *fx, const char *text, int64_t unit)
{
        char u[24];
        struct webtest_field args[] = {
            {"period", fx->label}, {"by", "employee"}, {unit ? "unit" : NULL, u}, {NULL, NULL}};

        snprintf(u, sizeof(u), "%lld", (long long)unit);
        return bearer_status(fx, text, "/api/v1/reports/cut", args);
}

/* A 401 for a bad token: the JSON error and the WWW-Authenticate challenge. */
static void assert_invalid_token(const struct web_response *resp)
{
        webtest_assert_api_error(resp, 401, "authorization:");
        assert_string_equal(resp->www_authenticate,
                            "Bearer realm=\"otsinka\", error=\"invalid_token\"");
}

static void assert_refused(struct fixture *fx, const char *auth, const char *path,
                           const struct webtest_field *args)
{
        struct web_response resp;

        bearer_get(fx, auth, path, args, &resp);
        assert_invalid_token(&resp);
        web_response_finish(&resp);
}

static int64_t db_int(struct fixture *fx, const char *sql)
{
        return webtest_db_int(&fx->w, "%s", sql);
}

/* ---- making tokens ---- */

static void test_admin_makes_a_token_shown_once(void **state)
{
        struct fixture *fx = *state;
        struct web_response resp;
        char text[APITOKEN_TEXT], again[APITOKEN_TEXT], hex[65], want[65], detail[256];
        uint8_t hash[32];

        webtest_browse(&fx->w, &fx->admin, "GET", "/admin/tokens", NULL, NULL, false, &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "action=\"/admin/tokens/add\"");
        assert_contains(resp.body, "API-токенів ще немає.");
        web_response_finish(&resp);

        /* without the session's CSRF token: refused, nothing made */
        webtest_browse(&fx->w, &fx->admin, "POST", "/admin/tokens/add", NULL,
                       "name=BI&role=auditor", false, &resp);
        assert_int_equal(resp.status, 400);
        token_of(resp.body, text);
        assert_string_equal(text, "");
        web_response_finish(&resp);
        webtest_browse(&fx->w, &fx->admin, "POST", "/admin/tokens/add", NULL,
                       "csrf=0123456789abcdef0123456789abcdef&name=BI&role=auditor", false, &resp);
        assert_int_equal(resp.status, 400);
        web_response_finish(&resp);
        assert_int_equal(db_int(fx, "SELECT COUNT(*) FROM api_tokens"), 0);

        must_make(fx, "name=Power+BI+%D0%BC%D1%96%D1%81%D1%82%D0%B0&role=auditor", text);

        /* the list names it, but never shows its text again */
        webtest_browse(&fx->w, &fx->admin, "GET", "/admin/tokens?lang=en", NULL, NULL, false,
                       &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "Power BI міста");
        assert_contains(resp.body, "auditor");
        assert_contains(resp.body, "active");
        assert_contains(resp.body, "never"); /* not used yet */
        token_of(resp.body, again);
        assert_string_equal(again, "");
        assert_not_contains(resp.body, text + 4);
        web_response_finish(&resp);

        /* kept as its BLAKE2b-256 hash only */
        crypto_generichash(hash, sizeof(hash), (const unsigned char *)text, strlen(text), NULL, 0);
        sodium_bin2hex(want, sizeof(want), hash, sizeof(hash));
        webtest_db_text(&fx->w, hex, "SELECT lower(hex(token_hash)) FROM api_tokens");
        assert_string_equal(hex, want);

        /* audited, without the text */
        assert_int_equal(db_int(fx, "SELECT COUNT(*) FROM audit WHERE login = 'admin'"
                                    " AND action = 'api_token_add'"),
                         1);
        webtest_db_text(&fx->w, detail, "SELECT detail FROM audit WHERE action = 'api_token_add'");
        assert_contains(detail, "Power BI міста");
        assert_contains(detail, "auditor");
        assert_not_contains(detail, APITOKEN_PREFIX);

        /* and it works */
        assert_int_equal(cut_status(fx, text, 0), 200);
}

static void test_token_text_is_not_in_the_database_file(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT], path[sizeof(fx->w.db) + 8];
        const char *suffixes[] = {"", "-wal"};
        bool seen_hash = false;
        uint8_t hash[32];

        must_make(fx, "name=portal&role=auditor", text);
        assert_int_equal(cut_status(fx, text, 0), 200);
        crypto_generichash(hash, sizeof(hash), (const unsigned char *)text, strlen(text), NULL, 0);
        for (size_t i = 0; i < 2; i++) {
                FILE *f;
                char *data;
                long n;

                snprintf(path, sizeof(path), "%s%s", fx->w.db, suffixes[i]);
                f = fopen(path, "rb");
                if (!f)
                        continue;
                assert_int_equal(fseek(f, 0, SEEK_END), 0);
                n = ftell(f);
                rewind(f);
                data = malloc((size_t)n + 1);
                assert_non_null(data);
                assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
                fclose(f);
                /* neither the whole text nor its random part, in any page of the file */
                assert_null(memmem(data, (size_t)n, text + 4, APITOKEN_LEN - 4));
                seen_hash = seen_hash || memmem(data, (size_t)n, hash, sizeof(hash));
                free(data);
        }
        assert_true(seen_hash); /* the test looked where the token's row is */
}

static void test_only_administrators_reach_the_page(void **state)
{
        struct fixture *fx = *state;
        struct webtest_browser manager;
        struct web_response resp;

        /* not signed in: to the sign-in page */
        webtest_get(&fx->w, "/admin/tokens", NULL, NULL, &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/login");
        web_response_finish(&resp);

        assert_sign_in(&fx->w, "manager", PW_MANAGER, &manager);
        assert_int_equal(
            webtest_browse_status(&fx->w, &manager, "GET", "/admin/tokens", NULL, false), 403);
        /* the manager's session token, from their dashboard's sign-out form */
        webtest_browse(&fx->w, &manager, "GET", "/dashboard", NULL, NULL, false, &resp);
        assert_int_equal(resp.status, 200);
        {
                const char *p = strstr(resp.body, "name=\"csrf\" value=\"");

                assert_non_null(p);
                snprintf(manager.csrf, sizeof(manager.csrf), "%.32s", p + 19);
        }
        web_response_finish(&resp);
        assert_int_equal(webtest_browse_status(&fx->w, &manager, "POST", "/admin/tokens/add",
                                               "name=mine&role=auditor", true),
                         403);
        assert_int_equal(db_int(fx, "SELECT COUNT(*) FROM api_tokens"), 0);

        /* the administrator's sections link to it */
        webtest_browse(&fx->w, &fx->admin, "GET", "/admin/terminals", NULL, NULL, false, &resp);
        assert_contains(resp.body, "href=\"/admin/tokens\"");
        web_response_finish(&resp);
        webtest_browse(&fx->w, &manager, "GET", "/dashboard", NULL, NULL, false, &resp);
        assert_not_contains(resp.body, "href=\"/admin/tokens");
        web_response_finish(&resp);
}

static void test_form_rules(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT], form[256];
        struct web_response resp;

        /* a manager's token needs a unit, an auditor's takes none */
        assert_int_equal(make_token(fx, "name=x&role=manager&unit=", text), 400);
        assert_string_equal(text, "");
        snprintf(form, sizeof(form), "name=x&role=auditor&unit=U%lld", (long long)fx->city.child);
        webtest_browse(&fx->w, &fx->admin, "POST", "/admin/tokens/add", NULL, form, true, &resp);
        assert_int_equal(resp.status, 400);
        assert_contains(resp.body, TEXT_UNIT_RULE);
        web_response_finish(&resp);
        assert_int_equal(make_token(fx, "name=x&role=manager&unit=U999", text), 400);
        assert_int_equal(make_token(fx, "name=&role=auditor", text), 400);
        assert_int_equal(make_token(fx, "name=x&role=admin", text), 400);
        /* a day already over, or not a day */
        webtest_browse(&fx->w, &fx->admin, "POST", "/admin/tokens/add", NULL,
                       "name=x&role=auditor&expires=2020-01-31", true, &resp);
        assert_int_equal(resp.status, 400);
        assert_contains(resp.body, TEXT_BAD_EXPIRY);
        web_response_finish(&resp);
        assert_int_equal(make_token(fx, "name=x&role=auditor&expires=2099-13-01", text), 400);
        assert_int_equal(make_token(fx, "name=x&role=auditor&expires=2099-12", text), 400);
        assert_int_equal(db_int(fx, "SELECT COUNT(*) FROM api_tokens"), 0);
}

/* ---- using them ---- */

static void test_auditor_token_reads_as_a_signed_in_auditor(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT], auth[128];
        struct webtest_field args[] = {{"period", fx->label}, {"by", "employee"}, {NULL, NULL}};
        struct webtest_field monthly[] = {{"table", "employees"}, {NULL, NULL}};
        struct web_response resp;
        json_t *root, *rows;

        must_make(fx, "name=BI&role=auditor", text);
        snprintf(auth, sizeof(auth), "Bearer %s", text);

        /* per employee is not public: 401 without the token */
        bearer_get(fx, NULL, "/api/v1/reports/cut", args, &resp);
        webtest_assert_api_error(&resp, 401, "access:");
        web_response_finish(&resp);

        bearer_get(fx, auth, "/api/v1/reports/cut", args, &resp);
        assert_int_equal(resp.status, 200);
        assert_string_equal(resp.content_type, "application/json");
        root = json_loadb(resp.body, resp.body_len, 0, NULL);
        assert_non_null(root);
        rows = json_object_get(root, "rows");
        assert_int_equal(json_array_size(rows), 2); /* both employees, the whole city */
        json_decref(root);
        web_response_finish(&resp);

        /* the same as for every other report the API has and the downloads */
        assert_int_equal(bearer_status(fx, text, "/api/v1/reports/alerts", NULL), 200);
        assert_int_equal(bearer_status(fx, text, "/api/v1/reports/units", NULL), 200);
        assert_int_equal(bearer_status(fx, text, "/reports/monthly.csv", monthly), 200);
        /* (the PDF, drawn with fonts whose caches outlive a test, in tests/collector/api_token.sh)
         */
        bearer_get(fx, auth, "/reports/monthly.xlsx", NULL, &resp);
        assert_int_equal(resp.status, 200);
        assert_int_equal(memcmp(resp.body, "PK", 2), 0);
        web_response_finish(&resp);
        /* without the token the downloads want a sign-in */
        bearer_get(fx, NULL, "/reports/monthly.csv", NULL, &resp);
        webtest_assert_api_error(&resp, 401, "access:");
        web_response_finish(&resp);
}

static void test_manager_token_sees_its_subtree_only(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT], form[128], unit[24];
        struct webtest_field args[] = {{"period", fx->label}, {"by", "employee"}, {NULL, NULL}};
        struct webtest_field monthly[] = {{"unit", unit}, {NULL, NULL}};
        struct web_response resp;
        json_t *root;

        snprintf(form, sizeof(form), "name=cnap+portal&role=manager&unit=U%lld",
                 (long long)fx->city.child);
        must_make(fx, form, text);

        assert_int_equal(cut_status(fx, text, fx->city.child), 200);
        assert_int_equal(cut_status(fx, text, fx->city.grandchild), 200);
        assert_int_equal(cut_status(fx, text, fx->city.sibling), 403);
        assert_int_equal(cut_status(fx, text, fx->city.root), 403);

        /* no unit asked: the token's own subtree, with E2 only */
        {
                char auth[128];

                snprintf(auth, sizeof(auth), "Bearer %s", text);
                bearer_get(fx, auth, "/api/v1/reports/cut", args, &resp);
        }
        assert_int_equal(resp.status, 200);
        root = json_loadb(resp.body, resp.body_len, 0, NULL);
        assert_non_null(root);
        assert_int_equal(json_integer_value(json_object_get(root, "unit")), fx->city.child);
        assert_int_equal(json_array_size(json_object_get(root, "rows")), 1);
        json_decref(root);
        web_response_finish(&resp);

        snprintf(unit, sizeof(unit), "%lld", (long long)fx->city.sibling);
        assert_int_equal(bearer_status(fx, text, "/reports/monthly.csv", monthly), 403);
        snprintf(unit, sizeof(unit), "%lld", (long long)fx->city.grandchild);
        assert_int_equal(bearer_status(fx, text, "/reports/monthly.csv", monthly), 200);
}

static void test_last_use_is_noted_once_a_minute(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT];
        int64_t now = time(NULL), seen;

        must_make(fx, "name=cron&role=auditor", text);
        assert_int_equal(db_int(fx, "SELECT last_used_at IS NULL FROM api_tokens"), 1);
        assert_int_equal(cut_status(fx, text, 0), 200);
        seen = db_int(fx, "SELECT last_used_at FROM api_tokens");
        assert_true(seen >= now && seen <= now + 5);

        /* used 30 s ago: not written again */
        webtest_db_exec(&fx->w, "UPDATE api_tokens SET last_used_at = strftime('%s', 'now') - 30");
        seen = db_int(fx, "SELECT last_used_at FROM api_tokens");
        assert_int_equal(cut_status(fx, text, 0), 200);
        assert_int_equal(cut_status(fx, text, 0), 200);
        assert_int_equal(db_int(fx, "SELECT last_used_at FROM api_tokens"), seen);
        /* used 2 minutes ago: written */
        webtest_db_exec(&fx->w, "UPDATE api_tokens SET last_used_at = strftime('%s', 'now') - 120");
        seen = db_int(fx, "SELECT last_used_at FROM api_tokens");
        assert_int_equal(cut_status(fx, text, 0), 200);
        assert_true(db_int(fx, "SELECT last_used_at FROM api_tokens") >= seen + 120);
}

static void test_revoked_token_is_refused(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT], auth[128], form[64];
        struct webtest_field args[] = {{"period", fx->label}, {"by", "employee"}, {NULL, NULL}};
        struct web_response resp;
        int64_t id;

        must_make(fx, "name=old+BI&role=auditor", text);
        snprintf(auth, sizeof(auth), "Bearer %s", text);
        assert_int_equal(cut_status(fx, text, 0), 200);
        id = db_int(fx, "SELECT id FROM api_tokens");
        snprintf(form, sizeof(form), "id=%lld", (long long)id);

        /* without the CSRF token nothing happens */
        assert_int_equal(
            webtest_browse_status(&fx->w, &fx->admin, "POST", "/admin/tokens/revoke", form, false),
            400);
        assert_int_equal(cut_status(fx, text, 0), 200);

        webtest_browse(&fx->w, &fx->admin, "POST", "/admin/tokens/revoke", NULL, form, true, &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/admin/tokens");
        web_response_finish(&resp);
        assert_refused(fx, auth, "/api/v1/reports/cut", args);
        /* never the public answer instead, not even where the public may read */
        assert_refused(fx, auth, "/api/v1/reports/units", NULL);
        {
                char path[64];

                snprintf(path, sizeof(path), "/open/v1/units/%s.json", fx->label);
                assert_refused(fx, auth, path, NULL);
        }

        assert_int_equal(db_int(fx, "SELECT COUNT(*) FROM audit WHERE login = 'admin'"
                                    " AND action = 'api_token_revoke' AND detail LIKE '%old BI%'"),
                         1);
        /* revoking twice is no second change */
        assert_int_equal(
            webtest_browse_status(&fx->w, &fx->admin, "POST", "/admin/tokens/revoke", form, true),
            303);
        assert_int_equal(db_int(fx, "SELECT COUNT(*) FROM audit WHERE action = 'api_token_revoke'"),
                         1);
        webtest_browse(&fx->w, &fx->admin, "GET", "/admin/tokens", NULL, NULL, false, &resp);
        assert_contains(resp.body, "відкликано");
        assert_not_contains(resp.body, "action=\"/admin/tokens/revoke\"");
        web_response_finish(&resp);
}

static void test_expired_token_is_refused(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT], form[96], today[16], auth[128];
        struct webtest_field args[] = {{"period", fx->label}, {"by", "employee"}, {NULL, NULL}};
        struct period day;
        time_t now = time(NULL);

        /* until today: works today (to the end of the city's day) */
        assert_int_equal(period_containing(PERIOD_DAY, now, &day), 0);
        assert_int_equal(period_label(&day, today, sizeof(today)), 0);
        snprintf(form, sizeof(form), "name=pilot&role=auditor&expires=%s", today);
        must_make(fx, form, text);
        assert_int_equal(db_int(fx, "SELECT expires_at FROM api_tokens"), day.end);
        assert_int_equal(cut_status(fx, text, 0), 200);

        webtest_db_exec(&fx->w, "UPDATE api_tokens SET expires_at = strftime('%s', 'now')");
        snprintf(auth, sizeof(auth), "Bearer %s", text);
        assert_refused(fx, auth, "/api/v1/reports/cut", args);
        {
                struct web_response resp;

                webtest_browse(&fx->w, &fx->admin, "GET", "/admin/tokens?lang=en", NULL, NULL,
                               false, &resp);
                assert_contains(resp.body, "expired");
                web_response_finish(&resp);
        }
}

static void test_wrong_tokens_are_refused_then_limited(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT], wrong[APITOKEN_TEXT], auth[128];
        struct webtest_field args[] = {{"period", fx->label}, {"by", "employee"}, {NULL, NULL}};
        struct web_response resp;
        int i;

        must_make(fx, "name=BI&role=auditor", text);
        memcpy(wrong, text, sizeof(wrong));
        wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
        fx->w.client_addr = "198.51.100.20";

        snprintf(auth, sizeof(auth), "Bearer %s", wrong);
        assert_refused(fx, auth, "/api/v1/reports/cut", args);
        assert_refused(fx, "Bearer not-a-token", "/api/v1/reports/cut", args);
        assert_refused(fx, "Bearer ", "/reports/monthly.csv", NULL);
        for (i = 3; i < 10; i++)
                assert_int_equal(cut_status(fx, wrong, 0), 401);
        /* ten failures in ten minutes: this address is told to wait, good token or not */
        assert_int_equal(cut_status(fx, wrong, 0), 429);
        bearer_get(fx, auth, "/api/v1/reports/cut", args, &resp);
        webtest_assert_api_error(&resp, 429, "authorization:");
        web_response_finish(&resp);
        assert_int_equal(cut_status(fx, text, 0), 429);
        /* another address is not */
        fx->w.client_addr = "198.51.100.21";
        assert_int_equal(cut_status(fx, wrong, 0), 401);
        assert_int_equal(cut_status(fx, text, 0), 200);
}

static void test_token_is_read_only(void **state)
{
        struct fixture *fx = *state;
        char text[APITOKEN_TEXT], auth[128];
        struct webtest_field headers[] = {{"Authorization", auth},
                                          {"Content-Type", "application/x-www-form-urlencoded"},
                                          {NULL, NULL}};
        static const char *const pages[] = {"/admin",       "/admin/tokens",  "/admin/users",
                                            "/admin/audit", "/admin/flagged", "/dashboard"};
        struct web_response resp;

        must_make(fx, "name=BI&role=auditor", text);
        snprintf(auth, sizeof(auth), "Bearer %s", text);
        for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
                webtest_call(&fx->w, "GET", pages[i], headers, NULL, NULL, &resp);
                if (resp.status != 303 || strcmp(resp.location, "/login") != 0)
                        print_error("%s with a token: %d %s\n", pages[i], resp.status,
                                    resp.location);
                assert_int_equal(resp.status, 303);
                assert_string_equal(resp.location, "/login");
                web_response_finish(&resp);
        }
        webtest_call(&fx->w, "POST", "/admin/tokens/add", headers, NULL, "name=more&role=auditor",
                     &resp);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/login");
        web_response_finish(&resp);
        webtest_call(&fx->w, "POST", "/admin/users/add", headers, NULL,
                     "login=eve&role=admin&password=Eve-pass-123456", &resp);
        assert_int_equal(resp.status, 303);
        web_response_finish(&resp);
        webtest_call(&fx->w, "POST", "/api/v1/reports/cut", headers, NULL, "by=employee", &resp);
        webtest_assert_api_error(&resp, 405, "method:");
        web_response_finish(&resp);
        assert_int_equal(db_int(fx, "SELECT COUNT(*) FROM api_tokens"), 1);
        assert_int_equal(db_int(fx, "SELECT COUNT(*) FROM users WHERE login = 'eve'"), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, webtest_teardown)
            T(test_admin_makes_a_token_shown_once),
            T(test_token_text_is_not_in_the_database_file),
            T(test_only_administrators_reach_the_page),
            T(test_form_rules),
            T(test_auditor_token_reads_as_a_signed_in_auditor),
            T(test_manager_token_sees_its_subtree_only),
            T(test_last_use_is_noted_once_a_minute),
            T(test_revoked_token_is_refused),
            T(test_expired_token_is_refused),
            T(test_wrong_tokens_are_refused_then_limited),
            T(test_token_is_read_only),
#undef T
        };

        return webtest_run_group(tests, LOG_LEVEL_ERROR);
}
