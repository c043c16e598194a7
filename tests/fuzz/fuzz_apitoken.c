/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the API tokens' readers of outside input: apitoken_parse_header(), the
 * Authorization header of any request to the reports, and apitoken_parse_expiry(), the expiry
 * day typed into the tokens page. A header that parses must name exactly one token of ours:
 * APITOKEN_LEN characters inside the input, starting with the prefix, with only spaces after
 * it; an expiry that parses must be after now. Inputs above 4 KiB are skipped. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apitoken.h"
#include "fuzzcheck.h"
#include "period.h"

#define INPUT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int zone_set;
        const int64_t now = 1795000000; /* 2026-11-18 */
        const char *text = NULL;
        int64_t end = 0;
        char *input;
        int r;

        if (size > INPUT_MAX)
                return 0;
        if (!zone_set) {
                CHECK(period_set_zone("Europe/Kyiv") == 0);
                zone_set = 1;
        }
        input = malloc(size + 1);
        CHECK(input);
        memcpy(input, data, size);
        input[size] = 0;

        r = apitoken_parse_header(input, &text);
        CHECK(r == 0 || r == -ENOENT || r == -EINVAL);
        if (r == 0) {
                size_t at = (size_t)(text - input);

                CHECK(text >= input && at + APITOKEN_LEN <= strlen(input));
                CHECK(strncmp(text, APITOKEN_PREFIX, strlen(APITOKEN_PREFIX)) == 0);
                CHECK(text[APITOKEN_LEN + strspn(text + APITOKEN_LEN, " ")] == 0);
                CHECK(memchr(text, ' ', APITOKEN_LEN) == NULL);
        }

        r = apitoken_parse_expiry(input, now, &end);
        CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r == 0)
                CHECK(end > now && strlen(input) == 10);
        free(input);
        return 0;
}
