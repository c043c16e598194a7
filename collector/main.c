/* SPDX-License-Identifier: MIT */
/* otsinka-collector: serve (the default), `demo`, `migrate`. A thin layer over
 * libotsinka-collector: parse the configuration, open the store, serve until SIGINT/SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "collector.h"
#include "demo.h"
#include "http.h"
#include "log.h"
#include "period.h"
#include "store.h"

static void usage(FILE *f)
{
        fprintf(f, "Usage: otsinka-collector [OPTIONS]            serve\n"
                   "       otsinka-collector demo [--dir DIR] [--port N] [OPTIONS]\n"
                   "       otsinka-collector migrate [OPTIONS]\n"
                   "       otsinka-collector --version\n\nOptions (also as \"key = value\" "
                   "lines in --config FILE):\n");
        config_print_help(collector_options, collector_options_count, f);
}

/* Waits for SIGINT or SIGTERM (blocked in every thread), pinging the systemd watchdog. */
static void wait_for_stop(void)
{
        sigset_t set;
        struct timespec tick = {.tv_sec = 5};
        int sig;

        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        for (;;) {
                sig = sigtimedwait(&set, NULL, &tick);
                if (sig == SIGINT || sig == SIGTERM)
                        break;
#ifdef HAVE_SYSTEMD
                sd_notify(0, "WATCHDOG=1");
#endif
        }
        log_info("Stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
#ifdef HAVE_SYSTEMD
        sd_notify(0, "STOPPING=1");
#endif
}

static int serve(struct collector_config *cfg, const struct demo_info *demo)
{
        struct collector c;
        struct http_server *h = NULL;
        struct store *s = NULL;
        int r;

        r = store_open(cfg->database, &s);
        if (r < 0) {
                log_error("Cannot open the database %s: %s", cfg->database, strerror(-r));
                return r;
        }
        r = collector_init(&c, cfg, s);
        if (r < 0)
                goto out_store;
        r = http_start(&c, &h);
        if (r < 0)
                goto out_collector;
        log_info("Listening on %s://%s:%u", cfg->plain_http ? "http" : "https", cfg->listen,
                 http_port(h));
        if (demo) {
                printf("\nOtsinka demo collector is running.\n"
                       "  Reports:        https://127.0.0.1:%u/reports\n"
                       "  A vote page:    %s\n"
                       "  Administrator:  admin / %s\n"
                       "  CA certificate: %s\n"
                       "  Terminal conf:  %s\n"
                       "Press Ctrl+C to stop.\n\n",
                       http_port(h), demo->vote_url, demo->admin_password, demo->ca_file,
                       demo->kiosk_conf);
                fflush(stdout);
        }
#ifdef HAVE_SYSTEMD
        sd_notify(0, "READY=1");
#endif
        wait_for_stop();
        http_stop(h);
out_collector:
        collector_finish(&c);
out_store:
        store_close(s);
        return r;
}

int main(int argc, char **argv)
{
        struct collector_config cfg = {0};
        struct demo_info demo = {0};
        const char *command = "serve", *demo_dir = "./otsinka-demo";
        char err[512];
        bool help = false;
        int next = 1, r, port_arg = 0;
        sigset_t set;

        if (argc > 1 && strcmp(argv[1], "--version") == 0) {
                printf("otsinka-collector %s\n", OTSINKA_VERSION);
                return 0;
        }
        if (argc > 1 && argv[1][0] != '-') {
                command = argv[1];
                next = 2;
        }
        if (strcmp(command, "serve") && strcmp(command, "demo") && strcmp(command, "migrate")) {
                fprintf(stderr, "otsinka-collector: unknown command \"%s\"\n", command);
                usage(stderr);
                return 2;
        }
        if (sodium_init() < 0) {
                fprintf(stderr, "otsinka-collector: libsodium failed to start\n");
                return 1;
        }
        r = config_defaults(collector_options, collector_options_count, &cfg);
        if (r < 0)
                return 1;
        /* demo's own two options come first: --dir DIR and --port N */
        while (strcmp(command, "demo") == 0 && next + 1 < argc) {
                if (strcmp(argv[next], "--dir") == 0)
                        demo_dir = argv[next + 1];
                else if (strcmp(argv[next], "--port") == 0) {
                        char *end;
                        long p = strtol(argv[next + 1], &end, 10);

                        if (*end || p < 1 || p > 65535) {
                                fprintf(stderr, "otsinka-collector: --port: expected 1..65535\n");
                                return 2;
                        }
                        port_arg = (int)p;
                } else
                        break;
                next += 2;
        }
        {
                int rest = 0;

                r = config_parse_args(collector_options, collector_options_count, argc - next,
                                      argv + next, &cfg, &rest, &help, err, sizeof(err));
                if (r >= 0 && next + rest < argc) {
                        snprintf(err, sizeof(err), "%s: unexpected argument", argv[next + rest]);
                        r = -EINVAL;
                }
        }
        if (r < 0) {
                fprintf(stderr, "otsinka-collector: %s\n", err);
                config_free(collector_options, collector_options_count, &cfg);
                return 2;
        }
        if (help) {
                usage(stdout);
                config_free(collector_options, collector_options_count, &cfg);
                return 0;
        }
        {
                enum log_level level;

                if (log_level_from_string(cfg.log_level, &level) < 0) {
                        fprintf(stderr,
                                "otsinka-collector: log-level: \"%s\" is not one of "
                                "error, warn, info, debug\n",
                                cfg.log_level);
                        r = -EINVAL;
                        goto out;
                }
                log_set_max_level(level);
        }
        r = period_set_zone(cfg.time_zone);
        if (r < 0) {
                log_error("time-zone: \"%s\" is not in the system's zone database", cfg.time_zone);
                goto out;
        }

        /* Signals go to sigtimedwait() in the main thread, never to server threads. */
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);

        if (strcmp(command, "demo") == 0) {
                r = demo_prepare(demo_dir, port_arg ? port_arg : 8443, &cfg, &demo);
                if (r < 0) {
                        log_error("Cannot prepare the demo in %s: %s", demo_dir, strerror(-r));
                        goto out;
                }
                free(cfg.assets);
                /* the source tree's assets when run from a build, else the installed ones */
                cfg.assets = strdup(access(OTSINKA_SOURCE_ASSETS_DIR "/i18n/uk.txt", R_OK) == 0
                                        ? OTSINKA_SOURCE_ASSETS_DIR
                                        : OTSINKA_ASSETS_DIR);
                if (!cfg.assets) {
                        r = -ENOMEM;
                        goto out;
                }
                r = serve(&cfg, &demo);
                goto out;
        }
        if (strcmp(command, "migrate") == 0) {
                struct store *s = NULL;
                int version = 0;

                r = store_open(cfg.database, &s);
                if (r >= 0)
                        r = s->ops->migrate(s, &version);
                if (r >= 0)
                        printf("%s: schema version %d\n", cfg.database, version);
                store_close(s);
                goto out;
        }
        r = serve(&cfg, NULL);
out:
        config_free(collector_options, collector_options_count, &cfg);
        return r < 0 ? 1 : 0;
}
