/* SPDX-License-Identifier: MIT */
/* API tokens (apitoken.h): making one, and knowing a request by one. A token's text exists
 * only in the answer that shows it once; what is kept, and looked up, is its hash. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "apitoken.h"
#include "log.h"
#include "period.h"
#include "ratelimit.h"
#include "webpage.h"

/* A plain BLAKE2b-256 (crypto_generichash) of the token's text. The text carries 256 random
 * bits, so nobody can guess it from its hash, and one fast hash is all a lookup needs:
 * argon2id's deliberate slowness is for secrets people choose (passwords, PINs), where it
 * makes guessing dear; here it would only make every API request dear. No key either: the
 * command line, which has no collector key, makes tokens too. */
static void token_hash(const char *text, size_t n, uint8_t out[32])
{
        crypto_generichash(out, 32, (const unsigned char *)text, n, NULL, 0);
}

static bool name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > APITOKEN_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
                        return false;
        return true;
}

int apitoken_create(struct store *s, struct store_api_token *t, char text[static APITOKEN_TEXT])
{
        bool manager = strcmp(t->role, "manager") == 0;
        uint8_t raw[32], hash[32];
        int r;

        if (!name_valid(t->name) || (!manager && strcmp(t->role, "auditor") != 0) ||
            manager != (t->unit_code[0] != 0))
                return -EINVAL;
        randombytes_buf(raw, sizeof(raw));
        memcpy(text, APITOKEN_PREFIX, strlen(APITOKEN_PREFIX));
        sodium_bin2base64(text + strlen(APITOKEN_PREFIX), APITOKEN_TEXT - strlen(APITOKEN_PREFIX),
                          raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof(raw));
        token_hash(text, APITOKEN_LEN, hash);
        r = s->ops->api_token_add(s, t, hash, &t->id);
        if (r < 0)
                sodium_memzero(text, APITOKEN_TEXT);
        return r;
}

int apitoken_parse_expiry(const char *day, int64_t now, int64_t *ret)
{
        struct period p;

        /* exactly a day: period_parse() also takes weeks, months and ranges */
        if (strlen(day) != 10 || period_parse(day, &p) < 0 || p.kind != PERIOD_DAY)
                return -EINVAL;
        if (p.end <= now)
                return -ERANGE;
        *ret = p.end;
        return 0;
}

/* Failed tokens share the enrollment codes' limiter (machine credentials guessed from one
 * address), under a key of their own so that the two do not add up. */
static void limit_key(const struct web_request *req, char *key, size_t n)
{
        snprintf(key, n, "bearer:%s", req->client_addr);
}

int apitoken_parse_header(const char *auth, const char **ret_text)
{
        const char *text;
        size_t n;

        if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
                return -ENOENT;
        text = auth + 7;
        text += strspn(text, " ");
        n = strcspn(text, " ");
        if (n != APITOKEN_LEN || strncmp(text, APITOKEN_PREFIX, strlen(APITOKEN_PREFIX)) != 0 ||
            text[n + strspn(text + n, " ")] != 0)
                return -EINVAL;
        *ret_text = text;
        return 0;
}

int apitoken_find(struct collector *c, const struct web_request *req, struct store_user *ret)
{
        struct store_api_token t = {0};
        int64_t now_ms = web_now_ms(), now = now_ms / 1000;
        const char *text = NULL;
        uint8_t hash[32];
        char key[96];
        int r;

        r = apitoken_parse_header(req->header(req->ctx, "Authorization"), &text);
        if (r == -ENOENT)
                return -ENOENT;
        limit_key(req, key, sizeof(key));
        if (ratelimit_blocked(c->enroll_limit, key, now_ms))
                return -EBUSY;
        if (r < 0) {
                r = -ENOENT; /* said as an unknown token */
                goto refuse;
        }
        token_hash(text, APITOKEN_LEN, hash);
        r = c->store->ops->api_token_get(c->store, hash, &t);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == -ENOENT || t.revoked_at || (t.expires_at && t.expires_at <= now))
                goto refuse;
        if (t.last_used_at <= now - APITOKEN_USED_GAP_S) {
                r = c->store->ops->api_token_used(c->store, t.id, now, APITOKEN_USED_GAP_S);
                if (r < 0) /* the answer does not depend on it */
                        log_warn("Cannot note the use of API token %lld: %s", (long long)t.id,
                                 strerror(-r));
        }
        memset(ret, 0, sizeof(*ret));
        snprintf(ret->login, sizeof(ret->login), "token:#%lld", (long long)t.id);
        snprintf(ret->role, sizeof(ret->role), "%s", t.role);
        ret->unit_id = t.unit_id;
        return 0;
refuse:
        ratelimit_fail(c->enroll_limit, key, now_ms);
        log_warn("Refused %s %s from %s: %s API token", req->method, req->path, req->client_addr,
                 r == -ENOENT   ? "an unknown"
                 : t.revoked_at ? "a revoked"
                                : "an expired");
        return -EACCES;
}

int apitoken_reject(struct web_response *resp, int r)
{
        if (r == -EACCES) {
                snprintf(resp->www_authenticate, sizeof(resp->www_authenticate),
                         "Bearer realm=\"otsinka\", error=\"invalid_token\"");
                return web_api_error(resp, 401,
                                     "authorization: unknown, revoked or expired API token");
        }
        if (r == -EBUSY)
                return web_api_error(resp, 429,
                                     "authorization: too many failed tokens from this address; "
                                     "try again later");
        return web_api_error(resp, 503, "store: unavailable");
}
