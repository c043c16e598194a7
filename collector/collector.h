/* SPDX-License-Identifier: MIT */
/* The collector's configuration table and the running instance that the web layer serves:
 * the store, the translations and the artwork it inlines into pages. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "i18n.h"
#include "store.h"

struct ratelimit;

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
        int64_t threads;                /* request threads */
        int64_t silent_after_s;         /* a terminal quiet this long is marked silent */
        int64_t session_idle_s;         /* a page session unused this long ends */
        int64_t vote_interval_s;        /* one vote per phone per employee this often */
        int64_t address_votes_per_hour; /* more from one address are flagged */
        int64_t page_votes_per_hour;    /* more for one employee from pages are flagged */
        char *working_hours;            /* "HH:MM-HH:MM": page votes outside are flagged */
        char *metrics_token;            /* Bearer token for /metrics; empty: loopback only */
        char *trusted_proxy;            /* a reverse proxy's address: its X-Forwarded-For counts */
        /* reports and alerts (reportweb.c, alert.c) */
        bool public_employees;    /* per-employee results on the public page and open data */
        int64_t report_min_count; /* counted votes before a unit or employee is ranked */
        int64_t alert_share;      /* percent of «Задовільно» that raises an alert ... */
        int64_t alert_min_votes;  /* ... among at least this many votes ... */
        int64_t alert_window_s;   /* ... within this many seconds, in a manager's subtree */
        char *alert_smtp_url;     /* smtp:// or smtps:// server for alert mail; "" = no mail */
        char *alert_smtp_user;    /* "" = no login */
        char *alert_smtp_password;
        char *alert_mail_from;
        char *alert_mail_to; /* comma-separated addresses */
};

extern const struct config_option collector_options[];
extern const size_t collector_options_count;

/* Counters for /metrics (Prometheus text), bumped from any request thread. */
struct collector_metrics {
        atomic_uint_fast64_t requests[6];    /* by status class: [1] 1xx ... [5] 5xx */
        atomic_uint_fast64_t batches;        /* terminal batches answered 200 */
        atomic_uint_fast64_t terminal_votes; /* votes stored now from terminals */
        atomic_uint_fast64_t duplicates;     /* votes a terminal sent again */
        atomic_uint_fast64_t rejected;       /* votes refused in batches */
        atomic_uint_fast64_t page_votes;     /* votes stored from vote pages */
        atomic_uint_fast64_t page_flagged;   /* of them, flagged */
        atomic_uint_fast64_t page_refused;   /* second votes of one phone, refused */
        atomic_uint_fast64_t logins_failed;
        atomic_uint_fast64_t enrollments;
};

struct collector {
        const struct collector_config *cfg; /* not owned */
        struct store *store;                /* not owned */
        struct i18n *text[2];               /* per enum vote_lang; owned */
        char *smiley_svg[4];                /* [1..3]: the artwork, inlined into pages; owned */
        struct ratelimit *enroll_limit;     /* failed enrollment codes per client address */
        struct ratelimit *login_limit;      /* failed logins per client address and per login */
        uint8_t login_key[32];              /* binds the login form's CSRF token to its cookie */
        uint8_t client_key[32];             /* keys the hashes of addresses, cookies, tokens */
        int work_from, work_to;             /* working hours in minutes; -1 = always */
        struct collector_metrics metrics;
};

/* Loads translations and artwork from cfg->assets. */
int collector_init(struct collector *c, const struct collector_config *cfg, struct store *store);
void collector_finish(struct collector *c);
