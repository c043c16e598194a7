/* SPDX-License-Identifier: MIT */
/* UTF-8 CSV (RFC 4180) in and out, for importing and exporting the organisation: quoted fields
 * with "" inside, CRLF or LF, a byte-order mark at the start ignored. Outside input: every
 * length is bounded and every malformed record is an error naming its line, never a guess. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define CSV_FIELDS_MAX 16
#define CSV_RECORD_MAX 8192 /* bytes of one record's fields */

struct csv_reader {
        const char *data;
        size_t len, pos;
        int line; /* the line the next record starts on, from 1 */
};

struct csv_record {
        int line; /* where the record started */
        int n;    /* fields */
        char *field[CSV_FIELDS_MAX];
        char store[CSV_RECORD_MAX]; /* the fields' text, each NUL-terminated */
};

void csv_reader_init(struct csv_reader *r, const char *data, size_t len);
/* Reads the next record, skipping empty lines. Returns 1 with a record, 0 at the end,
 * -EINVAL for a malformed one (a quote not closed, text after a closing quote, a NUL byte,
 * bytes that are not UTF-8), -E2BIG for more than CSV_FIELDS_MAX fields or CSV_RECORD_MAX
 * bytes. After an error the reader stays at the end. */
int csv_read(struct csv_reader *r, struct csv_record *ret);

/* Appends one field, quoted when it needs to be; then ',' or "\r\n" after the last. A field
 * starting with = + - or @ is written as "'=..." so that a spreadsheet shows it rather than
 * runs it; csv_read() takes such a ' away again. */
void csv_write_field(struct buf *b, const char *s, bool last);
