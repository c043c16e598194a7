/* SPDX-License-Identifier: MIT */
/* The store's online backup while another connection keeps writing, as `otsinka-collector
 * backup` runs beside a serving collector: it must finish however steadily votes come in, and
 * the copy must be whole. (tests/collector/backup.sh does the same over HTTPS end to end.) */
#include <errno.h>
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

static void seed(void *fixture)
{
        struct webtest *w = fixture;
        int64_t unit, e2;

        unit = webtest_add_unit(w->store, 0, WEBTEST_CITY_ROOT);
        e2 = webtest_add_employee(w->store, "E2", "Коваленко Олена Петрівна", "Адміністратор ЦНАП",
                                  unit, false);
        assert_int_equal(
            w->store->ops->token_add(w->store, TOK_E2, e2, NULL, VOTE_CHANNEL_QR_PRINTED), 0);
}

static int setup(void **state)
{
        return webtest_setup(state, sizeof(struct webtest), "otsinka-backup", NULL, seed);
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

static void test_backup_finishes_while_votes_keep_coming(void **state)
{
        struct webtest *w = *state;
        struct writer wr = {.error = 0};
        struct backup_job job = {.r = 1};
        pthread_t writer_thread, backup_thread;
        struct store *collector = NULL;
        char sql[128], check[64];
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
        assert_int_equal(webtest_file_query(job.path, NULL, 0, "SELECT COUNT(*) FROM votes"), 5);
        assert_int_equal(webtest_file_query(job.path, NULL, 0,
                                            "SELECT length(value) FROM meta"
                                            " WHERE key = 'test.ballast'"),
                         BALLAST_BYTES);
        webtest_file_query(job.path, check, sizeof(check), "PRAGMA integrity_check");
        assert_string_equal(check, "ok");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_backup_finishes_while_votes_keep_coming, setup,
                                            webtest_teardown),
        };

        return webtest_run_group(tests, LOG_LEVEL_WARN);
}
