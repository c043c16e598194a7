/* SPDX-License-Identifier: MIT */
/* The monthly report (regulation 4.1): for a unit's subtree and a month, the totals with the
 * change against the month before, a table per employee, the units below and the flagged
 * votes; as CSV (one per table), PDF (reportpdf.c) and XLSX (reportxlsx.c). Texts come from
 * the translations (keys report.*), so each format speaks the reader's language. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "i18n.h"
#include "report.h"
#include "store.h"

struct report_monthly_row {
        char name[256];     /* employee's full name, or the unit's name */
        char position[256]; /* employees: position; units: "" */
        char unit[256];     /* employees: the unit the votes were cast in (the first, if several) */
        struct report_fig cur, prev;
};

struct report_monthly {
        int64_t unit_id; /* 0: the whole city */
        char unit_name[256];
        char label[PERIOD_LABEL_MAX], prev_label[PERIOD_LABEL_MAX];
        struct report_fig total, total_prev;
        struct report_monthly_row *emps; /* by name */
        size_t n_emps;
        struct report_monthly_row *units; /* the units just below, in tree order */
        size_t n_units;
        struct store_flagged *flagged; /* cast in the month, newest first */
        size_t n_flagged;
        int64_t made_at; /* Unix s */
};

/* month: "YYYY-MM" (NULL or "": the month before now). -EINVAL for another label, -ENOENT for an
 * unknown unit. The caller finishes *ret. */
int report_monthly_build(struct store *s, int64_t unit_id, const char *month, int64_t now_s,
                         struct report_monthly *ret);
void report_monthly_finish(struct report_monthly *m);

enum report_table {
        REPORT_TABLE_TOTALS,
        REPORT_TABLE_EMPLOYEES,
        REPORT_TABLE_UNITS,
        REPORT_TABLE_FLAGGED
};
int report_table_from_string(const char *s, enum report_table *ret);
/* One table as CSV (csv.h), with a header row in t's language. */
int report_monthly_csv(const struct report_monthly *m, enum report_table table,
                       const struct i18n *t, struct buf *b);
/* The whole report as an A4 PDF (Cyrillic, page numbers) or an XLSX workbook (a sheet per
 * table). *ret is malloc'd. */
int report_monthly_pdf(const struct report_monthly *m, const struct i18n *t, char **ret,
                       size_t *ret_len);
int report_monthly_xlsx(const struct report_monthly *m, const struct i18n *t, char **ret,
                        size_t *ret_len);

/* "+1.5" / "-0.3" / "—": the change of the index, for the tables. */
void report_change_text(const struct report_fig *cur, const struct report_fig *prev, char *buf,
                        size_t n);
