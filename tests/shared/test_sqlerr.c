/* SPDX-License-Identifier: MIT */
/* SQLite failures, provoked for real on an in-memory database, come out as the errnos the
 * outbox and the store promise their callers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "sqlerr.h"

static int provoke(sqlite3 *db, const char *sql)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

        return sqlerr_to_errno(sqlite3_extended_errcode(db) ? sqlite3_extended_errcode(db) : rc,
                               sqlite3_system_errno(db));
}

static void test_constraints(void **state)
{
        sqlite3 *db;

        assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
        sqlite3_extended_result_codes(db, 1);
        assert_int_equal(provoke(db, "PRAGMA foreign_keys=ON;"
                                     "CREATE TABLE p(id INTEGER PRIMARY KEY);"
                                     "CREATE TABLE t(id TEXT PRIMARY KEY, u TEXT UNIQUE,"
                                     " level INTEGER CHECK(level BETWEEN 1 AND 3) NOT NULL,"
                                     " p INTEGER REFERENCES p(id));"
                                     "INSERT INTO p VALUES (1);"
                                     "INSERT INTO t VALUES ('a', 'x', 1, 1);"),
                         0);
        assert_int_equal(provoke(db, "INSERT INTO t VALUES ('a', 'y', 1, 1)"), -EEXIST);
        assert_int_equal(provoke(db, "INSERT INTO t VALUES ('b', 'x', 1, 1)"), -EEXIST);
        assert_int_equal(provoke(db, "INSERT INTO t VALUES ('c', 'z', 7, 1)"), -EINVAL);
        assert_int_equal(provoke(db, "INSERT INTO t VALUES ('d', 'w', NULL, 1)"), -EINVAL);
        assert_int_equal(provoke(db, "INSERT INTO t VALUES ('e', 'v', 1, 99)"), -ENOENT);
        sqlite3_close(db);
}

static void test_other_failures(void **state)
{
        assert_int_equal(sqlerr_to_errno(SQLITE_DONE, 0), 0);
        assert_int_equal(sqlerr_to_errno(SQLITE_ROW, 0), 0);
        assert_int_equal(sqlerr_to_errno(SQLITE_FULL, 0), -ENOSPC);
        assert_int_equal(sqlerr_to_errno(SQLITE_IOERR_WRITE, ENOSPC), -ENOSPC);
        assert_int_equal(sqlerr_to_errno(SQLITE_IOERR_WRITE, EIO), -EIO);
        assert_int_equal(sqlerr_to_errno(SQLITE_CORRUPT, 0), -EIO);
        assert_int_equal(sqlerr_to_errno(SQLITE_NOTADB, 0), -EIO);
        assert_int_equal(sqlerr_to_errno(SQLITE_READONLY_DBMOVED, 0), -EROFS);
        assert_int_equal(sqlerr_to_errno(SQLITE_BUSY_SNAPSHOT, 0), -EBUSY);
        assert_int_equal(sqlerr_to_errno(SQLITE_CANTOPEN, 0), -EACCES);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_constraints),
            cmocka_unit_test(test_other_failures),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
