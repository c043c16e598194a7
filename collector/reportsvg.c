/* SPDX-License-Identifier: MIT */
/* Server-drawn SVG charts (reportsvg.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "reportsvg.h"

#define TW 720 /* the trend's viewBox */
#define TH 260
#define TL 44 /* plot area: left, right, top, bottom margins */
#define TR 12
#define TT 16
#define TB 40

void report_svg_trend(struct buf *b, const char *title, const struct report_point *p, size_t n)
{
        double pw = TW - TL - TR, ph = TH - TT - TB, step = n ? pw / (double)n : pw;
        int64_t max = 1;
        bool pen = false;

        for (size_t i = 0; i < n; i++)
                if (p[i].fig.n.level[0] > max)
                        max = p[i].fig.n.level[0];
        buf_printf(b,
                   "<svg class=\"chart trend\" role=\"img\" viewBox=\"0 0 %d %d\" "
                   "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" "
                   "font-size=\"11\"><title>",
                   TW, TH);
        buf_add_html(b, title);
        buf_adds(b, "</title>");
        /* the grid: index 0, 25, 50, 75, 100 */
        for (int g = 0; g <= 100; g += 25) {
                double y = TT + ph * (1.0 - g / 100.0);

                buf_printf(b,
                           "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                           "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%d</text>",
                           TL, y, TW - TR, y, TL - 6, y + 4, g);
        }
        /* the counts as pale bars, scaled to the tallest */
        for (size_t i = 0; i < n; i++) {
                double h = ph * 0.35 * (double)p[i].fig.n.level[0] / (double)max;
                double x = TL + step * (double)i;

                buf_printf(b,
                           "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                           "fill=\"#c5d5ea\"><title>%" PRId64 "</title></rect>",
                           x + step * 0.15, TT + ph - h, step * 0.7, h, p[i].fig.n.level[0]);
        }
        /* the confidence band, then the index */
        for (size_t i = 0; i < n; i++) {
                double x = TL + step * ((double)i + 0.5);

                if (!p[i].fig.n.level[0])
                        continue;
                buf_printf(
                    b,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#90a4ae\" "
                    "stroke-width=\"%.1f\"/>",
                    x, TT + ph * (1 - p[i].fig.lo / 100), x, TT + ph * (1 - p[i].fig.hi / 100),
                    fmin(step * 0.3, 8));
        }
        buf_adds(b, "<path fill=\"none\" stroke=\"#0d47a1\" stroke-width=\"2\" d=\"");
        for (size_t i = 0; i < n; i++) {
                double x = TL + step * ((double)i + 0.5);

                if (!p[i].fig.n.level[0]) {
                        pen = false;
                        continue;
                }
                buf_printf(b, "%c%.1f %.1f ", pen ? 'L' : 'M', x,
                           TT + ph * (1 - p[i].fig.index / 100));
                pen = true;
        }
        buf_adds(b, "\"/>");
        for (size_t i = 0; i < n; i++) {
                double x = TL + step * ((double)i + 0.5);

                if (p[i].fig.n.level[0])
                        buf_printf(b,
                                   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#0d47a1\">"
                                   "<title>%.1f [%.1f; %.1f], n=%" PRId64 "</title></circle>",
                                   x, TT + ph * (1 - p[i].fig.index / 100), p[i].fig.index,
                                   p[i].fig.lo, p[i].fig.hi, p[i].fig.n.level[0]);
                if (n <= 16 || i % ((n + 15) / 16) == 0) {
                        buf_printf(b,
                                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                                   "fill=\"#333\">",
                                   x, TH - TB + 16);
                        buf_add_html(b, p[i].label);
                        buf_adds(b, "</text>");
                }
        }
        buf_adds(b, "</svg>");
}

void report_svg_heatmap(struct buf *b, const char *title, const struct store_counts counts[7][24],
                        const char *const weekday[7])
{
        const int cw = 26, chh = 22, left = 90, top = 20;
        int64_t max = 1;

        for (int d = 0; d < 7; d++)
                for (int h = 0; h < 24; h++)
                        if (counts[d][h].level[0] > max)
                                max = counts[d][h].level[0];
        buf_printf(b,
                   "<svg class=\"chart heat\" role=\"img\" viewBox=\"0 0 %d %d\" "
                   "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" "
                   "font-size=\"11\"><title>",
                   left + 24 * cw + 4, top + 7 * chh + 4);
        buf_add_html(b, title);
        buf_adds(b, "</title>");
        for (int h = 0; h < 24; h += 2)
                buf_printf(b,
                           "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">%02d"
                           "</text>",
                           left + h * cw + cw / 2, top - 6, h);
        for (int d = 0; d < 7; d++) {
                buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#333\">",
                           left - 6, top + d * chh + chh / 2 + 4);
                buf_add_html(b, weekday[d]);
                buf_adds(b, "</text>");
                for (int h = 0; h < 24; h++) {
                        const struct store_counts *c = &counts[d][h];
                        struct report_fig f;
                        char fill[32] = "#eee";
                        /* more votes, more opaque; the hue runs from red (index 0) to green */
                        double a = 1.0;

                        report_fig_make(c, &f);
                        if (c->level[0]) {
                                snprintf(fill, sizeof(fill), "hsl(%d,70%%,42%%)",
                                         (int)(f.index * 1.2));
                                a = 0.2 + 0.8 * (double)c->level[0] / (double)max;
                        }
                        /* data-wh: the cell's key (ISO weekday * 100 + hour), as the API's */
                        buf_printf(b,
                                   "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                                   "fill=\"%s\" fill-opacity=\"%.2f\" stroke=\"#fff\" "
                                   "data-wh=\"%d\"><title>",
                                   left + h * cw, top + d * chh, cw, chh, fill, a,
                                   (d + 1) * 100 + h);
                        buf_add_html(b, weekday[d]);
                        buf_printf(b, " %02d:00 n=%" PRId64, h, c->level[0]);
                        if (c->level[0])
                                buf_printf(b, ", %.1f", f.index);
                        buf_adds(b, "</title></rect>");
                }
        }
        buf_adds(b, "</svg>");
}
