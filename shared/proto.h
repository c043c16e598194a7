/* SPDX-License-Identifier: MIT */
/* The terminal ↔ collector wire protocol, version 1, in JSON (jansson): a batch of votes up,
 * an acknowledgement per vote down. docs/protocol.md is its reference. Decoding is strict:
 * every error message names the field ("votes[3].level: ..."). An error in the envelope
 * rejects the whole batch; an error inside one vote rejects that vote only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vote.h"

#define PROTO_VERSION 1
#define PROTO_BATCH_MAX 1000         /* votes in one batch */
#define PROTO_BODY_MAX (1024 * 1024) /* bytes in one request or response body */
#define PROTO_REASON_MAX 160         /* bytes in a rejection reason, NUL included */

/* One vote of a decoded batch. When error[0] != 0 the vote was malformed: `vote` holds what
 * could be read (its id may be empty) and error says why, naming the field. */
struct proto_vote {
        struct vote vote;
        char error[PROTO_REASON_MAX];
};

/* One event of a decoded batch; error as for votes. */
struct proto_event {
        struct vote_event event;
        char error[PROTO_REASON_MAX];
};

/* How the terminal is doing, sent with every batch for the collector's fleet view. */
#define PROTO_VERSION_STR_MAX 32
struct proto_status_report {
        bool present;
        char version[PROTO_VERSION_STR_MAX]; /* the terminal's program version */
        int64_t queue;                       /* votes and events waiting, this batch included */
        int64_t rejected;                    /* kept as rejected by the collector */
        int64_t clock_offset_ms;             /* collector's clock minus the terminal's, as the
                                              * terminal last measured it; 0 when unknown */
        char last_error[PROTO_REASON_MAX];   /* the terminal's last sync error; may be empty */
};

/* A batch of votes from one terminal. */
struct proto_batch {
        char terminal[VOTE_REF_MAX + 1]; /* the sending terminal's id */
        int64_t sent_at_ms;              /* the terminal's clock when it sent the batch */
        char boot[VOTE_ID_LEN + 1];      /* the sender's boot id; "" unknown */
        int64_t mono_ms;                 /* its CLOCK_BOOTTIME when it sent the batch */
        size_t n_votes;
        struct proto_vote *votes; /* owned; freed by proto_batch_finish() */
        size_t n_events;
        struct proto_event *events; /* owned */
        struct proto_status_report status;
};

/* Frees what the batch owns and zeroes it; accepts a zeroed or half-built batch. */
void proto_batch_finish(struct proto_batch *b);

/* Encodes a batch as a JSON object. The vote errors are not encoded. *ret_json is malloc'd
 * and owned by the caller. Returns 0 or -ENOMEM / -EINVAL (too many votes). */
int proto_batch_encode(const struct proto_batch *b, char **ret_json);

/* Decodes and validates a batch of at most PROTO_BODY_MAX bytes (json need not be
 * NUL-terminated). On success fills *ret (the caller finishes it) and returns 0. On an envelope
 * error returns -EINVAL (-EMSGSIZE when too large) and writes a message naming the field into
 * err (errlen bytes, always NUL-terminated); *ret is untouched. */
int proto_batch_decode(const char *json, size_t len, struct proto_batch *ret, char *err,
                       size_t errlen);

enum proto_status {
        PROTO_STORED = 0,    /* stored now */
        PROTO_DUPLICATE = 1, /* stored before: the terminal may forget it all the same */
        PROTO_REJECTED = 2,  /* malformed or refused: reason says why; never retried */
};
const char *proto_status_to_string(enum proto_status s);

/* The collector's answer for one vote of a batch, in the batch's order. */
struct proto_result {
        size_t index; /* the vote's position in the batch */
        vote_id id;   /* empty when the vote had no valid id */
        enum proto_status status;
        char reason[PROTO_REASON_MAX]; /* empty unless rejected */
};

struct proto_ack {
        int64_t server_time_ms; /* the collector's clock, for the terminal's clock check */
        size_t n_results;
        struct proto_result *results;       /* owned; freed by proto_ack_finish() */
        size_t n_event_results;             /* one per event of the batch, in its order */
        struct proto_result *event_results; /* owned */
};

void proto_ack_finish(struct proto_ack *a);
int proto_ack_encode(const struct proto_ack *a, char **ret_json);
int proto_ack_decode(const char *json, size_t len, struct proto_ack *ret, char *err, size_t errlen);

/* An error body: {"protocol":1,"error":"<message>"}; malloc'd. */
int proto_error_encode(const char *message, char **ret_json);
/* The message of an error body, for a person to read: printable ASCII only (anything else
 * becomes '?'), cut to n - 1 bytes, always NUL-terminated. A body that is not an error
 * object is quoted as it is, under the same rules; an empty one gives -ENODATA. */
int proto_error_decode(const char *json, size_t len, char *buf, size_t n);
