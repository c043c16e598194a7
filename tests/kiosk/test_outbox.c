/* SPDX-License-Identifier: MIT */
/* Tests of the terminal's outbox: order, acknowledgement, durability across close and crash,
 * refused writes that change nothing, damaged and unwritable files, schema versioning and the
 * migration of a version 1 file, suppressed votes, events, the roster and state tables, the
 * prune of old sent rows, and a full disk (a tiny tmpfs, when this process may mount one).
 * Each test has its own directory. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "outbox.h"
#include "testutil.h"

struct fixture {
        char dir[256];  /* a fresh directory, removed by the teardown */
        char path[300]; /* dir/outbox.db */
        bool mounted;   /* a tmpfs is mounted on dir */
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        if (test_mkdtemp(f->dir, sizeof(f->dir), "otsinka-outbox") < 0) {
                free(f);
                return -1;
        }
        snprintf(f->path, sizeof(f->path), "%s/outbox.db", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        if (f->mounted && umount2(f->dir, 0) < 0)
                umount2(f->dir, MNT_DETACH);
        chmod(f->dir, 0700);
        test_remove_tree(f->dir);
        free(f);
        return 0;
}

/* Mounts a tmpfs of `size` (mount(8) syntax) on the fixture's directory; false if we may not. */
static bool mount_tmpfs(struct fixture *f, const char *size)
{
        char opts[64];

        snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
        if (mount("otsinka-test", f->dir, "tmpfs", 0, opts) < 0)
                return false;
        f->mounted = true;
        return true;
}

static struct vote make_vote(int level)
{
        struct vote v = {0};
        vote_id shift;

        vote_id_new(&v.id);
        vote_id_new(&shift);
        v.level = level;
        strcpy(v.channel, VOTE_CHANNEL_TERMINAL);
        strcpy(v.employee, "E-1042");
        strcpy(v.workplace, "WP.7");
        memcpy(v.shift, shift.s, sizeof(v.shift));
        v.cast_at_ms = 1732800000000 + level;
        vote_boot_id(v.boot);
        v.mono_ms = vote_mono_ms();
        return v;
}

static struct vote_event make_event(const char *kind, const char *detail)
{
        struct vote_event e = {0};
        vote_id shift;

        vote_id_new(&e.id);
        vote_id_new(&shift);
        snprintf(e.kind, sizeof(e.kind), "%s", kind);
        strcpy(e.employee, "E-1042");
        memcpy(e.shift, shift.s, sizeof(e.shift));
        snprintf(e.detail, sizeof(e.detail), "%s", detail);
        e.at_ms = 1732800000000;
        vote_boot_id(e.boot);
        e.mono_ms = vote_mono_ms();
        return e;
}

static void assert_event_equal(const struct vote_event *a, const struct vote_event *b)
{
        assert_string_equal(a->id.s, b->id.s);
        assert_string_equal(a->kind, b->kind);
        assert_string_equal(a->employee, b->employee);
        assert_string_equal(a->shift, b->shift);
        assert_string_equal(a->detail, b->detail);
        assert_int_equal(a->at_ms, b->at_ms);
        assert_string_equal(a->boot, b->boot);
        assert_int_equal(a->mono_ms, b->mono_ms);
}

static void assert_vote_equal(const struct vote *a, const struct vote *b)
{
        assert_string_equal(a->id.s, b->id.s);
        assert_int_equal(a->level, b->level);
        assert_string_equal(a->channel, b->channel);
        assert_string_equal(a->employee, b->employee);
        assert_string_equal(a->workplace, b->workplace);
        assert_string_equal(a->shift, b->shift);
        assert_int_equal(a->cast_at_ms, b->cast_at_ms);
        assert_string_equal(a->suppressed, b->suppressed);
        assert_string_equal(a->boot, b->boot);
        assert_int_equal(a->mono_ms, b->mono_ms);
}

static void assert_counts(struct outbox *ob, int64_t pending, int64_t sent, int64_t rejected)
{
        struct outbox_counts c;

        assert_int_equal(outbox_counts(ob, &c), 0);
        assert_int_equal(c.pending, pending);
        assert_int_equal(c.sent, sent);
        assert_int_equal(c.rejected, rejected);
}

static void assert_more_counts(struct outbox *ob, int64_t suppressed, int64_t events_pending)
{
        struct outbox_counts c;

        assert_int_equal(outbox_counts(ob, &c), 0);
        assert_int_equal(c.suppressed, suppressed);
        assert_int_equal(c.events_pending, events_pending);
}

/* One integer from the file, read behind the outbox's back with plain SQLite. */
static int64_t raw_int(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *s = NULL;
        int64_t v;

        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        sqlite3_close(db);
        return v;
}

/* The first column of the first row as text, into a static buffer. */
static const char *raw_text(const char *path, const char *sql)
{
        static char text[128];
        sqlite3 *db = NULL;
        sqlite3_stmt *s = NULL;

        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        snprintf(text, sizeof(text), "%s", (const char *)sqlite3_column_text(s, 0));
        sqlite3_finalize(s);
        sqlite3_close(db);
        return text;
}

static void raw_exec(const char *path, const char *sql)
{
        sqlite3 *db = NULL;

        assert_int_equal(
            sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
}

static struct proto_result result(size_t index, const vote_id *id, enum proto_status st,
                                  const char *reason)
{
        struct proto_result r = {.index = index, .id = *id, .status = st};

        snprintf(r.reason, sizeof(r.reason), "%s", reason);
        return r;
}

static void test_add_peek_order(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote in[5], out[8];
        size_t n = 99;

        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_counts(ob, 0, 0, 0);
        assert_int_equal(outbox_peek(ob, 8, out, &n), 0);
        assert_int_equal(n, 0);

        for (int i = 0; i < 5; i++) {
                in[i] = make_vote(1 + i % 3);
                /* Arrival order, not the ids' order, decides: make the ids run backwards. */
                in[i].id.s[0] = (char)('9' - i);
                assert_int_equal(outbox_add(ob, &in[i]), 0);
        }
        assert_counts(ob, 5, 0, 0);

        assert_int_equal(outbox_peek(ob, 3, out, &n), 0);
        assert_int_equal(n, 3);
        for (int i = 0; i < 3; i++)
                assert_vote_equal(&out[i], &in[i]);
        /* Peeking takes nothing away. */
        assert_int_equal(outbox_peek(ob, 8, out, &n), 0);
        assert_int_equal(n, 5);
        for (int i = 0; i < 5; i++)
                assert_vote_equal(&out[i], &in[i]);
        assert_int_equal(outbox_peek(ob, 0, NULL, &n), 0);
        assert_int_equal(n, 0);
        assert_counts(ob, 5, 0, 0);
        outbox_close(ob);
}

static void test_apply_ack(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote v[4], out[8];
        struct proto_result res[5];
        struct proto_ack ack = {.server_time_ms = 1, .results = res};
        vote_id stranger;
        size_t n;
        char sql[160];

        assert_int_equal(outbox_open(f->path, &ob), 0);
        for (int i = 0; i < 4; i++) {
                v[i] = make_vote(3);
                assert_int_equal(outbox_add(ob, &v[i]), 0);
        }
        vote_id_new(&stranger);
        /* All four were sent; v[3]'s place is taken by a stranger that never was. */
        res[0] = result(0, &v[0].id, PROTO_STORED, "");
        res[1] = result(1, &v[1].id, PROTO_DUPLICATE, "");
        res[2] = result(2, &v[2].id, PROTO_REJECTED, "votes[2].employee: unknown employee");
        res[3] = result(3, &stranger, PROTO_STORED, "");
        ack.n_results = 4;
        assert_int_equal(outbox_apply_ack(ob, v, 4, NULL, 0, &ack), 0);
        assert_counts(ob, 1, 2, 1);

        /* Only the unanswered vote is offered again; the rejected one never is. */
        assert_int_equal(outbox_peek(ob, 8, out, &n), 0);
        assert_int_equal(n, 1);
        assert_vote_equal(&out[0], &v[3]);

        snprintf(sql, sizeof(sql),
                 "SELECT reason = 'votes[2].employee: unknown employee'"
                 " FROM votes WHERE id = '%s' AND state = 2",
                 v[2].id.s);
        assert_int_equal(raw_int(f->path, sql), 1);
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM votes"), 4);

        /* A later answer cannot turn a rejected vote into a sent one, nor count twice. */
        res[0] = result(2, &v[2].id, PROTO_STORED, "");
        ack.n_results = 1;
        assert_int_equal(outbox_apply_ack(ob, v, 3, NULL, 0, &ack), 0);
        assert_counts(ob, 1, 2, 1);
        res[0] = result(0, &v[0].id, PROTO_REJECTED, "late");
        assert_int_equal(outbox_apply_ack(ob, v, 3, NULL, 0, &ack), 0);
        assert_counts(ob, 1, 2, 1);

        /* The collector may answer out of order: the id decides, not the position. */
        res[0] = result(7, &v[3].id, PROTO_STORED, "");
        ack.n_results = 1;
        assert_int_equal(outbox_apply_ack(ob, v, 4, NULL, 0, &ack), 0);
        assert_counts(ob, 0, 3, 1);
        assert_int_equal(outbox_peek(ob, 8, out, &n), 0);
        assert_int_equal(n, 0);

        /* An unknown status is a programmer error: nothing is applied. */
        res[0] = result(0, &v[0].id, (enum proto_status)7, "");
        assert_int_equal(outbox_apply_ack(ob, v, 1, NULL, 0, &ack), -EINVAL);
        assert_counts(ob, 0, 3, 1);
        outbox_close(ob);
}

static void test_reopen_keeps_everything(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote v[3], out[4];
        struct proto_result res[1];
        struct proto_ack ack = {.n_results = 1, .results = res};
        size_t n;

        assert_int_equal(outbox_open(f->path, &ob), 0);
        for (int i = 0; i < 3; i++) {
                v[i] = make_vote(2);
                assert_int_equal(outbox_add(ob, &v[i]), 0);
        }
        res[0] = result(0, &v[0].id, PROTO_REJECTED, "too old");
        assert_int_equal(outbox_apply_ack(ob, v, 1, NULL, 0, &ack), 0);
        outbox_close(ob);

        ob = NULL;
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_counts(ob, 2, 0, 1);
        assert_int_equal(outbox_peek(ob, 4, out, &n), 0);
        assert_int_equal(n, 2);
        assert_vote_equal(&out[0], &v[1]);
        assert_vote_equal(&out[1], &v[2]);
        outbox_close(ob);
}

/* A vote is durable when outbox_add() returns, even if the process dies right after. */
static void test_add_survives_crash(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote v = make_vote(1), out[2];
        int status = 0;
        size_t n;
        pid_t pid;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct outbox *child = NULL;

                if (outbox_open(f->path, &child) < 0 || outbox_add(child, &v) < 0)
                        _exit(1);
                _exit(0); /* no close, no checkpoint: as if the power went */
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(outbox_peek(ob, 2, out, &n), 0);
        assert_int_equal(n, 1);
        assert_vote_equal(&out[0], &v);
        outbox_close(ob);
}

static void test_refused_add_changes_nothing(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote v = make_vote(3), dup, bad, out[2];
        size_t n;

        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(outbox_add(ob, &v), 0);

        dup = make_vote(1);
        dup.id = v.id;
        assert_int_equal(outbox_add(ob, &dup), -EEXIST);
        assert_counts(ob, 1, 0, 0);
        assert_int_equal(outbox_peek(ob, 2, out, &n), 0);
        assert_int_equal(n, 1);
        assert_vote_equal(&out[0], &v);

        bad = make_vote(1);
        bad.level = 4;
        assert_int_equal(outbox_add(ob, &bad), -EINVAL);
        bad = make_vote(1);
        strcpy(bad.channel, "Not a channel");
        assert_int_equal(outbox_add(ob, &bad), -EINVAL);
        bad = make_vote(1);
        strcpy(bad.id.s, "not-a-uuid");
        assert_int_equal(outbox_add(ob, &bad), -EINVAL);
        assert_counts(ob, 1, 0, 0);

        /* The handle is still good after the refusals. */
        bad = make_vote(2);
        assert_int_equal(outbox_add(ob, &bad), 0);
        assert_counts(ob, 2, 0, 0);
        outbox_close(ob);
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM votes"), 2);
}

static void write_file(const char *path, const void *data, size_t len, off_t at, int flags)
{
        int fd = open(path, O_WRONLY | flags, 0600);

        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, data, len, at), (ssize_t)len);
        assert_int_equal(close(fd), 0);
}

static void test_garbage_file_is_eio(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        unsigned char junk[8192], after[sizeof(junk)];
        int fd;

        randombytes_buf(junk, sizeof(junk));
        write_file(f->path, junk, sizeof(junk), 0, O_CREAT | O_TRUNC);
        assert_int_equal(outbox_open(f->path, &ob), -EIO);
        assert_null(ob);

        /* The damaged file is left as it was, for someone to look at. */
        fd = open(f->path, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, after, sizeof(after)), (ssize_t)sizeof(after));
        close(fd);
        assert_memory_equal(junk, after, sizeof(junk));
}

static void test_damaged_pages_are_eio(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        unsigned char junk[4096];
        struct stat st;

        assert_int_equal(outbox_open(f->path, &ob), 0);
        for (int i = 0; i < 200; i++) {
                struct vote v = make_vote(1 + i % 3);
                assert_int_equal(outbox_add(ob, &v), 0);
        }
        outbox_close(ob);
        ob = NULL;

        /* The header (page 1) stays valid; every b-tree page after it is overwritten. */
        assert_int_equal(stat(f->path, &st), 0);
        assert_true(st.st_size > 4 * 4096);
        for (off_t at = 4096; at < st.st_size; at += 4096) {
                randombytes_buf(junk, sizeof(junk));
                write_file(f->path, junk, sizeof(junk), at, 0);
        }
        assert_int_equal(outbox_open(f->path, &ob), -EIO);
        assert_null(ob);
}

/* Makes f->dir read-only: a read-only tmpfs for root (who ignores permission bits), the
 * permission bits for anybody else. Returns false (with a reason) when it cannot. */
static bool make_readonly(struct fixture *f, bool *ret_as_root, const char **ret_why)
{
        if (geteuid() == 0) {
                if (mount("otsinka-test", f->dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=1m") < 0) {
                        *ret_why = "cannot remount the tmpfs read-only";
                        return false;
                }
                *ret_as_root = true;
                return true;
        }
        if (chmod(f->path, 0400) < 0 || chmod(f->dir, 0500) < 0) {
                *ret_why = "cannot chmod";
                return false;
        }
        *ret_as_root = false;
        return true;
}

static void test_readonly_is_clear_error(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        char fresh[320];
        const char *why = "";
        bool as_root = false;
        struct vote v[2];
        int want;

        if (geteuid() == 0 && !mount_tmpfs(f, "1m")) {
                print_message("cannot mount a tmpfs: %s\n", strerror(errno));
                skip();
        }
        assert_int_equal(outbox_open(f->path, &ob), 0);
        for (int i = 0; i < 2; i++) {
                v[i] = make_vote(2);
                assert_int_equal(outbox_add(ob, &v[i]), 0);
        }
        outbox_close(ob);
        ob = NULL;

        if (!make_readonly(f, &as_root, &why)) {
                print_message("%s: %s\n", why, strerror(errno));
                skip();
        }
        want = as_root ? -EROFS : -EACCES;
        /* An existing store that cannot be written is refused at open, not at the first vote. */
        assert_int_equal(outbox_open(f->path, &ob), want);
        assert_null(ob);
        /* So is a new one in a directory that cannot be written. */
        snprintf(fresh, sizeof(fresh), "%s/new.db", f->dir);
        assert_int_equal(outbox_open(fresh, &ob), want);
        assert_null(ob);

        /* Writable again: nothing was lost. */
        if (as_root)
                assert_int_equal(mount("otsinka-test", f->dir, "tmpfs", MS_REMOUNT, "size=1m"), 0);
        else {
                assert_int_equal(chmod(f->dir, 0700), 0);
                assert_int_equal(chmod(f->path, 0600), 0);
        }
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_counts(ob, 2, 0, 0);
        outbox_close(ob);
}

static void test_schema_version(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote v = make_vote(1);
        int64_t objects;

        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(outbox_add(ob, &v), 0);
        outbox_close(ob);
        ob = NULL;
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
        assert_string_equal(raw_text(f->path, "PRAGMA journal_mode"), "wal");
        objects = raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master");

        /* Reopening must not run a migration again: an index dropped behind its back stays
         * dropped (a re-run would fail on the existing table or recreate the index). */
        raw_exec(f->path, "DROP INDEX votes_state_seq");
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_counts(ob, 1, 0, 0);
        outbox_close(ob);
        ob = NULL;
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master"), objects - 1);

        /* A file from a newer program is refused and left alone. */
        raw_exec(f->path, "PRAGMA user_version = 3");
        assert_int_equal(outbox_open(f->path, &ob), -EPROTONOSUPPORT);
        assert_null(ob);
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 3);
}

/* A migration that fails halfway leaves the file as it was: version 0, nothing created. */
static void test_failed_migration_rolls_back(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;

        /* Version 1 creates the table, then trips over an index name already taken. */
        raw_exec(f->path, "CREATE TABLE other (x); CREATE INDEX votes_state_seq ON other (x)");
        assert_int_equal(outbox_open(f->path, &ob), -EIO);
        assert_null(ob);
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 0);
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master"), 2);
        assert_int_equal(
            raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'votes'"), 0);
}

/* The schema a version 1 terminal made, verbatim: files like this are out in the field. */
static const char v1_schema[] = "CREATE TABLE votes ("
                                " id TEXT NOT NULL PRIMARY KEY,"
                                " level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),"
                                " channel TEXT NOT NULL,"
                                " employee TEXT NOT NULL,"
                                " workplace TEXT NOT NULL,"
                                " shift TEXT NOT NULL,"
                                " cast_at_ms INTEGER NOT NULL,"
                                " state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 2),"
                                " reason TEXT,"
                                " seq INTEGER NOT NULL UNIQUE,"
                                " acked_at_ms INTEGER"
                                ");"
                                "CREATE INDEX votes_state_seq ON votes (state, seq);"
                                "PRAGMA user_version = 1;";

/* A version 1 file with three pending votes, one sent and one rejected, written with plain
 * SQLite in WAL mode as version 1 did. ids[0..2] are the pending ones, in order. */
static void make_v1_file(const char *path, vote_id ids[3])
{
        char sql[4096];
        vote_id sent, rejected;
        size_t n = 0;

        raw_exec(path, "PRAGMA journal_mode = WAL");
        raw_exec(path, v1_schema);
        for (int i = 0; i < 3; i++)
                vote_id_new(&ids[i]);
        vote_id_new(&sent);
        vote_id_new(&rejected);
        n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                              "INSERT INTO votes VALUES ('%s', 3, 'terminal', 'E-1', 'WP.7', '',"
                              " 1732800000001, 1, NULL, 1, 1732800005000);",
                              sent.s);
        n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                              "INSERT INTO votes VALUES ('%s', 1, 'terminal', 'E-bad', 'WP.7', '',"
                              " 1732800000002, 2, 'votes[1].employee: unknown', 2,"
                              " 1732800005000);",
                              rejected.s);
        for (int i = 0; i < 3; i++)
                n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                                      "INSERT INTO votes VALUES ('%s', %d, 'qr_screen', 'E-2',"
                                      " '', '0190a1b2-0000-7000-8000-000000000001', %" PRId64
                                      ", 0, NULL,"
                                      " %d, NULL);",
                                      ids[i].s, 1 + i, (int64_t)1732800000010 + i, 3 + i);
        assert_true(n < sizeof(sql));
        raw_exec(path, sql);
}

/* A terminal updated in the field opens its old file: every vote is still there, in order,
 * with its state and reason, and counts as a vote (suppressed only when it says so). */
static void test_migration_from_v1_keeps_votes(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote out[4], fresh = make_vote(2);
        vote_id ids[3];
        char sql[200];
        size_t n;

        make_v1_file(f->path, ids);
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);

        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
        assert_counts(ob, 3, 1, 1);
        assert_more_counts(ob, 0, 0);
        assert_int_equal(outbox_peek(ob, 4, out, &n), 0);
        assert_int_equal(n, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_string_equal(out[i].id.s, ids[i].s);
                assert_int_equal(out[i].level, 1 + (int)i);
                assert_string_equal(out[i].channel, "qr_screen");
                assert_string_equal(out[i].employee, "E-2");
                assert_string_equal(out[i].workplace, "");
                assert_string_equal(out[i].shift, "0190a1b2-0000-7000-8000-000000000001");
                assert_int_equal(out[i].cast_at_ms, 1732800000010 + (int64_t)i);
                /* Made before suppression and boots existed: counted, of an unknown boot. */
                assert_string_equal(out[i].suppressed, "");
                assert_string_equal(out[i].boot, "");
                assert_int_equal(out[i].mono_ms, 0);
        }
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM votes WHERE state = 2 AND reason ="
                                          " 'votes[1].employee: unknown'"),
                         1);

        /* New votes queue behind the old ones, with everything version 2 keeps. */
        strcpy(fresh.suppressed, VOTE_SUPPRESSED_MIN_INTERVAL);
        assert_int_equal(outbox_add(ob, &fresh), 0);
        assert_int_equal(outbox_peek(ob, 4, out, &n), 0);
        assert_int_equal(n, 4);
        assert_vote_equal(&out[3], &fresh);
        assert_more_counts(ob, 1, 0);
        outbox_close(ob);

        /* And the migration is not run twice. */
        ob = NULL;
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_counts(ob, 4, 1, 1);
        outbox_close(ob);
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM votes WHERE id = '%s'", ids[0].s);
        assert_int_equal(raw_int(f->path, sql), 1);
}

/* A migration from version 1 that fails leaves the version 1 file whole. */
static void test_failed_migration_from_v1_keeps_v1(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        vote_id ids[3];

        make_v1_file(f->path, ids);
        /* Something already holds a name version 2 wants. */
        raw_exec(f->path, "CREATE TABLE events (x)");
        assert_int_equal(outbox_open(f->path, &ob), -EIO);
        assert_null(ob);
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM votes"), 5);
        /* The columns added before the failure are gone with it. */
        assert_int_equal(
            raw_int(f->path, "SELECT COUNT(*) FROM pragma_table_info('votes') WHERE name = 'boot'"),
            0);
        assert_int_equal(
            raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'state'"), 0);
}

/* A suppressed vote is stored and sent like any other, and counted apart. */
static void test_suppressed_counted_apart(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote v[3], out[4], bad;
        struct proto_result res[3];
        struct proto_ack ack = {.n_results = 3, .results = res};
        size_t n;

        assert_int_equal(outbox_open(f->path, &ob), 0);
        for (int i = 0; i < 3; i++)
                v[i] = make_vote(3);
        strcpy(v[1].suppressed, VOTE_SUPPRESSED_MIN_INTERVAL);
        for (int i = 0; i < 3; i++)
                assert_int_equal(outbox_add(ob, &v[i]), 0);
        assert_counts(ob, 3, 0, 0);
        assert_more_counts(ob, 1, 0);

        /* It waits to be sent with the others, reason, boot and mono intact. */
        assert_int_equal(outbox_peek(ob, 4, out, &n), 0);
        assert_int_equal(n, 3);
        for (int i = 0; i < 3; i++)
                assert_vote_equal(&out[i], &v[i]);
        assert_string_equal(out[1].suppressed, "min_interval");
        assert_string_equal(out[0].suppressed, "");
        assert_true(out[0].boot[0] != 0 || access("/proc/sys/kernel/random/boot_id", R_OK) != 0);

        /* Acknowledged: sent like the others, still counted apart. */
        for (size_t i = 0; i < 3; i++)
                res[i] = result(i, &v[i].id, PROTO_STORED, "");
        assert_int_equal(outbox_apply_ack(ob, v, 3, NULL, 0, &ack), 0);
        assert_counts(ob, 0, 3, 0);
        assert_more_counts(ob, 1, 0);

        /* What the collector would refuse is refused here. */
        bad = make_vote(1);
        strcpy(bad.suppressed, "Min interval");
        assert_int_equal(outbox_add(ob, &bad), -EINVAL);
        bad = make_vote(1);
        strcpy(bad.boot, "not-a-boot-id");
        assert_int_equal(outbox_add(ob, &bad), -EINVAL);
        bad = make_vote(1);
        bad.mono_ms = -1;
        assert_int_equal(outbox_add(ob, &bad), -EINVAL);
        bad.mono_ms = INT64_C(1) << 53;
        assert_int_equal(outbox_add(ob, &bad), -EINVAL);
        assert_counts(ob, 0, 3, 0);
        outbox_close(ob);
}

static void test_events_flow(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote_event e[4], out[8], bad;
        struct vote v = make_vote(2);
        struct proto_result vres[1], eres[4];
        struct proto_ack ack = {.results = vres, .event_results = eres};
        char sql[200];
        size_t n = 99;

        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(outbox_peek_events(ob, 8, out, &n), 0);
        assert_int_equal(n, 0);
        e[0] = make_event(VOTE_EVENT_SHIFT_OPEN, "pin");
        e[1] = make_event(VOTE_EVENT_PIN_LOCKOUT, "300");
        e[2] = make_event(VOTE_EVENT_SHIFT_CLOSE, "logout");
        e[3] = make_event("shift_close", "");
        e[3].employee[0] = 0;
        e[3].shift[0] = 0;
        e[3].boot[0] = 0;
        for (int i = 0; i < 4; i++) {
                e[i].id.s[0] = (char)('9' - i); /* arrival order decides, not the ids */
                assert_int_equal(outbox_add_event(ob, &e[i]), 0);
        }
        assert_int_equal(outbox_add(ob, &v), 0);
        assert_counts(ob, 1, 0, 0);
        assert_more_counts(ob, 0, 4);

        assert_int_equal(outbox_peek_events(ob, 3, out, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(outbox_peek_events(ob, 8, out, &n), 0);
        assert_int_equal(n, 4);
        for (int i = 0; i < 4; i++)
                assert_event_equal(&out[i], &e[i]);

        /* Refused events change nothing. */
        assert_int_equal(outbox_add_event(ob, &e[0]), -EEXIST);
        bad = make_event("Shift Open", "");
        assert_int_equal(outbox_add_event(ob, &bad), -EINVAL);
        bad = make_event("shift_open", "tab\there");
        assert_int_equal(outbox_add_event(ob, &bad), -EINVAL);
        bad = make_event("shift_open", "");
        strcpy(bad.shift, "not-a-uuid");
        assert_int_equal(outbox_add_event(ob, &bad), -EINVAL);
        bad = make_event("shift_open", "");
        strcpy(bad.employee, "no spaces allowed");
        assert_int_equal(outbox_add_event(ob, &bad), -EINVAL);
        assert_more_counts(ob, 0, 4);

        /* A bad status anywhere in the ack: nothing of it applies, votes included. */
        vres[0] = result(0, &v.id, PROTO_STORED, "");
        eres[0] = result(0, &e[0].id, (enum proto_status)9, "");
        ack.n_results = 1;
        ack.n_event_results = 1;
        assert_int_equal(outbox_apply_ack(ob, &v, 1, e, 4, &ack), -EINVAL);
        assert_counts(ob, 1, 0, 0);
        assert_more_counts(ob, 0, 4);

        /* One ack for a vote and the first three events, in one go; the fourth went unanswered. */
        eres[0] = result(0, &e[0].id, PROTO_STORED, "");
        eres[1] = result(1, &e[1].id, PROTO_DUPLICATE, "");
        eres[2] = result(2, &e[2].id, PROTO_REJECTED, "events[2].shift: unknown shift");
        ack.n_event_results = 3;
        assert_int_equal(outbox_apply_ack(ob, &v, 1, e, 4, &ack), 0);
        assert_counts(ob, 0, 1, 0);
        assert_more_counts(ob, 0, 1);
        assert_int_equal(outbox_peek_events(ob, 8, out, &n), 0);
        assert_int_equal(n, 1);
        assert_event_equal(&out[0], &e[3]);
        snprintf(sql, sizeof(sql),
                 "SELECT COUNT(*) FROM events WHERE id = '%s' AND state = 2"
                 " AND reason = 'events[2].shift: unknown shift'",
                 e[2].id.s);
        assert_int_equal(raw_int(f->path, sql), 1);

        /* A vote's id in the event results (or the other way round) marks nothing. */
        eres[0] = result(0, &v.id, PROTO_STORED, "");
        vres[0] = result(0, &e[3].id, PROTO_STORED, "");
        ack.n_event_results = 1;
        assert_int_equal(outbox_apply_ack(ob, &v, 1, &e[3], 1, &ack), 0);
        assert_more_counts(ob, 0, 1);
        outbox_close(ob);

        /* Kept across a reopen. */
        ob = NULL;
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_more_counts(ob, 0, 1);
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM events"), 4);
        outbox_close(ob);
}

static void test_state(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        const char *keys[] = {"terminal_id", "terminal_secret", "bad key\n"};
        const char *values[] = {"T002", "s3cret", "x"};
        char buf[64], tiny[4], big[5000], key[130];

        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(outbox_state_get(ob, "terminal_id", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(outbox_state_set(ob, "shift", "0190a1b2-0000-7000-8000-000000000001"), 0);
        assert_int_equal(outbox_state_get(ob, "shift", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0190a1b2-0000-7000-8000-000000000001");
        assert_int_equal(outbox_state_set(ob, "shift", ""), 0);
        assert_int_equal(outbox_state_get(ob, "shift", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");

        /* Both halves of a credential, or neither: a bad pair changes nothing. */
        assert_int_equal(outbox_state_set_many(ob, keys, values, 3), -EINVAL);
        assert_int_equal(outbox_state_get(ob, "terminal_id", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(outbox_state_set_many(ob, keys, values, 2), 0);
        assert_int_equal(outbox_state_get(ob, "terminal_secret", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "s3cret");

        /* A buffer too small is an error, not a cut value. */
        assert_int_equal(outbox_state_get(ob, "terminal_secret", tiny, sizeof(tiny)), -ENOBUFS);
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        assert_int_equal(outbox_state_set(ob, "big", big), -EINVAL);
        assert_int_equal(outbox_state_set(ob, "", "x"), -EINVAL);
        /* A key per employee ("pin." and a personal number of up to 64 bytes) fits; a
         * 129-byte key does not. */
        memset(key, 'k', sizeof(key) - 1);
        key[sizeof(key) - 1] = 0;
        memcpy(key, "pin.", 4);
        key[4 + VOTE_REF_MAX] = 0;
        assert_int_equal(outbox_state_set(ob, key, "0 0 0"), 0);
        memset(key, 'k', sizeof(key) - 1);
        assert_int_equal(outbox_state_set(ob, key, "0 0 0"), -EINVAL);
        assert_int_equal(outbox_state_get(ob, "big", buf, sizeof(buf)), -ENOENT);

        assert_int_equal(outbox_state_delete(ob, "shift"), 1);
        assert_int_equal(outbox_state_delete(ob, "shift"), 0);
        assert_int_equal(outbox_state_get(ob, "shift", buf, sizeof(buf)), -ENOENT);
        outbox_close(ob);

        /* Durable like the votes. */
        ob = NULL;
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(outbox_state_get(ob, "terminal_id", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "T002");
        assert_int_equal(outbox_state_get(ob, "shift", buf, sizeof(buf)), -ENOENT);
        outbox_close(ob);
}

static void test_roster(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        static const char first[] = "{\"protocol\":1,\"terminal\":\"T001\",\"name\":\"ЦНАП\"}";
        static const char second[] = "{\"protocol\":1,\"terminal\":\"T001\"}";
        char etag[64], tiny[4], *json = NULL;
        size_t len = 0;

        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(outbox_roster_load(ob, &json, &len, etag, sizeof(etag)), -ENOENT);
        assert_null(json);

        assert_int_equal(outbox_roster_save(ob, first, strlen(first), "\"v1\""), 0);
        assert_int_equal(outbox_roster_load(ob, &json, &len, etag, sizeof(etag)), 0);
        assert_int_equal(len, strlen(first));
        assert_string_equal(json, first);
        assert_string_equal(etag, "\"v1\"");
        free(json);
        json = NULL;

        /* A new copy replaces the old one; no ETag is an empty one. */
        assert_int_equal(outbox_roster_save(ob, second, strlen(second), NULL), 0);
        assert_int_equal(outbox_roster_load(ob, &json, NULL, etag, sizeof(etag)), 0);
        assert_string_equal(json, second);
        assert_string_equal(etag, "");
        free(json);
        json = NULL;
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM roster"), 1);

        /* Refused: empty, a NUL inside, a header-breaking ETag. The copy kept stays. */
        assert_int_equal(outbox_roster_save(ob, first, 0, "\"v2\""), -EINVAL);
        assert_int_equal(outbox_roster_save(ob, "{\"a\":\0}", 7, "\"v2\""), -EINVAL);
        assert_int_equal(outbox_roster_save(ob, first, strlen(first), "\"v2\"\r\nX: y"), -EINVAL);
        assert_int_equal(outbox_roster_save(ob, first, strlen(first), "\"v3\""), 0);
        assert_int_equal(outbox_roster_load(ob, &json, &len, tiny, sizeof(tiny)), -ENOBUFS);
        assert_null(json);
        outbox_close(ob);

        /* It is there after a restart, for a terminal that starts offline. */
        ob = NULL;
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_int_equal(outbox_roster_load(ob, &json, &len, NULL, 0), 0);
        assert_string_equal(json, first);
        free(json);
        outbox_close(ob);
}

/* Sent rows older than 30 days go; pending and rejected ones never do, however old. */
static void test_prune(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        struct vote v[5];
        struct vote_event e[2];
        struct proto_result vres[5], eres[2];
        struct proto_ack ack = {.results = vres, .event_results = eres};
        int64_t now = (int64_t)time(NULL) * 1000, day = 24 * 3600 * 1000;
        char sql[200];

        assert_int_equal(outbox_open(f->path, &ob), 0);
        for (int i = 0; i < 5; i++) {
                v[i] = make_vote(1);
                assert_int_equal(outbox_add(ob, &v[i]), 0);
        }
        for (int i = 0; i < 2; i++) {
                e[i] = make_event("shift_open", "pin");
                assert_int_equal(outbox_add_event(ob, &e[i]), 0);
        }
        /* v0, v1, v2 sent, v3 rejected, v4 pending; e0 sent, e1 pending. */
        for (size_t i = 0; i < 4; i++)
                vres[i] = result(i, &v[i].id, i == 3 ? PROTO_REJECTED : PROTO_STORED,
                                 i == 3 ? "votes[3].employee: unknown" : "");
        eres[0] = result(0, &e[0].id, PROTO_STORED, "");
        ack.n_results = 4;
        ack.n_event_results = 1;
        assert_int_equal(outbox_apply_ack(ob, v, 4, e, 1, &ack), 0);
        outbox_close(ob);
        ob = NULL;

        /* Make everything look old, v2 excepted; even the pending ones' cast time. */
        snprintf(sql, sizeof(sql),
                 "UPDATE votes SET acked_at_ms = %" PRId64 ", cast_at_ms = %" PRId64
                 "; UPDATE events SET acked_at_ms = %" PRId64 ", at_ms = %" PRId64,
                 now - 31 * day, now - 31 * day, now - 31 * day, now - 31 * day);
        raw_exec(f->path, sql);
        snprintf(sql, sizeof(sql), "UPDATE votes SET acked_at_ms = %" PRId64 " WHERE id = '%s'",
                 now - 29 * day, v[2].id.s);
        raw_exec(f->path, sql);

        /* The first ack on a handle prunes, even an ack of nothing. */
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_counts(ob, 1, 3, 1);
        ack.n_results = 0;
        ack.n_event_results = 0;
        assert_int_equal(outbox_apply_ack(ob, NULL, 0, NULL, 0, &ack), 0);
        assert_counts(ob, 1, 1, 1);
        assert_more_counts(ob, 0, 1);
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM events"), 1);
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM votes WHERE id IN ('%s', '%s', '%s')",
                 v[2].id.s, v[3].id.s, v[4].id.s);
        assert_int_equal(raw_int(f->path, sql), 3);

        /* Not again within the hour: an old sent vote made now stays until the next prune. */
        snprintf(sql, sizeof(sql), "UPDATE votes SET acked_at_ms = %" PRId64 " WHERE id = '%s'",
                 now - 31 * day, v[2].id.s);
        raw_exec(f->path, sql);
        assert_int_equal(outbox_apply_ack(ob, NULL, 0, NULL, 0, &ack), 0);
        assert_counts(ob, 1, 1, 1);
        /* Called directly, it prunes at once and says how much. */
        assert_int_equal(outbox_prune(ob, now - 30 * day), 1);
        assert_int_equal(outbox_prune(ob, now - 30 * day), 0);
        assert_counts(ob, 1, 0, 1);
        assert_more_counts(ob, 0, 1);
        outbox_close(ob);
}

static void test_disk_full(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        char filler[320];
        static unsigned char zero[64 * 1024];
        enum { MAX_VOTES = 20000 };
        vote_id *ids;
        struct vote *out, v;
        struct vote_event ev;
        char got[64];
        size_t k = 0, n;
        int r = 0;

        if (!mount_tmpfs(f, "256k")) {
                print_message("cannot mount a tmpfs (%s): full-disk test skipped\n",
                              strerror(errno));
                skip();
        }
        ids = calloc(MAX_VOTES, sizeof(*ids));
        out = calloc(MAX_VOTES, sizeof(*out));
        assert_non_null(ids);
        assert_non_null(out);

        /* Some space to give back later. */
        snprintf(filler, sizeof(filler), "%s/filler", f->dir);
        write_file(filler, zero, sizeof(zero), 0, O_CREAT | O_TRUNC);

        assert_int_equal(outbox_open(f->path, &ob), 0);
        while (k < MAX_VOTES) {
                v = make_vote(1 + (int)(k % 3));
                r = outbox_add(ob, &v);
                if (r < 0)
                        break;
                ids[k++] = v.id;
        }
        assert_int_equal(r, -ENOSPC);
        assert_true(k > 0);
        print_message("the tmpfs filled after %zu votes\n", k);
        assert_counts(ob, (int64_t)k, 0, 0);
        /* Still refusing cleanly, not broken. */
        v = make_vote(2);
        assert_int_equal(outbox_add(ob, &v), -ENOSPC);
        assert_counts(ob, (int64_t)k, 0, 0);
        /* An event or a state value either fits whole or is refused the same way. */
        ev = make_event(VOTE_EVENT_SHIFT_CLOSE, "idle");
        r = outbox_add_event(ob, &ev);
        assert_true(r == 0 || r == -ENOSPC);
        assert_more_counts(ob, 0, r == 0 ? 1 : 0);
        r = outbox_state_set(ob, "shift", ev.shift);
        assert_true(r == 0 || r == -ENOSPC);
        assert_int_equal(outbox_state_get(ob, "shift", got, sizeof(got)), r == 0 ? 0 : -ENOENT);
        outbox_close(ob);
        ob = NULL;

        /* Every vote stored before the disk filled is there after reopening, in order. */
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_counts(ob, (int64_t)k, 0, 0);
        assert_int_equal(outbox_peek(ob, MAX_VOTES, out, &n), 0);
        assert_int_equal(n, k);
        for (size_t i = 0; i < k; i++)
                assert_string_equal(out[i].id.s, ids[i].s);

        /* Space comes back: votes are taken again. */
        assert_int_equal(unlink(filler), 0);
        v = make_vote(3);
        assert_int_equal(outbox_add(ob, &v), 0);
        assert_counts(ob, (int64_t)k + 1, 0, 0);
        outbox_close(ob);
        free(out);
        free(ids);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_add_peek_order, setup, teardown),
            cmocka_unit_test_setup_teardown(test_apply_ack, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reopen_keeps_everything, setup, teardown),
            cmocka_unit_test_setup_teardown(test_add_survives_crash, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refused_add_changes_nothing, setup, teardown),
            cmocka_unit_test_setup_teardown(test_garbage_file_is_eio, setup, teardown),
            cmocka_unit_test_setup_teardown(test_damaged_pages_are_eio, setup, teardown),
            cmocka_unit_test_setup_teardown(test_readonly_is_clear_error, setup, teardown),
            cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
            cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
            cmocka_unit_test_setup_teardown(test_migration_from_v1_keeps_votes, setup, teardown),
            cmocka_unit_test_setup_teardown(test_failed_migration_from_v1_keeps_v1, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_suppressed_counted_apart, setup, teardown),
            cmocka_unit_test_setup_teardown(test_events_flow, setup, teardown),
            cmocka_unit_test_setup_teardown(test_state, setup, teardown),
            cmocka_unit_test_setup_teardown(test_roster, setup, teardown),
            cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
            cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
