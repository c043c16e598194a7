/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the wire protocol: every input goes to both decoders. Whatever they
 * accept must encode, decode again and come out equal; every error message must be printable,
 * bounded ASCII. Inputs above 64 KiB are skipped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "fuzzcheck.h"

#define INPUT_MAX (64 * 1024)



static void check_message(const char *msg, size_t size)
{
        size_t n = strnlen(msg, size);

        CHECK(n < size);
        for (size_t i = 0; i < n; i++)
                CHECK(msg[i] >= 0x20 && msg[i] <= 0x7e);
}

static void check_same_vote(const struct proto_vote *a, const struct proto_vote *b)
{
        /* a malformed vote comes back malformed, under the same id (possibly empty) */
        CHECK(strcmp(a->vote.id.s, b->vote.id.s) == 0);
        CHECK(!a->error[0] == !b->error[0]);
        if (a->error[0])
                return;
        CHECK(a->vote.level == b->vote.level);
        CHECK(strcmp(a->vote.channel, b->vote.channel) == 0);
        CHECK(strcmp(a->vote.employee, b->vote.employee) == 0);
        CHECK(strcmp(a->vote.workplace, b->vote.workplace) == 0);
        CHECK(strcmp(a->vote.shift, b->vote.shift) == 0);
        CHECK(a->vote.cast_at_ms == b->vote.cast_at_ms);
}

static void fuzz_batch(const char *json, size_t len)
{
        struct proto_batch a = {0}, b = {0};
        char err[256], *text = NULL;

        if (proto_batch_decode(json, len, &a, err, sizeof(err)) < 0) {
                check_message(err, sizeof(err));
                return;
        }
        CHECK(a.n_votes <= PROTO_BATCH_MAX);
        for (size_t i = 0; i < a.n_votes; i++)
                check_message(a.votes[i].error, sizeof(a.votes[i].error));

        CHECK(proto_batch_encode(&a, &text) == 0);
        if (proto_batch_decode(text, strlen(text), &b, err, sizeof(err)) < 0) {
                fprintf(stderr, "re-encoded batch refused: %s\n%s\n", err, text);
                abort();
        }
        CHECK(strcmp(a.terminal, b.terminal) == 0);
        CHECK(a.sent_at_ms == b.sent_at_ms);
        CHECK(a.n_votes == b.n_votes);
        for (size_t i = 0; i < a.n_votes; i++)
                check_same_vote(&a.votes[i], &b.votes[i]);

        free(text);
        proto_batch_finish(&b);
        proto_batch_finish(&a);
}

static void fuzz_ack(const char *json, size_t len)
{
        struct proto_ack a = {0}, b = {0};
        char err[256], *text = NULL;

        if (proto_ack_decode(json, len, &a, err, sizeof(err)) < 0) {
                check_message(err, sizeof(err));
                return;
        }
        CHECK(a.n_results <= PROTO_BATCH_MAX);
        /* the encoder refuses exactly what the decoder would, so this must pass */
        CHECK(proto_ack_encode(&a, &text) == 0);
        if (proto_ack_decode(text, strlen(text), &b, err, sizeof(err)) < 0) {
                fprintf(stderr, "re-encoded ack refused: %s\n%s\n", err, text);
                abort();
        }
        CHECK(a.server_time_ms == b.server_time_ms);
        CHECK(a.n_results == b.n_results);
        for (size_t i = 0; i < a.n_results; i++) {
                const struct proto_result *x = &a.results[i], *y = &b.results[i];

                CHECK(x->index == i && y->index == i);
                CHECK(x->status == y->status);
                CHECK(strcmp(x->id.s, y->id.s) == 0);
                CHECK(strcmp(x->reason, y->reason) == 0);
        }

        free(text);
        proto_ack_finish(&b);
        proto_ack_finish(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *copy;

        if (size > INPUT_MAX)
                return 0;
        /* an exact-size copy, so that ASan sees any read past the end */
        copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        fuzz_batch(copy, size);
        fuzz_ack(copy, size);
        free(copy);
        return 0;
}
