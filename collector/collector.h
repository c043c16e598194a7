/* SPDX-License-Identifier: MIT */
/* The collector's configuration table and the running instance that the web layer serves:
 * the store, the translations and the artwork it inlines into pages. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "i18n.h"
#include "store.h"

struct collector_config {
        char *listen; /* address to bind */
        int64_t port;
        char *database;   /* "sqlite:PATH" or a path */
        char *tls_cert;   /* PEM server certificate; empty with plain_http */
        char *tls_key;    /* PEM private key */
        bool plain_http;  /* plain HTTP, for running behind a TLS reverse proxy only */
        char *public_url; /* how phones reach us, for QR codes: "https://host:port" */
        char *assets;     /* the assets folder */
        char *time_zone;  /* the city's IANA zone */
        char *log_level;
        int64_t threads; /* request threads */
};

extern const struct config_option collector_options[];
extern const size_t collector_options_count;

struct collector {
        const struct collector_config *cfg; /* not owned */
        struct store *store;                /* not owned */
        struct i18n *text[2];               /* per enum vote_lang; owned */
        char *smiley_svg[4];                /* [1..3]: the artwork, inlined into pages; owned */
};

/* Loads translations and artwork from cfg->assets. */
int collector_init(struct collector *c, const struct collector_config *cfg, struct store *store);
void collector_finish(struct collector *c);
