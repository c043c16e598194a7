/* SPDX-License-Identifier: MIT */
/* Temporary directories for the unit tests: made under $TMPDIR, removed without following
 * symbolic links, so that a test can never delete anything outside its own directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

int test_mkdtemp(char *buf, size_t n, const char *prefix)
{
        const char *tmp = getenv("TMPDIR");
        int len;

        if (!buf || n == 0 || !prefix)
                return -EINVAL;
        if (prefix[0] == '/')
                len = snprintf(buf, n, "%s-XXXXXX", prefix);
        else
                len = snprintf(buf, n, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
        if (len < 0 || (size_t)len >= n) {
                buf[0] = '\0';
                return -ENAMETOOLONG;
        }
        if (!mkdtemp(buf)) {
                int r = -errno;

                buf[0] = '\0';
                return r;
        }
        return 0;
}

/* Empties the directory open as fd, which it closes. */
static void empty_dir(int fd)
{
        DIR *d = fdopendir(fd);
        struct dirent *e;

        if (!d) {
                close(fd);
                return;
        }
        while ((e = readdir(d))) {
                struct stat st;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(d), e->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub >= 0)
                                empty_dir(sub);
                        unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
                } else {
                        unlinkat(dirfd(d), e->d_name, 0);
                }
        }
        closedir(d);
}

void test_remove_tree(const char *dir)
{
        struct stat st;
        int fd;

        if (!dir || !dir[0] || lstat(dir, &st) < 0)
                return;
        if (!S_ISDIR(st.st_mode)) {
                unlink(dir);
                return;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                empty_dir(fd);
        rmdir(dir);
}
