#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One vote, end to end, every part real: the demo collector over HTTPS on loopback with its
# own CA; the terminal in a real X window under Xvfb, which pulls its roster and lets employee
# E001 open a shift on its keypad with the PIN the demo made; a tap on the green smiley and on
# «Send» made with real X input events; the expiring QR code on the screen decoded back to the
# employee's vote page; the
# vote in the terminal's SQLite file, uploaded with certificate checks, stored once by the
# collector, and counted by the report. Also: a phone's vote through the printed QR code page.
set -euo pipefail

build=${OTSINKA_BUILD:?}
collector=$build/collector/otsinka-collector
kiosk=$build/kiosk/otsinka-kiosk
tmp=$(mktemp -d)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f"; tail -n 30 "$f"; done >&2; exit 1; }

# The collector, on a free port (retrying if another process took the one we picked).
for attempt in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        rm -rf "$tmp/demo"
        "$collector" demo --dir "$tmp/demo" --port "$port" >"$tmp/collector.out" 2>"$tmp/collector.log" &
        cpid=$!
        ok=0
        for _ in $(seq 1 100); do
                if curl -fsS --cacert "$tmp/demo/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; then ok=1; break; fi
                kill -0 "$cpid" 2>/dev/null || break
                sleep 0.1
        done
        [ $ok = 1 ] && break
        kill "$cpid" 2>/dev/null || true
done
[ $ok = 1 ] || fail "the demo collector did not answer /healthz over HTTPS verified with ca.pem"
pids+=("$cpid")
api() { curl -fsS --cacert "$tmp/demo/ca.pem" "https://127.0.0.1:$port$1"; }
# Whether a page holds a text. The page is read whole first: `curl | grep -q` would let grep
# close the pipe early, and under pipefail curl's write error would fail a page that matched.
page_has() { local body; body=$(api "$1") && [[ "$body" == *"$2"* ]]; }

# Without the CA, the certificate is refused: TLS checks are real.
if curl -fsS "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
        fail "a client without the demo CA trusted the collector"
fi
grep -q "admin / " "$tmp/collector.out" || fail "the demo did not print the administrator's password"

# A real X server and the terminal in a window at its top-left corner.
Xvfb -displayfd 3 -screen 0 800x480x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
display=$(head -n 1 "$tmp/display")
[ -n "$display" ] || fail "Xvfb did not start"
export DISPLAY=:$display
"$kiosk" --config "$tmp/demo/kiosk.conf" --windowed=true --width=800 --height=480 \
        --software=true --log-level=debug >"$tmp/kiosk.out" 2>"$tmp/kiosk.log" &
kpid=$!
pids+=("$kpid")
for _ in $(seq 1 100); do
        xdotool search --onlyvisible --pid "$kpid" >/dev/null 2>&1 && break
        kill -0 "$kpid" 2>/dev/null || fail "the terminal exited"
        sleep 0.1
done

# Where the layout puts things, as the program says.
layout=$("$kiosk" layout 800 480)
centre() { # prints the centre of a named rectangle of the layout
        local r
        r=$(echo "$layout" | sed -n "s/.*\"$1\":\[\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\)\].*/\1 \2 \3 \4/p")
        [ -n "$r" ] || fail "the layout has no $1"
        set -- $r
        echo "$(($1 + $3 / 2)) $(($2 + $4 / 2))"
}
tap() { # a real click on a named target
        local x y
        read -r x y <<<"$(centre "$1")"
        xdotool mousemove "$x" "$y" click 1
        sleep 0.3
}

# The terminal pulls its roster: its workplace, its staff and their PIN hashes.
for _ in $(seq 1 100); do
        grep -q "Roster: workplace" "$tmp/kiosk.log" && break
        sleep 0.1
done
grep -q "Roster: workplace" "$tmp/kiosk.log" || fail "the terminal did not receive its roster"
pin=$(sed -n 's/^E001 \([0-9]*\)$/\1/p' "$tmp/demo/staff-pins")
[ -n "$pin" ] || fail "the demo did not give employee E001 a PIN"

# E001 opens a shift: staff login, personal number 1, the PIN, all on the touch keypad.
tap staff
tap number
tap key1
tap ok
for ((i = 0; i < ${#pin}; i++)); do tap "key${pin:i:1}"; done
tap ok
for _ in $(seq 1 50); do
        grep -q "Shift .* opened for employee E001" "$tmp/kiosk.log" && break
        sleep 0.1
done
grep -q "Shift .* opened for employee E001" "$tmp/kiosk.log" || fail "the PIN login did not open a shift"

# The expiring QR code on the screen opens the employee's vote page. (The frame may take a
# moment under a sanitizer build on a busy machine: look again for up to 10 s.)
got_url=
for _ in $(seq 1 20); do
        import -display "$DISPLAY" -window root "$tmp/screen.png"
        got_url=$(zbarimg -q --raw "$tmp/screen.png" 2>/dev/null | head -n 1) || true
        [[ "$got_url" == "https://127.0.0.1:$port/s/"* ]] && break
        sleep 0.5
done
[[ "$got_url" == "https://127.0.0.1:$port/s/"*/E001/* ]] ||
        fail "the screen's QR code decodes to '$got_url', not an expiring code of E001"
page_has "${got_url#https://127.0.0.1:$port}" "Коваленко Олена Петрівна" ||
        fail "the on-screen QR code's page does not name the employee"

# Tap the green smiley, then «Відправити відгук».
tap smiley3
tap send

# The vote is in the terminal's SQLite file...
for _ in $(seq 1 50); do
        n=$(sqlite3 "$tmp/demo/kiosk.db" "SELECT COUNT(*) FROM votes WHERE level = 3" 2>/dev/null || echo 0)
        [ "$n" = 1 ] && break
        sleep 0.1
done
[ "$n" = 1 ] || fail "the terminal's store holds $n votes of level 3, not 1"
grep -q "Vote .* stored" "$tmp/kiosk.log" || fail "the terminal did not log the stored vote"
n=$(sqlite3 "$tmp/demo/kiosk.db" "SELECT COUNT(*) FROM votes v JOIN events e ON e.shift = v.shift WHERE e.kind = 'shift_open' AND e.employee = 'E001'")
[ "$n" = 1 ] || fail "the vote does not carry the shift that E001 opened"

# ...and reaches the collector exactly once, and the report counts it.
period=$(TZ=Europe/Kyiv date +%Y-%m)
for _ in $(seq 1 100); do
        total=$(api "/api/v1/reports/units?period=$period" | sed -n 's/^{[^[]*\[{[^}]*"total":\([0-9]*\).*/\1/p')
        [ "$total" = 1 ] && break
        sleep 0.2
done
[ "$total" = 1 ] || fail "the city's total in the report is '$total', not 1"
stored=$(sqlite3 "$tmp/demo/collector.db" "SELECT COUNT(*), MAX(level), MAX(channel) FROM votes")
[ "$stored" = "1|3|terminal" ] || fail "the collector stored '$stored', not one green terminal vote"
for _ in $(seq 1 50); do
        sent=$(sqlite3 "$tmp/demo/kiosk.db" "SELECT COUNT(*) FROM votes WHERE state = 1")
        [ "$sent" = 1 ] && break
        sleep 0.1
done
[ "$sent" = 1 ] || fail "the terminal did not mark its vote sent after the acknowledgement"
page_has "/reports?period=$period" '<td class="total">1</td>' || fail "the reports page does not show the vote"

# A resident's phone votes through the printed QR code's page, without JavaScript.
printed=$(sed -n 's/.*A vote page: *//p' "$tmp/collector.out")
[ -n "$printed" ] || fail "the demo did not print a vote page's address"
# like a phone: it keeps the page's cookie and sends the form's one-use token back
jar=$tmp/phone.jar
curl -sS --cacert "$tmp/demo/ca.pem" -c "$jar" -b "$jar" -o "$tmp/page.html" "$printed"
ft=$(sed -n 's/.*name="ft" value="\([0-9a-f-]*\)".*/\1/p' "$tmp/page.html")
[ -n "$ft" ] || fail "the vote page has no form token"
code=$(curl -sS --cacert "$tmp/demo/ca.pem" -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
        -d "level=2&ft=$ft" "$printed")
[ "$code" = 303 ] || fail "posting the vote page answered $code, not 303"
# the same form sent again (a double tap) is thanked but not counted twice
code=$(curl -sS --cacert "$tmp/demo/ca.pem" -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
        -d "level=2&ft=$ft" "$printed")
[ "$code" = 303 ] || fail "sending the form again answered $code, not 303"
n=$(sqlite3 "$tmp/demo/collector.db" "SELECT COUNT(*) FROM votes WHERE level = 2 AND channel = 'qr_printed'")
[ "$n" = 1 ] || fail "the phone's vote was stored $n times, not once"
page_has "/reports?period=$period" '<td class="total">2</td>' || fail "the report does not count both votes"

# A clean shutdown on SIGTERM.
kill -TERM "$cpid"
for _ in $(seq 1 50); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$cpid" 2>/dev/null && fail "the collector did not stop on SIGTERM"
wait "$cpid" || fail "the collector exited with an error on SIGTERM"
echo "one vote end to end: ok"
