/* SPDX-License-Identifier: MIT */
/* Capped whole-file reads and atomic file replacement, for every component. Nothing here
 * logs; every failure is a negative errno for the caller to report with its own context. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

int fileio_read(const char *path, size_t max, char **ret_data, size_t *ret_len)
{
        struct stat st;
        char *data = NULL;
        size_t len = 0, alloc = 0;
        int fd, r;

        if (max > SIZE_MAX / 2)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                r = -EINVAL;
                goto out;
        }
        if ((uintmax_t)st.st_size > max) {
                r = -EFBIG;
                goto out;
        }
        /* Room for the NUL and one byte more, so that the read that meets EOF needs no
         * growth unless the file grew since fstat(). */
        alloc = (size_t)st.st_size + 2;
        data = malloc(alloc);
        if (!data) {
                r = -ENOMEM;
                goto out;
        }
        for (;;) {
                ssize_t n;

                if (len + 1 == alloc) {
                        size_t grown = alloc > (max + 2) / 2 ? max + 2 : alloc * 2;
                        char *p;

                        if (len > max) {
                                r = -EFBIG;
                                goto out;
                        }
                        p = malloc(grown);
                        if (!p) {
                                r = -ENOMEM;
                                goto out;
                        }
                        memcpy(p, data, len);
                        explicit_bzero(data, alloc);
                        free(data);
                        data = p;
                        alloc = grown;
                }
                n = read(fd, data + len, alloc - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto out;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max) {
                r = -EFBIG;
                goto out;
        }
        data[len] = '\0';
        *ret_data = data;
        if (ret_len)
                *ret_len = len;
        data = NULL;
        r = 0;
out:
        if (data) {
                explicit_bzero(data, alloc);
                free(data);
        }
        close(fd);
        return r;
}

int fileio_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                        mode_t mode)
{
        char path[PATH_MAX], tmp[PATH_MAX];
        const char *p = data;
        bool tmp_made = false;
        int fd = -1, dir_fd = -1, r;

        r = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (r < 0 || (size_t)r >= sizeof(path))
                return -ENAMETOOLONG;
        r = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name);
        if (r < 0 || (size_t)r >= sizeof(tmp))
                return -ENAMETOOLONG;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                goto out;
        }
        tmp_made = true;
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                goto out;
        }
        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto out;
                }
                p += n;
                len -= (size_t)n;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                goto out;
        }
        r = close(fd);
        fd = -1;
        if (r < 0) {
                r = -errno;
                goto out;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto out;
        }
        tmp_made = false;
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || fsync(dir_fd) < 0) {
                r = -errno;
                goto out;
        }
        r = 0;
out:
        if (dir_fd >= 0)
                close(dir_fd);
        if (fd >= 0)
                close(fd);
        if (tmp_made)
                unlink(tmp);
        return r;
}

int fileio_fsync_path(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}

int fileio_fsync_dir_of(const char *path)
{
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : 1;

        if (n >= sizeof(dir))
                return -ENAMETOOLONG;
        if (!slash)
                memcpy(dir, ".", 2);
        else if (n == 0)
                memcpy(dir, "/", 2);
        else {
                memcpy(dir, path, n);
                dir[n] = 0;
        }
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}
