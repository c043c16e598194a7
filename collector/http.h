/* SPDX-License-Identifier: MIT */
/* The collector's HTTPS server: the only module that talks to libmicrohttpd. It checks
 * method and length before it allocates, gathers the body up to a cap, and hands a plain
 * web_request to web_handle(). */
#pragma once

#include <stdint.h>

#include "collector.h"

struct http_server;

/* Starts serving c on cfg->listen:cfg->port (0 picks a free port), over TLS with
 * cfg->tls_cert/tls_key unless cfg->plain_http. Returns 0, or a negative errno. */
int http_start(struct collector *c, struct http_server **ret);
/* The port actually bound. */
uint16_t http_port(const struct http_server *h);
/* Stops accepting, finishes the requests under way, and frees h; accepts NULL. */
void http_stop(struct http_server *h);
