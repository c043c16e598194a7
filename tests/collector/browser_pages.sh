#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The collector's pages in a real browser: Debian's chromium driven by playwright-core
# (tests/browser/pages.mjs) against a demo collector. The phone vote page in Ukrainian, English
# and without JavaScript, the administration and the public report, checked as a person would
# notice; screenshots of every page go to $OTSINKA_SCREENSHOTS (default: the build folder's
# browser-screenshots/). Chromium checks the certificate for real: it trusts only the demo
# server's key, by its SPKI hash. Skips (77) without node or chromium, unless CI is set.
set -euo pipefail

build=${OTSINKA_BUILD:?}
source_dir=${OTSINKA_SOURCE:?}
source "$source_dir/tests/common/browser.bash"
shots=${OTSINKA_SCREENSHOTS:-$build/browser-screenshots}

browser_require "browser pages"

source "$source_dir/tests/common/demo.bash"
demo_test
browser_install "$tmp/npm.log" || { cat "$tmp/npm.log" >&2; fail "npm ci --prefix $browser_dir"; }
start_demo "$demo" || exit 1
pid=$demo_pid
base=$demo_base

# The vote page of the printed QR code, as the demo prints it (once it has printed it).
for _ in $(seq 1 50); do
        vote_url=$(sed -n 's/^ *A vote page: *//p' "$demo.out")
        [ -n "$vote_url" ] && break
        sleep 0.1
done
[ -n "$vote_url" ] || fail "the demo printed no vote page"
token=${vote_url##*/r/}
[[ $token =~ ^[A-Za-z0-9_-]+$ ]] || fail "an odd vote page: $vote_url"
db=$tmp/demo/collector.db
q() { sqlite3 -batch -noheader "$db" "$1"; }
employee=$(q "SELECT e.full_name FROM qr_tokens q JOIN employees e ON e.id = q.employee_id
              WHERE q.token = '$token'")
unit=$(q "SELECT u.name FROM qr_tokens q JOIN employees e ON e.id = q.employee_id
          JOIN units u ON u.id = e.unit_id WHERE q.token = '$token'")
unit_en=$(q "SELECT u.name_en FROM qr_tokens q JOIN employees e ON e.id = q.employee_id
             JOIN units u ON u.id = e.unit_id WHERE q.token = '$token'")
units=$(q "SELECT COUNT(*) FROM units")
[ -n "$employee" ] && [ -n "$unit" ] || fail "no employee behind the vote page $vote_url"

# The pin: base64 of the SHA-256 of the server certificate's SubjectPublicKeyInfo.
spki=$(browser_spki "$demo/server.pem")

mkdir -p "$shots"
rm -f "$shots"/*.png
node "$browser_dir/pages.mjs" --base "$base" --vote-url "$vote_url" --spki "$spki" \
        --password "$(cat "$tmp/demo/admin-password")" --employee "$employee" --unit "$unit" \
        --unit-en "$unit_en" --units "$units" --out "$shots" --chromium "$chromium" ||
        fail "browser checks failed; screenshots in $shots"

# Behind the pages: three votes, each stored once, from the printed code (the empty sends
# were refused), T001 revoked, two enrollment codes made.
votes=$(q "SELECT group_concat(level || ':' || channel, ' ') FROM (SELECT * FROM votes ORDER BY id)")
[ "$votes" = "3:qr_printed 2:qr_printed 1:qr_printed" ] || fail "stored votes: $votes"
[ "$(q "SELECT revoked FROM terminals WHERE id = 'T001'")" = 1 ] || fail "T001 is not revoked"
[ "$(q "SELECT COUNT(*) FROM enroll_codes")" = 2 ] || fail "enrollment codes: not 2"
kill -0 "$pid" 2>/dev/null || fail "the collector died"
echo "browser pages: ok (screenshots in $shots)"
