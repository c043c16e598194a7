/* SPDX-License-Identifier: MIT */
/* What a terminal pulls from the collector (docs/protocol.md, "Pull"): its workplace, the
 * employees allowed to open a shift there with their PIN hashes, its settings, and the key
 * its expiring on-screen QR codes are signed with. The collector encodes it, the terminal
 * decodes it strictly and keeps its last copy to work offline. Also the enrollment exchange
 * that gives a new terminal its credential. JSON through jansson, like proto.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qrtoken.h"
#include "vote.h"

#define ROSTER_EMPLOYEES_MAX 1000
#define ROSTER_NAME_MAX 192     /* bytes of a name, position or unit, NUL included */
#define ROSTER_PIN_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define ROSTER_URL_MAX 256

struct roster_employee {
        char id[VOTE_REF_MAX + 1]; /* personal number */
        char full_name[ROSTER_NAME_MAX];
        char position[ROSTER_NAME_MAX];
        char unit[ROSTER_NAME_MAX];
        char pin_hash[ROSTER_PIN_HASH_MAX]; /* argon2id string; "" = cannot log in here */
};

struct roster_settings {
        int64_t min_interval_s; /* between counted votes (regulation 3.2); default 5 */
        int64_t idle_logout_s;  /* close the shift after this long without a vote; 0 = never */
        int logout_minute;      /* close the shift at this minute of the day (local), -1 never */
        int64_t qr_ttl_s;       /* lifetime of an on-screen QR code; default 300 */
        int64_t thanks_s;       /* how long the thank-you shows; default 4 */
        int64_t selection_s;    /* an unsent selection clears after; default 10 */
        bool one_tap;           /* a tap sends at once */
        enum vote_lang lang;    /* the screen's language */
};

struct roster {
        char terminal[VOTE_REF_MAX + 1];
        char workplace[VOTE_REF_MAX + 1];
        char workplace_name[ROSTER_NAME_MAX];
        char workplace_name_en[ROSTER_NAME_MAX];
        char qr_base[ROSTER_URL_MAX];    /* "https://host[:port]" the QR codes open */
        uint8_t qr_key[QRTOKEN_KEY_LEN]; /* this terminal's QR signing key */
        struct roster_settings settings;
        size_t n_employees;
        struct roster_employee *employees; /* owned; freed by roster_finish() */
};

/* Fills the defaults named above; no employees. */
void roster_settings_defaults(struct roster_settings *s);
void roster_finish(struct roster *r);
const struct roster_employee *roster_find(const struct roster *r, const char *id);
/* Checks a PIN against the employee's argon2id hash: 0, -EACCES for a wrong PIN or no hash. */
int roster_check_pin(const struct roster_employee *e, const char *pin);

/* JSON both ways; decoding is strict like proto.c's (unknown keys, wrong types and out of
 * range values are errors naming the field) and fills *ret only on success. */
int roster_encode(const struct roster *r, char **ret_json);
int roster_decode(const char *json, size_t len, struct roster *ret, char *err, size_t errlen);

/* Enrollment: POST /api/v1/enroll {"protocol":1,"code":"..."} answered
 * {"protocol":1,"terminal":"T002","secret":"..."}. */
#define ENROLL_CODE_MAX 64
#define ENROLL_SECRET_MAX 128
struct enroll_answer {
        char terminal[VOTE_REF_MAX + 1];
        char secret[ENROLL_SECRET_MAX];
};
int enroll_request_encode(const char *code, char **ret_json);
int enroll_request_decode(const char *json, size_t len, char code[static ENROLL_CODE_MAX],
                          char *err, size_t errlen);
int enroll_answer_encode(const struct enroll_answer *a, char **ret_json);
int enroll_answer_decode(const char *json, size_t len, struct enroll_answer *ret, char *err,
                         size_t errlen);
