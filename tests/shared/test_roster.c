/* SPDX-License-Identifier: MIT */
/* The terminal's pull document and the enrollment exchange (docs/protocol.md, "Pull" and
 * "Enrollment"): the documented example means what the page says, a roster survives a round
 * trip with Cyrillic names, every malformed field is refused with a message naming it and leaves
 * *ret untouched, a real argon2id hash checks a PIN, and the enrollment bodies round-trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "roster.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define FAKE_HASH "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"

/* The example of docs/protocol.md, "Pull", with real values where the page has "…". */
static const char doc_example[] =
    "{\"protocol\":1,\"terminal\":\"T001\","
    "\"workplace\":{\"code\":\"W001\",\"name\":\"ЦНАП, вікно 1\",\"name_en\":\"ASC, window 1\"},"
    "\"settings\":{\"min_interval_s\":5,\"idle_logout_s\":1800,\"logout_at\":\"20:00\","
    "\"qr_ttl_s\":300,\"thanks_s\":4,\"selection_s\":10,\"one_tap\":false,\"lang\":\"uk\"},"
    "\"qr\":{\"base\":\"https://otsinka.example.gov.ua\",\"key\":\"" KEY_HEX "\"},"
    "\"employees\":["
    "{\"id\":\"E001\",\"full_name\":\"Коваленко Олена Петрівна\",\"position\":\"адміністратор\","
    "\"unit\":\"ЦНАП\",\"pin_hash\":\"" FAKE_HASH "\"},"
    "{\"id\":\"E002\",\"full_name\":\"Їжакевич Ґедимін\",\"position\":\"\",\"unit\":\"\","
    "\"pin_hash\":\"\"}]}";

static int decode_str(const char *json, struct roster *ret, char *err, size_t errlen)
{
        return roster_decode(json, strlen(json), ret, err, errlen);
}

static void test_doc_example_means_what_the_doc_says(void **state)
{
        struct roster r = {0};
        char err[256] = "stale";

        assert_int_equal(decode_str(doc_example, &r, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_string_equal(r.terminal, "T001");
        assert_string_equal(r.workplace, "W001");
        assert_string_equal(r.workplace_name, "ЦНАП, вікно 1");
        assert_string_equal(r.workplace_name_en, "ASC, window 1");
        assert_int_equal(r.settings.min_interval_s, 5);
        assert_int_equal(r.settings.idle_logout_s, 1800);
        assert_int_equal(r.settings.logout_minute, 20 * 60);
        assert_int_equal(r.settings.qr_ttl_s, 300);
        assert_int_equal(r.settings.thanks_s, 4);
        assert_int_equal(r.settings.selection_s, 10);
        assert_false(r.settings.one_tap);
        assert_int_equal(r.settings.lang, VOTE_LANG_UK);
        assert_string_equal(r.qr_base, "https://otsinka.example.gov.ua");
        for (int i = 0; i < QRTOKEN_KEY_LEN; i++)
                assert_int_equal(r.qr_key[i], i);
        assert_int_equal(r.n_employees, 2);
        assert_string_equal(r.employees[0].id, "E001");
        assert_string_equal(r.employees[0].full_name, "Коваленко Олена Петрівна");
        assert_string_equal(r.employees[0].position, "адміністратор");
        assert_string_equal(r.employees[0].unit, "ЦНАП");
        assert_string_equal(r.employees[0].pin_hash, FAKE_HASH);
        assert_string_equal(r.employees[1].id, "E002");
        assert_string_equal(r.employees[1].full_name, "Їжакевич Ґедимін");
        assert_string_equal(r.employees[1].pin_hash, "");

        /* the optional parts: no name_en, no logout hour, English, one tap, no employees */
        {
                static const char minimal[] =
                    "{\"protocol\":1,\"terminal\":\"T2\",\"workplace\":{\"code\":\"W2\","
                    "\"name\":\"x\"},\"settings\":{\"min_interval_s\":0,\"idle_logout_s\":0,"
                    "\"logout_at\":\"\",\"qr_ttl_s\":30,\"thanks_s\":1,\"selection_s\":2,"
                    "\"one_tap\":true,\"lang\":\"en\"},\"qr\":{\"base\":\"http://10.0.0.1:8080\","
                    "\"key\":\"" KEY_HEX "\"},\"employees\":[]}";
                struct roster m = {0};

                assert_int_equal(decode_str(minimal, &m, err, sizeof(err)), 0);
                assert_string_equal(m.workplace_name_en, "");
                assert_int_equal(m.settings.logout_minute, -1);
                assert_int_equal(m.settings.lang, VOTE_LANG_EN);
                assert_true(m.settings.one_tap);
                assert_int_equal(m.n_employees, 0);
                assert_null(m.employees);
                roster_finish(&m);
        }
        roster_finish(&r);
        assert_null(r.employees);
        assert_int_equal(r.n_employees, 0);
        roster_finish(&r); /* twice is fine: it zeroes */
        roster_finish(NULL);
}

static void fill_employee(struct roster_employee *e, const char *id, const char *name,
                          const char *position, const char *unit, const char *hash)
{
        memset(e, 0, sizeof(*e));
        strcpy(e->id, id);
        strcpy(e->full_name, name);
        strcpy(e->position, position);
        strcpy(e->unit, unit);
        strcpy(e->pin_hash, hash);
}

static void assert_same_roster(const struct roster *a, const struct roster *b)
{
        assert_string_equal(a->terminal, b->terminal);
        assert_string_equal(a->workplace, b->workplace);
        assert_string_equal(a->workplace_name, b->workplace_name);
        assert_string_equal(a->workplace_name_en, b->workplace_name_en);
        assert_string_equal(a->qr_base, b->qr_base);
        assert_memory_equal(a->qr_key, b->qr_key, QRTOKEN_KEY_LEN);
        assert_int_equal(a->settings.min_interval_s, b->settings.min_interval_s);
        assert_int_equal(a->settings.idle_logout_s, b->settings.idle_logout_s);
        assert_int_equal(a->settings.logout_minute, b->settings.logout_minute);
        assert_int_equal(a->settings.qr_ttl_s, b->settings.qr_ttl_s);
        assert_int_equal(a->settings.thanks_s, b->settings.thanks_s);
        assert_int_equal(a->settings.selection_s, b->settings.selection_s);
        assert_int_equal(a->settings.one_tap, b->settings.one_tap);
        assert_int_equal(a->settings.lang, b->settings.lang);
        assert_int_equal(a->n_employees, b->n_employees);
        for (size_t i = 0; i < a->n_employees; i++) {
                const struct roster_employee *x = &a->employees[i], *y = &b->employees[i];

                assert_string_equal(x->id, y->id);
                assert_string_equal(x->full_name, y->full_name);
                assert_string_equal(x->position, y->position);
                assert_string_equal(x->unit, y->unit);
                assert_string_equal(x->pin_hash, y->pin_hash);
        }
}

static void test_round_trip(void **state)
{
        struct roster_employee emp[4];
        struct roster in = {.n_employees = 4, .employees = emp}, out = {0};
        char err[256], *json = NULL, name[ROSTER_NAME_MAX];

        strcpy(in.terminal, "T-01.a_b");
        strcpy(in.workplace, "W001");
        strcpy(in.workplace_name, "ЦНАП «Прозорий офіс», вікно 3");
        strcpy(in.workplace_name_en, "ASC \"Transparent office\", window 3\\");
        strcpy(in.qr_base, "https://otsinka.example.gov.ua:8443/kyiv");
        for (int i = 0; i < QRTOKEN_KEY_LEN; i++)
                in.qr_key[i] = (uint8_t)(0xff - i);
        roster_settings_defaults(&in.settings);
        in.settings.min_interval_s = 3600;
        in.settings.idle_logout_s = 1800;
        in.settings.logout_minute = 23 * 60 + 59;
        in.settings.qr_ttl_s = 86400;
        in.settings.thanks_s = 60;
        in.settings.selection_s = 600;
        in.settings.one_tap = true;
        in.settings.lang = VOTE_LANG_EN;

        /* the longest name that fits: 95 two-byte letters and one ASCII byte */
        name[0] = 0;
        for (int i = 0; i < 95; i++)
                strcat(name, "Ж");
        strcat(name, "a");
        assert_int_equal(strlen(name), ROSTER_NAME_MAX - 1);
        fill_employee(&emp[0], "E001", "Шевченко Тарас Григорович", "головний спеціаліст",
                      "Відділ «ЦНАП»", FAKE_HASH);
        fill_employee(&emp[1], "E002", "Ярошенко Ґанна-Марія Їжаківна", "", "", "");
        fill_employee(&emp[2], "0042", name, "адміністратор", name, FAKE_HASH);
        fill_employee(&emp[3], "e.4-x_y", "O'Brien, Seán", "clerk", "unit 7", "");

        assert_int_equal(roster_encode(&in, &json), 0);
        /* UTF-8 travels as it is, not as \u escapes */
        assert_non_null(strstr(json, "\"full_name\":\"Шевченко Тарас Григорович\""));
        assert_non_null(strstr(json, "\"logout_at\":\"23:59\""));
        assert_non_null(strstr(json, "\"lang\":\"en\""));
        assert_non_null(strstr(json, "\"key\":\"fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0"
                                     "efeeedecebeae9e8e7e6e5e4e3e2e1e0\""));
        assert_int_equal(decode_str(json, &out, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_same_roster(&in, &out);
        roster_finish(&out);
        free(json);

        /* defaults: no logout hour is "" and comes back as -1; midnight is "00:00" */
        roster_settings_defaults(&in.settings);
        assert_int_equal(in.settings.logout_minute, -1);
        in.n_employees = 0;
        in.employees = NULL;
        assert_int_equal(roster_encode(&in, &json), 0);
        assert_non_null(strstr(json, "\"logout_at\":\"\""));
        assert_non_null(strstr(json, "\"employees\":[]"));
        assert_int_equal(decode_str(json, &out, err, sizeof(err)), 0);
        assert_same_roster(&in, &out);
        roster_finish(&out);
        free(json);
        in.settings.logout_minute = 0;
        assert_int_equal(roster_encode(&in, &json), 0);
        assert_non_null(strstr(json, "\"logout_at\":\"00:00\""));
        assert_int_equal(decode_str(json, &out, err, sizeof(err)), 0);
        assert_int_equal(out.settings.logout_minute, 0);
        roster_finish(&out);
        free(json);
}

static void test_encode_refuses(void **state)
{
        struct roster_employee e;
        struct roster in = {.n_employees = 1, .employees = &e};
        char *json = NULL;

        strcpy(in.terminal, "T1");
        strcpy(in.workplace, "W1");
        strcpy(in.workplace_name, "x");
        strcpy(in.qr_base, "https://x");
        roster_settings_defaults(&in.settings);
        fill_employee(&e, "E1", "\xff\xfe", "", "", ""); /* not UTF-8 */
        assert_int_equal(roster_encode(&in, &json), -EINVAL);
        assert_null(json);
        fill_employee(&e, "E1", "ok", "", "", "");
        memset(in.workplace_name, 'x', sizeof(in.workplace_name)); /* not terminated */
        assert_int_equal(roster_encode(&in, &json), -EINVAL);
        assert_null(json);
        strcpy(in.workplace_name, "x");
        in.n_employees = ROSTER_EMPLOYEES_MAX + 1;
        assert_int_equal(roster_encode(&in, &json), -EINVAL);
        in.n_employees = 1;
        in.employees = NULL;
        assert_int_equal(roster_encode(&in, &json), -EINVAL);
        assert_null(json);
}

/* The documented example with one change: in the object named by where ("" the root,
 * "workplace", "settings", "qr", "employees[N]"), key is set to the JSON text value, or removed
 * when value is NULL. Returns malloc'd compact JSON. */
static char *mutate(const char *where, const char *key, const char *value)
{
        json_error_t jerr;
        json_t *root = json_loads(doc_example, 0, &jerr), *obj = root;
        unsigned idx;
        char *text;

        assert_non_null(root);
        if (sscanf(where, "employees[%u]", &idx) == 1)
                obj = json_array_get(json_object_get(root, "employees"), idx);
        else if (where[0])
                obj = json_object_get(root, where);
        assert_non_null(obj);
        if (value) {
                json_t *v = json_loads(value, JSON_DECODE_ANY, &jerr);

                if (!v)
                        fail_msg("bad test value %s: %s", value, jerr.text);
                assert_int_equal(json_object_set_new(obj, key, v), 0);
        } else {
                assert_int_equal(json_object_del(obj, key), 0);
        }
        text = json_dumps(root, JSON_COMPACT);
        assert_non_null(text);
        json_decref(root);
        return text;
}

struct bad_case {
        const char *where; /* see mutate() */
        const char *key;
        const char *value; /* JSON text; NULL removes the key */
        int r;
        const char *message; /* exact, or a prefix when prefix is set */
        int prefix;
};

#define REF_RULE ": must be 1 to 64 of A-Z a-z 0-9 . _ -"

static const struct bad_case bad_cases[] = {
    /* the root */
    {"", "extra", "1", -EINVAL, "body: unknown key \"extra\"", 0},
    {"", "protocol", "2", -EINVAL, "protocol: unsupported version 2", 0},
    {"", "protocol", NULL, -EINVAL, "protocol: missing", 0},
    {"", "terminal", "5", -EINVAL, "terminal: expected a string", 0},
    {"", "terminal", "\"T 1\"", -EINVAL, "terminal" REF_RULE, 0},
    {"", "terminal", NULL, -EINVAL, "terminal: missing", 0},
    {"", "workplace", "\"W001\"", -EINVAL, "workplace: expected an object", 0},
    {"", "workplace", NULL, -EINVAL, "workplace: missing", 0},
    {"", "settings", "[]", -EINVAL, "settings: expected an object", 0},
    {"", "settings", NULL, -EINVAL, "settings: missing", 0},
    {"", "qr", "null", -EINVAL, "qr: expected an object", 0},
    {"", "employees", "{}", -EINVAL, "employees: expected an array", 0},
    {"", "employees", NULL, -EINVAL, "employees: missing", 0},
    {"", "employees", "[5]", -EINVAL, "employees[0]: expected an object", 0},
    /* workplace */
    {"workplace", "floor", "2", -EINVAL, "workplace: unknown key \"floor\"", 0},
    {"workplace", "code", "\"\"", -EINVAL, "workplace.code" REF_RULE, 0},
    {"workplace", "code", "1", -EINVAL, "workplace.code: expected a string", 0},
    {"workplace", "code", NULL, -EINVAL, "workplace.code: missing", 0},
    {"workplace", "name", NULL, -EINVAL, "workplace.name: missing", 0},
    {"workplace", "name", "\"вікно\\u00011\"", -EINVAL,
     "workplace.name: must be text without control characters", 0},
    {"workplace", "name_en", "5", -EINVAL, "workplace.name_en: expected a string", 0},
    /* settings */
    {"settings", "theme", "\"dark\"", -EINVAL, "settings: unknown key \"theme\"", 0},
    {"settings", "min_interval_s", "3601", -EINVAL, "settings.min_interval_s: must be 0 to 3600",
     0},
    {"settings", "min_interval_s", "-1", -EINVAL, "settings.min_interval_s: must be 0 to 3600", 0},
    {"settings", "min_interval_s", "\"5\"", -EINVAL, "settings.min_interval_s: expected an integer",
     0},
    {"settings", "min_interval_s", "5.0", -EINVAL, "settings.min_interval_s: expected an integer",
     0},
    {"settings", "min_interval_s", NULL, -EINVAL, "settings.min_interval_s: missing", 0},
    {"settings", "idle_logout_s", "-1", -EINVAL, "settings.idle_logout_s: must be 0 to 604800", 0},
    {"settings", "qr_ttl_s", "29", -EINVAL, "settings.qr_ttl_s: must be 30 to 86400", 0},
    {"settings", "qr_ttl_s", "86401", -EINVAL, "settings.qr_ttl_s: must be 30 to 86400", 0},
    {"settings", "thanks_s", "0", -EINVAL, "settings.thanks_s: must be 1 to 60", 0},
    {"settings", "thanks_s", "61", -EINVAL, "settings.thanks_s: must be 1 to 60", 0},
    {"settings", "selection_s", "1", -EINVAL, "settings.selection_s: must be 2 to 600", 0},
    {"settings", "selection_s", "601", -EINVAL, "settings.selection_s: must be 2 to 600", 0},
    {"settings", "logout_at", "\"24:00\"", -EINVAL, "settings.logout_at: must be HH:MM or empty",
     0},
    {"settings", "logout_at", "\"7:00\"", -EINVAL, "settings.logout_at: must be HH:MM or empty", 0},
    {"settings", "logout_at", "\"07:60\"", -EINVAL, "settings.logout_at: must be HH:MM or empty",
     0},
    {"settings", "logout_at", "\"07.00\"", -EINVAL, "settings.logout_at: must be HH:MM or empty",
     0},
    {"settings", "logout_at", "\" 7:00\"", -EINVAL, "settings.logout_at: must be HH:MM or empty",
     0},
    {"settings", "logout_at", "1200", -EINVAL, "settings.logout_at: expected a string", 0},
    {"settings", "logout_at", NULL, -EINVAL, "settings.logout_at: missing", 0},
    {"settings", "one_tap", "1", -EINVAL, "settings.one_tap: expected true or false", 0},
    {"settings", "one_tap", NULL, -EINVAL, "settings.one_tap: missing", 0},
    {"settings", "lang", "\"de\"", -EINVAL, "settings.lang: must be \"uk\" or \"en\"", 0},
    {"settings", "lang", "\"UK\"", -EINVAL, "settings.lang: must be \"uk\" or \"en\"", 0},
    {"settings", "lang", "\"\"", -EINVAL, "settings.lang: must be \"uk\" or \"en\"", 0},
    {"settings", "lang", "null", -EINVAL, "settings.lang: expected a string", 0},
    /* qr */
    {"qr", "alg", "\"blake2b\"", -EINVAL, "qr: unknown key \"alg\"", 0},
    {"qr", "base", NULL, -EINVAL, "qr.base: missing", 0},
    {"qr", "base", "\"ftp://otsinka.example\"", -EINVAL, "qr.base: must be an http(s) URL", 0},
    {"qr", "base", "\"otsinka.example\"", -EINVAL, "qr.base: must be an http(s) URL", 0},
    {"qr", "base", "\"https://a b\"", -EINVAL, "qr.base: not a URL", 0},
    {"qr", "base", "\"https://a\\\"><script>\"", -EINVAL, "qr.base: not a URL", 0},
    {"qr", "base", "\"https://a\\\"b\"", -EINVAL, "qr.base: not a URL", 0},
    {"qr", "base", "\"https://a\\\\b\"", -EINVAL, "qr.base: not a URL", 0},
    {"qr", "base", "\"https://a<b\"", -EINVAL, "qr.base: not a URL", 0},
    {"qr", "base", "\"https://a>b\"", -EINVAL, "qr.base: not a URL", 0},
    {"qr", "base", "\"https://приклад.укр\"", -EINVAL, "qr.base: must be printable ASCII", 0},
    {"qr", "key", NULL, -EINVAL, "qr.key: missing", 0},
    {"qr", "key", "7", -EINVAL, "qr.key: expected a string", 0},
    {"qr", "key", "\"\"", -EINVAL, "qr.key: must be 64 hex digits", 0},
    {"qr", "key", "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\"", -EINVAL,
     "qr.key: must be 64 hex digits", 0},
    {"qr", "key", "\"" KEY_HEX "0\"", -EINVAL, "qr.key: must be 64 hex digits", 0},
    {"qr", "key", "\"" KEY_HEX "00\"", -EINVAL, "qr.key: ", 1},
    {"qr", "key", "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\"", -EINVAL,
     "qr.key: must be 64 hex digits", 0},
    {"qr", "key", "\"00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f\"", -EINVAL,
     "qr.key: must be 64 hex digits", 0},
    /* an employee */
    {"employees[0]", "badge", "\"x\"", -EINVAL, "employees[0]: unknown key \"badge\"", 0},
    {"employees[1]", "id", NULL, -EINVAL, "employees[1].id: missing", 0},
    {"employees[0]", "id", "1", -EINVAL, "employees[0].id: expected a string", 0},
    {"employees[0]", "id", "\"E 1\"", -EINVAL, "employees[0].id" REF_RULE, 0},
    {"employees[0]", "id", "\"\"", -EINVAL, "employees[0].id" REF_RULE, 0},
    {"employees[1]", "id", "\"E001\"", -EINVAL, "employees[1].id: listed twice", 0},
    {"employees[0]", "full_name", "\"\"", -EINVAL, "employees[0].full_name: empty", 0},
    {"employees[0]", "full_name", NULL, -EINVAL, "employees[0].full_name: missing", 0},
    {"employees[0]", "full_name", "\"Коваленко\\nОлена\"", -EINVAL,
     "employees[0].full_name: must be text without control characters", 0},
    {"employees[0]", "full_name", "\"Коваленко\\u007fОлена\"", -EINVAL,
     "employees[0].full_name: must be text without control characters", 0},
    {"employees[1]", "position", NULL, -EINVAL, "employees[1].position: missing", 0},
    {"employees[0]", "position", "\"\\t\"", -EINVAL,
     "employees[0].position: must be text without control characters", 0},
    {"employees[0]", "unit", "5", -EINVAL, "employees[0].unit: expected a string", 0},
    {"employees[0]", "pin_hash", NULL, -EINVAL, "employees[0].pin_hash: missing", 0},
    {"employees[0]", "pin_hash", "\"1234\"", -EINVAL, "employees[0].pin_hash: not an argon2id hash",
     0},
    {"employees[0]", "pin_hash", "\"$2b$10$abcdefghijklmnopqrstuu5.zIiZ8n1KuhlzJu3DY5tV8L7rjU3y\"",
     -EINVAL, "employees[0].pin_hash: not an argon2id hash", 0},
    {"employees[0]", "pin_hash", "\"$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA\"", -EINVAL,
     "employees[0].pin_hash: not an argon2id hash", 0},
    {"employees[1]", "pin_hash", "\"$ARGON2ID$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA\"", -EINVAL,
     "employees[1].pin_hash: not an argon2id hash", 0},
    {"employees[0]", "pin_hash", "\"" FAKE_HASH "é\"", -EINVAL,
     "employees[0].pin_hash: must be printable ASCII", 0},
};

/* Decodes json expecting failure r with message (exact, or a prefix); *ret stays untouched. */
static void expect_refused(const char *json, int r, const char *message, int prefix)
{
        struct roster ro, untouched;
        char err[256];
        int got;

        memset(&ro, 0xa5, sizeof(ro));
        untouched = ro;
        got = decode_str(json, &ro, err, sizeof(err));
        print_message("-> %d %s\n", got, err);
        assert_int_equal(got, r);
        if (prefix)
                assert_memory_equal(err, message, strlen(message));
        else
                assert_string_equal(err, message);
        assert_memory_equal(&ro, &untouched, sizeof(ro));
}

static void test_strictness(void **state)
{
        for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
                const struct bad_case *c = &bad_cases[i];
                char *json = mutate(c->where, c->key, c->value);

                print_message("case %zu: %s%s%s = %s\n", i, c->where, c->where[0] ? "." : "",
                              c->key, c->value ? c->value : "(removed)");
                expect_refused(json, c->r, c->message, c->prefix);
                free(json);
        }
}

struct good_case {
        const char *where, *key, *value;
};

/* Boundaries that must still pass. */
static const struct good_case good_cases[] = {
    {"settings", "min_interval_s", "0"},
    {"settings", "min_interval_s", "3600"},
    {"settings", "idle_logout_s", "0"},
    {"settings", "qr_ttl_s", "30"},
    {"settings", "qr_ttl_s", "86400"},
    {"settings", "thanks_s", "1"},
    {"settings", "thanks_s", "60"},
    {"settings", "selection_s", "2"},
    {"settings", "selection_s", "600"},
    {"settings", "logout_at", "\"00:00\""},
    {"settings", "logout_at", "\"23:59\""},
    {"settings", "logout_at", "\"\""},
    {"settings", "lang", "\"en\""},
    {"workplace", "name_en", "\"\""},
    {"workplace", "name_en", NULL},
    {"employees[0]", "pin_hash", "\"\""},
    {"", "employees", "[]"},
};

static void test_boundaries_pass(void **state)
{
        for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
                const struct good_case *c = &good_cases[i];
                char *json = mutate(c->where, c->key, c->value), err[256];
                struct roster r = {0};
                int got = decode_str(json, &r, err, sizeof(err));

                print_message("case %zu: %s.%s = %s -> %d %s\n", i, c->where, c->key,
                              c->value ? c->value : "(removed)", got, err);
                assert_int_equal(got, 0);
                roster_finish(&r);
                free(json);
        }
}

static void test_lengths(void **state)
{
        char name[ROSTER_NAME_MAX + 3], value[ROSTER_NAME_MAX + 8], *json;
        struct roster r = {0};
        char err[256];

        /* 191 bytes of name fit, 192 do not */
        memset(name, 'n', ROSTER_NAME_MAX - 1);
        name[ROSTER_NAME_MAX - 1] = 0;
        snprintf(value, sizeof(value), "\"%s\"", name);
        json = mutate("employees[1]", "full_name", value);
        assert_int_equal(decode_str(json, &r, err, sizeof(err)), 0);
        assert_string_equal(r.employees[1].full_name, name);
        roster_finish(&r);
        free(json);
        strcat(name, "n");
        snprintf(value, sizeof(value), "\"%s\"", name);
        json = mutate("employees[1]", "full_name", value);
        expect_refused(json, -EINVAL, "employees[1].full_name: longer than 191 bytes", 0);
        free(json);
        json = mutate("workplace", "name", value);
        expect_refused(json, -EINVAL, "workplace.name: longer than 191 bytes", 0);
        free(json);

        /* an id of 64 characters fits, 65 do not */
        memset(name, 'E', 64);
        name[64] = 0;
        snprintf(value, sizeof(value), "\"%s\"", name);
        json = mutate("employees[0]", "id", value);
        assert_int_equal(decode_str(json, &r, err, sizeof(err)), 0);
        assert_non_null(roster_find(&r, name));
        roster_finish(&r);
        free(json);
        strcat(name, "E");
        snprintf(value, sizeof(value), "\"%s\"", name);
        json = mutate("employees[0]", "id", value);
        expect_refused(json, -EINVAL, "employees[0].id" REF_RULE, 0);
        free(json);
}

/* The documented example with n copies of its first employee, ids E0..E(n-1). */
static char *with_employees(size_t n)
{
        json_t *root = json_loads(doc_example, 0, NULL), *list, *proto;
        char *text, id[24];

        assert_non_null(root);
        list = json_object_get(root, "employees");
        proto = json_deep_copy(json_array_get(list, 0));
        assert_non_null(proto);
        json_array_clear(list);
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_deep_copy(proto);

                snprintf(id, sizeof(id), "E%zu", i);
                assert_int_equal(json_object_set_new(e, "id", json_string(id)), 0);
                assert_int_equal(json_array_append_new(list, e), 0);
        }
        json_decref(proto);
        text = json_dumps(root, JSON_COMPACT);
        assert_non_null(text);
        json_decref(root);
        return text;
}

static void test_employee_count_cap(void **state)
{
        struct roster r = {0};
        char err[256], *json, *again = NULL;

        json = with_employees(ROSTER_EMPLOYEES_MAX);
        assert_int_equal(decode_str(json, &r, err, sizeof(err)), 0);
        assert_int_equal(r.n_employees, ROSTER_EMPLOYEES_MAX);
        assert_string_equal(r.employees[999].id, "E999");
        assert_ptr_equal(roster_find(&r, "E999"), &r.employees[999]);
        /* the largest roster still encodes, and under the body cap */
        assert_int_equal(roster_encode(&r, &again), 0);
        assert_true(strlen(again) <= 1024 * 1024);
        free(again);
        roster_finish(&r);
        free(json);

        /* like a batch's votes: too many is -EMSGSIZE, and the message names the field */
        json = with_employees(ROSTER_EMPLOYEES_MAX + 1);
        expect_refused(json, -EMSGSIZE, "employees: more than 1000", 0);
        free(json);
}

static void test_syntax_and_envelope(void **state)
{
        expect_refused("", -EINVAL, "body: invalid JSON at line 1, column ", 1);
        expect_refused("[]", -EINVAL, "body: expected a JSON object", 0);
        expect_refused("{\"protocol\":1,\"protocol\":1}", -EINVAL,
                       "body: invalid JSON at line 1, column ", 1);
        expect_refused("{\"protocol\":1,\"employees\":[[[[[[[[[]]]]]]]]]}", -EINVAL,
                       "body: nested deeper than 8 levels", 0);
        /* not NUL-terminated: an exact-size copy, so that ASan sees a read past its end */
        {
                size_t len = strlen(doc_example);
                char *copy = malloc(len);
                struct roster r = {0};

                assert_non_null(copy);
                memcpy(copy, doc_example, len);
                assert_int_equal(roster_decode(copy, len, &r, NULL, 0), 0);
                assert_int_equal(r.n_employees, 2);
                roster_finish(&r);
                free(copy);
        }
}

static void test_find(void **state)
{
        struct roster r = {0};
        char err[256];

        assert_int_equal(decode_str(doc_example, &r, err, sizeof(err)), 0);
        assert_ptr_equal(roster_find(&r, "E001"), &r.employees[0]);
        assert_ptr_equal(roster_find(&r, "E002"), &r.employees[1]);
        assert_null(roster_find(&r, "E003"));
        assert_null(roster_find(&r, "e001")); /* personal numbers are case-sensitive */
        assert_null(roster_find(&r, "E00"));
        assert_null(roster_find(&r, ""));
        assert_null(roster_find(&r, NULL));
        roster_finish(&r);
        assert_null(roster_find(&r, "E001")); /* an empty roster */
}

static void test_check_pin(void **state)
{
        char hash[crypto_pwhash_STRBYTES], value[crypto_pwhash_STRBYTES + 2], err[256], *json;
        const struct roster_employee *e;
        struct roster r = {0};

        assert_int_equal(crypto_pwhash_str(hash, "2468", 4, crypto_pwhash_OPSLIMIT_MIN,
                                           crypto_pwhash_MEMLIMIT_MIN),
                         0);
        assert_memory_equal(hash, "$argon2id$", 10);
        /* the real hash passes the decoder and fits its buffer */
        snprintf(value, sizeof(value), "\"%s\"", hash);
        json = mutate("employees[0]", "pin_hash", value);
        assert_int_equal(decode_str(json, &r, err, sizeof(err)), 0);
        free(json);
        e = roster_find(&r, "E001");
        assert_non_null(e);
        assert_string_equal(e->pin_hash, hash);

        assert_int_equal(roster_check_pin(e, "2468"), 0);
        assert_int_equal(roster_check_pin(e, "2469"), -EACCES);
        assert_int_equal(roster_check_pin(e, "24680"), -EACCES);
        assert_int_equal(roster_check_pin(e, ""), -EACCES);
        assert_int_equal(roster_check_pin(e, NULL), -EACCES);
        assert_int_equal(roster_check_pin(NULL, "2468"), -EACCES);

        /* an employee without a hash cannot log in, whatever the PIN */
        e = roster_find(&r, "E002");
        assert_non_null(e);
        assert_string_equal(e->pin_hash, "");
        assert_int_equal(roster_check_pin(e, ""), -EACCES);
        assert_int_equal(roster_check_pin(e, "2468"), -EACCES);
        roster_finish(&r);

        /* a well-formed prefix over garbage is refused, not crashed on */
        {
                struct roster_employee bad;

                fill_employee(&bad, "E9", "x", "", "", FAKE_HASH);
                assert_int_equal(roster_check_pin(&bad, "2468"), -EACCES);
        }
}

static void test_enroll_request(void **state)
{
        char code[ENROLL_CODE_MAX], untouched[ENROLL_CODE_MAX], err[256], *json = NULL;
        char longest[ENROLL_CODE_MAX];
        static const struct {
                const char *json, *message;
        } bad[] = {
            {"{\"protocol\":1}", "code: missing"},
            {"{\"protocol\":1,\"code\":5}", "code: expected a string"},
            {"{\"protocol\":1,\"code\":\"ABCD-ЕFGH\"}", "code: must be printable ASCII"},
            {"{\"protocol\":1,\"code\":\"ABCD\\nEFGH\"}", "code: must be printable ASCII"},
            {"{\"protocol\":1,\"code\":\"ABCD-EFGH-JKLM\",\"terminal\":\"T1\"}",
             "body: unknown key \"terminal\""},
            {"{\"protocol\":2,\"code\":\"ABCD-EFGH-JKLM\"}", "protocol: unsupported version 2"},
            {"{\"code\":\"ABCD-EFGH-JKLM\"}", "protocol: missing"},
            {"[\"ABCD-EFGH-JKLM\"]", "body: expected a JSON object"},
        };

        assert_int_equal(enroll_request_encode("ABCD-EFGH-JKLM", &json), 0);
        assert_string_equal(json, "{\"protocol\":1,\"code\":\"ABCD-EFGH-JKLM\"}");
        assert_int_equal(enroll_request_decode(json, strlen(json), code, err, sizeof(err)), 0);
        assert_string_equal(code, "ABCD-EFGH-JKLM");
        free(json);

        /* 63 bytes fit, 64 do not */
        memset(longest, 'A', sizeof(longest) - 1);
        longest[sizeof(longest) - 1] = 0;
        assert_int_equal(enroll_request_encode(longest, &json), 0);
        assert_int_equal(enroll_request_decode(json, strlen(json), code, err, sizeof(err)), 0);
        assert_string_equal(code, longest);
        free(json);
        {
                char body[128];

                snprintf(body, sizeof(body), "{\"protocol\":1,\"code\":\"%sA\"}", longest);
                memset(code, 0x5a, sizeof(code));
                assert_int_equal(enroll_request_decode(body, strlen(body), code, err, sizeof(err)),
                                 -EINVAL);
                assert_string_equal(err, "code: longer than 63 bytes");
        }

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(code, 0x5a, sizeof(code));
                memcpy(untouched, code, sizeof(code));
                print_message("case %zu: %s\n", i, bad[i].json);
                assert_int_equal(
                    enroll_request_decode(bad[i].json, strlen(bad[i].json), code, err, sizeof(err)),
                    -EINVAL);
                assert_string_equal(err, bad[i].message);
                assert_memory_equal(code, untouched, sizeof(code));
        }
}

static void test_enroll_answer(void **state)
{
        struct enroll_answer in = {0}, out, untouched;
        char err[256], *json = NULL;
        static const struct {
                const char *json, *message;
        } bad[] = {
            {"{\"protocol\":1,\"terminal\":\"T002\",\"secret\":\"\"}", "secret: empty"},
            {"{\"protocol\":1,\"terminal\":\"T002\"}", "secret: missing"},
            {"{\"protocol\":1,\"terminal\":\"T002\",\"secret\":7}", "secret: expected a string"},
            {"{\"protocol\":1,\"terminal\":\"T002\",\"secret\":\"s\\u0000x\"}",
             "body: invalid JSON at line 1, column "},
            {"{\"protocol\":1,\"terminal\":\"T002\",\"secret\":\"sécret\"}",
             "secret: must be printable ASCII"},
            {"{\"protocol\":1,\"terminal\":\"T 2\",\"secret\":\"s\"}", "terminal" REF_RULE},
            {"{\"protocol\":1,\"terminal\":\"T2:x\",\"secret\":\"s\"}", "terminal" REF_RULE},
            {"{\"protocol\":1,\"terminal\":\"\",\"secret\":\"s\"}", "terminal" REF_RULE},
            {"{\"protocol\":1,\"terminal\":null,\"secret\":\"s\"}", "terminal: expected a string"},
            {"{\"protocol\":1,\"secret\":\"s\"}", "terminal: missing"},
            {"{\"protocol\":1,\"terminal\":\"T002\",\"secret\":\"s\",\"workplace\":\"W1\"}",
             "body: unknown key \"workplace\""},
            /* a 403 body is not an answer: the caller reads it with proto_error_decode() */
            {"{\"protocol\":1,\"error\":\"code: unknown, used or expired\"}",
             "body: unknown key \"error\""},
            {"{\"protocol\":2,\"terminal\":\"T002\",\"secret\":\"s\"}",
             "protocol: unsupported version 2"},
            {"{\"protocol\":\"1\",\"terminal\":\"T002\",\"secret\":\"s\"}",
             "protocol: expected an integer"},
        };

        strcpy(in.terminal, "T002");
        strcpy(in.secret, "pQ7-x_9Zk2mN~+/=");
        assert_int_equal(enroll_answer_encode(&in, &json), 0);
        assert_string_equal(
            json, "{\"protocol\":1,\"terminal\":\"T002\",\"secret\":\"pQ7-x_9Zk2mN~+/=\"}");
        memset(&out, 0x5a, sizeof(out));
        assert_int_equal(enroll_answer_decode(json, strlen(json), &out, err, sizeof(err)), 0);
        assert_string_equal(out.terminal, "T002");
        assert_string_equal(out.secret, "pQ7-x_9Zk2mN~+/=");
        free(json);

        /* the longest secret: 127 bytes */
        memset(in.secret, 's', sizeof(in.secret) - 1);
        in.secret[sizeof(in.secret) - 1] = 0;
        assert_int_equal(enroll_answer_encode(&in, &json), 0);
        assert_int_equal(enroll_answer_decode(json, strlen(json), &out, err, sizeof(err)), 0);
        assert_string_equal(out.secret, in.secret);
        free(json);

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&out, 0x5a, sizeof(out));
                untouched = out;
                print_message("case %zu: %s\n", i, bad[i].json);
                assert_int_equal(
                    enroll_answer_decode(bad[i].json, strlen(bad[i].json), &out, err, sizeof(err)),
                    -EINVAL);
                if (strstr(bad[i].message, "invalid JSON"))
                        assert_memory_equal(err, bad[i].message, strlen(bad[i].message));
                else
                        assert_string_equal(err, bad[i].message);
                assert_memory_equal(&out, &untouched, sizeof(out));
        }
}

static int setup(void **state)
{
        return sodium_init() < 0 ? -1 : 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_doc_example_means_what_the_doc_says),
            cmocka_unit_test(test_round_trip),
            cmocka_unit_test(test_encode_refuses),
            cmocka_unit_test(test_strictness),
            cmocka_unit_test(test_boundaries_pass),
            cmocka_unit_test(test_lengths),
            cmocka_unit_test(test_employee_count_cap),
            cmocka_unit_test(test_syntax_and_envelope),
            cmocka_unit_test(test_find),
            cmocka_unit_test(test_check_pin),
            cmocka_unit_test(test_enroll_request),
            cmocka_unit_test(test_enroll_answer),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
