/* SPDX-License-Identifier: MIT */
/* The terminal's uploader: the only module that talks to libcurl. A thread beside the UI
 * takes batches from the outbox, POSTs them over HTTPS (certificate checks always on, against
 * the configured CA) with the terminal's credential, and marks sent only what the collector
 * acknowledged. It retries forever with exponential backoff and jitter, and never exits for a
 * network error. With nothing to send it still sends an empty batch at start and whenever the
 * collector has not answered for 30 seconds, so that `online` is true from start-up. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sync;

struct sync_options {
        const char *url;         /* the collector's base URL, "https://host:port" */
        const char *ca_file;     /* PEM file of the CA that signed the collector's certificate */
        const char *terminal_id; /* this terminal's id */
        const char *secret;      /* this terminal's secret */
        const char *db_path;     /* the outbox file; the thread opens its own handle */
        size_t batch_max;        /* votes per request, 1..PROTO_BATCH_MAX */
        int64_t backoff_min_ms;  /* first retry delay */
        int64_t backoff_max_ms;  /* the cap */
        long connect_timeout_s;
        long transfer_timeout_s;
};

struct sync_status {
        int64_t pending;      /* votes waiting */
        int64_t rejected;     /* votes the collector refused */
        bool online;          /* the last request (votes or an empty batch) was answered 200 */
        int64_t last_ok_unix; /* wall-clock seconds of the last such answer; 0 never */
        char last_error[256]; /* why the last attempt failed; empty after a success */
};

/* Starts the thread. notify(userdata) is called from it after every attempt (keep it cheap
 * and thread-safe, e.g. ui_wake). Strings in opts are copied. */
int sync_start(const struct sync_options *opts, void (*notify)(void *), void *userdata,
               struct sync **ret);
/* A vote was added: upload soon, ending any backoff wait. Thread-safe. */
void sync_kick(struct sync *s);
void sync_get_status(struct sync *s, struct sync_status *ret);
/* Stops and joins the thread; accepts NULL. An upload under way is abandoned: its votes stay
 * pending and go again later (the collector stores them once). */
void sync_stop(struct sync *s);

/* One round trip on the calling thread, for tests and the drain benchmark: sends up to
 * batch_max pending votes. Returns the number acknowledged (0 when none waited, and then no
 * request is made), or a negative errno with a sentence in err (always NUL-terminated; err
 * may be NULL): -ECONNREFUSED / -ETIMEDOUT / -EPROTO (TLS, a bad or inconsistent answer, an
 * answer over PROTO_BODY_MAX, other 4xx) / -EACCES (401/403) / -EAGAIN (5xx, 429) /
 * -EMSGSIZE (413) / -ECONNRESET / -EHOSTUNREACH / -EINVAL (options) / the outbox's errors. */
int sync_once(const struct sync_options *opts, char *err, size_t errlen);
