#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every screen of the terminal, drawn for real: otsinka-kiosk in its test mode (--script, fake
# time) in an X window under Xvfb at 800x480, 1920x1080 and 480x800, through the closed screen,
# the login list and its pages, the number and PIN keypads, wrong PINs and the lockout, the
# open screen, a vote and its thank-you, a vote inside the minimum interval, the staff menu,
# the status screen, the language switch, the idle logout, the trouble screen, and the
# enrollment code keypad (from «Підключити термінал», shown only while the terminal has no
# credential or was revoked, and from the staff menu; without a collector-url it says that no
# collector is configured; tests/kiosk/enroll.sh connects to a real one). It checks the
# screenshots: the on-screen QR code decodes (zbarimg) to a /s/ URL the collector would accept
# (kiosk_qrcheck, i.e. qrtoken_verify), stays the same until renewed at half its lifetime and
# then changes; no QR code where no vote may be cast; a PIN shows as dots whatever its digits;
# the lockout counts down; the notice replaces a second thank-you; and the votes and events
# the terminal stored. The screenshots stay in $OTSINKA_SCREENS_DIR when that is set.
set -euo pipefail

build=${OTSINKA_BUILD:?}
assets=${OTSINKA_ASSETS:-${OTSINKA_SOURCE:?}/assets}
kiosk=$build/kiosk/otsinka-kiosk
qrcheck=$build/tests/tools/kiosk_qrcheck
tmp=$(mktemp -d)
xpid=
cleanup() {
        [ -n "$xpid" ] && kill "$xpid" 2>/dev/null || true
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2; exit 1; }

for tool in Xvfb zbarimg compare convert sqlite3; do
        command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps build)"
done
[ -x "$qrcheck" ] || fail "$qrcheck was not built (tests/tools)"
export TZ=UTC
# under AddressSanitizer the program's exit is checked for leaks: not libdbus's (lsan.supp)
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(dirname "$0")/lsan.supp"

# The workplace's roster as the collector would send it: E002's PIN is 5678.
key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
hash_a=$("$qrcheck" hash 1234)
hash_b=$("$qrcheck" hash 5678)
{
        printf '{"protocol":1,"terminal":"T001",'
        printf '"workplace":{"code":"W001","name":"ЦНАП, вікно 1","name_en":"ASC, window 1"},'
        printf '"settings":{"min_interval_s":5,"idle_logout_s":1800,"logout_at":"20:00",'
        printf '"qr_ttl_s":300,"thanks_s":4,"selection_s":10,"one_tap":false,"lang":"uk"},'
        printf '"qr":{"base":"https://otsinka.example.gov.ua","key":"%s"},"employees":[' "$key"
        names=("Коваленко Олена Петрівна" "Шевченко Тарас Григорович" "Ґудзь Ірина Олексіївна"
                "Євтушенко Іван Іванович" "Бондаренко Марія Степанівна" "Андрієнко Олег Васильович"
                "Іваненко Петро Миколайович" "Яковенко Світлана Юріївна" "Мельник Андрій Вікторович"
                "Ткаченко Наталія Олександрівна" "Кравченко Богдан Ігорович" "Олійник Юлія Сергіївна"
                "Лисенко Василь Петрович" "Руденко Оксана Михайлівна" "Левченко Костянтин Якович")
        for i in "${!names[@]}"; do
                h=$hash_a
                [ "$i" = 1 ] && h=$hash_b
                [ "$i" = 2 ] && h=
                printf '%s{"id":"E%03d","full_name":"%s","position":"Головний спеціаліст відділу",' \
                        "$([ "$i" = 0 ] || echo ,)" $((i + 1)) "${names[$i]}"
                printf '"unit":"Відділ обслуговування громадян","pin_hash":"%s"}' "$h"
        done
        printf ']}\n'
} >"$tmp/roster.json"

start=1795860000 # 2026-11-28 10:00:00 UTC
cat >"$tmp/screens.script" <<EOF
clock $start
expect closed
shot noroster
tap-target connect
expect enroll
type 1234
shot enroll-nocollector
tap-target back
expect closed
status enrolled 1
roster $tmp/roster.json
shot closed
tap-target staff
expect list
shot list
tap-target next
shot list-next
tap-target prev
tap-target number
expect number
type 23
shot number
key backspace
key enter
expect pin
tap-target key1
tap-target key2
shot pin12
tap-target erase
tap-target erase
type 34
shot pin34
type 00
tap-target ok
expect pin
shot wrong
type 0000
key enter
type 0000
key enter
shot locked
advance 1000
shot locked-1s
advance 29000
type 5678
key enter
expect open
shot open
advance 1000
shot open-1s
advance 149000
shot open-renewed
tap-target smiley3
shot selected
tap-target send
expect thanks
shot thanks
advance 4500
expect open
key 1
key enter
expect open
shot already
advance 5000
tap-target staff
expect pin
type 5678
key enter
expect menu
shot menu
tap-target enroll
expect enroll
shot enroll-menu
tap-target back
expect menu
tap-target menu-status
status online 0 pending 3 events 1 rejected 2 clock -3100 unauthorized 1 enrolled 1 last-ok 1795859000
expect status
shot status
tap-target back
tap-target lang
shot menu-en
tap-target back
expect open
shot open-en
advance 1800000
expect closed
shot closed-en
tap-target connect
expect enroll
shot enroll-revoked
EOF
# The fake seconds at which the open screen's shots were taken (the script's advances).
t_open=$((start + 30))
t_renewed=$((start + 180))

Xvfb -displayfd 3 -screen 0 1920x1920x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xpid=$!
for _ in $(seq 1 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
display=$(head -n 1 "$tmp/display")
[ -n "$display" ] || fail "Xvfb did not start"
export DISPLAY=:$display

# The pixels in which two screenshots differ inside a named rect of the layout.
rect() { # SIZE NAME -> WxH+X+Y
        local json r
        json=$("$kiosk" layout "${1%x*}" "${1#*x}")
        r=$(echo "$json" | sed -n "s/.*\"$2\":\[\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\)\].*/\3x\4+\1+\2/p")
        [ -n "$r" ] || fail "the layout at $1 has no $2"
        echo "$r"
}
differ() { # A B GEOMETRY -> the number of pixels that differ
        convert "$1" -crop "$3" +repage "$tmp/a.png"
        convert "$2" -crop "$3" +repage "$tmp/b.png"
        compare -metric AE "$tmp/a.png" "$tmp/b.png" null: 2>&1 | sed 's/ .*//' || true
}
qr_of() { zbarimg -q --raw "$1" 2>/dev/null | head -n 1 || true; }
colours() { convert "$1" -crop "$2" +repage -format '%k' info:; } # distinct colours in a rect
# Pixels of exactly the warning colour (dark red, PALETTE_WARN) in a rect.
warn_pixels() { convert "$1" -crop "$2" +repage txt:- | grep -ci '#A31A1A' || true; }

for size in 800x480 1920x1080 480x800; do
        shots=${OTSINKA_SCREENS_DIR:-$tmp/shots}/$size
        db=$tmp/$size.db
        mkdir -p "$shots"
        "$kiosk" --database="$db" --assets="$assets" --windowed=true --width="${size%x*}" \
                --height="${size#*x}" --software=true --script="$tmp/screens.script" \
                --screenshots="$shots" --log-level=debug >"$tmp/kiosk-$size.log" 2>&1 ||
                fail "$size: the script did not run to its end"
        for name in noroster closed list list-next number pin12 pin34 wrong locked locked-1s open \
                open-1s open-renewed selected thanks already menu status menu-en open-en closed-en \
                enroll-nocollector enroll-menu enroll-revoked; do
                [ -s "$shots/$name.png" ] || fail "$size: no screenshot $name"
                got=$(identify -format '%wx%h' "$shots/$name.png")
                [ "$got" = "$size" ] || fail "$size: $name.png is $got"
        done

        # The QR code: on the open screen only, signed, the right employee, renewed at half time.
        for name in noroster closed list number pin12 locked thanks menu status closed-en \
                enroll-nocollector enroll-menu; do
                [ -z "$(qr_of "$shots/$name.png")" ] || fail "$size: a QR code on the $name screen"
        done
        url=$(qr_of "$shots/open.png")
        [ -n "$url" ] || fail "$size: no QR code found on the open screen"
        token=$("$qrcheck" verify "$key" "$url" "$t_open" 300) ||
                fail "$size: the collector would refuse the on-screen QR code $url"
        [ "$token" = "T001 E002 $((t_open + 300))" ] || fail "$size: the QR code is for '$token'"
        [ "$(qr_of "$shots/open-1s.png")" = "$url" ] || fail "$size: the QR code changed within its half-life"
        renewed=$(qr_of "$shots/open-renewed.png")
        [ -n "$renewed" ] && [ "$renewed" != "$url" ] || fail "$size: the QR code was not renewed"
        "$qrcheck" verify "$key" "$renewed" "$t_renewed" 300 >/dev/null ||
                fail "$size: the renewed QR code $renewed is refused"
        # a photo of the first code stops working once it expired
        if "$qrcheck" verify "$key" "$url" $((t_open + 301)) 300 >/dev/null 2>&1; then
                fail "$size: an expired QR code was accepted"
        fi
        qr=$(rect "$size" qr)
        [ "$(differ "$shots/open.png" "$shots/open-1s.png" "$qr")" = 0 ] ||
                fail "$size: the QR area was redrawn differently without a renewal"
        [ "$(differ "$shots/open.png" "$shots/open-renewed.png" "$qr")" != 0 ] ||
                fail "$size: the QR area did not change at the renewal"
        [ -n "$(qr_of "$shots/already.png")" ] || fail "$size: the open screen is not back after a suppressed vote"

        # A PIN shows as dots: 12 and 34 look the same; the lockout counts down.
        entry=$(rect "$size" entry)
        [ "$(differ "$shots/pin12.png" "$shots/pin34.png" "$entry")" = 0 ] || fail "$size: the PIN's digits show"
        [ "$(differ "$shots/number.png" "$shots/pin12.png" "$entry")" != 0 ] ||
                fail "$size: a personal number looks like a masked PIN"
        note=$(rect "$size" note)
        [ "$(differ "$shots/locked.png" "$shots/locked-1s.png" "$note")" != 0 ] ||
                fail "$size: the lockout's countdown does not move"
        [ "$(differ "$shots/wrong.png" "$shots/locked.png" "$note")" != 0 ] ||
                fail "$size: a lockout looks like a wrong PIN"

        # No second thank-you: the notice replaces the prompt, the smileys show no choice.
        prompt=$(rect "$size" prompt)
        [ "$(differ "$shots/open.png" "$shots/already.png" "$prompt")" != 0 ] ||
                fail "$size: no notice after a vote inside the minimum interval"
        for s in smiley1 smiley2 smiley3; do
                [ "$(differ "$shots/open.png" "$shots/already.png" "$(rect "$size" $s)")" = 0 ] ||
                        fail "$size: $s looks chosen after the suppressed vote"
        done
        [ "$(differ "$shots/open.png" "$shots/selected.png" "$(rect "$size" smiley3)")" != 0 ] ||
                fail "$size: the chosen smiley does not look chosen"
        # English after the switch; the list's second page shows other names
        [ "$(differ "$shots/closed.png" "$shots/closed-en.png" "$(rect "$size" message)")" != 0 ] ||
                fail "$size: the language switch changed nothing"
        [ "$(differ "$shots/list.png" "$shots/list-next.png" "$(rect "$size" row0)")" != 0 ] ||
                fail "$size: the list's next page shows the same names"

        # «Підключити термінал» while there is no credential (no collector here) and after the
        # collector refused it (the status says unauthorized), not on a working terminal; the
        # code keypad says in red that no collector-url is configured, and takes no digits.
        connect=$(rect "$size" connect)
        [ "$(colours "$shots/noroster.png" "$connect")" -gt 2 ] || fail "$size: no connect control on a new terminal"
        [ "$(colours "$shots/closed.png" "$connect")" = 1 ] || fail "$size: a connect control on a working terminal"
        [ "$(colours "$shots/closed-en.png" "$connect")" -gt 2 ] || fail "$size: no connect control on a revoked terminal"
        [ "$(warn_pixels "$shots/enroll-nocollector.png" "$note")" -gt 20 ] ||
                fail "$size: the code keypad does not say that no collector is configured"
        [ "$(differ "$shots/enroll-nocollector.png" "$shots/enroll-revoked.png" "$entry")" = 0 ] ||
                fail "$size: digits typed without a collector"
        [ "$(differ "$shots/enroll-menu.png" "$shots/enroll-revoked.png" "$(rect "$size" title)")" != 0 ] ||
                fail "$size: the code keypad's title is not translated"

        # What the terminal stored: one counted and one suppressed vote of shift E002, and the
        # shift's life as events.
        votes=$(sqlite3 "$db" "SELECT level, suppressed, employee, shift = (SELECT shift FROM events WHERE kind = 'shift_open') FROM votes ORDER BY seq")
        [ "$votes" = "$(printf '3||E002|1\n1|min_interval|E002|1')" ] || fail "$size: the store holds votes '$votes'"
        evs=$(sqlite3 "$db" "SELECT kind, employee, detail FROM events ORDER BY seq" | tr '\n' ' ')
        [ "$evs" = "pin_lockout|E002|30 shift_open|E002|pin shift_close|E002|idle " ] ||
                fail "$size: the store holds events '$evs'"
        [ "$(sqlite3 "$db" "SELECT value FROM state WHERE key = 'lang'")" = en ] ||
                fail "$size: the language switch was not kept"
        echo "$size: every screen drawn and checked (screenshots: $shots)"
done

# The store cannot open: the trouble screen says so and takes nothing.
printf 'expect trouble\nshot trouble\ntap 400 240\nexpect trouble\n' >"$tmp/trouble.script"
mkdir -p "$tmp/shots-trouble"
"$kiosk" --database="$tmp" --assets="$assets" --windowed=true --width=800 --height=480 \
        --software=true --script="$tmp/trouble.script" --screenshots="${OTSINKA_SCREENS_DIR:-$tmp/shots-trouble}" \
        >"$tmp/kiosk-trouble.log" 2>&1 || fail "the trouble script did not run to its end"
echo "screens: ok"
