/* SPDX-License-Identifier: MIT */
/* Staff passwords and PINs are argon2id hashes of one documented cost, and hashes made before
 * (at libsodium's INTERACTIVE cost) still verify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "pwhash.h"

static void test_hash_is_argon2id_at_the_documented_cost(void **state)
{
        char hash[crypto_pwhash_STRBYTES];

        (void)state;
        assert_int_equal(pwhash_make(hash, "1234", 4), 0);
        /* m in KiB: 19 MiB; t passes; one lane */
        assert_non_null(strstr(hash, "$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_int_equal(crypto_pwhash_str_verify(hash, "1234", 4), 0);
        assert_int_not_equal(crypto_pwhash_str_verify(hash, "1235", 4), 0);
        /* salted: the same secret twice gives two hashes */
        char again[crypto_pwhash_STRBYTES];
        assert_int_equal(pwhash_make(again, "1234", 4), 0);
        assert_string_not_equal(hash, again);
        /* and the cost is high enough that a changed hash needs rehashing only when lowered */
        assert_int_equal(crypto_pwhash_str_needs_rehash(hash, PWHASH_OPSLIMIT, PWHASH_MEMLIMIT), 0);
}

static void test_older_interactive_hashes_still_verify(void **state)
{
        char old[crypto_pwhash_STRBYTES];

        (void)state;
        assert_int_equal(crypto_pwhash_str(old, "пароль-2026", strlen("пароль-2026"),
                                           crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                           crypto_pwhash_MEMLIMIT_INTERACTIVE),
                         0);
        assert_int_equal(crypto_pwhash_str_verify(old, "пароль-2026", strlen("пароль-2026")), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_hash_is_argon2id_at_the_documented_cost),
            cmocka_unit_test(test_older_interactive_hashes_still_verify),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
