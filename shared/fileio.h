/* SPDX-License-Identifier: MIT */
/* Whole-file reads with a cap, and atomic replacement of a file (temp file beside it, fsync,
 * rename, fsync of the directory). Neither logs: each returns a negative errno and the caller,
 * which knows what the file is for, logs once. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Reads the regular file at path into a malloc'd buffer with a NUL after the last byte (as
 * MHD_OPTION_HTTPS_MEM_KEY/CERT want); *ret_len, when ret_len is not NULL, excludes the NUL.
 * A file longer than max bytes gives -EFBIG, a missing one -ENOENT, a directory or device
 * (or a max above SIZE_MAX / 2) -EINVAL. Buffers given up on the way are wiped, so a key
 * leaves no copy behind. The caller frees *ret_data (wiping it first when it holds a key). */
int fileio_read(const char *path, size_t max, char **ret_data, size_t *ret_len);

/* Replaces dir/name with the len bytes at data, with exactly the given mode (the umask does
 * not apply): a temp file ".name.XXXXXX" in dir is written, fsync'd and renamed over
 * dir/name, then dir is fsync'd. On failure the old file, if any, is left as it was and the
 * temp file is removed. Returns 0, -ENAMETOOLONG when dir/name does not fit in PATH_MAX, or
 * the negative errno of the step that failed (-ENOENT or -ENOTDIR for a bad dir, -EACCES,
 * -ENOSPC, -EIO...). */
int fileio_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                        mode_t mode);

/* fsync()s the file at path: 0 or a negative errno. */
int fileio_fsync_path(const char *path);
/* fsync()s the directory that holds path, so that a rename into it is durable. */
int fileio_fsync_dir_of(const char *path);
