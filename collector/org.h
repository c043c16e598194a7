/* SPDX-License-Identifier: MIT */
/* The organisation as UTF-8 CSV files in a folder: units.csv, directions.csv, employees.csv,
 * workplaces.csv, each with a header row (docs/organisation-csv.md). Reading checks every
 * field and names the file, line and column of the first problem. */
#pragma once

#include <stddef.h>

#include "buf.h"
#include "store.h"

/* Reads the files present in dir (at least one) into *ret. Returns 0, -ENOENT when none is
 * there, or -EINVAL with "file:line: column N (name): why" in err. */
int org_read_dir(const char *dir, struct store_org *ret, char *err, size_t errlen);
/* Parses one file's text; name is its file name (it says which table it is). */
int org_parse(const char *name, const char *data, size_t len, struct store_org *org, char *err,
              size_t errlen);
/* Appends one file's text (name as in org_parse()) to out: 0, -EINVAL for an unknown name, or
 * the buffer's error. */
int org_write_table(const struct store_org *org, const char *name, struct buf *out);
/* Writes the four files into dir, each replaced atomically. */
int org_write_dir(const char *dir, const struct store_org *org);
