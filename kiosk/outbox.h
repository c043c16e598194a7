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
 * the collector would reject (bad id, level, channel, employee or workplace). A refused vote
 * changes nothing. */
int outbox_add(struct outbox *ob, const struct vote *v);

/* Up to max of the oldest votes still waiting (in the order they were added), into votes[];
 * their count into *ret_n. */
int outbox_peek(struct outbox *ob, size_t max, struct vote *votes, size_t *ret_n);

/* Applies the collector's acknowledgement of a batch of n votes (sent[], in the order sent),
 * in one transaction: stored and duplicate ids are marked sent; rejected ones are kept as
 * rejected with their reason and never sent again. Results for ids not in sent[] are ignored,
 * and so are results for votes no longer pending. -EINVAL for a status outside the enum. */
int outbox_apply_ack(struct outbox *ob, const struct vote *sent, size_t n,
                     const struct proto_ack *ack);

struct outbox_counts {
        int64_t pending;  /* waiting to be sent */
        int64_t sent;     /* acknowledged by the collector */
        int64_t rejected; /* refused by the collector, kept with the reason */
};
int outbox_counts(struct outbox *ob, struct outbox_counts *ret);
