/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "pwhash.h"

int pwhash_make(char out[static crypto_pwhash_STRBYTES], const char *secret, size_t len)
{
        return crypto_pwhash_str_alg(out, secret, len, PWHASH_OPSLIMIT, PWHASH_MEMLIMIT,
                                     crypto_pwhash_ALG_ARGON2ID13) == 0
                   ? 0
                   : -ENOMEM;
}
