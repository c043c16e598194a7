/* SPDX-License-Identifier: MIT */
/* Printed QR codes (regulation 2.4, 2.5, 3.3): A4 PDF sheets with cairo and pango — one code per
 * page, or six per page for a whole unit, each with the employee's name and position, the
 * unit, and a line asking the client to rate — and a single code as PNG or SVG. The only
 * module that talks to cairo. */
#pragma once

#include <stddef.h>

#include "buf.h"

struct qrprint_item {
        char url[512]; /* what the code opens */
        char full_name[256];
        char position[256];
        char unit[256];
};

struct qrprint_text {
        const char *prompt; /* «Оцініть, будь ласка, якість обслуговування» */
        const char *hint; /* how to use it: «Наведіть камеру телефона на код» */
};

/* Appends a PDF of n items, per_page 1 or 6, to out. Returns 0, -EINVAL, -ENOMEM. */
int qrprint_pdf(const struct qrprint_item *items, size_t n, int per_page,
                const struct qrprint_text *text, struct buf *out);
/* One code as a PNG of scale pixels per module (quiet zone included), or as SVG. */
int qrprint_png(const char *url, int scale, struct buf *out);
int qrprint_svg(const char *url, struct buf *out);
/* Frees the font caches pango, cairo and fontconfig keep, at the program's end (after this
 * no PDF may be drawn). */
void qrprint_release(void);
