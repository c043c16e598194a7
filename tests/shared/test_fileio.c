/* SPDX-License-Identifier: MIT */
/* Tests for fileio: a capped read returns the whole file NUL-terminated or a clear error, and
 * an atomic write leaves either the new file with the mode asked for or the old one as it was,
 * never a temp file, in a fresh temporary directory per test. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "testutil.h"

static const char old_text[] = "the old contents, longer than the new ones\n";
static const char new_text[] = "new\n";

static int setup(void **state)
{
        char *dir = calloc(1, PATH_MAX);

        if (!dir)
                return -1;
        if (test_mkdtemp(dir, PATH_MAX, "otsinka-fileio") < 0) {
                free(dir);
                return -1;
        }
        *state = dir;
        return 0;
}

static int teardown(void **state)
{
        char *dir = *state;

        chmod(dir, 0700); /* in case a test failed with it read-only */
        test_remove_tree(dir);
        free(dir);
        return 0;
}

static void path_in(const char *dir, const char *name, char *buf, size_t size)
{
        int n = snprintf(buf, size, "%s/%s", dir, name);

        assert_true(n > 0 && (size_t)n < size);
}

/* Writes dir/name the plain way, with exactly mode. */
static void spit(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
        char path[PATH_MAX];
        FILE *f;

        path_in(dir, name, path, sizeof(path));
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, mode), 0);
}

/* Asserts that dir/name holds exactly text, with exactly mode. */
static void assert_file(const char *dir, const char *name, const char *text, mode_t mode)
{
        char path[PATH_MAX], *data = NULL;
        size_t len = 0;
        struct stat st;

        path_in(dir, name, path, sizeof(path));
        assert_int_equal(fileio_read(path, 4096, &data, &len), 0);
        assert_int_equal(len, strlen(text));
        assert_string_equal(data, text);
        free(data);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, mode);
}

/* Asserts that dir holds name and nothing else: no temp file was left behind. */
static void assert_only(const char *dir, const char *name)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int found = 0, others = 0;

        assert_non_null(d);
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (strcmp(e->d_name, name) == 0)
                        found++;
                else {
                        fprintf(stderr, "unexpected entry: %s\n", e->d_name);
                        others++;
                }
        }
        closedir(d);
        assert_int_equal(found, 1);
        assert_int_equal(others, 0);
}

static ino_t inode_of(const char *dir, const char *name)
{
        char path[PATH_MAX];
        struct stat st;

        path_in(dir, name, path, sizeof(path));
        assert_int_equal(stat(path, &st), 0);
        return st.st_ino;
}

static void test_read(void **state)
{
        const char *dir = *state;
        char path[PATH_MAX], big[100], *data = NULL;
        size_t len = 0;

        memset(big, 'x', sizeof(big));
        spit(dir, "f", big, sizeof(big), 0644);
        path_in(dir, "f", path, sizeof(path));
        assert_int_equal(fileio_read(path, 99, &data, &len), -EFBIG);
        assert_null(data);
        assert_int_equal(fileio_read(path, 100, &data, &len), 0);
        assert_int_equal(len, 100);
        assert_int_equal(data[100], '\0');
        assert_memory_equal(data, big, 100);
        free(data);
        data = NULL;

        /* ret_len may be NULL. */
        assert_int_equal(fileio_read(path, 100, &data, NULL), 0);
        assert_memory_equal(data, big, 100);
        assert_int_equal(data[100], '\0');
        free(data);
        data = NULL;

        spit(dir, "empty", "", 0, 0644);
        path_in(dir, "empty", path, sizeof(path));
        assert_int_equal(fileio_read(path, 10, &data, &len), 0);
        assert_int_equal(len, 0);
        assert_string_equal(data, "");
        free(data);
        data = NULL;

        path_in(dir, "missing", path, sizeof(path));
        assert_int_equal(fileio_read(path, 10, &data, &len), -ENOENT);
        assert_int_equal(fileio_read(dir, 10, &data, &len), -EINVAL);
        assert_int_equal(fileio_read("/dev/null", 10, &data, &len), -EINVAL);
        path_in(dir, "f", path, sizeof(path));
        assert_int_equal(fileio_read(path, SIZE_MAX / 2 + 1, &data, &len), -EINVAL);
        assert_null(data);
}

static void test_write_mode(void **state)
{
        const char *dir = *state;
        mode_t old_umask = umask(022);

        assert_int_equal(fileio_write_atomic(dir, "secret", new_text, strlen(new_text), 0600), 0);
        assert_file(dir, "secret", new_text, 0600);
        assert_only(dir, "secret");

        /* The mode asked for, not the mode less the umask. */
        assert_int_equal(fileio_write_atomic(dir, "secret", old_text, strlen(old_text), 0666), 0);
        assert_file(dir, "secret", old_text, 0666);
        assert_only(dir, "secret");

        /* Nothing at all is a file too. */
        assert_int_equal(fileio_write_atomic(dir, "secret", "", 0, 0640), 0);
        assert_file(dir, "secret", "", 0640);
        assert_only(dir, "secret");
        umask(old_umask);
}

static void test_write_replaces(void **state)
{
        const char *dir = *state;
        char path[PATH_MAX], buf[sizeof(old_text)];
        ino_t old_ino;
        int fd;

        spit(dir, "f", old_text, strlen(old_text), 0644);
        old_ino = inode_of(dir, "f");
        path_in(dir, "f", path, sizeof(path));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);

        assert_int_equal(fileio_write_atomic(dir, "f", new_text, strlen(new_text), 0600), 0);
        /* The whole file is new, with no tail of the longer old one, and in the new mode. */
        assert_file(dir, "f", new_text, 0600);
        assert_only(dir, "f");
        /* Replaced by rename, not rewritten in place: a reader of the old file still sees
         * all of it. */
        assert_int_not_equal(inode_of(dir, "f"), old_ino);
        assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t)strlen(old_text));
        assert_memory_equal(buf, old_text, strlen(old_text));
        close(fd);
}

/* dir/name still holds old_text with mode 0640, on the same inode, and nothing else is in dir. */
static void assert_old_untouched(const char *dir, const char *name, ino_t ino)
{
        assert_file(dir, name, old_text, 0640);
        assert_int_equal(inode_of(dir, name), ino);
        assert_only(dir, name);
}

static void test_write_failure_keeps_old(void **state)
{
        const char *dir = *state;
        char file_as_dir[PATH_MAX], missing[PATH_MAX];
        ino_t ino;

        spit(dir, "f", old_text, strlen(old_text), 0640);
        ino = inode_of(dir, "f");

        /* A directory this user may not write to. Root may write anywhere, so it gets
         * only the cases below. */
        if (geteuid() != 0) {
                assert_int_equal(chmod(dir, 0500), 0);
                assert_int_equal(fileio_write_atomic(dir, "f", new_text, strlen(new_text), 0600),
                                 -EACCES);
                assert_int_equal(chmod(dir, 0700), 0);
                assert_old_untouched(dir, "f", ino);
        } else
                fprintf(stderr, "running as root: no unwritable directory, checking the rest\n");

        /* A regular file in place of the directory: even root cannot write below it. */
        path_in(dir, "f", file_as_dir, sizeof(file_as_dir));
        assert_int_equal(fileio_write_atomic(file_as_dir, "g", new_text, strlen(new_text), 0600),
                         -ENOTDIR);
        assert_old_untouched(dir, "f", ino);

        path_in(dir, "missing", missing, sizeof(missing));
        assert_int_equal(fileio_write_atomic(missing, "f", new_text, strlen(new_text), 0600),
                         -ENOENT);
        assert_old_untouched(dir, "f", ino);
}

static void test_write_failure_midway_keeps_old(void **state)
{
        const char *dir = *state;
        char text[4096];
        struct rlimit old_limit, limit;
        void (*old_handler)(int);
        ino_t ino;
        int r;

        spit(dir, "f", old_text, strlen(old_text), 0640);
        ino = inode_of(dir, "f");
        memset(text, 'n', sizeof(text));

        /* A file size limit stops the write after the temp file was made, as a full disk
         * would; it binds root too. */
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
        limit = old_limit;
        limit.rlim_cur = 1024;
        old_handler = signal(SIGXFSZ, SIG_IGN);
        assert_true(old_handler != SIG_ERR);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
        r = fileio_write_atomic(dir, "f", text, sizeof(text), 0600);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
        signal(SIGXFSZ, old_handler);
        assert_int_equal(r, -EFBIG);
        assert_old_untouched(dir, "f", ino);
}

static void test_write_name_too_long(void **state)
{
        const char *dir = *state;
        char name[251], huge[PATH_MAX + 16];
        ino_t ino;

        /* The name fits, but ".name.XXXXXX" is longer than NAME_MAX: the temp file cannot be
         * made, and the old file stays. */
        memset(name, 'a', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        spit(dir, name, old_text, strlen(old_text), 0640);
        ino = inode_of(dir, name);
        assert_int_equal(fileio_write_atomic(dir, name, new_text, strlen(new_text), 0600),
                         -ENAMETOOLONG);
        assert_old_untouched(dir, name, ino);

        /* dir/name longer than PATH_MAX. */
        memset(huge, 'a', sizeof(huge) - 1);
        huge[sizeof(huge) - 1] = '\0';
        assert_int_equal(fileio_write_atomic(dir, huge, new_text, strlen(new_text), 0600),
                         -ENAMETOOLONG);
        assert_old_untouched(dir, name, ino);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_read, setup, teardown),
            cmocka_unit_test_setup_teardown(test_write_mode, setup, teardown),
            cmocka_unit_test_setup_teardown(test_write_replaces, setup, teardown),
            cmocka_unit_test_setup_teardown(test_write_failure_keeps_old, setup, teardown),
            cmocka_unit_test_setup_teardown(test_write_failure_midway_keeps_old, setup, teardown),
            cmocka_unit_test_setup_teardown(test_write_name_too_long, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
