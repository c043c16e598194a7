/* SPDX-License-Identifier: MIT */
/* SQLite result codes as negative errnos, one table for the terminal's outbox and the
 * collector's store: the translation at the edge that STYLE.md asks for. Logging stays with
 * the caller, which knows the file and the statement. */
#pragma once

/* 0 for SQLITE_OK, SQLITE_ROW and SQLITE_DONE; otherwise a negative errno. rc may be an
 * extended code; sys_errno is sqlite3_system_errno() (an I/O error caused by a full disk is
 * -ENOSPC). Constraints: a primary key or UNIQUE clash is -EEXIST, a missing foreign key
 * -ENOENT, any other (CHECK, NOT NULL) -EINVAL. */
int sqlerr_to_errno(int rc, int sys_errno);
