/* SPDX-License-Identifier: MIT */
/* Alerts: the scan and the mail (alert.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "alert.h"
#include "buf.h"
#include "log.h"
#include "report.h"

/* The longest burst search: votes per unit in two windows. */
#define UNIT_VOTES_MAX 20000

struct unit_votes {
        int64_t unit_id;
        int64_t *t;
        int *level;
        size_t n, size;
};

static int push(struct unit_votes *u, int64_t t, int level)
{
        if (u->n == u->size) {
                size_t size = u->size ? u->size * 2 : 16;
                int64_t *nt;
                int *nl;

                if (size > UNIT_VOTES_MAX)
                        return 0; /* enough to find a burst; the rest waits for the next scan */
                nt = realloc(u->t, size * sizeof(*nt));
                if (!nt)
                        return -ENOMEM;
                u->t = nt;
                nl = realloc(u->level, size * sizeof(*nl));
                if (!nl)
                        return -ENOMEM;
                u->level = nl;
                u->size = size;
        }
        u->t[u->n] = t;
        u->level[u->n++] = level;
        return 0;
}

/* The first burst in u that starts after not_before: [i, j] within the window with at least
 * min votes of which at least share percent are level 1. */
static bool find_burst(const struct unit_votes *u, int64_t window_ms, int64_t min, int64_t share,
                       int64_t not_before, struct store_alert *ret)
{
        for (size_t j = 0; j < u->n; j++)
                for (size_t i = 0; i <= j; i++) {
                        int64_t n = (int64_t)(j - i + 1), n1 = 0;

                        if (u->t[i] <= not_before || u->t[j] - u->t[i] >= window_ms || n < min)
                                continue;
                        for (size_t k = i; k <= j; k++)
                                n1 += u->level[k] == 1;
                        if (n1 * 100 >= share * n) {
                                memset(ret, 0, sizeof(*ret));
                                ret->unit_id = u->unit_id;
                                ret->from_ms = u->t[i];
                                ret->to_ms = u->t[j];
                                ret->n = n;
                                ret->n1 = n1;
                                return true;
                        }
                }
        return false;
}

static void escape_header(struct buf *b, const char *s)
{
        /* RFC 2047 would encode; plain UTF-8 in headers is taken by every current server
         * (SMTPUTF8) and client, so only line breaks are kept out */
        for (; *s; s++)
                buf_add(b, *s == '\r' || *s == '\n' ? " " : s, 1);
}

int alert_mail_text(struct collector *c, const struct store_alert *a, const char *unit,
                    const char *manager, char **ret)
{
        struct buf b;
        char from[32], to[32], date[64];
        time_t t1 = (time_t)(a->from_ms / 1000), t2 = (time_t)(a->to_ms / 1000), now = time(NULL);
        struct tm tm;

        localtime_r(&t1, &tm);
        strftime(from, sizeof(from), "%Y-%m-%d %H:%M", &tm);
        localtime_r(&t2, &tm);
        strftime(to, sizeof(to), "%H:%M", &tm);
        gmtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
        buf_init(&b, 64 * 1024);
        buf_printf(&b, "Date: %s\r\nFrom: ", date);
        escape_header(&b, c->cfg->alert_mail_from);
        buf_adds(&b, "\r\nTo: ");
        escape_header(&b, c->cfg->alert_mail_to);
        buf_adds(&b, "\r\nSubject: Otsinka: ");
        escape_header(&b, unit);
        buf_printf(&b,
                   " — %" PRId64 "/%" PRId64 " «Задовільно»\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit"
                   "\r\n\r\n",
                   a->n1, a->n);
        buf_adds(&b, "Підрозділ: ");
        escape_header(&b, unit);
        if (manager && *manager) {
                buf_adds(&b, "\r\nКерівник: ");
                escape_header(&b, manager);
        }
        buf_printf(&b,
                   "\r\nЧас: %s–%s\r\nОцінок: %" PRId64 ", з них «Задовільно»: %" PRId64
                   "\r\nПоріг: %" PRId64 " %% з щонайменше %" PRId64 " оцінок за %" PRId64
                   " хв.\r\n",
                   from, to, a->n, a->n1, c->cfg->alert_share, c->cfg->alert_min_votes,
                   c->cfg->alert_window_s / 60);
        *ret = buf_take(&b, NULL);
        return *ret ? 0 : -ENOMEM;
}

struct upload {
        const char *data;
        size_t len, pos;
};

static size_t read_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct upload *u = userdata;
        size_t n = size * nmemb;

        if (n > u->len - u->pos)
                n = u->len - u->pos;
        memcpy(ptr, u->data + u->pos, n);
        u->pos += n;
        return n;
}

/* Sends text through the configured server; error gets libcurl's message. */
static int mail_send(struct collector *c, const char *text, char *error, size_t n)
{
        const struct collector_config *cfg = c->cfg;
        struct curl_slist *rcpt = NULL;
        struct upload up = {text, strlen(text), 0};
        char list[1024], *save = NULL, errbuf[CURL_ERROR_SIZE] = "";
        CURLcode rc;
        CURL *h;

        h = curl_easy_init();
        if (!h)
                return -ENOMEM;
        snprintf(list, sizeof(list), "%s", cfg->alert_mail_to);
        for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
                rcpt = curl_slist_append(rcpt, t);
        curl_easy_setopt(h, CURLOPT_URL, cfg->alert_smtp_url);
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, cfg->alert_mail_from);
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &up);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        /* smtp:// upgrades with STARTTLS or fails; smtps:// is TLS from the start */
        curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
        if (cfg->alert_smtp_user[0]) {
                curl_easy_setopt(h, CURLOPT_USERNAME, cfg->alert_smtp_user);
                curl_easy_setopt(h, CURLOPT_PASSWORD, cfg->alert_smtp_password);
        }
        rc = curl_easy_perform(h);
        if (rc != CURLE_OK)
                snprintf(error, n, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        curl_slist_free_all(rcpt);
        curl_easy_cleanup(h);
        return rc == CURLE_OK ? 0 : -EIO;
}

int alert_scan(struct collector *c, int64_t now_ms, size_t *ret_new)
{
        const struct collector_config *cfg = c->cfg;
        struct store *s = c->store;
        int64_t window = cfg->alert_window_s * 1000;
        struct store_report_org org = {0};
        struct store_alert_vote *votes = NULL;
        struct unit_votes *units = NULL;
        size_t n_votes = 0, n_units = 0, added = 0;
        int r;

        r = s->ops->report_org(s, &org);
        if (r >= 0)
                r = s->ops->alert_window(s, now_ms - 2 * window, now_ms, &votes, &n_votes);
        if (r < 0)
                goto out;
        /* the managed units: those with a head */
        units = calloc(org.n_units + 1, sizeof(*units));
        if (!units) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < org.n_employees; i++) {
                bool seen = false;

                if (!org.employees[i].is_head)
                        continue;
                for (size_t k = 0; k < n_units; k++)
                        seen = seen || units[k].unit_id == org.employees[i].parent;
                if (!seen && n_units < org.n_units)
                        units[n_units++].unit_id = org.employees[i].parent;
        }
        /* every vote counts for each managed unit above it (regulation 2.7) */
        for (size_t v = 0; v < n_votes && r >= 0; v++)
                for (size_t k = 0; k < n_units && r >= 0; k++)
                        if (report_in_subtree(&org, units[k].unit_id, votes[v].unit_id))
                                r = push(&units[k], votes[v].cast_at_ms, votes[v].level);
        for (size_t k = 0; k < n_units && r >= 0; k++) {
                struct store_alert *last = NULL, a;
                size_t n_last = 0;
                int64_t not_before = 0;

                if ((int64_t)units[k].n < cfg->alert_min_votes)
                        continue;
                r = s->ops->alert_list(s, units[k].unit_id, now_ms - 4 * window, 50, &last,
                                       &n_last);
                for (size_t i = 0; r >= 0 && i < n_last; i++)
                        if (last[i].unit_id == units[k].unit_id && last[i].to_ms > not_before)
                                not_before = last[i].to_ms;
                free(last);
                if (r < 0)
                        break;
                while (find_burst(&units[k], window, cfg->alert_min_votes, cfg->alert_share,
                                  not_before, &a)) {
                        const struct store_named *u =
                            report_find(org.units, org.n_units, a.unit_id);
                        const char *head = "";
                        char *mail = NULL, err[160] = "";

                        a.raised_at_ms = now_ms;
                        r = s->ops->alert_add(s, &a, &a.id);
                        if (r < 0)
                                break;
                        added++;
                        not_before = a.to_ms;
                        for (size_t i = 0; i < org.n_employees; i++)
                                if (org.employees[i].is_head &&
                                    org.employees[i].parent == a.unit_id)
                                        head = org.employees[i].name;
                        log_warn("Alert: %s: %" PRId64 " of %" PRId64
                                 " votes «Задовільно» within %" PRId64 " min",
                                 u ? u->name : "?", a.n1, a.n, cfg->alert_window_s / 60);
                        if (!cfg->alert_smtp_url[0] || !cfg->alert_mail_to[0])
                                continue;
                        if (alert_mail_text(c, &a, u ? u->name : "?", head, &mail) < 0)
                                continue;
                        if (mail_send(c, mail, err, sizeof(err)) < 0)
                                log_error("Alert mail to %s: %s", cfg->alert_mail_to, err);
                        s->ops->alert_mailed(s, a.id, now_ms, err);
                        free(mail);
                }
        }
        if (r >= 0 && ret_new)
                *ret_new = added;
out:
        for (size_t k = 0; units && k < n_units; k++) {
                free(units[k].t);
                free(units[k].level);
        }
        free(units);
        free(votes);
        store_report_org_finish(&org);
        return r;
}

struct alert_runner {
        struct collector *c;
        int interval_s; /* between alert scans */
        pthread_t thread;
        pthread_mutex_t lock; /* guards stop */
        pthread_cond_t wake;  /* signalled by alert_stop() */
        bool stop;
};

static bool stopping(struct alert_runner *a)
{
        bool stop;

        pthread_mutex_lock(&a->lock);
        stop = a->stop;
        pthread_mutex_unlock(&a->lock);
        return stop;
}

/* Folds the votes stored since the last time into the report counts, step by step (each step
 * holds the store's lock briefly), until all are in or the runner is stopped. */
static void fold(struct alert_runner *a)
{
        struct store *s = a->c->store;
        int r;

        while ((r = s->ops->report_fold(s)) > 0 && !stopping(a))
                ;
        if (r < 0)
                log_warn("Folding votes into the report counts failed (%s); trying again in %d s",
                         strerror(-r), ALERT_FOLD_S);
}

static int64_t monotonic_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec;
}

static void *run(void *arg)
{
        struct alert_runner *a = arg;
        int64_t next_scan = monotonic_s();

        pthread_mutex_lock(&a->lock);
        while (!a->stop) {
                struct timespec ts;

                pthread_mutex_unlock(&a->lock);
                fold(a);
                if (monotonic_s() >= next_scan) {
                        if (alert_scan(a->c, (int64_t)time(NULL) * 1000, NULL) < 0)
                                log_warn("Alert scan failed; trying again in %d s", a->interval_s);
                        next_scan = monotonic_s() + a->interval_s;
                }
                pthread_mutex_lock(&a->lock);
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += a->interval_s < ALERT_FOLD_S ? a->interval_s : ALERT_FOLD_S;
                while (!a->stop && pthread_cond_timedwait(&a->wake, &a->lock, &ts) == 0)
                        ;
        }
        pthread_mutex_unlock(&a->lock);
        return NULL;
}

int alert_start(struct collector *c, int interval_s, struct alert_runner **ret)
{
        struct alert_runner *a = calloc(1, sizeof(*a));
        int r;

        if (!a)
                return -ENOMEM;
        a->c = c;
        a->interval_s = interval_s > 0 ? interval_s : 60;
        pthread_mutex_init(&a->lock, NULL);
        pthread_cond_init(&a->wake, NULL);
        r = pthread_create(&a->thread, NULL, run, a);
        if (r) {
                pthread_cond_destroy(&a->wake);
                pthread_mutex_destroy(&a->lock);
                free(a);
                return -r;
        }
        *ret = a;
        return 0;
}

void alert_stop(struct alert_runner *a)
{
        if (!a)
                return;
        pthread_mutex_lock(&a->lock);
        a->stop = true;
        pthread_cond_signal(&a->wake);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
        pthread_cond_destroy(&a->wake);
        pthread_mutex_destroy(&a->lock);
        free(a);
}
