/* SPDX-License-Identifier: MIT */
/* Printed QR codes in the SQLite back end: listing an organisation's codes, issuing and
 * revoking them, always within the subtree the user may act on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_sqlite.h"

/* The units a user may act on: ?1 is the root of their scope, 0 for everything. */
#define SCOPE_CTE                                                                                  \
        "WITH RECURSIVE scope(id) AS (SELECT id FROM units WHERE ?1 = 0 OR id = ?1"                \
        " UNION SELECT u.id FROM units u JOIN scope ON u.parent_id = scope.id)"

static void fill_qr(sqlite3_stmt *st, void *p)
{
        struct store_qr *q = p;

        sq_copy_text(st, 0, q->personal_no, sizeof(q->personal_no));
        sq_copy_text(st, 1, q->full_name, sizeof(q->full_name));
        sq_copy_text(st, 2, q->position, sizeof(q->position));
        sq_copy_text(st, 3, q->unit, sizeof(q->unit));
        sq_copy_text(st, 4, q->channel, sizeof(q->channel));
        sq_copy_text(st, 5, q->token, sizeof(q->token));
}

int sq_qr_list(struct store *base, int64_t scope, const char *unit_code, const char *personal_no,
               const char *channel, struct store_qr **ret, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        void *p = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        /* sel: the chosen unit's subtree, or all of the scope when no unit is named */
        r = sq_prepare(
            s->db,
            SCOPE_CTE ", sel(id) AS (SELECT id FROM units WHERE ?2 = '' AND id IN"
                      " (SELECT id FROM scope) OR code = ?2 AND id IN (SELECT id FROM scope)"
                      " UNION SELECT u.id FROM units u JOIN sel ON u.parent_id = sel.id)"
                      " SELECT e.personal_no, e.full_name, e.position, u.name, ?4,"
                      " IFNULL((SELECT q.token FROM qr_tokens q WHERE q.employee_id = e.id"
                      " AND q.channel = ?4 AND q.revoked = 0 ORDER BY q.created_at DESC"
                      " LIMIT 1), '')"
                      " FROM employees e JOIN units u ON u.id = e.unit_id"
                      " WHERE e.unit_id IN (SELECT id FROM sel) AND (?3 = '' OR e.personal_no = ?3)"
                      " ORDER BY u.name, e.full_name",
            &st);
        if (r < 0)
                goto out;
        sqlite3_bind_int64(st, 1, scope);
        sqlite3_bind_text(st, 2, unit_code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, personal_no, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, channel, -1, SQLITE_STATIC);
        r = sq_collect_stmt(st, sizeof(struct store_qr), fill_qr, &p, ret_n);
        if (r >= 0)
                *ret = p;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int sq_qr_issue(struct store *base, int64_t scope, const char *personal_no, const char *channel,
                char *token, size_t n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        uint8_t raw[16];
        char t[32];
        int64_t emp;
        int r, rc;

        if (n < 23 || !vote_channel_valid(channel))
                return -EINVAL;
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2base64(t, sizeof(t), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        pthread_mutex_lock(&s->lock);
        r = sq_exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                goto out;
        r = sq_prepare(s->db,
                       SCOPE_CTE " SELECT id FROM employees WHERE personal_no = ?2 AND unit_id IN"
                                 " (SELECT id FROM scope)",
                       &st);
        if (r < 0)
                goto rollback;
        sqlite3_bind_int64(st, 1, scope);
        sqlite3_bind_text(st, 2, personal_no, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -ENOENT;
                goto rollback;
        }
        emp = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        /* the new code hangs where the old one did: it keeps its workplace */
        r = sq_prepare(
            s->db,
            "INSERT INTO qr_tokens(token, employee_id, workplace_id, channel, created_at)"
            " VALUES (?1, ?2, (SELECT workplace_id FROM qr_tokens WHERE employee_id = ?2"
            " AND channel = ?3 AND revoked = 0 ORDER BY created_at DESC LIMIT 1), ?3,"
            " strftime('%s', 'now'))",
            &st);
        if (r < 0)
                goto rollback;
        sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, emp);
        sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        st = NULL;
        if (rc != SQLITE_DONE) {
                r = sq_map_error(s->db, rc, "issue QR code");
                goto rollback;
        }
        r = sq_prepare(s->db,
                       "UPDATE qr_tokens SET revoked = 1 WHERE employee_id = ? AND channel = ?"
                       " AND token != ? AND revoked = 0",
                       &st);
        if (r < 0)
                goto rollback;
        sqlite3_bind_int64(st, 1, emp);
        sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, t, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
                r = sq_map_error(s->db, rc, "revoke QR codes");
                goto rollback;
        }
        r = sq_exec(s->db, "COMMIT");
        if (r < 0)
                goto rollback;
        memcpy(token, t, strlen(t) + 1);
        goto out;
rollback:
        sq_exec(s->db, "ROLLBACK");
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

int sq_qr_revoke(struct store *base, int64_t scope, const char *token)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      SCOPE_CTE
                      " UPDATE qr_tokens SET revoked = 1 WHERE token = ?2 AND employee_id"
                      " IN (SELECT id FROM employees WHERE unit_id IN (SELECT id FROM scope))",
                      "it", scope, token);
}
