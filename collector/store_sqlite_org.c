/* SPDX-License-Identifier: MIT */
/* Importing and exporting the organisation in the SQLite back end: upserts by code in one
 * transaction, each row's references checked, the first problem named with its file and line;
 * and the edit pages' reads and writes of one record, each change one transaction that checks
 * the user's subtree, the references, duplicates and loops before it writes anything. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sqlerr.h"
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
        if (rc == SQLITE_DONE)
                r = sqlite3_changes(db) > 0;
        else
                /* a clash is the caller's to report, not a fault to log */
                r = (rc & 0xff) == SQLITE_CONSTRAINT ? sqlerr_to_errno(rc, 0)
                                                     : sq_map_error(db, rc, sql);
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

/* 1 when unit is below or is the unit above, 0 when not, or a negative errno. Making below
 * the parent of an ancestor would loop; an official's scope is above. */
static int ancestor_or_self(sqlite3 *db, int64_t above, int64_t below)
{
        sqlite3_stmt *st = NULL;
        int r, rc;

        r = sq_prepare(db,
                       "WITH RECURSIVE up(id) AS (SELECT ?2 UNION SELECT u.parent_id FROM units u"
                       " JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL)"
                       " SELECT 1 FROM up WHERE id = ?1",
                       &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, above);
        sqlite3_bind_int64(st, 2, below);
        rc = sqlite3_step(st);
        r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sq_map_error(db, rc, "ancestors");
        sqlite3_finalize(st);
        return r;
}

/* True when unit is parent or one of its ancestors: making parent its parent would loop (and
 * when that cannot be told, which stops the import too). */
static bool is_ancestor_or_self(sqlite3 *db, int64_t unit, int64_t parent)
{
        return ancestor_or_self(db, unit, parent) != 0;
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

/* ---- one record at a time, for the edit pages ---- */

/* Per kind: the query that reads a record by code (the columns the export's fill function
 * takes, then the row's id and the unit whose subtree it lies in, 0 for a direction), the
 * query of a code's id, and the field a duplicate code clashes on. */
static const struct {
        const char *read;
        void (*fill)(sqlite3_stmt *, void *);
        int id_col;
        const char *by_code;
        const char *code_field;
} records[] = {
    [STORE_ORG_UNIT] = {"SELECT u.code, IFNULL(p.code, ''), u.kind, u.name, u.name_en, u.id, u.id,"
                        " u.id FROM units u LEFT JOIN units p ON p.id = u.parent_id"
                        " WHERE u.code = ?",
                        fill_unit, 6, "SELECT id FROM units WHERE code = ?", "code"},
    [STORE_ORG_DIRECTION] = {"SELECT code, name, name_en, id, 0 FROM directions WHERE code = ?",
                             fill_direction, 3, "SELECT id FROM directions WHERE code = ?", "code"},
    [STORE_ORG_EMPLOYEE] = {"SELECT e.personal_no, e.full_name, e.position, u.code, e.is_head,"
                            " e.id, e.unit_id FROM employees e JOIN units u ON u.id = e.unit_id"
                            " WHERE e.personal_no = ?",
                            fill_employee, 5, "SELECT id FROM employees WHERE personal_no = ?",
                            "personal_no"},
    [STORE_ORG_WORKPLACE] = {"SELECT w.code, w.name, u.code, IFNULL(d.code, ''), w.id, w.unit_id"
                             " FROM workplaces w JOIN units u ON u.id = w.unit_id"
                             " LEFT JOIN directions d ON d.id = w.direction_id WHERE w.code = ?",
                             fill_workplace, 4, "SELECT id FROM workplaces WHERE code = ?", "code"},
};

static bool record_kind_valid(enum store_org_kind kind)
{
        return (unsigned)kind < sizeof(records) / sizeof(records[0]);
}

/* The code a record is known by. */
static const char *record_code(const struct store_org_record *rec)
{
        switch (rec->kind) {
        case STORE_ORG_UNIT:
                return rec->unit.code;
        case STORE_ORG_DIRECTION:
                return rec->direction.code;
        case STORE_ORG_EMPLOYEE:
                return rec->employee.personal_no;
        case STORE_ORG_WORKPLACE:
                return rec->workplace.code;
        }
        return "";
}

/* Reads the record of ret->kind with code into *ret, its row id and the unit of its scope:
 * 1 when found, 0 when not, or a negative errno. */
static int record_read(sqlite3 *db, const char *code, struct store_org_record *ret, int64_t *ret_id,
                       int64_t *ret_unit)
{
        enum store_org_kind kind = ret->kind;
        sqlite3_stmt *st = NULL;
        int r, rc;

        r = sq_prepare(db, records[kind].read, &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                memset(ret, 0, sizeof(*ret));
                ret->kind = kind;
                records[kind].fill(st, &ret->unit); /* every member starts the union */
                *ret_id = sqlite3_column_int64(st, records[kind].id_col);
                *ret_unit = sqlite3_column_int64(st, records[kind].id_col + 1);
                r = 1;
        } else
                r = rc == SQLITE_DONE ? 0 : sq_map_error(db, rc, records[kind].read);
        sqlite3_finalize(st);
        return r;
}

/* 1 when unit lies in scope's subtree (scope 0: everywhere; unit 0, no unit, only then). */
static int in_scope(sqlite3 *db, int64_t scope, int64_t unit)
{
        if (scope == 0)
                return 1;
        return unit ? ancestor_or_self(db, scope, unit) : 0;
}

static int refuse(const char **ret_field, const char *field, int r)
{
        *ret_field = field;
        return r;
}

/* The id of the row code names in the table by_code reads: 0 with -ENOENT on field when
 * there is none. Empty codes are left for the caller. */
static int64_t ref_id(sqlite3 *db, const char *by_code, const char *code)
{
        int64_t id = id_of(db, by_code, code);

        return id < 0 ? -EIO : id == 0 ? -ENOENT : id;
}

/* Checks rec's references against scope and the tree, then writes it: 0 or a negative errno
 * with the field at fault. Runs inside the caller's transaction. */
static int record_write(sqlite3 *db, int64_t scope, const char *orig,
                        const struct store_org_record *rec, struct store_org_record *old,
                        const char **ret_field)
{
        enum store_org_kind kind = rec->kind;
        int64_t id = 0, unit = 0, ref = 0, dir = 0, other;
        const char *unit_sql = records[STORE_ORG_UNIT].by_code;
        int r;

        old->kind = kind;
        if (orig[0]) {
                r = record_read(db, orig, old, &id, &unit);
                if (r == 0)
                        return -ENOENT;
                if (r > 0)
                        r = in_scope(db, scope, unit);
                if (r <= 0)
                        return r < 0 ? r : -ENOENT;
        }
        switch (kind) {
        case STORE_ORG_UNIT:
                if (!kind_valid(rec->unit.kind))
                        return refuse(ret_field, "kind", -EINVAL);
                if (rec->unit.parent[0] && (ref = ref_id(db, unit_sql, rec->unit.parent)) < 0)
                        return refuse(ret_field, "parent", (int)ref);
                r = in_scope(db, scope, ref);
                if (r <= 0)
                        return refuse(ret_field, "parent", r < 0 ? r : -EACCES);
                if (id && ref) {
                        r = ancestor_or_self(db, id, ref);
                        if (r != 0)
                                return refuse(ret_field, "parent", r < 0 ? r : -ELOOP);
                }
                break;
        case STORE_ORG_DIRECTION:
                if (scope)
                        return refuse(ret_field, NULL, -EACCES);
                break;
        case STORE_ORG_EMPLOYEE:
        case STORE_ORG_WORKPLACE: {
                const char *u =
                    kind == STORE_ORG_EMPLOYEE ? rec->employee.unit : rec->workplace.unit;

                ref = ref_id(db, unit_sql, u);
                if (ref < 0)
                        return refuse(ret_field, "unit", (int)ref);
                r = in_scope(db, scope, ref);
                if (r <= 0)
                        return refuse(ret_field, "unit", r < 0 ? r : -EACCES);
                if (kind == STORE_ORG_WORKPLACE && rec->workplace.direction[0] &&
                    (dir = ref_id(db, records[STORE_ORG_DIRECTION].by_code,
                                  rec->workplace.direction)) < 0)
                        return refuse(ret_field, "direction", (int)dir);
                break;
        }
        }
        /* told apart before the write, so that a clash names its field; the UNIQUE index
         * stays the guard */
        other = id_of(db, records[kind].by_code, record_code(rec));
        if (other < 0)
                return -EIO;
        if (other && other != id)
                return refuse(ret_field, records[kind].code_field, -EEXIST);

        switch (kind) {
        case STORE_ORG_UNIT: {
                const struct store_org_unit *u = &rec->unit;

                r = id ? exec_bind(db,
                                   "UPDATE units SET code = ?, parent_id = ?, kind = ?, name = ?,"
                                   " name_en = ? WHERE id = ?",
                                   "tntttin", u->code, ref, u->kind, u->name, u->name_en, id)
                       : exec_bind(db,
                                   "INSERT INTO units(code, parent_id, kind, name, name_en)"
                                   " VALUES (?, ?, ?, ?, ?)",
                                   "tnttt", u->code, ref, u->kind, u->name, u->name_en);
                break;
        }
        case STORE_ORG_DIRECTION: {
                const struct store_org_direction *d = &rec->direction;

                r = id ? exec_bind(db,
                                   "UPDATE directions SET code = ?, name = ?, name_en = ?"
                                   " WHERE id = ?",
                                   "ttti", d->code, d->name, d->name_en, id)
                       : exec_bind(db,
                                   "INSERT INTO directions(code, name, name_en) VALUES (?, ?, ?)",
                                   "ttt", d->code, d->name, d->name_en);
                break;
        }
        case STORE_ORG_EMPLOYEE: {
                const struct store_org_employee *e = &rec->employee;

                /* votes carry their own unit_id: the old ones stay where they were cast */
                r = id ? exec_bind(db,
                                   "UPDATE employees SET personal_no = ?, full_name = ?,"
                                   " position = ?, unit_id = ?, is_head = ? WHERE id = ?",
                                   "tttiii", e->personal_no, e->full_name, e->position, ref,
                                   (int64_t)e->is_head, id)
                       : exec_bind(db,
                                   "INSERT INTO employees(personal_no, full_name, position,"
                                   " unit_id, is_head) VALUES (?, ?, ?, ?, ?)",
                                   "tttii", e->personal_no, e->full_name, e->position, ref,
                                   (int64_t)e->is_head);
                break;
        }
        case STORE_ORG_WORKPLACE: {
                const struct store_org_workplace *w = &rec->workplace;

                r = id ? exec_bind(db,
                                   "UPDATE workplaces SET code = ?, name = ?, unit_id = ?,"
                                   " direction_id = ? WHERE id = ?",
                                   "ttini", w->code, w->name, ref, dir, id)
                       : exec_bind(db,
                                   "INSERT INTO workplaces(code, name, unit_id, direction_id)"
                                   " VALUES (?, ?, ?, ?)",
                                   "ttin", w->code, w->name, ref, dir);
                break;
        }
        }
        if (r == -EEXIST)
                *ret_field = records[kind].code_field;
        return r < 0 ? r : 0;
}

int sq_org_record_get(struct store *base, int64_t scope, const char *code,
                      struct store_org_record *ret)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        struct store_org_record rec = {.kind = ret->kind};
        int64_t id = 0, unit = 0;
        int r;

        if (!record_kind_valid(ret->kind))
                return -EINVAL;
        pthread_mutex_lock(&s->lock);
        r = record_read(s->db, code, &rec, &id, &unit);
        if (r > 0)
                r = in_scope(s->db, scope, unit);
        pthread_mutex_unlock(&s->lock);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        *ret = rec;
        return 0;
}

int sq_org_record_save(struct store *base, int64_t scope, const char *orig,
                       const struct store_org_record *rec, struct store_org_record *ret_old,
                       const char **ret_field)
{
        struct sqlite_store *s = (struct sqlite_store *)base;
        struct store_org_record old = {0};
        int r;

        *ret_field = NULL;
        if (!record_kind_valid(rec->kind))
                return -EINVAL;
        pthread_mutex_lock(&s->lock);
        r = sq_exec(s->db, "BEGIN IMMEDIATE");
        if (r < 0)
                goto out;
        r = record_write(s->db, scope, orig ? orig : "", rec, &old, ret_field);
        if (r >= 0)
                r = sq_exec(s->db, "COMMIT");
        if (r < 0)
                sq_exec(s->db, "ROLLBACK");
out:
        pthread_mutex_unlock(&s->lock);
        if (r >= 0)
                *ret_old = old;
        return r;
}
