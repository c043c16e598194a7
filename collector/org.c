/* SPDX-License-Identifier: MIT */
/* Reading and writing the organisation's CSV files. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "fileio.h"
#include "org.h"

#define FILE_MAX (64 * 1024 * 1024)

enum table { UNITS, DIRECTIONS, EMPLOYEES, WORKPLACES, N_TABLES };

static const struct {
        const char *file;
        const char *columns[6];
} tables[N_TABLES] = {
    [UNITS] = {"units.csv", {"code", "parent", "kind", "name", "name_en", NULL}},
    [DIRECTIONS] = {"directions.csv", {"code", "name", "name_en", NULL}},
    [EMPLOYEES] = {"employees.csv",
                   {"personal_no", "full_name", "position", "unit", "is_head", NULL}},
    [WORKPLACES] = {"workplaces.csv", {"code", "name", "unit", "direction", NULL}},
};

static int n_columns(enum table t)
{
        int n = 0;

        while (tables[t].columns[n])
                n++;
        return n;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Checks field col of a record and copies it into dst (n bytes). */
static int take(enum table t, const struct csv_record *rec, int col, bool ref, bool required,
                char *dst, size_t n, char *err, size_t errlen)
{
        const char *v = rec->field[col];
        const char *name = tables[t].columns[col];

        if (required && !v[0])
                return fail(err, errlen, "%s:%d: column %d (%s): empty", tables[t].file, rec->line,
                            col + 1, name);
        if (ref && v[0] && !vote_ref_valid(v))
                return fail(err, errlen,
                            "%s:%d: column %d (%s): \"%.64s\" is not 1 to %d of A-Z a-z 0-9 . _ -",
                            tables[t].file, rec->line, col + 1, name, v, VOTE_REF_MAX);
        if (strlen(v) >= n)
                return fail(err, errlen, "%s:%d: column %d (%s): longer than %zu bytes",
                            tables[t].file, rec->line, col + 1, name, n - 1);
        for (const char *p = v; *p; p++)
                if ((unsigned char)*p < 0x20)
                        return fail(err, errlen, "%s:%d: column %d (%s): a control character",
                                    tables[t].file, rec->line, col + 1, name);
        memcpy(dst, v, strlen(v) + 1);
        return 0;
}

/* Grows *items (of size bytes) to hold one more; returns the new zeroed item or NULL. */
static void *push(void **items, size_t *n, size_t size)
{
        char *p = realloc(*items, (*n + 1) * size);

        if (!p)
                return NULL;
        *items = p;
        memset(p + *n * size, 0, size);
        return p + (*n)++ * size;
}

static int parse_row(enum table t, const struct csv_record *rec, struct store_org *org, char *err,
                     size_t errlen)
{
        int r = 0;

        switch (t) {
        case UNITS: {
                struct store_org_unit *u = push((void **)&org->units, &org->n_units, sizeof(*u));

                if (!u)
                        return -ENOMEM;
                u->line = rec->line;
                if ((r = take(t, rec, 0, true, true, u->code, sizeof(u->code), err, errlen)) < 0 ||
                    (r = take(t, rec, 1, true, false, u->parent, sizeof(u->parent), err, errlen)) <
                        0 ||
                    (r = take(t, rec, 2, false, true, u->kind, sizeof(u->kind), err, errlen)) < 0 ||
                    (r = take(t, rec, 3, false, true, u->name, sizeof(u->name), err, errlen)) < 0 ||
                    (r = take(t, rec, 4, false, false, u->name_en, sizeof(u->name_en), err,
                              errlen)) < 0)
                        return r;
                break;
        }
        case DIRECTIONS: {
                struct store_org_direction *d =
                    push((void **)&org->directions, &org->n_directions, sizeof(*d));

                if (!d)
                        return -ENOMEM;
                d->line = rec->line;
                if ((r = take(t, rec, 0, true, true, d->code, sizeof(d->code), err, errlen)) < 0 ||
                    (r = take(t, rec, 1, false, true, d->name, sizeof(d->name), err, errlen)) < 0 ||
                    (r = take(t, rec, 2, false, false, d->name_en, sizeof(d->name_en), err,
                              errlen)) < 0)
                        return r;
                break;
        }
        case EMPLOYEES: {
                struct store_org_employee *e =
                    push((void **)&org->employees, &org->n_employees, sizeof(*e));
                char head[8];

                if (!e)
                        return -ENOMEM;
                e->line = rec->line;
                if ((r = take(t, rec, 0, true, true, e->personal_no, sizeof(e->personal_no), err,
                              errlen)) < 0 ||
                    (r = take(t, rec, 1, false, true, e->full_name, sizeof(e->full_name), err,
                              errlen)) < 0 ||
                    (r = take(t, rec, 2, false, true, e->position, sizeof(e->position), err,
                              errlen)) < 0 ||
                    (r = take(t, rec, 3, true, true, e->unit, sizeof(e->unit), err, errlen)) < 0)
                        return r;
                if (take(t, rec, 4, false, false, head, sizeof(head), err, errlen) < 0 ||
                    (strcmp(head, "0") && strcmp(head, "1") && strcmp(head, "")))
                        return fail(err, errlen, "%s:%d: column 5 (is_head): expected 1 or 0",
                                    tables[t].file, rec->line);
                e->is_head = strcmp(head, "1") == 0;
                break;
        }
        case WORKPLACES: {
                struct store_org_workplace *w =
                    push((void **)&org->workplaces, &org->n_workplaces, sizeof(*w));

                if (!w)
                        return -ENOMEM;
                w->line = rec->line;
                if ((r = take(t, rec, 0, true, true, w->code, sizeof(w->code), err, errlen)) < 0 ||
                    (r = take(t, rec, 1, false, true, w->name, sizeof(w->name), err, errlen)) < 0 ||
                    (r = take(t, rec, 2, true, true, w->unit, sizeof(w->unit), err, errlen)) < 0 ||
                    (r = take(t, rec, 3, true, false, w->direction, sizeof(w->direction), err,
                              errlen)) < 0)
                        return r;
                break;
        }
        default:
                return -EINVAL;
        }
        return 0;
}

int org_parse(const char *name, const char *data, size_t len, struct store_org *org, char *err,
              size_t errlen)
{
        struct csv_reader rd;
        struct csv_record *rec;
        enum table t = N_TABLES;
        int r, want;

        for (int i = 0; i < N_TABLES; i++)
                if (strcmp(name, tables[i].file) == 0)
                        t = (enum table)i;
        if (t == N_TABLES)
                return fail(err, errlen,
                            "%s: not one of units.csv, directions.csv, "
                            "employees.csv, workplaces.csv",
                            name);
        rec = malloc(sizeof(*rec));
        if (!rec)
                return -ENOMEM;
        want = n_columns(t);
        csv_reader_init(&rd, data, len);
        r = csv_read(&rd, rec);
        if (r <= 0 || rec->n != want) {
                r = fail(err, errlen, "%s:1: expected the header row", name);
                goto out;
        }
        for (int i = 0; i < want; i++)
                if (strcmp(rec->field[i], tables[t].columns[i]) != 0) {
                        r = fail(err, errlen, "%s:1: column %d: expected \"%s\", not \"%.40s\"",
                                 name, i + 1, tables[t].columns[i], rec->field[i]);
                        goto out;
                }
        while ((r = csv_read(&rd, rec)) > 0) {
                if (rec->n != want) {
                        r = fail(err, errlen, "%s:%d: %d columns, expected %d", name, rec->line,
                                 rec->n, want);
                        goto out;
                }
                r = parse_row(t, rec, org, err, errlen);
                if (r < 0)
                        goto out;
        }
        if (r < 0)
                r = fail(err, errlen, "%s:%d: %s", name, rec->line,
                         r == -E2BIG ? "a record too long or with too many columns"
                                     : "malformed CSV (a quote not closed, text after a closing "
                                       "quote, or bytes that are not UTF-8)");
out:
        free(rec);
        return r < 0 ? r : 0;
}

int org_read_dir(const char *dir, struct store_org *ret, char *err, size_t errlen)
{
        struct store_org org = {0};
        int found = 0, r = 0;

        for (int t = 0; t < N_TABLES; t++) {
                char path[4096], *data = NULL;
                size_t len = 0;

                snprintf(path, sizeof(path), "%s/%s", dir, tables[t].file);
                r = fileio_read(path, FILE_MAX, &data, &len);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        snprintf(err, errlen, "%s: %s", path, strerror(-r));
                        goto fail;
                }
                found++;
                r = org_parse(tables[t].file, data, len, &org, err, errlen);
                free(data);
                if (r < 0)
                        goto fail;
        }
        if (!found) {
                snprintf(err, errlen,
                         "%s: none of units.csv, directions.csv, employees.csv, "
                         "workplaces.csv is there",
                         dir);
                r = -ENOENT;
                goto fail;
        }
        *ret = org;
        return 0;
fail:
        store_org_finish(&org);
        return r;
}

static void header(struct buf *b, enum table t)
{
        int n = n_columns(t);

        for (int i = 0; i < n; i++)
                csv_write_field(b, tables[t].columns[i], i == n - 1);
}

static void write_rows(const struct store_org *org, enum table t, struct buf *b)
{
        header(b, t);
        switch (t) {
        case UNITS:
                for (size_t i = 0; i < org->n_units; i++) {
                        const struct store_org_unit *u = &org->units[i];

                        csv_write_field(b, u->code, false);
                        csv_write_field(b, u->parent, false);
                        csv_write_field(b, u->kind, false);
                        csv_write_field(b, u->name, false);
                        csv_write_field(b, u->name_en, true);
                }
                break;
        case DIRECTIONS:
                for (size_t i = 0; i < org->n_directions; i++) {
                        csv_write_field(b, org->directions[i].code, false);
                        csv_write_field(b, org->directions[i].name, false);
                        csv_write_field(b, org->directions[i].name_en, true);
                }
                break;
        case EMPLOYEES:
                for (size_t i = 0; i < org->n_employees; i++) {
                        const struct store_org_employee *e = &org->employees[i];

                        csv_write_field(b, e->personal_no, false);
                        csv_write_field(b, e->full_name, false);
                        csv_write_field(b, e->position, false);
                        csv_write_field(b, e->unit, false);
                        csv_write_field(b, e->is_head ? "1" : "0", true);
                }
                break;
        case WORKPLACES:
                for (size_t i = 0; i < org->n_workplaces; i++) {
                        const struct store_org_workplace *w = &org->workplaces[i];

                        csv_write_field(b, w->code, false);
                        csv_write_field(b, w->name, false);
                        csv_write_field(b, w->unit, false);
                        csv_write_field(b, w->direction, true);
                }
                break;
        default:
                break;
        }
}

int org_write_table(const struct store_org *org, const char *name, struct buf *out)
{
        for (int t = 0; t < N_TABLES; t++)
                if (strcmp(name, tables[t].file) == 0) {
                        write_rows(org, (enum table)t, out);
                        return out->error;
                }
        return -EINVAL;
}

int org_write_dir(const char *dir, const struct store_org *org)
{
        for (int t = 0; t < N_TABLES; t++) {
                struct buf b;
                int r;

                buf_init(&b, FILE_MAX);
                write_rows(org, (enum table)t, &b);
                r = b.error ? b.error
                            : fileio_write_atomic(dir, tables[t].file, b.data ? b.data : "", b.len,
                                                  0644);
                buf_free(&b);
                if (r < 0)
                        return r;
        }
        return 0;
}
