/* SPDX-License-Identifier: MIT */
/* Alerts (issue 6): for every unit with a head (a manager), a burst of «Задовільно» in the
 * unit's whole subtree — at least alert-share percent of at least alert-min-votes counted votes
 * cast within alert-window seconds — is kept in the store, shown on the dashboard and, when
 * alert-smtp-url is set, mailed through that server with libcurl. A burst is found exactly:
 * every window that starts and ends at a vote is tried, not only windows ending at a check. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "collector.h"

/* One scan over the votes cast in [now_ms - 2 windows, now_ms): new bursts are kept (one per
 * unit until the votes move on past the last one) and mailed. The number of new alerts in
 * *ret_new when given. */
int alert_scan(struct collector *c, int64_t now_ms, size_t *ret_new);

/* A thread that scans every interval_s seconds until alert_stop(). Every ALERT_FOLD_S
 * seconds it also folds the votes stored meanwhile into the report counts (the store's
 * report_fold), so that storing a vote never does that work and a report finds little left. */
#define ALERT_FOLD_S 5
struct alert_runner;
int alert_start(struct collector *c, int interval_s, struct alert_runner **ret);
void alert_stop(struct alert_runner *a); /* accepts NULL */

/* The mail of one alert (RFC 5322, UTF-8), for the SMTP upload and for tests. */
int alert_mail_text(struct collector *c, const struct store_alert *a, const char *unit,
                    const char *manager, char **ret);
