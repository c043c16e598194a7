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
    S("database", "/var/lib/otsinka/kiosk.db", "the vote store (SQLite)", database),
    S("workplace", "", "the workplace's code", workplace),
    S("workplace-name", "", "the workplace's name, shown while closed", workplace_name),
    S("employee", "", "personal number of an employee whose shift opens at start", employee),
    S("employee-name", "", "that employee's full name", employee_name),
    S("employee-position", "", "that employee's position", employee_position),
    S("employee-unit", "", "that employee's unit", employee_unit),
    S("vote-url", "", "that employee's vote page, shown as a QR code", vote_url),
    S("lang", "uk", "the screens' language: uk or en", lang),
    B("one-tap", "false", "a tap on a smiley sends the vote at once", one_tap),
    B("windowed", "false", "a window instead of full screen", windowed),
    I("width", "800", "window width when windowed", width, 320, 7680),
    I("height", "480", "window height when windowed", height, 240, 7680),
    B("software", "false", "use SDL's software renderer", software),
    S("assets", OTSINKA_ASSETS_DIR, "folder of fonts, artwork, translations", assets),
    S("log-level", "info", "error, warn, info or debug", log_level),
    I("batch-size", "200", "votes per upload", batch_size, 1, 1000),
    I("thanks-seconds", "4", "how long the thank-you shows", thanks_seconds, 1, 60),
};
const size_t kiosk_options_count = sizeof(kiosk_options) / sizeof(kiosk_options[0]);
