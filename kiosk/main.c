/* SPDX-License-Identifier: MIT */
/* otsinka-kiosk: the counter terminal. A thin layer over libotsinka-kiosk: read the
 * configuration, open the vote store, start the uploader beside the UI, and run the event
 * loop, which sleeps in the event wait whenever nothing changes. `otsinka-kiosk layout`
 * prints where the buttons are for a screen size, for tests and for calibrating touch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "app.h"
#include "i18n.h"
#include "kconfig.h"
#include "layout.h"
#include "log.h"
#include "outbox.h"
#include "sync.h"
#include "ui.h"

static void usage(FILE *f)
{
        fprintf(f, "Usage: otsinka-kiosk [--config FILE] [OPTIONS]\n"
                   "       otsinka-kiosk layout WIDTH HEIGHT\n"
                   "       otsinka-kiosk --version\n\nOptions (also as \"key = value\" lines "
                   "in --config FILE):\n");
        config_print_help(kiosk_options, kiosk_options_count, f);
}

static void print_rect(const char *name, const struct layout_rect *r, bool last)
{
        printf("\"%s\":[%d,%d,%d,%d]%s", name, r->x, r->y, r->w, r->h, last ? "" : ",");
}

static int print_layout(const char *w, const char *h)
{
        struct layout l;

        if (layout_compute(atoi(w), atoi(h), &l) < 0) {
                fprintf(stderr, "otsinka-kiosk: layout: unsupported size %sx%s\n", w, h);
                return 2;
        }
        printf("{");
        print_rect("header", &l.header, false);
        print_rect("qr", &l.qr, false);
        print_rect("smiley1", &l.smiley[0], false);
        print_rect("smiley2", &l.smiley[1], false);
        print_rect("smiley3", &l.smiley[2], false);
        print_rect("send", &l.send, false);
        print_rect("status", &l.status, true);
        printf("}\n");
        return 0;
}

static void wake(void *userdata)
{
        ui_wake();
}

static void copy(char *dst, size_t n, const char *src)
{
        snprintf(dst, n, "%s", src ? src : "");
}

static int run(struct kiosk_config *cfg)
{
        struct outbox *ob = NULL;
        struct sync *sy = NULL;
        struct ui *ui = NULL;
        struct app app;
        uint64_t drawn = 0;
        uint64_t stored_seen;
        int r;

        r = outbox_open(cfg->database, &ob);
        if (r < 0)
                log_error("Cannot open the vote store %s: %s", cfg->database, strerror(-r));
        app_init(&app, ob);
        if (i18n_lang_from_string(cfg->lang, &app.lang) < 0)
                log_warn("lang: \"%s\" is not uk or en; using uk", cfg->lang);
        app.one_tap = cfg->one_tap;
        app.thanks_ms = cfg->thanks_seconds * 1000;
        copy(app.workplace, sizeof(app.workplace), cfg->workplace);
        copy(app.workplace_name, sizeof(app.workplace_name), cfg->workplace_name);
        if (!ob) {
                app.screen = APP_SCREEN_TROUBLE;
                copy(app.trouble, sizeof(app.trouble), r == -ENOSPC ? "disk-full" : "store-broken");
        }
        if (cfg->employee && *cfg->employee) {
                struct app_employee e = {0};

                copy(e.id, sizeof(e.id), cfg->employee);
                copy(e.full_name, sizeof(e.full_name), cfg->employee_name);
                copy(e.position, sizeof(e.position), cfg->employee_position);
                copy(e.unit, sizeof(e.unit), cfg->employee_unit);
                copy(e.vote_url, sizeof(e.vote_url), cfg->vote_url);
                if (app_shift_open(&app, &e, app_now_ms()) < 0)
                        log_error("employee: \"%s\" is not a valid personal number", cfg->employee);
        }

        struct ui_options uo = {
            .windowed = cfg->windowed,
            .width = (int)cfg->width,
            .height = (int)cfg->height,
            .assets = cfg->assets,
            .software = cfg->software,
        };
        r = ui_create(&uo, &ui);
        if (r < 0)
                goto out;

        if (ob && cfg->collector_url && *cfg->collector_url) {
                struct sync_options so = {
                    .url = cfg->collector_url,
                    .ca_file = cfg->ca_file,
                    .terminal_id = cfg->terminal_id,
                    .secret = cfg->terminal_secret,
                    .db_path = cfg->database,
                    .batch_max = (size_t)cfg->batch_size,
                    .backoff_min_ms = 1000,
                    .backoff_max_ms = 5 * 60 * 1000,
                    .connect_timeout_s = 10,
                    .transfer_timeout_s = 60,
                };
                r = sync_start(&so, wake, NULL, &sy);
                if (r < 0)
                        log_error("Cannot start the uploader: %s", strerror(-r));
        } else if (ob)
                log_warn("No collector-url: votes stay on this terminal");

#ifdef HAVE_SYSTEMD
        sd_notify(0, "READY=1");
#endif
        stored_seen = app.votes_stored;
        for (;;) {
                int64_t now = app_now_ms(), deadline;
                int timeout;

                if (sy) {
                        struct sync_status st;

                        sync_get_status(sy, &st);
                        app_set_status(&app, st.pending, st.online);
                }
                deadline = app_tick(&app, now);
                if (app.version != drawn) {
                        ui_draw(ui, &app);
                        drawn = app.version;
                }
                timeout = deadline < 0 ? 30000 : (int)(deadline - now);
                if (timeout < 0)
                        timeout = 0;
                if (ui_wait_and_handle(ui, &app, timeout))
                        break;
                if (app.votes_stored != stored_seen) {
                        if (sy)
                                sync_kick(sy); /* a new vote: upload now, not at the next poll */
                        stored_seen = app.votes_stored;
                }
#ifdef HAVE_SYSTEMD
                sd_notify(0, "WATCHDOG=1");
#endif
        }
        log_info("Stopping");
        r = 0;
out:
        sync_stop(sy);
        ui_destroy(ui);
        outbox_close(ob);
        return r;
}

int main(int argc, char **argv)
{
        struct kiosk_config cfg = {0};
        enum log_level level;
        bool help = false;
        char err[512];
        int next = 1, r;

        if (argc > 1 && strcmp(argv[1], "--version") == 0) {
                printf("otsinka-kiosk %s\n", OTSINKA_VERSION);
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "layout") == 0)
                return print_layout(argv[2], argv[3]);
        if (sodium_init() < 0) {
                fprintf(stderr, "otsinka-kiosk: libsodium failed to start\n");
                return 1;
        }
        if (config_defaults(kiosk_options, kiosk_options_count, &cfg) < 0)
                return 1;
        r = config_parse_args(kiosk_options, kiosk_options_count, argc - 1, argv + 1, &cfg, &next,
                              &help, err, sizeof(err));
        if (r < 0 || next + 1 < argc) {
                fprintf(stderr, "otsinka-kiosk: %s%s\n", r < 0 ? err : argv[next + 1],
                        r < 0 ? "" : ": unexpected argument");
                config_free(kiosk_options, kiosk_options_count, &cfg);
                return 2;
        }
        if (help) {
                usage(stdout);
                config_free(kiosk_options, kiosk_options_count, &cfg);
                return 0;
        }
        if (log_level_from_string(cfg.log_level, &level) < 0) {
                fprintf(stderr,
                        "otsinka-kiosk: log-level: \"%s\" is not one of error, warn, "
                        "info, debug\n",
                        cfg.log_level);
                config_free(kiosk_options, kiosk_options_count, &cfg);
                return 2;
        }
        log_set_max_level(level);
        if (access(cfg.assets, R_OK) < 0 &&
            access(OTSINKA_SOURCE_ASSETS_DIR "/i18n/uk.txt", R_OK) == 0) {
                free(cfg.assets);
                cfg.assets = strdup(OTSINKA_SOURCE_ASSETS_DIR);
        }
        r = run(&cfg);
        config_free(kiosk_options, kiosk_options_count, &cfg);
        return r < 0 ? 1 : 0;
}
