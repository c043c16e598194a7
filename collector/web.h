/* SPDX-License-Identifier: MIT */
/* The collector's pages and API as plain C: a request in, a response out, no HTTP library.
 * http.c adapts libmicrohttpd to this; tests call web_handle() directly. */
#pragma once

#include <stddef.h>

#include "collector.h"

#define WEB_FORM_MAX (16 * 1024) /* the largest form body taken */

struct web_request {
        const char *method; /* "GET", "POST", ... */
        const char *path;   /* decoded path, without the query */
        const char *body;   /* not NUL-terminated; NULL when none */
        size_t body_len;
        const char *client_addr; /* textual address of the peer */
        /* Looks up a request header or query argument; NULL when absent. */
        const char *(*header)(void *ctx, const char *name);
        const char *(*arg)(void *ctx, const char *name);
        void *ctx;
};

struct web_response {
        int status;
        const char *content_type; /* static string */
        char *body;               /* malloc'd, owned by the response */
        size_t body_len;
        char location[512];   /* a Location header when not empty */
        char etag[64];        /* an ETag header when not empty */
        char set_cookie[256]; /* a Set-Cookie header when not empty */
        char disposition[160]; /* a Content-Disposition header when not empty */
        char www_authenticate[96]; /* a WWW-Authenticate header when not empty */
};

/* Fills resp for req. Always produces a response (a 500 page at worst); returns 0, or a
 * negative errno when even that could not be built (out of memory). */
int web_handle(struct collector *c, const struct web_request *req, struct web_response *resp);
void web_response_finish(struct web_response *resp);
