/* SPDX-License-Identifier: MIT */
/* Failure counting per client in a fixed table of keyed hashes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

struct slot {
        uint8_t id[16];   /* keyed hash of the client's address; all zero = free */
        int64_t since_ms; /* start of the current window */
        int fails;
};

struct ratelimit {
        pthread_mutex_t lock;
        uint8_t key[crypto_generichash_KEYBYTES];
        int max;
        int64_t window_ms;
        size_t n;
        struct slot slots[];
};

int ratelimit_new(size_t slots, int max, int64_t window_ms, struct ratelimit **ret)
{
        struct ratelimit *rl;

        if (slots == 0 || max < 1 || window_ms < 1)
                return -EINVAL;
        rl = calloc(1, sizeof(*rl) + slots * sizeof(rl->slots[0]));
        if (!rl)
                return -ENOMEM;
        pthread_mutex_init(&rl->lock, NULL);
        randombytes_buf(rl->key, sizeof(rl->key));
        rl->max = max;
        rl->window_ms = window_ms;
        rl->n = slots;
        *ret = rl;
        return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
        if (!rl)
                return;
        pthread_mutex_destroy(&rl->lock);
        sodium_memzero(rl->key, sizeof(rl->key));
        free(rl);
}

/* Which slot to give up for a new client: a free or expired one, else the one with the
 * fewest failures (the oldest of those). Never simply the oldest: a flood of one-off junk
 * clients would then push out the client that is actually locked out. */
static bool better_victim(const struct ratelimit *rl, const struct slot *a, const struct slot *b,
                          int64_t now_ms)
{
        bool a_done = now_ms - a->since_ms >= rl->window_ms,
             b_done = now_ms - b->since_ms >= rl->window_ms;

        if (a_done != b_done)
                return a_done;
        if (a->fails != b->fails)
                return a->fails < b->fails;
        return a->since_ms < b->since_ms;
}

/* The client's slot, or NULL; with create, a slot chosen by better_victim() made the
 * client's. */
static struct slot *find(struct ratelimit *rl, const char *client, int64_t now_ms, bool create)
{
        uint8_t id[16];
        struct slot *stalest = &rl->slots[0];

        crypto_generichash(id, sizeof(id), (const unsigned char *)client, strlen(client), rl->key,
                           sizeof(rl->key));
        for (size_t i = 0; i < rl->n; i++) {
                struct slot *s = &rl->slots[i];

                if (memcmp(s->id, id, sizeof(id)) == 0) {
                        if (now_ms - s->since_ms >= rl->window_ms) {
                                s->since_ms = now_ms;
                                s->fails = 0;
                        }
                        return s;
                }
                if (better_victim(rl, s, stalest, now_ms))
                        stalest = s;
        }
        if (!create)
                return NULL;
        memcpy(stalest->id, id, sizeof(id));
        stalest->since_ms = now_ms;
        stalest->fails = 0;
        return stalest;
}

bool ratelimit_blocked(struct ratelimit *rl, const char *client, int64_t now_ms)
{
        struct slot *s;
        bool blocked;

        pthread_mutex_lock(&rl->lock);
        s = find(rl, client, now_ms, false);
        blocked = s && s->fails >= rl->max;
        pthread_mutex_unlock(&rl->lock);
        return blocked;
}

void ratelimit_fail(struct ratelimit *rl, const char *client, int64_t now_ms)
{
        pthread_mutex_lock(&rl->lock);
        find(rl, client, now_ms, true)->fails++;
        pthread_mutex_unlock(&rl->lock);
}
