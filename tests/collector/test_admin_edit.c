/* SPDX-License-Identifier: MIT */
/* The organisation's record forms (admin_edit.c) as people use them, through web_handle() over
 * a real SQLite file with real sign-ins: an administrator adds and changes units, directions,
 * employees and workplaces; a refused form comes back with what was typed and says why, and
 * nothing is written; an official changes the employees of their own subtree and nothing
 * outside it, however the address or the form is made up; managers and auditors change
 * nothing; a form without the session's CSRF token changes nothing; names are escaped; every
 * change is audited; and moving an employee leaves the votes cast before in the old unit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "collector.h"
#include "log.h"
#include "period.h"
#include "store.h"
#include "testutil.h"
#include "web.h"
#include "webtest.h"

#define TOK_E2 "tokGrand0002"
#define E2_NAME "Коваленко Олена Петрівна"
#define E4_NAME "Лисенко Віктор Петрович"
#define PW_ADMIN "Adm1n-pass-Qx7"
#define PW_OFFICIAL "0fficial-pass-Lm2"
#define PW_MANAGER "Manag3r-pass-Tr8"
#define PW_AUDITOR "Aud1tor-pass-Zn4"
#define TEXT_FORBIDDEN "Ця сторінка Вам недоступна."
#define TEXT_NOT_FOUND "Сторінку не знайдено."
#define TEXT_SAVED "Збережено."
#define TEXT_UNCHANGED "Нічого не змінено."
#define TEXT_REQUIRED "Назва: заповніть це поле."
#define TEXT_TAKEN "Табельний номер: це значення вже має інший запис."
#define TEXT_LOOP "Вищий підрозділ: підрозділ не може входити сам у себе"
#define TEXT_OUTSIDE "Підрозділ: це поза межами Вашого підрозділу"
#define TEXT_NO_SUCH "Підрозділ: такого немає."
#define TEXT_BAD_CODE "Табельний номер: лише латинські літери"
#define TEXT_BAD_FORM "Форма застаріла."

/* root → child → grandchild (E2), and the sibling (E4); unit codes U1..U4 in that order. The
 * official looks after the child's subtree, the manager too. */
static void seed(struct webtest_fixture *fx)
{
        struct store *s = fx->w.store;
        int64_t e2, wp;

        e2 = webtest_add_employee(s, "E2", E2_NAME, "Адміністратор ЦНАП", fx->city.grandchild,
                                  false);
        webtest_add_employee(s, "E4", E4_NAME, "Головний спеціаліст", fx->city.sibling, false);
        assert_int_equal(s->ops->token_add(s, TOK_E2, e2, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
        assert_int_equal(s->ops->direction_add(s, "social", "Соціальний захист", "", &wp), 0);
        assert_int_equal(s->ops->workplace_add(s, "W1", "Вікно 1", fx->city.grandchild, 0, &wp), 0);
        webtest_add_user(&fx->w, "admin", PW_ADMIN, "admin", 0);
        webtest_add_user(&fx->w, "official", PW_OFFICIAL, "official", fx->city.child);
        webtest_add_user(&fx->w, "manager", PW_MANAGER, "manager", fx->city.child);
        webtest_add_user(&fx->w, "auditor", PW_AUDITOR, "auditor", 0);
}

static int setup(void **state)
{
        return webtest_setup_city(state, "otsinka-admin-edit", NULL, seed);
}

/* ---- helpers ---- */

/* Appends name=value to a form body, percent-encoded as a browser sends it. */
static void form_add(char *body, size_t n, const char *name, const char *value)
{
        size_t len = strlen(body);

        len += (size_t)snprintf(body + len, n - len, "%s%s=", len ? "&" : "", name);
        for (const unsigned char *p = (const unsigned char *)value; *p && len + 4 < n; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._", *p))
                        body[len++] = (char)*p;
                else if (*p == ' ')
                        body[len++] = '+';
                else
                        len += (size_t)snprintf(body + len, n - len, "%%%02X", *p);
        }
        assert_true(len + 4 < n);
        body[len] = 0;
}

/* The body of fields given as name, value, ..., NULL into body (n bytes). */
static void form_v(char *body, size_t n, va_list ap)
{
        const char *name;

        body[0] = 0;
        while ((name = va_arg(ap, const char *))) {
                const char *value = va_arg(ap, const char *);

                form_add(body, n, name, value);
        }
}

/* POSTs the fields (name, value, ..., NULL) to path as b does, with the session's CSRF token;
 * the answer into resp (the caller finishes it). */
static void post(struct webtest_fixture *fx, const struct webtest_browser *b, const char *path,
                 struct web_response *resp, ...)
{
        char body[1800];
        va_list ap;

        va_start(ap, resp);
        form_v(body, sizeof(body), ap);
        va_end(ap);
        webtest_browse(&fx->w, b, "POST", path, NULL, body, true, resp);
}

/* The same when only the status matters. */
static int post_status(struct webtest_fixture *fx, const struct webtest_browser *b,
                       const char *path, ...)
{
        struct web_response resp;
        char body[1800];
        va_list ap;
        int status;

        va_start(ap, path);
        form_v(body, sizeof(body), ap);
        va_end(ap);
        webtest_browse(&fx->w, b, "POST", path, NULL, body, true, &resp);
        status = resp.status;
        web_response_finish(&resp);
        return status;
}

static void get(struct webtest_fixture *fx, const struct webtest_browser *b, const char *path,
                struct web_response *resp)
{
        webtest_browse(&fx->w, b, "GET", path, NULL, NULL, false, resp);
}

/* An employee as the database has it: "personal_no|full_name|position|unit code|is_head". */
static void employee_row(struct webtest_fixture *fx, const char *no, char *buf, size_t n)
{
        webtest_db_query(&fx->w, buf, n,
                         "SELECT IFNULL((SELECT e.personal_no || '|' || e.full_name || '|' ||"
                         " e.position || '|' || u.code || '|' || e.is_head FROM employees e"
                         " JOIN units u ON u.id = e.unit_id WHERE e.personal_no = '%s'), '-')",
                         no);
}

/* Everything the forms could change, in one string: to show that a refused form changed
 * nothing at all. */
static void org_state(struct webtest_fixture *fx, char *buf, size_t n)
{
        webtest_db_query(
            &fx->w, buf, n,
            "SELECT (SELECT group_concat(x, ';') FROM (SELECT code || ',' || IFNULL(parent_id, 0)"
            " || ',' || kind || ',' || name || ',' || name_en AS x FROM units ORDER BY id)) || '#'"
            " || (SELECT group_concat(x, ';') FROM (SELECT personal_no || ',' || full_name || ','"
            " || position || ',' || unit_id || ',' || is_head AS x FROM employees ORDER BY id))"
            " || '#' || (SELECT group_concat(x, ';') FROM (SELECT code || ',' || name || ',' ||"
            " name_en AS x FROM directions ORDER BY id)) || '#' || (SELECT group_concat(x, ';')"
            " FROM (SELECT code || ',' || name || ',' || unit_id || ',' || IFNULL(direction_id,"
            " 0) AS x FROM workplaces ORDER BY id)) || '#' || (SELECT COUNT(*) FROM audit WHERE"
            " action LIKE 'org_%%')");
}

static int64_t audit_count(struct webtest_fixture *fx, const char *action)
{
        return webtest_db_int(&fx->w, "SELECT COUNT(*) FROM audit WHERE action = '%s'", action);
}

/* ---- an administrator edits each kind ---- */

static void test_admin_adds_and_changes_each_kind(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;
        char row[512];

        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);

        /* a unit below the child, then renamed, recoded and moved below the sibling */
        post(fx, &b, "/admin/org/unit", &resp, "orig", "", "code", "U9", "parent", "U2", "kind",
             "section", "name", "Сектор звернень", "name_en", "Appeals sector", NULL);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/admin/org/unit?code=U9&done=saved");
        web_response_finish(&resp);
        webtest_db_text(&fx->w, row,
                        "SELECT u.code || '|' || p.code || '|' || u.kind || '|' || u.name || '|' ||"
                        " u.name_en FROM units u JOIN units p ON p.id = u.parent_id"
                        " WHERE u.code = 'U9'");
        assert_string_equal(row, "U9|U2|section|Сектор звернень|Appeals sector");
        get(fx, &b, "/admin/org/unit?code=U9&done=saved", &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, TEXT_SAVED);
        assert_contains(resp.body, "value=\"Сектор звернень\"");
        assert_contains(resp.body, "<option value=\"U2\" selected>");
        assert_contains(resp.body, "<option value=\"section\" selected>");
        assert_contains(resp.body, "<option value=\"\">— немає (верхній рівень) —</option>");
        web_response_finish(&resp);
        assert_int_equal(post_status(fx, &b, "/admin/org/unit", "orig", "U9", "code", "S9",
                                     "parent", "U4", "kind", "department", "name", "Сектор прийому",
                                     "name_en", "", NULL),
                         303);
        webtest_db_text(&fx->w, row,
                        "SELECT u.code || '|' || p.code || '|' || u.kind || '|' || u.name || '|' ||"
                        " u.name_en FROM units u JOIN units p ON p.id = u.parent_id"
                        " WHERE u.name = 'Сектор прийому'");
        assert_string_equal(row, "S9|U4|department|Сектор прийому|");

        /* a direction */
        assert_int_equal(post_status(fx, &b, "/admin/org/direction", "orig", "", "code", "admin",
                                     "name", "Адміністративні послуги", "name_en",
                                     "Administrative services", NULL),
                         303);
        assert_int_equal(post_status(fx, &b, "/admin/org/direction", "orig", "admin", "code",
                                     "admin", "name", "Адмінпослуги", "name_en",
                                     "Administrative services", NULL),
                         303);
        webtest_db_text(&fx->w, row,
                        "SELECT name || '|' || name_en FROM directions WHERE code = 'admin'");
        assert_string_equal(row, "Адмінпослуги|Administrative services");

        /* an employee, head of the new unit, then moved and no longer head */
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "", "personal_no",
                                     "E77", "full_name", "Ткаченко Наталія Олегівна", "position",
                                     "Начальник сектору", "unit", "S9", "is_head", "1", NULL),
                         303);
        employee_row(fx, "E77", row, sizeof(row));
        assert_string_equal(row, "E77|Ткаченко Наталія Олегівна|Начальник сектору|S9|1");
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E77", "personal_no",
                                     "E78", "full_name", "Ткаченко Наталія Олегівна", "position",
                                     "Головний спеціаліст", "unit", "U3", NULL),
                         303);
        employee_row(fx, "E77", row, sizeof(row));
        assert_string_equal(row, "-");
        employee_row(fx, "E78", row, sizeof(row));
        assert_string_equal(row, "E78|Ткаченко Наталія Олегівна|Головний спеціаліст|U3|0");

        /* a workplace with a direction, then without one, in another unit */
        assert_int_equal(post_status(fx, &b, "/admin/org/workplace", "orig", "", "code", "W2",
                                     "name", "Вікно 2", "unit", "U3", "direction", "admin", NULL),
                         303);
        webtest_db_text(&fx->w, row,
                        "SELECT w.name || '|' || u.code || '|' || d.code FROM workplaces w"
                        " JOIN units u ON u.id = w.unit_id JOIN directions d"
                        " ON d.id = w.direction_id WHERE w.code = 'W2'");
        assert_string_equal(row, "Вікно 2|U3|admin");
        assert_int_equal(post_status(fx, &b, "/admin/org/workplace", "orig", "W2", "code", "W2",
                                     "name", "Кабінет 5", "unit", "S9", "direction", "", NULL),
                         303);
        webtest_db_text(&fx->w, row,
                        "SELECT w.name || '|' || u.code || '|' || IFNULL(w.direction_id, 'none')"
                        " FROM workplaces w JOIN units u ON u.id = w.unit_id WHERE w.code = 'W2'");
        assert_string_equal(row, "Кабінет 5|S9|none");

        /* the organisation page lists them, each with a link to its form */
        get(fx, &b, "/admin/org", &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "href=\"/admin/org/unit?code=S9\"");
        assert_contains(resp.body, "href=\"/admin/org/employee?code=E78\"");
        assert_contains(resp.body, "href=\"/admin/org/workplace?code=W2\"");
        assert_contains(resp.body, "href=\"/admin/org/direction?code=admin\"");
        assert_contains(resp.body, "href=\"/admin/org/employee\"");
        assert_contains(resp.body, "Головний спеціаліст");
        web_response_finish(&resp);

        /* a new form in English */
        get(fx, &b, "/admin/org/employee?lang=en", &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "<html lang=\"en\">");
        assert_contains(resp.body, "New employee");
        assert_contains(resp.body, "<input type=\"hidden\" name=\"lang\" value=\"en\">");
        web_response_finish(&resp);
}

/* ---- refused forms ---- */

static void test_refused_forms_keep_the_input_and_change_nothing(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;
        char before[4096], after[4096];

        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        org_state(fx, before, sizeof(before));

        /* a duplicate personal number: said so, with the name typed still there */
        post(fx, &b, "/admin/org/employee", &resp, "orig", "", "personal_no", "E4", "full_name",
             "Новенька Ганна", "position", "Спеціаліст", "unit", "U3", NULL);
        assert_int_equal(resp.status, 409);
        assert_contains(resp.body, TEXT_TAKEN);
        assert_contains(resp.body, "value=\"Новенька Ганна\"");
        assert_contains(resp.body, "value=\"Спеціаліст\"");
        assert_contains(resp.body, "<option value=\"U3\" selected>");
        assert_contains(resp.body, "name=\"personal_no\" required aria-invalid=\"true\"");
        web_response_finish(&resp);
        /* renumbering E2 to E4 is the same clash */
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E2", "personal_no",
                                     "E4", "full_name", E2_NAME, "position", "x", "unit", "U3",
                                     NULL),
                         409);

        /* an empty (or blank) name */
        post(fx, &b, "/admin/org/unit", &resp, "orig", "", "code", "U8", "parent", "U1", "kind",
             "section", "name", "   ", "name_en", "Typed in English", NULL);
        assert_int_equal(resp.status, 400);
        assert_contains(resp.body, TEXT_REQUIRED);
        assert_contains(resp.body, "value=\"Typed in English\"");
        assert_contains(resp.body, "value=\"U8\"");
        web_response_finish(&resp);

        /* a unit below its own grandchild, or below itself */
        post(fx, &b, "/admin/org/unit", &resp, "orig", "U2", "code", "U2", "parent", "U3", "kind",
             "department", "name", "Департамент адміністративних послуг", "name_en", "", NULL);
        assert_int_equal(resp.status, 400);
        assert_contains(resp.body, TEXT_LOOP);
        web_response_finish(&resp);
        assert_int_equal(post_status(fx, &b, "/admin/org/unit", "orig", "U2", "code", "U2",
                                     "parent", "U2", "kind", "department", "name", "x", NULL),
                         400);

        /* an unknown unit, a bad code, an unknown kind, an unknown direction */
        post(fx, &b, "/admin/org/employee", &resp, "orig", "E2", "personal_no", "E2", "full_name",
             E2_NAME, "position", "x", "unit", "U99", NULL);
        assert_int_equal(resp.status, 400);
        assert_contains(resp.body, TEXT_NO_SUCH);
        assert_contains(resp.body, "<option value=\"U99\" selected>? (U99)</option>");
        web_response_finish(&resp);
        post(fx, &b, "/admin/org/employee", &resp, "orig", "", "personal_no", "E 5", "full_name",
             "Х", "position", "x", "unit", "U3", NULL);
        assert_int_equal(resp.status, 400);
        assert_contains(resp.body, TEXT_BAD_CODE);
        web_response_finish(&resp);
        assert_int_equal(post_status(fx, &b, "/admin/org/unit", "orig", "", "code", "U8", "parent",
                                     "U1", "kind", "castle", "name", "x", NULL),
                         400);
        assert_int_equal(post_status(fx, &b, "/admin/org/workplace", "orig", "W1", "code", "W1",
                                     "name", "Вікно 1", "unit", "U3", "direction", "nope", NULL),
                         400);
        /* a name with a control character, one too long for the column */
        assert_int_equal(post_status(fx, &b, "/admin/org/direction", "orig", "", "code", "d1",
                                     "name", "a\nb", NULL),
                         400);
        {
                char long_name[400];

                memset(long_name, 'a', sizeof(long_name) - 1);
                long_name[sizeof(long_name) - 1] = 0;
                assert_int_equal(post_status(fx, &b, "/admin/org/direction", "orig", "", "code",
                                             "d1", "name", long_name, NULL),
                                 400);
        }
        /* a record that is not there, to change or to open */
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E404", "personal_no",
                                     "E404", "full_name", "x", "position", "x", "unit", "U3", NULL),
                         404);
        assert_get_status(&fx->w, "/admin/org/employee?code=E404", 303); /* no session: sign in */
        get(fx, &b, "/admin/org/employee?code=E404", &resp);
        assert_int_equal(resp.status, 404);
        assert_contains(resp.body, TEXT_NOT_FOUND);
        web_response_finish(&resp);

        org_state(fx, after, sizeof(after));
        assert_string_equal(after, before);
}

/* ---- who may edit what ---- */

static void test_official_edits_only_own_subtree(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;
        char before[4096], after[4096], row[512];

        assert_sign_in(&fx->w, "official", PW_OFFICIAL, &b);

        /* inside: E2 of the grandchild opens, changes, and a new employee joins */
        get(fx, &b, "/admin/org/employee?code=E2", &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, E2_NAME);
        /* the unit list holds the subtree only, and nothing else */
        assert_contains(resp.body, "<option value=\"U3\" selected>");
        assert_not_contains(resp.body, "value=\"section\"");
        assert_contains(resp.body, "<option value=\"U2\">");
        assert_not_contains(resp.body, "<option value=\"U4\"");
        assert_not_contains(resp.body, "<option value=\"U1\"");
        web_response_finish(&resp);
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E2", "personal_no",
                                     "E2", "full_name", E2_NAME, "position",
                                     "Старший адміністратор", "unit", "U2", NULL),
                         303);
        employee_row(fx, "E2", row, sizeof(row));
        assert_string_equal(row, "E2|" E2_NAME "|Старший адміністратор|U2|0");
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "", "personal_no", "E5",
                                     "full_name", "Мельник Тарас", "position", "Спеціаліст", "unit",
                                     "U3", NULL),
                         303);
        employee_row(fx, "E5", row, sizeof(row));
        assert_string_equal(row, "E5|Мельник Тарас|Спеціаліст|U3|0");

        /* the organisation page: the subtree, no import */
        get(fx, &b, "/admin/org", &resp);
        assert_int_equal(resp.status, 200);
        assert_contains(resp.body, "href=\"/admin/org/employee?code=E2\"");
        assert_not_contains(resp.body, E4_NAME);
        assert_not_contains(resp.body, "/admin/org/import");
        assert_not_contains(resp.body, "href=\"/admin/org/unit");
        web_response_finish(&resp);

        /* outside: E4 of the sibling, opened by its address or changed by a made-up form */
        org_state(fx, before, sizeof(before));
        get(fx, &b, "/admin/org/employee?code=E4", &resp);
        assert_int_equal(resp.status, 404);
        assert_not_contains(resp.body, E4_NAME);
        web_response_finish(&resp);
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E4", "personal_no",
                                     "E4", "full_name", E4_NAME, "position", "Звільнено", "unit",
                                     "U4", NULL),
                         404);
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E4", "personal_no",
                                     "E4", "full_name", E4_NAME, "position", "Переведено", "unit",
                                     "U3", NULL),
                         404);
        /* moving their own employee out, or adding one outside, is refused and says why */
        post(fx, &b, "/admin/org/employee", &resp, "orig", "E2", "personal_no", "E2", "full_name",
             E2_NAME, "position", "Старший адміністратор", "unit", "U4", NULL);
        assert_int_equal(resp.status, 403);
        assert_contains(resp.body, TEXT_OUTSIDE);
        web_response_finish(&resp);
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "", "personal_no", "E6",
                                     "full_name", "x", "position", "x", "unit", "U1", NULL),
                         403);
        /* units, directions and workplaces are the administrators' */
        assert_int_equal(
            webtest_browse_status(&fx->w, &b, "GET", "/admin/org/unit?code=U3", NULL, false), 403);
        assert_int_equal(
            webtest_browse_status(&fx->w, &b, "GET", "/admin/org/workplace", NULL, false), 403);
        assert_int_equal(post_status(fx, &b, "/admin/org/unit", "orig", "U3", "code", "U3",
                                     "parent", "U2", "kind", "section", "name", "Перейменовано",
                                     NULL),
                         403);
        assert_int_equal(post_status(fx, &b, "/admin/org/direction", "orig", "", "code", "d2",
                                     "name", "x", NULL),
                         403);
        assert_int_equal(post_status(fx, &b, "/admin/org/workplace", "orig", "W1", "code", "W1",
                                     "name", "x", "unit", "U3", NULL),
                         403);
        /* and the CSV import */
        assert_int_equal(post_status(fx, &b, "/admin/org/import", "table", "units.csv", "mode",
                                     "save", "csv", "code,parent,kind,name,name_en\n", NULL),
                         403);
        org_state(fx, after, sizeof(after));
        assert_string_equal(after, before);
}

static void test_managers_and_auditors_edit_nothing(void **state)
{
        static const char *const pages[] = {"/admin/org/employee?code=E2", "/admin/org/employee",
                                            "/admin/org/unit?code=U3", "/admin/org/direction",
                                            "/admin/org/workplace?code=W1"};
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        char before[4096], after[4096];

        org_state(fx, before, sizeof(before));
        for (int k = 0; k < 2; k++) {
                assert_sign_in(&fx->w, k ? "auditor" : "manager", k ? PW_AUDITOR : PW_MANAGER, &b);
                for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
                        assert_int_equal(
                            webtest_browse_status(&fx->w, &b, "GET", pages[i], NULL, false), 403);
                assert_int_equal(
                    webtest_browse_status(&fx->w, &b, "GET", "/admin/org", NULL, false), 403);
                assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E2",
                                             "personal_no", "E2", "full_name", "x", "position", "x",
                                             "unit", "U3", NULL),
                                 403);
                assert_int_equal(post_status(fx, &b, "/admin/org/unit", "orig", "", "code", "U8",
                                             "parent", "U2", "kind", "section", "name", "x", NULL),
                                 403);
        }
        org_state(fx, after, sizeof(after));
        assert_string_equal(after, before);
}

static void test_forms_need_the_session_csrf(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b, other;
        struct web_response resp;
        char before[4096], after[4096];
        const char *form = "orig=E2&personal_no=E2&full_name=x&position=y&unit=U3";

        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        assert_sign_in(&fx->w, "admin", PW_ADMIN, &other);
        org_state(fx, before, sizeof(before));
        /* none */
        webtest_browse(&fx->w, &b, "POST", "/admin/org/employee", NULL, form, false, &resp);
        assert_int_equal(resp.status, 403);
        assert_contains(resp.body, TEXT_BAD_FORM);
        web_response_finish(&resp);
        /* a wrong one, and another session's */
        webtest_browse(&fx->w, &b, "POST", "/admin/org/employee", NULL,
                       "csrf=00112233445566778899aabbccddeeff&orig=E2&personal_no=E2"
                       "&full_name=x&position=y&unit=U3",
                       false, &resp);
        assert_int_equal(resp.status, 403);
        web_response_finish(&resp);
        assert_string_not_equal(b.csrf, other.csrf);
        memcpy(other.session, b.session, sizeof(b.session));
        webtest_browse(&fx->w, &other, "POST", "/admin/org/unit", NULL,
                       "orig=U3&code=U3&parent=U2&kind=section&name=x", true, &resp);
        assert_int_equal(resp.status, 403);
        web_response_finish(&resp);
        org_state(fx, after, sizeof(after));
        assert_string_equal(after, before);
}

/* ---- what the pages show and what the log keeps ---- */

static void test_names_are_escaped(void **state)
{
        static const char *const evil = "<script>alert(1)</script> \"O'Brien\" & Co";
        static const char *const escaped =
            "&lt;script&gt;alert(1)&lt;/script&gt; &quot;O&#39;Brien&quot; &amp; Co";
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;

        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "", "personal_no", "E9",
                                     "full_name", evil, "position", evil, "unit", "U3", NULL),
                         303);
        assert_int_equal(post_status(fx, &b, "/admin/org/unit", "orig", "", "code", "U9", "parent",
                                     "U1", "kind", "section", "name", evil, NULL),
                         303);
        for (int i = 0; i < 3; i++) {
                static const char *const pages[] = {"/admin/org", "/admin/org/employee?code=E9",
                                                    "/admin/audit"};

                get(fx, &b, pages[i], &resp);
                assert_int_equal(resp.status, 200);
                assert_contains(resp.body, escaped);
                assert_not_contains(resp.body, "<script>");
                web_response_finish(&resp);
        }
        /* a refused form shows the typed name escaped too */
        post(fx, &b, "/admin/org/employee", &resp, "orig", "", "personal_no", "E9", "full_name",
             evil, "position", "x", "unit", "U3", NULL);
        assert_int_equal(resp.status, 409);
        assert_contains(resp.body, escaped);
        assert_not_contains(resp.body, "<script>");
        web_response_finish(&resp);
}

static void test_changes_are_audited(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        struct web_response resp;
        char detail[1024];

        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "", "personal_no", "E7",
                                     "full_name", "Бондаренко Ірина", "position",
                                     "Начальник відділу", "unit", "U3", "is_head", "1", NULL),
                         303);
        assert_int_equal(audit_count(fx, "org_employee_add"), 1);
        webtest_db_text(
            &fx->w, detail,
            "SELECT login || ' ' || detail FROM audit WHERE action = 'org_employee_add'");
        assert_string_equal(detail, "admin E7: personal_no \"E7\"; full_name \"Бондаренко Ірина\"; "
                                    "position \"Начальник відділу\"; unit \"U3\"; is_head 1");

        /* only what changed, old and new */
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E7", "personal_no",
                                     "E7", "full_name", "Бондаренко Ірина", "position",
                                     "Заступник начальника", "unit", "U4", NULL),
                         303);
        webtest_db_text(&fx->w, detail,
                        "SELECT detail FROM audit WHERE action = 'org_employee_edit'");
        assert_string_equal(detail, "E7: position \"Начальник відділу\" -> \"Заступник "
                                    "начальника\"; unit \"U3\" -> \"U4\"; is_head 1 -> 0");

        /* the same form again changes nothing, says so, and logs nothing */
        post(fx, &b, "/admin/org/employee", &resp, "orig", "E7", "personal_no", "E7", "full_name",
             "Бондаренко Ірина", "position", "Заступник начальника", "unit", "U4", NULL);
        assert_int_equal(resp.status, 303);
        assert_string_equal(resp.location, "/admin/org/employee?code=E7&done=same");
        web_response_finish(&resp);
        get(fx, &b, "/admin/org/employee?code=E7&done=same", &resp);
        assert_contains(resp.body, TEXT_UNCHANGED);
        web_response_finish(&resp);
        assert_int_equal(audit_count(fx, "org_employee_edit"), 1);

        /* the other kinds, and a refused form leaves no entry */
        assert_int_equal(post_status(fx, &b, "/admin/org/unit", "orig", "U3", "code", "U3",
                                     "parent", "U2", "kind", "section", "name", "ЦНАП", "name_en",
                                     "", NULL),
                         303);
        assert_int_equal(post_status(fx, &b, "/admin/org/direction", "orig", "social", "code",
                                     "social", "name", "Соцзахист", "name_en", "Social", NULL),
                         303);
        assert_int_equal(post_status(fx, &b, "/admin/org/workplace", "orig", "", "code", "W5",
                                     "name", "Вікно 5", "unit", "U3", "direction", "social", NULL),
                         303);
        assert_int_equal(post_status(fx, &b, "/admin/org/workplace", "orig", "", "code", "W5",
                                     "name", "Вікно 5", "unit", "U3", NULL),
                         409);
        assert_int_equal(audit_count(fx, "org_unit_edit"), 1);
        assert_int_equal(audit_count(fx, "org_direction_edit"), 1);
        assert_int_equal(audit_count(fx, "org_workplace_add"), 1);
        webtest_db_text(&fx->w, detail, "SELECT detail FROM audit WHERE action = 'org_unit_edit'");
        assert_string_equal(detail,
                            "U3: name \"Відділ обслуговування громадян (ЦНАП)\" -> \"ЦНАП\"");
        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM audit WHERE login = 'admin'"
                                                " AND action LIKE 'org_%%'"),
                         5);
}

/* ---- history ---- */

/* Counted votes per unit (each unit's own) from the pre-aggregated counts. */
static int64_t own_votes(struct webtest_fixture *fx, int64_t unit)
{
        struct store_cut q = {.from_day = 20000101, .to_day = 30000101, .by = STORE_BY_UNIT};
        struct store_cut_row *rows = NULL;
        size_t n = 0;
        int64_t total = 0;

        assert_int_equal(fx->w.store->ops->report_cut(fx->w.store, &q, &rows, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (rows[i].key == unit)
                        total += rows[i].n.level[0];
        free(rows);
        return total;
}

static void test_moving_an_employee_keeps_old_votes_in_old_unit(void **state)
{
        struct webtest_fixture *fx = *state;
        struct webtest_browser b;
        char label[PERIOD_LABEL_MAX];
        struct period month;
        json_t *report;

        /* a vote for E2 while in the grandchild */
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=3", 303);
        assert_int_equal(own_votes(fx, fx->city.grandchild), 1);

        /* E2 moves to the sibling through the form */
        assert_sign_in(&fx->w, "admin", PW_ADMIN, &b);
        assert_int_equal(post_status(fx, &b, "/admin/org/employee", "orig", "E2", "personal_no",
                                     "E2", "full_name", E2_NAME, "position", "Адміністратор",
                                     "unit", "U4", NULL),
                         303);

        /* another phone rates E2 after the move */
        fx->w.phone_cookie[0] = 0;
        fx->w.client_addr = "198.51.100.9";
        assert_vote_status(&fx->w, "/r/" TOK_E2, "level=1", 303);

        assert_int_equal(webtest_db_int(&fx->w, "SELECT COUNT(*) FROM votes WHERE counted = 1"), 2);
        assert_int_equal(own_votes(fx, fx->city.grandchild), 1);
        assert_int_equal(own_votes(fx, fx->city.sibling), 1);

        /* the report by unit, each summing its subtree: the old vote stays with the child's
         * subtree, the new one counts for the sibling's, both for the root */
        webtest_month_label(false, &month, label, sizeof(label));
        report = webtest_report(&fx->w, label);
        assert_int_equal(webtest_unit_count(report, fx->city.grandchild, "total"), 1);
        assert_int_equal(webtest_unit_count(report, fx->city.child, "total"), 1);
        assert_int_equal(webtest_unit_count(report, fx->city.sibling, "total"), 1);
        assert_int_equal(webtest_unit_count(report, fx->city.root, "total"), 2);
        json_decref(report);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, webtest_teardown)
            T(test_admin_adds_and_changes_each_kind),
            T(test_refused_forms_keep_the_input_and_change_nothing),
            T(test_official_edits_only_own_subtree),
            T(test_managers_and_auditors_edit_nothing),
            T(test_forms_need_the_session_csrf),
            T(test_names_are_escaped),
            T(test_changes_are_audited),
            T(test_moving_an_employee_keeps_old_votes_in_old_unit),
#undef T
        };

        return webtest_run_group(tests, LOG_LEVEL_WARN);
}
