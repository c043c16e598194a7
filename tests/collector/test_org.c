/* SPDX-License-Identifier: MIT */
/* The organisation as CSV: the strict reader and the writer (collector/csv.c), the files'
 * checks with their file:line:column messages (collector/org.c), and import / export on a
 * real SQLite store, where a dry run saves nothing and moving an employee leaves the votes
 * cast before the move where they were cast. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "buf.h"
#include "csv.h"
#include "fileio.h"
#include "org.h"
#include "period.h"
#include "store.h"
#include "testutil.h"

/* Reads every record of text; fields joined by '|' and records by '\n' into out. Returns the
 * last csv_read() result (0 at a clean end). */
static int read_all(const char *text, size_t len, char *out, size_t n)
{
        struct csv_reader rd;
        struct csv_record *rec = malloc(sizeof(*rec));
        size_t o = 0;
        int r;

        assert_non_null(rec);
        out[0] = 0;
        csv_reader_init(&rd, text, len);
        while ((r = csv_read(&rd, rec)) == 1)
                for (int i = 0; i < rec->n; i++)
                        o += (size_t)snprintf(out + o, n - o, "%s%s", rec->field[i],
                                              i == rec->n - 1 ? "\n" : "|");
        free(rec);
        return r;
}

static void test_csv_reads_rfc4180(void **state)
{
        static const char text[] = "\xef\xbb\xbf"
                                   "code,name\r\n"
                                   "U1,\"Відділ \"\"Прозорий офіс\"\", ЦНАП\"\r\n"
                                   "\r\n"
                                   "U2,\"два\nрядки\"\n"
                                   "U3,\n"
                                   "U4,'=1+1";
        char out[512];

        assert_int_equal(read_all(text, sizeof(text) - 1, out, sizeof(out)), 0);
        assert_string_equal(out, "code|name\n"
                                 "U1|Відділ \"Прозорий офіс\", ЦНАП\n"
                                 "U2|два\nрядки\n"
                                 "U3|\n"
                                 "U4|=1+1\n");
}

static void test_csv_refuses_malformed(void **state)
{
        static const char *const bad[] = {
            "a,\"not closed\n",     /* a quote not closed */
            "a,\"closed\"x\n",      /* text after the closing quote */
            "a,b\"c\n",             /* a quote inside an unquoted field */
            "a,\xff\xfe\n",         /* not UTF-8 */
            "a,\xc0\xaf\n",         /* an overlong encoding */
            "a,\xed\xa0\x80\n",     /* a surrogate */
        };
        char out[256];

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(read_all(bad[i], strlen(bad[i]), out, sizeof(out)), -EINVAL);
        /* a NUL byte */
        assert_int_equal(read_all("a,b\0c\n", 6, out, sizeof(out)), -EINVAL);
        /* seventeen fields */
        assert_int_equal(read_all("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n", 41, out,
                                  sizeof(out)),
                         -E2BIG);
}

static void test_csv_writer_round_trips(void **state)
{
        static const char *const fields[] = {"plain",   "with, comma", "with \"quotes\"",
                                             "two\nlines", "=HYPERLINK(1)", "-5",
                                             "",        "Коваленко", "\xef\xbb\xbf" "bom"};
        const size_t n = sizeof(fields) / sizeof(fields[0]);
        struct csv_record *rec = malloc(sizeof(*rec));
        struct csv_reader rd;
        struct buf b;

        assert_non_null(rec);
        buf_init(&b, 4096);
        for (size_t i = 0; i < n; i++)
                csv_write_field(&b, fields[i], i == n - 1);
        assert_int_equal(b.error, 0);
        /* a spreadsheet sees text, not a formula */
        assert_non_null(strstr(b.data, "\"'=HYPERLINK(1)\""));
        csv_reader_init(&rd, b.data, b.len);
        assert_int_equal(csv_read(&rd, rec), 1);
        assert_int_equal(rec->n, (int)n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(rec->field[i], fields[i]);
        assert_int_equal(csv_read(&rd, rec), 0);
        buf_free(&b);
        free(rec);
}

/* org_parse() on one file's text: the message must name file, line and column. */
static void expect_parse_error(const char *file, const char *text, const char *message)
{
        struct store_org org = {0};
        char err[512] = "";

        assert_int_equal(org_parse(file, text, strlen(text), &org, err, sizeof(err)), -EINVAL);
        if (!strstr(err, message))
                fail_msg("expected \"%s\" in \"%s\"", message, err);
        store_org_finish(&org);
}

static void test_parse_names_file_line_column(void **state)
{
        expect_parse_error("employees.csv", "personal_no,full_name,position,unit\r\n",
                           "employees.csv:1: expected the header row");
        expect_parse_error("units.csv", "code,parent,kind,title,name_en\r\n",
                           "units.csv:1: column 4: expected \"name\", not \"title\"");
        expect_parse_error("employees.csv",
                           "personal_no,full_name,position,unit,is_head\r\n"
                           "E1,Іван,Спеціаліст,U1,0\r\n"
                           "E2,Петро,Спеціаліст,U 1,0\r\n",
                           "employees.csv:3: column 4 (unit): \"U 1\" is not");
        expect_parse_error("employees.csv",
                           "personal_no,full_name,position,unit,is_head\r\nE1,,Спеціаліст,U1,0\r\n",
                           "employees.csv:2: column 2 (full_name): empty");
        expect_parse_error("employees.csv",
                           "personal_no,full_name,position,unit,is_head\r\nE1,Іван,Спец,U1,так\r\n",
                           "employees.csv:2: column 5 (is_head): expected 1 or 0");
        expect_parse_error("workplaces.csv", "code,name,unit,direction\r\nW1,Вікно,U1\r\n",
                           "workplaces.csv:2: 3 columns, expected 4");
        expect_parse_error("directions.csv", "code,name,name_en\r\nd1,\"Соц\n",
                           "directions.csv:2: malformed CSV");
        expect_parse_error("people.csv", "x\n", "people.csv: not one of");
}

/* ---- import and export on a real store ---- */

struct fixture {
        char dir[256];
        struct store *store;
};

static int setup(void **state)
{
        struct fixture *fx = calloc(1, sizeof(*fx));
        char db[300];

        assert_non_null(fx);
        assert_int_equal(test_mkdtemp(fx->dir, sizeof(fx->dir), "otsinka-org"), 0);
        snprintf(db, sizeof(db), "sqlite:%s/c.db", fx->dir);
        assert_int_equal(store_open(db, &fx->store), 0);
        *state = fx;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *fx = *state;

        store_close(fx->store);
        test_remove_tree(fx->dir);
        free(fx);
        return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
        assert_int_equal(fileio_write_atomic(dir, name, text, strlen(text), 0644), 0);
}

static const char units_csv[] = "code,parent,kind,name,name_en\r\n"
                                "CITY,,council,Міська рада,City council\r\n"
                                "ASC,CITY,department,Департамент послуг,Services\r\n"
                                "SOC,CITY,department,Соцзахист,Social\r\n";
static const char directions_csv[] = "code,name,name_en\r\nadmin,Адмінпослуги,Administrative\r\n";
static const char employees_csv[] = "personal_no,full_name,position,unit,is_head\r\n"
                                    "E1,Коваленко Олена,Адміністратор,ASC,0\r\n"
                                    "E2,Шевчук Андрій,Директор,ASC,1\r\n";
static const char workplaces_csv[] = "code,name,unit,direction\r\nW1,Вікно 1,ASC,admin\r\n";

static void import_dir(struct fixture *fx, const char *dir, bool dry_run,
                       struct store_org_report *rep, int want)
{
        struct store_org org = {0};
        char err[512];
        int r;

        r = org_read_dir(dir, &org, err, sizeof(err));
        if (r < 0)
                fail_msg("org_read_dir: %s", err);
        assert_int_equal(fx->store->ops->org_import(fx->store, &org, dry_run, rep), want);
        store_org_finish(&org);
}

static void make_files(const char *dir)
{
        write_file(dir, "units.csv", units_csv);
        write_file(dir, "directions.csv", directions_csv);
        write_file(dir, "employees.csv", employees_csv);
        write_file(dir, "workplaces.csv", workplaces_csv);
}

static void test_import_dry_run_saves_nothing(void **state)
{
        struct fixture *fx = *state;
        struct store_org_report rep;
        struct store_org org = {0};

        make_files(fx->dir);
        import_dir(fx, fx->dir, true, &rep, 0);
        assert_int_equal(rep.added[0], 3);
        assert_int_equal(rep.added[2], 2);
        assert_int_equal(fx->store->ops->org_export(fx->store, &org), 0);
        assert_int_equal(org.n_units + org.n_employees + org.n_workplaces, 0);
        store_org_finish(&org);
}

static void test_import_export_round_trip(void **state)
{
        struct fixture *fx = *state;
        struct store_org_report rep;
        char out[300], *text = NULL;
        struct store_org org = {0};

        make_files(fx->dir);
        import_dir(fx, fx->dir, false, &rep, 0);
        assert_int_equal(rep.added[0], 3);
        assert_int_equal(rep.added[1], 1);
        assert_int_equal(rep.added[2], 2);
        assert_int_equal(rep.added[3], 1);
        /* the same again changes nothing */
        import_dir(fx, fx->dir, false, &rep, 0);
        for (int i = 0; i < 4; i++)
                assert_int_equal(rep.added[i] + rep.changed[i], 0);

        snprintf(out, sizeof(out), "%s/out", fx->dir);
        assert_int_equal(mkdir(out, 0700), 0);
        assert_int_equal(fx->store->ops->org_export(fx->store, &org), 0);
        assert_int_equal(org_write_dir(out, &org), 0);
        store_org_finish(&org);
        snprintf(out, sizeof(out), "%s/out/employees.csv", fx->dir);
        assert_int_equal(fileio_read(out, 65536, &text, NULL), 0);
        assert_string_equal(text, employees_csv);
        free(text);
        snprintf(out, sizeof(out), "%s/out/units.csv", fx->dir);
        assert_int_equal(fileio_read(out, 65536, &text, NULL), 0);
        assert_string_equal(text, units_csv);
        free(text);
}

static void test_import_reports_the_row_and_saves_nothing(void **state)
{
        struct fixture *fx = *state;
        struct store_org_report rep;
        struct store_org org = {0};

        make_files(fx->dir);
        write_file(fx->dir, "employees.csv",
                   "personal_no,full_name,position,unit,is_head\r\n"
                   "E1,Коваленко Олена,Адміністратор,ASC,0\r\n"
                   "E9,Нова Особа,Спеціаліст,NOWHERE,0\r\n");
        import_dir(fx, fx->dir, false, &rep, -EINVAL);
        assert_string_equal(rep.error, "employees.csv:3: unit: no unit \"NOWHERE\"");
        /* all or nothing: the units before the bad row were not kept either */
        assert_int_equal(fx->store->ops->org_export(fx->store, &org), 0);
        assert_int_equal(org.n_units, 0);
        store_org_finish(&org);

        make_files(fx->dir);
        write_file(fx->dir, "units.csv", "code,parent,kind,name,name_en\r\nX,,castle,Замок,\r\n");
        import_dir(fx, fx->dir, false, &rep, -EINVAL);
        assert_non_null(strstr(rep.error, "units.csv:2: kind: \"castle\" is not one of"));
}

static void test_unit_cannot_become_its_own_descendant(void **state)
{
        struct fixture *fx = *state;
        struct store_org_report rep;

        make_files(fx->dir);
        import_dir(fx, fx->dir, false, &rep, 0);
        write_file(fx->dir, "units.csv",
                   "code,parent,kind,name,name_en\r\nCITY,ASC,council,Міська рада,City council\r\n");
        import_dir(fx, fx->dir, false, &rep, -EINVAL);
        assert_string_equal(rep.error, "units.csv:2: parent: \"ASC\" is inside this unit");
}

/* The unit a report by unit credits with the votes of [from, to). */
static int64_t unit_total(struct fixture *fx, const char *name)
{
        struct store_unit_row *rows = NULL;
        size_t n = 0;
        int64_t total = -1;

        assert_int_equal(fx->store->ops->report_units(fx->store, 0, INT64_C(4102444800), &rows, &n),
                         0);
        for (size_t i = 0; i < n; i++)
                if (strcmp(rows[i].name, name) == 0)
                        total = rows[i].count[0];
        free(rows);
        return total;
}

static void test_moving_an_employee_keeps_past_votes(void **state)
{
        struct fixture *fx = *state;
        struct store_org_report rep;
        struct store_employee e = {0};
        struct store_web_vote v = {.level = 3, .cast_ms = INT64_C(1790000000000)};
        int64_t id = 0;

        assert_int_equal(period_set_zone("Europe/Kyiv"), 0);
        make_files(fx->dir);
        import_dir(fx, fx->dir, false, &rep, 0);
        assert_int_equal(fx->store->ops->token_add(fx->store, "tokE1000001", 1, "W1", "qr_printed"),
                         0);
        assert_int_equal(fx->store->ops->token_lookup(fx->store, "tokE1000001", &e), 0);
        (void)id;
        vote_id_new(&v.id);
        assert_int_equal(fx->store->ops->store_web_vote(fx->store, &e, &v), 0);
        assert_int_equal(unit_total(fx, "Департамент послуг"), 1);

        /* E1 moves to the social department */
        write_file(fx->dir, "employees.csv",
                   "personal_no,full_name,position,unit,is_head\r\n"
                   "E1,Коваленко Олена,Адміністратор,SOC,0\r\n");
        import_dir(fx, fx->dir, false, &rep, 0);
        assert_int_equal(rep.changed[2], 1);
        assert_int_equal(unit_total(fx, "Департамент послуг"), 1);
        assert_int_equal(unit_total(fx, "Соцзахист"), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_csv_reads_rfc4180),
            cmocka_unit_test(test_csv_refuses_malformed),
            cmocka_unit_test(test_csv_writer_round_trips),
            cmocka_unit_test(test_parse_names_file_line_column),
            cmocka_unit_test_setup_teardown(test_import_dry_run_saves_nothing, setup, teardown),
            cmocka_unit_test_setup_teardown(test_import_export_round_trip, setup, teardown),
            cmocka_unit_test_setup_teardown(test_import_reports_the_row_and_saves_nothing, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_unit_cannot_become_its_own_descendant, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_moving_an_employee_keeps_past_votes, setup,
                                            teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
