/* SPDX-License-Identifier: MIT */
/* The terminal's expiring on-screen QR codes (shared/qrtoken.h): the URL has exactly the
 * documented form and its mac is keyed BLAKE2b over the documented message; what the terminal
 * makes the collector parses and accepts; a changed, expired, too-early or foreign-key code is
 * refused with its own error; any malformed path is refused by the parser. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "qrtoken.h"

#define EXPIRES INT64_C(1790000000)
#define TTL 300

static uint8_t key[QRTOKEN_KEY_LEN];

/* The mac as qrtoken.h documents it, computed here independently: the first 16 bytes of
 * keyed BLAKE2b over "otsinka-qr-1\n<terminal>\n<employee>\n<expires>", in lower-case hex. */
static void documented_mac(const uint8_t *k, const char *terminal, const char *employee,
                           int64_t expires, char hex[static 2 * QRTOKEN_MAC_LEN + 1])
{
        char msg[256];
        unsigned char mac[QRTOKEN_MAC_LEN];
        int n = snprintf(msg, sizeof(msg), "otsinka-qr-1\n%s\n%s\n%" PRId64, terminal, employee,
                         expires);

        assert_true(n > 0 && (size_t)n < sizeof(msg));
        assert_int_equal(crypto_generichash(mac, sizeof(mac), (const unsigned char *)msg, (size_t)n,
                                            k, QRTOKEN_KEY_LEN),
                         0);
        sodium_bin2hex(hex, 2 * QRTOKEN_MAC_LEN + 1, mac, sizeof(mac));
}

/* The path after "/s/" of a URL made by qrtoken_url() over base. */
static const char *path_of(const char *url, const char *base)
{
        size_t n = strlen(base);

        while (n > 0 && base[n - 1] == '/')
                n--;
        assert_memory_equal(url, base, n);
        assert_memory_equal(url + n, QRTOKEN_PREFIX, strlen(QRTOKEN_PREFIX));
        return url + n + strlen(QRTOKEN_PREFIX);
}

static void test_url_format(void **state)
{
        char url[512], want[512], hex[2 * QRTOKEN_MAC_LEN + 1];
        static const char *const bases[] = {"https://otsinka.example.gov.ua",
                                            "https://otsinka.example.gov.ua/",
                                            "https://otsinka.example.gov.ua//"};

        documented_mac(key, "T001", "E001", EXPIRES, hex);
        snprintf(want, sizeof(want), "https://otsinka.example.gov.ua/s/T001/E001/1790000000/%s",
                 hex);
        for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
                assert_int_equal(
                    qrtoken_url(key, bases[i], "T001", "E001", EXPIRES, url, sizeof(url)), 0);
                assert_string_equal(url, want);
        }

        /* a port and a path in the base are kept; refs use their whole alphabet */
        documented_mac(key, "T-1.a_b", "e.00_7-X", 0, hex);
        snprintf(want, sizeof(want), "https://h.example:8443/kyiv/s/T-1.a_b/e.00_7-X/0/%s", hex);
        assert_int_equal(qrtoken_url(key, "https://h.example:8443/kyiv/", "T-1.a_b", "e.00_7-X", 0,
                                     url, sizeof(url)),
                         0);
        assert_string_equal(url, want);

        /* exactly 32 lower-case hex digits */
        assert_int_equal(strlen(hex), 32);
        for (const char *p = hex; *p; p++)
                assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
}

static void test_url_refuses(void **state)
{
        char url[512], small[64];
        size_t need;

        memset(url, 0x5a, sizeof(url));
        assert_int_equal(qrtoken_url(key, "https://h", "T 1", "E001", EXPIRES, url, sizeof(url)),
                         -EINVAL);
        assert_int_equal(qrtoken_url(key, "https://h", "T1", "", EXPIRES, url, sizeof(url)),
                         -EINVAL);
        assert_int_equal(qrtoken_url(key, "https://h", "T1", "E/1", EXPIRES, url, sizeof(url)),
                         -EINVAL);
        assert_int_equal(qrtoken_url(key, "https://h", NULL, "E1", EXPIRES, url, sizeof(url)),
                         -EINVAL);
        assert_int_equal(qrtoken_url(key, NULL, "T1", "E1", EXPIRES, url, sizeof(url)), -EINVAL);
        assert_int_equal(qrtoken_url(key, "https://h", "T1", "E1", -1, url, sizeof(url)), -EINVAL);
        /* what qrtoken_parse() cannot read back is not made: expires has at most 12 digits */
        assert_int_equal(
            qrtoken_url(key, "https://h", "T1", "E1", INT64_C(999999999999), url, sizeof(url)), 0);
        assert_int_equal(
            qrtoken_url(key, "https://h", "T1", "E1", INT64_C(1000000000000), url, sizeof(url)),
            -EINVAL);
        assert_int_equal(qrtoken_url(key, "https://h", "T1", "E1", INT64_MAX, url, sizeof(url)),
                         -EINVAL);

        /* the buffer: exactly enough is enough, one byte less is -ENAMETOOLONG */
        assert_int_equal(qrtoken_url(key, "https://h", "T1", "E1", EXPIRES, url, sizeof(url)), 0);
        need = strlen(url) + 1;
        assert_true(need <= sizeof(small));
        assert_int_equal(qrtoken_url(key, "https://h", "T1", "E1", EXPIRES, small, need), 0);
        assert_string_equal(small, url);
        assert_int_equal(qrtoken_url(key, "https://h", "T1", "E1", EXPIRES, small, need - 1),
                         -ENAMETOOLONG);
}

/* qrtoken_url() then qrtoken_parse() of its path. */
static void make(const char *terminal, const char *employee, int64_t expires, struct qrtoken *ret)
{
        char url[512];

        assert_int_equal(
            qrtoken_url(key, "https://h.example", terminal, employee, expires, url, sizeof(url)),
            0);
        assert_int_equal(qrtoken_parse(path_of(url, "https://h.example"), ret), 0);
}

static void test_parse_then_verify(void **state)
{
        char hex[2 * QRTOKEN_MAC_LEN + 1], longest[VOTE_REF_MAX + 1];
        uint8_t mac[QRTOKEN_MAC_LEN];
        struct qrtoken t;

        make("T001", "E001", EXPIRES, &t);
        assert_string_equal(t.terminal, "T001");
        assert_string_equal(t.employee, "E001");
        assert_int_equal(t.expires, EXPIRES);
        documented_mac(key, "T001", "E001", EXPIRES, hex);
        assert_int_equal(sodium_hex2bin(mac, sizeof(mac), hex, strlen(hex), NULL, NULL, NULL), 0);
        assert_memory_equal(t.mac, mac, sizeof(mac));

        /* valid for now <= expires <= now + ttl, both ends included */
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES - 100, TTL), 0);
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES, TTL), 0);
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES - TTL, TTL), 0);

        /* references of 64 characters and expires of 12 digits */
        memset(longest, 'R', VOTE_REF_MAX);
        longest[VOTE_REF_MAX] = 0;
        make(longest, longest, INT64_C(999999999999), &t);
        assert_string_equal(t.terminal, longest);
        assert_string_equal(t.employee, longest);
        assert_int_equal(t.expires, INT64_C(999999999999));
        assert_int_equal(qrtoken_verify(key, &t, INT64_C(999999999999), 0), 0);
        make("T1", "E1", 0, &t);
        assert_int_equal(t.expires, 0);
        assert_int_equal(qrtoken_verify(key, &t, 0, TTL), 0);
}

static void test_verify_rejects(void **state)
{
        uint8_t other[QRTOKEN_KEY_LEN];
        struct qrtoken good, t;

        make("T001", "E001", EXPIRES, &good);

        /* anything changed after signing: the mac no longer matches */
        t = good;
        strcpy(t.terminal, "T002");
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES, TTL), -EKEYREJECTED);
        t = good;
        strcpy(t.employee, "E002");
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES, TTL), -EKEYREJECTED);
        t = good;
        t.expires = EXPIRES + 60; /* a photo of the screen with a later time written in */
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES, TTL), -EKEYREJECTED);
        for (size_t i = 0; i < QRTOKEN_MAC_LEN; i++) {
                t = good;
                t.mac[i] ^= 0x01;
                assert_int_equal(qrtoken_verify(key, &t, EXPIRES, TTL), -EKEYREJECTED);
        }
        /* another terminal's key */
        memcpy(other, key, sizeof(other));
        other[31] ^= 0x80;
        assert_int_equal(qrtoken_verify(other, &good, EXPIRES, TTL), -EKEYREJECTED);

        /* expired: one second late is too late */
        assert_int_equal(qrtoken_verify(key, &good, EXPIRES + 1, TTL), -ETIME);
        assert_int_equal(qrtoken_verify(key, &good, EXPIRES + 86400, TTL), -ETIME);
        /* valid too far ahead: no honest terminal makes that */
        assert_int_equal(qrtoken_verify(key, &good, EXPIRES - TTL - 1, TTL), -ERANGE);
        assert_int_equal(qrtoken_verify(key, &good, 0, TTL), -ERANGE);

        /* the mac is checked first: a forged code says nothing about its time */
        t = good;
        t.mac[0] ^= 0x01;
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES + 1, TTL), -EKEYREJECTED);
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES - TTL - 1, TTL), -EKEYREJECTED);
        assert_int_equal(qrtoken_verify(other, &good, EXPIRES + 1, TTL), -EKEYREJECTED);

        /* a struct that did not come from the parser */
        t = good;
        strcpy(t.terminal, "T 1");
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES, TTL), -EINVAL);
        t = good;
        t.employee[0] = 0;
        assert_int_equal(qrtoken_verify(key, &t, EXPIRES, TTL), -EINVAL);
}

#define MAC "0123456789abcdef0123456789abcdef"

static void test_parse_rejects(void **state)
{
        char ref65[VOTE_REF_MAX + 2], path[256];
        static const char *const bad[] = {
            "",
            "/",
            "T1",
            "T1/",
            "T1/E1",
            "T1/E1/",
            "T1/E1/1790000000",
            "T1/E1/1790000000/",
            "T1/E1/" MAC,
            "T1/1790000000/" MAC,
            /* an extra segment, wherever it is */
            "T1/E1/1790000000/" MAC "/x",
            "T1/E1/1790000000/x/" MAC,
            "T1/E1/x/1790000000/" MAC,
            "x/T1/E1/1790000000/" MAC,
            /* a trailing slash, a query, a fragment */
            "T1/E1/1790000000/" MAC "/",
            "T1/E1/1790000000/" MAC "?utm=1",
            "T1/E1/1790000000/" MAC "#x",
            /* empty segments */
            "/T1/E1/1790000000/" MAC,
            "/E1/1790000000/" MAC,
            "T1//1790000000/" MAC,
            "T1/E1//" MAC,
            "T1//E1/1790000000/" MAC,
            /* the mac: upper case, not hex, short, long */
            "T1/E1/1790000000/0123456789ABCDEF0123456789abcdef",
            "T1/E1/1790000000/0123456789abcdef0123456789abcdeg",
            "T1/E1/1790000000/0123456789abcdef0123456789abcde",
            "T1/E1/1790000000/0123456789abcdef0123456789abcdef0",
            "T1/E1/1790000000/0123456789abcdef 123456789abcdef",
            "T1/E1/1790000000/0x23456789abcdef0123456789abcdef",
            /* expires: not digits, a sign, spaces, 13 digits */
            "T1/E1/179000000O/" MAC,
            "T1/E1/-1790000000/" MAC,
            "T1/E1/+1790000000/" MAC,
            "T1/E1/ 1790000000/" MAC,
            "T1/E1/1790000000 /" MAC,
            "T1/E1/1.79e9/" MAC,
            "T1/E1/0x6AB0D780/" MAC,
            "T1/E1/1790000000000/" MAC,
            "T1/E1/99999999999999999999999/" MAC,
            /* references: characters outside A-Z a-z 0-9 . _ - */
            "T 1/E1/1790000000/" MAC,
            "T%201/E1/1790000000/" MAC,
            "T1/E:1/1790000000/" MAC,
            "T1/E\\1/1790000000/" MAC,
            "\xd0\xa2"
            "1/E1/1790000000/" MAC,
            "T1/E1\n/1790000000/" MAC,
        };
        struct qrtoken t, untouched;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&t, 0x5a, sizeof(t));
                untouched = t;
                print_message("case %zu: \"%s\"\n", i, bad[i]);
                assert_int_equal(qrtoken_parse(bad[i], &t), -EINVAL);
                assert_memory_equal(&t, &untouched, sizeof(t));
        }
        assert_int_equal(qrtoken_parse(NULL, &t), -EINVAL);

        /* the same shape with valid parts passes: the cases above fail for their one flaw */
        assert_int_equal(qrtoken_parse("T1/E1/1790000000/" MAC, &t), 0);
        assert_int_equal(qrtoken_parse("T1/E1/999999999999/" MAC, &t), 0);
        assert_int_equal(t.expires, INT64_C(999999999999));

        /* 65 characters of reference, in either place */
        memset(ref65, 'R', VOTE_REF_MAX + 1);
        ref65[VOTE_REF_MAX + 1] = 0;
        snprintf(path, sizeof(path), "%s/E1/1790000000/" MAC, ref65);
        assert_int_equal(qrtoken_parse(path, &t), -EINVAL);
        snprintf(path, sizeof(path), "T1/%s/1790000000/" MAC, ref65);
        assert_int_equal(qrtoken_parse(path, &t), -EINVAL);
        ref65[VOTE_REF_MAX] = 0;
        snprintf(path, sizeof(path), "%s/%s/1790000000/" MAC, ref65, ref65);
        assert_int_equal(qrtoken_parse(path, &t), 0);
}

static void test_parse_stops_at_nul(void **state)
{
        static const char full[] = "T1/E1/1790000000/" MAC;
        struct qrtoken t;

        /* every proper prefix, in an exact-size buffer, so that ASan sees a read past the NUL */
        for (size_t n = 0; n < sizeof(full) - 1; n++) {
                char *s = malloc(n + 1);

                assert_non_null(s);
                memcpy(s, full, n);
                s[n] = 0;
                assert_int_equal(qrtoken_parse(s, &t), -EINVAL);
                free(s);
        }
}

static int setup(void **state)
{
        if (sodium_init() < 0)
                return -1;
        for (int i = 0; i < QRTOKEN_KEY_LEN; i++)
                key[i] = (uint8_t)(i * 7 + 1);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_url_format),        cmocka_unit_test(test_url_refuses),
            cmocka_unit_test(test_parse_then_verify), cmocka_unit_test(test_verify_rejects),
            cmocka_unit_test(test_parse_rejects),     cmocka_unit_test(test_parse_stops_at_nul),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
