/* SPDX-License-Identifier: MIT */
/* A capped growing buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b, size_t cap)
{
        b->data = NULL;
        b->len = 0;
        b->size = 0;
        b->cap = cap;
        b->error = 0;
}

void buf_free(struct buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = 0;
        b->size = 0;
}

/* Frees the contents and records the first failure. */
static int failed(struct buf *b, int error)
{
        buf_free(b);
        if (!b->error)
                b->error = error;
        return b->error;
}

static int grow(struct buf *b, size_t extra)
{
        size_t need, size;
        char *p;

        if (b->error)
                return b->error;
        if (extra > b->cap || b->len > b->cap - extra)
                return failed(b, -E2BIG);
        need = b->len + extra + 1;
        if (need <= b->size)
                return 0;
        size = b->size ? b->size : 256;
        while (size < need)
                size *= 2;
        p = realloc(b->data, size);
        if (!p)
                return failed(b, -ENOMEM);
        b->data = p;
        b->size = size;
        return 0;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
        int r = grow(b, len);

        if (r < 0)
                return r;
        if (len)
                memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = 0;
        return 0;
}

int buf_adds(struct buf *b, const char *s)
{
        return buf_add(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        int n, r;

        if (b->error)
                return b->error;
        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return failed(b, -EINVAL);
        r = grow(b, (size_t)n);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
        return 0;
}

int buf_add_html(struct buf *b, const char *s)
{
        const char *run = s;
        int r = 0;

        for (const char *p = s; *p; p++) {
                const char *esc;

                switch (*p) {
                case '&':
                        esc = "&amp;";
                        break;
                case '<':
                        esc = "&lt;";
                        break;
                case '>':
                        esc = "&gt;";
                        break;
                case '"':
                        esc = "&quot;";
                        break;
                case '\'':
                        esc = "&#39;";
                        break;
                default:
                        continue;
                }
                r = buf_add(b, run, (size_t)(p - run));
                if (r >= 0)
                        r = buf_adds(b, esc);
                if (r < 0)
                        return r;
                run = p + 1;
        }
        return buf_adds(b, run);
}

char *buf_take(struct buf *b, size_t *ret_len)
{
        char *p;

        if (b->error || (!b->data && buf_add(b, "", 0) < 0))
                return NULL;
        p = b->data;
        if (ret_len)
                *ret_len = b->len;
        b->data = NULL;
        b->len = 0;
        b->size = 0;
        return p;
}
