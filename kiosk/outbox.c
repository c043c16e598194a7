/* SPDX-License-Identifier: MIT */
/* The terminal's outbox on SQLite: WAL with synchronous=FULL (a commit is fsynced before it
 * returns), a schema migrated by PRAGMA user_version, hot statements kept prepared on the
 * handle. Invariants: a vote leaves state 0 (pending) only through outbox_apply_ack(), and any
 * refused write is rolled back whole, so an error never leaves half a change behind. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "outbox.h"
#include "sqlerr.h"

#define BUSY_TIMEOUT_MS 5000

enum vote_state {
        STATE_PENDING = 0,  /* waiting to be sent */
        STATE_SENT = 1,     /* the collector stored it (now or before) */
        STATE_REJECTED = 2, /* the collector refused it; reason says why */
};

/* migrations[i] takes the schema from user_version i to i + 1, inside one transaction.
 * Append only: a shipped migration is never edited. Version 2 is meant to add the shift
 * events (a table shift_events(id, shift, kind, at_ms, state, seq) uploaded like votes);
 * it is not built yet. */
static const char *const migrations[] = {
    /* 1: votes. `seq` is the order of arrival, unaffected by clock jumps; the index on
     * (state, seq) makes "oldest pending first" a range scan and counts per state cheap. */
    "CREATE TABLE votes ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),"
    " channel TEXT NOT NULL,"
    " employee TEXT NOT NULL,"
    " workplace TEXT NOT NULL,"
    " shift TEXT NOT NULL,"
    " cast_at_ms INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2)," /* enum vote_state */
    " reason TEXT,"                 /* why the collector rejected it */
    " seq INTEGER NOT NULL UNIQUE," /* arrival order */
    " acked_at_ms INTEGER"          /* wall clock when the ack was applied */
    ");"
    "CREATE INDEX votes_state_seq ON votes (state, seq);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

struct outbox {
        sqlite3 *db;
        char *path;             /* owned copy, for messages */
        sqlite3_stmt *begin;    /* BEGIN IMMEDIATE: take the write lock up front */
        sqlite3_stmt *commit;   /* COMMIT */
        sqlite3_stmt *rollback; /* ROLLBACK */
        sqlite3_stmt *insert;   /* one vote, with the next seq */
        sqlite3_stmt *peek;     /* oldest pending first */
        sqlite3_stmt *mark;     /* pending → sent or rejected */
        sqlite3_stmt *count;    /* votes per state */
};

/* Why a file could not be opened for writing. SQLite's last system errno is no help: after
 * O_RDWR|O_CREAT fails it retries read-only, and reports that attempt's ENOENT. */
static int cannot_open_reason(const char *path)
{
        char dir[PATH_MAX];
        const char *slash;

        if (!path)
                return -EACCES;
        if (access(path, F_OK) == 0)
                return access(path, R_OK | W_OK) < 0 ? -errno : -EACCES;
        slash = strrchr(path, '/');
        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else if (slash == path)
                snprintf(dir, sizeof(dir), "/");
        else
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        if (access(dir, W_OK | X_OK) < 0)
                return -errno;
        return -EACCES;
}

/* Translates an SQLite result into a negative errno and logs SQLite's own message once. */
static int map_error(sqlite3 *db, int rc, const char *path, const char *what)
{
        int sys = db ? sqlite3_system_errno(db) : 0;
        const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        int r;

        r = sqlerr_to_errno(rc, sys);
        if (r == 0)
                r = -EIO; /* called for a failure that SQLite reported as success */
        if ((rc & 0xff) == SQLITE_CANTOPEN)
                r = cannot_open_reason(path);
        if (r == -EEXIST || r == -EBUSY)
                log_warn("outbox %s: %s: %s", path, what, msg);
        else
                log_error("outbox %s: %s: %s (SQLite code %d)", path, what, msg, rc);
        return r;
}

static void stmt_done(sqlite3_stmt *s)
{
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no rows (or whose rows do not matter) to its end. */
static int step_done(struct outbox *ob, sqlite3_stmt *s, const char *what)
{
        int rc;

        do
                rc = sqlite3_step(s);
        while (rc == SQLITE_ROW);
        if (rc != SQLITE_DONE) {
                int r = map_error(ob->db, rc, ob->path, what);
                stmt_done(s);
                return r;
        }
        stmt_done(s);
        return 0;
}

/* Runs one or more ';'-separated statements, each prepared in turn (no values are spliced
 * into SQL: callers pass constant text). */
static int exec_script(struct outbox *ob, const char *sql, const char *what)
{
        const char *tail = sql;

        while (tail && *tail) {
                sqlite3_stmt *s = NULL;
                int rc, r;

                rc = sqlite3_prepare_v2(ob->db, tail, -1, &s, &tail);
                if (rc != SQLITE_OK)
                        return map_error(ob->db, rc, ob->path, what);
                if (!s) /* only whitespace or a comment was left */
                        break;
                r = step_done(ob, s, what);
                sqlite3_finalize(s);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Runs a statement that yields one integer (a pragma's value). */
static int query_int(struct outbox *ob, const char *sql, int64_t *ret_value)
{
        sqlite3_stmt *s = NULL;
        int64_t v;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(ob->db, sql, -1, &s, NULL);
        if (rc != SQLITE_OK)
                return map_error(ob->db, rc, ob->path, sql);
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
                r = rc == SQLITE_DONE ? -EIO : map_error(ob->db, rc, ob->path, sql);
                goto finish;
        }
        v = sqlite3_column_int64(s, 0);
        *ret_value = v;
finish:
        sqlite3_finalize(s);
        return r;
}

/* PRAGMA quick_check reads every page once (O(file size): a few milliseconds for a terminal's
 * outbox) and verifies the b-trees without the slower cross-checks of integrity_check. It
 * turns a damaged file into -EIO at open, not into a surprise mid-shift. */
static int check_file(struct outbox *ob)
{
        sqlite3_stmt *s = NULL;
        const char *verdict;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(ob->db, "PRAGMA quick_check(1)", -1, &s, NULL);
        if (rc != SQLITE_OK)
                return map_error(ob->db, rc, ob->path, "checking the file");
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
                r = map_error(ob->db, rc, ob->path, "checking the file");
                goto finish;
        }
        verdict = (const char *)sqlite3_column_text(s, 0);
        if (!verdict || strcmp(verdict, "ok") != 0) {
                log_error("outbox %s: the file is damaged: %s", ob->path,
                          verdict ? verdict : "(no answer)");
                r = -EIO;
        }
finish:
        sqlite3_finalize(s);
        return r;
}

static int set_pragmas(struct outbox *ob)
{
        sqlite3_stmt *s = NULL;
        const char *mode;
        int rc, r;

        /* The answer is the mode in force: a file system without shared memory keeps the
         * rollback journal, which is as durable with synchronous=FULL, only slower. */
        rc = sqlite3_prepare_v2(ob->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
        if (rc != SQLITE_OK)
                return map_error(ob->db, rc, ob->path, "setting WAL mode");
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
                r = map_error(ob->db, rc, ob->path, "setting WAL mode");
                sqlite3_finalize(s);
                return r;
        }
        mode = (const char *)sqlite3_column_text(s, 0);
        if (!mode || strcmp(mode, "wal") != 0)
                log_warn("outbox %s: WAL mode refused, journal mode is %s", ob->path,
                         mode ? mode : "?");
        sqlite3_finalize(s);

        return exec_script(ob, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                           "setting pragmas");
}

static int migrate(struct outbox *ob)
{
        char sql[64];
        int64_t version;
        int r;

        r = query_int(ob, "PRAGMA user_version", &version);
        if (r < 0)
                return r;
        if (version == SCHEMA_VERSION)
                return 0;

        /* Another handle may be migrating the same file: decide again under the write lock. */
        r = step_done(ob, ob->begin, "starting the migration");
        if (r < 0)
                return r;
        r = query_int(ob, "PRAGMA user_version", &version);
        if (r < 0)
                goto finish;
        if (version < 0 || version > SCHEMA_VERSION) {
                log_error("outbox %s: schema version %" PRId64 " is newer than this program's %d",
                          ob->path, version, SCHEMA_VERSION);
                r = -EPROTONOSUPPORT;
                goto finish;
        }
        for (int64_t v = version; v < SCHEMA_VERSION; v++) {
                r = exec_script(ob, migrations[v], "migrating the schema");
                if (r < 0)
                        goto finish;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
        r = exec_script(ob, sql, "migrating the schema");
        if (r < 0)
                goto finish;
        r = step_done(ob, ob->commit, "committing the migration");
        if (r >= 0)
                log_info("outbox %s: schema migrated from version %" PRId64 " to %d", ob->path,
                         version, SCHEMA_VERSION);
finish:
        if (r < 0 && !sqlite3_get_autocommit(ob->db))
                (void)step_done(ob, ob->rollback, "rolling back the migration");
        return r;
}

static int prepare(struct outbox *ob, const char *sql, sqlite3_stmt **ret)
{
        int rc = sqlite3_prepare_v3(ob->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);

        if (rc != SQLITE_OK)
                return map_error(ob->db, rc, ob->path, "preparing a statement");
        return 0;
}

/* The file opened read-only although we asked for read-write: say why as an errno. */
static int readonly_error(const char *path)
{
        int r = access(path, W_OK) < 0 && errno == EROFS ? -EROFS : -EACCES;

        log_error("outbox %s: the file cannot be written (%s)", path, strerror(-r));
        return r;
}

int outbox_open(const char *path, struct outbox **ret)
{
        struct outbox *ob;
        int rc, r;

        if (!path || !*path || !ret)
                return -EINVAL;
        ob = calloc(1, sizeof(*ob));
        if (!ob)
                return -ENOMEM;
        ob->path = strdup(path);
        if (!ob->path) {
                r = -ENOMEM;
                goto fail;
        }

        rc = sqlite3_open_v2(path, &ob->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        if (rc != SQLITE_OK) {
                r = map_error(ob->db, rc, path, "opening");
                goto fail;
        }
        sqlite3_extended_result_codes(ob->db, 1);
        sqlite3_busy_timeout(ob->db, BUSY_TIMEOUT_MS);
        if (sqlite3_db_readonly(ob->db, "main") == 1) {
                r = readonly_error(path);
                goto fail;
        }

        r = check_file(ob);
        if (r < 0)
                goto fail;
        r = set_pragmas(ob);
        if (r < 0)
                goto fail;

        r = prepare(ob, "BEGIN IMMEDIATE", &ob->begin);
        if (r >= 0)
                r = prepare(ob, "COMMIT", &ob->commit);
        if (r >= 0)
                r = prepare(ob, "ROLLBACK", &ob->rollback);
        if (r < 0)
                goto fail;
        r = migrate(ob);
        if (r < 0)
                goto fail;

        r = prepare(ob,
                    "INSERT INTO votes (id, level, channel, employee, workplace, shift,"
                    " cast_at_ms, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
                    " (SELECT IFNULL(MAX(seq), 0) + 1 FROM votes))",
                    &ob->insert);
        if (r >= 0)
                r = prepare(ob,
                            "SELECT id, level, channel, employee, workplace, shift, cast_at_ms"
                            " FROM votes WHERE state = 0 ORDER BY seq LIMIT ?1",
                            &ob->peek);
        if (r >= 0)
                r = prepare(ob,
                            "UPDATE votes SET state = ?2, reason = ?3, acked_at_ms = ?4"
                            " WHERE id = ?1 AND state = 0",
                            &ob->mark);
        if (r >= 0)
                r = prepare(ob, "SELECT state, COUNT(*) FROM votes GROUP BY state", &ob->count);
        if (r < 0)
                goto fail;

        *ret = ob;
        return 0;
fail:
        outbox_close(ob);
        return r;
}

void outbox_close(struct outbox *ob)
{
        if (!ob)
                return;
        sqlite3_finalize(ob->count);
        sqlite3_finalize(ob->mark);
        sqlite3_finalize(ob->peek);
        sqlite3_finalize(ob->insert);
        sqlite3_finalize(ob->rollback);
        sqlite3_finalize(ob->commit);
        sqlite3_finalize(ob->begin);
        if (ob->db && sqlite3_close(ob->db) != SQLITE_OK)
                log_error("outbox %s: closing: %s", ob->path, sqlite3_errmsg(ob->db));
        free(ob->path);
        free(ob);
}

/* A string field fits its buffer and is NUL-terminated there. */
static bool fits(const char *s, size_t size)
{
        return strnlen(s, size) < size;
}

static bool vote_storable(const struct vote *v)
{
        return fits(v->id.s, sizeof(v->id.s)) && vote_id_valid(v->id.s) &&
               vote_level_valid(v->level) && fits(v->channel, sizeof(v->channel)) &&
               vote_channel_valid(v->channel) && fits(v->employee, sizeof(v->employee)) &&
               vote_ref_valid(v->employee) && fits(v->workplace, sizeof(v->workplace)) &&
               (v->workplace[0] == 0 || vote_ref_valid(v->workplace)) &&
               fits(v->shift, sizeof(v->shift));
}

/* After a failed write: undo whatever the transaction did (SQLite may have rolled it back
 * already, e.g. on SQLITE_FULL). */
static void abandon(struct outbox *ob)
{
        sqlite3_reset(ob->insert);
        sqlite3_reset(ob->mark);
        if (!sqlite3_get_autocommit(ob->db))
                (void)step_done(ob, ob->rollback, "rolling back");
}

int outbox_add(struct outbox *ob, const struct vote *v)
{
        sqlite3_stmt *s;
        int rc, r;

        if (!ob || !v)
                return -EINVAL;
        if (!vote_storable(v)) {
                log_error("outbox %s: refusing a malformed vote", ob->path);
                return -EINVAL;
        }

        r = step_done(ob, ob->begin, "starting to add a vote");
        if (r < 0)
                goto finish;
        s = ob->insert;
        if (sqlite3_bind_text(s, 1, v->id.s, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_int(s, 2, v->level) != SQLITE_OK ||
            sqlite3_bind_text(s, 3, v->channel, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(s, 4, v->employee, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(s, 5, v->workplace, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_text(s, 6, v->shift, -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_int64(s, 7, v->cast_at_ms) != SQLITE_OK) {
                r = map_error(ob->db, sqlite3_errcode(ob->db), ob->path, "binding a vote");
                stmt_done(s);
                goto finish;
        }
        rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
                r = map_error(ob->db, rc, ob->path, "adding a vote");
                stmt_done(s);
                goto finish;
        }
        stmt_done(s);
        r = step_done(ob, ob->commit, "committing a vote");
finish:
        if (r < 0)
                abandon(ob);
        return r;
}

/* Copies a text column into a fixed buffer; a value that does not fit means a damaged file. */
static int column_copy(sqlite3_stmt *s, int col, char *dst, size_t size)
{
        const unsigned char *text = sqlite3_column_text(s, col);
        int len = sqlite3_column_bytes(s, col);

        if (!text)
                return sqlite3_errcode(sqlite3_db_handle(s)) == SQLITE_NOMEM ? -ENOMEM : -EIO;
        if (len < 0 || (size_t)len >= size)
                return -EIO;
        memcpy(dst, text, (size_t)len);
        dst[len] = 0;
        return 0;
}

int outbox_peek(struct outbox *ob, size_t max, struct vote *votes, size_t *ret_n)
{
        sqlite3_stmt *s;
        size_t n = 0;
        int rc, r = 0;

        if (!ob || !ret_n || (max > 0 && !votes))
                return -EINVAL;
        if (max == 0) {
                *ret_n = 0;
                return 0;
        }
        s = ob->peek;
        if (sqlite3_bind_int64(s, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max) != SQLITE_OK) {
                r = map_error(ob->db, sqlite3_errcode(ob->db), ob->path, "binding a limit");
                goto finish;
        }
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                struct vote *v = &votes[n];

                memset(v, 0, sizeof(*v));
                v->level = sqlite3_column_int(s, 1);
                v->cast_at_ms = sqlite3_column_int64(s, 6);
                r = column_copy(s, 0, v->id.s, sizeof(v->id.s));
                if (r >= 0)
                        r = column_copy(s, 2, v->channel, sizeof(v->channel));
                if (r >= 0)
                        r = column_copy(s, 3, v->employee, sizeof(v->employee));
                if (r >= 0)
                        r = column_copy(s, 4, v->workplace, sizeof(v->workplace));
                if (r >= 0)
                        r = column_copy(s, 5, v->shift, sizeof(v->shift));
                if (r < 0) {
                        log_error("outbox %s: a stored vote does not fit the vote model", ob->path);
                        goto finish;
                }
                if (++n == max)
                        break;
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                r = map_error(ob->db, rc, ob->path, "reading pending votes");
                goto finish;
        }
        *ret_n = n;
finish:
        stmt_done(s);
        return r;
}

/* Where id stands in sent[]: at `hint` when the collector kept the order, else searched. */
static const struct vote *find_sent(const struct vote *sent, size_t n, size_t hint,
                                    const vote_id *id)
{
        if (hint < n && strncmp(sent[hint].id.s, id->s, sizeof(id->s)) == 0)
                return &sent[hint];
        for (size_t i = 0; i < n; i++)
                if (strncmp(sent[i].id.s, id->s, sizeof(id->s)) == 0)
                        return &sent[i];
        return NULL;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int outbox_apply_ack(struct outbox *ob, const struct vote *sent, size_t n,
                     const struct proto_ack *ack)
{
        int64_t now = wall_ms();
        int r;

        if (!ob || !ack || (n > 0 && !sent) || (ack->n_results > 0 && !ack->results))
                return -EINVAL;
        for (size_t i = 0; i < ack->n_results; i++) {
                enum proto_status st = ack->results[i].status;
                if (st != PROTO_STORED && st != PROTO_DUPLICATE && st != PROTO_REJECTED)
                        return -EINVAL;
        }

        r = step_done(ob, ob->begin, "starting to apply an ack");
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < ack->n_results; i++) {
                const struct proto_result *res = &ack->results[i];
                const struct vote *v = find_sent(sent, n, res->index, &res->id);
                sqlite3_stmt *s = ob->mark;
                bool rejected = res->status == PROTO_REJECTED;
                const char *reason = res->reason;
                int rc;

                if (!v)
                        continue;
                if (rejected && (!fits(reason, sizeof(res->reason)) || !*reason))
                        reason = "rejected by the collector";
                rc = sqlite3_bind_text(s, 1, v->id.s, -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                        rc = sqlite3_bind_int(s, 2, rejected ? STATE_REJECTED : STATE_SENT);
                if (rc == SQLITE_OK)
                        rc = rejected ? sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC)
                                      : sqlite3_bind_null(s, 3);
                if (rc == SQLITE_OK)
                        rc = sqlite3_bind_int64(s, 4, now);
                if (rc != SQLITE_OK) {
                        r = map_error(ob->db, rc, ob->path, "binding an ack");
                        stmt_done(s);
                        goto finish;
                }
                r = step_done(ob, s, "marking a vote");
                if (r < 0)
                        goto finish;
        }
        r = step_done(ob, ob->commit, "committing an ack");
finish:
        if (r < 0)
                abandon(ob);
        return r;
}

int outbox_counts(struct outbox *ob, struct outbox_counts *ret)
{
        struct outbox_counts c = {0};
        sqlite3_stmt *s;
        int rc, r = 0;

        if (!ob || !ret)
                return -EINVAL;
        s = ob->count;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                int64_t n = sqlite3_column_int64(s, 1);

                switch (sqlite3_column_int(s, 0)) {
                case STATE_PENDING:
                        c.pending = n;
                        break;
                case STATE_SENT:
                        c.sent = n;
                        break;
                case STATE_REJECTED:
                        c.rejected = n;
                        break;
                default:
                        break;
                }
        }
        if (rc != SQLITE_DONE) {
                r = map_error(ob->db, rc, ob->path, "counting votes");
                goto finish;
        }
        *ret = c;
finish:
        stmt_done(s);
        return r;
}
