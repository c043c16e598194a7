/* SPDX-License-Identifier: MIT */
/* API tokens: how the city's other systems (a BI tool, the city portal, a scheduled job) read
 * the reports API and downloads without a sign-in form (docs/reports-api.md, "Access for other
 * systems"). A token is "otk_" and 32 random bytes in base64url, shown once when it is made;
 * the store keeps only its hash. A request with "Authorization: Bearer otk_..." acts as the
 * token's role (auditor: the whole city; manager: a unit's subtree), read only: the reports
 * module takes tokens on its GET addresses only, and no other page looks at them. */
#pragma once

#include <stdint.h>

#include "store.h"
#include "web.h"

#define APITOKEN_PREFIX "otk_"
#define APITOKEN_LEN (4 + 43) /* the prefix and 32 bytes in unpadded base64url */
#define APITOKEN_TEXT (APITOKEN_LEN + 1)
#define APITOKEN_NAME_MAX 100  /* bytes of a token's name */
#define APITOKEN_USED_GAP_S 60 /* last_used_at is written at most this often */

/* Makes a token: checks t's name, role and unit_code (a manager needs a unit, an auditor
 * takes none), makes the text into text and stores its hash with t's other fields (created_at,
 * expires_at and created_by as given), t->id set to the new id. -EINVAL for a bad name, role or
 * role and unit together, -ENOENT for an unknown unit code, or a store error. The text is the
 * caller's to show once and then wipe. */
int apitoken_create(struct store *s, struct store_api_token *t, char text[static APITOKEN_TEXT]);

/* "YYYY-MM-DD", the last day a token works, into the first second after that day in the city's
 * time zone (period.h). -EINVAL for anything else, -ERANGE for a day already over at now. */
int apitoken_parse_expiry(const char *day, int64_t now, int64_t *ret);

/* An Authorization header's bearer token: 0 with *ret_text at its APITOKEN_LEN characters (in
 * auth), -ENOENT when auth is NULL or not "Bearer ...", -EINVAL when what follows is not one
 * token of ours (spaces around it allowed). */
int apitoken_parse_header(const char *auth, const char **ret_text);

/* The request's API token (Authorization: Bearer): 0 with the user it acts as (role, unit_id;
 * login "token:#<id>"), -ENOENT when the request carries no bearer token, -EACCES for a bad,
 * revoked or expired one (counted against the client's address), -EBUSY when that address has
 * failed too often lately, or a store error. Notes its use at most once a minute. */
int apitoken_find(struct collector *c, const struct web_request *req, struct store_user *ret);

/* The answer to apitoken_find()'s error r: 401 with WWW-Authenticate (Bearer, invalid_token),
 * 429, or 503, each with a JSON error body. */
int apitoken_reject(struct web_response *resp, int r);
