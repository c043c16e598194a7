/* SPDX-License-Identifier: MIT */
/* The monthly report as an XLSX workbook (libxlsxwriter): a sheet per table, numbers as
 * numbers, so that the deputy mayor's office can sort and sum. libxlsxwriter 1.1 writes only to
 * files: the workbook goes to a private temporary file that is read back and removed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "fileio.h"
#include "reportdoc.h"

#define XLSX_MAX (64 * 1024 * 1024)

static const char *tx(const struct i18n *t, const char *key)
{
        const char *s = t ? i18n_get(t, key) : NULL;

        return s ? s : key;
}

struct fmts {
        lxw_format *head, *num1;
};

static void fig_header(lxw_worksheet *ws, int row, int col, const struct i18n *t, struct fmts *f)
{
        static const char *const keys[] = {
            "level.1",           "level.2",       "level.3",        "report.total",
            "report.index",      "report.ci_low", "report.ci_high", "report.not_counted",
            "report.index_prev", "report.change"};

        for (int i = 0; i < 10; i++)
                worksheet_write_string(ws, row, (lxw_col_t)(col + i), tx(t, keys[i]), f->head);
}

static void fig_cells(lxw_worksheet *ws, int row, int col, const struct report_fig *v,
                      const struct report_fig *prev, struct fmts *f)
{
        for (int l = 1; l <= 3; l++)
                worksheet_write_number(ws, row, (lxw_col_t)(col + l - 1), (double)v->n.level[l],
                                       NULL);
        worksheet_write_number(ws, row, (lxw_col_t)(col + 3), (double)v->n.level[0], NULL);
        if (v->n.level[0]) {
                worksheet_write_number(ws, row, (lxw_col_t)(col + 4), v->index, f->num1);
                worksheet_write_number(ws, row, (lxw_col_t)(col + 5), v->lo, f->num1);
                worksheet_write_number(ws, row, (lxw_col_t)(col + 6), v->hi, f->num1);
        }
        worksheet_write_number(ws, row, (lxw_col_t)(col + 7), (double)v->not_counted, NULL);
        if (prev->n.level[0])
                worksheet_write_number(ws, row, (lxw_col_t)(col + 8), prev->index, f->num1);
        if (v->n.level[0] && prev->n.level[0])
                worksheet_write_number(ws, row, (lxw_col_t)(col + 9), v->index - prev->index,
                                       f->num1);
}

static void write_book(lxw_workbook *wb, const struct report_monthly *m, const struct i18n *t)
{
        struct fmts f;
        lxw_worksheet *ws;
        int row;

        f.head = workbook_add_format(wb);
        format_set_bold(f.head);
        format_set_bg_color(f.head, 0xE6EBF5);
        f.num1 = workbook_add_format(wb);
        format_set_num_format(f.num1, "0.0");

        ws = workbook_add_worksheet(wb, tx(t, "report.sheet_totals"));
        worksheet_write_string(ws, 0, 0, tx(t, "report.monthly_title"), f.head);
        worksheet_write_string(ws, 1, 0, m->unit_id ? m->unit_name : tx(t, "report.city"), NULL);
        worksheet_write_string(ws, 2, 0, tx(t, "report.month"), f.head);
        fig_header(ws, 2, 1, t, &f);
        worksheet_write_string(ws, 3, 0, m->label, NULL);
        fig_cells(ws, 3, 1, &m->total, &m->total_prev, &f);
        worksheet_write_string(ws, 4, 0, m->prev_label, NULL);
        {
                const struct report_fig zero = {0};

                fig_cells(ws, 4, 1, &m->total_prev, &zero, &f);
        }
        worksheet_write_string(ws, 6, 0, tx(t, "report.suppressed"), NULL);
        worksheet_write_number(ws, 6, 1, (double)m->total.n.suppressed, NULL);
        worksheet_write_string(ws, 7, 0, tx(t, "report.flagged"), NULL);
        worksheet_write_number(ws, 7, 1, (double)m->total.n.flagged, NULL);
        worksheet_write_string(ws, 8, 0, tx(t, "report.excluded"), NULL);
        worksheet_write_number(ws, 8, 1, (double)m->total.n.excluded, NULL);
        worksheet_write_string(ws, 10, 0, tx(t, "report.method"), NULL);
        worksheet_set_column(ws, 0, 0, 34, NULL);

        ws = workbook_add_worksheet(wb, tx(t, "report.sheet_employees"));
        worksheet_write_string(ws, 0, 0, tx(t, "report.employee"), f.head);
        worksheet_write_string(ws, 0, 1, tx(t, "report.position"), f.head);
        worksheet_write_string(ws, 0, 2, tx(t, "report.unit"), f.head);
        fig_header(ws, 0, 3, t, &f);
        for (size_t i = 0; i < m->n_emps; i++) {
                row = (int)i + 1;
                worksheet_write_string(ws, row, 0, m->emps[i].name, NULL);
                worksheet_write_string(ws, row, 1, m->emps[i].position, NULL);
                worksheet_write_string(ws, row, 2, m->emps[i].unit, NULL);
                fig_cells(ws, row, 3, &m->emps[i].cur, &m->emps[i].prev, &f);
        }
        worksheet_set_column(ws, 0, 2, 28, NULL);
        worksheet_freeze_panes(ws, 1, 1);

        ws = workbook_add_worksheet(wb, tx(t, "report.sheet_units"));
        worksheet_write_string(ws, 0, 0, tx(t, "report.unit"), f.head);
        fig_header(ws, 0, 1, t, &f);
        for (size_t i = 0; i < m->n_units; i++) {
                worksheet_write_string(ws, (int)i + 1, 0, m->units[i].name, NULL);
                fig_cells(ws, (int)i + 1, 1, &m->units[i].cur, &m->units[i].prev, &f);
        }
        worksheet_set_column(ws, 0, 0, 40, NULL);

        ws = workbook_add_worksheet(wb, tx(t, "report.sheet_flagged"));
        {
                static const char *const keys[] = {
                    "report.cast_at", "report.level", "report.employee", "report.unit",
                    "report.channel", "report.flag",  "report.review",   "report.id"};

                for (int i = 0; i < 8; i++)
                        worksheet_write_string(ws, 0, (lxw_col_t)i, tx(t, keys[i]), f.head);
        }
        for (size_t i = 0; i < m->n_flagged; i++) {
                const struct store_flagged *v = &m->flagged[i];
                time_t tt = (time_t)(v->cast_at_ms / 1000);
                struct tm tm;
                char when[32];

                row = (int)i + 1;
                localtime_r(&tt, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
                worksheet_write_string(ws, row, 0, when, NULL);
                worksheet_write_number(ws, row, 1, v->level, NULL);
                worksheet_write_string(ws, row, 2, v->employee, NULL);
                worksheet_write_string(ws, row, 3, v->unit, NULL);
                worksheet_write_string(ws, row, 4, v->channel, NULL);
                worksheet_write_string(ws, row, 5, v->flag, NULL);
                worksheet_write_string(ws, row, 6, v->review, NULL);
                worksheet_write_string(ws, row, 7, v->uuid, NULL);
        }
        worksheet_set_column(ws, 0, 7, 18, NULL);
}

int report_monthly_xlsx(const struct report_monthly *m, const struct i18n *t, char **ret,
                        size_t *ret_len)
{
        const char *tmp = getenv("TMPDIR");
        char path[512];
        lxw_workbook *wb;
        lxw_error e;
        int fd, r;

        snprintf(path, sizeof(path), "%s/otsinka-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        fd = mkstemp(path);
        if (fd < 0)
                return -errno;
        close(fd);
        wb = workbook_new(path);
        if (!wb) {
                unlink(path);
                return -EIO;
        }
        write_book(wb, m, t);
        e = workbook_close(wb);
        r = e == LXW_NO_ERROR ? fileio_read(path, XLSX_MAX, ret, ret_len) : -EIO;
        unlink(path);
        return r;
}
