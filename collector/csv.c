/* SPDX-License-Identifier: MIT */
/* A strict RFC 4180 reader and a writer. */
#include <errno.h>
#include <string.h>

#include "csv.h"

void csv_reader_init(struct csv_reader *r, const char *data, size_t len)
{
        r->data = data;
        r->len = len;
        r->pos = 0;
        r->line = 1;
        if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
                r->pos = 3;
}

/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                size_t k;
                unsigned v;

                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xe0) == 0xc0)
                        k = 1, v = c & 0x1f;
                else if ((c & 0xf0) == 0xe0)
                        k = 2, v = c & 0x0f;
                else if ((c & 0xf8) == 0xf0)
                        k = 3, v = c & 0x07;
                else
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                                return false;
                        v = (v << 6) | (s[i + j] & 0x3f);
                }
                if ((k == 1 && v < 0x80) || (k == 2 && v < 0x800) || (k == 3 && v < 0x10000) ||
                    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
                        return false;
                i += k + 1;
        }
        return true;
}

static int fail(struct csv_reader *r, int err)
{
        r->pos = r->len;
        return err;
}

int csv_read(struct csv_reader *r, struct csv_record *ret)
{
        size_t o = 0, start;
        bool quoted;

        /* skip empty lines */
        while (r->pos < r->len && (r->data[r->pos] == '\n' || r->data[r->pos] == '\r')) {
                if (r->data[r->pos] == '\n')
                        r->line++;
                r->pos++;
        }
        if (r->pos >= r->len)
                return 0;
        ret->line = r->line;
        ret->n = 0;
        for (;;) {
                if (ret->n == CSV_FIELDS_MAX)
                        return fail(r, -E2BIG);
                ret->field[ret->n++] = ret->store + o;
                start = o;
                quoted = r->pos < r->len && r->data[r->pos] == '"';
                if (quoted)
                        r->pos++;
                for (;;) {
                        char c;

                        if (r->pos >= r->len) {
                                if (quoted)
                                        return fail(r, -EINVAL); /* the quote is not closed */
                                break;
                        }
                        c = r->data[r->pos];
                        if (c == 0)
                                return fail(r, -EINVAL);
                        if (quoted) {
                                if (c == '"') {
                                        if (r->pos + 1 < r->len && r->data[r->pos + 1] == '"') {
                                                r->pos++; /* "" is one quote */
                                        } else {
                                                r->pos++;
                                                quoted = false;
                                                /* only a separator or the end may follow */
                                                if (r->pos < r->len && r->data[r->pos] != ',' &&
                                                    r->data[r->pos] != '\n' &&
                                                    r->data[r->pos] != '\r')
                                                        return fail(r, -EINVAL);
                                                continue;
                                        }
                                } else if (c == '\n')
                                        r->line++;
                        } else if (c == ',' || c == '\n' || c == '\r') {
                                break;
                        } else if (c == '"') {
                                return fail(r, -EINVAL); /* a quote inside an unquoted field */
                        }
                        if (o + 1 >= sizeof(ret->store))
                                return fail(r, -E2BIG);
                        ret->store[o++] = r->data[r->pos++];
                }
                ret->store[o++] = 0;
                /* undo the writer's guard against spreadsheet formulas */
                if (ret->store[start] == '\'' && strchr("=+-@", ret->store[start + 1]) &&
                    ret->store[start + 1]) {
                        memmove(ret->store + start, ret->store + start + 1, o - start - 1);
                        o--;
                }
                if (!utf8_valid((const unsigned char *)ret->store + start, o - 1 - start))
                        return fail(r, -EINVAL);
                if (r->pos < r->len && r->data[r->pos] == ',') {
                        r->pos++;
                        continue;
                }
                /* end of record: CRLF, LF, lone CR or the end */
                if (r->pos < r->len && r->data[r->pos] == '\r')
                        r->pos++;
                if (r->pos < r->len && r->data[r->pos] == '\n') {
                        r->pos++;
                        r->line++;
                }
                return 1;
        }
}

void csv_write_field(struct buf *b, const char *s, bool last)
{
        /* quote what a reader would split or misread; a leading = + - @ is quoted and
         * prefixed with ' so that a spreadsheet does not run it as a formula */
        bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
        /* and a leading byte-order mark, which a reader would take for the file's */
        bool quote = formula || strpbrk(s, ",\"\r\n") != NULL || strncmp(s, "\xef\xbb\xbf", 3) == 0;

        if (quote) {
                buf_adds(b, formula ? "\"'" : "\"");
                for (const char *p = s; *p; p++)
                        buf_add(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
                buf_adds(b, "\"");
        } else
                buf_adds(b, s);
        buf_adds(b, last ? "\r\n" : ",");
}
