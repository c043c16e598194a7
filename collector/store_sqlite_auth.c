/* SPDX-License-Identifier: MIT */
/* API tokens in the SQLite back end (table api_tokens): the city's other systems read reports
 * with them (collector/apitoken.h). Only a hash of each token's text is kept; a token is never
 * deleted, only revoked, so that the list and the audit log keep naming it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"

/* The columns fill_token() reads, from api_tokens t and units u. */
#define TOKEN_COLUMNS                                                                              \
        "t.id, t.name, t.role, IFNULL(t.unit_id, 0), IFNULL(u.code, ''), t.created_by,"            \
        " t.created_at, IFNULL(t.expires_at, 0), IFNULL(t.last_used_at, 0),"                       \
        " IFNULL(t.revoked_at, 0) FROM api_tokens t LEFT JOIN units u ON u.id = t.unit_id"

static void fill_token(sqlite3_stmt *st, void *p)
{
        struct store_api_token *t = p;

        t->id = sqlite3_column_int64(st, 0);
        sq_copy_text(st, 1, t->name, sizeof(t->name));
        sq_copy_text(st, 2, t->role, sizeof(t->role));
        t->unit_id = sqlite3_column_int64(st, 3);
        sq_copy_text(st, 4, t->unit_code, sizeof(t->unit_code));
        sq_copy_text(st, 5, t->created_by, sizeof(t->created_by));
        t->created_at = sqlite3_column_int64(st, 6);
        t->expires_at = sqlite3_column_int64(st, 7);
        t->last_used_at = sqlite3_column_int64(st, 8);
        t->revoked_at = sqlite3_column_int64(st, 9);
}

int sq_api_token_add(struct store *base, const struct store_api_token *t, const uint8_t hash[32],
                     int64_t *ret_id)
{
        /* the unit by its code in the same statement: no row (-ENOENT) for an unknown code;
         * "" leaves unit_id NULL, which the table's CHECK allows for an auditor only */
        return sq_run((struct sqlite_store *)base, ret_id,
                      "INSERT INTO api_tokens(token_hash, name, role, unit_id, created_by,"
                      " created_at, expires_at) SELECT ?1, ?2, ?3,"
                      " (SELECT id FROM units WHERE code = ?4), ?5, ?6, ?7"
                      " WHERE ?4 = '' OR EXISTS (SELECT 1 FROM units WHERE code = ?4)",
                      "bttttin", hash, t->name, t->role, t->unit_code, t->created_by, t->created_at,
                      t->expires_at);
}

int sq_api_token_get(struct store *base, const uint8_t hash[32], struct store_api_token *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = sq_prepare(s->db, "SELECT " TOKEN_COLUMNS " WHERE t.token_hash = ?", &st);
        if (r < 0)
                goto out;
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -ENOENT;
                goto out;
        }
        memset(ret, 0, sizeof(*ret));
        fill_token(st, ret);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int sq_api_token_used(struct store *base, int64_t id, int64_t now, int64_t gap_s)
{
        /* the condition again in SQL: of requests that raced past the caller's check, one
         * writes */
        int r = sq_run((struct sqlite_store *)base, NULL,
                       "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1"
                       " AND IFNULL(last_used_at, 0) <= ?2 - ?3",
                       "iii", id, now, gap_s);

        return r == -ENOENT ? 0 : r;
}

int sq_api_token_list(struct store *base, struct store_api_token **ret, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        void *p = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = sq_collect(s->db, "SELECT " TOKEN_COLUMNS " ORDER BY t.id DESC", NULL,
                       sizeof(struct store_api_token), fill_token, &p, ret_n);
        pthread_mutex_unlock(&s->lock);
        if (r >= 0)
                *ret = p;
        return r;
}

int sq_api_token_revoke(struct store *base, int64_t id, int64_t now, char *name, size_t n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int r, rc;

        pthread_mutex_lock(&s->lock);
        r = sq_prepare(s->db,
                       "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL"
                       " RETURNING name",
                       &st);
        if (r < 0)
                goto out;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, now);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                if (name && n)
                        sq_copy_text(st, 0, name, n);
                /* finish the statement so that the UPDATE is done before the lock is let go */
                while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                        ;
                if (rc != SQLITE_DONE)
                        r = sq_map_error(s->db, rc, "api_token_revoke");
                goto out;
        }
        if (rc != SQLITE_DONE) {
                r = sq_map_error(s->db, rc, "api_token_revoke");
                goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        /* no row changed: an unknown token, or one revoked before */
        r = sq_prepare(s->db, "SELECT 1 FROM api_tokens WHERE id = ?", &st);
        if (r < 0)
                goto out;
        sqlite3_bind_int64(st, 1, id);
        r = sqlite3_step(st) == SQLITE_ROW ? -EALREADY : -ENOENT;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}
