/* SPDX-License-Identifier: MIT */
/* libFuzzer target for form_get(), the reader of the vote page's POST body, and cookie_get(),
 * the reader of the Cookie header. The first byte
 * is the field name's length, the next bytes the name, the rest the form data. Each input is
 * read into buffers of several exact sizes: a value must come back NUL-terminated inside the
 * buffer with the returned length, and a small buffer may only turn a result into
 * -ENAMETOOLONG, never into another answer. Inputs above 64 KiB are skipped. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "fuzzcheck.h"

#define INPUT_MAX (64 * 1024)



/* Reads the field into an exact-size heap buffer of n bytes, so that ASan sees any write
 * past it, and checks what came back. Returns form_get()'s result; *ret_value is the value
 * (malloc'd) when it is >= 0, else NULL. */
static int read_field(const char *form, size_t len, const char *name, size_t n, char **ret_value)
{
        char *buf = malloc(n ? n : 1);
        int r;

        CHECK(buf);
        r = form_get(form, len, name, buf, n);
        CHECK(r >= 0 || r == -ENOENT || r == -EINVAL || r == -ENAMETOOLONG);
        if (r < 0) {
                free(buf);
                *ret_value = NULL;
                return r;
        }
        /* a value is at most as long as its encoding, NUL-terminated inside the buffer */
        CHECK((size_t)r < n);
        CHECK((size_t)r <= len);
        CHECK(memchr(buf, 0, n) == buf + r);
        CHECK(strlen(buf) == (size_t)r);
        *ret_value = buf;
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t sizes[] = {0, 1, 2, 8, 64};
        size_t name_len, len;
        char *name, *form, *value;
        int full;

        if (size == 0 || size > INPUT_MAX)
                return 0;
        name_len = data[0] < size - 1 ? data[0] : size - 1;
        len = size - 1 - name_len;

        name = malloc(name_len + 1);
        CHECK(name);
        memcpy(name, data + 1, name_len);
        name[name_len] = 0; /* a NUL inside the name just shortens it */
        /* an exact-size copy without a NUL, so that ASan sees any read past len */
        form = malloc(len ? len : 1);
        CHECK(form);
        memcpy(form, data + 1 + name_len, len);

        /* len + 1 bytes always hold the value: this answer cannot be -ENAMETOOLONG */
        full = read_field(form, len, name, len + 1, &value);
        CHECK(full != -ENAMETOOLONG);

        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                char *small;
                int r = read_field(form, len, name, sizes[i], &small);

                if (full >= 0 && (size_t)full < sizes[i]) {
                        CHECK(r == full);
                        CHECK(memcmp(small, value, (size_t)full + 1) == 0);
                } else if (full >= 0) {
                        CHECK(r == -ENAMETOOLONG);
                } else if (full == -ENOENT) {
                        CHECK(r == -ENOENT);
                } else {
                        /* malformed: found at once, or after the buffer ran out */
                        CHECK(r == -EINVAL || r == -ENAMETOOLONG);
                }
                free(small);
        }

        free(value);

        /* the same bytes as a Cookie header (cookie_get() reads up to the NUL) */
        {
                char *header = malloc(len + 1), small[8], *big = malloc(len + 1);
                int r1, r2;

                CHECK(header && big);
                memcpy(header, form, len);
                header[len] = 0;
                r1 = cookie_get(header, name, big, len + 1);
                CHECK(r1 >= 0 || r1 == -ENOENT || r1 == -EINVAL);
                if (r1 >= 0) {
                        CHECK(strlen(big) == (size_t)r1);
                        for (int i = 0; i < r1; i++) /* only cookie-octets come back */
                                CHECK(big[i] > 0x20 && big[i] < 0x7f && big[i] != ';' &&
                                      big[i] != ',' && big[i] != '"' && big[i] != '\\');
                }
                r2 = cookie_get(header, name, small, sizeof(small));
                if (r1 >= 0 && (size_t)r1 < sizeof(small))
                        CHECK(r2 == r1 && strcmp(small, big) == 0);
                else if (r1 >= 0)
                        CHECK(r2 == -ENAMETOOLONG);
                else
                        CHECK(r2 == r1 || r2 == -ENAMETOOLONG);
                free(header);
                free(big);
        }
        free(form);
        free(name);
        return 0;
}
