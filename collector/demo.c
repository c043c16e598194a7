/* SPDX-License-Identifier: MIT */
/* The demo instance: a sample city of three levels, four directions of service, a dozen
 * employees each at a workplace, one terminal, and printed QR tokens. Seeding happens once
 * per database (meta "demo.seeded"); secrets are made with libsodium and kept in the folder. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "buf.h"
#include "certgen.h"
#include "demo.h"
#include "fileio.h"
#include "log.h"
#include "pwhash.h"

struct demo_unit {
        int parent; /* index into units[], -1 for the root */
        const char *kind, *name, *name_en;
};

static const struct demo_unit units[] = {
    {-1, "council", "Міська рада", "City council"},
    {0, "department", "Департамент адміністративних послуг",
     "Department of administrative services"},
    {1, "section", "Відділ обслуговування громадян (ЦНАП)", "Citizen service section"},
    {1, "section", "Відділ реєстрації місця проживання", "Residence registration section"},
    {0, "department", "Департамент соціального захисту населення",
     "Department of social protection"},
    {4, "section", "Відділ призначення допомог", "Benefits section"},
    {4, "section", "Відділ пільг і компенсацій", "Privileges and compensation section"},
    {0, "directorate", "Управління житлово-комунального господарства",
     "Housing and utilities directorate"},
    {7, "section", "Відділ роботи зі зверненнями", "Appeals section"},
};

static const struct {
        const char *code, *name, *name_en;
} directions[] = {
    {"admin", "Адміністративні послуги", "Administrative services"},
    {"residence", "Реєстрація місця проживання", "Residence registration"},
    {"social", "Соціальний захист", "Social protection"},
    {"utilities", "Житлово-комунальні послуги", "Housing and utilities"},
};

static const struct {
        const char *no, *name, *position;
        int unit, direction; /* indexes */
        int head;
} employees[] = {
    {"E001", "Коваленко Олена Петрівна", "Адміністратор ЦНАП", 2, 0, 0},
    {"E002", "Шевчук Андрій Миколайович", "Директор департаменту", 1, 0, 1},
    {"E003", "Бондаренко Ірина Василівна", "Начальник відділу", 2, 0, 1},
    {"E004", "Мельник Тарас Іванович", "Адміністратор ЦНАП", 2, 0, 0},
    {"E005", "Ткаченко Наталія Олегівна", "Начальник відділу", 3, 1, 1},
    {"E006", "Кравченко Олег Сергійович", "Головний спеціаліст", 3, 1, 0},
    {"E007", "Олійник Світлана Богданівна", "Директор департаменту", 4, 2, 1},
    {"E008", "Лисенко Віктор Петрович", "Начальник відділу", 5, 2, 1},
    {"E009", "Руденко Марія Андріївна", "Провідний спеціаліст", 5, 2, 0},
    {"E010", "Савченко Юлія Ігорівна", "Головний спеціаліст", 6, 2, 0},
    {"E011", "Марченко Богдан Олексійович", "Начальник управління", 7, 3, 1},
    {"E012", "Петренко Галина Степанівна", "Провідний спеціаліст", 8, 3, 0},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DEMO_TERMINAL "T001"
#define DEMO_WORKPLACE "W001"
/* Files the demo keeps in its folder beside the CA, both 0600: they hold secrets. */
#define DEMO_PASSWORD_FILE "admin-password"
#define DEMO_KIOSK_CONF "kiosk.conf"
#define DEMO_PINS_FILE "staff-pins"

/* A random URL-safe string of n - 1 characters. */
static void random_token(char *buf, size_t n)
{
        static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

        for (size_t i = 0; i + 1 < n; i++)
                buf[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
        buf[n - 1] = 0;
}

/* Writes dir/name atomically with mode 0600 (fileio_write_atomic()), and logs a failure. */
static int secret_file_write(const char *dir, const char *name, const char *data, size_t len)
{
        int r = fileio_write_atomic(dir, name, data, len, 0600);

        if (r < 0)
                log_error("Cannot write %s/%s: %s", dir, name, strerror(-r));
        return r;
}

static int seed(struct store *s, const char *dir, int port, struct demo_info *info)
{
        const struct store_ops *o = s->ops;
        int64_t unit_ids[N(units)], dir_ids[N(directions)], emp_ids[N(employees)];
        char secret[48], token[24], code[16], path[PATH_MAX + 64], hash[crypto_pwhash_STRBYTES];
        char pw_line[80];
        struct buf conf;
        int r;

        for (size_t i = 0; i < N(units); i++) {
                r = o->unit_add(s, units[i].parent < 0 ? 0 : unit_ids[units[i].parent],
                                units[i].kind, units[i].name, units[i].name_en, &unit_ids[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < N(directions); i++) {
                r = o->direction_add(s, directions[i].code, directions[i].name,
                                     directions[i].name_en, &dir_ids[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < N(employees); i++) {
                int64_t wp;

                r = o->employee_add(s, employees[i].no, employees[i].name, employees[i].position,
                                    unit_ids[employees[i].unit], employees[i].head, &emp_ids[i]);
                if (r < 0)
                        return r;
                snprintf(code, sizeof(code), "W%03zu", i + 1);
                snprintf(path, sizeof(path), "Вікно %zu", i + 1);
                r = o->workplace_add(s, code, path, unit_ids[employees[i].unit],
                                     dir_ids[employees[i].direction], &wp);
                if (r < 0)
                        return r;
                random_token(token, sizeof(token));
                r = o->token_add(s, token, emp_ids[i], code, VOTE_CHANNEL_QR_PRINTED);
                if (r < 0)
                        return r;
                if (i == 0) {
                        r = o->meta_set(s, "demo.printed_token", token);
                        if (r < 0)
                                return r;
                }
        }
        /* Staff PINs, four random digits each, kept in the folder for the person trying it. */
        buf_init(&conf, 64 * 1024);
        buf_adds(&conf, "# Shift-login PINs of the demo employees (personal number, PIN).\n");
        for (size_t i = 0; i < N(employees); i++) {
                char pin[8];

                snprintf(pin, sizeof(pin), "%04u", (unsigned)randombytes_uniform(10000));
                if (i == 0)
                        snprintf(info->staff_pin, sizeof(info->staff_pin), "%s", pin);
                r = pwhash_make(hash, pin, strlen(pin));
                if (r < 0) {
                        buf_free(&conf);
                        return r;
                }
                r = o->employee_set_pin(s, employees[i].no, hash);
                if (r < 0) {
                        buf_free(&conf);
                        return r;
                }
                buf_printf(&conf, "%s %s\n", employees[i].no, pin);
        }
        r = conf.error ? conf.error : secret_file_write(dir, DEMO_PINS_FILE, conf.data, conf.len);
        buf_free(&conf);
        if (r < 0)
                return r;

        random_token(info->admin_password, 17);
        r = pwhash_make(hash, info->admin_password, strlen(info->admin_password));
        if (r < 0)
                return r;
        r = o->user_add(s, "admin", hash, "admin", 0);
        if (r < 0)
                return r;
        snprintf(pw_line, sizeof(pw_line), "%s\n", info->admin_password);
        r = secret_file_write(dir, DEMO_PASSWORD_FILE, pw_line, strlen(pw_line));
        if (r < 0)
                return r;

        random_token(secret, 44);
        r = o->terminal_add(s, DEMO_TERMINAL, DEMO_WORKPLACE, secret);
        if (r < 0)
                return r;
        buf_init(&conf, 64 * 1024);
        r = buf_printf(
            &conf,
            "# A terminal enrolled to the demo collector. Made by `otsinka-collector demo`.\n"
            "collector-url = https://127.0.0.1:%d\n"
            "ca-file = %s/ca.pem\n"
            "terminal-id = %s\n"
            "terminal-secret = %s\n"
            "database = %s/kiosk.db\n"
            "# The workplace (%s), its staff and their PINs come from the collector.\n"
            "# Staff PINs of this demo: %s/%s\n",
            port, dir, DEMO_TERMINAL, secret, dir, DEMO_WORKPLACE, dir, DEMO_PINS_FILE);
        if (r < 0)
                return r;
        r = secret_file_write(dir, DEMO_KIOSK_CONF, conf.data, conf.len);
        buf_free(&conf);
        if (r < 0)
                return r;
        return o->meta_set(s, "demo.seeded", "1");
}

static int set_string(char **field, const char *value)
{
        char *p = strdup(value);

        if (!p)
                return -ENOMEM;
        free(*field);
        *field = p;
        return 0;
}

int demo_prepare(const char *dir, int port, struct collector_config *cfg,
                 struct demo_info *ret_info)
{
        static const char *const hosts[] = {"127.0.0.1", "localhost"};
        struct demo_info info = {0};
        struct certgen_paths paths;
        struct store *s = NULL;
        char path[PATH_MAX + 64], token[64], abs_dir[PATH_MAX], flag[8];
        int r;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                log_error("Cannot make %s: %m", dir);
                return -errno;
        }
        if (!realpath(dir, abs_dir))
                return -errno;
        r = certgen_ensure(abs_dir, hosts, N(hosts), &paths);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "sqlite:%s/collector.db", abs_dir);
        snprintf(info.kiosk_conf, sizeof(info.kiosk_conf), "%s/%s", abs_dir, DEMO_KIOSK_CONF);
        r = store_open(path, &s);
        if (r < 0)
                return r;
        if (s->ops->meta_get(s, "demo.seeded", flag, sizeof(flag)) == -ENOENT) {
                log_info("Seeding a sample city into %s/collector.db", abs_dir);
                snprintf(token, sizeof(token), "%d", port);
                r = seed(s, abs_dir, port, &info);
                if (r >= 0)
                        r = s->ops->meta_set(s, "demo.port", token);
                if (r < 0) {
                        log_error("Cannot seed the demo database: %s", strerror(-r));
                        goto out;
                }
        } else {
                if (s->ops->meta_get(s, "demo.port", token, sizeof(token)) >= 0 &&
                    atoi(token) != port) {
                        log_error("%s was made for port %s, which kiosk.conf names: run with "
                                  "--port %s, or give a new --dir",
                                  abs_dir, token, token);
                        r = -EADDRNOTAVAIL;
                        goto out;
                }
                FILE *f;

                snprintf(path, sizeof(path), "%s/%s", abs_dir, DEMO_PASSWORD_FILE);
                f = fopen(path, "re");
                if (f) {
                        if (fgets(info.admin_password, sizeof(info.admin_password), f))
                                info.admin_password[strcspn(info.admin_password, "\n")] = 0;
                        fclose(f);
                }
                snprintf(path, sizeof(path), "%s/%s", abs_dir, DEMO_PINS_FILE);
                f = fopen(path, "re");
                if (f) {
                        char line[128];

                        while (fgets(line, sizeof(line), f))
                                if (strncmp(line, "E001 ", 5) == 0)
                                        sscanf(line + 5, "%7s", info.staff_pin);
                        fclose(f);
                }
        }
        r = s->ops->meta_get(s, "demo.printed_token", token, sizeof(token));
        if (r < 0)
                goto out;
        snprintf(info.vote_url, sizeof(info.vote_url), "https://127.0.0.1:%d/r/%.63s", port, token);

        snprintf(path, sizeof(path), "sqlite:%s/collector.db", abs_dir);
        if ((r = set_string(&cfg->database, path)) < 0 ||
            (r = set_string(&cfg->tls_cert, paths.server_cert)) < 0 ||
            (r = set_string(&cfg->tls_key, paths.server_key)) < 0 ||
            (r = set_string(&cfg->listen, "127.0.0.1")) < 0)
                goto out;
        snprintf(path, sizeof(path), "https://127.0.0.1:%d", port);
        if ((r = set_string(&cfg->public_url, path)) < 0)
                goto out;
        snprintf(info.ca_file, sizeof(info.ca_file), "%s", paths.ca_cert);
        snprintf(info.database, sizeof(info.database), "sqlite:%s/collector.db", abs_dir);
        cfg->port = port;
        cfg->plain_http = false;
        *ret_info = info;
        r = 0;
out:
        store_close(s);
        return r;
}
