/* SPDX-License-Identifier: MIT */
/* The collector tests' request harness: a real SQLite file in a temporary folder with a
 * collector over it, requests run through web_handle() directly (no HTTP library), and
 * cmocka assertions that print what they saw; with the fixtures (setup, teardown, a small
 * city) and the main() the collector and reports tests share. Include after <cmocka.h>. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "collector.h"
#include "log.h"
#include "period.h"
#include "store.h"
#include "web.h"

/* A header or query argument; arrays of them end with {NULL, NULL}. */
struct webtest_field {
        const char *name, *value;
};

struct webtest {
        char dir[256]; /* the temporary folder, removed by webtest_close() */
        char db[300];  /* dir/collector.db */
        struct store *store;
        struct collector_config cfg; /* the defaults, with assets and public_url as given */
        bool cfg_set;                /* cfg holds strings to free */
        struct collector c;
        const char *client_addr; /* the peer of every request; "192.0.2.7" unless changed */
        char phone_cookie[128];  /* "name=value" the vote pages set, sent back by webtest_vote() */
};

/* Makes the folder, opens (and so migrates) the store and starts a collector over it with the
 * configuration's defaults, but the given assets folder and public URL (NULL keeps the
 * default). Both strings are copied. Returns 0 or a negative errno, with everything made so
 * far undone. */
int webtest_open(struct webtest *w, const char *prefix, const char *assets, const char *public_url);
/* webtest_open() in two steps, for a test that puts a database of its own at w->db first:
 * the folder with w->dir and w->db set, then the store and the collector. */
int webtest_mkdir(struct webtest *w, const char *prefix);
int webtest_start(struct webtest *w, const char *assets, const char *public_url);
/* Closes the store and the collector and opens them again, as a restart of the collector
 * would; the configuration is kept. */
int webtest_restart(struct webtest *w);
/* Stops the collector, closes the store and removes the folder; accepts a zeroed w. */
void webtest_close(struct webtest *w);

/* The assets folder the collector serves: $OTSINKA_ASSETS (ctest sets it), else the source
 * tree's. */
const char *webtest_assets(void);

/* cmocka's setup and teardown for a test's fixture: a struct of size bytes whose FIRST member
 * is its struct webtest, followed by what the test keeps of its own data. webtest_setup()
 * allocates it zeroed into *state, opens the harness in a new folder named after prefix with
 * webtest_assets() and public_url (NULL keeps the default), then calls seed (unless NULL) to
 * put the test's data in, failing the test on an error. Returns 0, or -1 when the harness
 * would not open. webtest_teardown() closes the harness and frees the fixture. */
int webtest_setup(void **state, size_t size, const char *prefix, const char *public_url,
                  void (*seed)(void *fixture));
int webtest_teardown(void **state);

/* The main() of a test program: libsodium ready, the city's zone (Europe/Kyiv) for periods,
 * log messages from level up, then the group of tests (an array). Returns main()'s value. */
int webtest_init(enum log_level level);
#define webtest_run_group(tests, level)                                                            \
        (webtest_init(level) < 0 ? 1 : cmocka_run_group_tests(tests, NULL, NULL))

/* Runs one request; fails the test unless web_handle() built a response. The body goes in as
 * an exact-size copy without a NUL, so that ASan catches any read past body_len. The caller
 * finishes resp. */
void webtest_call(struct webtest *w, const char *method, const char *path,
                  const struct webtest_field *headers, const struct webtest_field *args,
                  const char *body, struct web_response *resp);
/* A GET whose answer may be binary (a PDF, an XLSX): its body may hold NUL bytes. */
void webtest_get_binary(struct webtest *w, const char *path, const struct webtest_field *headers,
                        const struct webtest_field *args, struct web_response *resp);
void webtest_get(struct webtest *w, const char *path, const struct webtest_field *headers,
                 const struct webtest_field *args, struct web_response *resp);
/* POSTs an application/x-www-form-urlencoded body, as a browser sends a vote page. */
void webtest_post_form(struct webtest *w, const char *path, const char *body,
                       struct web_response *resp);
/* Votes on a vote page (/r/... or /s/...) as a phone's browser does: GETs the page (with args,
 * e.g. lang), then POSTs form ("level=3") with the page's one-use form token and the phone's
 * cookie, which w keeps between calls like a browser. resp is the POST's answer. Fails unless
 * the page answered 200. The two steps are also there on their own, for a test that lets time
 * pass between them. */
#define WEBTEST_FORM_TOKEN_MAX 64
void webtest_vote(struct webtest *w, const char *path, const struct webtest_field *args,
                  const char *form, struct web_response *resp);
void webtest_vote_page(struct webtest *w, const char *path, const struct webtest_field *args,
                       char form_token[static WEBTEST_FORM_TOKEN_MAX]);
void webtest_vote_post(struct webtest *w, const char *path, const struct webtest_field *args,
                       const char *form, const char *form_token, struct web_response *resp);
/* POSTs to the terminal API; auth ("Bearer T1:secret") or type NULL leaves that header out. */
void webtest_post_api(struct webtest *w, const char *path, const char *auth, const char *type,
                      const char *body, struct web_response *resp);

/* GETs path, or POSTs form to it, when only the status matters. */
void webtest_request_status(struct webtest *w, bool post, const char *path, const char *form,
                            int want, const char *file, int line);
#define assert_get_status(w, path, want)                                                           \
        webtest_request_status((w), false, (path), NULL, (want), __FILE__, __LINE__)
#define assert_post_status(w, path, form, want)                                                    \
        webtest_request_status((w), true, (path), (form), (want), __FILE__, __LINE__)

/* webtest_vote() when only the status matters. */
void webtest_vote_status(struct webtest *w, const char *path, const char *form, int want,
                         const char *file, int line);
#define assert_vote_status(w, path, form, want)                                                    \
        webtest_vote_status((w), (path), (form), (want), __FILE__, __LINE__)

void webtest_contains(const char *hay, const char *needle, bool want, const char *file, int line);
#define assert_contains(hay, needle) webtest_contains((hay), (needle), true, __FILE__, __LINE__)
#define assert_not_contains(hay, needle)                                                           \
        webtest_contains((hay), (needle), false, __FILE__, __LINE__)

/* A JSON error body {"protocol":1,"error":"<prefix>..."} with that status. */
void webtest_assert_api_error(const struct web_response *resp, int status, const char *prefix);

/* The store's vote_count(). */
int64_t webtest_vote_count(struct webtest *w);

/* The organisation, through the store ops; fail the test on an error. */
int64_t webtest_add_unit(struct store *s, int64_t parent, const char *name);
int64_t webtest_add_employee(struct store *s, const char *no, const char *name, const char *pos,
                             int64_t unit, bool head);

/* The small city most tests seed: the root, its child with a grandchild below it, and the
 * child's sibling (named sibling_name, or WEBTEST_CITY_SIBLING when NULL), added in that order
 * as "section" units. The ids into ret. */
#define WEBTEST_CITY_ROOT "Міська рада"
#define WEBTEST_CITY_CHILD "Департамент адміністративних послуг"
#define WEBTEST_CITY_GRANDCHILD "Відділ обслуговування громадян (ЦНАП)"
#define WEBTEST_CITY_SIBLING "Відділ пільг і компенсацій"
struct webtest_city {
        int64_t root, child, grandchild, sibling; /* unit ids */
};
void webtest_add_city(struct store *s, const char *sibling_name, struct webtest_city *ret);
/* The fixture of a test that needs no more than the harness and that city: webtest_setup()
 * for it, the city added, then seed (unless NULL) for the test's own data. Tear it down with
 * webtest_teardown(). */
struct webtest_fixture {
        struct webtest w;
        struct webtest_city city;
};
int webtest_setup_city(void **state, const char *prefix, const char *public_url,
                       void (*seed)(struct webtest_fixture *fx));

/* Reports: the label of the month containing now, or of the month before it; GET
 * /api/v1/reports/units?period=label (the caller decrefs); a unit's entry (owned by the report;
 * fails unless it is listed exactly once) and one of its counts ("total", "exemplary", ...). */
void webtest_month_label(bool previous, struct period *ret, char *label, size_t n);
json_t *webtest_report(struct webtest *w, const char *label);
json_t *webtest_find_unit(json_t *report, int64_t unit);
int64_t webtest_unit_count(json_t *report, int64_t unit, const char *key);
/* The counted votes of a unit's subtree this month, as the public report shows them. */
int64_t webtest_month_total(struct webtest *w, int64_t unit);

/* A SQLite file read or changed with a connection of its own, the way an auditor (or time)
 * would: the test's database (webtest_db_*), or another such as a backup's copy
 * (webtest_file_*). A query answers the first column of the first row: as text into buf (n
 * bytes; "NULL" for a NULL) when buf is given, and as an integer (INT64_MIN for a NULL); it
 * fails the test when there is no row. */
void webtest_file_exec(const char *path, const char *sql);
__attribute__((format(printf, 4, 5))) int64_t webtest_file_query(const char *path, char *buf,
                                                                 size_t n, const char *fmt, ...);
#define webtest_db_exec(w, sql) webtest_file_exec((w)->db, (sql))
#define webtest_db_query(w, buf, n, ...) webtest_file_query((w)->db, (buf), (n), __VA_ARGS__)
#define webtest_db_int(w, ...) webtest_db_query((w), NULL, 0, __VA_ARGS__)
#define webtest_db_text(w, buf, ...) webtest_db_query((w), (buf), sizeof(buf), __VA_ARGS__)

/* A user of the pages with password, hashed at libsodium's lowest cost to keep tests fast. */
void webtest_add_user(struct webtest *w, const char *login, const char *password, const char *role,
                      int64_t unit_id);

/* A browser signed in to the pages: its cookies and the session's CSRF token. */
struct webtest_browser {
        char pre[128];        /* "otsinka_pre=..." from the sign-in page; "" before it */
        char session[128];    /* "otsinka_session=..." once signed in; "" before */
        char csrf[64];        /* the sign-in form's token, then the session's */
        char set_cookie[256]; /* the Set-Cookie of the sign-in's answer, as it came */
};
/* Signs in as a browser does from w->client_addr: GET /login (the pre-session cookie and the
 * form's CSRF token), POST the form, then (on a 303) reads the session's CSRF token from
 * /admin/flagged or /admin/terminals when the role may open either. Returns the POST's status;
 * b holds what the browser kept. */
int webtest_sign_in(struct webtest *w, const char *login, const char *password,
                    struct webtest_browser *b);
/* webtest_sign_in() that must succeed (a 303 that set a session cookie): fails the test at
 * the caller's line otherwise, saying who could not sign in. */
void webtest_assert_sign_in(struct webtest *w, const char *login, const char *password,
                            struct webtest_browser *b, const char *file, int line);
#define assert_sign_in(w, login, password, b)                                                      \
        webtest_assert_sign_in((w), (login), (password), (b), __FILE__, __LINE__)
/* A request with the browser's cookies; body (a form) makes the request carry it, with
 * "csrf=<token>&" in front when with_csrf. Without args, a "?a=b&c=d" in path gives the query
 * arguments (not decoded). The caller finishes resp. */
void webtest_browse(struct webtest *w, const struct webtest_browser *b, const char *method,
                    const char *path, const struct webtest_field *args, const char *body,
                    bool with_csrf, struct web_response *resp);
/* webtest_browse() without args, when only the status matters. */
int webtest_browse_status(struct webtest *w, const struct webtest_browser *b, const char *method,
                          const char *path, const char *body, bool with_csrf);
