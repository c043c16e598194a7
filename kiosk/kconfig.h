/* SPDX-License-Identifier: MIT */
/* The terminal's configuration table: one table drives /etc/otsinka/kiosk.conf, the command
 * line and --help. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct kiosk_config {
        char *collector_url; /* "https://host:port" */
        char *ca_file;       /* the CA that signed the collector's certificate */
        char *terminal_id;
        char *terminal_secret;
        char *database;  /* the outbox file */
        char *workplace; /* the workplace's code */
        char *workplace_name;
        char *employee; /* a shift opened at start (until shift login lands) */
        char *employee_name;
        char *employee_position;
        char *employee_unit;
        char *vote_url; /* the employee's vote page, shown as the QR code */
        char *lang;     /* "uk" or "en" */
        bool one_tap;
        bool windowed;
        int64_t width, height;
        bool software;
        char *assets;
        char *log_level;
        int64_t batch_size;
        int64_t thanks_seconds;
};

extern const struct config_option kiosk_options[];
extern const size_t kiosk_options_count;
