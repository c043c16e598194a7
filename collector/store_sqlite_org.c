/* SPDX-License-Identifier: MIT */
/* Importing and exporting the organisation in the SQLite back end: upserts by code in one
 * transaction, each row's references checked, the first problem named with its file and line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_sqlite.h"

/* The unit kinds of the regulation (section 1: the council and its executive bodies, their
 * structural units, enterprises, establishments and institutions). */
static const char *const unit_kinds[] = {
    "council",    "executive_body", "department",  "directorate", "district_committee",
    "enterprise", "establishment",  "institution", "section",     NULL};

static int report_error(struct store_org_report *rep, const char *file, int line, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
static int report_error(struct store_org_report *rep, const char *file, int line, const char *fmt,
                        ...)
{
        va_list ap;
        int n = snprintf(rep->error, sizeof(rep->error), "%s:%d: ", file, line);

        va_start(ap, fmt);
        vsnprintf(rep->error + n, sizeof(rep->error) - (size_t)n, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* The id of the row sql finds by code; 0 when there is none, -1 when the query failed. */
static int64_t id_of(sqlite3 *db, const char *sql, const char *code)
{
        sqlite3_stmt *st = NULL;
        int64_t id = 0;

        if (sq_prepare(db, sql, &st) < 0)
                return -1;
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
                id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return id;
}

/* Runs one statement with text/int parameters ('t', 'i', 'n' = int where 0 binds NULL);
 * 1 when it changed a row, 0 when not, or a negative errno. */
static int exec_bind(sqlite3 *db, const char *sql, const char *types, ...)
{
        sqlite3_stmt *st = NULL;
        va_list ap;
        int r, rc;

        r = sq_prepare(db, sql, &st);
        if (r < 0)
                return r;
        va_start(ap, types);
        for (int i = 0; types[i]; i++) {
                if (types[i] == 't')
                        sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
                                          SQLITE_TRANSIENT);
                else {
                        int64_t v = va_arg(ap, int64_t);

                        if (types[i] == 'n' && v == 0)
                                sqlite3_bind_null(st, i + 1);
                        else
                                sqlite3_bind_int64(st, i + 1, v);
                }
        }
        va_end(ap);
        rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? sqlite3_changes(db) > 0 : sq_map_error(db, rc, sql);
        sqlite3_finalize(st);
        return r;
}

static bool kind_valid(const char *k)
{
        for (const char *const *p = unit_kinds; *p; p++)
                if (strcmp(*p, k) == 0)
                        return true;
        return false;
}

/* True when unit is parent or one of its ancestors: making parent its parent would loop. */
static bool is_ancestor_or_self(sqlite3 *db, int64_t unit, int64_t parent)
{
        sqlite3_stmt *st = NULL;
        bool found = false;

        if (sq_prepare(db,
                       "WITH RECURSIVE up(id) AS (SELECT ?2 UNION SELECT u.parent_id FROM units u"
                       " JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL)"
                       " SELECT 1 FROM up WHERE id = ?1",
                       &st) < 0)
                return true;
        sqlite3_bind_int64(st, 1, unit);
        sqlite3_bind_int64(st, 2, parent);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        return found;
}

static int import_units(sqlite3 *db, const struct store_org *org, struct store_org_report *rep)
{
        for (size_t i = 0; i < org->n_units; i++) {
                const struct store_org_unit *u = &org->units[i];
                int64_t id = id_of(db, "SELECT id FROM units WHERE code = ?", u->code), parent = 0;
                int r;

                if (id < 0)
                        return -EIO;
                if (!kind_valid(u->kind))
                        return report_error(rep, "units.csv", u->line,
                                            "kind: \"%.32s\" is not one of council, "
                                            "executive_body, department, directorate, "
                                            "district_committee, enterprise, establishment, "
                                            "institution, section",
                                            u->kind);
                if (u->parent[0]) {
                        parent = id_of(db, "SELECT id FROM units WHERE code = ?", u->parent);
                        if (parent < 0)
                                return -EIO;
                        if (parent == 0)
                                return report_error(rep, "units.csv", u->line,
                                                    "parent: no unit \"%s\" (list parents "
                                                    "before their units)",
                                                    u->parent);
                        if (id > 0 && is_ancestor_or_self(db, id, parent))
                                return report_error(rep, "units.csv", u->line,
                                                    "parent: \"%s\" is inside this unit",
                                                    u->parent);
                }
                if (id > 0)
                        r = exec_bind(
                            db,
                            "UPDATE units SET parent_id = ?, kind = ?, name = ?, name_en = ?"
                            " WHERE id = ? AND (parent_id IS NOT ? OR kind != ? OR"
                            " name != ? OR name_en != ?)",
                            "ntttinttt", parent, u->kind, u->name, u->name_en, id, parent, u->kind,
                            u->name, u->name_en);
                else
                        r = exec_bind(db,
                                      "INSERT INTO units(parent_id, kind, name, name_en, code)"
                                      " VALUES (?, ?, ?, ?, ?)",
                                      "ntttt", parent, u->kind, u->name, u->name_en, u->code);
                if (r < 0)
                        return report_error(rep, "units.csv", u->line, "%s", strerror(-r));
                if (r > 0)
                        (id > 0 ? rep->changed : rep->added)[0]++;
        }
        return 0;
}

static int import_directions(sqlite3 *db, const struct store_org *org, struct store_org_report *rep)
{
        for (size_t i = 0; i < org->n_directions; i++) {
                const struct store_org_direction *d = &org->directions[i];
                int64_t id = id_of(db, "SELECT id FROM directions WHERE code = ?", d->code);
                int r;

                if (id < 0)
                        return -EIO;
                if (id > 0)
                        r = exec_bind(db,
                                      "UPDATE directions SET name = ?, name_en = ? WHERE id = ?"
                                      " AND (name != ? OR name_en != ?)",
                                      "ttitt", d->name, d->name_en, id, d->name, d->name_en);
                else
                        r = exec_bind(
                            db, "INSERT INTO directions(code, name, name_en) VALUES (?, ?, ?)",
                            "ttt", d->code, d->name, d->name_en);
                if (r < 0)
                        return report_error(rep, "directions.csv", d->line, "%s", strerror(-r));
                if (r > 0)
                        (id > 0 ? rep->changed : rep->added)[1]++;
        }
        return 0;
}

static int import_employees(sqlite3 *db, const struct store_org *org, struct store_org_report *rep)
{
        for (size_t i = 0; i < org->n_employees; i++) {
                const struct store_org_employee *e = &org->employees[i];
                int64_t id =
                    id_of(db, "SELECT id FROM employees WHERE personal_no = ?", e->personal_no);
                int64_t unit = id_of(db, "SELECT id FROM units WHERE code = ?", e->unit);
                int r;

                if (id < 0 || unit < 0)
                        return -EIO;
                if (unit == 0)
                        return report_error(rep, "employees.csv", e->line, "unit: no unit \"%s\"",
                                            e->unit);
                if (id > 0)
                        r = exec_bind(
                            db,
                            "UPDATE employees SET full_name = ?, position = ?, unit_id = ?,"
                            " is_head = ? WHERE id = ? AND (full_name != ? OR position != ?"
                            " OR unit_id != ? OR is_head != ?)",
                            "ttiiittii", e->full_name, e->position, unit, (int64_t)e->is_head, id,
                            e->full_name, e->position, unit, (int64_t)e->is_head);
                else
                        r = exec_bind(db,
                                      "INSERT INTO employees(personal_no, full_name, position,"
                                      " unit_id, is_head) VALUES (?, ?, ?, ?, ?)",
                                      "tttii", e->personal_no, e->full_name, e->position, unit,
                                      (int64_t)e->is_head);
                if (r < 0)
                        return report_error(rep, "employees.csv", e->line, "%s", strerror(-r));
                if (r > 0)
                        (id > 0 ? rep->changed : rep->added)[2]++;
        }
        return 0;
}

static int import_workplaces(sqlite3 *db, const struct store_org *org, struct store_org_report *rep)
{
        for (size_t i = 0; i < org->n_workplaces; i++) {
                const struct store_org_workplace *w = &org->workplaces[i];
                int64_t id = id_of(db, "SELECT id FROM workplaces WHERE code = ?", w->code);
                int64_t unit = id_of(db, "SELECT id FROM units WHERE code = ?", w->unit), dir = 0;
                int r;

                if (id < 0 || unit < 0)
                        return -EIO;
                if (unit == 0)
                        return report_error(rep, "workplaces.csv", w->line, "unit: no unit \"%s\"",
                                            w->unit);
                if (w->direction[0]) {
                        dir = id_of(db, "SELECT id FROM directions WHERE code = ?", w->direction);
                        if (dir < 0)
                                return -EIO;
                        if (dir == 0)
                                return report_error(rep, "workplaces.csv", w->line,
                                                    "direction: no direction \"%s\"", w->direction);
                }
                if (id > 0)
                        r = exec_bind(
                            db,
                            "UPDATE workplaces SET name = ?, unit_id = ?, direction_id = ?"
                            " WHERE id = ? AND (name != ? OR unit_id != ? OR"
                            " direction_id IS NOT ?)",
                            "tnnitin", w->name, unit, dir, id, w->name, unit, dir);
                else
                        r = exec_bind(db,
                                      "INSERT INTO workplaces(code, name, unit_id, direction_id)"
                                      " VALUES (?, ?, ?, ?)",
                                      "ttin", w->code, w->name, unit, dir);
                if (r < 0)
                        return report_error(rep, "workplaces.csv", w->line, "%s", strerror(-r));
                if (r > 0)
                        (id > 0 ? rep->changed : rep->added)[3]++;
        }
        return 0;
}

int sq_org_import(struct store *base, const struct store_org *org, bool dry_run,
                  struct store_org_report *rep)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        int r;

        memset(rep, 0, sizeof(*rep));
        pthread_mutex_lock(&s->lock);
        r = sq_exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                goto out;
        /* directions and units before what refers to them */
        if ((r = import_directions(s->db, org, rep)) < 0 ||
            (r = import_units(s->db, org, rep)) < 0 ||
            (r = import_employees(s->db, org, rep)) < 0 ||
            (r = import_workplaces(s->db, org, rep)) < 0 || dry_run) {
                sq_exec(s->db, "ROLLBACK");
                goto out;
        }
        r = sq_exec(s->db, "COMMIT");
        if (r < 0)
                sq_exec(s->db, "ROLLBACK");
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}

static void fill_unit(sqlite3_stmt *st, void *p)
{
        struct store_org_unit *u = p;

        sq_copy_text(st, 0, u->code, sizeof(u->code));
        sq_copy_text(st, 1, u->parent, sizeof(u->parent));
        sq_copy_text(st, 2, u->kind, sizeof(u->kind));
        sq_copy_text(st, 3, u->name, sizeof(u->name));
        sq_copy_text(st, 4, u->name_en, sizeof(u->name_en));
        u->id = sqlite3_column_int64(st, 5);
}

static void fill_direction(sqlite3_stmt *st, void *p)
{
        struct store_org_direction *d = p;

        sq_copy_text(st, 0, d->code, sizeof(d->code));
        sq_copy_text(st, 1, d->name, sizeof(d->name));
        sq_copy_text(st, 2, d->name_en, sizeof(d->name_en));
}

static void fill_employee(sqlite3_stmt *st, void *p)
{
        struct store_org_employee *e = p;

        sq_copy_text(st, 0, e->personal_no, sizeof(e->personal_no));
        sq_copy_text(st, 1, e->full_name, sizeof(e->full_name));
        sq_copy_text(st, 2, e->position, sizeof(e->position));
        sq_copy_text(st, 3, e->unit, sizeof(e->unit));
        e->is_head = sqlite3_column_int(st, 4) != 0;
}

static void fill_workplace(sqlite3_stmt *st, void *p)
{
        struct store_org_workplace *w = p;

        sq_copy_text(st, 0, w->code, sizeof(w->code));
        sq_copy_text(st, 1, w->name, sizeof(w->name));
        sq_copy_text(st, 2, w->unit, sizeof(w->unit));
        sq_copy_text(st, 3, w->direction, sizeof(w->direction));
}

int sq_org_export(struct store *base, struct store_org *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        struct store_org org = {0};
        void *p = NULL;
        int r;

        pthread_mutex_lock(&s->lock);
        r = sq_collect(
            s->db,
            "WITH RECURSIVE tree(id, path) AS (SELECT id, printf('%08d', id) FROM units"
            " WHERE parent_id IS NULL UNION ALL SELECT u.id, t.path || '/' ||"
            " printf('%08d', u.id) FROM units u JOIN tree t ON u.parent_id = t.id)"
            " SELECT u.code, IFNULL(p.code, ''), u.kind, u.name, u.name_en, u.id FROM tree t"
            " JOIN units u ON u.id = t.id LEFT JOIN units p ON p.id = u.parent_id"
            " ORDER BY t.path",
            NULL, sizeof(*org.units), fill_unit, &p, &org.n_units);
        org.units = p;
        if (r >= 0) {
                r = sq_collect(s->db, "SELECT code, name, name_en FROM directions ORDER BY code",
                               NULL, sizeof(*org.directions), fill_direction, &p,
                               &org.n_directions);
                org.directions = r >= 0 ? p : NULL;
        }
        if (r >= 0) {
                r = sq_collect(s->db,
                               "SELECT e.personal_no, e.full_name, e.position, u.code, e.is_head"
                               " FROM employees e JOIN units u ON u.id = e.unit_id"
                               " ORDER BY e.personal_no",
                               NULL, sizeof(*org.employees), fill_employee, &p, &org.n_employees);
                org.employees = r >= 0 ? p : NULL;
        }
        if (r >= 0) {
                r = sq_collect(s->db,
                               "SELECT w.code, w.name, u.code, IFNULL(d.code, '') FROM workplaces w"
                               " JOIN units u ON u.id = w.unit_id"
                               " LEFT JOIN directions d ON d.id = w.direction_id ORDER BY w.code",
                               NULL, sizeof(*org.workplaces), fill_workplace, &p,
                               &org.n_workplaces);
                org.workplaces = r >= 0 ? p : NULL;
        }
        pthread_mutex_unlock(&s->lock);
        if (r < 0) {
                store_org_finish(&org);
                return r;
        }
        *ret = org;
        return 0;
}
