/* SPDX-License-Identifier: MIT */
/* Tests of the terminal's outbox: order, acknowledgement, durability across close and crash,
 * refused writes that change nothing, damaged and unwritable files, schema versioning, and a
 * full disk (a tiny tmpfs, when this process may mount one). Each test has its own directory. */
#include <errno.h>
#include <fcntl.h>
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
        return v;
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
}

static void assert_counts(struct outbox *ob, int64_t pending, int64_t sent, int64_t rejected)
{
        struct outbox_counts c;

        assert_int_equal(outbox_counts(ob, &c), 0);
        assert_int_equal(c.pending, pending);
        assert_int_equal(c.sent, sent);
        assert_int_equal(c.rejected, rejected);
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
        assert_int_equal(outbox_apply_ack(ob, v, 4, &ack), 0);
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
        assert_int_equal(outbox_apply_ack(ob, v, 3, &ack), 0);
        assert_counts(ob, 1, 2, 1);
        res[0] = result(0, &v[0].id, PROTO_REJECTED, "late");
        assert_int_equal(outbox_apply_ack(ob, v, 3, &ack), 0);
        assert_counts(ob, 1, 2, 1);

        /* The collector may answer out of order: the id decides, not the position. */
        res[0] = result(7, &v[3].id, PROTO_STORED, "");
        ack.n_results = 1;
        assert_int_equal(outbox_apply_ack(ob, v, 4, &ack), 0);
        assert_counts(ob, 0, 3, 1);
        assert_int_equal(outbox_peek(ob, 8, out, &n), 0);
        assert_int_equal(n, 0);

        /* An unknown status is a programmer error: nothing is applied. */
        res[0] = result(0, &v[0].id, (enum proto_status)7, "");
        assert_int_equal(outbox_apply_ack(ob, v, 1, &ack), -EINVAL);
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
        assert_int_equal(outbox_apply_ack(ob, v, 1, &ack), 0);
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
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
        assert_string_equal(raw_text(f->path, "PRAGMA journal_mode"), "wal");
        objects = raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master");

        /* Reopening must not run version 1 again: an index dropped behind its back stays
         * dropped (a re-run would fail on the existing table or recreate the index). */
        raw_exec(f->path, "DROP INDEX votes_state_seq");
        assert_int_equal(outbox_open(f->path, &ob), 0);
        assert_counts(ob, 1, 0, 0);
        outbox_close(ob);
        ob = NULL;
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
        assert_int_equal(raw_int(f->path, "SELECT COUNT(*) FROM sqlite_master"), objects - 1);

        /* A file from a newer program is refused and left alone. */
        raw_exec(f->path, "PRAGMA user_version = 2");
        assert_int_equal(outbox_open(f->path, &ob), -EPROTONOSUPPORT);
        assert_null(ob);
        assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
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

static void test_disk_full(void **state)
{
        struct fixture *f = *state;
        struct outbox *ob = NULL;
        char filler[320];
        static unsigned char zero[64 * 1024];
        enum { MAX_VOTES = 20000 };
        vote_id *ids;
        struct vote *out, v;
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
            cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
