/* SPDX-License-Identifier: MIT */
/* The terminal's durable vote store: an SQLite file in WAL mode with synchronous=FULL, so a
 * vote is on disk when outbox_add() returns, before anyone is thanked. Votes wait in the
 * outbox until the sync marks them acknowledged; only an acknowledgement from the collector
 * moves them out. The schema is versioned (PRAGMA user_version) and migrated on open.
 * One handle per thread: the UI and the sync thread each open their own on the same file. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "vote.h"

struct outbox;

/* Opens (creating and migrating as needed) the store at path, after PRAGMA quick_check.
 * Returns 0; -EIO for a corrupt or unreadable file; -ENOSPC when the disk is full; -EROFS /
 * -EACCES when unwritable (refused here, not at the first vote); -EPROTONOSUPPORT for a
 * schema newer than this program; -EBUSY when another handle holds the lock for 5 s. */
int outbox_open(const char *path, struct outbox **ret);
void outbox_close(struct outbox *ob);

/* Stores one vote durably. Returns 0, -EEXIST for an id already stored, -ENOSPC for a full
 * disk (every vote already stored stays), -EIO for a broken file, -EINVAL for a vote that
 * the collector would reject (bad id, level, channel, employee, workplace, suppressed reason,
 * boot or mono_ms). A refused vote changes nothing. A suppressed vote is stored and sent like
 * any other (the collector keeps it as not counted). */
int outbox_add(struct outbox *ob, const struct vote *v);

/* Up to max of the oldest votes still waiting (in the order they were added), into votes[];
 * their count into *ret_n. */
int outbox_peek(struct outbox *ob, size_t max, struct vote *votes, size_t *ret_n);

/* Applies the collector's acknowledgement of a batch of n votes (sent[], in the order sent)
 * and n_events events (ack->results and ack->event_results), in one transaction: stored and
 * duplicate ids are marked sent; rejected ones are kept as rejected with their reason and
 * never sent again. Results for ids not in sent[] / sent_events[] are ignored, and so are
 * results for items no longer pending. -EINVAL for a status outside the enum. At most once
 * an hour per handle it then prunes (outbox_prune) what was sent more than 30 days ago. */
int outbox_apply_ack(struct outbox *ob, const struct vote *sent, size_t n,
                     const struct vote_event *sent_events, size_t n_events,
                     const struct proto_ack *ack);

/* Stores one event (shift opened/closed, PIN lockout) durably, like outbox_add(); -EINVAL
 * for a bad id, kind, employee, shift (a UUID or empty), detail (printable ASCII), boot or
 * mono_ms. Events are sent, acknowledged and pruned like votes. */
int outbox_add_event(struct outbox *ob, const struct vote_event *e);
/* Up to max of the oldest events still waiting, like outbox_peek(). */
int outbox_peek_events(struct outbox *ob, size_t max, struct vote_event *events, size_t *ret_n);

/* The last roster pulled from the collector (the JSON as received, and its ETag), kept so the
 * terminal works offline. save replaces the previous copy; etag may be NULL or "" (printable
 * ASCII, under 256 bytes); -EINVAL for an empty or over-PROTO_BODY_MAX json. load: -ENOENT
 * when none yet; *ret_json is malloc'd, NUL-terminated (ret_len may be NULL); -ENOBUFS when
 * the ETag does not fit etag_size (0 to skip it). */
int outbox_roster_save(struct outbox *ob, const char *json, size_t len, const char *etag);
int outbox_roster_load(struct outbox *ob, char **ret_json, size_t *ret_len, char *etag,
                       size_t etag_size);

/* Small durable state beside the votes: the enrolled credential ("terminal_id",
 * "terminal_secret"), the open shift, PIN lockouts. Keys are 1-128 bytes of printable ASCII,
 * values strings of at most 4096 bytes. get: -ENOENT when unset, -ENOBUFS when the value does
 * not fit n bytes with its NUL. set_many writes n pairs in one transaction (all or none).
 * delete: 1 when a value was deleted, 0 when there was none. */
int outbox_state_get(struct outbox *ob, const char *key, char *buf, size_t n);
int outbox_state_set(struct outbox *ob, const char *key, const char *value);
int outbox_state_set_many(struct outbox *ob, const char *const *keys, const char *const *values,
                          size_t n);
int outbox_state_delete(struct outbox *ob, const char *key);

/* Deletes sent votes and events acknowledged before before_ms (wall clock, Unix ms); never a
 * pending or rejected one. Returns how many it deleted. outbox_apply_ack() calls it. */
int outbox_prune(struct outbox *ob, int64_t before_ms);

struct outbox_counts {
        int64_t pending;  /* waiting to be sent */
        int64_t sent;     /* acknowledged by the collector */
        int64_t rejected; /* refused by the collector, kept with the reason */
        int64_t suppressed;     /* of the votes above, in any state, those stored inside
                                 * the minimum interval: kept and sent, not counted */
        int64_t events_pending; /* events waiting to be sent */
};
int outbox_counts(struct outbox *ob, struct outbox_counts *ret);
