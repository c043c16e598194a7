/* SPDX-License-Identifier: MIT */
/* The collector's configuration table and instance set-up. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "collector.h"
#include "fileio.h"
#include "log.h"
#include "ratelimit.h"

#define OPT(k, t, d, h, f)                                                                         \
        {                                                                                          \
                k, t, d, h, offsetof(struct collector_config, f), 0, 0                             \
        }

const struct config_option collector_options[] = {
    OPT("listen", CONFIG_STRING, "127.0.0.1", "address to listen on", listen),
    {"port", CONFIG_INT, "8443", "TCP port", offsetof(struct collector_config, port), 1, 65535},
    OPT("database", CONFIG_STRING, "/var/lib/otsinka/collector.db",
        "the database: a path or sqlite:PATH", database),
    OPT("tls-cert", CONFIG_STRING, "/etc/otsinka/collector.pem", "PEM server certificate",
        tls_cert),
    OPT("tls-key", CONFIG_STRING, "/etc/otsinka/collector.key", "PEM private key", tls_key),
    OPT("plain-http", CONFIG_BOOL, "false", "serve plain HTTP (only behind a TLS reverse proxy)",
        plain_http),
    OPT("public-url", CONFIG_STRING, "https://127.0.0.1:8443",
        "the address residents' phones reach, for QR codes", public_url),
    OPT("assets", CONFIG_STRING, OTSINKA_ASSETS_DIR, "folder of fonts, artwork, translations",
        assets),
    OPT("time-zone", CONFIG_STRING, "Europe/Kyiv", "the city's IANA time zone", time_zone),
    OPT("log-level", CONFIG_STRING, "info", "error, warn, info or debug", log_level),
    /* more than the cores: a thread whose request waits for a commit's fsync holds all of its
     * connections, and more requests waiting together share one commit (bench/README.md) */
    {"threads", CONFIG_INT, "8", "request threads", offsetof(struct collector_config, threads), 1,
     64},
    {"silent-after", CONFIG_INT, "900",
     "seconds without a word from a terminal before its page marks it silent",
     offsetof(struct collector_config, silent_after_s), 60, 30 * 86400},
    {"session-idle", CONFIG_INT, "1800", "seconds a page session lives without use",
     offsetof(struct collector_config, session_idle_s), 60, 86400},
    {"vote-interval", CONFIG_INT, "28800",
     "seconds before one phone may rate the same employee again",
     offsetof(struct collector_config, vote_interval_s), 0, 30 * 86400},
    {"address-votes-per-hour", CONFIG_INT, "30",
     "vote-page votes per hour from one address before the next are flagged",
     offsetof(struct collector_config, address_votes_per_hour), 1, 1000000},
    {"page-votes-per-hour", CONFIG_INT, "60",
     "vote-page votes per hour for one employee before the next are flagged",
     offsetof(struct collector_config, page_votes_per_hour), 1, 1000000},
    OPT("metrics-token", CONFIG_STRING, "",
        "a Bearer token that opens /metrics to other hosts (empty: loopback only)", metrics_token),
    OPT("trusted-proxy", CONFIG_STRING, "",
        "the address of a reverse proxy in front (e.g. 127.0.0.1 for nginx on this host): its "
        "X-Forwarded-For names the client",
        trusted_proxy),
    OPT("working-hours", CONFIG_STRING, "",
        "HH:MM-HH:MM: vote-page votes outside these hours (city time) are flagged", working_hours),
    OPT("public-employees", CONFIG_BOOL, "false",
        "publish per-employee results on the public page and in open data", public_employees),
    {"report-min-count", CONFIG_INT, "10",
     "counted votes a unit or employee needs before rankings place it",
     offsetof(struct collector_config, report_min_count), 1, 1000000},
    {"alert-share", CONFIG_INT, "50",
     "percent of \"Задовільно\" votes in a manager's subtree that raises an alert",
     offsetof(struct collector_config, alert_share), 1, 100},
    {"alert-min-votes", CONFIG_INT, "4", "votes an alert's window needs at least",
     offsetof(struct collector_config, alert_min_votes), 1, 100000},
    {"alert-window", CONFIG_INT, "900", "seconds an alert's votes fall within",
     offsetof(struct collector_config, alert_window_s), 60, 86400},
    OPT("alert-smtp-url", CONFIG_STRING, "",
        "smtp://host:587 or smtps://host:465 to mail alerts through (empty: no mail)",
        alert_smtp_url),
    OPT("alert-smtp-user", CONFIG_STRING, "", "SMTP login (empty: none)", alert_smtp_user),
    OPT("alert-smtp-password", CONFIG_STRING, "", "SMTP password", alert_smtp_password),
    OPT("alert-mail-from", CONFIG_STRING, "", "the alert mail's sender address", alert_mail_from),
    OPT("alert-mail-to", CONFIG_STRING, "", "comma-separated addresses alerts are mailed to",
        alert_mail_to),
};
const size_t collector_options_count = sizeof(collector_options) / sizeof(collector_options[0]);

/* The key of the keyed hashes of addresses and cookies: made once, kept with the data, so
 * that limits hold across restarts while no address is ever stored. */
static int client_key_load(struct store *s, uint8_t key[32])
{
        char hex[65];
        size_t n = 0;
        int r = s->ops->meta_get(s, "secret.client_key", hex, sizeof(hex));

        if (r == -ENOENT) {
                randombytes_buf(key, 32);
                sodium_bin2hex(hex, sizeof(hex), key, 32);
                return s->ops->meta_set(s, "secret.client_key", hex);
        }
        if (r < 0)
                return r;
        if (sodium_hex2bin(key, 32, hex, strlen(hex), NULL, &n, NULL) < 0 || n != 32)
                return -EINVAL;
        return 0;
}

/* "HH:MM-HH:MM" into minutes of the day; "" is -1 (always). */
static int parse_hours(const char *s, int *from, int *to)
{
        int h1, m1, h2, m2, n = 0;

        *from = *to = -1;
        if (!s || !*s)
                return 0;
        if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || s[n] || h1 > 23 ||
            h2 > 24 || m1 > 59 || m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0 ||
            h1 * 60 + m1 >= h2 * 60 + m2)
                return -EINVAL;
        *from = h1 * 60 + m1;
        *to = h2 * 60 + m2;
        return 0;
}

int collector_init(struct collector *c, const struct collector_config *cfg, struct store *store)
{
        char path[4096];
        int r;

        memset(c, 0, sizeof(*c));
        c->cfg = cfg;
        c->store = store;
        r = i18n_load(cfg->assets, VOTE_LANG_UK, &c->text[VOTE_LANG_UK]);
        if (r < 0)
                goto fail;
        r = i18n_load(cfg->assets, VOTE_LANG_EN, &c->text[VOTE_LANG_EN]);
        if (r < 0)
                goto fail;
        for (int l = 1; l <= 3; l++) {
                snprintf(path, sizeof(path), "%s/smileys/level-%d.svg", cfg->assets, l);
                r = fileio_read(path, 16384, &c->smiley_svg[l], NULL);
                if (r < 0) {
                        log_error("Cannot read %s: %s", path, strerror(-r));
                        goto fail;
                }
        }
        /* 10 wrong codes from one address in 10 minutes, then 429 until the window ends */
        r = ratelimit_new(256, 10, 10 * 60 * 1000, &c->enroll_limit);
        if (r < 0)
                goto fail;
        randombytes_buf(c->login_key, sizeof(c->login_key));
        r = client_key_load(store, c->client_key);
        if (r < 0)
                goto fail;
        r = parse_hours(cfg->working_hours, &c->work_from, &c->work_to);
        if (r < 0) {
                log_error("working-hours: \"%s\" is not HH:MM-HH:MM", cfg->working_hours);
                goto fail;
        }
        /* 5 wrong passwords from one address, or for one login, in 15 minutes */
        r = ratelimit_new(256, 5, 15 * 60 * 1000, &c->login_limit);
        if (r < 0)
                goto fail;
        return 0;
fail:
        collector_finish(c);
        return r;
}

void collector_finish(struct collector *c)
{
        for (int i = 0; i < 2; i++)
                i18n_free(c->text[i]);
        for (int l = 0; l < 4; l++)
                free(c->smiley_svg[l]);
        ratelimit_free(c->enroll_limit);
        ratelimit_free(c->login_limit);
        memset(c, 0, sizeof(*c));
}
