/* SPDX-License-Identifier: MIT */
/* Leveled logging to stderr (the journal picks it up under systemd). The level is tested
 * before the arguments are evaluated, so a disabled debug line costs one comparison. */
#pragma once

#include <stdarg.h>

enum log_level {
        LOG_LEVEL_ERROR = 0,
        LOG_LEVEL_WARN = 1,
        LOG_LEVEL_INFO = 2,
        LOG_LEVEL_DEBUG = 3,
};

/* The process-wide threshold: part of the parsed configuration. */
extern enum log_level log_max_level;

void log_set_max_level(enum log_level level);
/* Parses "error", "warn", "info" or "debug"; returns -EINVAL for anything else. */
int log_level_from_string(const char *s, enum log_level *ret_level);
const char *log_level_to_string(enum log_level level);

void log_internal(enum log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_at(level, ...)                                                                         \
        do {                                                                                       \
                if ((level) <= log_max_level)                                                      \
                        log_internal((level), __FILE__, __LINE__, __VA_ARGS__);                    \
        } while (0)

#define log_error(...) log_at(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_LEVEL_DEBUG, __VA_ARGS__)
