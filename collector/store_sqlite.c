/* SPDX-License-Identifier: MIT */
/* The SQLite back end of the storage interface: one file in WAL mode, one connection guarded
 * by a mutex, every statement prepared. The votes table's UNIQUE(uuid) is what makes a batch
 * idempotent: a vote sent twice is inserted once, whatever the timing. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "fileio.h"
#include "i18n.h"
#include "log.h"
#include "period.h"
#include "sqlerr.h"
#include "store.h"
#include "store_sqlite.h"
#include "store_sqlite_report.h"

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
    /* 2: shift login (PIN hashes), expiring on-screen QR codes (a key per terminal),
     * enrollment codes, fleet status, shift events, suppressed votes, clock correction */
    "ALTER TABLE employees ADD COLUMN pin_hash TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE terminals ADD COLUMN qr_key BLOB;"
    "UPDATE terminals SET qr_key = randomblob(32);"
    "ALTER TABLE terminals ADD COLUMN version TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE terminals ADD COLUMN queue INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE terminals ADD COLUMN rejected INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE terminals ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE terminals ADD COLUMN last_error TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE terminals ADD COLUMN status_at INTEGER;"
    /* suppressed: why a stored vote is not counted (NULL when counted); cast_at_orig: the
     * terminal's own cast time when the collector corrected it (NULL when not) */
    "ALTER TABLE votes ADD COLUMN suppressed TEXT;"
    "ALTER TABLE votes ADD COLUMN cast_at_orig INTEGER;"
    "ALTER TABLE votes ADD COLUMN boot TEXT;"
    /* per terminal boot: the collector's clock at the boot's monotonic zero */
    "CREATE TABLE terminal_boots(terminal_id TEXT NOT NULL, boot TEXT NOT NULL,"
    " zero_ms INTEGER NOT NULL, seen_at INTEGER NOT NULL, PRIMARY KEY(terminal_id, boot))"
    " WITHOUT ROWID;"
    "CREATE TABLE terminal_events(id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE,"
    " terminal_id TEXT NOT NULL, kind TEXT NOT NULL, employee TEXT NOT NULL DEFAULT '',"
    " shift TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '', at INTEGER NOT NULL,"
    " at_orig INTEGER, received_at INTEGER NOT NULL);"
    "CREATE INDEX terminal_events_terminal ON terminal_events(terminal_id, at);"
    "CREATE TABLE enroll_codes(code_hash BLOB PRIMARY KEY,"
    " workplace_id INTEGER NOT NULL REFERENCES workplaces(id), created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL, used_at INTEGER, terminal_id TEXT);",
    /* 3: sessions of the pages (by a hash of the token) and the audit log */
    "CREATE TABLE sessions(token_hash BLOB PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, csrf TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, idle_until INTEGER NOT NULL);"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, login TEXT NOT NULL,"
    " action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', client TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_at ON audit(at);",
    /* 4: integrity (regulation 3.2). counted is 0 for a vote that no figure may count: a
     * suppressed one, or a flagged one until an official counts it. flag says why it was
     * flagged; review what an official decided ('count' or 'exclude'), by whom and why.
     * client_hash / phone_hash are keyed hashes (never the address or cookie itself). */
    "ALTER TABLE votes ADD COLUMN counted INTEGER NOT NULL DEFAULT 1;"
    "UPDATE votes SET counted = 0 WHERE suppressed IS NOT NULL;"
    "ALTER TABLE votes ADD COLUMN flag TEXT;"
    "ALTER TABLE votes ADD COLUMN review TEXT CHECK(review IN ('count', 'exclude'));"
    "ALTER TABLE votes ADD COLUMN review_by TEXT;"
    "ALTER TABLE votes ADD COLUMN review_reason TEXT;"
    "ALTER TABLE votes ADD COLUMN reviewed_at INTEGER;"
    "ALTER TABLE votes ADD COLUMN client_hash BLOB;"
    "ALTER TABLE votes ADD COLUMN phone_hash BLOB;"
    "CREATE INDEX votes_flagged ON votes(cast_at) WHERE flag IS NOT NULL;"
    "CREATE INDEX votes_phone ON votes(phone_hash, employee_id, cast_at)"
    " WHERE phone_hash IS NOT NULL;"
    "CREATE INDEX votes_client ON votes(client_hash, cast_at) WHERE client_hash IS NOT NULL;"
    "CREATE TABLE form_tokens(token_hash BLOB PRIMARY KEY, expires_at INTEGER NOT NULL,"
    " used_at INTEGER) WITHOUT ROWID;"
    /* units get codes, so that the organisation can be imported and exported as CSV */
    "ALTER TABLE units ADD COLUMN code TEXT;"
    "UPDATE units SET code = 'U' || id;"
    "CREATE UNIQUE INDEX units_code ON units(code);",
    /* 5: reports read pre-aggregated counts (store_sqlite_report.c, REPORT_MIGRATION) */
    REPORT_MIGRATION,
    /* 6: votes are folded into the counts off the insert path (store_sqlite_report.h) */
    REPORT_MIGRATION_6,
    /* 7: the heatmap of any selection (store_sqlite_report.h) */
    REPORT_MIGRATION_7,
    /* 8: API tokens of the city's other systems (store_sqlite_auth.c, collector/apitoken.h):
     * only a hash of each token's text; it reads reports as an auditor (the whole city) or a
     * manager (unit_id's subtree); expires_at is the first second it no longer works (NULL:
     * never); revoked tokens stay, so that the list and the audit log still name them */
    "CREATE TABLE api_tokens(id INTEGER PRIMARY KEY, token_hash BLOB NOT NULL UNIQUE,"
    " name TEXT NOT NULL, role TEXT NOT NULL CHECK(role IN ('auditor', 'manager')),"
    " unit_id INTEGER REFERENCES units(id), created_by TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL, expires_at INTEGER, last_used_at INTEGER,"
    " revoked_at INTEGER, CHECK((role = 'manager') = (unit_id IS NOT NULL)));",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Translates an SQLite failure and logs SQLite's own message once. */
int sq_map_error(sqlite3 *db, int rc, const char *what)
{
        int r = sqlerr_to_errno(rc, db ? sqlite3_system_errno(db) : 0);

        if (r == 0)
                return 0;
        log_error("SQLite: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return r;
}

int sq_exec(sqlite3 *db, const char *sql)
{
        char *msg = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

        if (rc != SQLITE_OK) {
                log_error("SQLite: %s", msg ? msg : sqlite3_errstr(rc));
                sqlite3_free(msg);
                return sq_map_error(NULL, rc, "exec");
        }
        return 0;
}

int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);

        return rc == SQLITE_OK ? 0 : sq_map_error(db, rc, sql);
}

/* Copies a text column into dst (n > 0 bytes). Text that does not fit is cut before the
 * UTF-8 character the cut would split: half a letter makes the page show U+FFFD and jansson
 * refuse the whole string, which dropped the unit from the JSON report. */
void sq_copy_text(sqlite3_stmt *st, int col, char *dst, size_t n)
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

        r = sq_prepare(s->db, "PRAGMA user_version", &st);
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

                r = sq_exec(s->db, "BEGIN IMMEDIATE");
                if (r < 0)
                        return r;
                r = sq_exec(s->db, migrations[version]);
                snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
                if (r >= 0)
                        r = sq_exec(s->db, sql);
                if (r < 0) {
                        sq_exec(s->db, "ROLLBACK");
                        return r;
                }
                r = sq_exec(s->db, "COMMIT");
                if (r < 0)
                        return r;
                log_info("Database migrated to schema version %d", version + 1);
        }
        if (ret_version)
                *ret_version = version;
        return 0;
}

/* A read-only connection to the file beside the writing one. */
static int open_reader(const char *path, sqlite3 **ret)
{
        int rc;

        rc = sqlite3_open_v2(path, ret, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK)
                return sq_map_error(*ret, rc, path);
        sqlite3_extended_result_codes(*ret, 1);
        sqlite3_busy_timeout(*ret, 5000);
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
        pthread_mutex_init(&s->rlock, NULL);
        pthread_mutex_init(&s->replock, NULL);
        pthread_mutex_init(&s->group_lock, NULL);
        pthread_cond_init(&s->group_cond, NULL);
        rc = sqlite3_open_v2(
            path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                r = sq_map_error(s->db, rc, path);
                goto fail;
        }
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, 5000);
        r = sq_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                           " PRAGMA foreign_keys=ON;");
        if (r < 0)
                goto fail;
        r = sq_migrate(&s->base, NULL);
        if (r < 0)
                goto fail;
        /* WAL lets a reader run beside the writer: the vote page's lookups get their own
         * connection (an in-memory database is private to its connection: none then) */
        if (path[0] && strcmp(path, ":memory:") != 0) {
                r = open_reader(path, &s->rdb);
                if (r >= 0)
                        r = open_reader(path, &s->repdb);
                if (r < 0)
                        goto fail;
        }
        *ret = &s->base;
        return 0;
fail:
        s->base.ops->close(&s->base);
        return r;
}

static void batch_stmts_finish(struct batch_stmts *b);

static void sq_close(struct store *base)
{
        struct sqlite_store *s = (struct sqlite_store *)base;

        if (!s)
                return;
        sqlite3_finalize(s->token_st);
        sqlite3_finalize(s->screen_st);
        sqlite3_finalize(s->auth_st);
        sqlite3_finalize(s->recent_st);
        sqlite3_finalize(s->web_vote_st);
        sqlite3_finalize(s->form_seen_st);
        sqlite3_finalize(s->form_token_st);
        batch_stmts_finish(&s->batch);
        sqlite3_close(s->repdb);
        sqlite3_close(s->rdb);
        sqlite3_close(s->db);
        pthread_cond_destroy(&s->group_cond);
        pthread_mutex_destroy(&s->group_lock);
        pthread_mutex_destroy(&s->replock);
        pthread_mutex_destroy(&s->rlock);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

/* The statement in *slot, prepared on db the first time (kept until sq_close()); reset and
 * with its bindings cleared. Call with the lock of db held. */
static int sq_cached(sqlite3 *db, sqlite3_stmt **slot, const char *sql)
{
        int rc;

        if (*slot) {
                sqlite3_reset(*slot);
                sqlite3_clear_bindings(*slot);
                return 0;
        }
        rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        return rc == SQLITE_OK ? 0 : sq_map_error(db, rc, sql);
}

/* The connection for the vote page's lookups, locked; sq_read_end() unlocks it. */
static sqlite3 *sq_read_begin(struct sqlite_store *s)
{
        pthread_mutex_lock(s->rdb ? &s->rlock : &s->lock);
        return s->rdb ? s->rdb : s->db;
}

static void sq_read_end(struct sqlite_store *s)
{
        pthread_mutex_unlock(s->rdb ? &s->rlock : &s->lock);
}

#define GROUP_MAX 512 /* jobs in one transaction at most */

/* Runs the jobs from head on in one transaction, each in a savepoint of its own, so that a
 * job that fails leaves no half of its changes behind; sets each one's result. */
static void group_run(struct sqlite_store *s, struct sq_job *head)
{
        int r;

        pthread_mutex_lock(&s->lock);
        r = sq_exec(s->db, "BEGIN IMMEDIATE");
        for (struct sq_job *j = head; j && r >= 0; j = j->next) {
                r = sq_exec(s->db, "SAVEPOINT job");
                if (r < 0)
                        break;
                j->result = j->run(s, j->arg);
                if (sqlite3_get_autocommit(s->db)) {
                        r = j->result < 0 ? j->result : -EIO; /* the transaction is gone */
                        break;
                }
                if (j->result < 0)
                        r = sq_exec(s->db, "ROLLBACK TO job");
                if (r >= 0)
                        r = sq_exec(s->db, "RELEASE job");
        }
        if (r >= 0)
                r = sq_exec(s->db, "COMMIT");
        if (r < 0) {
                if (!sqlite3_get_autocommit(s->db))
                        sq_exec(s->db, "ROLLBACK");
                for (struct sq_job *j = head; j; j = j->next)
                        j->result = r;
        }
        pthread_mutex_unlock(&s->lock);
}

/* Leader and followers: the first thread to find no transaction under way takes every job
 * queued (up to GROUP_MAX) and runs them; the others wait until theirs is done, or until they
 * can lead the next transaction. */
int sq_group_write(struct sqlite_store *s, struct sq_job *job)
{
        job->done = false;
        job->next = NULL;
        pthread_mutex_lock(&s->group_lock);
        if (s->group_tail)
                s->group_tail->next = job;
        else
                s->group_head = job;
        s->group_tail = job;
        while (!job->done) {
                struct sq_job *head, *last;
                int n = 1;

                if (s->group_busy) {
                        pthread_cond_wait(&s->group_cond, &s->group_lock);
                        continue;
                }
                s->group_busy = true;
                head = last = s->group_head;
                while (last->next && n < GROUP_MAX) {
                        last = last->next;
                        n++;
                }
                s->group_head = last->next;
                if (!s->group_head)
                        s->group_tail = NULL;
                last->next = NULL;
                pthread_mutex_unlock(&s->group_lock);

                group_run(s, head);

                pthread_mutex_lock(&s->group_lock);
                for (struct sq_job *j = head; j; j = j->next)
                        j->done = true;
                s->group_busy = false;
                pthread_cond_broadcast(&s->group_cond);
        }
        pthread_mutex_unlock(&s->group_lock);
        return job->result;
}

static void secret_hash(const char *secret, unsigned char out[32])
{
        crypto_generichash(out, 32, (const unsigned char *)secret, strlen(secret), NULL, 0);
}

static int sq_terminal_auth(struct store *base, const char *terminal_id, const char *secret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3 *db = sq_read_begin(s);
        sqlite3_stmt *st;
        unsigned char want[32];
        int r;

        secret_hash(secret, want);
        r = sq_cached(db, &s->auth_st, "SELECT secret_hash, revoked FROM terminals WHERE id = ?");
        st = s->auth_st;
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, terminal_id, -1, SQLITE_STATIC);
        r = -EACCES;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
            sqlite3_column_int(st, 1) == 0 &&
            sodium_memcmp(sqlite3_column_blob(st, 0), want, 32) == 0)
                r = 0;
out:
        if (st)
                sqlite3_reset(st);
        sq_read_end(s);
        return r;
}

static void reject(struct proto_result *res, const char *why)
{
        res->status = PROTO_REJECTED;
        snprintf(res->reason, sizeof(res->reason), "%s", why);
}

static void batch_stmts_finish(struct batch_stmts *b)
{
        sqlite3_finalize(b->term);
        sqlite3_finalize(b->emp);
        sqlite3_finalize(b->ins);
        sqlite3_finalize(b->boot_set);
        sqlite3_finalize(b->boot_get);
        sqlite3_finalize(b->event);
        sqlite3_finalize(b->seen);
        sqlite3_finalize(b->status);
}

/* Leaves every statement of a batch ready for the next one. */
static void batch_stmts_reset(struct batch_stmts *b)
{
        sqlite3_stmt *all[] = {b->term,     b->emp,   b->ins,  b->boot_set,
                               b->boot_get, b->event, b->seen, b->status};

        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                sqlite3_reset(all[i]);
                sqlite3_clear_bindings(all[i]);
        }
}

/* The statements of a batch, prepared the first time (kept until sq_close()). */
static int batch_stmts_prepare(struct sqlite_store *s)
{
        struct batch_stmts *b = &s->batch;
        sqlite3 *db = s->db;
        int r;

        if (s->batch_ready)
                return 0;
        if ((r = sq_prepare(db,
                            "SELECT w.id, w.code, IFNULL(w.direction_id, 0) FROM terminals t"
                            " JOIN workplaces w ON w.id = t.workplace_id WHERE t.id = ?",
                            &b->term)) < 0 ||
            (r = sq_prepare(db, "SELECT id, unit_id FROM employees WHERE personal_no = ?",
                            &b->emp)) < 0 ||
            (r = sq_prepare(
                 db,
                 "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id,"
                 " direction_id, channel, terminal_id, shift, cast_at, received_at, day,"
                 " suppressed, cast_at_orig, boot, flag, counted)"
                 " VALUES (?1, ?2, ?3, ?4, NULLIF(?5, 0), NULLIF(?6, 0), ?7, ?8, ?9, ?10,"
                 " ?11, ?12, NULLIF(?13, ''), ?14, NULLIF(?15, ''), NULLIF(?16, ''),"
                 " ?13 = '' AND ?16 = '')"
                 " ON CONFLICT(uuid) DO NOTHING",
                 &b->ins)) < 0 ||
            /* received - mono overestimates the boot's zero by the request's transit time,
             * so the smallest estimate seen is the best */
            (r = sq_prepare(db,
                            "INSERT INTO terminal_boots(terminal_id, boot, zero_ms, seen_at)"
                            " VALUES (?, ?, ?, ?) ON CONFLICT(terminal_id, boot) DO UPDATE SET"
                            " zero_ms = MIN(zero_ms, excluded.zero_ms), seen_at = excluded.seen_at",
                            &b->boot_set)) < 0 ||
            (r = sq_prepare(db,
                            "SELECT zero_ms FROM terminal_boots WHERE terminal_id = ? AND boot = ?",
                            &b->boot_get)) < 0 ||
            (r = sq_prepare(db,
                            "INSERT INTO terminal_events(uuid, terminal_id, kind, employee, shift,"
                            " detail, at, at_orig, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                            " ON CONFLICT(uuid) DO NOTHING",
                            &b->event)) < 0 ||
            (r = sq_prepare(db, "UPDATE terminals SET last_seen = ? WHERE id = ?", &b->seen)) < 0 ||
            (r = sq_prepare(db,
                            "UPDATE terminals SET version = ?, queue = ?, rejected = ?,"
                            " clock_offset_ms = ?, last_error = ?, status_at = ? WHERE id = ?",
                            &b->status)) < 0)
                return r;
        s->batch_ready = true;
        return 0;
}

/* A terminal's time, corrected through its boot's monotonic clock (docs/protocol.md,
 * "Clocks"): the true time when the boot's zero is known and the terminal's own time is off
 * by more than CLOCK_TOLERANCE_MS; else the terminal's time. *ret_orig is the terminal's
 * time when corrected, else 0. */
#define CLOCK_TOLERANCE_MS 60000
static int64_t clock_correct(struct batch_stmts *b, const char *terminal_id, const char *boot,
                             int64_t mono_ms, int64_t t, int64_t *ret_orig)
{
        int64_t true_ms;

        *ret_orig = 0;
        if (!boot[0])
                return t;
        sqlite3_reset(b->boot_get);
        sqlite3_bind_text(b->boot_get, 1, terminal_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(b->boot_get, 2, boot, -1, SQLITE_STATIC);
        if (sqlite3_step(b->boot_get) != SQLITE_ROW)
                return t;
        true_ms = sqlite3_column_int64(b->boot_get, 0) + mono_ms;
        if (true_ms - t <= CLOCK_TOLERANCE_MS && t - true_ms <= CLOCK_TOLERANCE_MS)
                return t;
        *ret_orig = t;
        return true_ms;
}

static int store_votes(struct sqlite_store *s, struct batch_stmts *st, const char *terminal_id,
                       const struct proto_batch *b, int64_t received_ms, struct proto_ack *ack)
{
        int64_t wp_id = 0, wp_dir = 0;
        char wp_code[VOTE_REF_MAX + 1] = "";

        sqlite3_bind_text(st->term, 1, terminal_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st->term) == SQLITE_ROW) {
                wp_id = sqlite3_column_int64(st->term, 0);
                sq_copy_text(st->term, 1, wp_code, sizeof(wp_code));
                wp_dir = sqlite3_column_int64(st->term, 2);
        }
        for (size_t i = 0; i < b->n_votes; i++) {
                const struct proto_vote *pv = &b->votes[i];
                const struct vote *v = &pv->vote;
                struct proto_result *res = &ack->results[i];
                int64_t emp_id, unit_id, cast, orig;
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
                sqlite3_reset(st->emp);
                sqlite3_bind_text(st->emp, 1, v->employee, -1, SQLITE_STATIC);
                if (sqlite3_step(st->emp) != SQLITE_ROW) {
                        reject(res, "employee: unknown personal number");
                        continue;
                }
                emp_id = sqlite3_column_int64(st->emp, 0);
                unit_id = sqlite3_column_int64(st->emp, 1);
                cast = clock_correct(st, terminal_id, v->boot, v->mono_ms, v->cast_at_ms, &orig);

                sqlite3_reset(st->ins);
                sqlite3_bind_text(st->ins, 1, v->id.s, -1, SQLITE_STATIC);
                sqlite3_bind_int(st->ins, 2, v->level);
                sqlite3_bind_int64(st->ins, 3, emp_id);
                sqlite3_bind_int64(st->ins, 4, unit_id);
                sqlite3_bind_int64(st->ins, 5, wp_id);
                sqlite3_bind_int64(st->ins, 6, wp_dir);
                sqlite3_bind_text(st->ins, 7, v->channel, -1, SQLITE_STATIC);
                sqlite3_bind_text(st->ins, 8, terminal_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st->ins, 9, v->shift, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st->ins, 10, cast);
                sqlite3_bind_int64(st->ins, 11, received_ms);
                sqlite3_bind_int(st->ins, 12, period_day_key(cast / 1000));
                sqlite3_bind_text(st->ins, 13, v->suppressed, -1, SQLITE_STATIC);
                if (orig)
                        sqlite3_bind_int64(st->ins, 14, orig);
                else
                        sqlite3_bind_null(st->ins, 14);
                sqlite3_bind_text(st->ins, 15, v->boot, -1, SQLITE_STATIC);
                /* a terminal takes votes only while a shift is open: one without is suspect */
                sqlite3_bind_text(st->ins, 16,
                                  strcmp(v->channel, VOTE_CHANNEL_TERMINAL) == 0 && !v->shift[0]
                                      ? "no_shift"
                                      : "",
                                  -1, SQLITE_STATIC);
                rc = sqlite3_step(st->ins);
                if (rc != SQLITE_DONE)
                        return sq_map_error(s->db, rc, "insert vote");
                res->status = sqlite3_changes(s->db) ? PROTO_STORED : PROTO_DUPLICATE;
                if (orig && res->status == PROTO_STORED)
                        log_info("Vote %s from terminal %s: cast time corrected by %+" PRId64
                                 " s (the terminal's clock was off)",
                                 v->id.s, terminal_id, (cast - orig) / 1000);
        }
        ack->n_results = b->n_votes;
        return 0;
}

static int store_events(struct sqlite_store *s, struct batch_stmts *st, const char *terminal_id,
                        const struct proto_batch *b, int64_t received_ms, struct proto_ack *ack)
{
        for (size_t i = 0; i < b->n_events; i++) {
                const struct proto_event *pe = &b->events[i];
                const struct vote_event *e = &pe->event;
                struct proto_result *res = &ack->event_results[i];
                int64_t at, orig;
                int rc;

                memset(res, 0, sizeof(*res));
                res->index = i;
                res->id = e->id;
                if (pe->error[0]) {
                        reject(res, pe->error);
                        continue;
                }
                at = clock_correct(st, terminal_id, e->boot, e->mono_ms, e->at_ms, &orig);
                sqlite3_reset(st->event);
                sqlite3_bind_text(st->event, 1, e->id.s, -1, SQLITE_STATIC);
                sqlite3_bind_text(st->event, 2, terminal_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st->event, 3, e->kind, -1, SQLITE_STATIC);
                sqlite3_bind_text(st->event, 4, e->employee, -1, SQLITE_STATIC);
                sqlite3_bind_text(st->event, 5, e->shift, -1, SQLITE_STATIC);
                sqlite3_bind_text(st->event, 6, e->detail, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st->event, 7, at);
                if (orig)
                        sqlite3_bind_int64(st->event, 8, orig);
                else
                        sqlite3_bind_null(st->event, 8);
                sqlite3_bind_int64(st->event, 9, received_ms);
                rc = sqlite3_step(st->event);
                if (rc != SQLITE_DONE)
                        return sq_map_error(s->db, rc, "insert event");
                res->status = sqlite3_changes(s->db) ? PROTO_STORED : PROTO_DUPLICATE;
        }
        ack->n_event_results = b->n_events;
        return 0;
}

/* Records the terminal as seen, its boot's clock and its status report. */
static int note_terminal(struct sqlite_store *s, struct batch_stmts *st, const char *terminal_id,
                         const struct proto_batch *b, int64_t received_ms)
{
        int rc;

        sqlite3_bind_int64(st->seen, 1, received_ms / 1000);
        sqlite3_bind_text(st->seen, 2, terminal_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st->seen);
        if (rc != SQLITE_DONE)
                return sq_map_error(s->db, rc, "terminal last seen");
        if (b->boot[0]) {
                sqlite3_bind_text(st->boot_set, 1, terminal_id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st->boot_set, 2, b->boot, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st->boot_set, 3, received_ms - b->mono_ms);
                sqlite3_bind_int64(st->boot_set, 4, received_ms / 1000);
                rc = sqlite3_step(st->boot_set);
                if (rc != SQLITE_DONE)
                        return sq_map_error(s->db, rc, "terminal boot");
        }
        if (b->status.present) {
                const struct proto_status_report *r = &b->status;

                sqlite3_bind_text(st->status, 1, r->version, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st->status, 2, r->queue);
                sqlite3_bind_int64(st->status, 3, r->rejected);
                sqlite3_bind_int64(st->status, 4, r->clock_offset_ms);
                sqlite3_bind_text(st->status, 5, r->last_error, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st->status, 6, received_ms / 1000);
                sqlite3_bind_text(st->status, 7, terminal_id, -1, SQLITE_STATIC);
                rc = sqlite3_step(st->status);
                if (rc != SQLITE_DONE)
                        return sq_map_error(s->db, rc, "terminal status");
        }
        return 0;
}

struct batch_job {
        const char *terminal_id;
        const struct proto_batch *b;
        int64_t received_ms;
        struct proto_ack *ack;
};

static int batch_run(struct sqlite_store *s, void *arg)
{
        struct batch_job *job = arg;
        struct batch_stmts *st = &s->batch;
        int r;

        r = batch_stmts_prepare(s);
        if (r < 0)
                return r;
        /* the boot's clock first, so that this batch's own votes are corrected with it */
        if ((r = note_terminal(s, st, job->terminal_id, job->b, job->received_ms)) >= 0 &&
            (r = store_votes(s, st, job->terminal_id, job->b, job->received_ms, job->ack)) >= 0)
                r = store_events(s, st, job->terminal_id, job->b, job->received_ms, job->ack);
        batch_stmts_reset(st);
        job->ack->server_time_ms = job->received_ms;
        return r;
}

/* A batch is acknowledged only once it is on disk: in the commit it shares with the other
 * requests' writes waiting at the same time (sq_group_write()). */
static int sq_store_batch(struct store *base, const char *terminal_id, const struct proto_batch *b,
                          int64_t received_ms, struct proto_ack *ack)
{
        struct batch_job arg = {terminal_id, b, received_ms, ack};
        struct sq_job job = {.run = batch_run, .arg = &arg};

        return sq_group_write((struct sqlite_store *)base, &job);
}

/* The employee as a vote page shows them, from a row that begins e.id, e.personal_no,
 * e.full_name, e.position, u.name, u.name_en, the workplace's code, whether the code is
 * revoked (the two lookups below). */
#define EMPLOYEE_COLUMNS "e.id, e.personal_no, e.full_name, e.position, u.name, u.name_en"
static void employee_row(sqlite3_stmt *st, struct store_employee *ret)
{
        memset(ret, 0, sizeof(*ret));
        ret->id = sqlite3_column_int64(st, 0);
        sq_copy_text(st, 1, ret->personal_no, sizeof(ret->personal_no));
        sq_copy_text(st, 2, ret->full_name, sizeof(ret->full_name));
        sq_copy_text(st, 3, ret->position, sizeof(ret->position));
        sq_copy_text(st, 4, ret->unit, sizeof(ret->unit));
        sq_copy_text(st, 5, ret->unit_en, sizeof(ret->unit_en));
        sq_copy_text(st, 6, ret->workplace, sizeof(ret->workplace));
        ret->revoked = sqlite3_column_int(st, 7) != 0;
}

static int sq_token_lookup(struct store *base, const char *token, struct store_employee *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3 *db = sq_read_begin(s);
        sqlite3_stmt *st;
        int r;

        r = sq_cached(db, &s->token_st,
                      "SELECT " EMPLOYEE_COLUMNS ", IFNULL(w.code, ''), q.revoked, q.channel"
                      " FROM qr_tokens q JOIN employees e ON e.id = q.employee_id"
                      " JOIN units u ON u.id = e.unit_id"
                      " LEFT JOIN workplaces w ON w.id = q.workplace_id WHERE q.token = ?");
        st = s->token_st;
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -ENOENT;
                goto out;
        }
        employee_row(st, ret);
        sq_copy_text(st, 8, ret->channel, sizeof(ret->channel));
out:
        if (st)
                sqlite3_reset(st); /* ends the read: an open one would hold back checkpoints */
        sq_read_end(s);
        return r;
}

struct web_vote_job {
        const struct store_employee *e;
        const struct store_web_vote *v;
};

static int web_vote_run(struct sqlite_store *s, void *arg)
{
        const struct web_vote_job *job = arg;
        const struct store_employee *e = job->e;
        const struct store_web_vote *v = job->v;
        sqlite3_stmt *st;
        int r, rc;

        r = sq_cached(s->db, &s->web_vote_st,
                      "INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id,"
                      " direction_id, channel, cast_at, received_at, day, flag, counted,"
                      " client_hash, phone_hash)"
                      " SELECT ?1, ?2, e.id, e.unit_id, w.id, w.direction_id, ?3, ?4, ?4, ?5,"
                      " NULLIF(?8, ''), ?8 = '', ?9, ?10"
                      " FROM employees e LEFT JOIN workplaces w ON w.code = ?6 WHERE e.id = ?7"
                      " ON CONFLICT(uuid) DO NOTHING");
        if (r < 0)
                return r;
        st = s->web_vote_st;
        sqlite3_bind_text(st, 1, v->id.s, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, v->level);
        sqlite3_bind_text(st, 3, e->channel, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, v->cast_ms);
        sqlite3_bind_int(st, 5, period_day_key(v->cast_ms / 1000));
        sqlite3_bind_text(st, 6, e->workplace, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, e->id);
        sqlite3_bind_text(st, 8, v->flag, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 9, v->client_hash, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 10, v->phone_hash, 32, SQLITE_STATIC);
        rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? 0 : sq_map_error(s->db, rc, "insert web vote");
        sqlite3_reset(st);
        return r;
}

/* The vote is thanked only once it is on disk: in the commit it shares with the votes and
 * form tokens of the requests waiting at the same time (sq_group_write()). */
static int sq_store_web_vote(struct store *base, const struct store_employee *e,
                             const struct store_web_vote *v)
{
        struct web_vote_job arg = {e, v};
        struct sq_job job = {.run = web_vote_run, .arg = &arg};

        return sq_group_write((struct sqlite_store *)base, &job);
}

/* What a vote page's limits need (struct store_web_submit), counted on db inside the
 * transaction: exact even for forms sent at the same moment. */
static int web_recent(struct sqlite_store *s, const struct store_web_vote *v, int64_t employee_id,
                      const struct store_web_submit *q, struct store_web_recent *ret)
{
        sqlite3_stmt *st;
        int r;

        r = sq_cached(s->db, &s->recent_st,
                      "SELECT EXISTS(SELECT 1 FROM votes WHERE phone_hash = ?1 AND employee_id = ?3"
                      " AND cast_at >= ?4),"
                      " (SELECT COUNT(*) FROM (SELECT 1 FROM votes WHERE client_hash = ?2"
                      " AND cast_at >= ?5 LIMIT ?6)),"
                      " (SELECT COUNT(*) FROM (SELECT 1 FROM votes WHERE employee_id = ?3"
                      " AND cast_at >= ?5 AND client_hash IS NOT NULL LIMIT ?7))");
        if (r < 0)
                return r;
        st = s->recent_st;
        sqlite3_bind_blob(st, 1, v->phone_hash, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, v->client_hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, employee_id);
        sqlite3_bind_int64(st, 4, q->phone_since_ms);
        sqlite3_bind_int64(st, 5, q->since_ms);
        sqlite3_bind_int64(st, 6, q->client_cap > 0 ? q->client_cap : 1);
        sqlite3_bind_int64(st, 7, q->employee_cap > 0 ? q->employee_cap : 1);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = sq_map_error(s->db, SQLITE_ERROR, "recent votes");
        } else {
                ret->phone_voted = sqlite3_column_int(st, 0) != 0;
                ret->client_votes = sqlite3_column_int64(st, 1);
                ret->employee_votes = sqlite3_column_int64(st, 2);
        }
        sqlite3_reset(st);
        return r;
}

/* Whether a form token was used (and is still kept). */
static int form_token_seen(struct sqlite_store *s, const uint8_t hash[32])
{
        sqlite3_stmt *st;
        int r, rc;

        r = sq_cached(s->db, &s->form_seen_st, "SELECT 1 FROM form_tokens WHERE token_hash = ?");
        if (r < 0)
                return r;
        st = s->form_seen_st;
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW ? -EALREADY : rc == SQLITE_DONE ? 0 : sq_map_error(s->db, rc, "form token");
        sqlite3_reset(st);
        return r;
}

static int form_token_keep(struct sqlite_store *s, const struct store_web_submit *q)
{
        sqlite3_stmt *st;
        int r, rc;

        r = sq_cached(s->db, &s->form_token_st,
                      "INSERT INTO form_tokens(token_hash, expires_at, used_at) VALUES (?, ?, ?)");
        if (r < 0)
                return r;
        st = s->form_token_st;
        sqlite3_bind_blob(st, 1, q->form_hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, q->form_expires_s);
        sqlite3_bind_int64(st, 3, q->now_s);
        rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? 0 : sq_map_error(s->db, rc, "form token");
        sqlite3_reset(st);
        /* and the table keeps only tokens that could still come back */
        if (r == 0 && randombytes_uniform(64) == 0) {
                sqlite3_stmt *del = NULL;

                if (sq_prepare(s->db, "DELETE FROM form_tokens WHERE expires_at < ?", &del) < 0)
                        return 0;
                sqlite3_bind_int64(del, 1, q->now_s);
                if (sqlite3_step(del) != SQLITE_DONE)
                        log_warn("Cannot prune used form tokens: %s", sqlite3_errmsg(s->db));
                sqlite3_finalize(del);
        }
        return r;
}

struct web_submit_job {
        const struct store_employee *e;
        struct store_web_vote *v;
        const struct store_web_submit *q;
};

static int web_submit_run(struct sqlite_store *s, void *arg)
{
        struct web_submit_job *job = arg;
        struct web_vote_job vote = {job->e, job->v};
        struct store_web_recent recent = {0};
        int r;

        r = form_token_seen(s, job->q->form_hash);
        if (r < 0)
                return r;
        r = web_recent(s, job->v, job->e->id, job->q, &recent);
        if (r < 0)
                return r;
        r = job->q->decide(job->q->userdata, &recent, job->v);
        if (r < 0)
                return r;
        r = web_vote_run(s, &vote);
        if (r < 0)
                return r;
        return form_token_keep(s, job->q);
}

/* Under the group's lock, so that two forms sent at once see each other; thanked only once
 * the commit that it shares with the other requests' writes is on disk. */
static int sq_web_vote_submit(struct store *base, const struct store_employee *e,
                              struct store_web_vote *v, const struct store_web_submit *q)
{
        struct web_submit_job arg = {e, v, q};
        struct sq_job job = {.run = web_submit_run, .arg = &arg};

        return sq_group_write((struct sqlite_store *)base, &job);
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
        r = sq_prepare(
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
            "  AND counted = 1"
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
                sq_copy_text(st, 3, row->name, sizeof(row->name));
                for (int l = 1; l <= 3; l++) {
                        row->count[l] = sqlite3_column_int64(st, 3 + l);
                        row->count[0] += row->count[l];
                }
        }
        if (rc != SQLITE_DONE) {
                r = sq_map_error(s->db, rc, "report by unit");
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
        r = sq_prepare(s->db, "SELECT COUNT(*) FROM votes", &st);
        if (r >= 0 && sqlite3_step(st) == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* Runs one statement under the lock with parameters described by types: 't' text, 'i' int64,
 * 'n' int64 where 0 binds NULL, 'b' a 32-byte blob. Stores the new rowid in *ret_id if given. */
int sq_collect_stmt(sqlite3_stmt *st, size_t size, void (*fill)(sqlite3_stmt *, void *), void **ret,
                    size_t *ret_n)
{
        char *items = NULL;
        size_t n = 0, cap = 0;
        int r = 0, rc;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (n == cap) {
                        char *p;

                        cap = cap ? cap * 2 : 64;
                        p = realloc(items, cap * size);
                        if (!p) {
                                r = -ENOMEM;
                                goto out;
                        }
                        items = p;
                }
                memset(items + n * size, 0, size);
                fill(st, items + n * size);
                n++;
        }
        if (rc != SQLITE_DONE) {
                r = sq_map_error(sqlite3_db_handle(st), rc, sqlite3_sql(st));
                goto out;
        }
        *ret = items;
        *ret_n = n;
        items = NULL;
out:
        free(items);
        return r;
}

int sq_collect(sqlite3 *db, const char *sql, const char *param, size_t size,
               void (*fill)(sqlite3_stmt *, void *), void **ret, size_t *ret_n)
{
        sqlite3_stmt *st = NULL;
        int r = sq_prepare(db, sql, &st);

        if (r < 0)
                return r;
        if (param)
                sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
        r = sq_collect_stmt(st, size, fill, ret, ret_n);
        sqlite3_finalize(st);
        return r;
}

int sq_run(struct sqlite_store *s, int64_t *ret_id, const char *sql, const char *types, ...)
{
        sqlite3_stmt *st = NULL;
        va_list ap;
        int r, rc;

        pthread_mutex_lock(&s->lock);
        r = sq_prepare(s->db, sql, &st);
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
                                                     : sq_map_error(s->db, rc, sql);
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
        return sq_run((struct sqlite_store *)base, ret_id,
                      "INSERT INTO units(parent_id, kind, name, name_en, code) VALUES (?, ?, ?, ?,"
                      " 'U' || (SELECT IFNULL(MAX(id), 0) + 1 FROM units))",
                      "nttt", parent_id, kind, name, name_en ? name_en : "");
}

static int sq_direction_add(struct store *base, const char *code, const char *name,
                            const char *name_en, int64_t *ret_id)
{
        return sq_run((struct sqlite_store *)base, ret_id,
                      "INSERT INTO directions(code, name, name_en) VALUES (?, ?, ?)", "ttt", code,
                      name, name_en ? name_en : "");
}

static int sq_employee_add(struct store *base, const char *personal_no, const char *full_name,
                           const char *position, int64_t unit_id, bool is_head, int64_t *ret_id)
{
        return sq_run((struct sqlite_store *)base, ret_id,
                      "INSERT INTO employees(personal_no, full_name, position, unit_id, is_head)"
                      " VALUES (?, ?, ?, ?, ?)",
                      "tttii", personal_no, full_name, position, unit_id, (int64_t)is_head);
}

static int sq_workplace_add(struct store *base, const char *code, const char *name, int64_t unit_id,
                            int64_t direction_id, int64_t *ret_id)
{
        return sq_run(
            (struct sqlite_store *)base, ret_id,
            "INSERT INTO workplaces(code, name, unit_id, direction_id) VALUES (?, ?, ?, ?)", "ttin",
            code, name, unit_id, direction_id);
}

static int sq_terminal_add(struct store *base, const char *terminal_id, const char *workplace_code,
                           const char *secret)
{
        unsigned char hash[32];

        secret_hash(secret, hash);
        return sq_run((struct sqlite_store *)base, NULL,
                      "INSERT INTO terminals(id, workplace_id, secret_hash, created_at, qr_key)"
                      " SELECT ?, id, ?, strftime('%s', 'now'), randomblob(32) FROM workplaces"
                      " WHERE code = ?",
                      "tbt", terminal_id, hash, workplace_code);
}

static int sq_token_add(struct store *base, const char *token, int64_t employee_id,
                        const char *workplace_code, const char *channel)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      "INSERT INTO qr_tokens(token, employee_id, workplace_id, channel, created_at)"
                      " SELECT ?1, e.id, (SELECT id FROM workplaces WHERE code = ?3), ?4,"
                      " strftime('%s', 'now') FROM employees e WHERE e.id = ?2",
                      "titt", token, employee_id, workplace_code ? workplace_code : "", channel);
}

static int sq_token_revoke(struct store *base, const char *token)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      "UPDATE qr_tokens SET revoked = 1 WHERE token = ?", "t", token);
}

static int sq_user_add(struct store *base, const char *login, const char *password_hash,
                       const char *role, int64_t unit_id)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      "INSERT INTO users(login, password_hash, role, unit_id) VALUES (?, ?, ?, ?)",
                      "tttn", login, password_hash, role, unit_id);
}

static int sq_terminal_revoke(struct store *base, const char *terminal_id)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      "UPDATE terminals SET revoked = 1 WHERE id = ?", "t", terminal_id);
}

static int sq_employee_set_pin(struct store *base, const char *personal_no, const char *pin_hash)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      "UPDATE employees SET pin_hash = ? WHERE personal_no = ?", "tt", pin_hash,
                      personal_no);
}

/* The settings a terminal pulls, from meta keys "terminal.<name>"; unset ones keep the
 * defaults. Called with the lock held. */
static void read_terminal_settings(struct sqlite_store *s, struct roster_settings *rs)
{
        sqlite3_stmt *st = NULL;

        roster_settings_defaults(rs);
        if (sq_prepare(s->db, "SELECT key, value FROM meta WHERE key LIKE 'terminal.%'", &st) < 0)
                return;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *k = (const char *)sqlite3_column_text(st, 0) + strlen("terminal.");
                const char *v = (const char *)sqlite3_column_text(st, 1);
                int64_t n = -1; /* not a whole number: in no setting's range */
                char *end;

                /* strictly: sqlite3_column_int64() reads "abc" as 0 and "6x" as 6 */
                if (v && v[0]) {
                        long long x;

                        errno = 0;
                        x = strtoll(v, &end, 10);
                        if (!*end && errno == 0)
                                n = x;
                }

                if (strcmp(k, "min_interval_s") == 0 && n >= 0 && n <= 3600)
                        rs->min_interval_s = n;
                else if (strcmp(k, "idle_logout_s") == 0 && n >= 0 && n <= 7 * 86400)
                        rs->idle_logout_s = n;
                else if (strcmp(k, "qr_ttl_s") == 0 && n >= 30 && n <= 86400)
                        rs->qr_ttl_s = n;
                else if (strcmp(k, "thanks_s") == 0 && n >= 1 && n <= 60)
                        rs->thanks_s = n;
                else if (strcmp(k, "selection_s") == 0 && n >= 2 && n <= 600)
                        rs->selection_s = n;
                else if (strcmp(k, "one_tap") == 0 && (n == 0 || n == 1))
                        rs->one_tap = n == 1;
                else if (strcmp(k, "lang") == 0 && v)
                        (void)i18n_lang_from_string(v, &rs->lang);
                else if (strcmp(k, "logout_at") == 0 && v && strlen(v) == 5 && v[2] == ':') {
                        int h = atoi(v), m = atoi(v + 3);
                        if (h >= 0 && h < 24 && m >= 0 && m < 60)
                                rs->logout_minute = h * 60 + m;
                } else
                        log_warn("meta %s = %s: not a terminal setting, or out of range",
                                 (const char *)sqlite3_column_text(st, 0), v ? v : "");
        }
        sqlite3_finalize(st);
}

static int sq_roster_get(struct store *base, const char *terminal_id, struct roster *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        struct roster ro = {0};
        sqlite3_stmt *st = NULL;
        size_t size = 0;
        int64_t unit_id = 0;
        int r, rc;

        pthread_mutex_lock(&s->lock);
        r = sq_prepare(
            s->db,
            "SELECT w.code, w.name, w.unit_id, t.qr_key FROM terminals t"
            " JOIN workplaces w ON w.id = t.workplace_id WHERE t.id = ? AND t.revoked = 0",
            &st);
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, terminal_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 3) != QRTOKEN_KEY_LEN) {
                r = -EACCES;
                goto out;
        }
        snprintf(ro.terminal, sizeof(ro.terminal), "%s", terminal_id);
        sq_copy_text(st, 0, ro.workplace, sizeof(ro.workplace));
        sq_copy_text(st, 1, ro.workplace_name, sizeof(ro.workplace_name));
        unit_id = sqlite3_column_int64(st, 2);
        memcpy(ro.qr_key, sqlite3_column_blob(st, 3), QRTOKEN_KEY_LEN);
        sqlite3_finalize(st);
        st = NULL;
        read_terminal_settings(s, &ro.settings);

        /* the employees of the workplace's unit and of every unit below it */
        r = sq_prepare(
            s->db,
            "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL"
            " SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id)"
            " SELECT e.personal_no, e.full_name, e.position, u.name, e.pin_hash"
            " FROM employees e JOIN sub ON sub.id = e.unit_id JOIN units u ON u.id = e.unit_id"
            " ORDER BY e.full_name, e.personal_no LIMIT ?2",
            &st);
        if (r < 0)
                goto out;
        sqlite3_bind_int64(st, 1, unit_id);
        sqlite3_bind_int(st, 2, ROSTER_EMPLOYEES_MAX);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct roster_employee *e;

                if (ro.n_employees == size) {
                        void *p;

                        size = size ? size * 2 : 16;
                        p = realloc(ro.employees, size * sizeof(*ro.employees));
                        if (!p) {
                                r = -ENOMEM;
                                goto out;
                        }
                        ro.employees = p;
                }
                e = &ro.employees[ro.n_employees++];
                memset(e, 0, sizeof(*e));
                sq_copy_text(st, 0, e->id, sizeof(e->id));
                sq_copy_text(st, 1, e->full_name, sizeof(e->full_name));
                sq_copy_text(st, 2, e->position, sizeof(e->position));
                sq_copy_text(st, 3, e->unit, sizeof(e->unit));
                sq_copy_text(st, 4, e->pin_hash, sizeof(e->pin_hash));
        }
        if (rc != SQLITE_DONE) {
                r = sq_map_error(s->db, rc, "roster");
                goto out;
        }
        *ret = ro;
        ro = (struct roster){0};
        r = 0;
out:
        roster_finish(&ro);
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* On the vote page's read connection, like sq_token_lookup(): an on-screen code's page does
 * not wait behind a commit. */
static int sq_screen_lookup(struct store *base, const char *terminal_id, const char *personal_no,
                            uint8_t key[QRTOKEN_KEY_LEN], struct store_employee *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3 *db = sq_read_begin(s);
        sqlite3_stmt *st;
        int r;

        r = sq_cached(db, &s->screen_st,
                      "SELECT " EMPLOYEE_COLUMNS ", w.code, t.revoked, t.qr_key FROM terminals t"
                      " JOIN workplaces w ON w.id = t.workplace_id, employees e"
                      " JOIN units u ON u.id = e.unit_id WHERE t.id = ? AND e.personal_no = ?");
        st = s->screen_st;
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, terminal_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, personal_no, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_bytes(st, 8) != QRTOKEN_KEY_LEN) {
                r = -ENOENT;
                goto out;
        }
        employee_row(st, ret);
        snprintf(ret->channel, sizeof(ret->channel), "%s", VOTE_CHANNEL_QR_SCREEN);
        memcpy(key, sqlite3_column_blob(st, 8), QRTOKEN_KEY_LEN);
out:
        if (st)
                sqlite3_reset(st);
        sq_read_end(s);
        return r;
}

/* Enrollment codes: 12 digits grouped by four, so that a technician can type one on the
 * terminal's numeric keypad; 40 bits, against at most 10 wrong tries per address in 10
 * minutes (api.c) and a lifetime of days. Only a hash of the normalised code is kept. */
static const char code_alphabet[] = "0123456789";

static int code_hash(const char *code, unsigned char out[32])
{
        char norm[ENROLL_CODE_MAX];
        size_t n = 0;

        for (const char *p = code; *p; p++) {
                char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;

                if (c == '-' || c == ' ')
                        continue;
                if (!strchr(code_alphabet, c) || n + 1 >= sizeof(norm))
                        return -EINVAL;
                norm[n++] = c;
        }
        if (n != 12)
                return -EINVAL;
        crypto_generichash(out, 32, (const unsigned char *)norm, n, NULL, 0);
        return 0;
}

static int sq_enroll_code_add(struct store *base, const char *workplace_code, int64_t ttl_s,
                              char *code, size_t n)
{
        unsigned char hash[32];
        char c[16];
        int k = 0;

        if (n < 15)
                return -ENAMETOOLONG;
        for (int i = 0; i < 12; i++) {
                if (i && i % 4 == 0)
                        c[k++] = '-';
                c[k++] = code_alphabet[randombytes_uniform(sizeof(code_alphabet) - 1)];
        }
        c[k] = 0;
        if (code_hash(c, hash) < 0)
                return -EINVAL;
        int r = sq_run((struct sqlite_store *)base, NULL,
                       "INSERT INTO enroll_codes(code_hash, workplace_id, created_at, expires_at)"
                       " SELECT ?1, id, strftime('%s', 'now'), strftime('%s', 'now') + ?2"
                       " FROM workplaces WHERE code = ?3",
                       "bit", hash, ttl_s, workplace_code);
        if (r < 0)
                return r;
        memcpy(code, c, (size_t)k + 1);
        return 0;
}

static int sq_enroll(struct store *base, const char *code, int64_t now_s, struct enroll_answer *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        unsigned char hash[32], secret_bin[32], sh[32];
        struct enroll_answer a = {0};
        int64_t wp_id;
        int r, rc;

        if (code_hash(code, hash) < 0)
                return -EACCES;
        pthread_mutex_lock(&s->lock);
        r = sq_exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                goto out;
        r = sq_prepare(
            s->db,
            "SELECT workplace_id FROM enroll_codes WHERE code_hash = ? AND used_at IS NULL"
            " AND expires_at >= ?",
            &st);
        if (r < 0)
                goto rollback;
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_s);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -EACCES;
                goto rollback;
        }
        wp_id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;

        /* the first free id of the form T001, T002, ... */
        r = sq_prepare(
            s->db,
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)"
            " SELECT printf('T%03d', i) FROM n WHERE printf('T%03d', i) NOT IN"
            " (SELECT id FROM terminals) LIMIT 1",
            &st);
        if (r < 0)
                goto rollback;
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -ENOSPC;
                goto rollback;
        }
        sq_copy_text(st, 0, a.terminal, sizeof(a.terminal));
        sqlite3_finalize(st);
        st = NULL;

        randombytes_buf(secret_bin, sizeof(secret_bin));
        sodium_bin2base64(a.secret, sizeof(a.secret), secret_bin, sizeof(secret_bin),
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        secret_hash(a.secret, sh);
        r = sq_prepare(s->db,
                       "INSERT INTO terminals(id, workplace_id, secret_hash, created_at, qr_key)"
                       " VALUES (?, ?, ?, ?, randomblob(32))",
                       &st);
        if (r < 0)
                goto rollback;
        sqlite3_bind_text(st, 1, a.terminal, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, wp_id);
        sqlite3_bind_blob(st, 3, sh, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now_s);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        st = NULL;
        if (rc != SQLITE_DONE) {
                r = sq_map_error(s->db, rc, "enroll terminal");
                goto rollback;
        }
        r = sq_prepare(
            s->db, "UPDATE enroll_codes SET used_at = ?, terminal_id = ? WHERE code_hash = ?", &st);
        if (r < 0)
                goto rollback;
        sqlite3_bind_int64(st, 1, now_s);
        sqlite3_bind_text(st, 2, a.terminal, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, hash, 32, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
                r = sq_map_error(s->db, rc, "enroll code used");
                goto rollback;
        }
        r = sq_exec(s->db, "COMMIT");
        if (r < 0)
                goto rollback;
        *ret = a;
        goto out;
rollback:
        sq_exec(s->db, "ROLLBACK");
out:
        sodium_memzero(&a, sizeof(a));
        sodium_memzero(secret_bin, sizeof(secret_bin));
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static void read_user(sqlite3_stmt *st, int col, struct store_user *u)
{
        memset(u, 0, sizeof(*u));
        u->id = sqlite3_column_int64(st, col);
        sq_copy_text(st, col + 1, u->login, sizeof(u->login));
        sq_copy_text(st, col + 2, u->password_hash, sizeof(u->password_hash));
        sq_copy_text(st, col + 3, u->role, sizeof(u->role));
        u->unit_id = sqlite3_column_int64(st, col + 4);
}

static int sq_user_lookup(struct store *base, const char *login, struct store_user *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = sq_prepare(s->db,
                       "SELECT id, login, password_hash, role, IFNULL(unit_id, 0) FROM users"
                       " WHERE login = ?",
                       &st);
        if (r < 0)
                goto out;
        sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -ENOENT;
                goto out;
        }
        read_user(st, 0, ret);
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_session_add(struct store *base, const uint8_t hash[32], int64_t user_id,
                          const char *csrf, int64_t now, int64_t expires_at)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      "INSERT INTO sessions(token_hash, user_id, csrf, created_at, expires_at,"
                      " idle_until) VALUES (?, ?, ?, ?, ?, ?)",
                      "bitiii", hash, user_id, csrf, now, expires_at, now);
}

static int sq_session_get(struct store *base, const uint8_t hash[32], int64_t now, int64_t idle_s,
                          struct store_user *ret_user, char *csrf, size_t csrf_size)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        /* idle_until is when the session was last used; it lives idle_s from then */
        r = sq_prepare(
            s->db,
            "UPDATE sessions SET idle_until = ?2 WHERE token_hash = ?1 AND expires_at > ?2"
            " AND idle_until + ?3 > ?2 RETURNING csrf, (SELECT id FROM users"
            " WHERE id = user_id), (SELECT login FROM users WHERE id = user_id),"
            " (SELECT password_hash FROM users WHERE id = user_id),"
            " (SELECT role FROM users WHERE id = user_id),"
            " (SELECT IFNULL(unit_id, 0) FROM users WHERE id = user_id)",
            &st);
        if (r < 0)
                goto out;
        sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, idle_s);
        if (sqlite3_step(st) != SQLITE_ROW) {
                r = -ENOENT;
                goto out;
        }
        sq_copy_text(st, 0, csrf, csrf_size);
        read_user(st, 1, ret_user);
        memset(ret_user->password_hash, 0, sizeof(ret_user->password_hash));
        /* finish the statement so that the UPDATE is done before the lock is let go */
        while (sqlite3_step(st) == SQLITE_ROW)
                ;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_session_delete(struct store *base, const uint8_t hash[32])
{
        int r = sq_run((struct sqlite_store *)base, NULL,
                       "DELETE FROM sessions WHERE token_hash = ?", "b", hash);

        return r == -ENOENT ? 0 : r;
}

static int sq_audit_add(struct store *base, const char *login, const char *action,
                        const char *detail, const char *client, int64_t at)
{
        return sq_run((struct sqlite_store *)base, NULL,
                      "INSERT INTO audit(at, login, action, detail, client) VALUES (?, ?, ?, ?, ?)",
                      "itttt", at, login, action, detail ? detail : "", client ? client : "");
}

static void fill_user(sqlite3_stmt *st, void *p)
{
        struct store_user *u = p;

        u->id = sqlite3_column_int64(st, 0);
        sq_copy_text(st, 1, u->login, sizeof(u->login));
        sq_copy_text(st, 2, u->role, sizeof(u->role));
        u->unit_id = sqlite3_column_int64(st, 3);
}

static int sq_users_list(struct store *base, struct store_user **ret, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        void *p = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = sq_collect(s->db,
                       "SELECT id, login, role, IFNULL(unit_id, 0) FROM users ORDER BY login", NULL,
                       sizeof(struct store_user), fill_user, &p, ret_n);
        pthread_mutex_unlock(&s->lock);
        if (r >= 0)
                *ret = p;
        return r;
}

static void fill_audit(sqlite3_stmt *st, void *p)
{
        struct store_audit *a = p;

        a->at = sqlite3_column_int64(st, 0);
        sq_copy_text(st, 1, a->login, sizeof(a->login));
        sq_copy_text(st, 2, a->action, sizeof(a->action));
        sq_copy_text(st, 3, a->detail, sizeof(a->detail));
        sq_copy_text(st, 4, a->client, sizeof(a->client));
}

static int sq_audit_list(struct store *base, size_t limit, struct store_audit **ret, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        char bound[24];
        void *p = NULL;
        int r;

        snprintf(bound, sizeof(bound), "%zu", limit);
        pthread_mutex_lock(&s->lock);
        r = sq_collect(
            s->db, "SELECT at, login, action, detail, client FROM audit ORDER BY id DESC LIMIT ?",
            bound, sizeof(struct store_audit), fill_audit, &p, ret_n);
        pthread_mutex_unlock(&s->lock);
        if (r >= 0)
                *ret = p;
        return r;
}

static void fill_terminal(sqlite3_stmt *st, void *p)
{
        struct store_terminal *t = p;

        sq_copy_text(st, 0, t->id, sizeof(t->id));
        sq_copy_text(st, 1, t->workplace, sizeof(t->workplace));
        sq_copy_text(st, 2, t->workplace_name, sizeof(t->workplace_name));
        t->revoked = sqlite3_column_int(st, 3) != 0;
        t->last_seen = sqlite3_column_int64(st, 4);
        sq_copy_text(st, 5, t->version, sizeof(t->version));
        t->queue = sqlite3_column_int64(st, 6);
        t->rejected = sqlite3_column_int64(st, 7);
        t->clock_offset_ms = sqlite3_column_int64(st, 8);
        sq_copy_text(st, 9, t->last_error, sizeof(t->last_error));
}

static int sq_terminals_list(struct store *base, struct store_terminal **ret, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        void *p = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = sq_collect(s->db,
                       "SELECT t.id, w.code, w.name, t.revoked, IFNULL(t.last_seen, 0), t.version,"
                       " t.queue, t.rejected, t.clock_offset_ms, t.last_error FROM terminals t"
                       " JOIN workplaces w ON w.id = t.workplace_id ORDER BY t.id",
                       NULL, sizeof(struct store_terminal), fill_terminal, &p, ret_n);
        pthread_mutex_unlock(&s->lock);
        if (r >= 0)
                *ret = p;
        return r;
}

/* The units of a subtree, for WHERE unit_id IN (...); ?1 is the root, 0 meaning all. */
#define SUBTREE_CTE                                                                                \
        "WITH RECURSIVE sub(id) AS (SELECT id FROM units WHERE ?1 = 0 OR id = ?1"                  \
        " UNION SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id) "

static void fill_flagged(sqlite3_stmt *st, void *p)
{
        struct store_flagged *f = p;

        sq_copy_text(st, 0, f->uuid, sizeof(f->uuid));
        f->level = sqlite3_column_int(st, 1);
        f->cast_at_ms = sqlite3_column_int64(st, 2);
        sq_copy_text(st, 3, f->channel, sizeof(f->channel));
        sq_copy_text(st, 4, f->employee, sizeof(f->employee));
        sq_copy_text(st, 5, f->unit, sizeof(f->unit));
        sq_copy_text(st, 6, f->flag, sizeof(f->flag));
        sq_copy_text(st, 7, f->review, sizeof(f->review));
        sq_copy_text(st, 8, f->review_by, sizeof(f->review_by));
        sq_copy_text(st, 9, f->review_reason, sizeof(f->review_reason));
}

static int sq_flagged_list(struct store *base, int64_t unit_id, size_t limit,
                           struct store_flagged **ret, size_t *ret_n)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        sqlite3_stmt *st = NULL;
        void *p = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = sq_prepare(s->db,
                       SUBTREE_CTE
                       "SELECT v.uuid, v.level, v.cast_at, v.channel, e.full_name, u.name, v.flag,"
                       " IFNULL(v.review, ''), IFNULL(v.review_by, ''), IFNULL(v.review_reason, '')"
                       " FROM votes v JOIN employees e ON e.id = v.employee_id"
                       " JOIN units u ON u.id = v.unit_id"
                       " WHERE v.flag IS NOT NULL AND v.unit_id IN (SELECT id FROM sub)"
                       " ORDER BY v.review IS NOT NULL, v.cast_at DESC LIMIT ?2",
                       &st);
        if (r < 0)
                goto out;
        sqlite3_bind_int64(st, 1, unit_id);
        sqlite3_bind_int64(st, 2, (int64_t)limit);
        r = sq_collect_stmt(st, sizeof(struct store_flagged), fill_flagged, &p, ret_n);
        if (r >= 0)
                *ret = p;
out:
        sqlite3_finalize(st);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int sq_vote_review(struct store *base, const char *uuid, bool count, const char *reason,
                          const char *by, int64_t unit_id, int64_t now)
{
        return sq_run(
            (struct sqlite_store *)base, NULL,
            SUBTREE_CTE "UPDATE votes SET review = ?2, counted = ?3, review_reason = ?4,"
                        " review_by = ?5, reviewed_at = ?6 WHERE uuid = ?7 AND flag IS NOT NULL"
                        " AND suppressed IS NULL AND unit_id IN (SELECT id FROM sub)",
            "itittit", unit_id, count ? "count" : "exclude", (int64_t)count, reason, by, now, uuid);
}

static int sq_backup(struct store *base, const char *path)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        char tmp[4096];
        sqlite3 *dst = NULL;
        sqlite3_backup *bk;
        int rc, r;

        if (snprintf(tmp, sizeof(tmp), "%s.partial", path) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        unlink(tmp);
        rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        if (rc != SQLITE_OK) {
                r = sq_map_error(dst, rc, tmp);
                goto out;
        }
        /* one step: in WAL mode the copy reads one snapshot while writers go on (other
         * processes, like the serving collector); copying in several steps would start over
         * at every write they make */
        pthread_mutex_lock(&s->lock);
        bk = sqlite3_backup_init(dst, "main", s->db, "main");
        if (bk) {
                do {
                        rc = sqlite3_backup_step(bk, -1);
                        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
                                sqlite3_sleep(50);
                } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
        }
        pthread_mutex_unlock(&s->lock);
        if (!bk) {
                r = sq_map_error(dst, sqlite3_errcode(dst), "backup");
                goto out;
        }
        pthread_mutex_lock(&s->lock);
        sqlite3_backup_finish(bk);
        pthread_mutex_unlock(&s->lock);
        if (rc != SQLITE_DONE) {
                r = sq_map_error(dst, rc, "backup");
                goto out;
        }
        r = sq_exec(dst, "PRAGMA journal_mode=DELETE");
        if (r < 0)
                goto out;
        rc = sqlite3_close(dst);
        dst = NULL;
        if (rc != SQLITE_OK) {
                r = sq_map_error(NULL, rc, "backup close");
                goto out;
        }
        r = fileio_fsync_path(tmp);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r >= 0)
                r = fileio_fsync_dir_of(path);
out:
        if (dst)
                sqlite3_close(dst);
        if (r < 0)
                unlink(tmp);
        return r;
}

static int sq_meta_set(struct store *base, const char *key, const char *value)
{
        return sq_run((struct sqlite_store *)base, NULL,
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
        r = sq_prepare(s->db, "SELECT value FROM meta WHERE key = ?", &st);
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
        sq_copy_text(st, 0, buf, n);
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
    .web_vote_submit = sq_web_vote_submit,
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
    .roster_get = sq_roster_get,
    .screen_lookup = sq_screen_lookup,
    .employee_set_pin = sq_employee_set_pin,
    .enroll_code_add = sq_enroll_code_add,
    .enroll = sq_enroll,
    .terminal_revoke = sq_terminal_revoke,
    .user_lookup = sq_user_lookup,
    .session_add = sq_session_add,
    .session_get = sq_session_get,
    .session_delete = sq_session_delete,
    .audit_add = sq_audit_add,
    .terminals_list = sq_terminals_list,
    .users_list = sq_users_list,
    .audit_list = sq_audit_list,
    .flagged_list = sq_flagged_list,
    .vote_review = sq_vote_review,
    .backup = sq_backup,
    .qr_list = sq_qr_list,
    .qr_issue = sq_qr_issue,
    .qr_revoke = sq_qr_revoke,
    .org_import = sq_org_import,
    .org_export = sq_org_export,
    .org_record_get = sq_org_record_get,
    .org_record_save = sq_org_record_save,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .report_cut = sq_report_cut,
    .report_org = sq_report_org,
    .report_fold = sq_report_fold,
    .alert_window = sq_alert_window,
    .alert_add = sq_alert_add,
    .alert_list = sq_alert_list,
    .alert_mailed = sq_alert_mailed,
    .api_token_add = sq_api_token_add,
    .api_token_get = sq_api_token_get,
    .api_token_used = sq_api_token_used,
    .api_token_list = sq_api_token_list,
    .api_token_revoke = sq_api_token_revoke,
};
