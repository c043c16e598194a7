/* SPDX-License-Identifier: MIT */
/* The terminal's configuration table. */
#include <stddef.h>

#include "kconfig.h"

#define S(k, d, h, f)                                                                              \
        {                                                                                          \
                k, CONFIG_STRING, d, h, offsetof(struct kiosk_config, f), 0, 0                     \
        }
#define B(k, d, h, f)                                                                              \
        {                                                                                          \
                k, CONFIG_BOOL, d, h, offsetof(struct kiosk_config, f), 0, 0                       \
        }
#define I(k, d, h, f, lo, hi)                                                                      \
        {                                                                                          \
                k, CONFIG_INT, d, h, offsetof(struct kiosk_config, f), lo, hi                      \
        }

const struct config_option kiosk_options[] = {
    S("collector-url", "", "the collector's address, https://host:port", collector_url),
    S("ca-file", "/etc/otsinka/ca.pem", "PEM certificate of the CA that signed the collector's",
      ca_file),
    S("terminal-id", "", "this terminal's id, from enrollment", terminal_id),
    S("terminal-secret", "", "this terminal's secret, from enrollment", terminal_secret),
    S("enroll-code", "", "a one-time enrollment code, used when there is no credential yet",
      enroll_code),
    S("database", "/var/lib/otsinka/kiosk.db", "the vote store (SQLite)", database),
    S("workplace", "", "the workplace's code, until the collector's roster arrives", workplace),
    S("workplace-name", "", "the workplace's name, until the collector's roster arrives",
      workplace_name),
    S("lang", "", "the screens' language, uk or en; empty: the collector's setting", lang),
    S("one-tap", "", "true: a tap on a smiley sends at once; empty: the collector's setting",
      one_tap),
    B("windowed", "false", "a window instead of full screen", windowed),
    I("width", "800", "window width when windowed", width, 320, 7680),
    I("height", "480", "window height when windowed", height, 240, 7680),
    B("software", "false", "use SDL's software renderer", software),
    S("assets", OTSINKA_ASSETS_DIR, "folder of fonts, artwork, translations", assets),
    S("log-level", "info", "error, warn, info or debug", log_level),
    I("batch-size", "200", "votes per upload", batch_size, 1, 1000),
    S("script", "", "test mode: drive the screens from this script, with fake time", script),
    S("screenshots", "", "test mode: the folder for the script's screenshots", screenshots),
};
const size_t kiosk_options_count = sizeof(kiosk_options) / sizeof(kiosk_options[0]);
