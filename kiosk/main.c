/* SPDX-License-Identifier: MIT */
/* otsinka-kiosk: the counter terminal. A thin layer over libotsinka-kiosk: read the
 * configuration, open the vote store, start the uploader beside the UI, and run the event
 * loop, which sleeps in the event wait whenever nothing changes. `otsinka-kiosk layout`
 * prints where the buttons are for a screen size, for tests and for calibrating touch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#include "script.h"
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

static int print_layout(const char *w, const char *h)
{
        struct layout l;
        char name[16];
        bool seen[LAYOUT_TARGET_END] = {false};
        const struct {
                const char *name;
                const struct layout_rect *r;
        } fixed[] = {{"header", &l.header}, {"qr", &l.qr},           {"prompt", &l.prompt},
                     {"status", &l.status}, {"message", &l.message}, {"title", &l.title},
                     {"entry", &l.entry},   {"note", &l.note}};

        if (layout_compute(atoi(w), atoi(h), &l) < 0) {
                fprintf(stderr, "otsinka-kiosk: layout: unsupported size %sx%s\n", w, h);
                return 2;
        }
        printf("{");
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
                printf("%s\"%s\":[%d,%d,%d,%d]", i ? "," : "", fixed[i].name, fixed[i].r->x,
                       fixed[i].r->y, fixed[i].r->w, fixed[i].r->h);
        /* every target, named as the script's tap-target names it, where it first appears */
        for (int s = 0; s < LAYOUT_SCREEN_COUNT; s++)
                for (int t = LAYOUT_SMILEY_1; t < LAYOUT_TARGET_END; t++) {
                        struct layout_rect r;

                        if (seen[t] || !layout_target_rect(&l, s, t, &r) ||
                            !layout_target_name(t, name, sizeof(name)))
                                continue;
                        seen[t] = true;
                        printf(",\"%s\":[%d,%d,%d,%d]", name, r.x, r.y, r.w, r.h);
                }
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

/* The configuration's local overrides and fallbacks; the roster supplies the rest. */
static void app_configure(struct app *app, const struct kiosk_config *cfg)
{
        enum vote_lang lang;

        if (cfg->lang && *cfg->lang) {
                if (i18n_lang_from_string(cfg->lang, &lang) < 0)
                        log_warn("lang: \"%s\" is not uk or en; using the collector's", cfg->lang);
                else
                        app->lang_local = (int)lang;
        }
        if (cfg->one_tap && *cfg->one_tap) {
                if (strcmp(cfg->one_tap, "true") == 0 || strcmp(cfg->one_tap, "yes") == 0)
                        app->one_tap_local = 1;
                else if (strcmp(cfg->one_tap, "false") == 0 || strcmp(cfg->one_tap, "no") == 0)
                        app->one_tap_local = 0;
                else
                        log_warn("one-tap: \"%s\" is not true or false; using the collector's",
                                 cfg->one_tap);
        }
        app->have_collector = cfg->collector_url && *cfg->collector_url;
        copy(app->workplace, sizeof(app->workplace), cfg->workplace);
        copy(app->workplace_name_local, sizeof(app->workplace_name_local), cfg->workplace_name);
        app->version_str = OTSINKA_VERSION;
}

/* The event loop: status, timers, a frame when something changed, the work that follows a
 * frame (a PIN check after its "checking…" frame, an enrollment code typed on the terminal
 * handed to the uploader after its "connecting…" frame), then a sleep in the event wait until
 * input, a wake-up from the uploader, or the next deadline. */
static void loop(struct ui *ui, struct app *app, struct sync *sy)
{
        uint64_t stored_seen = 0;

        for (;;) {
                int64_t now = app_now_ms(), deadline;
                int timeout;

                if (sy) {
                        struct sync_status st;

                        sync_get_status(sy, &st);
                        app_set_status(app, &st, now);
                }
                deadline = app_tick(app, now);
                ui_draw(ui, app);
                if (app_run_pending(app, app_now_ms()))
                        continue;
                if (app->enroll_code_pending[0]) {
                        /* the uploader forgets its credential and enrolls with the code; the
                         * app reads the result from the status it reports */
                        int r = sy ? sync_enroll(sy, app->enroll_code_pending) : -ENOTCONN;

                        app_enroll_handed(app, r, app_now_ms());
                        continue;
                }
                if (app->votes_stored != stored_seen) {
                        if (sy)
                                sync_kick(sy); /* a new vote: upload now, not at the next poll */
                        stored_seen = app->votes_stored;
                }
                timeout = deadline < 0 ? 30000 : (int)(deadline - now);
                if (timeout < 0)
                        timeout = 0;
                if (ui_wait_and_handle(ui, app, timeout))
                        break;
#ifdef HAVE_SYSTEMD
                sd_notify(0, "WATCHDOG=1");
#endif
        }
}

static int run(struct kiosk_config *cfg)
{
        struct outbox *ob = NULL;
        struct sync *sy = NULL;
        struct ui *ui = NULL;
        struct app app;
        bool scripted = cfg->script && *cfg->script;
        int64_t start = scripted ? 1000000 : app_now_ms();
        int r;

        r = outbox_open(cfg->database, &ob);
        if (r < 0)
                log_error("Cannot open the vote store %s: %s", cfg->database, strerror(-r));
        app_init(&app, ob);
        app_configure(&app, cfg);
        if (scripted)
                app.fake_wall_epoch_ms = (int64_t)time(NULL) * 1000 - start;
        if (!ob) {
                app.screen = APP_SCREEN_TROUBLE;
                copy(app.trouble, sizeof(app.trouble), r == -ENOSPC ? "disk-full" : "store-broken");
        } else {
                r = app_load_roster(&app, start);
                if (r == -ENOENT)
                        log_info("No roster yet: staff can log in once the collector answers");
        }
        app_restore(&app, start); /* the trouble screen too speaks kiosk.conf's language */

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
                    .enroll_code = cfg->enroll_code,
                    .version = OTSINKA_VERSION,
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
        if (scripted) {
                struct script_options so = {
                    .path = cfg->script,
                    .screenshots = cfg->screenshots,
                    .ui = ui,
                    .app = &app,
                    .outbox = ob,
                    .sync = sy,
                    .start_ms = start,
                };

                r = script_run(&so);
                goto out;
        }
        loop(ui, &app, sy);
        log_info("Stopping");
        r = 0;
out:
        sync_stop(sy);
        ui_destroy(ui);
        app_finish(&app);
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
