/* SPDX-License-Identifier: MIT */
/* The monthly report as an A4 PDF: cairo draws, pango sets the text (DejaVu Sans, so Cyrillic
 * shows), every row is one line (long names are ellipsized) so that pages can be counted
 * before drawing and each carries "page N of M". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "reportdoc.h"

#define PAGE_W 595.276 /* A4 in points */
#define PAGE_H 841.890
#define MARGIN 42.0
#define ROW_H 15.0
#define PDF_MAX (64 * 1024 * 1024)

struct pdf {
        cairo_t *cr;
        const struct i18n *t;
        int page, pages;
        double y;
        const char *footer_title;
};

static const char *tx(const struct i18n *t, const char *key)
{
        const char *s = t ? i18n_get(t, key) : NULL;

        return s ? s : key;
}

static cairo_status_t write_cb(void *closure, const unsigned char *data, unsigned int len)
{
        return buf_add(closure, data, len) < 0 ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* Text at (x, y) within width w (0: as wide as it is); align -1 left, 0 centre, 1 right. */
static void text(struct pdf *p, double x, double y, double w, int align, double size, bool bold,
                 const char *s)
{
        PangoLayout *l = pango_cairo_create_layout(p->cr);
        PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans");
        int tw, th;

        pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
        pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
        pango_layout_set_font_description(l, fd);
        pango_layout_set_text(l, s, -1);
        if (w > 0) {
                pango_layout_set_width(l, (int)(w * PANGO_SCALE));
                pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
        }
        pango_layout_get_pixel_size(l, &tw, &th);
        if (w > 0 && align != -1 && tw < w)
                x += align == 0 ? (w - tw) / 2 : w - tw;
        cairo_move_to(p->cr, x, y);
        pango_cairo_show_layout(p->cr, l);
        pango_font_description_free(fd);
        g_object_unref(l);
}

/* Text wrapped at words within width w; returns its height. */
static double paragraph(struct pdf *p, double x, double y, double w, double size, const char *s)
{
        PangoLayout *l = pango_cairo_create_layout(p->cr);
        PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans");
        int tw, th;

        pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
        pango_layout_set_font_description(l, fd);
        pango_layout_set_text(l, s, -1);
        pango_layout_set_width(l, (int)(w * PANGO_SCALE));
        pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
        pango_layout_get_pixel_size(l, &tw, &th);
        cairo_move_to(p->cr, x, y);
        pango_cairo_show_layout(p->cr, l);
        pango_font_description_free(fd);
        g_object_unref(l);
        return th;
}

static void footer(struct pdf *p)
{
        char s[128];

        snprintf(s, sizeof(s), "%s %d %s %d", tx(p->t, "report.page"), p->page,
                 tx(p->t, "report.of"), p->pages);
        cairo_set_source_rgb(p->cr, 0.35, 0.35, 0.35);
        text(p, MARGIN, PAGE_H - MARGIN + 10, PAGE_W - 2 * MARGIN, -1, 8, false, p->footer_title);
        text(p, MARGIN, PAGE_H - MARGIN + 10, PAGE_W - 2 * MARGIN, 1, 8, false, s);
        cairo_set_source_rgb(p->cr, 0, 0, 0);
}

static void new_page(struct pdf *p)
{
        if (p->page > 0) {
                footer(p);
                cairo_show_page(p->cr);
        }
        p->page++;
        p->y = MARGIN;
}

/* The columns of a figures table: a name column, then the numbers. */
static const double num_w[] = {62, 44, 52, 40, 40, 58, 42};

static void table_header(struct pdf *p, const char *first)
{
        static const char *const keys[] = {"level.1",      "level.2",      "level.3",
                                           "report.total", "report.index", "report.ci",
                                           "report.change"};
        double x = MARGIN, name_w = PAGE_W - 2 * MARGIN;

        for (size_t i = 0; i < 7; i++)
                name_w -= num_w[i];
        cairo_set_source_rgb(p->cr, 0.9, 0.92, 0.96);
        cairo_rectangle(p->cr, MARGIN, p->y - 1, PAGE_W - 2 * MARGIN, ROW_H + 2);
        cairo_fill(p->cr);
        cairo_set_source_rgb(p->cr, 0, 0, 0);
        text(p, x + 2, p->y, name_w - 4, -1, 8, true, first);
        x += name_w;
        for (size_t i = 0; i < 7; i++) {
                text(p, x, p->y, num_w[i] - 3, 1, 8, true, tx(p->t, keys[i]));
                x += num_w[i];
        }
        p->y += ROW_H + 2;
}

static void table_row(struct pdf *p, const char *name, const char *sub, const struct report_fig *f,
                      const struct report_fig *prev, bool bold)
{
        double x = MARGIN, name_w = PAGE_W - 2 * MARGIN;
        char v[7][32], full[600];
        bool have = f->n.level[0] > 0;

        for (size_t i = 0; i < 7; i++)
                name_w -= num_w[i];
        for (int l = 1; l <= 3; l++)
                snprintf(v[l - 1], sizeof(v[0]), "%" PRId64, f->n.level[l]);
        snprintf(v[3], sizeof(v[0]), "%" PRId64, f->n.level[0]);
        if (have) {
                snprintf(v[4], sizeof(v[0]), "%.1f", f->index);
                snprintf(v[5], sizeof(v[0]), "%.0f–%.0f", f->lo, f->hi);
        } else {
                snprintf(v[4], sizeof(v[0]), "—");
                snprintf(v[5], sizeof(v[0]), "—");
        }
        report_change_text(f, prev, v[6], sizeof(v[6]));
        snprintf(full, sizeof(full), "%s%s%s", name, sub && *sub ? " · " : "", sub ? sub : "");
        text(p, x + 2, p->y, name_w - 4, -1, 8, bold, full);
        x += name_w;
        for (size_t i = 0; i < 7; i++) {
                text(p, x, p->y, num_w[i] - 3, 1, 8, bold, v[i]);
                x += num_w[i];
        }
        cairo_set_source_rgb(p->cr, 0.85, 0.85, 0.85);
        cairo_move_to(p->cr, MARGIN, p->y + ROW_H);
        cairo_line_to(p->cr, PAGE_W - MARGIN, p->y + ROW_H);
        cairo_set_line_width(p->cr, 0.4);
        cairo_stroke(p->cr);
        cairo_set_source_rgb(p->cr, 0, 0, 0);
        p->y += ROW_H;
}

/* Room for one more row, else a new page (with the table's header again when first != NULL). */
static void need(struct pdf *p, double h, const char *first)
{
        if (p->y + h <= PAGE_H - MARGIN - 14)
                return;
        new_page(p);
        if (first)
                table_header(p, first);
}

static void heading(struct pdf *p, const char *s)
{
        need(p, 3 * ROW_H + 14, NULL);
        p->y += 8;
        text(p, MARGIN, p->y, 0, -1, 12, true, s);
        p->y += 20;
}

/* Draws everything; with cr on a real surface the page count must be known (p->pages). */
static void draw(struct pdf *p, const struct report_monthly *m)
{
        char s[512], when[64];
        time_t now = (time_t)m->made_at;
        struct tm tm;
        const struct report_fig zero = {0};

        new_page(p);
        text(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, -1, 16, true, tx(p->t, "report.monthly_title"));
        p->y += 26;
        snprintf(s, sizeof(s), "%s · %s", m->unit_id ? m->unit_name : tx(p->t, "report.city"),
                 m->label);
        text(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, -1, 11, false, s);
        p->y += 18;
        localtime_r(&now, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
        snprintf(s, sizeof(s), "%s %s · %s %s", tx(p->t, "report.made_at"), when,
                 tx(p->t, "report.compared_with"), m->prev_label);
        cairo_set_source_rgb(p->cr, 0.35, 0.35, 0.35);
        text(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, -1, 8, false, s);
        cairo_set_source_rgb(p->cr, 0, 0, 0);
        p->y += 16;

        heading(p, tx(p->t, "report.totals"));
        table_header(p, tx(p->t, "report.month"));
        table_row(p, m->label, NULL, &m->total, &m->total_prev, true);
        table_row(p, m->prev_label, NULL, &m->total_prev, &zero, false);
        snprintf(s, sizeof(s), "%s: %" PRId64 " (%s %" PRId64 ", %s %" PRId64 ", %s %" PRId64 ")",
                 tx(p->t, "report.not_counted"), m->total.not_counted,
                 tx(p->t, "report.suppressed"), m->total.n.suppressed, tx(p->t, "report.flagged"),
                 m->total.n.flagged, tx(p->t, "report.excluded"), m->total.n.excluded);
        p->y += 4;
        text(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, -1, 8, false, s);
        p->y += ROW_H;

        if (m->n_units) {
                heading(p, tx(p->t, "report.units"));
                table_header(p, tx(p->t, "report.unit"));
                for (size_t i = 0; i < m->n_units; i++) {
                        need(p, ROW_H, tx(p->t, "report.unit"));
                        table_row(p, m->units[i].name, NULL, &m->units[i].cur, &m->units[i].prev,
                                  false);
                }
        }

        heading(p, tx(p->t, "report.employees"));
        table_header(p, tx(p->t, "report.employee"));
        for (size_t i = 0; i < m->n_emps; i++) {
                need(p, ROW_H, tx(p->t, "report.employee"));
                table_row(p, m->emps[i].name, m->emps[i].position, &m->emps[i].cur,
                          &m->emps[i].prev, false);
        }
        if (!m->n_emps) {
                text(p, MARGIN, p->y, 0, -1, 9, false, tx(p->t, "report.no_votes"));
                p->y += ROW_H;
        }

        heading(p, tx(p->t, "report.flagged_votes"));
        if (!m->n_flagged) {
                text(p, MARGIN, p->y, 0, -1, 9, false, tx(p->t, "report.none"));
                p->y += ROW_H;
        }
        for (size_t i = 0; i < m->n_flagged; i++) {
                const struct store_flagged *f = &m->flagged[i];
                time_t tt = (time_t)(f->cast_at_ms / 1000);
                char lv[16];

                need(p, ROW_H, NULL);
                localtime_r(&tt, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
                snprintf(lv, sizeof(lv), "level.%d", f->level);
                text(p, MARGIN, p->y, 80, -1, 8, false, when);
                text(p, MARGIN + 82, p->y, 70, -1, 8, false, tx(p->t, lv));
                text(p, MARGIN + 154, p->y, 150, -1, 8, false, f->employee);
                text(p, MARGIN + 306, p->y, 100, -1, 8, false, f->flag);
                text(p, MARGIN + 408, p->y, PAGE_W - 2 * MARGIN - 408, -1, 8, false,
                     f->review[0]
                         ? tx(p->t, strcmp(f->review, "count") == 0 ? "report.review_count"
                                                                    : "report.review_exclude")
                         : tx(p->t, "report.review_pending"));
                p->y += ROW_H;
        }
        p->y += 6;
        need(p, 3 * ROW_H, NULL);
        p->y += paragraph(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, 7, tx(p->t, "report.method"));
        footer(p);
}

int report_monthly_pdf(const struct report_monthly *m, const struct i18n *t, char **ret,
                       size_t *ret_len)
{
        struct buf out;
        struct pdf p = {0};
        cairo_surface_t *sf;
        char title[400];
        int r = 0;

        snprintf(title, sizeof(title), "%s · %s", m->unit_id ? m->unit_name : tx(t, "report.city"),
                 m->label);
        p.t = t;
        p.footer_title = title;
        /* pass 1: count the pages on a surface that draws nothing */
        sf = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
        p.cr = cairo_create(sf);
        p.pages = 0;
        draw(&p, m);
        p.pages = p.page;
        cairo_destroy(p.cr);
        cairo_surface_destroy(sf);
        /* pass 2: the PDF */
        buf_init(&out, PDF_MAX);
        sf = cairo_pdf_surface_create_for_stream(write_cb, &out, PAGE_W, PAGE_H);
        cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_TITLE, title);
        cairo_pdf_surface_set_metadata(sf, CAIRO_PDF_METADATA_CREATOR, "Otsinka");
        p.cr = cairo_create(sf);
        p.page = 0;
        draw(&p, m);
        cairo_show_page(p.cr);
        cairo_destroy(p.cr);
        cairo_surface_finish(sf);
        if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS)
                r = out.error ? out.error : -EIO;
        cairo_surface_destroy(sf);
        if (r >= 0) {
                *ret = buf_take(&out, ret_len);
                if (!*ret)
                        r = out.error ? out.error : -ENOMEM;
        }
        buf_free(&out);
        return r;
}
