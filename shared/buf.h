/* SPDX-License-Identifier: MIT */
/* A growing byte buffer with a hard cap, after curl's dynbuf: an append that would pass the
 * cap or fails to allocate frees the buffer and returns an error, so a caller never goes on
 * with a half-built string. The error is sticky: every later append returns it and does
 * nothing, and buf_take() returns NULL, so a page can be built with unchecked appends and
 * checked once at the end. The contents are always NUL-terminated. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct buf {
        char *data;  /* owned; NULL while empty */
        size_t len;  /* bytes used, NUL not counted */
        size_t size; /* bytes allocated */
        size_t cap;  /* the most len may reach */
        int error;   /* 0, or the first failure (-ENOMEM, -E2BIG, -EINVAL): sticky */
};

void buf_init(struct buf *b, size_t cap);
/* Frees the contents; the error, if any, stays until buf_init(). */
void buf_free(struct buf *b);
/* Each returns 0, -ENOMEM, or -E2BIG past the cap; on error the buffer is freed. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " and ' escaped for HTML text and attribute values. */
int buf_add_html(struct buf *b, const char *s);
/* Hands the contents over (malloc'd, NUL-terminated) and empties b; NULL when an append
 * failed (b->error says why) or memory ran out. */
char *buf_take(struct buf *b, size_t *ret_len);
