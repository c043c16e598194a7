/* SPDX-License-Identifier: MIT */
/* The terminal's expiring on-screen QR codes (regulation 3.2): a URL that opens the vote page
 * of the employee on shift, valid until a time, signed with a key the terminal pulled from the
 * collector, so that a photo of the screen soon stops working and nobody can make one without
 * the key. The terminal makes them offline; the collector verifies them.
 *
 *   <base>/s/<terminal>/<employee>/<expires>/<mac>
 *
 * expires is Unix seconds; mac is 32 lower-case hex digits: the first 16 bytes of keyed BLAKE2b
 * (libsodium crypto_generichash) over "otsinka-qr-1\n<terminal>\n<employee>\n<expires>". */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "vote.h"

#define QRTOKEN_KEY_LEN 32
#define QRTOKEN_MAC_LEN 16
#define QRTOKEN_PREFIX "/s/"

struct qrtoken {
        char terminal[VOTE_REF_MAX + 1];
        char employee[VOTE_REF_MAX + 1];
        int64_t expires; /* Unix seconds */
        uint8_t mac[QRTOKEN_MAC_LEN];
};

/* Writes the URL for base ("https://host:port", no trailing slash needed) into buf. Returns 0,
 * -EINVAL for a bad reference, -ENAMETOOLONG when it does not fit. */
int qrtoken_url(const uint8_t key[QRTOKEN_KEY_LEN], const char *base, const char *terminal,
                const char *employee, int64_t expires, char *buf, size_t n);

/* Parses the part of a path after QRTOKEN_PREFIX ("T1/E001/1790000000/<mac>"); -EINVAL for
 * anything malformed. Outside input: never reads past the NUL. */
int qrtoken_parse(const char *s, struct qrtoken *ret);

/* 0 when the mac is right and now <= expires <= now + ttl_max_s (a code valid too far ahead
 * was not made by an honest terminal); -EKEYREJECTED for a wrong mac, -ETIME when expired,
 * -ERANGE when too far ahead. Compares in constant time. */
int qrtoken_verify(const uint8_t key[QRTOKEN_KEY_LEN], const struct qrtoken *t, int64_t now,
                   int64_t ttl_max_s);
