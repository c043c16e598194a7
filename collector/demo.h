/* SPDX-License-Identifier: MIT */
/* `otsinka-collector demo`: a self-contained instance in one folder — a development CA and
 * server certificate, a database seeded with a small sample city, an administrator, and a
 * kiosk.conf for a terminal enrolled to it. Running it again on the same folder reuses all. */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "collector.h"

struct demo_info {
        char admin_password[64];
        char vote_url[512];             /* a printed QR code's vote page */
        char kiosk_conf[PATH_MAX + 64]; /* path of the terminal's config */
        char ca_file[PATH_MAX];         /* the development CA's certificate */
        char staff_pin[8];              /* employee E001's shift-login PIN */
        char database[PATH_MAX + 32]; /* "sqlite:DIR/collector.db", for the admin commands */
};

/* Prepares dir for serving on 127.0.0.1:port and fills cfg's database, TLS and URL fields
 * (strings malloc'd into cfg, freed by config_free()). Returns 0 or a negative errno. */
int demo_prepare(const char *dir, int port, struct collector_config *cfg,
                 struct demo_info *ret_info);
