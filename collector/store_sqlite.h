/* SPDX-License-Identifier: MIT */
/* Internal to the SQLite back end: its handle and the helpers its files share
 * (store_sqlite.c: schema, votes, organisation; store_sqlite_*.c: further ops). */
#pragma once

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

struct sqlite_store;

/* The statements a terminal's batch needs, prepared on the first batch and kept. */
struct batch_stmts {
        sqlite3_stmt *term, *emp, *ins, *boot_set, *boot_get, *event, *seen, *status;
};

/* A write that may share its transaction, and so its fsync, with others (sq_group_write()). */
struct sq_job {
        /* Runs on s->db inside the shared transaction: 0 or more, or a negative errno. Each job
         * runs in a savepoint of its own: a failed one leaves no change, the others' stay. */
        int (*run)(struct sqlite_store *s, void *arg);
        void *arg;
        int result;
        bool done;
        struct sq_job *next;
};

struct sqlite_store {
        struct store base; /* must be first */
        sqlite3 *db;
        pthread_mutex_t lock; /* one statement at a time on db */
        /* A second connection, read-only, for the vote page's lookups: they need not wait for
         * a commit's fsync on db. NULL for an in-memory database (then db is used). */
        sqlite3 *rdb;
        pthread_mutex_t rlock; /* one statement at a time on rdb */
        /* A third, read-only too, for reports: a long report does not hold up a vote page's
         * lookups either. NULL with rdb. */
        sqlite3 *repdb;
        pthread_mutex_t replock;
        /* The statements of the busy paths, prepared on first use and kept (finalized on
         * close): token, screen and auth on rdb; the others on db. */
        sqlite3_stmt *token_st, *screen_st, *auth_st, *recent_st, *web_vote_st, *form_seen_st, *form_token_st;
        struct batch_stmts batch;
        bool batch_ready;
        /* Group commit: the queued jobs, whether a thread is running a transaction for them,
         * and the signal that it finished one. Under group_lock. */
        pthread_mutex_t group_lock;
        pthread_cond_t group_cond;
        struct sq_job *group_head, *group_tail;
        bool group_busy;
};

/* Runs job in a transaction shared with the jobs queued meanwhile, and returns its result
 * once that transaction is committed (durable, as synchronous=FULL makes every commit): one
 * fsync serves every request that waits at the same time. Takes s->lock itself. */
int sq_group_write(struct sqlite_store *s, struct sq_job *job);

/* Translates an SQLite failure to a negative errno and logs SQLite's own message once. */
int sq_map_error(sqlite3 *db, int rc, const char *what);
/* Runs SQL without results. */
int sq_exec(sqlite3 *db, const char *sql);
int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret);
/* Copies a text column into dst (n > 0 bytes), cut before a UTF-8 character it would split. */
void sq_copy_text(sqlite3_stmt *st, int col, char *dst, size_t n);
/* Runs one statement under the lock with parameters described by types: 't' text, 'i' int64,
 * 'n' int64 where 0 binds NULL, 'b' a 32-byte blob. The new rowid into *ret_id if given.
 * -ENOENT when nothing changed; -EEXIST / -ENOENT for constraint clashes. */
int sq_run(struct sqlite_store *s, int64_t *ret_id, const char *sql, const char *types, ...);
/* Runs a query (with ?1 bound to param when it is not NULL) and collects its rows: each is
 * handed to fill() with a zeroed item of size bytes; the items go into a malloc'd array in
 * *ret, their count in *ret_n. Call with the lock held. */
int sq_collect(sqlite3 *db, const char *sql, const char *param, size_t size,
               void (*fill)(sqlite3_stmt *, void *), void **ret, size_t *ret_n);
/* The same over a statement already prepared and bound (the caller finalizes it). */
int sq_collect_stmt(sqlite3_stmt *st, size_t size, void (*fill)(sqlite3_stmt *, void *), void **ret,
                    size_t *ret_n);

/* store_sqlite_org.c: the organisation as CSV sees it (see struct store_ops). */
int sq_org_import(struct store *base, const struct store_org *org, bool dry_run,
                  struct store_org_report *rep);
int sq_org_export(struct store *base, struct store_org *ret);
int sq_org_record_get(struct store *base, int64_t scope, const char *code,
                      struct store_org_record *ret);
int sq_org_record_save(struct store *base, int64_t scope, const char *orig,
                       const struct store_org_record *rec, struct store_org_record *ret_old,
                       const char **ret_field);

/* store_sqlite_qr.c: printed QR codes (see struct store_ops). */
int sq_qr_list(struct store *base, int64_t scope, const char *unit_code, const char *personal_no,
               const char *channel, struct store_qr **ret, size_t *ret_n);
int sq_qr_issue(struct store *base, int64_t scope, const char *personal_no, const char *channel,
                char *token, size_t n);
int sq_qr_revoke(struct store *base, int64_t scope, const char *token);

/* store_sqlite_auth.c: API tokens (see struct store_ops). */
int sq_api_token_add(struct store *base, const struct store_api_token *t, const uint8_t hash[32],
                     int64_t *ret_id);
int sq_api_token_get(struct store *base, const uint8_t hash[32], struct store_api_token *ret);
int sq_api_token_used(struct store *base, int64_t id, int64_t now, int64_t gap_s);
int sq_api_token_list(struct store *base, struct store_api_token **ret, size_t *ret_n);
int sq_api_token_revoke(struct store *base, int64_t id, int64_t now, char *name, size_t n);
