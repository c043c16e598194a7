/* SPDX-License-Identifier: MIT */
/* What the administration pages share (admin.c, admin_qr.c). Internal to the collector. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "webpage.h"

/* A form field of a POST body into buf: form_get()'s answer, -ENOENT without a body. */
int admin_field(const struct web_request *req, const char *name, char *buf, size_t n);
/* The session's CSRF token came back in the form ("csrf"), compared in constant time. */
bool admin_csrf_ok(const struct web_request *req, const struct web_session *s);
/* Writes the audit log: who, what, details, and the client's address. */
void admin_audit(struct collector *c, const struct web_request *req, const char *login,
                 const char *action, const char *detail);
/* "?lang=en" or "", and the hidden field that keeps English through a form. */
const char *admin_lang_query(enum vote_lang lang);
void admin_lang_field(struct buf *b, enum vote_lang lang);
/* Opens a form that posts to action with the session's CSRF token and the page's language;
 * attrs are further attributes of the form element ("" for none). action and attrs are the
 * caller's own text, not escaped. The caller adds the fields and closes the form. */
void admin_form_begin(struct buf *b, const struct web_session *s, enum vote_lang lang,
                      const char *action, const char *attrs);
/* A hidden field of a form, its value escaped. */
void admin_hidden(struct buf *b, const char *name, const char *value);
/* 303 to path, keeping the language. */
int admin_redirect(struct web_response *resp, const char *path, enum vote_lang lang);
/* The frame of a signed-in page: sections, who is signed in, sign-out, the title. */
void admin_page_begin(struct buf *b, struct collector *c, enum vote_lang lang,
                      const struct web_session *s, const char *title_key);
void admin_format_time(int64_t t, char *buf, size_t n);
/* The unit subtree an official or administrator acts on (0 = everything), -1 for others. */
int64_t admin_scope(const struct store_user *u);

/* The QR code pages (admin_qr.c): /admin/qr...; -ENOENT for other paths. */
int admin_qr_handle(struct collector *c, const struct web_request *req, enum vote_lang lang,
                    const struct web_session *s, struct web_response *resp);
/* The organisation, users and audit pages (admin_org.c): /admin/org..., /admin/users...,
 * /admin/audit; administrators only. -ENOENT for other paths. */
int admin_org_handle(struct collector *c, const struct web_request *req, enum vote_lang lang,
                     const struct web_session *s, struct web_response *resp);
/* The API tokens page (admin_tokens.c): /admin/tokens...; administrators only. -ENOENT for
 * other paths. */
int admin_tokens_handle(struct collector *c, const struct web_request *req, enum vote_lang lang,
                        const struct web_session *s, struct web_response *resp);
/* The organisation record by record (admin_edit.c): /admin/org/{unit,direction,employee,
 * workplace}, a form to add one or (?code=) change one. Administrators edit every kind,
 * officials employees inside their subtree; -ENOENT for other paths. */
int admin_edit_handle(struct collector *c, const struct web_request *req, enum vote_lang lang,
                      const struct web_session *s, struct web_response *resp);
/* The organisation as the pages show it (admin_edit.c): every record, and for each unit
 * (parents first) its depth below its root and whether it lies in the subtree of unit scope
 * (0: all). Loaded by admin_org_view_load(), freed by admin_org_view_finish(). */
struct admin_org_view {
        struct store_org org;
        int *depth; /* org.n_units items */
        bool *in;   /* org.n_units items */
};
int admin_org_view_load(struct collector *c, int64_t scope, struct admin_org_view *ret);
void admin_org_view_finish(struct admin_org_view *v);
