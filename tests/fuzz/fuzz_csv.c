/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the organisation's CSV reader (collector/csv.c, collector/org.c). Every
 * record csv_read() returns must hold NUL-terminated fields inside its store; written back
 * with csv_write_field() and read again it must give the same fields; and org_parse() must
 * answer each of the four file names with 0 or an error message, never a crash. Inputs above
 * 256 KiB are skipped. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "org.h"
#include "fuzzcheck.h"

#define INPUT_MAX (256 * 1024)



static void check_round_trip(const struct csv_record *rec)
{
        struct csv_record *again = malloc(sizeof(*again));
        struct csv_reader rd;
        struct buf b;
        int r;

        CHECK(again);
        buf_init(&b, 4 * CSV_RECORD_MAX);
        for (int i = 0; i < rec->n; i++)
                csv_write_field(&b, rec->field[i], i == rec->n - 1);
        CHECK(b.error == 0);
        csv_reader_init(&rd, b.data, b.len);
        r = csv_read(&rd, again);
        /* a record of one empty field is written as an empty line, which a reader skips */
        if (rec->n == 1 && rec->field[0][0] == 0) {
                CHECK(r == 0);
        } else {
                CHECK(r == 1 || r == -E2BIG); /* quoting may make it longer than the store */
                if (r == 1) {
                        CHECK(again->n == rec->n);
                        for (int i = 0; i < rec->n; i++)
                                CHECK(strcmp(again->field[i], rec->field[i]) == 0);
                }
        }
        buf_free(&b);
        free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const files[] = {"units.csv", "directions.csv", "employees.csv",
                                            "workplaces.csv"};
        struct csv_record *rec;
        struct csv_reader rd;
        char *copy, err[512];
        int r, records = 0;

        if (size > INPUT_MAX)
                return 0;
        /* an exact-size copy without a NUL, so that ASan sees any read past size */
        copy = malloc(size ? size : 1);
        rec = malloc(sizeof(*rec));
        CHECK(copy && rec);
        memcpy(copy, data, size);

        csv_reader_init(&rd, copy, size);
        while ((r = csv_read(&rd, rec)) == 1) {
                CHECK(rec->n >= 1 && rec->n <= CSV_FIELDS_MAX);
                for (int i = 0; i < rec->n; i++) {
                        CHECK(rec->field[i] >= rec->store &&
                              rec->field[i] < rec->store + sizeof(rec->store));
                        CHECK(memchr(rec->field[i], 0,
                                     (size_t)(rec->store + sizeof(rec->store) - rec->field[i])));
                }
                check_round_trip(rec);
                CHECK(++records <= (int)size + 1);
        }
        CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
        CHECK(csv_read(&rd, rec) == 0); /* after the end or an error, only the end */

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                struct store_org org = {0};

                err[0] = 0;
                r = org_parse(files[i], copy, size, &org, err, sizeof(err));
                CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
                CHECK(r == 0 || err[0]);
                store_org_finish(&org);
        }
        free(rec);
        free(copy);
        return 0;
}
