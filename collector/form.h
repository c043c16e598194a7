/* SPDX-License-Identifier: MIT */
/* application/x-www-form-urlencoded and query strings: looks up one field and decodes it
 * (%XX and '+') into a caller's buffer. Outside input: every length is bounded and every
 * malformed escape is an error, never a guess. */
#pragma once

#include <stddef.h>

/* Finds the first field named name in data[0..len) and writes its decoded value (NUL-
 * terminated) into buf. Returns the value's length, -ENOENT when absent, -EINVAL for a
 * malformed escape or an embedded NUL, -ENAMETOOLONG when it does not fit. */
int form_get(const char *data, size_t len, const char *name, char *buf, size_t n);

/* Finds the cookie named name in a Cookie header ("a=1; b=2") and copies its value (not
 * decoded; cookies we set are URL-safe base64) into buf. Returns the value's length, -ENOENT
 * when absent, -ENAMETOOLONG when it does not fit, -EINVAL for a value with bytes outside
 * the cookie-octet set. */
int cookie_get(const char *header, const char *name, char *buf, size_t n);
