#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A new terminal connected by a code typed on its screen, every part real: the demo collector
# over HTTPS with its own CA; a terminal with the collector's address and CA but no terminal-id,
# no secret and no enroll-code; an administrator's one-time code for workplace W002
# (`otsinka-collector enroll-code`).
#  1. The script mode (fake time, the real uploader) at 800x480 in Ukrainian and 480x800 in
#     English: the closed screen offers «Підключити термінал»; the code keypad shows the digits
#     grouped 1234-5678-9012; OK shows «Підключення…»; a wrong code is refused on screen in
#     plain words; the right one connects, and the closed screen then names the workplace.
#  2. A real window under Xvfb, tapped with xdotool at the rects `otsinka-kiosk layout` gives:
#     a wrong code shows the refusal, the right code makes a new terminal at W002 in the
#     collector's database, the terminal keeps that id in its outbox, the control is gone and
#     the closed screen names the workplace exactly as the script mode drew it.
# The screenshots stay in $OTSINKA_SCREENS_DIR/enroll when that is set.
set -euo pipefail

build=${OTSINKA_BUILD:?}
assets=${OTSINKA_ASSETS:-${OTSINKA_SOURCE:?}/assets}
kiosk=$build/kiosk/otsinka-kiosk
collector=$build/collector/otsinka-collector
tmp=$(mktemp -d)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log "$tmp"/demo.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2; exit 1; }

for tool in Xvfb xdotool import convert compare sqlite3 curl; do
        command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/install-deps build)"
done
[ -x "$collector" ] || fail "$collector was not built"
export TZ=UTC
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(dirname "$0")/lsan.supp"
# shellcheck source=../common/demo.bash
. "$(dirname "$0")/../common/demo.bash"

shots=${OTSINKA_SCREENS_DIR:+$OTSINKA_SCREENS_DIR/enroll}
shots=${shots:-$tmp/shots}
mkdir -p "$shots"
cdb=$tmp/demo/collector.db
new_code() { "$collector" enroll-code W002 --database "sqlite:$cdb" 2>>"$tmp/codes.log"; }
w002_terminals() {
        sqlite3 "$cdb" "SELECT id FROM terminals WHERE workplace_id =
                (SELECT id FROM workplaces WHERE code = 'W002') ORDER BY id" | tr '\n' ' '
}
# wait_for SECONDS WHAT COMMAND...: polls until COMMAND succeeds.
wait_for() {
        local n=$(($1 * 10)) what=$2
        shift 2
        for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
        fail "waited $((n / 10)) s for $what"
}

start_demo "$tmp/demo" || fail "the demo collector did not start"
pids+=("$demo_pid")
[ -z "$(w002_terminals)" ] || fail "the demo has a terminal at W002 already"

Xvfb -displayfd 3 -screen 0 1920x1920x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
wait_for 10 "Xvfb to pick a display" test -s "$tmp/display"
export DISPLAY=:$(head -n 1 "$tmp/display")

# Geometry of a named rect of the layout, as WxH+X+Y; its centre as "X Y".
rect() { # SIZE NAME
        local r
        r=$("$kiosk" layout "${1%x*}" "${1#*x}" |
                sed -n "s/.*\"$2\":\[\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\)\].*/\3x\4+\1+\2/p")
        [ -n "$r" ] || fail "the layout at $1 has no $2"
        echo "$r"
}
centre() { # SIZE NAME
        local g w h x y
        g=$(rect "$1" "$2")
        IFS='x+' read -r w h x y <<<"$g"
        echo "$((x + w / 2)) $((y + h / 2))"
}
differ() { # A B GEOMETRY -> the number of pixels that differ
        convert "$1" -crop "$3" +repage "$tmp/a.png"
        convert "$2" -crop "$3" +repage "$tmp/b.png"
        compare -metric AE "$tmp/a.png" "$tmp/b.png" null: 2>&1 | sed 's/ .*//' || true
}
# Pixels of exactly the warning colour (dark red, PALETTE_WARN) in a rect: words of a refusal.
warn_pixels() { # IMAGE GEOMETRY
        convert "$1" -crop "$2" +repage txt:- | grep -ci '#A31A1A' || true
}
colours() { convert "$1" -crop "$2" +repage -format '%k' info:; } # distinct colours in a rect

conf() { # DB -> a kiosk.conf with the collector's address and CA, and no credential at all
        printf 'collector-url = %s\nca-file = %s\ndatabase = %s\nassets = %s\n' \
                "$demo_base" "$demo_ca" "$1" "$assets" >"$tmp/$(basename "$1" .db).conf"
        echo "$tmp/$(basename "$1" .db).conf"
}

# ---- 1. the script mode: every frame of the flow, deterministic ----

for run in 800x480:uk 480x800:en; do
        size=${run%:*} lang=${run#*:}
        out=$shots/script-$size
        db=$tmp/script-$size.db
        code=$(new_code) || fail "enroll-code W002 did not make a code"
        [[ "$code" =~ ^[0-9]{4}-[0-9]{4}-[0-9]{4}$ ]] || fail "the code '$code' is not 1234-5678-9012"
        # the first keys typed with dashes, as printed; the rest on the keypad
        cat >"$tmp/enroll-$size.script" <<EOF
expect closed
shot fresh
tap-target connect
expect enroll
shot keypad
type 0000-0000-000
shot eleven
tap-target key0
shot wrong-typed
tap-target ok
shot connecting-wrong
wait 3000
shot wrong
type ${code:0:4}
type ${code:5:4}
$(for ((i = 10; i < 14; i++)); do echo "tap-target key${code:i:1}"; done)
shot typed
tap-target ok
shot connecting
wait 3000
expect enroll
shot done
advance 5000
expect closed
wait 2000
shot closed
EOF
        "$kiosk" --config "$(conf "$db")" --lang="$lang" --windowed=true --width="${size%x*}" \
                --height="${size#*x}" --software=true --script="$tmp/enroll-$size.script" \
                --screenshots="$out" --log-level=debug >"$tmp/script-$size.log" 2>&1 ||
                fail "$size: the enrollment script did not run to its end"

        # «Підключити термінал» on the fresh terminal's closed screen, gone once connected
        connect=$(rect "$size" connect)
        [ "$(colours "$out/fresh.png" "$connect")" -gt 2 ] || fail "$size: no connect control"
        [ "$(colours "$out/closed.png" "$connect")" = 1 ] ||
                fail "$size: the connect control is still there after connecting"
        # the digits show, grouped; eleven cannot be sent (OK looks disabled), twelve can
        entry=$(rect "$size" entry) ok=$(rect "$size" ok) note=$(rect "$size" note)
        [ "$(differ "$out/keypad.png" "$out/eleven.png" "$entry")" != 0 ] || fail "$size: the digits do not show"
        [ "$(differ "$out/keypad.png" "$out/eleven.png" "$ok")" = 0 ] || fail "$size: OK looks usable at 11 digits"
        [ "$(differ "$out/eleven.png" "$out/wrong-typed.png" "$ok")" != 0 ] || fail "$size: OK looks unusable at 12 digits"
        # «Підключення…» right after OK, quietly; then the refusal in red words, in place
        [ "$(colours "$out/connecting.png" "$note")" -gt 2 ] || fail "$size: nothing says «connecting»"
        [ "$(warn_pixels "$out/connecting.png" "$note")" = 0 ] || fail "$size: «connecting» looks like an error"
        [ "$(differ "$out/connecting-wrong.png" "$out/connecting.png" "$note")" = 0 ] ||
                fail "$size: the two «connecting» notes differ"
        [ "$(warn_pixels "$out/wrong.png" "$note")" -gt 20 ] || fail "$size: the wrong code's refusal is not on screen"
        grep -q "Enrollment with the typed code: enrollment refused (HTTP 403)" "$tmp/script-$size.log" ||
                fail "$size: the wrong code was not refused by the collector"
        # the right one: «Підключено як термінал T…», not in red
        [ "$(colours "$out/done.png" "$note")" -gt 2 ] || fail "$size: the success is not on screen"
        [ "$(warn_pixels "$out/done.png" "$note")" = 0 ] || fail "$size: the success looks like an error"
        tid=$(sqlite3 "$db" "SELECT value FROM state WHERE key = 'terminal_id'")
        [[ "$tid" =~ ^T[0-9]+$ ]] || fail "$size: the terminal keeps no enrolled id ('$tid')"
        grep -q "Enrolled with the typed code as terminal $tid" "$tmp/script-$size.log" ||
                fail "$size: the terminal did not report enrollment as $tid"
        grep -q "Roster: workplace W002" "$tmp/script-$size.log" || fail "$size: no roster of W002 arrived"
        [[ " $(w002_terminals)" == *" $tid "* ]] || fail "$size: the collector has no terminal $tid at W002"
        for name in fresh keypad eleven wrong-typed connecting-wrong wrong typed connecting done closed; do
                got=$(identify -format '%wx%h' "$out/$name.png")
                [ "$got" = "$size" ] || fail "$size: $name.png is $got"
        done
        echo "$size ($lang): connected as $tid in the script mode (screenshots: $out)"
done

# ---- 2. a real window, real taps ----

size=800x480
db=$tmp/window.db
real=$shots/window
mkdir -p "$real"
"$kiosk" --config "$(conf "$db")" --windowed=true --width=800 --height=480 --software=true \
        --log-level=debug >"$tmp/window.log" 2>&1 &
kpid=$!
pids+=("$kpid")
kiosk_window() {
        kill -0 "$kpid" 2>/dev/null || fail "the terminal exited"
        xdotool search --onlyvisible --pid "$kpid" >/dev/null 2>&1
}
wait_for 20 "the terminal's window" kiosk_window
shot() { import -display "$DISPLAY" -window root -crop 800x480+0+0 +repage "$real/$1.png"; }
tap() { # a real click on a named target, then a moment for the frame
        local x y
        read -r x y <<<"$(centre "$size" "$1")"
        xdotool mousemove "$x" "$y" click 1
        sleep 0.2
}
tap_code() { local d=${1//-/}; for ((i = 0; i < ${#d}; i++)); do tap "key${d:i:1}"; done; }
logged() { grep -q "$1" "$tmp/window.log"; }
before=$(w002_terminals)

wait_for 10 "the uploader to say it has no credential" logged "sync: this terminal has no credential"
shot fresh
[ "$(colours "$real/fresh.png" "$(rect $size connect)")" -gt 2 ] || fail "window: no connect control"
tap connect
tap_code 0000-0000-0000
tap ok
wait_for 10 "the refusal" logged "Enrollment with the typed code: enrollment refused"
sleep 0.5
shot wrong
[ "$(warn_pixels "$real/wrong.png" "$(rect $size note)")" -gt 20 ] || fail "window: the refusal is not on screen"
[ "$(w002_terminals)" = "$before" ] || fail "window: a wrong code made a terminal"

code=$(new_code) || fail "enroll-code W002 did not make a code"
tap_code "$code"
tap ok
wait_for 10 "the enrollment" logged "Enrolled with the typed code as terminal"
wait_for 10 "the roster of W002" logged "Roster: workplace W002"
tid=$(sqlite3 "$db" "SELECT value FROM state WHERE key = 'terminal_id'")
after=$(w002_terminals)
[ "$after" = "$before$tid " ] || fail "window: W002's terminals went from '$before' to '$after', not + $tid"
sqlite3 "$db" "SELECT value FROM state WHERE key = 'terminal_secret'" | grep -q . ||
        fail "window: the terminal keeps no secret"
# «Підключено» for 4 s, then the closed screen with the workplace's name
sleep 5
shot closed
[ "$(colours "$real/closed.png" "$(rect $size connect)")" = 1 ] || fail "window: the connect control is still there"
# the same lines the script mode drew for W002 (whose name it took from the same collector)
[ "$(differ "$real/closed.png" "$shots/script-800x480/closed.png" "$(rect $size message)")" = 0 ] ||
        fail "window: the closed screen does not show what the script mode drew for W002"
[ "$(differ "$real/closed.png" "$real/fresh.png" "$(rect $size message)")" != 0 ] ||
        fail "window: the closed screen looks as before connecting"
name=$(sqlite3 "$cdb" "SELECT name FROM workplaces WHERE code = 'W002'")
sqlite3 "$db" "SELECT json FROM roster" | grep -qF "\"$name\"" || fail "window: the roster does not name '$name'"
echo "window: connected as $tid; the closed screen names '$name' (screenshots: $real)"
echo "enroll: ok"
