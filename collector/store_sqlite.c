/* SPDX-License-Identifier: MIT */
/* The SQLite back end of the storage interface: one file in WAL mode, one connection guarded
 * by a mutex, every statement prepared. The votes table's UNIQUE(uuid) is what makes a batch
 * idempotent: a vote sent twice is inserted once, whatever the timing. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "log.h"
#include "period.h"
#include "sqlerr.h"
#include "store.h"

struct sqlite_store {
        struct store base; /* must be first */
        sqlite3 *db;
        pthread_mutex_t lock; /* one statement at a time on db */
};

/* Each entry moves the schema from version i to i + 1. */
static const char *const migrations[] = {
    /* 1: the organisation, terminals, QR tokens, users and votes */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE units(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES units(id),"
    " kind TEXT NOT NULL, name TEXT NOT NULL, name_en TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX units_parent ON units(parent_id);"
    "CREATE TABLE directions(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, name_en TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE employees(id INTEGER PRIMARY KEY, personal_no TEXT NOT NULL UNIQUE,"
    " full_name TEXT NOT NULL, position TEXT NOT NULL,"
    " unit_id INTEGER NOT NULL REFERENCES units(id), is_head INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE workplaces(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL, unit_id INTEGER NOT NULL REFERENCES units(id),"
    " direction_id INTEGER REFERENCES directions(id));"
    "CREATE TABLE terminals(id TEXT PRIMARY KEY,"
    " workplace_id INTEGER NOT NULL REFERENCES workplaces(id),"
    " secret_hash BLOB NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL, last_seen INTEGER);"
    "CREATE TABLE qr_tokens(token TEXT PRIMARY KEY,"
    " employee_id INTEGER NOT NULL REFERENCES employees(id),"
    " workplace_id INTEGER REFERENCES workplaces(id), channel TEXT NOT NULL,"
    " revoked INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
    "CREATE TABLE users(id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL,"
    " role TEXT NOT NULL CHECK(role IN ('admin','official','manager','auditor')),"
    " unit_id INTEGER REFERENCES units(id));"
    "CREATE TABLE votes(id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
    " level INTEGER NOT NULL CHECK(level BETWEEN 1 AND 3),"
    " employee_id INTEGER NOT NULL REFERENCES employees(id),"
    " unit_id INTEGER NOT NULL REFERENCES units(id),"
    " workplace_id INTEGER REFERENCES workplaces(id),"
    " direction_id INTEGER REFERENCES directions(id),"
    " channel TEXT NOT NULL, terminal_id TEXT, shift TEXT,"
    " cast_at INTEGER NOT NULL, received_at INTEGER NOT NULL, day INTEGER NOT NULL);"
    "CREATE INDEX votes_unit_cast ON votes(unit_id, cast_at);"
    "CREATE INDEX votes_employee_cast ON votes(employee_id, cast_at);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Translates an SQLite failure and logs SQLite's own message once. */
static int map_error(sqlite3 *db, int rc, const char *what)
{
        int r = sqlerr_to_errno(rc, db ? sqlite3_system_errno(db) : 0);

        if (r == 0)
                return 0;
        log_error("SQLite: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return r;
}

static int exec(sqlite3 *db, const char *sql)
{
        char *msg = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

        if (rc != SQLITE_OK) {
                log_error("SQLite: %s", msg ? msg : sqlite3_errstr(rc));
                sqlite3_free(msg);
                return map_error(NULL, rc, "exec");
        }
        return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);

        return rc == SQLITE_OK ? 0 : map_error(db, rc, sql);
}

/* Copies a text column into dst (n > 0 bytes). Text that does not fit is cut before the
 * UTF-8 character the cut would split: half a letter makes the page show U+FFFD and jansson
 * refuse the whole string, which dropped the unit from the JSON report. */
static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t n)
{
        const unsigned char *t = sqlite3_column_text(st, col);
        size_t len = t ? strlen((const char *)t) : 0;

        if (len >= n) {
                len = n - 1;
                while (len > 0 && (t[len] & 0xc0) == 0x80)
                        len--;
        }
        if (len)
                memcpy(dst, t, len);
        dst[len] = 0;
}

static int sq_migrate(struct store *base, int *ret_version)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int version = 0, r;

        r = prepare(s->db, "PRAGMA user_version", &st);
        if (r < 0)
                return r;
        if (sqlite3_step(st) == SQLITE_ROW)
                version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (version > SCHEMA_VERSION) {
                log_error("The database has schema version %d, newer than this collector's %d",
                          version, SCHEMA_VERSION);
                return -EPROTO;
        }
        for (; version < SCHEMA_VERSION; version++) {
                char sql[64];

                r = exec(s->db, "BEGIN IMMEDIATE");
                if (r < 0)
                        return r;
                r = exec(s->db, migrations[version]);
                snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
                if (r >= 0)
                        r = exec(s->db, sql);
                if (r < 0) {
                        exec(s->db, "ROLLBACK");
                        return r;
                }
                r = exec(s->db, "COMMIT");
                if (r < 0)
                        return r;
                log_info("Database migrated to schema version %d", version + 1);
        }
        if (ret_version)
                *ret_version = version;
        return 0;
}

static int sq_open(const char *path, struct store **ret)
{
        struct sqlite_store *s;
        int rc, r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->base.ops = &store_sqlite_ops;
        pthread_mutex_init(&s->lock, NULL);
        rc = sqlite3_open_v2(
            path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                r = map_error(s->db, rc, path);
                goto fail;
        }
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, 5000);
        r = exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                        " PRAGMA foreign_keys=ON;");
        if (r < 0)
                goto fail;
        r = sq_migrate(&s->base, NULL);
        if (r < 0)
                goto fail;
        *ret = &s->base;
        return 0;
fail:
        sqlite3_close(s->db);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return r;
}

static void sq_close(struct store *base)
{
        struct sqlite_store *s = (struct sqlite_store *)base;

        if (!s)
                return;
        sqlite3_close(s->db);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

static void secret_hash(const char *secret, unsigned char out[32])
{
        crypto_generichash(out, 32, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

static int sq_terminal_auth(struct store *base, const char *terminal_id, const char *secret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        unsigned char want[32];
        int r;

        secret_hash(secret, want);
        pthread_mutex_lock(&s->lock);
        r = prepare(s->db, "SELECT secret_hash, revoked FROM terminals WHERE id = ?", &st);
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, terminal_id, -1, SQLITE_STATIC);
        r = -EACCES;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
            sqlite3_column_int(st, 1) == 0 &&
            sodium_memcmp(sqlite3_column_blob(st, 0), want, 32) == 0)
                r = 0;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static void reject(struct proto_result *res, const char *why)
{
        res->status = PROTO_REJECTED;
        snprintf(res->reason, sizeof(res->reason), "%s", why);
}

static int sq_store_batch(struct store *base, const char *terminal_id, const struct proto_batch *b,
                          int64_t received_ms, struct proto_ack *ack)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *term = NULL, *emp = NULL, *ins = NULL;
        int64_t wp_id = 0, wp_dir = 0;
        char wp_code[VOTE_REF_MAX + 1] = "";
        int r;

        pthread_mutex_lock(&s->lock);
        r = exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                goto out;
        r = prepare(s->db,
                    "SELECT w.id, w.code, IFNULL(w.direction_id, 0) FROM terminals t"
                    " JOIN workplaces w ON w.id = t.workplace_id WHERE t.id = ?",
                    &term);
        if (r < 0)
                goto rollback;
        sqlite3_bind_text(term, 1, terminal_id, -1, SQLITE_STATIC);
        if (sqlite3_step(term) == SQLITE_ROW) {
                wp_id = sqlite3_column_int64(term, 0);
                copy_text(term, 1, wp_code, sizeof(wp_code));
                wp_dir = sqlite3_column_int64(term, 2);
        }
        r = prepare(s->db, "SELECT id, unit_id FROM employees WHERE personal_no = ?", &emp);
        if (r < 0)
                goto rollback;
        r = prepare(s->db,
                    "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id,"
                    " direction_id, channel, terminal_id, shift, cast_at, received_at, day)"
                    " VALUES (?, ?, ?, ?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(uuid) DO NOTHING",
                    &ins);
        if (r < 0)
                goto rollback;

        for (size_t i = 0; i < b->n_votes; i++) {
                const struct proto_vote *pv = &b->votes[i];
                const struct vote *v = &pv->vote;
                struct proto_result *res = &ack->results[i];
                int64_t emp_id, unit_id;
                int rc;

                memset(res, 0, sizeof(*res));
                res->index = i;
                res->id = v->id;
                if (pv->error[0]) {
                        reject(res, pv->error);
                        continue;
                }
                /* an empty workplace is the terminal's own */
                if (v->workplace[0] && strcmp(v->workplace, wp_code) != 0) {
                        reject(res, "workplace: not this terminal's workplace");
                        continue;
                }
                sqlite3_reset(emp);
                sqlite3_bind_text(emp, 1, v->employee, -1, SQLITE_STATIC);
                if (sqlite3_step(emp) != SQLITE_ROW) {
                        reject(res, "employee: unknown personal number");
                        continue;
                }
                emp_id = sqlite3_column_int64(emp, 0);
                unit_id = sqlite3_column_int64(emp, 1);

                sqlite3_reset(ins);
                sqlite3_bind_text(ins, 1, v->id.s, -1, SQLITE_STATIC);
                sqlite3_bind_int(ins, 2, v->level);
                sqlite3_bind_int64(ins, 3, emp_id);
                sqlite3_bind_int64(ins, 4, unit_id);
                sqlite3_bind_int64(ins, 5, wp_id);
                sqlite3_bind_int64(ins, 6, wp_dir);
                sqlite3_bind_text(ins, 7, v->channel, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 8, terminal_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(ins, 9, v->shift, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 10, v->cast_at_ms);
                sqlite3_bind_int64(ins, 11, received_ms);
                sqlite3_bind_int(ins, 12, period_day_key(v->cast_at_ms / 1000));
                rc = sqlite3_step(ins);
                if (rc != SQLITE_DONE) {
                        r = map_error(s->db, rc, "insert vote");
                        goto rollback;
                }
                res->status = sqlite3_changes(s->db) ? PROTO_STORED : PROTO_DUPLICATE;
        }
        ack->n_results = b->n_votes;
        ack->server_time_ms = received_ms;

        sqlite3_finalize(term);
        term = NULL;
        r = prepare(s->db, "UPDATE terminals SET last_seen = ? WHERE id = ?", &term);
        if (r < 0)
                goto rollback;
        sqlite3_bind_int64(term, 1, received_ms / 1000);
        sqlite3_bind_text(term, 2, terminal_id, -1, SQLITE_STATIC);
        if (sqlite3_step(term) != SQLITE_DONE) {
                r = map_error(s->db, SQLITE_ERROR, "terminal last seen");
                goto rollback;
        }
        r = exec(s->db, "COMMIT");
        if (r >= 0)
                goto out;
rollback:
        exec(s->db, "ROLLBACK");
out:
        sqlite3_finalize(ins);
        sqlite3_finalize(emp);
        sqlite3_finalize(term);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_token_lookup(struct store *base, const char *token, struct store_employee *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = prepare(s->db,
                    "SELECT e.id, e.personal_no, e.full_name, e.position, u.name,"
                    " IFNULL(w.code, ''), q.channel, q.revoked"
                    " FROM qr_tokens q JOIN employees e ON e.id = q.employee_id"
                    " JOIN units u ON u.id = e.unit_id"
                    " LEFT JOIN workplaces w ON w.id = q.workplace_id WHERE q.token = ?",
                    &st);
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -ENOENT;
                goto out;
        }
        memset(ret, 0, sizeof(*ret));
        ret->id = sqlite3_column_int64(st, 0);
        copy_text(st, 1, ret->personal_no, sizeof(ret->personal_no));
        copy_text(st, 2, ret->full_name, sizeof(ret->full_name));
        copy_text(st, 3, ret->position, sizeof(ret->position));
        copy_text(st, 4, ret->unit, sizeof(ret->unit));
        copy_text(st, 5, ret->workplace, sizeof(ret->workplace));
        copy_text(st, 6, ret->channel, sizeof(ret->channel));
        ret->revoked = sqlite3_column_int(st, 7) != 0;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_store_web_vote(struct store *base, const struct store_employee *e, int level,
                             const vote_id *id, int64_t cast_ms)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int r, rc;

        pthread_mutex_lock(&s->lock);
        r = prepare(s->db,
                    "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id,"
                    " direction_id, channel, cast_at, received_at, day)"
                    " SELECT ?1, ?2, e.id, e.unit_id, w.id, w.direction_id, ?3, ?4, ?4, ?5"
                    " FROM employees e LEFT JOIN workplaces w ON w.code = ?6 WHERE e.id = ?7"
                    " ON CONFLICT(uuid) DO NOTHING",
                    &st);
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, id->s, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, level);
        sqlite3_bind_text(st, 3, e->channel, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, cast_ms);
        sqlite3_bind_int(st, 5, period_day_key(cast_ms / 1000));
        sqlite3_bind_text(st, 6, e->workplace, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, e->id);
        rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? 0 : map_error(s->db, rc, "insert web vote");
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_report_units(struct store *base, int64_t from, int64_t to,
                           struct store_unit_row **ret_rows, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        struct store_unit_row *rows = NULL;
        size_t n = 0, size = 0;
        sqlite3_stmt *st = NULL;
        int r, rc;

        pthread_mutex_lock(&s->lock);
        /* tree walks the units depth first; sub pairs every unit with each of its descendants
         * (itself included), so that a unit's row sums its whole subtree (regulation 2.7). */
        r = prepare(
            s->db,
            "WITH RECURSIVE"
            " tree(id, parent_id, depth, path) AS ("
            "  SELECT id, IFNULL(parent_id, 0), 0, printf('%08d', id) FROM units"
            "  WHERE parent_id IS NULL"
            "  UNION ALL SELECT u.id, u.parent_id, t.depth + 1,"
            "  t.path || '/' || printf('%08d', u.id)"
            "  FROM units u JOIN tree t ON u.parent_id = t.id),"
            " sub(anc, id) AS (SELECT id, id FROM units"
            "  UNION ALL SELECT sub.anc, u.id FROM units u JOIN sub ON u.parent_id = sub.id),"
            " own(unit_id, l1, l2, l3) AS (SELECT unit_id, SUM(level = 1), SUM(level = 2),"
            "  SUM(level = 3) FROM votes WHERE cast_at >= ?1 AND cast_at < ?2"
            "  GROUP BY unit_id)"
            " SELECT t.id, t.parent_id, t.depth, u.name,"
            "  IFNULL(SUM(o.l1), 0), IFNULL(SUM(o.l2), 0), IFNULL(SUM(o.l3), 0)"
            " FROM tree t JOIN units u ON u.id = t.id JOIN sub ON sub.anc = t.id"
            " LEFT JOIN own o ON o.unit_id = sub.id"
            " GROUP BY t.id ORDER BY t.path",
            &st);
        if (r < 0)
                goto out;
        sqlite3_bind_int64(st, 1, from * 1000);
        sqlite3_bind_int64(st, 2, to * 1000);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct store_unit_row *row;

                if (n == size) {
                        struct store_unit_row *p;

                        size = size ? size * 2 : 32;
                        p = realloc(rows, size * sizeof(*rows));
                        if (!p) {
                                r = -ENOMEM;
                                goto out;
                        }
                        rows = p;
                }
                row = &rows[n++];
                memset(row, 0, sizeof(*row));
                row->unit_id = sqlite3_column_int64(st, 0);
                row->parent_id = sqlite3_column_int64(st, 1);
                row->depth = sqlite3_column_int(st, 2);
                copy_text(st, 3, row->name, sizeof(row->name));
                for (int l = 1; l <= 3; l++) {
                        row->count[l] = sqlite3_column_int64(st, 3 + l);
                        row->count[0] += row->count[l];
                }
        }
        if (rc != SQLITE_DONE) {
                r = map_error(s->db, rc, "report by unit");
                goto out;
        }
        *ret_rows = rows;
        *ret_n = n;
        rows = NULL;
        r = 0;
out:
        free(rows);
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_vote_count(struct store *base, int64_t *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = prepare(s->db, "SELECT COUNT(*) FROM votes", &st);
        if (r >= 0 && sqlite3_step(st) == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* Runs one statement under the lock with parameters described by types: 't' text, 'i' int64,
 * 'n' int64 where 0 binds NULL, 'b' a 32-byte blob. Stores the new rowid in *ret_id if given. */
static int run(struct sqlite_store *s, int64_t *ret_id, const char *sql, const char *types, ...)
{
        sqlite3_stmt *st = NULL;
        va_list ap;
        int r, rc;

        pthread_mutex_lock(&s->lock);
        r = prepare(s->db, sql, &st);
        if (r < 0)
                goto out;
        va_start(ap, types);
        for (int i = 0; types[i]; i++) {
                if (types[i] == 't')
                        sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
                                          SQLITE_TRANSIENT);
                else if (types[i] == 'b')
                        sqlite3_bind_blob(st, i + 1, va_arg(ap, const void *), 32,
                                          SQLITE_TRANSIENT);
                else {
                        int64_t v = va_arg(ap, int64_t);

                        if (types[i] == 'n' && v == 0)
                                sqlite3_bind_null(st, i + 1);
                        else
                                sqlite3_bind_int64(st, i + 1, v);
                }
        }
        va_end(ap);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE && sqlite3_changes(s->db) == 0)
                r = -ENOENT; /* an INSERT ... SELECT whose reference did not match */
        else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                /* a clash or a missing reference is the caller's answer, not a fault */
                r = (rc & 0xff) == SQLITE_CONSTRAINT ? sqlerr_to_errno(rc, 0)
                                                     : map_error(s->db, rc, sql);
        else if (ret_id)
                *ret_id = sqlite3_last_insert_rowid(s->db);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_unit_add(struct store *base, int64_t parent_id, const char *kind, const char *name,
                       const char *name_en, int64_t *ret_id)
{
        return run((struct sqlite_store *)base, ret_id,
                   "INSERT INTO units(parent_id, kind, name, name_en) VALUES (?, ?, ?, ?)", "nttt",
                   parent_id, kind, name, name_en ? name_en : "");
}

static int sq_direction_add(struct store *base, const char *code, const char *name,
                            const char *name_en, int64_t *ret_id)
{
        return run((struct sqlite_store *)base, ret_id,
                   "INSERT INTO directions(code, name, name_en) VALUES (?, ?, ?)", "ttt", code,
                   name, name_en ? name_en : "");
}

static int sq_employee_add(struct store *base, const char *personal_no, const char *full_name,
                           const char *position, int64_t unit_id, bool is_head, int64_t *ret_id)
{
        return run((struct sqlite_store *)base, ret_id,
                   "INSERT INTO employees(personal_no, full_name, position, unit_id, is_head)"
                   " VALUES (?, ?, ?, ?, ?)",
                   "tttii", personal_no, full_name, position, unit_id, (int64_t)is_head);
}

static int sq_workplace_add(struct store *base, const char *code, const char *name, int64_t unit_id,
                            int64_t direction_id, int64_t *ret_id)
{
        return run((struct sqlite_store *)base, ret_id,
                   "INSERT INTO workplaces(code, name, unit_id, direction_id) VALUES (?, ?, ?, ?)",
                   "ttin", code, name, unit_id, direction_id);
}

static int sq_terminal_add(struct store *base, const char *terminal_id, const char *workplace_code,
                           const char *secret)
{
        unsigned char hash[32];

        secret_hash(secret, hash);
        return run((struct sqlite_store *)base, NULL,
                   "INSERT INTO terminals(id, workplace_id, secret_hash, created_at)"
                   " SELECT ?, id, ?, strftime('%s', 'now') FROM workplaces WHERE code = ?",
                   "tbt", terminal_id, hash, workplace_code);
}

static int sq_token_add(struct store *base, const char *token, int64_t employee_id,
                        const char *workplace_code, const char *channel)
{
        return run((struct sqlite_store *)base, NULL,
                   "INSERT INTO qr_tokens(token, employee_id, workplace_id, channel, created_at)"
                   " SELECT ?1, e.id, (SELECT id FROM workplaces WHERE code = ?3), ?4,"
                   " strftime('%s', 'now') FROM employees e WHERE e.id = ?2",
                   "titt", token, employee_id, workplace_code ? workplace_code : "", channel);
}

static int sq_token_revoke(struct store *base, const char *token)
{
        return run((struct sqlite_store *)base, NULL,
                   "UPDATE qr_tokens SET revoked = 1 WHERE token = ?", "t", token);
}

static int sq_user_add(struct store *base, const char *login, const char *password_hash,
                       const char *role, int64_t unit_id)
{
        return run((struct sqlite_store *)base, NULL,
                   "INSERT INTO users(login, password_hash, role, unit_id) VALUES (?, ?, ?, ?)",
                   "tttn", login, password_hash, role, unit_id);
}

static int sq_meta_set(struct store *base, const char *key, const char *value)
{
        return run((struct sqlite_store *)base, NULL,
                   "INSERT INTO meta(key, value) VALUES (?, ?)"
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   "tt", key, value);
}

static int sq_meta_get(struct store *base, const char *key, char *buf, size_t n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = prepare(s->db, "SELECT value FROM meta WHERE key = ?", &st);
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -ENOENT;
                goto out;
        }
        if ((size_t)sqlite3_column_bytes(st, 0) >= n) {
                r = -ENAMETOOLONG;
                goto out;
        }
        copy_text(st, 0, buf, n);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .migrate = sq_migrate,
    .terminal_auth = sq_terminal_auth,
    .store_batch = sq_store_batch,
    .token_lookup = sq_token_lookup,
    .store_web_vote = sq_store_web_vote,
    .report_units = sq_report_units,
    .vote_count = sq_vote_count,
    .unit_add = sq_unit_add,
    .direction_add = sq_direction_add,
    .employee_add = sq_employee_add,
    .workplace_add = sq_workplace_add,
    .terminal_add = sq_terminal_add,
    .token_add = sq_token_add,
    .token_revoke = sq_token_revoke,
    .user_add = sq_user_add,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
};
