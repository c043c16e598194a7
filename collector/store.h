/* SPDX-License-Identifier: MIT */
/* The collector's storage interface. Everything the collector keeps goes through these
 * calls; SQL lives only behind them. Like Redis's ae.c, one interface has back ends chosen at
 * build or start time: SQLite (store_sqlite.c) now, PostgreSQL later. A store handle is
 * safe to use from several threads (the back end serialises or pools as it needs). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "qrtoken.h"
#include "roster.h"
#include "vote.h"

struct store;

/* What a vote page shows about the employee behind a QR token. */
struct store_employee {
        int64_t id;
        char personal_no[VOTE_REF_MAX + 1];
        char full_name[256];
        char position[256];
        char unit[512];
        char unit_en[512];                /* the unit's English name; may be empty */
        char workplace[VOTE_REF_MAX + 1]; /* the workplace code the token is for; may be empty */
        char channel[VOTE_CHANNEL_MAX + 1];
        bool revoked;
};

/* A vote from a vote page, with what the integrity rules found (regulation 3.2). */
#define STORE_FLAG_MAX 32
struct store_web_vote {
        int level;
        vote_id id;
        int64_t cast_ms;
        uint8_t client_hash[32];   /* keyed hash of the client's address */
        uint8_t phone_hash[32];    /* keyed hash of the phone's cookie */
        char flag[STORE_FLAG_MAX]; /* why it is suspicious; "" when it is not */
};

struct store_web_recent {
        bool phone_voted;       /* for this employee, since phone_since_ms */
        int64_t client_votes;   /* from this address, since since_ms; at most client_cap */
        int64_t employee_votes; /* from vote pages for this employee, since since_ms; at most
                                 * employee_cap */
};

/* What web_vote_submit() is asked: the form token, the windows and the caps of what is
 * counted (a limit needs to know only whether it is reached: counting stops there), and the
 * caller's decision on what was found. */
struct store_web_submit {
        uint8_t form_hash[32];
        int64_t form_expires_s, now_s;
        int64_t phone_since_ms, since_ms;
        int64_t client_cap, employee_cap;
        int (*decide)(void *userdata, const struct store_web_recent *recent,
                      struct store_web_vote *v);
        void *userdata;
};

/* A flagged vote as the review page shows it. */
struct store_flagged {
        char uuid[VOTE_ID_LEN + 1];
        int level;
        int64_t cast_at_ms;
        char channel[VOTE_CHANNEL_MAX + 1];
        char employee[256]; /* full name */
        char unit[256];
        char flag[STORE_FLAG_MAX];
        char review[16]; /* "", "count" or "exclude" */
        char review_by[64];
        char review_reason[256];
};

/* The organisation as CSV import and export see it (collector/org.c). Each row keeps the line
 * it came from, for messages; references are by code. */
struct store_org_unit {
        int line;
        int64_t id;                                            /* filled by export only */
        char code[VOTE_REF_MAX + 1], parent[VOTE_REF_MAX + 1]; /* parent "" for a root */
        char kind[32];
        char name[256], name_en[256];
};
struct store_org_direction {
        int line;
        char code[VOTE_REF_MAX + 1];
        char name[256], name_en[256];
};
struct store_org_employee {
        int line;
        char personal_no[VOTE_REF_MAX + 1];
        char full_name[256], position[256];
        char unit[VOTE_REF_MAX + 1];
        bool is_head;
};
struct store_org_workplace {
        int line;
        char code[VOTE_REF_MAX + 1];
        char name[256];
        char unit[VOTE_REF_MAX + 1], direction[VOTE_REF_MAX + 1]; /* direction may be "" */
};
struct store_org {
        size_t n_units, n_directions, n_employees, n_workplaces;
        struct store_org_unit *units; /* parents before children */
        struct store_org_direction *directions;
        struct store_org_employee *employees;
        struct store_org_workplace *workplaces;
};
void store_org_finish(struct store_org *org);

/* What an import did, or would do in a dry run. */
struct store_org_report {
        size_t added[4], changed[4]; /* units, directions, employees, workplaces */
        char error[512];             /* "employees.csv:12: unit: no unit \"U99\"" */
};

/* One record of the organisation, as its edit page reads and writes it (the line fields are
 * unused). A record is known by its code; an employee's code is the personal number. */
enum store_org_kind {
        STORE_ORG_UNIT,
        STORE_ORG_DIRECTION,
        STORE_ORG_EMPLOYEE,
        STORE_ORG_WORKPLACE,
};
struct store_org_record {
        enum store_org_kind kind; /* says which member of the union holds the record */
        union {
                struct store_org_unit unit;
                struct store_org_direction direction;
                struct store_org_employee employee;
                struct store_org_workplace workplace;
        };
};

/* An employee's live QR code for a channel, as the QR page and the sheets show it. */
struct store_qr {
        char personal_no[VOTE_REF_MAX + 1];
        char full_name[256], position[256], unit[256];
        char channel[VOTE_CHANNEL_MAX + 1];
        char token[65]; /* "" when the employee has no live code for the channel */
};

/* A user of the pages. */
struct store_user {
        int64_t id;
        char login[64];
        char password_hash[128]; /* argon2id string */
        char role[16];           /* admin, official, manager, auditor */
        int64_t unit_id;         /* the subtree an official or manager sees; 0 = all */
};

/* One entry of the audit log. */
struct store_audit {
        int64_t at; /* Unix s */
        char login[64];
        char action[32];
        char detail[256];
        char client[64];
};

/* A terminal as its fleet page shows it. */
struct store_terminal {
        char id[VOTE_REF_MAX + 1];
        char workplace[VOTE_REF_MAX + 1];
        char workplace_name[256];
        bool revoked;
        int64_t last_seen; /* Unix s; 0 never */
        char version[32];
        int64_t queue, rejected;
        int64_t clock_offset_ms;
        char last_error[160];
};

/* One row of a report: a unit with its whole subtree summed (regulation 2.7). */
struct store_unit_row {
        int64_t unit_id;
        int64_t parent_id; /* 0 for the root */
        int depth;         /* 0 for the root */
        char name[512];
        int64_t count[4]; /* count[1..3] per level; count[0] is the total */
};

/* Reports (collector/report.h): the counts of a selection of votes. Counted votes go by level;
 * the votes that no figure may count are kept apart, by why. */
struct store_counts {
        int64_t level[4];   /* [1..3] counted votes per level; [0] their total */
        int64_t suppressed; /* stored, never counted (a terminal's integrity rule) */
        int64_t flagged;    /* flagged, awaiting an official's review */
        int64_t excluded;   /* flagged and excluded by an official */
};

/* What a cut is grouped by. */
enum store_cut_by {
        STORE_BY_TOTAL,     /* one row */
        STORE_BY_UNIT,      /* key: unit id; each unit's OWN votes (report.c sums subtrees) */
        STORE_BY_EMPLOYEE,  /* key: employee id */
        STORE_BY_DIRECTION, /* key: direction id, 0 for none */
        STORE_BY_WORKPLACE, /* key: workplace id, 0 for none (a QR code without one) */
        STORE_BY_CHANNEL,   /* text: the channel */
        STORE_BY_TERMINAL,  /* text: the terminal id, "" for none */
        STORE_BY_DAY,       /* key: YYYYMMDD */
        STORE_BY_MONTH,     /* key: YYYYMM */
        STORE_BY_WEEKHOUR,  /* key: ISO weekday * 100 + local hour */
        /* key: employee id, key2: the unit the votes were cast in (votes.unit_id), so that an
         * employee who moved has a row per unit */
        STORE_BY_EMPLOYEE_UNIT,
};

/* A selection of votes: local days [from_day, to_day) as YYYYMMDD (to_day is the day after the
 * last), a unit's whole subtree (regulation 2.7), and optional filters. */
struct store_cut {
        int32_t from_day, to_day;
        int64_t unit_id;                    /* 0 = the whole city */
        int64_t employee_id;                /* 0 = any; the votes the employee got in any unit */
        int64_t direction_id;               /* 0 = any */
        int64_t workplace_id;               /* 0 = any */
        char channel[VOTE_CHANNEL_MAX + 1]; /* "" = any */
        char terminal[VOTE_REF_MAX + 1];    /* "" = any */
        enum store_cut_by by;
};

struct store_cut_row {
        int64_t key;                 /* see enum store_cut_by */
        int64_t key2;                /* STORE_BY_EMPLOYEE_UNIT: the unit; otherwise 0 */
        char text[VOTE_REF_MAX + 1]; /* channel or terminal */
        struct store_counts n;
};

/* The organisation with ids, for naming the rows of reports. */
struct store_named {
        int64_t id;
        int64_t parent; /* units: the parent (0 for a root); employees, workplaces: unit */
        char code[VOTE_REF_MAX + 1];  /* units, directions, workplaces; employees: personal no */
        char name[256], name_en[256]; /* employees: the full name in both */
        char position[256];           /* employees only */
        bool is_head;                 /* employees only */
};
struct store_report_org {
        size_t n_units, n_employees, n_directions, n_workplaces;
        struct store_named *units;                               /* parents before children */
        struct store_named *employees, *directions, *workplaces; /* each by id */
};
void store_report_org_finish(struct store_report_org *org);

/* Alerts (collector/alert.c). A counted vote in a window, and a burst of «Задовільно» found
 * in a unit's subtree. */
struct store_alert_vote {
        int64_t unit_id;
        int64_t cast_at_ms;
        int level;
};
struct store_alert {
        int64_t id;
        int64_t unit_id;
        int64_t from_ms, to_ms; /* the first and the last vote of the burst */
        int64_t n, n1;          /* votes in it, of them «Задовільно» */
        int64_t raised_at_ms;
        int64_t mailed_at_ms; /* 0: not (yet) mailed */
        char mail_error[160];
};

/* An API token of another city system (a BI tool, the city portal, a scheduled job): it reads
 * reports as an auditor (the whole city) or a manager (unit_id's subtree), never more. The
 * store keeps only a hash of the token's text (collector/apitoken.h). */
struct store_api_token {
        int64_t id;
        char name[128];                   /* what it is for, as the administrator named it */
        char role[16];                    /* "auditor" or "manager" */
        int64_t unit_id;                  /* a manager's subtree; 0 for an auditor */
        char unit_code[VOTE_REF_MAX + 1]; /* the same unit by code; "" for an auditor */
        char created_by[64];              /* the administrator's login; "" for the command line */
        int64_t created_at;               /* Unix s */
        int64_t expires_at;               /* Unix s, the first second it no longer works; 0 never */
        int64_t last_used_at;             /* Unix s, to the minute; 0 never */
        int64_t revoked_at;               /* Unix s; 0 while not revoked */
};

struct store_ops {
        const char *name;
        int (*open)(const char *location, struct store **ret);
        void (*close)(struct store *s);
        /* Schema version after migrating. */
        int (*migrate)(struct store *s, int *ret_version);
        /* Authenticates a terminal by id and secret; returns 0, or -EACCES for an unknown,
         * revoked or mismatched terminal. */
        int (*terminal_auth)(struct store *s, const char *terminal_id, const char *secret);
        /* Stores the batch's valid votes exactly once each (a uniqueness constraint on the
         * id) and fills ack->results[i] for every vote, in one transaction. received_ms is the
         * collector's clock. ack->results must have room for b->n_votes entries. */
        int (*store_batch)(struct store *s, const char *terminal_id, const struct proto_batch *b,
                           int64_t received_ms, struct proto_ack *ack);
        /* Looks up a QR token for the vote page: -ENOENT when unknown. */
        int (*token_lookup)(struct store *s, const char *token, struct store_employee *ret);
        /* Stores one vote from a vote page; flagged ones (v->flag set) are kept, not counted
         * until an official counts them. */
        int (*store_web_vote)(struct store *s, const struct store_employee *e,
                              const struct store_web_vote *v);
        /* A vote from a vote page's form (regulation 3.2), in one transaction: the form's
         * one-use token (by hash; the token itself is checked by its mac) is looked up —
         * -EALREADY when it was used, and nothing else is done; then what q->decide needs is
         * counted and it decides (fills v->flag, or refuses with a negative errno: then
         * nothing is stored); then the vote and the token's use (kept until it expires) are
         * stored. Returns once that is on disk; on any error nothing is kept, so the same
         * form sent again votes rather than being thanked for nothing. */
        int (*web_vote_submit)(struct store *s, const struct store_employee *e,
                               struct store_web_vote *v, const struct store_web_submit *q);
        /* Unit rows with subtree sums for votes cast in [from, to) (Unix seconds), in tree
         * order. *ret_rows is malloc'd; the caller frees it. */
        int (*report_units)(struct store *s, int64_t from, int64_t to,
                            struct store_unit_row **ret_rows, size_t *ret_n);
        /* Total number of stored votes. */
        int (*vote_count)(struct store *s, int64_t *ret);
        /* The organisation. Each add returns 0 and the new row's id, or -EEXIST for a
         * duplicate code, -ENOENT for a missing parent. Strings are copied. */
        int (*unit_add)(struct store *s, int64_t parent_id, const char *kind, const char *name,
                        const char *name_en, int64_t *ret_id);
        int (*direction_add)(struct store *s, const char *code, const char *name,
                             const char *name_en, int64_t *ret_id);
        int (*employee_add)(struct store *s, const char *personal_no, const char *full_name,
                            const char *position, int64_t unit_id, bool is_head, int64_t *ret_id);
        int (*workplace_add)(struct store *s, const char *code, const char *name, int64_t unit_id,
                             int64_t direction_id, int64_t *ret_id);
        /* A terminal at a workplace; only a hash of the secret is kept. */
        int (*terminal_add)(struct store *s, const char *terminal_id, const char *workplace_code,
                            const char *secret);
        /* A QR token that opens an employee's vote page for a channel. */
        int (*token_add)(struct store *s, const char *token, int64_t employee_id,
                         const char *workplace_code, const char *channel);
        /* Revokes a QR token: its vote page answers 410 and takes no vote from then on.
         * Revoking twice is not an error; -ENOENT for an unknown token. */
        int (*token_revoke)(struct store *s, const char *token);
        /* A user; password_hash is an argon2id string from crypto_pwhash_str(). */
        int (*user_add)(struct store *s, const char *login, const char *password_hash,
                        const char *role, int64_t unit_id);
        /* What a terminal pulls (docs/protocol.md, "Pull"): its workplace, the employees of
         * the workplace's unit and every unit below it, the settings (meta keys
         * "terminal.<setting>", else the defaults) and its QR key. qr_base is left empty for
         * the caller. -EACCES for an unknown or revoked terminal. */
        int (*roster_get)(struct store *s, const char *terminal_id, struct roster *ret);
        /* For an on-screen QR code of terminal_id: its QR key, and the employee as the vote
         * page shows them (the terminal's workplace, channel qr_screen; revoked when the
         * terminal is). -ENOENT for an unknown terminal or employee. */
        int (*screen_lookup)(struct store *s, const char *terminal_id, const char *personal_no,
                             uint8_t key[QRTOKEN_KEY_LEN], struct store_employee *ret);
        /* Sets an employee's PIN hash (argon2id string; "" clears it). -ENOENT when unknown. */
        int (*employee_set_pin)(struct store *s, const char *personal_no, const char *pin_hash);
        /* Makes a one-time enrollment code for a workplace, valid for ttl_s seconds, into
         * code (n >= ENROLL_CODE_MAX); only its hash is kept. -ENOENT for an unknown
         * workplace. */
        int (*enroll_code_add)(struct store *s, const char *workplace_code, int64_t ttl_s,
                               char *code, size_t n);
        /* Uses a code: makes a terminal at its workplace with a new secret (kept hashed) and
         * returns both. -EACCES for an unknown, used or expired code. */
        int (*enroll)(struct store *s, const char *code, int64_t now_s, struct enroll_answer *ret);
        /* Revokes a terminal: from then on it gets 401. -ENOENT when unknown. */
        int (*terminal_revoke)(struct store *s, const char *terminal_id);
        /* A user by login, for signing in: -ENOENT when unknown. */
        int (*user_lookup)(struct store *s, const char *login, struct store_user *ret);
        /* Sessions, kept by a hash of their token only. session_get answers the user of a
         * live session (and slides its idle expiry to now + idle_s); -ENOENT otherwise. */
        int (*session_add)(struct store *s, const uint8_t hash[32], int64_t user_id,
                           const char *csrf, int64_t now, int64_t expires_at);
        int (*session_get)(struct store *s, const uint8_t hash[32], int64_t now, int64_t idle_s,
                           struct store_user *ret_user, char *csrf, size_t csrf_size);
        int (*session_delete)(struct store *s, const uint8_t hash[32]);
        /* The audit log: who (a login, or "" for the system), what, when, from where. */
        int (*audit_add)(struct store *s, const char *login, const char *action, const char *detail,
                         const char *client, int64_t at);
        /* Every user (password hashes left empty), by login. *ret is malloc'd. */
        int (*users_list)(struct store *s, struct store_user **ret, size_t *ret_n);
        /* The newest audit entries, at most limit. *ret is malloc'd. */
        int (*audit_list)(struct store *s, size_t limit, struct store_audit **ret, size_t *ret_n);
        /* Every terminal with its workplace and last status, by id. *ret is malloc'd. */
        int (*terminals_list)(struct store *s, struct store_terminal **ret, size_t *ret_n);
        /* Flagged votes awaiting review (and the last reviewed ones after them), newest first,
         * in unit_id's subtree (0 = everywhere). *ret is malloc'd. */
        int (*flagged_list)(struct store *s, int64_t unit_id, size_t limit,
                            struct store_flagged **ret, size_t *ret_n);
        /* An official's decision on a flagged vote: count it or exclude it, with a reason.
         * -ENOENT for an unknown vote, or one outside unit_id's subtree (0 = everywhere). */
        int (*vote_review)(struct store *s, const char *uuid, bool count, const char *reason,
                           const char *by, int64_t unit_id, int64_t now);
        /* An online backup of the whole store into path (replaced atomically when done), while
         * the collector keeps serving. */
        int (*backup)(struct store *s, const char *path);
        /* Adds and updates (by code) everything in org in one transaction, rolled back on the
         * first error (named in report->error, returning -EINVAL) or when dry_run. Nothing
         * absent from org is removed; an employee moved to another unit keeps the votes cast
         * before in the old one. */
        int (*org_import)(struct store *s, const struct store_org *org, bool dry_run,
                          struct store_org_report *report);
        /* The whole organisation, units parents first. The caller finishes *ret. */
        int (*org_export)(struct store *s, struct store_org *ret);
        /* One record for its edit page: ret->kind and code in (an employee's personal
         * number), the record out. -ENOENT when there is none, or when it lies outside scope
         * (the subtree of unit scope; 0 = everything): nobody learns what exists outside the
         * subtree they may edit. A unit is inside when it is, a direction only for scope 0. */
        int (*org_record_get)(struct store *s, int64_t scope, const char *code,
                              struct store_org_record *ret);
        /* Adds (orig "") or changes (orig: its code before, which may change too) one record
         * in one transaction, references by code; on any error nothing is written. 0 with
         * the record as it was into *ret_old (zeroed when new), else, with the field at fault
         * in *ret_field (a column name of docs/organisation-csv.md, or NULL):
         *   -ENOENT  orig is unknown or outside scope (field NULL), or a reference names
         *            nothing ("parent", "unit", "direction");
         *   -EACCES  the record would leave scope ("parent", "unit"; NULL for a direction);
         *   -EEXIST  another record has the code ("code", "personal_no");
         *   -ELOOP   a unit would become its own ancestor ("parent");
         *   -EINVAL  a unit kind the regulation does not know ("kind").
         * Votes keep the unit, workplace and direction they were cast in: moving an employee
         * or a workplace changes where new votes count, never old ones. */
        int (*org_record_save)(struct store *s, int64_t scope, const char *orig,
                               const struct store_org_record *rec, struct store_org_record *ret_old,
                               const char **ret_field);
        /* The employees of a unit's subtree (unit_code; "" = the scope's root) or one employee
         * (personal_no), each with their live code for channel, by name. scope is the unit
         * whose subtree the user may see (0 = all); anything outside it is left out. */
        int (*qr_list)(struct store *s, int64_t scope, const char *unit_code,
                       const char *personal_no, const char *channel, struct store_qr **ret,
                       size_t *ret_n);
        /* Issues a new code for the employee and channel, revoking the live one, whose
         * workplace the new one keeps. The token into token (n >= 23). -ENOENT when the
         * employee is unknown or outside scope. */
        int (*qr_issue)(struct store *s, int64_t scope, const char *personal_no,
                        const char *channel, char *token, size_t n);
        /* Revokes a code of an employee inside scope: -ENOENT otherwise. */
        int (*qr_revoke)(struct store *s, int64_t scope, const char *token);
        /* Small key/value settings kept with the data; -ENOENT when unset. */
        int (*meta_get)(struct store *s, const char *key, char *buf, size_t n);
        int (*meta_set)(struct store *s, const char *key, const char *value);
        /* Reports from the pre-aggregated counts: the rows of a cut, by key (text for channels
         * and terminals); every row has some vote. *ret is malloc'd; -EINVAL for a bad cut.
         * It never writes: votes not folded yet are counted from the votes themselves, so the
         * answer counts every vote stored and never waits for a fold or a commit. */
        int (*report_cut)(struct store *s, const struct store_cut *q, struct store_cut_row **ret,
                          size_t *ret_n);
        /* The organisation with ids; the caller finishes *ret. */
        int (*report_org)(struct store *s, struct store_report_org *ret);
        /* Folds votes stored since the last fold into the pre-aggregated counts, a bounded
         * number per call so that other requests wait briefly: 1 when more are left (call
         * again), 0 when every vote is in, or a negative errno. The collector calls it from a
         * background thread, the counts' only writer; report_cut counts what is left on the
         * fly, so it is never needed for a correct answer, only to keep that work small. */
        int (*report_fold)(struct store *s);
        /* Alerts: the counted votes cast in [from_ms, to_ms), by time; keeping alerts found,
         * listing them (in unit_id's subtree, 0 = all; raised since since_ms; newest first) and
         * noting a mail sent (error "" when it went). *ret is malloc'd. */
        int (*alert_window)(struct store *s, int64_t from_ms, int64_t to_ms,
                            struct store_alert_vote **ret, size_t *ret_n);
        int (*alert_add)(struct store *s, const struct store_alert *a, int64_t *ret_id);
        int (*alert_list)(struct store *s, int64_t unit_id, int64_t since_ms, size_t limit,
                          struct store_alert **ret, size_t *ret_n);
        int (*alert_mailed)(struct store *s, int64_t id, int64_t at_ms, const char *error);
        /* API tokens (collector/apitoken.h), kept by the hash of their text only. add stores
         * t's name, role, unit_code ("" for none), created_by, created_at and expires_at and
         * answers the new id: -ENOENT for an unknown unit code, -EINVAL for a role and unit
         * that do not go together (a manager needs a unit, an auditor takes none). */
        int (*api_token_add)(struct store *s, const struct store_api_token *t,
                             const uint8_t hash[32], int64_t *ret_id);
        /* The token with that hash, revoked and expired ones too (the caller decides);
         * -ENOENT when there is none. */
        int (*api_token_get)(struct store *s, const uint8_t hash[32], struct store_api_token *ret);
        /* Notes a use at now, unless one was noted within gap_s before: the caller asks only
         * when the token it got is that old, so that a busy token is not a write per request. */
        int (*api_token_used)(struct store *s, int64_t id, int64_t now, int64_t gap_s);
        /* Every token, newest first. *ret is malloc'd. */
        int (*api_token_list)(struct store *s, struct store_api_token **ret, size_t *ret_n);
        /* Revokes a token from now on, its name into name (n bytes) for the audit log: -ENOENT
         * when unknown, -EALREADY when it was revoked before. */
        int (*api_token_revoke)(struct store *s, int64_t id, int64_t now, char *name, size_t n);
};

struct store {
        const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;

/* Opens a store from a location "sqlite:PATH" or a plain path (SQLite). */
int store_open(const char *location, struct store **ret);
void store_close(struct store *s);
