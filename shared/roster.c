/* SPDX-License-Identifier: MIT */
/* The terminal's pull document and the enrollment exchange (docs/protocol.md, "Pull" and
 * "Enrollment"), encoded by the collector and decoded strictly by the terminal. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "i18n.h"
#include "jsonx.h"
#include "roster.h"

static const char *const roster_keys[] = {"protocol", "terminal",  "workplace", "settings",
                                          "qr",       "employees", NULL};
static const char *const workplace_keys[] = {"code", "name", "name_en", NULL};
static const char *const settings_keys[] = {"min_interval_s", "idle_logout_s", "logout_at",
                                            "qr_ttl_s",       "thanks_s",      "selection_s",
                                            "one_tap",        "lang",          NULL};
static const char *const qr_keys[] = {"base", "key", NULL};
static const char *const employee_keys[] = {"id",   "full_name", "position",
                                            "unit", "pin_hash",  NULL};
static const char *const enroll_request_keys[] = {"protocol", "code", NULL};
static const char *const enroll_answer_keys[] = {"protocol", "terminal", "secret", NULL};

void roster_settings_defaults(struct roster_settings *s)
{
        *s = (struct roster_settings){
            .min_interval_s = 5,
            .idle_logout_s = 0,
            .logout_minute = -1,
            .qr_ttl_s = 300,
            .thanks_s = 4,
            .selection_s = 10,
            .one_tap = false,
            .lang = VOTE_LANG_UK,
        };
}

void roster_finish(struct roster *r)
{
        if (!r)
                return;
        free(r->employees);
        memset(r, 0, sizeof(*r));
}

const struct roster_employee *roster_find(const struct roster *r, const char *id)
{
        for (size_t i = 0; id && i < r->n_employees; i++)
                if (strcmp(r->employees[i].id, id) == 0)
                        return &r->employees[i];
        return NULL;
}

int roster_check_pin(const struct roster_employee *e, const char *pin)
{
        if (!e || !pin || !e->pin_hash[0])
                return -EACCES;
        return crypto_pwhash_str_verify(e->pin_hash, pin, strlen(pin)) == 0 ? 0 : -EACCES;
}

/* A nested object root[key] with only known keys, or an error naming it. */
static int get_object(json_t *root, const char *key, const char *const *known, json_t **ret,
                      char *err, size_t errlen)
{
        json_t *obj = json_object_get(root, key);

        if (!obj)
                return jsonx_fail(err, errlen, -EINVAL, "%s: missing", key);
        if (!json_is_object(obj))
                return jsonx_fail(err, errlen, -EINVAL, "%s: expected an object", key);
        *ret = obj;
        return jsonx_check_keys(obj, known, key, err, errlen);
}

/* "HH:MM" into minutes of the day; "" is -1 (none). */
static int parse_hhmm(const char *s, int *ret)
{
        if (!s[0]) {
                *ret = -1;
                return 0;
        }
        if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' ||
            s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
                return -EINVAL;
        int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
        if (h > 23)
                return -EINVAL;
        *ret = h * 60 + m;
        return 0;
}

static int decode_settings(json_t *root, struct roster_settings *st, char *err, size_t errlen)
{
        const char *p = "settings.";
        json_t *obj = NULL, *v;
        char buf[8] = "";
        int r;

        r = get_object(root, "settings", settings_keys, &obj, err, errlen);
        if (r < 0)
                return r;
        if ((r = jsonx_get_range(obj, p, true, "min_interval_s", 0, 3600, &st->min_interval_s, err,
                                 errlen)) < 0 ||
            (r = jsonx_get_range(obj, p, true, "idle_logout_s", 0, 7 * 86400, &st->idle_logout_s,
                                 err, errlen)) < 0 ||
            (r = jsonx_get_range(obj, p, true, "qr_ttl_s", 30, 86400, &st->qr_ttl_s, err, errlen)) <
                0 ||
            (r = jsonx_get_range(obj, p, true, "thanks_s", 1, 60, &st->thanks_s, err, errlen)) <
                0 ||
            (r = jsonx_get_range(obj, p, true, "selection_s", 2, 600, &st->selection_s, err,
                                 errlen)) < 0 ||
            (r = jsonx_get_text(obj, p, true, true, "logout_at", buf, sizeof(buf), err, errlen)) <
                0)
                return r;
        if (parse_hhmm(buf, &st->logout_minute) < 0)
                return jsonx_fail(err, errlen, -EINVAL, "%slogout_at: must be HH:MM or empty", p);
        v = json_object_get(obj, "one_tap");
        if (!json_is_boolean(v))
                return jsonx_fail(err, errlen, -EINVAL, "%sone_tap: %s", p,
                                  v ? "expected true or false" : "missing");
        st->one_tap = json_is_true(v);
        r = jsonx_get_text(obj, p, true, true, "lang", buf, sizeof(buf), err, errlen);
        if (r < 0)
                return r;
        if (i18n_lang_from_string(buf, &st->lang) < 0)
                return jsonx_fail(err, errlen, -EINVAL, "%slang: must be \"uk\" or \"en\"", p);
        return 0;
}

static int decode_employee(json_t *obj, size_t i, struct roster_employee *e, char *err,
                           size_t errlen)
{
        char prefix[48], where[48]; /* "employees[<20 digits>]." fits */
        const char *s;
        int r;

        snprintf(where, sizeof(where), "employees[%zu]", i);
        snprintf(prefix, sizeof(prefix), "employees[%zu].", i);
        if (!json_is_object(obj))
                return jsonx_fail(err, errlen, -EINVAL, "%s: expected an object", where);
        if ((r = jsonx_check_keys(obj, employee_keys, where, err, errlen)) < 0 ||
            (r = jsonx_get_str(obj, prefix, "id", true, &s, err, errlen)) < 0 ||
            (r = jsonx_check_ref(s, prefix, "id", err, errlen)) < 0)
                return r;
        memcpy(e->id, s, strlen(s) + 1);
        if ((r = jsonx_get_text(obj, prefix, true, false, "full_name", e->full_name,
                                sizeof(e->full_name), err, errlen)) < 0 ||
            (r = jsonx_get_text(obj, prefix, true, false, "position", e->position,
                                sizeof(e->position), err, errlen)) < 0 ||
            (r = jsonx_get_text(obj, prefix, true, false, "unit", e->unit, sizeof(e->unit), err,
                                errlen)) < 0 ||
            (r = jsonx_get_text(obj, prefix, true, true, "pin_hash", e->pin_hash,
                                sizeof(e->pin_hash), err, errlen)) < 0)
                return r;
        if (!e->full_name[0])
                return jsonx_fail(err, errlen, -EINVAL, "%sfull_name: empty", prefix);
        if (e->pin_hash[0] && strncmp(e->pin_hash, "$argon2id$", 10) != 0)
                return jsonx_fail(err, errlen, -EINVAL, "%spin_hash: not an argon2id hash", prefix);
        return 0;
}

int roster_decode(const char *json, size_t len, struct roster *ret, char *err, size_t errlen)
{
        struct roster r0 = {0};
        json_t *root = NULL, *obj = NULL, *list;
        const char *s;
        char hex[2 * QRTOKEN_KEY_LEN + 2] = "";
        size_t bin_len = 0;
        int r;

        assert(ret);
        roster_settings_defaults(&r0.settings);
        r = jsonx_load_envelope(json, len, roster_keys, &root, err, errlen);
        if (r < 0)
                goto finish;
        if ((r = jsonx_get_str(root, "", "terminal", true, &s, err, errlen)) < 0 ||
            (r = jsonx_check_ref(s, "", "terminal", err, errlen)) < 0)
                goto finish;
        memcpy(r0.terminal, s, strlen(s) + 1);

        if ((r = get_object(root, "workplace", workplace_keys, &obj, err, errlen)) < 0 ||
            (r = jsonx_get_str(obj, "workplace.", "code", true, &s, err, errlen)) < 0 ||
            (r = jsonx_check_ref(s, "workplace.", "code", err, errlen)) < 0)
                goto finish;
        memcpy(r0.workplace, s, strlen(s) + 1);
        if ((r = jsonx_get_text(obj, "workplace.", true, false, "name", r0.workplace_name,
                                sizeof(r0.workplace_name), err, errlen)) < 0 ||
            (r = jsonx_get_text(obj, "workplace.", false, false, "name_en", r0.workplace_name_en,
                                sizeof(r0.workplace_name_en), err, errlen)) < 0)
                goto finish;

        r = decode_settings(root, &r0.settings, err, errlen);
        if (r < 0)
                goto finish;

        if ((r = get_object(root, "qr", qr_keys, &obj, err, errlen)) < 0 ||
            (r = jsonx_get_text(obj, "qr.", true, true, "base", r0.qr_base, sizeof(r0.qr_base), err,
                                errlen)) < 0 ||
            (r = jsonx_get_text(obj, "qr.", true, true, "key", hex, sizeof(hex), err, errlen)) < 0)
                goto finish;
        if (strncmp(r0.qr_base, "https://", 8) != 0 && strncmp(r0.qr_base, "http://", 7) != 0) {
                r = jsonx_fail(err, errlen, -EINVAL, "qr.base: must be an http(s) URL");
                goto finish;
        }
        for (const char *p = r0.qr_base; *p; p++)
                if (*p == ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\') {
                        r = jsonx_fail(err, errlen, -EINVAL, "qr.base: not a URL");
                        goto finish;
                }
        if (strlen(hex) != 2 * QRTOKEN_KEY_LEN ||
            sodium_hex2bin(r0.qr_key, sizeof(r0.qr_key), hex, strlen(hex), NULL, &bin_len, NULL) <
                0 ||
            bin_len != QRTOKEN_KEY_LEN) {
                r = jsonx_fail(err, errlen, -EINVAL, "qr.key: must be %d hex digits",
                               2 * QRTOKEN_KEY_LEN);
                goto finish;
        }

        list = json_object_get(root, "employees");
        if (!json_is_array(list)) {
                r = jsonx_fail(err, errlen, -EINVAL, "employees: %s",
                               list ? "expected an array" : "missing");
                goto finish;
        }
        r0.n_employees = json_array_size(list);
        if (r0.n_employees > ROSTER_EMPLOYEES_MAX) {
                r = jsonx_fail(err, errlen, -EMSGSIZE, "employees: more than %d",
                               ROSTER_EMPLOYEES_MAX);
                r0.n_employees = 0;
                goto finish;
        }
        if (r0.n_employees > 0) {
                r0.employees = calloc(r0.n_employees, sizeof(*r0.employees));
                if (!r0.employees) {
                        r0.n_employees = 0;
                        r = jsonx_fail(err, errlen, -ENOMEM, "out of memory");
                        goto finish;
                }
        }
        for (size_t i = 0; i < r0.n_employees; i++) {
                r = decode_employee(json_array_get(list, i), i, &r0.employees[i], err, errlen);
                if (r < 0)
                        goto finish;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(r0.employees[j].id, r0.employees[i].id) == 0) {
                                r = jsonx_fail(err, errlen, -EINVAL,
                                               "employees[%zu].id: listed twice", i);
                                goto finish;
                        }
        }
        *ret = r0;
        r0 = (struct roster){0};
        r = 0;
finish:
        sodium_memzero(hex, sizeof(hex));
        roster_finish(&r0);
        json_decref(root);
        return r;
}

static int encode_employee(json_t *list, const struct roster_employee *e)
{
        json_t *obj = json_object();
        int r;

        if (!obj)
                return -ENOMEM;
        if (json_array_append_new(list, obj) < 0)
                return -ENOMEM;
        if ((r = jsonx_set_string(obj, "id", e->id, sizeof(e->id))) < 0 ||
            (r = jsonx_set_string(obj, "full_name", e->full_name, sizeof(e->full_name))) < 0 ||
            (r = jsonx_set_string(obj, "position", e->position, sizeof(e->position))) < 0 ||
            (r = jsonx_set_string(obj, "unit", e->unit, sizeof(e->unit))) < 0 ||
            (r = jsonx_set_string(obj, "pin_hash", e->pin_hash, sizeof(e->pin_hash))) < 0)
                return r;
        return 0;
}

int roster_encode(const struct roster *ro, char **ret_json)
{
        const struct roster_settings *st = &ro->settings;
        json_t *root = NULL, *obj, *list;
        char hex[2 * QRTOKEN_KEY_LEN + 1], hhmm[8] = "";
        int r;

        assert(ro && ret_json);
        if (ro->n_employees > ROSTER_EMPLOYEES_MAX || (ro->n_employees > 0 && !ro->employees))
                return -EINVAL;
        r = jsonx_new_envelope(&root);
        if (r < 0)
                return r;
        if (st->logout_minute >= 0)
                snprintf(hhmm, sizeof(hhmm), "%02d:%02d", (st->logout_minute / 60) % 24,
                         st->logout_minute % 60);
        sodium_bin2hex(hex, sizeof(hex), ro->qr_key, sizeof(ro->qr_key));
        if ((r = jsonx_set_string(root, "terminal", ro->terminal, sizeof(ro->terminal))) < 0)
                goto finish;
        obj = json_object();
        if ((r = jsonx_set_new(root, "workplace", obj)) < 0 ||
            (r = jsonx_set_string(obj, "code", ro->workplace, sizeof(ro->workplace))) < 0 ||
            (r = jsonx_set_string(obj, "name", ro->workplace_name, sizeof(ro->workplace_name))) <
                0 ||
            (r = jsonx_set_string(obj, "name_en", ro->workplace_name_en,
                                  sizeof(ro->workplace_name_en))) < 0)
                goto finish;
        obj = json_object();
        if ((r = jsonx_set_new(root, "settings", obj)) < 0 ||
            (r = jsonx_set_new(obj, "min_interval_s", json_integer(st->min_interval_s))) < 0 ||
            (r = jsonx_set_new(obj, "idle_logout_s", json_integer(st->idle_logout_s))) < 0 ||
            (r = jsonx_set_string(obj, "logout_at", hhmm, sizeof(hhmm))) < 0 ||
            (r = jsonx_set_new(obj, "qr_ttl_s", json_integer(st->qr_ttl_s))) < 0 ||
            (r = jsonx_set_new(obj, "thanks_s", json_integer(st->thanks_s))) < 0 ||
            (r = jsonx_set_new(obj, "selection_s", json_integer(st->selection_s))) < 0 ||
            (r = jsonx_set_new(obj, "one_tap", json_boolean(st->one_tap))) < 0 ||
            (r = jsonx_set_new(obj, "lang", json_string(i18n_lang_to_string(st->lang)))) < 0)
                goto finish;
        obj = json_object();
        if ((r = jsonx_set_new(root, "qr", obj)) < 0 ||
            (r = jsonx_set_string(obj, "base", ro->qr_base, sizeof(ro->qr_base))) < 0 ||
            (r = jsonx_set_string(obj, "key", hex, sizeof(hex))) < 0)
                goto finish;
        list = json_array();
        if ((r = jsonx_set_new(root, "employees", list)) < 0)
                goto finish;
        for (size_t i = 0; i < ro->n_employees; i++) {
                r = encode_employee(list, &ro->employees[i]);
                if (r < 0)
                        goto finish;
        }
        r = jsonx_dump(root, ret_json);
finish:
        sodium_memzero(hex, sizeof(hex));
        json_decref(root);
        return r;
}

int enroll_request_encode(const char *code, char **ret_json)
{
        json_t *root = NULL;
        int r = jsonx_new_envelope(&root);

        if (r < 0)
                return r;
        r = jsonx_set_string(root, "code", code, strlen(code) + 1);
        if (r >= 0)
                r = jsonx_dump(root, ret_json);
        json_decref(root);
        return r;
}

int enroll_request_decode(const char *json, size_t len, char code[static ENROLL_CODE_MAX],
                          char *err, size_t errlen)
{
        json_t *root = NULL;
        int r = jsonx_load_envelope(json, len, enroll_request_keys, &root, err, errlen);

        if (r < 0)
                return r;
        r = jsonx_get_text(root, "", true, true, "code", code, ENROLL_CODE_MAX, err, errlen);
        json_decref(root);
        return r < 0 ? r : 0;
}

int enroll_answer_encode(const struct enroll_answer *a, char **ret_json)
{
        json_t *root = NULL;
        int r = jsonx_new_envelope(&root);

        if (r < 0)
                return r;
        if ((r = jsonx_set_string(root, "terminal", a->terminal, sizeof(a->terminal))) >= 0 &&
            (r = jsonx_set_string(root, "secret", a->secret, sizeof(a->secret))) >= 0)
                r = jsonx_dump(root, ret_json);
        json_decref(root);
        return r;
}

int enroll_answer_decode(const char *json, size_t len, struct enroll_answer *ret, char *err,
                         size_t errlen)
{
        struct enroll_answer a = {0};
        json_t *root = NULL;
        const char *s;
        int r = jsonx_load_envelope(json, len, enroll_answer_keys, &root, err, errlen);

        if (r < 0)
                return r;
        if ((r = jsonx_get_str(root, "", "terminal", true, &s, err, errlen)) < 0 ||
            (r = jsonx_check_ref(s, "", "terminal", err, errlen)) < 0)
                goto finish;
        memcpy(a.terminal, s, strlen(s) + 1);
        r = jsonx_get_text(root, "", true, true, "secret", a.secret, sizeof(a.secret), err, errlen);
        if (r < 0)
                goto finish;
        if (!a.secret[0]) {
                r = jsonx_fail(err, errlen, -EINVAL, "secret: empty");
                goto finish;
        }
        *ret = a;
        r = 0;
finish:
        sodium_memzero(&a, sizeof(a));
        json_decref(root);
        return r;
}
