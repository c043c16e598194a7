/* SPDX-License-Identifier: MIT */
/* QR sheets as PDF, and single codes as PNG and SVG. Text goes through pango, so that long
 * Ukrainian names wrap at word boundaries and every letter has a glyph (DejaVu Sans). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "qr.h"
#include "qrprint.h"

#define A4_W 595.2756 /* points */
#define A4_H 841.8898
#define QUIET 4 /* modules of white around a code, as the standard asks */
#define FONT "DejaVu Sans"

static cairo_status_t write_buf(void *closure, const unsigned char *data, unsigned int length)
{
        return buf_add(closure, data, length) < 0 ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* Draws the code with its quiet zone into the square at (x, y) of side size. */
static void draw_qr(cairo_t *cr, const struct qr *qr, double x, double y, double size)
{
        double m = size / (qr->size + 2 * QUIET);

        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_rectangle(cr, x, y, size, size);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        for (int r = 0; r < qr->size; r++)
                for (int c = 0; c < qr->size; c++)
                        if (qr_dark(qr, c, r))
                                cairo_rectangle(cr, x + (c + QUIET) * m, y + (r + QUIET) * m, m, m);
        cairo_fill(cr);
}

/* Draws text centred in a box of width w from (x, y); returns its height. */
static double draw_text(cairo_t *cr, const char *text, const char *font, double x, double y,
                        double w, double grey)
{
        PangoLayout *layout = pango_cairo_create_layout(cr);
        PangoFontDescription *fd = pango_font_description_from_string(font);
        int lw, lh;

        pango_layout_set_font_description(layout, fd);
        pango_layout_set_width(layout, (int)(w * PANGO_SCALE));
        pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
        pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
        pango_layout_set_text(layout, text, -1);
        cairo_set_source_rgb(cr, grey, grey, grey);
        cairo_move_to(cr, x, y);
        pango_cairo_show_layout(cr, layout);
        pango_layout_get_size(layout, &lw, &lh);
        pango_font_description_free(fd);
        g_object_unref(layout);
        return (double)lh / PANGO_SCALE;
}

/* One item in the box (x, y, w, h): the prompt, the code, who it is for, and the hint. */
static int draw_item(cairo_t *cr, const struct qrprint_item *it, const struct qrprint_text *text,
                     double x, double y, double w, double h, bool big)
{
        struct qr qr;
        double pad = big ? 10 : 6, side, cy = y + pad;
        char font[64];
        int r = qr_encode(it->url, &qr);

        if (r < 0)
                return r;
        snprintf(font, sizeof(font), FONT " Bold %d", big ? 24 : 11);
        cy += draw_text(cr, text->prompt, font, x + pad, cy, w - 2 * pad, 0) + pad;
        side = big ? w * 0.62 : h * 0.45;
        if (side > w - 2 * pad)
                side = w - 2 * pad;
        draw_qr(cr, &qr, x + (w - side) / 2, cy, side);
        qr_finish(&qr);
        cy += side + pad;
        snprintf(font, sizeof(font), FONT " Bold %d", big ? 20 : 10);
        cy += draw_text(cr, it->full_name, font, x + pad, cy, w - 2 * pad, 0) + 2;
        snprintf(font, sizeof(font), FONT " %d", big ? 14 : 8);
        cy += draw_text(cr, it->position, font, x + pad, cy, w - 2 * pad, 0.15) + 2;
        snprintf(font, sizeof(font), FONT " %d", big ? 12 : 7);
        cy += draw_text(cr, it->unit, font, x + pad, cy, w - 2 * pad, 0.25) + pad;
        snprintf(font, sizeof(font), FONT " %d", big ? 12 : 7);
        cy += draw_text(cr, text->hint, font, x + pad, cy, w - 2 * pad, 0.25) + 2;
        if (big) {
                /* for whoever cannot scan: the address, small */
                draw_text(cr, it->url, FONT " 8", x + pad, cy, w - 2 * pad, 0.35);
        }
        return 0;
}

int qrprint_pdf(const struct qrprint_item *items, size_t n, int per_page,
                const struct qrprint_text *text, struct buf *out)
{
        cairo_surface_t *surface;
        cairo_t *cr;
        int cols = per_page == 6 ? 2 : 1, rows = per_page == 6 ? 3 : 1, r = 0;
        size_t pages;
        double margin = 36, cw, ch;

        if ((per_page != 1 && per_page != 6) || n == 0 || !text || !text->prompt || !text->hint)
                return -EINVAL;
        surface = cairo_pdf_surface_create_for_stream(write_buf, out, A4_W, A4_H);
        cr = cairo_create(surface);
        cw = (A4_W - 2 * margin) / cols;
        ch = (A4_H - 2 * margin - 14) / rows;
        pages = (n + (size_t)per_page - 1) / (size_t)per_page;
        for (size_t p = 0; p < pages && r >= 0; p++) {
                char number[48];

                for (int k = 0; k < per_page && r >= 0; k++) {
                        size_t i = p * (size_t)per_page + (size_t)k;
                        double x = margin + (k % cols) * cw, y = margin + (k / cols) * ch;

                        if (i >= n)
                                break;
                        if (per_page > 1) {
                                /* dashed lines to cut along */
                                static const double dash[] = {4, 4};

                                cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
                                cairo_set_line_width(cr, 0.5);
                                cairo_set_dash(cr, dash, 2, 0);
                                cairo_rectangle(cr, x, y, cw, ch);
                                cairo_stroke(cr);
                                cairo_set_dash(cr, NULL, 0, 0);
                        }
                        r = draw_item(cr, &items[i], text, x, y, cw, ch, per_page == 1);
                }
                snprintf(number, sizeof(number), "%zu / %zu", p + 1, pages);
                draw_text(cr, number, FONT " 8", 0, A4_H - margin + 4, A4_W, 0.4);
                cairo_show_page(cr);
        }
        cairo_destroy(cr);
        cairo_surface_finish(surface);
        if (r >= 0 && cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS)
                r = out->error ? out->error : -ENOMEM;
        cairo_surface_destroy(surface);
        return r;
}

int qrprint_png(const char *url, int scale, struct buf *out)
{
        cairo_surface_t *surface;
        cairo_t *cr;
        struct qr qr;
        int side, r;

        if (scale < 1 || scale > 64)
                return -EINVAL;
        r = qr_encode(url, &qr);
        if (r < 0)
                return r;
        side = (qr.size + 2 * QUIET) * scale;
        surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, side, side);
        cr = cairo_create(surface);
        cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
        draw_qr(cr, &qr, 0, 0, side);
        qr_finish(&qr);
        cairo_destroy(cr);
        if (cairo_surface_write_to_png_stream(surface, write_buf, out) != CAIRO_STATUS_SUCCESS)
                r = out->error ? out->error : -ENOMEM;
        cairo_surface_destroy(surface);
        return r;
}

int qrprint_svg(const char *url, struct buf *out)
{
        struct qr qr;
        int n, r = qr_encode(url, &qr);

        if (r < 0)
                return r;
        n = qr.size + 2 * QUIET;
        buf_printf(out,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\"><rect width=\"%d\" "
                   "height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" stroke=\"none\" d=\"",
                   n * 10, n * 10, n, n, n, n);
        /* one rectangle per run of dark modules in a row: smaller, and no seams for a
         * renderer to show between neighbours */
        for (int y = 0; y < qr.size; y++)
                for (int x = 0; x < qr.size;) {
                        int run = 0;

                        while (x + run < qr.size && qr_dark(&qr, x + run, y))
                                run++;
                        if (run)
                                buf_printf(out, "M%d %dh%dv1h-%dz", x + QUIET, y + QUIET, run, run);
                        x += run ? run : 1;
                }
        buf_adds(out, "\"/></svg>\n");
        qr_finish(&qr);
        return out->error;
}

void qrprint_release(void)
{
        void (*fc_fini)(void);

        /* pango, cairo and fontconfig keep their font caches for the process's life; let them
         * go at exit so that a leak checker sees only real leaks. fontconfig comes in through
         * pango without being linked by name, so its FcFini is looked up. */
        pango_cairo_font_map_set_default(NULL);
        cairo_debug_reset_static_data();
        fc_fini = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");
        if (fc_fini)
                fc_fini();
}
