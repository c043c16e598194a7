/* SPDX-License-Identifier: MIT */
/* The collector's configuration table and instance set-up. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "fileio.h"
#include "log.h"

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
    {"threads", CONFIG_INT, "2", "request threads", offsetof(struct collector_config, threads), 1,
     64},
};
const size_t collector_options_count = sizeof(collector_options) / sizeof(collector_options[0]);

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
        memset(c, 0, sizeof(*c));
}
