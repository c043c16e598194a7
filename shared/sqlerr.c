/* SPDX-License-Identifier: MIT */
/* SQLite result codes to negative errnos. */
#include <errno.h>

#include <sqlite3.h>

#include "sqlerr.h"

int sqlerr_to_errno(int rc, int sys_errno)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_IOERR:
                return sys_errno == ENOSPC ? -ENOSPC : -EIO;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EIO;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CONSTRAINT:
                if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
                        return -EEXIST;
                return rc == SQLITE_CONSTRAINT_FOREIGNKEY ? -ENOENT : -EINVAL;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_TOOBIG:
                return -E2BIG;
        default:
                return -EIO;
        }
}
