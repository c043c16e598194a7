/* SPDX-License-Identifier: MIT */
/* Leveled logging: one line per message on stderr, prefixed with a syslog priority
 * ("<3>") when stderr is the journal, so that journalctl shows the right level. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

enum log_level log_max_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const int level_syslog[] = {3, 4, 6, 7};

void log_set_max_level(enum log_level level)
{
        log_max_level = level;
}

int log_level_from_string(const char *s, enum log_level *ret_level)
{
        for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
                if (strcmp(s, level_names[i]) == 0) {
                        *ret_level = (enum log_level)i;
                        return 0;
                }
        return -EINVAL;
}

const char *log_level_to_string(enum log_level level)
{
        if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
                return "?";
        return level_names[level];
}

void log_internal(enum log_level level, const char *file, int line, const char *fmt, ...)
{
        char msg[2048];
        va_list ap;
        int saved_errno = errno;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (getenv("JOURNAL_STREAM"))
                fprintf(stderr, "<%d>%s\n", level_syslog[level], msg);
        else {
                struct timespec ts;
                struct tm tm;
                char when[32];

                clock_gettime(CLOCK_REALTIME, &ts);
                localtime_r(&ts.tv_sec, &tm);
                strftime(when, sizeof(when), "%H:%M:%S", &tm);
                fprintf(stderr, "%s.%03ld %-5s %s", when, ts.tv_nsec / 1000000L, level_names[level],
                        msg);
                if (log_max_level >= LOG_LEVEL_DEBUG)
                        fprintf(stderr, " (%s:%d)", file, line);
                fputc('\n', stderr);
        }
        errno = saved_errno;
}
