/* SPDX-License-Identifier: MIT */
/* The terminal's outbox on SQLite: WAL with synchronous=FULL (a commit is fsynced before it
 * returns), a schema migrated by PRAGMA user_version, every statement prepared once per handle.
 * Invariants: a vote or event leaves state 0 (pending) only through outbox_apply_ack(); only
 * sent ones are ever deleted (by the prune, 30 days after their ack), never pending or
 * rejected ones; and any refused write is rolled back whole, so an error never leaves half a
 * change behind. */
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
/* Sent votes and events are kept this long after their ack (for someone checking a terminal
 * by hand), then deleted so that the file stops growing; the prune runs at most this often. */
#define PRUNE_AGE_MS (30LL * 24 * 3600 * 1000)
#define PRUNE_EVERY_MS (3600LL * 1000)
/* Caps on what the small tables take: keys are the program's own names, values hold a
 * credential or a shift id, an ETag is a short quoted string. */
#define STATE_KEY_MAX 128
#define STATE_VALUE_MAX 4096
#define ETAG_MAX 256
/* mono_ms travels as a JSON integer the collector reads exactly: below 2^53. */
#define MONO_LIMIT (INT64_C(1) << 53)

enum item_state {
        STATE_PENDING = 0,  /* waiting to be sent */
        STATE_SENT = 1,     /* the collector stored it (now or before) */
        STATE_REJECTED = 2, /* the collector refused it; reason says why */
};

/* migrations[i] takes the schema from user_version i to i + 1, inside one transaction.
 * Append only: a shipped migration is never edited. */
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
    " state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2)," /* enum item_state */
    " reason TEXT,"                 /* why the collector rejected it */
    " seq INTEGER NOT NULL UNIQUE," /* arrival order */
    " acked_at_ms INTEGER"          /* wall clock when the ack was applied */
    ");"
    "CREATE INDEX votes_state_seq ON votes (state, seq);",
    /* 2: a vote may be kept but not counted (suppressed: why; NULL for a counted vote) and
     * carries its boot and CLOCK_BOOTTIME, for the collector's clock correction. Votes of
     * version 1 are counted votes of an unknown boot. Shift events travel like votes, in a
     * table of the same shape; the last roster pulled (one row) and small key/value state
     * live beside them, so that one file holds everything the terminal must not forget. The
     * partial index keeps the suppressed count from reading the whole table. */
    "ALTER TABLE votes ADD COLUMN suppressed TEXT;"
    "ALTER TABLE votes ADD COLUMN boot TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE votes ADD COLUMN mono_ms INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX votes_suppressed ON votes (state) WHERE suppressed IS NOT NULL;"
    "CREATE TABLE events ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " kind TEXT NOT NULL,"
    " employee TEXT NOT NULL,"
    " shift TEXT NOT NULL,"
    " detail TEXT NOT NULL,"
    " at_ms INTEGER NOT NULL,"
    " boot TEXT NOT NULL,"
    " mono_ms INTEGER NOT NULL,"
    " state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2),"
    " reason TEXT,"
    " seq INTEGER NOT NULL UNIQUE,"
    " acked_at_ms INTEGER"
    ");"
    "CREATE INDEX events_state_seq ON events (state, seq);"
    "CREATE TABLE roster ("
    " one INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),"
    " json TEXT NOT NULL,"          /* as the collector sent it */
    " etag TEXT NOT NULL,"          /* its ETag, for If-None-Match; may be empty */
    " saved_at_ms INTEGER NOT NULL" /* wall clock when it was saved */
    ");"
    "CREATE TABLE state (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The statements a handle keeps prepared. The first three are needed by the migration and
 * are prepared before it; the rest refer to the tables it makes. */
enum stmt {
        STMT_BEGIN, /* BEGIN IMMEDIATE: take the write lock up front */
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_INSERT_VOTE, /* one vote, with the next seq */
        STMT_PEEK_VOTES,  /* oldest pending first */
        STMT_MARK_VOTE,   /* pending → sent or rejected */
        STMT_INSERT_EVENT,
        STMT_PEEK_EVENTS,
        STMT_MARK_EVENT,
        STMT_COUNT,
        STMT_PRUNE_VOTES,
        STMT_PRUNE_EVENTS,
        STMT_ROSTER_SAVE,
        STMT_ROSTER_LOAD,
        STMT_STATE_GET,
        STMT_STATE_SET,
        STMT_STATE_DELETE,
        STMT_MAX,
};
#define STMT_FIRST_AFTER_MIGRATION STMT_INSERT_VOTE

static const char *const stmt_sql[STMT_MAX] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_INSERT_VOTE] = "INSERT INTO votes (id, level, channel, employee, workplace, shift,"
                         " cast_at_ms, suppressed, boot, mono_ms, seq)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                         " (SELECT IFNULL(MAX(seq), 0) + 1 FROM votes))",
    [STMT_PEEK_VOTES] = "SELECT id, level, channel, employee, workplace, shift, cast_at_ms,"
                        " IFNULL(suppressed, ''), boot, mono_ms"
                        " FROM votes WHERE state = 0 ORDER BY seq LIMIT ?1",
    [STMT_MARK_VOTE] = "UPDATE votes SET state = ?2, reason = ?3, acked_at_ms = ?4"
                       " WHERE id = ?1 AND state = 0",
    [STMT_INSERT_EVENT] = "INSERT INTO events (id, kind, employee, shift, detail, at_ms, boot,"
                          " mono_ms, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                          " (SELECT IFNULL(MAX(seq), 0) + 1 FROM events))",
    [STMT_PEEK_EVENTS] = "SELECT id, kind, employee, shift, detail, at_ms, boot, mono_ms"
                         " FROM events WHERE state = 0 ORDER BY seq LIMIT ?1",
    [STMT_MARK_EVENT] = "UPDATE events SET state = ?2, reason = ?3, acked_at_ms = ?4"
                        " WHERE id = ?1 AND state = 0",
    /* Each sub-select is a range scan of an index. */
    [STMT_COUNT] = "SELECT (SELECT COUNT(*) FROM votes WHERE state = 0),"
                   " (SELECT COUNT(*) FROM votes WHERE state = 1),"
                   " (SELECT COUNT(*) FROM votes WHERE state = 2),"
                   " (SELECT COUNT(*) FROM votes WHERE suppressed IS NOT NULL),"
                   " (SELECT COUNT(*) FROM events WHERE state = 0)",
    [STMT_PRUNE_VOTES] = "DELETE FROM votes WHERE state = 1 AND acked_at_ms < ?1",
    [STMT_PRUNE_EVENTS] = "DELETE FROM events WHERE state = 1 AND acked_at_ms < ?1",
    [STMT_ROSTER_SAVE] = "INSERT OR REPLACE INTO roster (one, json, etag, saved_at_ms)"
                         " VALUES (1, ?1, ?2, ?3)",
    [STMT_ROSTER_LOAD] = "SELECT json, etag FROM roster WHERE one = 1",
    [STMT_STATE_GET] = "SELECT value FROM state WHERE key = ?1",
    [STMT_STATE_SET] = "INSERT OR REPLACE INTO state (key, value) VALUES (?1, ?2)",
    [STMT_STATE_DELETE] = "DELETE FROM state WHERE key = ?1",
};

struct outbox {
        sqlite3 *db;
        char *path;                   /* owned copy, for messages */
        sqlite3_stmt *stmt[STMT_MAX]; /* prepared once, finalized by outbox_close() */
        int64_t pruned_mono_ms;       /* CLOCK_MONOTONIC of the last prune; -1 never */
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

static int begin(struct outbox *ob, const char *what)
{
        return step_done(ob, ob->stmt[STMT_BEGIN], what);
}

static int commit(struct outbox *ob, const char *what)
{
        return step_done(ob, ob->stmt[STMT_COMMIT], what);
}

/* After a failed write: undo whatever the transaction did (SQLite may have rolled it back
 * already, e.g. on SQLITE_FULL), and leave no statement half-stepped. */
static void abandon(struct outbox *ob)
{
        for (int i = STMT_FIRST_AFTER_MIGRATION; i < STMT_MAX; i++)
                if (ob->stmt[i])
                        stmt_done(ob->stmt[i]);
        if (!sqlite3_get_autocommit(ob->db))
                (void)step_done(ob, ob->stmt[STMT_ROLLBACK], "rolling back");
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
        r = begin(ob, "starting the migration");
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
        r = commit(ob, "committing the migration");
        if (r >= 0)
                log_info("outbox %s: schema migrated from version %" PRId64 " to %d", ob->path,
                         version, SCHEMA_VERSION);
finish:
        if (r < 0 && !sqlite3_get_autocommit(ob->db))
                (void)step_done(ob, ob->stmt[STMT_ROLLBACK], "rolling back the migration");
        return r;
}

static int prepare_range(struct outbox *ob, int from, int to)
{
        for (int i = from; i < to; i++) {
                int rc = sqlite3_prepare_v3(ob->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                            &ob->stmt[i], NULL);
                if (rc != SQLITE_OK)
                        return map_error(ob->db, rc, ob->path, "preparing a statement");
        }
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
        ob->pruned_mono_ms = -1;
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
        r = prepare_range(ob, 0, STMT_FIRST_AFTER_MIGRATION);
        if (r < 0)
                goto fail;
        r = migrate(ob);
        if (r < 0)
                goto fail;
        r = prepare_range(ob, STMT_FIRST_AFTER_MIGRATION, STMT_MAX);
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
        for (int i = STMT_MAX - 1; i >= 0; i--)
                sqlite3_finalize(ob->stmt[i]);
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

/* Empty, or valid by `valid`; and NUL-terminated within size. */
static bool optional(const char *s, size_t size, bool (*valid)(const char *))
{
        return fits(s, size) && (s[0] == 0 || valid(s));
}

static bool printable(const char *s, size_t size)
{
        if (!fits(s, size))
                return false;
        for (; *s; s++)
                if (*s < 0x20 || *s > 0x7e)
                        return false;
        return true;
}

static bool mono_valid(int64_t mono_ms)
{
        return mono_ms >= 0 && mono_ms < MONO_LIMIT;
}

static bool vote_storable(const struct vote *v)
{
        return fits(v->id.s, sizeof(v->id.s)) && vote_id_valid(v->id.s) &&
               vote_level_valid(v->level) && fits(v->channel, sizeof(v->channel)) &&
               vote_channel_valid(v->channel) && fits(v->employee, sizeof(v->employee)) &&
               vote_ref_valid(v->employee) &&
               optional(v->workplace, sizeof(v->workplace), vote_ref_valid) &&
               fits(v->shift, sizeof(v->shift)) &&
               optional(v->suppressed, sizeof(v->suppressed), vote_word_valid) &&
               optional(v->boot, sizeof(v->boot), vote_id_valid) && mono_valid(v->mono_ms);
}

static bool event_storable(const struct vote_event *e)
{
        return fits(e->id.s, sizeof(e->id.s)) && vote_id_valid(e->id.s) &&
               fits(e->kind, sizeof(e->kind)) && vote_word_valid(e->kind) &&
               optional(e->employee, sizeof(e->employee), vote_ref_valid) &&
               optional(e->shift, sizeof(e->shift), vote_id_valid) &&
               printable(e->detail, sizeof(e->detail)) &&
               optional(e->boot, sizeof(e->boot), vote_id_valid) && mono_valid(e->mono_ms);
}

static int bind_text(sqlite3_stmt *s, int i, const char *text)
{
        return sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

/* "" is stored as NULL: the column's way of saying "none". */
static int bind_text_or_null(sqlite3_stmt *s, int i, const char *text)
{
        return text && *text ? bind_text(s, i, text) : sqlite3_bind_null(s, i);
}

/* Steps an INSERT or UPDATE whose values are bound; on a bind failure (rc) or a step failure
 * the statement is reset and the errno returned. */
static int run_bound(struct outbox *ob, sqlite3_stmt *s, int rc, const char *what)
{
        if (rc != SQLITE_OK) {
                int r = map_error(ob->db, rc, ob->path, what);
                stmt_done(s);
                return r;
        }
        return step_done(ob, s, what);
}

/* One write in its own transaction: BEGIN IMMEDIATE, the bound statement, COMMIT. An explicit
 * transaction rather than autocommit so that a failure anywhere is undone by abandon(). */
static int write_one(struct outbox *ob, sqlite3_stmt *s, int rc, const char *what)
{
        int r;

        r = begin(ob, what);
        if (r >= 0)
                r = run_bound(ob, s, rc, what);
        else
                stmt_done(s);
        if (r >= 0)
                r = commit(ob, what);
        if (r < 0)
                abandon(ob);
        return r;
}

int outbox_add(struct outbox *ob, const struct vote *v)
{
        sqlite3_stmt *s;
        int rc;

        if (!ob || !v)
                return -EINVAL;
        if (!vote_storable(v)) {
                log_error("outbox %s: refusing a malformed vote", ob->path);
                return -EINVAL;
        }
        s = ob->stmt[STMT_INSERT_VOTE];
        rc = bind_text(s, 1, v->id.s);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int(s, 2, v->level);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 3, v->channel);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 4, v->employee);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 5, v->workplace);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 6, v->shift);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 7, v->cast_at_ms);
        if (rc == SQLITE_OK)
                rc = bind_text_or_null(s, 8, v->suppressed);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 9, v->boot);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 10, v->mono_ms);
        return write_one(ob, s, rc, "adding a vote");
}

int outbox_add_event(struct outbox *ob, const struct vote_event *e)
{
        sqlite3_stmt *s;
        int rc;

        if (!ob || !e)
                return -EINVAL;
        if (!event_storable(e)) {
                log_error("outbox %s: refusing a malformed event", ob->path);
                return -EINVAL;
        }
        s = ob->stmt[STMT_INSERT_EVENT];
        rc = bind_text(s, 1, e->id.s);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 2, e->kind);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 3, e->employee);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 4, e->shift);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 5, e->detail);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 6, e->at_ms);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 7, e->boot);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 8, e->mono_ms);
        return write_one(ob, s, rc, "adding an event");
}

/* Copies a text column into a fixed buffer; a value that does not fit means a damaged file,
 * or, for callers that pass their own buffer, -ENOBUFS. */
static int column_copy(sqlite3_stmt *s, int col, char *dst, size_t size, int too_long)
{
        const unsigned char *text = sqlite3_column_text(s, col);
        int len = sqlite3_column_bytes(s, col);

        if (!text)
                return sqlite3_errcode(sqlite3_db_handle(s)) == SQLITE_NOMEM ? -ENOMEM : -EIO;
        if (len < 0 || (size_t)len >= size)
                return too_long;
        memcpy(dst, text, (size_t)len);
        dst[len] = 0;
        return 0;
}

/* A stored row back into its struct; `into` is the i-th element of the caller's array. */
typedef int (*row_reader)(sqlite3_stmt *s, void *into, size_t i);

static int read_vote(sqlite3_stmt *s, void *into, size_t i)
{
        struct vote *v = (struct vote *)into + i;
        int r;

        memset(v, 0, sizeof(*v));
        v->level = sqlite3_column_int(s, 1);
        v->cast_at_ms = sqlite3_column_int64(s, 6);
        v->mono_ms = sqlite3_column_int64(s, 9);
        r = column_copy(s, 0, v->id.s, sizeof(v->id.s), -EIO);
        if (r >= 0)
                r = column_copy(s, 2, v->channel, sizeof(v->channel), -EIO);
        if (r >= 0)
                r = column_copy(s, 3, v->employee, sizeof(v->employee), -EIO);
        if (r >= 0)
                r = column_copy(s, 4, v->workplace, sizeof(v->workplace), -EIO);
        if (r >= 0)
                r = column_copy(s, 5, v->shift, sizeof(v->shift), -EIO);
        if (r >= 0)
                r = column_copy(s, 7, v->suppressed, sizeof(v->suppressed), -EIO);
        if (r >= 0)
                r = column_copy(s, 8, v->boot, sizeof(v->boot), -EIO);
        return r;
}

static int read_event(sqlite3_stmt *s, void *into, size_t i)
{
        struct vote_event *e = (struct vote_event *)into + i;
        int r;

        memset(e, 0, sizeof(*e));
        e->at_ms = sqlite3_column_int64(s, 5);
        e->mono_ms = sqlite3_column_int64(s, 7);
        r = column_copy(s, 0, e->id.s, sizeof(e->id.s), -EIO);
        if (r >= 0)
                r = column_copy(s, 1, e->kind, sizeof(e->kind), -EIO);
        if (r >= 0)
                r = column_copy(s, 2, e->employee, sizeof(e->employee), -EIO);
        if (r >= 0)
                r = column_copy(s, 3, e->shift, sizeof(e->shift), -EIO);
        if (r >= 0)
                r = column_copy(s, 4, e->detail, sizeof(e->detail), -EIO);
        if (r >= 0)
                r = column_copy(s, 6, e->boot, sizeof(e->boot), -EIO);
        return r;
}

/* The oldest `max` pending rows of a peek statement, through `read`. */
static int peek(struct outbox *ob, sqlite3_stmt *s, row_reader read, size_t max, void *into,
                size_t *ret_n, const char *what)
{
        size_t n = 0;
        int rc, r = 0;

        if (max == 0) {
                *ret_n = 0;
                return 0;
        }
        if (sqlite3_bind_int64(s, 1, max > INT64_MAX ? INT64_MAX : (int64_t)max) != SQLITE_OK) {
                r = map_error(ob->db, sqlite3_errcode(ob->db), ob->path, "binding a limit");
                goto finish;
        }
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                r = read(s, into, n);
                if (r < 0) {
                        log_error("outbox %s: %s: a stored row does not fit the model", ob->path,
                                  what);
                        goto finish;
                }
                if (++n == max)
                        break;
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                r = map_error(ob->db, rc, ob->path, what);
                goto finish;
        }
        *ret_n = n;
finish:
        stmt_done(s);
        return r;
}

int outbox_peek(struct outbox *ob, size_t max, struct vote *votes, size_t *ret_n)
{
        if (!ob || !ret_n || (max > 0 && !votes))
                return -EINVAL;
        return peek(ob, ob->stmt[STMT_PEEK_VOTES], read_vote, max, votes, ret_n,
                    "reading pending votes");
}

int outbox_peek_events(struct outbox *ob, size_t max, struct vote_event *events, size_t *ret_n)
{
        if (!ob || !ret_n || (max > 0 && !events))
                return -EINVAL;
        return peek(ob, ob->stmt[STMT_PEEK_EVENTS], read_event, max, events, ret_n,
                    "reading pending events");
}

/* Where id stands among the n ids sent (each `stride` bytes apart, starting at `first`): at
 * `hint` when the collector kept the order, else searched. NULL when it was not sent. */
static const vote_id *find_sent(const void *first, size_t stride, size_t n, size_t hint,
                                const vote_id *id)
{
        const char *base = first;

        if (hint < n) {
                const vote_id *at = (const vote_id *)(base + hint * stride);
                if (strncmp(at->s, id->s, sizeof(id->s)) == 0)
                        return at;
        }
        for (size_t i = 0; i < n; i++) {
                const vote_id *at = (const vote_id *)(base + i * stride);
                if (strncmp(at->s, id->s, sizeof(id->s)) == 0)
                        return at;
        }
        return NULL;
}

static int64_t clock_ms(clockid_t clock)
{
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool results_valid(const struct proto_result *results, size_t n)
{
        if (n > 0 && !results)
                return false;
        for (size_t i = 0; i < n; i++) {
                enum proto_status st = results[i].status;
                if (st != PROTO_STORED && st != PROTO_DUPLICATE && st != PROTO_REJECTED)
                        return false;
        }
        return true;
}

/* Marks the sent items that the results name, with the mark statement s (votes or events).
 * Inside the caller's transaction. */
static int mark_results(struct outbox *ob, sqlite3_stmt *s, const void *first, size_t stride,
                        size_t n, const struct proto_result *results, size_t n_results, int64_t now)
{
        for (size_t i = 0; i < n_results; i++) {
                const struct proto_result *res = &results[i];
                const vote_id *id = find_sent(first, stride, n, res->index, &res->id);
                bool rejected = res->status == PROTO_REJECTED;
                const char *reason = res->reason;
                int rc, r;

                if (!id)
                        continue;
                if (rejected && (!fits(reason, sizeof(res->reason)) || !*reason))
                        reason = "rejected by the collector";
                rc = bind_text(s, 1, id->s);
                if (rc == SQLITE_OK)
                        rc = sqlite3_bind_int(s, 2, rejected ? STATE_REJECTED : STATE_SENT);
                if (rc == SQLITE_OK)
                        rc = rejected ? bind_text(s, 3, reason) : sqlite3_bind_null(s, 3);
                if (rc == SQLITE_OK)
                        rc = sqlite3_bind_int64(s, 4, now);
                r = run_bound(ob, s, rc, "applying an ack");
                if (r < 0)
                        return r;
        }
        return 0;
}

int outbox_prune(struct outbox *ob, int64_t before_ms)
{
        int64_t deleted = 0;
        int r;

        if (!ob)
                return -EINVAL;
        r = begin(ob, "starting to prune");
        if (r < 0)
                goto finish;
        for (int i = STMT_PRUNE_VOTES; i <= STMT_PRUNE_EVENTS; i++) {
                sqlite3_stmt *s = ob->stmt[i];

                r = run_bound(ob, s, sqlite3_bind_int64(s, 1, before_ms), "pruning");
                if (r < 0)
                        goto finish;
                deleted += sqlite3_changes64(ob->db);
        }
        r = commit(ob, "committing a prune");
finish:
        if (r < 0) {
                abandon(ob);
                return r;
        }
        if (deleted > 0)
                log_info("outbox %s: %" PRId64 " sent votes and events older than their keep "
                         "time deleted",
                         ob->path, deleted);
        return deleted > INT_MAX ? INT_MAX : (int)deleted;
}

/* Once an hour per handle, riding on an ack: cheap, and only a handle that sends ever
 * prunes. A failure only delays it; the ack it follows stands. */
static void prune_if_due(struct outbox *ob)
{
        int64_t now = clock_ms(CLOCK_MONOTONIC);

        if (ob->pruned_mono_ms >= 0 && now - ob->pruned_mono_ms < PRUNE_EVERY_MS)
                return;
        ob->pruned_mono_ms = now;
        (void)outbox_prune(ob, clock_ms(CLOCK_REALTIME) - PRUNE_AGE_MS);
}

int outbox_apply_ack(struct outbox *ob, const struct vote *sent, size_t n,
                     const struct vote_event *sent_events, size_t n_events,
                     const struct proto_ack *ack)
{
        int64_t now = clock_ms(CLOCK_REALTIME);
        int r;

        if (!ob || !ack || (n > 0 && !sent) || (n_events > 0 && !sent_events) ||
            !results_valid(ack->results, ack->n_results) ||
            !results_valid(ack->event_results, ack->n_event_results))
                return -EINVAL;

        r = begin(ob, "starting to apply an ack");
        if (r >= 0)
                r = mark_results(ob, ob->stmt[STMT_MARK_VOTE], sent, sizeof(*sent), n, ack->results,
                                 ack->n_results, now);
        if (r >= 0)
                r = mark_results(ob, ob->stmt[STMT_MARK_EVENT], sent_events, sizeof(*sent_events),
                                 n_events, ack->event_results, ack->n_event_results, now);
        if (r >= 0)
                r = commit(ob, "committing an ack");
        if (r < 0) {
                abandon(ob);
                return r;
        }
        prune_if_due(ob);
        return 0;
}

int outbox_counts(struct outbox *ob, struct outbox_counts *ret)
{
        sqlite3_stmt *s;
        int rc, r = 0;

        if (!ob || !ret)
                return -EINVAL;
        s = ob->stmt[STMT_COUNT];
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW) {
                r = map_error(ob->db, rc, ob->path, "counting votes");
                goto finish;
        }
        *ret = (struct outbox_counts){
            .pending = sqlite3_column_int64(s, 0),
            .sent = sqlite3_column_int64(s, 1),
            .rejected = sqlite3_column_int64(s, 2),
            .suppressed = sqlite3_column_int64(s, 3),
            .events_pending = sqlite3_column_int64(s, 4),
        };
finish:
        stmt_done(s);
        return r;
}

int outbox_roster_save(struct outbox *ob, const char *json, size_t len, const char *etag)
{
        sqlite3_stmt *s;
        int rc;

        if (!etag)
                etag = "";
        if (!ob || !json || len == 0 || len > PROTO_BODY_MAX || memchr(json, 0, len) ||
            !printable(etag, ETAG_MAX))
                return -EINVAL;
        s = ob->stmt[STMT_ROSTER_SAVE];
        rc = sqlite3_bind_text(s, 1, json, (int)len, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = bind_text(s, 2, etag);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(s, 3, clock_ms(CLOCK_REALTIME));
        return write_one(ob, s, rc, "saving the roster");
}

int outbox_roster_load(struct outbox *ob, char **ret_json, size_t *ret_len, char *etag,
                       size_t etag_size)
{
        sqlite3_stmt *s;
        const unsigned char *text;
        char *json;
        int rc, len, r;

        if (!ob || !ret_json || (etag_size > 0 && !etag))
                return -EINVAL;
        s = ob->stmt[STMT_ROSTER_LOAD];
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) {
                r = -ENOENT;
                goto finish;
        }
        if (rc != SQLITE_ROW) {
                r = map_error(ob->db, rc, ob->path, "loading the roster");
                goto finish;
        }
        if (etag_size > 0) {
                r = column_copy(s, 1, etag, etag_size, -ENOBUFS);
                if (r < 0)
                        goto finish;
        }
        text = sqlite3_column_text(s, 0);
        len = sqlite3_column_bytes(s, 0);
        if (!text || len < 0) {
                r = -ENOMEM;
                goto finish;
        }
        json = malloc((size_t)len + 1);
        if (!json) {
                r = -ENOMEM;
                goto finish;
        }
        memcpy(json, text, (size_t)len);
        json[len] = 0;
        *ret_json = json;
        if (ret_len)
                *ret_len = (size_t)len;
        r = 0;
finish:
        stmt_done(s);
        return r;
}

static bool state_key_valid(const char *key)
{
        return key && *key && printable(key, STATE_KEY_MAX + 1);
}

int outbox_state_get(struct outbox *ob, const char *key, char *buf, size_t n)
{
        sqlite3_stmt *s;
        int rc, r;

        if (!ob || !state_key_valid(key) || !buf || n == 0)
                return -EINVAL;
        s = ob->stmt[STMT_STATE_GET];
        rc = bind_text(s, 1, key);
        if (rc != SQLITE_OK) {
                r = map_error(ob->db, rc, ob->path, "binding a state key");
                goto finish;
        }
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE)
                r = -ENOENT;
        else if (rc != SQLITE_ROW)
                r = map_error(ob->db, rc, ob->path, "reading state");
        else
                r = column_copy(s, 0, buf, n, -ENOBUFS);
finish:
        stmt_done(s);
        return r;
}

int outbox_state_set_many(struct outbox *ob, const char *const *keys, const char *const *values,
                          size_t n)
{
        sqlite3_stmt *s;
        int r;

        if (!ob || (n > 0 && (!keys || !values)))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!state_key_valid(keys[i]) || !values[i] ||
                    strnlen(values[i], STATE_VALUE_MAX + 1) > STATE_VALUE_MAX)
                        return -EINVAL;

        s = ob->stmt[STMT_STATE_SET];
        r = begin(ob, "starting to set state");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                int rc = bind_text(s, 1, keys[i]);
                if (rc == SQLITE_OK)
                        rc = bind_text(s, 2, values[i]);
                r = run_bound(ob, s, rc, "setting state");
        }
        if (r >= 0)
                r = commit(ob, "committing state");
        if (r < 0)
                abandon(ob);
        return r;
}

int outbox_state_set(struct outbox *ob, const char *key, const char *value)
{
        return outbox_state_set_many(ob, &key, &value, 1);
}

int outbox_state_delete(struct outbox *ob, const char *key)
{
        sqlite3_stmt *s;
        int r;

        if (!ob || !state_key_valid(key))
                return -EINVAL;
        s = ob->stmt[STMT_STATE_DELETE];
        r = write_one(ob, s, bind_text(s, 1, key), "deleting state");
        if (r < 0)
                return r;
        return sqlite3_changes(ob->db) > 0 ? 1 : 0;
}
