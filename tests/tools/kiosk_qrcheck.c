/* SPDX-License-Identifier: MIT */
/* A helper for tests/kiosk/screens.sh, outside the terminal:
 *
 *   kiosk_qrcheck hash PIN                       prints an argon2id hash of PIN, as a roster's
 *                                                pin_hash (crypto_pwhash_str, interactive)
 *   kiosk_qrcheck verify KEYHEX URL NOW TTL      checks an on-screen QR code's URL the way the
 *                                                collector does: <base>/s/<token>, the mac right
 *                                                under KEYHEX, not expired at NOW (Unix s), not
 *                                                valid for more than TTL s; prints the token
 *
 * Exit status 0 when it succeeded, 1 when the URL was refused, 2 for bad arguments. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "qrtoken.h"

static int hash(const char *pin)
{
        char out[crypto_pwhash_STRBYTES];

        if (crypto_pwhash_str(out, pin, strlen(pin), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
                fprintf(stderr, "kiosk_qrcheck: out of memory hashing the PIN\n");
                return 1;
        }
        printf("%s\n", out);
        return 0;
}

static int verify(const char *keyhex, const char *url, const char *now_s, const char *ttl_s)
{
        uint8_t key[QRTOKEN_KEY_LEN];
        size_t key_len = 0;
        struct qrtoken t;
        const char *path;
        char *end;
        long long now, ttl;
        int r;

        if (sodium_hex2bin(key, sizeof(key), keyhex, strlen(keyhex), NULL, &key_len, NULL) < 0 ||
            key_len != sizeof(key)) {
                fprintf(stderr, "kiosk_qrcheck: the key is not %d hex bytes\n", QRTOKEN_KEY_LEN);
                return 2;
        }
        now = strtoll(now_s, &end, 10);
        if (*end || now <= 0)
                return 2;
        ttl = strtoll(ttl_s, &end, 10);
        if (*end || ttl <= 0)
                return 2;
        if (strncmp(url, "https://", 8) != 0) {
                fprintf(stderr, "kiosk_qrcheck: %s is not an https:// URL\n", url);
                return 1;
        }
        path = strstr(url + 8, QRTOKEN_PREFIX);
        if (!path || strchr(url + 8, '/') != path) {
                fprintf(stderr, "kiosk_qrcheck: %s has no path %s...\n", url, QRTOKEN_PREFIX);
                return 1;
        }
        r = qrtoken_parse(path + strlen(QRTOKEN_PREFIX), &t);
        if (r < 0) {
                fprintf(stderr, "kiosk_qrcheck: %s does not parse\n", url);
                return 1;
        }
        r = qrtoken_verify(key, &t, now, ttl);
        if (r < 0) {
                fprintf(stderr, "kiosk_qrcheck: %s refused: %s\n", url,
                        r == -EKEYREJECTED ? "wrong mac"
                        : r == -ETIME      ? "expired"
                        : r == -ERANGE     ? "valid too far ahead"
                                           : strerror(-r));
                return 1;
        }
        printf("%s %s %" PRId64 "\n", t.terminal, t.employee, t.expires);
        return 0;
}

int main(int argc, char **argv)
{
        if (sodium_init() < 0)
                return 2;
        if (argc == 3 && strcmp(argv[1], "hash") == 0)
                return hash(argv[2]);
        if (argc == 6 && strcmp(argv[1], "verify") == 0)
                return verify(argv[2], argv[3], argv[4], argv[5]);
        fprintf(stderr, "usage: kiosk_qrcheck hash PIN\n"
                        "       kiosk_qrcheck verify KEYHEX URL NOW TTL\n");
        return 2;
}
