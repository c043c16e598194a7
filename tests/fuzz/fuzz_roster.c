/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the terminal's pull document and the enrollment bodies (roster.c):
 * every input goes to roster_decode(), enroll_request_decode() and enroll_answer_decode().
 * Whatever they accept must encode, decode again and come out equal; every error message must
 * be printable, bounded ASCII. Inputs above 64 KiB are skipped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roster.h"
#include "fuzzcheck.h"

#define INPUT_MAX (64 * 1024)



static void check_message(const char *msg, size_t size)
{
        size_t n = strnlen(msg, size);

        CHECK(n > 0 && n < size);
        for (size_t i = 0; i < n; i++)
                CHECK(msg[i] >= 0x20 && msg[i] <= 0x7e);
}

static void check_same_roster(const struct roster *a, const struct roster *b)
{
        CHECK(strcmp(a->terminal, b->terminal) == 0);
        CHECK(strcmp(a->workplace, b->workplace) == 0);
        CHECK(strcmp(a->workplace_name, b->workplace_name) == 0);
        CHECK(strcmp(a->workplace_name_en, b->workplace_name_en) == 0);
        CHECK(strcmp(a->qr_base, b->qr_base) == 0);
        CHECK(memcmp(a->qr_key, b->qr_key, sizeof(a->qr_key)) == 0);
        CHECK(a->settings.min_interval_s == b->settings.min_interval_s);
        CHECK(a->settings.idle_logout_s == b->settings.idle_logout_s);
        CHECK(a->settings.logout_minute == b->settings.logout_minute);
        CHECK(a->settings.qr_ttl_s == b->settings.qr_ttl_s);
        CHECK(a->settings.thanks_s == b->settings.thanks_s);
        CHECK(a->settings.selection_s == b->settings.selection_s);
        CHECK(a->settings.one_tap == b->settings.one_tap);
        CHECK(a->settings.lang == b->settings.lang);
        CHECK(a->n_employees == b->n_employees);
        for (size_t i = 0; i < a->n_employees; i++) {
                const struct roster_employee *x = &a->employees[i], *y = &b->employees[i];

                CHECK(strcmp(x->id, y->id) == 0);
                CHECK(strcmp(x->full_name, y->full_name) == 0);
                CHECK(strcmp(x->position, y->position) == 0);
                CHECK(strcmp(x->unit, y->unit) == 0);
                CHECK(strcmp(x->pin_hash, y->pin_hash) == 0);
        }
}

static void fuzz_roster(const char *json, size_t len)
{
        struct roster a = {0}, b = {0};
        char err[256], *text = NULL;

        if (roster_decode(json, len, &a, err, sizeof(err)) < 0) {
                check_message(err, sizeof(err));
                return;
        }
        /* what the terminal relies on without checking again */
        CHECK(a.n_employees <= ROSTER_EMPLOYEES_MAX);
        CHECK(vote_ref_valid(a.terminal) && vote_ref_valid(a.workplace));
        CHECK(a.settings.logout_minute >= -1 && a.settings.logout_minute < 24 * 60);
        CHECK(a.settings.qr_ttl_s >= 30 && a.settings.thanks_s >= 1);
        for (size_t i = 0; i < a.n_employees; i++) {
                const struct roster_employee *e = &a.employees[i];

                CHECK(vote_ref_valid(e->id) && e->full_name[0]);
                CHECK(!e->pin_hash[0] || strncmp(e->pin_hash, "$argon2id$", 10) == 0);
                CHECK(roster_find(&a, e->id) == e); /* ids are unique */
        }

        CHECK(roster_encode(&a, &text) == 0);
        if (roster_decode(text, strlen(text), &b, err, sizeof(err)) < 0) {
                fprintf(stderr, "re-encoded roster refused: %s\n%s\n", err, text);
                abort();
        }
        check_same_roster(&a, &b);
        free(text);
        roster_finish(&b);
        roster_finish(&a);
}

static void fuzz_enroll(const char *json, size_t len)
{
        char code[ENROLL_CODE_MAX], code2[ENROLL_CODE_MAX], err[256], *text = NULL;
        struct enroll_answer a, b;

        if (enroll_request_decode(json, len, code, err, sizeof(err)) < 0) {
                check_message(err, sizeof(err));
        } else {
                CHECK(strnlen(code, sizeof(code)) < sizeof(code));
                CHECK(enroll_request_encode(code, &text) == 0);
                CHECK(enroll_request_decode(text, strlen(text), code2, err, sizeof(err)) == 0);
                CHECK(strcmp(code, code2) == 0);
                free(text);
                text = NULL;
        }

        if (enroll_answer_decode(json, len, &a, err, sizeof(err)) < 0) {
                check_message(err, sizeof(err));
        } else {
                CHECK(vote_ref_valid(a.terminal) && a.secret[0]);
                CHECK(enroll_answer_encode(&a, &text) == 0);
                CHECK(enroll_answer_decode(text, strlen(text), &b, err, sizeof(err)) == 0);
                CHECK(strcmp(a.terminal, b.terminal) == 0);
                CHECK(strcmp(a.secret, b.secret) == 0);
                free(text);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *copy;

        if (size > INPUT_MAX)
                return 0;
        /* an exact-size copy, so that ASan sees any read past the end */
        copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        fuzz_roster(copy, size);
        fuzz_enroll(copy, size);
        free(copy);
        return 0;
}
