#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Printed QR codes as an official gets them: the CLI's A4 sheet for a unit (six per page) and
# for one employee, read back from the rendered PDF with a QR decoder; the QR page's PNG and
# SVG of one code; reissuing a code makes the old one's vote page say it is no longer valid.
set -euo pipefail

source "${OTSINKA_SOURCE:?}/tests/common/demo.bash"
demo_test

start_demo "$tmp/demo"
db=sqlite:$tmp/demo/collector.db
cli() { "$build/collector/otsinka-collector" "$@" --database "$db" --public-url "$demo_base"; }
live_tokens() { sqlite3 "$tmp/demo/collector.db" "SELECT token FROM qr_tokens WHERE revoked = 0 AND channel = 'qr_printed'" | sort; }

# the unit U3 (the citizen service section) has three employees: one page of six per page
cli qr-sheet "$tmp/unit.pdf" U3 6 >"$tmp/out" || fail "qr-sheet U3: $(cat "$tmp/out")"
grep -q "Wrote 3 codes" "$tmp/out" || fail "qr-sheet U3 said: $(cat "$tmp/out")"
[ "$(pdfinfo "$tmp/unit.pdf" | sed -n 's/^Pages: *//p')" = 1 ] || fail "the unit sheet is not one page"
pdftoppm -r 200 -png "$tmp/unit.pdf" "$tmp/unit"
zbarimg -q "$tmp/unit-1.png" 2>/dev/null | sed 's/^QR-Code://' | sort >"$tmp/decoded"
[ "$(wc -l <"$tmp/decoded")" = 3 ] || fail "decoded $(wc -l <"$tmp/decoded") codes from the unit sheet, not 3"
while read -r url; do
        case $url in "$demo_base"/r/*) ;; *) fail "a code opens $url" ;; esac
        live_tokens >"$tmp/live"
        grep -qx "${url##*/r/}" "$tmp/live" || fail "$url is not a live code"
        curl -fsS --cacert "$demo_ca" -o "$tmp/page" "$url" || fail "$url does not open"
        grep -q 'name="level"' "$tmp/page" || fail "$url is not a vote page"
done <"$tmp/decoded"
pdftotext "$tmp/unit.pdf" "$tmp/unit.txt"
grep -q "Оцініть, будь ласка, якість" "$tmp/unit.txt" || fail "no prompt on the sheet"
grep -q "Коваленко Олена Петрівна" "$tmp/unit.txt" || fail "no employee name on the sheet"

# one employee, one page, a big code
cli qr-sheet "$tmp/one.pdf" E001 >/dev/null || fail "qr-sheet E001"
[ "$(pdfinfo "$tmp/one.pdf" | sed -n 's/^Pages: *//p')" = 1 ] || fail "the employee sheet is not one page"
pdftoppm -r 100 -png "$tmp/one.pdf" "$tmp/one"
old=$(zbarimg -q "$tmp/one-1.png" 2>/dev/null | sed 's/^QR-Code://')
[ -n "$old" ] || fail "the employee sheet's code does not decode at 100 dpi"
cli qr-sheet "$tmp/x.pdf" NOBODY >"$tmp/out" 2>&1 && fail "qr-sheet NOBODY succeeded"
grep -q "no such unit or employee" "$tmp/out" || fail "qr-sheet NOBODY said: $(cat "$tmp/out")"

# the QR page: PNG and SVG of E001's code, then a reissue
jar=$tmp/jar
admin_login "$tmp/demo" "$jar"
token=${old##*/r/}
curl -fsS --cacert "$demo_ca" -b "$jar" -o "$tmp/code.png" "$demo_base/admin/qr/code.png?token=$token"
[ "$(zbarimg -q "$tmp/code.png" 2>/dev/null | sed 's/^QR-Code://')" = "$old" ] || fail "the PNG does not decode to $old"
curl -fsS --cacert "$demo_ca" -b "$jar" -o "$tmp/code.svg" "$demo_base/admin/qr/code.svg?token=$token"
grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$tmp/code.svg" || fail "the SVG is not SVG"
convert "$tmp/code.svg" "$tmp/svg.png" 2>/dev/null
[ "$(zbarimg -q "$tmp/svg.png" 2>/dev/null | sed 's/^QR-Code://')" = "$old" ] || fail "the SVG does not decode to $old"
# without a session there is no code
[ "$(curl -sS --cacert "$demo_ca" -o /dev/null -w '%{http_code}' "$demo_base/admin/qr/code.png?token=$token")" = 303 ] ||
        fail "the PNG was served without signing in"

csrf=$(curl -fsS --cacert "$demo_ca" -b "$jar" "$demo_base/admin/qr?unit=U3" |
        sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)
[ -n "$csrf" ] || fail "no CSRF token on the QR page"
[ "$(curl -sS --cacert "$demo_ca" -b "$jar" -o /dev/null -w '%{http_code}' \
        -d "csrf=$csrf&employee=E001&channel=qr_printed&unit=U3" "$demo_base/admin/qr/issue")" = 303 ] ||
        fail "reissuing E001's code"
[ "$(curl -sS --cacert "$demo_ca" -o /dev/null -w '%{http_code}' "$old")" = 410 ] || fail "the old code still works"
# a forged form does nothing
[ "$(curl -sS --cacert "$demo_ca" -b "$jar" -o /dev/null -w '%{http_code}' \
        -d "csrf=0000&employee=E001&channel=qr_printed" "$demo_base/admin/qr/issue")" = 400 ] ||
        fail "a form without the right CSRF token was taken"
[ "$(sqlite3 "$tmp/demo/collector.db" "SELECT COUNT(*) FROM audit WHERE action = 'qr_issue'")" = 1 ] ||
        fail "the reissue is not in the audit log"
echo "ok: sheets decode to live vote pages; PNG, SVG; reissue revokes the old code"
