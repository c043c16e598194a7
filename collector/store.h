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
#include "vote.h"

struct store;

/* What a vote page shows about the employee behind a QR token. */
struct store_employee {
        int64_t id;
        char personal_no[VOTE_REF_MAX + 1];
        char full_name[256];
        char position[256];
        char unit[512];
        char workplace[VOTE_REF_MAX + 1]; /* the workplace code the token is for; may be empty */
        char channel[VOTE_CHANNEL_MAX + 1];
        bool revoked;
};

/* One row of a report: a unit with its whole subtree summed (regulation 2.7). */
struct store_unit_row {
        int64_t unit_id;
        int64_t parent_id; /* 0 for the root */
        int depth;         /* 0 for the root */
        char name[512];
        int64_t count[4]; /* count[1..3] per level; count[0] is the total */
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
        /* Stores one vote from a vote page. */
        int (*store_web_vote)(struct store *s, const struct store_employee *e, int level,
                              const vote_id *id, int64_t cast_ms);
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
        /* Small key/value settings kept with the data; -ENOENT when unset. */
        int (*meta_get)(struct store *s, const char *key, char *buf, size_t n);
        int (*meta_set)(struct store *s, const char *key, const char *value);
};

struct store {
        const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;

/* Opens a store from a location "sqlite:PATH" or a plain path (SQLite). */
int store_open(const char *location, struct store **ret);
void store_close(struct store *s);
