/* SPDX-License-Identifier: MIT */
/* A strict urlencoded-form field reader. */
#include <errno.h>
#include <string.h>

#include "form.h"

static int hex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decodes src[0..len) into buf; same returns as form_get(). */
static int decode(const char *src, size_t len, char *buf, size_t n)
{
        size_t o = 0;

        for (size_t i = 0; i < len; i++) {
                int c = (unsigned char)src[i];

                if (c == '+')
                        c = ' ';
                else if (c == '%') {
                        int hi, lo;

                        if (i + 2 >= len)
                                return -EINVAL;
                        hi = hex(src[i + 1]);
                        lo = hex(src[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        c = hi * 16 + lo;
                        i += 2;
                }
                if (c == 0)
                        return -EINVAL;
                if (o + 1 >= n)
                        return -ENAMETOOLONG;
                buf[o++] = (char)c;
        }
        if (n == 0)
                return -ENAMETOOLONG;
        buf[o] = 0;
        return (int)o;
}

int form_get(const char *data, size_t len, const char *name, char *buf, size_t n)
{
        size_t name_len = strlen(name);
        size_t i = 0;

        while (i < len) {
                size_t end = i, eq;

                while (end < len && data[end] != '&')
                        end++;
                eq = i;
                while (eq < end && data[eq] != '=')
                        eq++;
                if (eq - i == name_len && memcmp(data + i, name, name_len) == 0)
                        return decode(eq < end ? data + eq + 1 : data + end,
                                      eq < end ? end - eq - 1 : 0, buf, n);
                i = end + 1;
        }
        return -ENOENT;
}

int cookie_get(const char *header, const char *name, char *buf, size_t n)
{
        size_t name_len = strlen(name);
        const char *p = header;

        while (p && *p) {
                const char *end = strchr(p, ';'), *eq;
                size_t len;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (!end)
                        end = p + strlen(p);
                eq = memchr(p, '=', (size_t)(end - p));
                if (eq && (size_t)(eq - p) == name_len && memcmp(p, name, name_len) == 0) {
                        len = (size_t)(end - eq - 1);
                        while (len > 0 && (eq[len] == ' ' || eq[len] == '\t'))
                                len--; /* trailing blanks before ';' */
                        if (len + 1 > n)
                                return -ENAMETOOLONG;
                        for (size_t i = 0; i < len; i++) {
                                unsigned char c = (unsigned char)eq[1 + i];
                                /* RFC 6265 cookie-octet */
                                if (c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' ||
                                    c == '\\')
                                        return -EINVAL;
                        }
                        memcpy(buf, eq + 1, len);
                        buf[len] = 0;
                        return (int)len;
                }
                p = *end ? end + 1 : end;
        }
        return -ENOENT;
}
