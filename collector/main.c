/* SPDX-License-Identifier: MIT */
/* otsinka-collector: serve (the default), `demo`, `migrate`. A thin layer over
 * libotsinka-collector: parse the configuration, open the store, serve until SIGINT/SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "alert.h"
#include "apitoken.h"
#include "collector.h"
#include "demo.h"
#include "http.h"
#include "log.h"
#include "pwhash.h"
#include "org.h"
#include "qrprint.h"
#include "fileio.h"
#include "period.h"
#include "roster.h"
#include "store.h"

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: otsinka-collector [OPTIONS]            serve\n"
                "       otsinka-collector demo [--dir DIR] [--port N] [OPTIONS]\n"
                "       otsinka-collector migrate [OPTIONS]\n"
                "       otsinka-collector enroll-code WORKPLACE [DAYS] [OPTIONS]\n"
                "       otsinka-collector set-pin PERSONAL_NO [OPTIONS]   (PIN on stdin)\n"
                "       otsinka-collector user-add LOGIN admin|official|manager|auditor [UNIT] "
                "[OPTIONS]   (password on stdin)\n"
                "       otsinka-collector revoke-terminal TERMINAL [OPTIONS]\n"
                "       otsinka-collector api-token-add --name NAME --role auditor|manager "
                "[--unit CODE]\n"
                "                         [--expires YYYY-MM-DD] [OPTIONS]   (prints the token "
                "once)\n"
                "       otsinka-collector terminal-setting NAME VALUE [OPTIONS]\n"
                "       otsinka-collector backup FILE [OPTIONS]   (online, while serving)\n"
                "       otsinka-collector import [--dry-run] DIR [OPTIONS]   (organisation CSV)\n"
                "       otsinka-collector export DIR [OPTIONS]\n"
                "       otsinka-collector qr-sheet FILE.pdf UNIT|PERSONAL_NO [1|6] "
                "[qr_printed|qr_reply]\n"
                "       otsinka-collector --version\n\nOptions (also as \"key = value\" "
                "lines in --config FILE):\n");
        config_print_help(collector_options, collector_options_count, f);
}

/* Waits for SIGINT or SIGTERM (blocked in every thread). Under a systemd watchdog it pings at
 * half the interval, but only after the store answered a query: a request thread stuck
 * holding the store (the hang that matters) then stops the pings, and systemd restarts us. */
static void wait_for_stop(struct store *s)
{
        sigset_t set;
        struct timespec tick = {.tv_sec = 5};
        uint64_t usec = 0;
        int sig;

#ifdef HAVE_SYSTEMD
        if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
                tick.tv_sec = (time_t)(usec / 2 / 1000000);
                tick.tv_nsec = (long)(usec / 2 % 1000000) * 1000;
        }
#endif
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        for (;;) {
                char v[8];
                int r;

                sig = sigtimedwait(&set, NULL, &tick);
                if (sig == SIGINT || sig == SIGTERM)
                        break;
                /* any answer will do, "no such key" included: it takes the store's lock */
                r = usec ? s->ops->meta_get(s, "watchdog", v, sizeof(v)) : 0;
                if (r < 0 && r != -ENOENT) {
                        log_error("The store does not answer: no watchdog ping");
                        continue;
                }
#ifdef HAVE_SYSTEMD
                sd_notify(0, "WATCHDOG=1");
#endif
        }
        log_info("Stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
#ifdef HAVE_SYSTEMD
        sd_notify(0, "STOPPING=1");
#endif
}

/* The settings terminals pull (docs/protocol.md, "Pull"), kept as meta "terminal.<name>",
 * with the values the pull takes: an integer in [min, max]; logout_at and lang (max < min)
 * are checked by name. A value the pull would not take is refused here: the store reads a
 * word as 0 and drops one out of range, so the terminals would silently get another value. */
static const struct {
        const char *name;
        long long min, max;
} terminal_settings[] = {
    {"min_interval_s", 0, 3600}, {"idle_logout_s", 0, 7 * 86400},
    {"logout_at", 0, -1},        {"qr_ttl_s", 30, 86400},
    {"thanks_s", 1, 60},         {"selection_s", 2, 600},
    {"one_tap", 0, 1},           {"lang", 0, -1},
};

/* True when v is a value the pull takes for setting i. */
static bool terminal_setting_valid(size_t i, const char *v)
{
        const char *name = terminal_settings[i].name;
        char *end;
        long long n;

        if (strcmp(name, "lang") == 0)
                return strcmp(v, "uk") == 0 || strcmp(v, "en") == 0;
        if (strcmp(name, "logout_at") == 0)
                return !v[0] ||
                       (strlen(v) == 5 && strspn(v, "0123456789") == 2 && v[2] == ':' &&
                        strspn(v + 3, "0123456789") == 2 && atoi(v) < 24 && atoi(v + 3) < 60);
        errno = 0;
        n = strtoll(v, &end, 10);
        return v[0] && !*end && errno == 0 && n >= terminal_settings[i].min &&
               n <= terminal_settings[i].max;
}

/* Reads a PIN from the first line of stdin: 4 to 12 digits. */
static int read_pin(char *pin, size_t n)
{
        size_t len;

        if (!fgets(pin, (int)n, stdin))
                return -ENODATA;
        pin[strcspn(pin, "\r\n")] = 0;
        len = strlen(pin);
        if (len < 4 || len > 12 || strspn(pin, "0123456789") != len)
                return -EINVAL;
        return 0;
}

/* user-add LOGIN ROLE [UNIT]: a user of the pages, the password read from stdin. Officials
 * and managers act on a unit's subtree (by code); administrators and auditors on everything. */
static int user_add(struct store *s, char **args, int n_args)
{
        static const char *const roles[] = {"admin", "official", "manager", "auditor", NULL};
        char password[256], hash[crypto_pwhash_STRBYTES];
        struct store_org org = {0};
        int64_t unit_id = 0;
        bool known = false;
        size_t len;
        int r;

        for (const char *const *p = roles; *p; p++)
                known = known || strcmp(*p, args[1]) == 0;
        if (!known || strlen(args[0]) < 1 || strlen(args[0]) > 63) {
                fprintf(stderr, "otsinka-collector: user-add LOGIN admin|official|manager|auditor "
                                "[UNIT]\n");
                return -EINVAL;
        }
        if ((strcmp(args[1], "official") == 0 || strcmp(args[1], "manager") == 0) != (n_args > 2)) {
                fprintf(stderr, "otsinka-collector: %s: %s\n", args[1],
                        n_args > 2 ? "acts on everything; give no unit"
                                   : "acts on a unit's subtree; give the unit's code");
                return -EINVAL;
        }
        if (n_args > 2) {
                r = s->ops->org_export(s, &org);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < org.n_units; i++)
                        if (strcmp(org.units[i].code, args[2]) == 0)
                                unit_id = org.units[i].id;
                store_org_finish(&org);
                if (!unit_id) {
                        fprintf(stderr, "otsinka-collector: %s: no such unit\n", args[2]);
                        return -ENOENT;
                }
        }
        if (!fgets(password, sizeof(password), stdin)) {
                fprintf(stderr, "otsinka-collector: give the password on stdin\n");
                return -ENODATA;
        }
        password[strcspn(password, "\r\n")] = 0;
        len = strlen(password);
        if (len < 12) {
                sodium_memzero(password, sizeof(password));
                fprintf(stderr, "otsinka-collector: the password must be at least 12 characters\n");
                return -EINVAL;
        }
        r = pwhash_make(hash, password, len);
        sodium_memzero(password, sizeof(password));
        if (r >= 0)
                r = s->ops->user_add(s, args[0], hash, args[1], unit_id);
        if (r == -EEXIST)
                fprintf(stderr, "otsinka-collector: %s: the login is taken\n", args[0]);
        else if (r >= 0)
                printf("User %s (%s) added\n", args[0], args[1]);
        return r;
}

/* api-token-add: a token for another city system (apitoken.h), printed once on stdout; args
 * are the values of --name, --role, --unit and --expires (NULL when not given). */
static int api_token_add(struct store *s, char **args)
{
        struct store_api_token t = {0};
        char text[APITOKEN_TEXT], detail[sizeof(t.name) + sizeof(t.unit_code) + 96];
        int64_t now = time(NULL);
        int r;

        if (!args[0] || !args[1] || strlen(args[0]) >= sizeof(t.name) ||
            (args[2] && strlen(args[2]) >= sizeof(t.unit_code))) {
                fprintf(stderr, "otsinka-collector: api-token-add --name NAME --role "
                                "auditor|manager [--unit CODE] [--expires YYYY-MM-DD]\n");
                return -EINVAL;
        }
        snprintf(t.name, sizeof(t.name), "%s", args[0]);
        snprintf(t.role, sizeof(t.role), "%s", args[1]);
        snprintf(t.unit_code, sizeof(t.unit_code), "%s", args[2] ? args[2] : "");
        t.created_at = now;
        if (args[3] && (r = apitoken_parse_expiry(args[3], now, &t.expires_at)) < 0) {
                fprintf(stderr, "otsinka-collector: --expires %s: %s\n", args[3],
                        r == -ERANGE ? "that day is over" : "expected YYYY-MM-DD");
                return r;
        }
        r = apitoken_create(s, &t, text);
        if (r == -ENOENT)
                fprintf(stderr, "otsinka-collector: %s: no such unit\n", t.unit_code);
        else if (r == -EINVAL)
                fprintf(stderr, "otsinka-collector: %s\n",
                        strcmp(t.role, "auditor") && strcmp(t.role, "manager")
                            ? "--role: expected auditor or manager"
                        : !t.name[0] || strlen(t.name) > APITOKEN_NAME_MAX
                            ? "--name: 1 to 100 characters"
                            : "a manager's token needs --unit; an auditor's reads the whole "
                              "city and takes none");
        if (r < 0)
                return r;
        snprintf(detail, sizeof(detail), "#%lld %s: %s %s%s%s", (long long)t.id, t.name, t.role,
                 t.unit_code, args[3] ? " until " : "", args[3] ? args[3] : "");
        r = s->ops->audit_add(s, "", "api_token_add", detail, "command line", now);
        if (r < 0)
                log_error("Cannot write the audit log: %s", strerror(-r));
        /* the only time the token's text exists: the store keeps its hash */
        printf("%s\n", text);
        sodium_memzero(text, sizeof(text));
        fprintf(stderr,
                "API token #%lld (%s) made; it is shown only this once. Use it as\n"
                "  Authorization: Bearer <token>\n",
                (long long)t.id, t.role);
        return 0;
}

/* qr-sheet FILE.pdf SCOPE [PER_PAGE] [CHANNEL]: a unit's (by code) or one employee's (by
 * personal number) live printed codes as an A4 PDF, issuing a code to whoever has none. */
static int qr_sheet(struct store *s, const struct collector_config *cfg, char **args, int n_args)
{
        const char *channel = n_args > 3 ? args[3] : VOTE_CHANNEL_QR_PRINTED;
        int per_page = n_args > 2 ? atoi(args[2]) : 0;
        struct store_qr *rows = NULL;
        struct qrprint_item *items = NULL;
        struct i18n *t = NULL;
        size_t n = 0;
        bool unit = true;
        struct buf b;
        int r;

        if (!vote_ref_valid(args[1]) || (n_args > 2 && per_page != 1 && per_page != 6) ||
            (strcmp(channel, VOTE_CHANNEL_QR_PRINTED) && strcmp(channel, VOTE_CHANNEL_QR_REPLY))) {
                fprintf(stderr, "otsinka-collector: qr-sheet FILE.pdf UNIT|PERSONAL_NO [1|6] "
                                "[qr_printed|qr_reply]\n");
                return -EINVAL;
        }
        r = s->ops->qr_list(s, 0, args[1], "", channel, &rows, &n);
        if (r >= 0 && n == 0) {
                free(rows);
                rows = NULL;
                unit = false;
                r = s->ops->qr_list(s, 0, "", args[1], channel, &rows, &n);
        }
        if (r >= 0 && n == 0) {
                fprintf(stderr, "otsinka-collector: %s: no such unit or employee\n", args[1]);
                r = -ENOENT;
        }
        if (r >= 0 && !(items = calloc(n, sizeof(*items))))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (!rows[i].token[0]) {
                        r = s->ops->qr_issue(s, 0, rows[i].personal_no, channel, rows[i].token,
                                             sizeof(rows[i].token));
                        if (r >= 0)
                                printf("Issued a %s code to %s\n", channel, rows[i].personal_no);
                }
                snprintf(items[i].url, sizeof(items[i].url), "%s/r/%s", cfg->public_url,
                         rows[i].token);
                snprintf(items[i].full_name, sizeof(items[i].full_name), "%s", rows[i].full_name);
                snprintf(items[i].position, sizeof(items[i].position), "%s", rows[i].position);
                snprintf(items[i].unit, sizeof(items[i].unit), "%s", rows[i].unit);
        }
        if (r >= 0)
                r = i18n_load(cfg->assets, VOTE_LANG_UK, &t);
        if (r >= 0) {
                struct qrprint_text text = {i18n_get(t, "qr.prompt"), i18n_get(t, "qr.hint")};
                char dir[4096], *slash;

                buf_init(&b, 256 * 1024 * 1024);
                r = qrprint_pdf(items, n, per_page ? per_page : unit ? 6 : 1, &text, &b);
                snprintf(dir, sizeof(dir), "%s", args[0]);
                slash = strrchr(dir, '/');
                if (slash)
                        *slash = 0;
                if (r >= 0)
                        r = fileio_write_atomic(slash ? dir : ".", slash ? slash + 1 : args[0],
                                                b.data, b.len, 0644);
                buf_free(&b);
        }
        if (r >= 0)
                printf("Wrote %zu codes to %s\n", n, args[0]);
        else if (r != -ENOENT && r != -EINVAL)
                fprintf(stderr, "otsinka-collector: qr-sheet: %s\n", strerror(-r));
        i18n_free(t);
        free(items);
        free(rows);
        return r;
}

/* The operations commands: each opens the store, does one thing, and says what it did. */
static int admin_command(const char *command, char **args, int n_args, bool dry_run,
                         const struct collector_config *cfg)
{
        struct store *s = NULL;
        int r;

        r = store_open(cfg->database, &s);
        if (r < 0) {
                log_error("Cannot open the database %s: %s", cfg->database, strerror(-r));
                return r;
        }
        if (strcmp(command, "enroll-code") == 0) {
                char code[ENROLL_CODE_MAX];
                long days = n_args > 1 ? strtol(args[1], NULL, 10) : 7;

                if (days < 1 || days > 365) {
                        fprintf(stderr, "otsinka-collector: DAYS: expected 1..365\n");
                        r = -EINVAL;
                } else if ((r = s->ops->enroll_code_add(s, args[0], days * 86400, code,
                                                        sizeof(code))) == -ENOENT)
                        fprintf(stderr, "otsinka-collector: %s: no such workplace\n", args[0]);
                else if (r >= 0)
                        printf("%s\n", code);
        } else if (strcmp(command, "set-pin") == 0) {
                char pin[32], hash[crypto_pwhash_STRBYTES];

                r = read_pin(pin, sizeof(pin));
                if (r < 0)
                        fprintf(stderr, "otsinka-collector: the PIN on stdin must be 4 to 12 "
                                        "digits\n");
                else
                        r = pwhash_make(hash, pin, strlen(pin));
                if (r >= 0)
                        r = s->ops->employee_set_pin(s, args[0], hash);
                if (r == -ENOENT)
                        fprintf(stderr, "otsinka-collector: %s: no such employee\n", args[0]);
                else if (r >= 0)
                        printf("PIN set for %s; terminals get it at their next pull\n", args[0]);
                sodium_memzero(pin, sizeof(pin));
        } else if (strcmp(command, "user-add") == 0) {
                r = user_add(s, args, n_args);
        } else if (strcmp(command, "api-token-add") == 0) {
                r = api_token_add(s, args);
        } else if (strcmp(command, "revoke-terminal") == 0) {
                r = s->ops->terminal_revoke(s, args[0]);
                if (r == -ENOENT)
                        fprintf(stderr, "otsinka-collector: %s: no such terminal\n", args[0]);
                else if (r >= 0)
                        printf("Terminal %s revoked: it gets 401 from now on\n", args[0]);
        } else if (strcmp(command, "backup") == 0) {
                r = s->ops->backup(s, args[0]);
                if (r < 0)
                        fprintf(stderr, "otsinka-collector: backup to %s: %s\n", args[0],
                                strerror(-r));
                else
                        printf("Backed up %s to %s\n", cfg->database, args[0]);
        } else if (strcmp(command, "import") == 0) {
                struct store_org org = {0};
                struct store_org_report rep = {0};
                char err[512];

                r = org_read_dir(args[0], &org, err, sizeof(err));
                if (r >= 0)
                        r = s->ops->org_import(s, &org, dry_run, &rep);
                else
                        snprintf(rep.error, sizeof(rep.error), "%s", err);
                if (r < 0)
                        fprintf(stderr, "otsinka-collector: import: %s\n",
                                rep.error[0] ? rep.error : strerror(-r));
                else
                        printf("%s: units %zu added, %zu changed; directions %zu added, %zu "
                               "changed; employees %zu added, %zu changed; workplaces %zu added, "
                               "%zu changed\n",
                               dry_run ? "Dry run, nothing saved" : "Imported", rep.added[0],
                               rep.changed[0], rep.added[1], rep.changed[1], rep.added[2],
                               rep.changed[2], rep.added[3], rep.changed[3]);
                store_org_finish(&org);
        } else if (strcmp(command, "export") == 0) {
                struct store_org org = {0};

                r = s->ops->org_export(s, &org);
                if (r >= 0)
                        r = org_write_dir(args[0], &org);
                if (r < 0)
                        fprintf(stderr, "otsinka-collector: export to %s: %s\n", args[0],
                                strerror(-r));
                else
                        printf("Exported %zu units, %zu directions, %zu employees, %zu workplaces "
                               "to %s\n",
                               org.n_units, org.n_directions, org.n_employees, org.n_workplaces,
                               args[0]);
                store_org_finish(&org);
        } else if (strcmp(command, "qr-sheet") == 0) {
                r = qr_sheet(s, cfg, args, n_args);
        } else { /* terminal-setting */
                char key[64];
                size_t i = 0, n = sizeof(terminal_settings) / sizeof(terminal_settings[0]);

                while (i < n && strcmp(terminal_settings[i].name, args[0]) != 0)
                        i++;
                if (i == n) {
                        fprintf(stderr, "otsinka-collector: %s: not a terminal setting\n", args[0]);
                        r = -EINVAL;
                } else if (!terminal_setting_valid(i, args[1])) {
                        if (terminal_settings[i].max < terminal_settings[i].min)
                                fprintf(stderr, "otsinka-collector: %s: \"%s\" is not %s\n",
                                        args[0], args[1],
                                        strcmp(args[0], "lang") == 0 ? "uk or en"
                                                                     : "HH:MM, or \"\" for none");
                        else
                                fprintf(stderr,
                                        "otsinka-collector: %s: \"%s\" is not an integer from "
                                        "%lld to %lld\n",
                                        args[0], args[1], terminal_settings[i].min,
                                        terminal_settings[i].max);
                        r = -EINVAL;
                } else {
                        snprintf(key, sizeof(key), "terminal.%s", args[0]);
                        r = s->ops->meta_set(s, key, args[1]);
                        if (r >= 0)
                                printf("%s = %s; terminals get it at their next pull\n", args[0],
                                       args[1]);
                }
        }
        store_close(s);
        return r;
}

static int serve(struct collector_config *cfg, const struct demo_info *demo)
{
        struct collector c;
        struct http_server *h = NULL;
        struct alert_runner *runner = NULL;
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
        /* alerts, and the report counts kept up to date (alert.h) */
        r = alert_start(&c, 60, &runner);
        if (r < 0)
                goto out_collector;
        r = http_start(&c, &h);
        if (r < 0)
                goto out_collector;
        log_info("Listening on %s://%s:%u", cfg->plain_http ? "http" : "https", cfg->listen,
                 http_port(h));
        if (demo) {
                printf("\nOtsinka demo collector is running.\n"
                       "  Reports:        https://127.0.0.1:%u/reports\n"
                       "  A vote page:    %s\n"
                       "  Administration: https://127.0.0.1:%u/login  (admin / %s)\n"
                       "  CA certificate: %s\n"
                       "  Terminal conf:  %s\n"
                       "  Staff login:    E001, PIN %s (all PINs: staff-pins in the folder)\n"
                       "  Another terminal: otsinka-collector enroll-code W002 --database %s\n"
                       "Press Ctrl+C to stop.\n\n",
                       http_port(h), demo->vote_url, http_port(h), demo->admin_password,
                       demo->ca_file, demo->kiosk_conf, demo->staff_pin, demo->database);
                fflush(stdout);
        }
#ifdef HAVE_SYSTEMD
        sd_notify(0, "READY=1");
#endif
        wait_for_stop(s);
        http_stop(h);
out_collector:
        alert_stop(runner);
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
        int next = 1, r, port_arg = 0, n_args = 0;
        bool dry_run = false;
        char *args[4] = {NULL, NULL, NULL, NULL};
        sigset_t set;

        if (argc > 1 && strcmp(argv[1], "--version") == 0) {
                printf("otsinka-collector %s\n", OTSINKA_VERSION);
                return 0;
        }
        if (argc > 1 && argv[1][0] != '-') {
                command = argv[1];
                next = 2;
        }
        static const struct {
                const char *name;
                int min_args, max_args;
        } commands[] = {
            {"serve", 0, 0},           {"demo", 0, 0},
            {"migrate", 0, 0},         {"enroll-code", 1, 2},
            {"set-pin", 1, 1},         {"user-add", 2, 3},
            {"revoke-terminal", 1, 1}, {"terminal-setting", 2, 2},
            {"backup", 1, 1},          {"import", 1, 1},
            {"export", 1, 1},          {"qr-sheet", 2, 4},
            {"api-token-add", 0, 0},
        };
        int cmd = -1;

        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(command, commands[i].name) == 0)
                        cmd = (int)i;
        if (cmd < 0) {
                fprintf(stderr, "otsinka-collector: unknown command \"%s\"\n", command);
                usage(stderr);
                return 2;
        }
        /* the command's own arguments come before the options */
        for (;;) {
                if (next < argc && strcmp(command, "import") == 0 &&
                    strcmp(argv[next], "--dry-run") == 0) {
                        dry_run = true;
                        next++;
                } else if (next < argc && argv[next][0] != '-' && n_args < commands[cmd].max_args)
                        args[n_args++] = argv[next++];
                else
                        break;
        }
        if (n_args < commands[cmd].min_args) {
                fprintf(stderr, "otsinka-collector: %s: missing arguments\n", command);
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
        /* api-token-add's own options come first: --name, --role, --unit, --expires, each
         * "--opt VALUE" or "--opt=VALUE", into args[0..3] */
        while (strcmp(command, "api-token-add") == 0 && next < argc) {
                static const char *const opts[] = {"--name", "--role", "--unit", "--expires"};
                size_t i = 0, len = 0;

                for (; i < 4; i++) {
                        len = strlen(opts[i]);
                        if (strncmp(argv[next], opts[i], len) == 0 &&
                            (argv[next][len] == 0 || argv[next][len] == '='))
                                break;
                }
                if (i == 4)
                        break;
                if (argv[next][len] == '=')
                        args[i] = argv[next++] + len + 1;
                else if (next + 1 < argc) {
                        args[i] = argv[next + 1];
                        next += 2;
                } else {
                        fprintf(stderr, "otsinka-collector: %s: missing value\n", opts[i]);
                        return 2;
                }
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
        if (strcmp(command, "serve") != 0) {
                if (access(cfg.assets, R_OK) < 0 &&
                    access(OTSINKA_SOURCE_ASSETS_DIR "/i18n/uk.txt", R_OK) == 0) {
                        free(cfg.assets);
                        cfg.assets = strdup(OTSINKA_SOURCE_ASSETS_DIR);
                }
                r = admin_command(command, args, n_args, dry_run, &cfg);
                goto out;
        }
        r = serve(&cfg, NULL);
out:
        qrprint_release();
        config_free(collector_options, collector_options_count, &cfg);
        return r < 0 ? 1 : 0;
}
