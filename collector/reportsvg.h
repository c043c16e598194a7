/* SPDX-License-Identifier: MIT */
/* Charts drawn by the server as inline SVG (no scripts; the pages' CSP forbids them): a trend
 * of the index with its confidence band and the vote counts, and a weekday x hour heatmap.
 * Labels are escaped; the charts scale with the page (viewBox). */
#pragma once

#include <stddef.h>

#include "buf.h"
#include "report.h"

/* One point of a trend: a label ("2026-11", "28") and its figures. */
struct report_point {
        char label[16];
        struct report_fig fig;
};
/* title: the chart's accessible name. */
void report_svg_trend(struct buf *b, const char *title, const struct report_point *p, size_t n);

/* counts[d][h]: weekday d (0 = Monday) and local hour h; weekday names, Monday first. */
void report_svg_heatmap(struct buf *b, const char *title, const struct store_counts counts[7][24],
                        const char *const weekday[7]);
