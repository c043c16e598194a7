/* SPDX-License-Identifier: MIT */
/* What the collector's page modules (web.c, admin.c) share: the language of a request, the
 * translations, the page frame, and answers. Internal to the collector. */
#pragma once

#include <stdint.h>

#include "buf.h"
#include "collector.h"
#include "web.h"

#define WEB_PAGE_MAX (4 * 1024 * 1024)

/* The text for key in lang; never NULL. */
const char *web_text(struct collector *c, enum vote_lang lang, const char *key);
/* ?lang=, else Accept-Language, else Ukrainian. */
enum vote_lang web_lang(const struct web_request *req);
/* Hands b over as the response body. */
int web_respond(struct web_response *resp, int status, const char *type, struct buf *b);
int web_respond_text(struct web_response *resp, int status, const char *type, const char *s);
/* The page frame; everything between goes through buf_add_html() unless it is our markup. */
void web_page_begin(struct buf *b, struct collector *c, enum vote_lang lang, const char *title,
                    bool wide);
void web_page_end(struct buf *b);
/* A page with one message (a translation key) and the status. */
int web_message_page(struct collector *c, enum vote_lang lang, int status, const char *key,
                     struct web_response *resp);
int64_t web_now_ms(void);

/* A signed-in user of the pages (admin.c). */
#define WEB_CSRF_TEXT 33 /* 16 bytes in hex and the NUL */
struct web_session {
        struct store_user user;   /* password_hash zeroed */
        char csrf[WEB_CSRF_TEXT]; /* every form of the session carries it as "csrf" */
        uint8_t hash[32];
};
/* The request's live session (sliding its idle time), -ENOENT when none, or a store error. */
int web_session_find(struct collector *c, const struct web_request *req, struct web_session *ret);

/* The administration pages (admin.c): /login, /logout, /admin/... Returns 0 when it answered,
 * -ENOENT when the path is not one of its own. */
int admin_handle(struct collector *c, const struct web_request *req, struct web_response *resp);
/* The terminal API (api.c) and the public results (reportweb.c), the same way. */
int api_handle(struct collector *c, const struct web_request *req, struct web_response *resp);
int reports_handle(struct collector *c, const struct web_request *req, struct web_response *resp);
/* A JSON error body {"protocol":1,"error":message} with the status. */
int web_api_error(struct web_response *resp, int status, const char *message);
