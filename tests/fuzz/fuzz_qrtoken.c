/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the expiring QR codes (qrtoken.c). The input, as a NUL-terminated
 * string, is a path the collector receives after "/s/": whatever qrtoken_parse() accepts has
 * valid parts, verifies without crashing, and, made again by qrtoken_url(), parses back to the
 * same token and verifies. The same bytes also feed qrtoken_url() directly (expires from the
 * first 8, then terminal '\n' employee): whatever URL it makes must parse back. Inputs above
 * 4 KiB are skipped. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qrtoken.h"
#include "fuzzcheck.h"

#define INPUT_MAX 4096
#define BASE "https://otsinka.example.gov.ua:8443"
#define EXPIRES_MAX INT64_C(999999999999) /* 12 digits: what qrtoken_parse() reads */



/* The key the seed corpus was signed with: bytes 0, 1, ..., 31. */
static uint8_t key[QRTOKEN_KEY_LEN];

/* Makes the URL of (terminal, employee, expires) and checks it parses back and verifies. */
static void remake(const char *terminal, const char *employee, int64_t expires)
{
        char url[512];
        struct qrtoken t;

        CHECK(qrtoken_url(key, BASE, terminal, employee, expires, url, sizeof(url)) == 0);
        CHECK(strncmp(url, BASE QRTOKEN_PREFIX, strlen(BASE QRTOKEN_PREFIX)) == 0);
        CHECK(qrtoken_parse(url + strlen(BASE QRTOKEN_PREFIX), &t) == 0);
        CHECK(strcmp(t.terminal, terminal) == 0);
        CHECK(strcmp(t.employee, employee) == 0);
        CHECK(t.expires == expires);
        CHECK(qrtoken_verify(key, &t, expires, 0) == 0);
}

static void fuzz_parse(const char *s)
{
        struct qrtoken t;
        int64_t now = (int64_t)time(NULL);
        int r;

        if (qrtoken_parse(s, &t) < 0)
                return;
        CHECK(vote_ref_valid(t.terminal) && vote_ref_valid(t.employee));
        CHECK(t.expires >= 0 && t.expires <= EXPIRES_MAX);
        r = qrtoken_verify(key, &t, now, 300);
        CHECK(r == 0 || r == -EKEYREJECTED || r == -ETIME || r == -ERANGE);
        r = qrtoken_verify(key, &t, t.expires, 0); /* the time is right: only the mac counts */
        CHECK(r == 0 || r == -EKEYREJECTED);
        remake(t.terminal, t.employee, t.expires);
}

static void fuzz_url(const uint8_t *data, size_t size)
{
        char terminal[INPUT_MAX + 1], *employee, url[512];
        int64_t expires;
        size_t n;
        int r;

        if (size < sizeof(expires))
                return;
        memcpy(&expires, data, sizeof(expires));
        n = size - sizeof(expires);
        memcpy(terminal, data + sizeof(expires), n);
        terminal[n] = 0;
        employee = strchr(terminal, '\n');
        if (!employee)
                return;
        *employee++ = 0;

        r = qrtoken_url(key, BASE, terminal, employee, expires, url, sizeof(url));
        if (vote_ref_valid(terminal) && vote_ref_valid(employee) && expires >= 0 &&
            expires <= EXPIRES_MAX) {
                CHECK(r == 0); /* 512 bytes hold the longest URL */
                remake(terminal, employee, expires);
        } else {
                CHECK(r == -EINVAL);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s;

        if (size > INPUT_MAX)
                return 0;
        for (int i = 0; i < QRTOKEN_KEY_LEN; i++)
                key[i] = (uint8_t)i;
        /* an exact-size NUL-terminated copy, so that ASan sees any read past the NUL */
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        fuzz_parse(s);
        free(s);
        fuzz_url(data, size);
        return 0;
}
