#!/bin/bash
# SPDX-License-Identifier: MIT
# The monthly report's files read by other programs: test_report_web writes the PDF, the XLSX
# and a CSV of a unit with 71 employees; poppler must find an A4 PDF of two pages with the
# Cyrillic text and "page 2 of 2" in it, rendered to PNG; openpyxl (a second XLSX reader) must
# find the four sheets and the clerk's row with numbers as numbers. Skips (77) without the tools.
set -euo pipefail
build=${OTSINKA_BUILD:?}
for tool in pdfinfo pdftotext pdftoppm pdffonts; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (poppler-utils)"; exit 77; }
done
# Debian's python3 (python3-openpyxl), before any other python3 on the PATH
py=
for p in /usr/bin/python3 python3; do
        if "$p" -c 'import openpyxl' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "SKIP: python3-openpyxl missing"; exit 77; }
out=$(mktemp -d "${TMPDIR:-/tmp}/otsinka-monthly-XXXXXX")
trap 'rm -rf "$out"' EXIT
OTSINKA_REPORT_OUT=$out OTSINKA_ASSETS=${OTSINKA_ASSETS:-$OTSINKA_SOURCE/assets} \
        "$build/tests/reports_test_report_web" >"$out/test.log" 2>&1 || { cat "$out/test.log"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
info=$(pdfinfo "$out/monthly.pdf")
grep -q '^Pages: *2$' <<<"$info" || fail "the PDF has not 2 pages: $info"
grep -q 'Page size: *595.276 x 841.89 pts (A4)' <<<"$info" || fail "the PDF is not A4: $info"
pdffonts "$out/monthly.pdf" | grep -q 'DejaVuSans' || fail "DejaVu Sans is not embedded"
text=$(pdftotext -layout "$out/monthly.pdf" -)
for want in 'Щомісячний звіт про оцінку якості обслуговування' 'Департамент соціального захисту' \
        'Коваленко Олена Петрівна' 'Сторінка 1 з 2' 'Сторінка 2 з 2' 'Позначені оцінки' \
        'address_rate' '83.3'; do
        grep -qF "$want" <<<"$text" || fail "the PDF lacks «$want»"
done
pdftoppm -r 50 -png "$out/monthly.pdf" "$out/page"
for p in 1 2; do
        [ -s "$out/page-$p.png" ] || fail "page $p did not render"
done
echo "PDF: 2 A4 pages, Cyrillic text, page numbers; rendered to PNG"

"$py" - "$out/monthly.xlsx" <<'PY'
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
assert wb.sheetnames == ['Підсумки', 'Працівники', 'Підрозділи', 'Позначені'], wb.sheetnames
ws = wb['Працівники']
head = [c.value for c in ws[1]]
assert head[:7] == ['Працівник', 'Посада', 'Підрозділ', 'Задовільно', 'Добре', 'Зразково', 'Усього'], head
rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
assert len(rows) == 71, len(rows)
k = rows['Коваленко Олена Петрівна']
assert k[3:7] == (0, 1, 2, 3), k
assert abs(k[7] - 83.333) < 0.01 and abs(k[11] - 50.0) < 1e-9 and abs(k[12] - 33.333) < 0.01, k
t = wb['Підсумки']
assert t['B4'].value == 24 and t['E4'].value == 73, [c.value for c in t[4]]
f = wb['Позначені']
assert f['F2'].value == 'address_rate', [c.value for c in f[2]]
print('XLSX: 4 sheets, 71 employees, numbers as numbers (openpyxl)')
PY
