/* SPDX-License-Identifier: MIT */
/* A small, thread-safe limiter of failures per client: at most max failures per window, for
 * enrollment codes now and logins later. Clients are kept only as keyed hashes of their
 * address (a key made at start), in a fixed table: when it is full the stalest entry goes, so
 * memory stays bounded whatever the traffic. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

int ratelimit_new(size_t slots, int max, int64_t window_ms, struct ratelimit **ret);
void ratelimit_free(struct ratelimit *rl);
/* True when client has had max failures within the window ending now. */
bool ratelimit_blocked(struct ratelimit *rl, const char *client, int64_t now_ms);
/* Counts one failure for client. */
void ratelimit_fail(struct ratelimit *rl, const char *client, int64_t now_ms);
