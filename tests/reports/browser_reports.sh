#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The reports in a real browser: Debian's chromium driven by playwright-core
# (tests/browser/reports.mjs) against a demo collector whose database gets a month of votes
# (inserted with sqlite3, outside the collector: the counts must take them in all the same). The public
# page and its open data, the dashboard from the city to one employee, the monthly PDF.
# Screenshots go to $OTSINKA_SCREENSHOTS (default: the build folder's browser-screenshots/).
# Skips (77) without node, sqlite3 or chromium, unless CI is set. Follows
# tests/collector/browser_pages.sh.
set -euo pipefail

build=${OTSINKA_BUILD:?}
source_dir=${OTSINKA_SOURCE:?}
source "$source_dir/tests/common/browser.bash"
shots=${OTSINKA_SCREENSHOTS:-$build/browser-screenshots}

browser_require "browser reports" sqlite3

source "$source_dir/tests/common/demo.bash"
demo_test
browser_install "$tmp/npm.log" || { cat "$tmp/npm.log" >&2; fail "npm ci --prefix $browser_dir"; }
start_demo "$demo" || exit 1
pid=$demo_pid
base=$demo_base
db=$tmp/demo/collector.db
q() { TZ=Europe/Kyiv sqlite3 -batch -noheader -cmd '.timeout 5000' "$db" "$1"; }

# A month of votes: the first employee with a workplace gets 40, spread over days and hours.
month=$(TZ=Europe/Kyiv date +%Y-%m)
emp=$(q "SELECT e.id FROM employees e JOIN workplaces w ON w.unit_id = e.unit_id ORDER BY e.id LIMIT 1")
[ -n "$emp" ] || fail "the demo has no employee with a workplace"
now=$(date +%s)
start=$(TZ=Europe/Kyiv date -d "$month-01 00:00" +%s)
sql="BEGIN;"
for i in $(seq 0 39); do
        t=$((start + (now - start) * i / 40))
        day=$(TZ=Europe/Kyiv date -d "@$t" +%Y%m%d)
        sql+="INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id, direction_id,
              channel, cast_at, received_at, day)
              SELECT lower(hex(randomblob(16))), $((1 + i % 3)), e.id, e.unit_id, w.id,
                     w.direction_id, 'qr_printed', ${t}000, ${t}000, $day
              FROM employees e JOIN workplaces w ON w.unit_id = e.unit_id WHERE e.id = $emp
              LIMIT 1;"
done
q "$sql COMMIT;"
employee=$(q "SELECT full_name FROM employees WHERE id = $emp")
unit=$(q "SELECT u.name FROM employees e JOIN units u ON u.id = e.unit_id WHERE e.id = $emp")

spki=$(browser_spki "$demo/server.pem")
mkdir -p "$shots"
NODE_EXTRA_CA_CERTS=$tmp/demo/ca.pem node "$browser_dir/reports.mjs" --base "$base" --spki "$spki" \
        --password "$(cat "$tmp/demo/admin-password")" --month "$month" --unit "$unit" \
        --employee "$employee" --out "$shots" --chromium "$chromium" ||
        fail "browser checks failed; screenshots in $shots"
# the votes sqlite3 stored were in the pages at once (reports count what no fold has reached);
# the background fold, the counts' only writer, takes them in within a few seconds
for _ in $(seq 1 150); do
        folded=$(q "SELECT IFNULL(SUM(c1 + c2 + c3), 0) FROM rep_um WHERE month = ${month/-/}")
        [ "$folded" -ge 40 ] && break
        sleep 0.1
done
[ "$folded" -ge 40 ] || fail "the background fold missed the votes stored with sqlite3"
kill -0 "$pid" 2>/dev/null || fail "the collector died"
echo "browser reports: ok (screenshots in $shots)"
