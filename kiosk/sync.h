/* SPDX-License-Identifier: MIT */
/* The terminal's uploader: the only module that talks to libcurl. A thread beside the UI
 * takes batches of votes and events from the outbox, POSTs them over HTTPS (certificate checks
 * always on, against the configured CA) with the terminal's credential and status, and marks
 * sent only what the collector acknowledged. It retries forever with exponential backoff and
 * jitter, and never exits for a network error. With nothing to send it still sends an empty
 * batch at start and whenever the collector has not answered for 30 seconds, so that `online`
 * is true from start-up. Without a credential it first enrolls with the one-time code (and
 * keeps the credential in the outbox's state); it pulls the roster into the outbox at start,
 * after uploads and every 5 minutes. A 401/403 stops it (`unauthorized`) until restarted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sync;

struct sync_options {
        const char *url;         /* the collector's base URL, "https://host:port" */
        const char *ca_file;     /* PEM file of the CA that signed the collector's certificate */
        const char *terminal_id; /* this terminal's id; NULL/"" to use the enrolled one */
        const char *secret;      /* this terminal's secret; as terminal_id */
        const char *enroll_code; /* a one-time code: enroll first when there is no credential
                                  * (the credential is then kept in the outbox's state) */
        const char *version;     /* reported in the batch status; NULL = OTSINKA_VERSION */
        const char *db_path;     /* the outbox file; the thread opens its own handle */
        size_t batch_max;        /* votes per request, 1..PROTO_BATCH_MAX */
        int64_t backoff_min_ms;  /* first retry delay */
        int64_t backoff_max_ms;  /* the cap */
        long connect_timeout_s;
        long transfer_timeout_s;
};

struct sync_status {
        int64_t pending;         /* votes waiting */
        int64_t rejected;        /* votes the collector refused */
        bool online;             /* the last request (votes or an empty batch) was answered 200 */
        int64_t last_ok_unix;    /* wall-clock seconds of the last such answer; 0 never */
        char last_error[256];    /* why the last attempt failed; empty after a success */
        bool unauthorized;       /* the collector answered 401/403: revoked or unknown; the
                                  * uploader then sends nothing more until restarted */
        bool enrolled;           /* a credential is known (configured or enrolled) */
        bool clock_known;        /* clock_offset_ms was measured */
        int64_t clock_offset_ms; /* collector's clock minus ours, from the last answer */
        uint64_t roster_version; /* bumped whenever a new roster was saved to the outbox */
        int64_t events_pending;
        /* How the latest code given by sync_enroll() fared: enroll_seq counts the attempts
         * that ended, enroll_error says how the last one did ("" = enrolled with it). */
        uint64_t enroll_seq;
        char enroll_error[256];
};

/* Starts the thread. notify(userdata) is called from it after every attempt (keep it cheap
 * and thread-safe, e.g. ui_wake). Strings in opts are copied. */
int sync_start(const struct sync_options *opts, void (*notify)(void *), void *userdata,
               struct sync **ret);
/* A vote was added: upload soon, ending any backoff wait. Thread-safe. */
void sync_kick(struct sync *s);
void sync_get_status(struct sync *s, struct sync_status *ret);
/* A new one-time enrollment code, typed in the staff menu: the thread forgets its credential
 * (configured or enrolled), enrolls with the code, and goes on — also after a 401 stopped it.
 * Thread-safe. -EINVAL for an empty or malformed code. */
int sync_enroll(struct sync *s, const char *code);
/* Stops and joins the thread; accepts NULL. An upload under way is abandoned: its votes stay
 * pending and go again later (the collector stores them once). */
void sync_stop(struct sync *s);

/* One round trip on the calling thread, for tests and the drain benchmark: sends up to
 * batch_max pending votes and up to batch_max pending events (enrolling first when there is
 * no credential, as the thread does). Returns the number acknowledged, votes and events
 * together (0 when none waited, and then no request is made), or a negative errno with a
 * sentence in err (always NUL-terminated; err may be NULL): -ECONNREFUSED / -ETIMEDOUT /
 * -EPROTO (TLS, a bad or inconsistent answer, an answer over PROTO_BODY_MAX, other 4xx) /
 * -EACCES (401/403: "not authorised: revoked or unknown terminal ...") / -EAGAIN (5xx, 429) /
 * -EMSGSIZE (413) / -ECONNRESET / -EHOSTUNREACH / -EINVAL (options) / -ENOKEY (no credential
 * and no enrollment code) / -EKEYREJECTED (the enrollment code was refused) / the outbox's
 * errors. */
int sync_once(const struct sync_options *opts, char *err, size_t errlen);

/* One pull of the roster on the calling thread (GET /api/v1/terminal with If-None-Match of
 * the kept ETag), enrolling first like sync_once(). Returns 1 when a new roster was saved in
 * the outbox, 0 when nothing changed (304, or the copy already kept), -EBADMSG when the
 * collector's roster was refused (it does not decode, or names another terminal: the old copy
 * stays), or the errors of sync_once(). */
int sync_pull_once(const struct sync_options *opts, char *err, size_t errlen);
