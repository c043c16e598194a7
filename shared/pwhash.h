/* SPDX-License-Identifier: MIT */
/* Hashes of human secrets (staff passwords, shift PINs): argon2id strings from libsodium, one
 * cost for the whole product.
 *
 * The cost is OWASP's argon2id minimum (19 MiB of memory, 2 passes) rather than libsodium's
 * INTERACTIVE (64 MiB): a sign-in on the collector then stays inside its 60 MB budget, and a
 * shift login on a 1 GB counter terminal does not grow it by 64 MiB. A hash keeps its own cost,
 * so older hashes made with more still verify (at their cost). */
#pragma once

#include <stddef.h>

#include <sodium.h>

#define PWHASH_OPSLIMIT 2ULL
#define PWHASH_MEMLIMIT (19UL * 1024 * 1024)

/* Hashes secret (len bytes) into out: 0, or -ENOMEM when the memory is not there. */
int pwhash_make(char out[static crypto_pwhash_STRBYTES], const char *secret, size_t len);
