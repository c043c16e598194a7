/* SPDX-License-Identifier: MIT */
/* Expiring on-screen QR codes: made offline by the terminal, verified by the collector. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "qrtoken.h"

/* expires has at most 12 digits on the wire (qrtoken_parse()): year 33658 is far enough. */
#define EXPIRES_MAX INT64_C(999999999999)

/* The signed message; both sides build it here so they cannot drift apart. */
static void mac_compute(const uint8_t key[QRTOKEN_KEY_LEN], const char *terminal,
                        const char *employee, int64_t expires, uint8_t mac[QRTOKEN_MAC_LEN])
{
        char msg[32 + 2 * VOTE_REF_MAX + 24];
        int n = snprintf(msg, sizeof(msg), "otsinka-qr-1\n%s\n%s\n%" PRId64, terminal, employee,
                         expires);

        crypto_generichash(mac, QRTOKEN_MAC_LEN, (const unsigned char *)msg, (size_t)n, key,
                           QRTOKEN_KEY_LEN);
}

int qrtoken_url(const uint8_t key[QRTOKEN_KEY_LEN], const char *base, const char *terminal,
                const char *employee, int64_t expires, char *buf, size_t n)
{
        uint8_t mac[QRTOKEN_MAC_LEN];
        char hex[2 * QRTOKEN_MAC_LEN + 1];
        size_t blen;
        int len;

        if (!base || !vote_ref_valid(terminal) || !vote_ref_valid(employee) || expires < 0 ||
            expires > EXPIRES_MAX)
                return -EINVAL;
        blen = strlen(base);
        while (blen > 0 && base[blen - 1] == '/')
                blen--;
        mac_compute(key, terminal, employee, expires, mac);
        sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
        len = snprintf(buf, n, "%.*s" QRTOKEN_PREFIX "%s/%s/%" PRId64 "/%s", (int)blen, base,
                       terminal, employee, expires, hex);
        if (len < 0 || (size_t)len >= n)
                return -ENAMETOOLONG;
        return 0;
}

/* Copies one '/'-terminated segment of [A-Za-z0-9._-] into dst; returns the rest, or NULL. */
static const char *segment(const char *s, char *dst, size_t n)
{
        size_t i = 0;

        while (s[i] && s[i] != '/') {
                if (i + 1 >= n)
                        return NULL;
                dst[i] = s[i];
                i++;
        }
        dst[i] = 0;
        return s[i] == '/' ? s + i + 1 : s + i;
}

int qrtoken_parse(const char *s, struct qrtoken *ret)
{
        struct qrtoken t = {0};
        char num[24], hex[2 * QRTOKEN_MAC_LEN + 2];
        size_t bin_len = 0;
        int64_t v = 0;

        if (!s)
                return -EINVAL;
        s = segment(s, t.terminal, sizeof(t.terminal));
        if (!s || !vote_ref_valid(t.terminal))
                return -EINVAL;
        s = segment(s, t.employee, sizeof(t.employee));
        if (!s || !vote_ref_valid(t.employee))
                return -EINVAL;
        s = segment(s, num, sizeof(num));
        if (!s || !num[0] || strlen(num) > 12) /* so that v <= EXPIRES_MAX */
                return -EINVAL;
        for (const char *p = num; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (*p - '0');
        }
        t.expires = v;
        /* The mac is the last segment: exactly 32 hex digits and nothing after them. */
        if (strlen(s) != 2 * QRTOKEN_MAC_LEN)
                return -EINVAL;
        memcpy(hex, s, 2 * QRTOKEN_MAC_LEN + 1);
        for (const char *p = hex; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return -EINVAL;
        if (sodium_hex2bin(t.mac, sizeof(t.mac), hex, 2 * QRTOKEN_MAC_LEN, NULL, &bin_len, NULL) <
                0 ||
            bin_len != QRTOKEN_MAC_LEN)
                return -EINVAL;
        *ret = t;
        return 0;
}

int qrtoken_verify(const uint8_t key[QRTOKEN_KEY_LEN], const struct qrtoken *t, int64_t now,
                   int64_t ttl_max_s)
{
        uint8_t mac[QRTOKEN_MAC_LEN];

        if (!vote_ref_valid(t->terminal) || !vote_ref_valid(t->employee))
                return -EINVAL;
        mac_compute(key, t->terminal, t->employee, t->expires, mac);
        if (sodium_memcmp(mac, t->mac, QRTOKEN_MAC_LEN) != 0)
                return -EKEYREJECTED;
        if (t->expires < now)
                return -ETIME;
        if (t->expires > now + ttl_max_s)
                return -ERANGE;
        return 0;
}
