/* SPDX-License-Identifier: MIT */
/* QR codes as a plain module matrix (libqrencode), for the terminal's screen and the
 * collector's printed sheets. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct qr {
        int size;         /* modules per side, quiet zone excluded */
        uint8_t *modules; /* size * size bytes, 1 = dark; owned */
};

/* Encodes text (a URL) at error-correction level M. Returns 0, -EINVAL or -ENOMEM. */
int qr_encode(const char *text, struct qr *ret);
void qr_finish(struct qr *qr);
static inline bool qr_dark(const struct qr *qr, int x, int y)
{
        return qr->modules[y * qr->size + x] != 0;
}
