/* SPDX-License-Identifier: MIT */
/* The store's online backup while another connection keeps writing, as `otsinka-collector
 * backup` runs beside a serving collector: it must finish however steadily votes come in, and
 * the copy must be whole. (tests/collector/backup.sh does the same over HTTPS end to end.) */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "collector.h"
#include "log.h"
#include "period.h"
#include "store.h"
#include "testutil.h"
#include "web.h"
#include "webtest.h"

#define TOK_E2 "tokGrand0002"
#define BALLAST_BYTES 8000000 /* a database of some 2000 pages: many steps of a paged copy */
#define FINISH_WITHIN_S 30

static char assets[PATH_MAX];

static int setup(void **state)
{
        struct webtest *w = calloc(1, sizeof(*w));
        int64_t unit, e2;

        if (!w)
                return -1;
        if (webtest_open(w, "otsinka-backup", assets, NULL) < 0) {
                free(w);
                return -1;
        }
        *state = w;
        unit = webtest_add_unit(w->store, 0, "Міська рада");
        e2 = webtest_add_employee(w->store, "E2", "Коваленко Олена Петрівна", "Адміністратор ЦНАП",
                                  unit, false);
        assert_int_equal(
            w->store->ops->token_add(w->store, TOK_E2, e2, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
        return 0;
}

static int teardown(void **state)
{
        struct webtest *w = *state;

        webtest_close(w);
        free(w);
        return 0;
}

/* The serving collector: its own connection, writing as fast as it can until told to stop. */
struct writer {
        struct store *store;
        atomic_bool stop;
        atomic_long writes;
        int error;
};

static void *write_loop(void *arg)
{
        struct writer *wr = arg;
        char value[32];

        while (!atomic_load(&wr->stop)) {
                long n = atomic_fetch_add(&wr->writes, 1);
                int r;

                snprintf(value, sizeof(value), "%ld", n);
                r = wr->store->ops->meta_set(wr->store, "test.tick", value);
                if (r < 0 && !wr->error)
                        wr->error = r;
        }
        return NULL;
}

struct backup_job {
        struct store *store;
        char path[320];
        atomic_bool done;
        int r;
};

static void *backup_run(void *arg)
{
        struct backup_job *job = arg;

        job->r = job->store->ops->backup(job->store, job->path);
        atomic_store(&job->done, true);
        return NULL;
}

static int64_t query_int(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int64_t v;

        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
}

static void test_backup_finishes_while_votes_keep_coming(void **state)
{
        struct webtest *w = *state;
        struct writer wr = {.error = 0};
        struct backup_job job = {.r = 1};
        pthread_t writer_thread, backup_thread;
        struct store *collector = NULL;
        char sql[128];
        bool finished = false;
        long writes_before, writes_during;

        for (int i = 0; i < 5; i++) {
                w->phone_cookie[0] = 0;
                assert_vote_status(w, "/r/" TOK_E2, "level=3", 303);
        }
        snprintf(sql, sizeof(sql), "INSERT INTO meta VALUES ('test.ballast', randomblob(%d))",
                 BALLAST_BYTES);
        webtest_db_exec(w, sql);

        assert_int_equal(store_open(w->db, &collector), 0);
        wr.store = collector;
        assert_int_equal(pthread_create(&writer_thread, NULL, write_loop, &wr), 0);
        while (atomic_load(&wr.writes) < 3)
                usleep(1000);

        job.store = w->store;
        snprintf(job.path, sizeof(job.path), "%s/backup.db", w->dir);
        writes_before = atomic_load(&wr.writes);
        assert_int_equal(pthread_create(&backup_thread, NULL, backup_run, &job), 0);
        for (int i = 0; i < FINISH_WITHIN_S * 100 && !finished; i++) {
                usleep(10 * 1000);
                finished = atomic_load(&job.done);
        }
        writes_during = atomic_load(&wr.writes) - writes_before;
        atomic_store(&wr.stop, true);
        assert_int_equal(pthread_join(writer_thread, NULL), 0);
        assert_int_equal(pthread_join(backup_thread, NULL), 0);
        store_close(collector);

        if (!finished)
                print_error("the backup did not finish in %d s while %ld writes came in\n",
                            FINISH_WITHIN_S, writes_during);
        assert_true(finished);
        assert_int_equal(job.r, 0);
        assert_int_equal(wr.error, 0);
        assert_true(writes_during > 0);

        /* a whole, standalone copy */
        assert_int_equal(query_int(job.path, "SELECT COUNT(*) FROM votes"), 5);
        assert_int_equal(
            query_int(job.path, "SELECT length(value) FROM meta WHERE key = 'test.ballast'"),
            BALLAST_BYTES);
        {
                sqlite3 *db = NULL;
                sqlite3_stmt *st = NULL;

                assert_int_equal(sqlite3_open_v2(job.path, &db, SQLITE_OPEN_READONLY, NULL),
                                 SQLITE_OK);
                assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
                                 SQLITE_OK);
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
                sqlite3_finalize(st);
                sqlite3_close(db);
        }
}

int main(void)
{
        const char *env = getenv("OTSINKA_ASSETS");
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_backup_finishes_while_votes_keep_coming, setup,
                                            teardown),
        };

        snprintf(assets, sizeof(assets), "%s", env && *env ? env : TEST_SOURCE_DIR "/assets");
        if (sodium_init() < 0 || period_set_zone("Europe/Kyiv") < 0)
                return 1;
        log_set_max_level(LOG_LEVEL_WARN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
