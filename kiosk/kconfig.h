/* SPDX-License-Identifier: MIT */
/* The terminal's configuration table: one table drives /etc/otsinka/kiosk.conf, the command
 * line and --help. The workplace, its staff and the voting rules come from the collector's
 * roster (docs/protocol.md, "Pull"); the keys here are the connection, the local store, the
 * screen, and local overrides of the roster's language and one-tap setting. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct kiosk_config {
        char *collector_url; /* "https://host:port" */
        char *ca_file;       /* the CA that signed the collector's certificate */
        char *terminal_id;
        char *terminal_secret;
        char *enroll_code; /* a one-time enrollment code, used when there is no credential */
        char *database;    /* the outbox file */
        char *workplace;   /* the workplace's code until the first roster arrives */
        char *workplace_name;
        char *lang;    /* "uk", "en", or "" for the roster's */
        char *one_tap; /* "true", "false", or "" for the roster's */
        bool windowed;
        int64_t width, height;
        bool software;
        char *assets;
        char *log_level;
        int64_t batch_size;
        char *script;      /* test mode: a script of input events instead of a person */
        char *screenshots; /* test mode: where the script's screenshots go */
};

extern const struct config_option kiosk_options[];
extern const size_t kiosk_options_count;
