/* SPDX-License-Identifier: MIT */
/* outbox_fill: adds N valid votes to a terminal's outbox through the terminal's own store
 * (outbox_open/outbox_add: WAL, fsynced, validated), as if N people had tapped a smiley, so
 * that the sync fault tests can cast a thousand votes in seconds. It may run while
 * otsinka-kiosk has the same file open: SQLite's locking serialises the writers, and the
 * kiosk's uploader takes the new votes at its next round (a kick or its 30 s poll).
 *
 * Usage: outbox_fill --config KIOSK.CONF [--employee NO] [--workplace CODE] [--shift UUID]
 *                    [--channel NAME] N
 *
 * The outbox is the kiosk configuration's `database`; employee and workplace default to its
 * `employee` and `workplace` keys where it has them. Pass the open shift (--shift) so that the
 * votes are what the terminal itself would cast in it: the collector flags a terminal vote
 * without a shift. Like the kiosk, each vote carries this boot's id and CLOCK_BOOTTIME; levels
 * cycle 1, 2, 3. The id of every vote added is printed on stdout, one a line, after it is
 * durably stored. Exit status 0 when all N were added, 1 otherwise, 2 for bad usage. A test
 * tool: built with the tests, never installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "outbox.h"
#include "vote.h"

#define LINE_MAX_ 4096

struct settings {
        char database[4096];
        char employee[VOTE_REF_MAX + 1];
        char workplace[VOTE_REF_MAX + 1];
};

static char *trim(char *s)
{
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
                *--end = 0;
        if (end - s >= 2 && s[0] == '"' && end[-1] == '"') {
                end[-1] = 0;
                s++;
        }
        return s;
}

/* Reads the keys this tool uses from a kiosk.conf ("key = value", '#' comments): database,
 * and employee and workplace where present; the other keys are the kiosk's business. */
static int read_config(const char *path, struct settings *st)
{
        char line[LINE_MAX_];
        FILE *f = fopen(path, "re");
        int r = 0;

        if (!f) {
                fprintf(stderr, "outbox_fill: cannot open %s: %s\n", path, strerror(errno));
                return -1;
        }
        while (fgets(line, sizeof(line), f)) {
                char *eq, *key, *value, *dst = NULL;
                size_t size = 0;

                key = trim(line);
                if (!*key || *key == '#')
                        continue;
                eq = strchr(key, '=');
                if (!eq)
                        continue;
                *eq = 0;
                value = trim(eq + 1);
                key = trim(key);
                if (strcmp(key, "database") == 0) {
                        dst = st->database;
                        size = sizeof(st->database);
                } else if (strcmp(key, "employee") == 0) {
                        dst = st->employee;
                        size = sizeof(st->employee);
                } else if (strcmp(key, "workplace") == 0) {
                        dst = st->workplace;
                        size = sizeof(st->workplace);
                }
                if (dst && vote_strlcpy(dst, value, size) < 0) {
                        fprintf(stderr, "outbox_fill: %s: %s is too long\n", path, key);
                        r = -1;
                }
        }
        fclose(f);
        if (r == 0 && !st->database[0]) {
                fprintf(stderr, "outbox_fill: %s names no database\n", path);
                r = -1;
        }
        return r;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(void)
{
        fputs("Usage: outbox_fill --config KIOSK.CONF [--employee NO] [--workplace CODE]\n"
              "                   [--shift UUID] [--channel NAME] N\n",
              stderr);
        exit(2);
}

int main(int argc, char **argv)
{
        const char *config = NULL, *shift = "", *channel = VOTE_CHANNEL_TERMINAL;
        const char *employee = NULL, *workplace = NULL;
        struct settings st;
        struct outbox *ob = NULL;
        long n = -1;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
                        config = argv[++i];
                else if (strcmp(argv[i], "--employee") == 0 && i + 1 < argc)
                        employee = argv[++i];
                else if (strcmp(argv[i], "--workplace") == 0 && i + 1 < argc)
                        workplace = argv[++i];
                else if (strcmp(argv[i], "--shift") == 0 && i + 1 < argc)
                        shift = argv[++i];
                else if (strcmp(argv[i], "--channel") == 0 && i + 1 < argc)
                        channel = argv[++i];
                else if (argv[i][0] != '-' && n < 0) {
                        char *end;

                        n = strtol(argv[i], &end, 10);
                        if (*end || n < 0 || n > 1000000)
                                usage();
                } else
                        usage();
        }
        if (!config || n < 0)
                usage();
        if (shift[0] && !vote_id_valid(shift)) {
                fprintf(stderr, "outbox_fill: --shift: \"%s\" is not a UUID\n", shift);
                return 2;
        }
        if (!vote_channel_valid(channel)) {
                fprintf(stderr, "outbox_fill: --channel: \"%s\" is not a channel name\n", channel);
                return 2;
        }
        if (sodium_init() < 0) {
                fprintf(stderr, "outbox_fill: libsodium failed to start\n");
                return 1;
        }
        memset(&st, 0, sizeof(st));
        if (read_config(config, &st) < 0)
                return 1;
        if ((employee && vote_strlcpy(st.employee, employee, sizeof(st.employee)) < 0) ||
            (workplace && vote_strlcpy(st.workplace, workplace, sizeof(st.workplace)) < 0)) {
                fprintf(stderr, "outbox_fill: --employee or --workplace is too long\n");
                return 2;
        }
        if (!vote_ref_valid(st.employee) || (st.workplace[0] && !vote_ref_valid(st.workplace))) {
                fprintf(stderr, "outbox_fill: no valid employee (--employee) or workplace\n");
                return 2;
        }

        r = outbox_open(st.database, &ob);
        if (r < 0) {
                fprintf(stderr, "outbox_fill: cannot open the outbox %s: %s\n", st.database,
                        strerror(-r));
                return 1;
        }
        for (long i = 0; i < n; i++) {
                struct vote v;

                memset(&v, 0, sizeof(v));
                vote_id_new(&v.id);
                v.level = (int)(i % 3) + VOTE_LEVEL_MIN;
                vote_strlcpy(v.channel, channel, sizeof(v.channel));
                vote_strlcpy(v.employee, st.employee, sizeof(v.employee));
                vote_strlcpy(v.workplace, st.workplace, sizeof(v.workplace));
                vote_strlcpy(v.shift, shift, sizeof(v.shift));
                v.cast_at_ms = wall_ms();
                vote_boot_id(v.boot);
                v.mono_ms = vote_mono_ms();
                /* The kiosk may hold the write lock for longer than the store's own 5 s wait
                 * under a sanitizer on a busy machine: try a few times before giving up. */
                for (int attempt = 0; attempt < 5; attempt++) {
                        r = outbox_add(ob, &v);
                        if (r != -EBUSY)
                                break;
                }
                if (r < 0) {
                        fprintf(stderr, "outbox_fill: vote %ld of %ld not stored: %s\n", i + 1, n,
                                strerror(-r));
                        outbox_close(ob);
                        return 1;
                }
                printf("%s\n", v.id.s);
        }
        outbox_close(ob);
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "outbox_fill: cannot write the ids: %s\n", strerror(errno));
                return 1;
        }
        return 0;
}
