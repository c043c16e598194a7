# SPDX-License-Identifier: MIT
# Shared by the sync fault tests (tests/sync/fault_*.sh), which source it. Not a test itself:
# tests/CMakeLists.txt runs tests/sync/*.sh, and this file is .bash.
#
# Every program is the real one on loopback: `otsinka-collector demo` over HTTPS with its own
# CA, `otsinka-kiosk` in an X window under Xvfb where employee E001 opens a shift with the PIN
# the demo made, taps made with real X input events, and the test tools from tests/tools:
# outbox_fill (many votes into the terminal's outbox through its own store, in the open shift)
# and cutproxy (a TCP proxy that cuts connections, or answers as a gateway). Waits poll a
# condition until a deadline and say what they saw on a timeout; deadlines stretch under the
# sanitizers.
#
# Fault tests end with fault_verify, which asserts what a user would notice: every vote the
# terminal took (tapped, or added by outbox_fill, whose ids are kept) is stored by the
# collector exactly once, the collector holds nothing else, and the terminal has every vote
# marked sent, none pending, none rejected.
set -euo pipefail

build=${OTSINKA_BUILD:?set OTSINKA_BUILD to the build directory}
collector_bin=$build/collector/otsinka-collector
kiosk_bin=$build/kiosk/otsinka-kiosk
fill_bin=$build/tests/tools/outbox_fill
proxy_bin=$build/tests/tools/cutproxy
for f in "$collector_bin" "$kiosk_bin" "$fill_bin" "$proxy_bin"; do
        [ -x "$f" ] || { echo "FAIL: $f is not built" >&2; exit 1; }
done

# Deadlines are multiplied by this: 3 under AddressSanitizer, which is slower and bigger.
scale=1
if grep -qs '^OTSINKA_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then scale=3; fi
scale=${FAULT_TIMEOUT_SCALE:-$scale}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otsinka-fault.XXXXXX")
demo=$tmp/demo
conf=$demo/kiosk.conf
kdb=$demo/kiosk.db
cdb=$demo/collector.db
ids=$tmp/filled.ids # every id outbox_fill added, one a line
: >"$ids"
pids=()      # every process started, for the cleanup
cpid=        # the collector
kpid=        # the terminal
xpid=        # Xvfb
lock_pid=    # the sqlite3 that holds the collector's database locked
proxy_port=  # cutproxy's port, when one runs
taps=0       # taps that stored a vote
t0=$SECONDS

# Signals go only to this shell's own children, checked by their parent pid: on a busy machine
# a pid is soon reused once bash has reaped the child, and the reuser is not ours to kill.
mine() { # whether pid $1 is a child of this shell; its state into `pstate`
        local stat
        { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
        set -- ${stat##*) }
        pstate=$1
        [ "$2" = "$$" ]
}
alive() { mine "$1" && [ "$pstate" != Z ]; }
signal() { # signal NAME PID: only to a child of this shell
        if mine "$2"; then kill -"$1" "$2" 2>/dev/null || true; fi
}

fault_cleanup() {
        local p left
        exec 7>&- 2>/dev/null || true
        for p in "${pids[@]}"; do signal CONT "$p"; signal TERM "$p"; done
        for _ in $(seq 1 50); do
                left=0
                for p in "${pids[@]}"; do alive "$p" && left=1; done
                [ $left = 0 ] && break
                sleep 0.1
        done
        for p in "${pids[@]}"; do signal KILL "$p"; done
        wait 2>/dev/null || true
        if [ -n "${FAULT_KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap fault_cleanup EXIT

fail() {
        local f
        {
                echo "FAIL: $*"
                for f in "$tmp"/*.log; do
                        [ -f "$f" ] || continue
                        echo "--- $f (last 40 lines)"
                        tail -n 40 "$f"
                done
                [ -f "$kdb" ] && echo "--- terminal outbox: $(kiosk_states 2>&1)"
                [ -f "$cdb" ] && echo "--- collector: $(sqlite3 "$cdb" 'SELECT COUNT(*) FROM votes' 2>&1) votes"
        } >&2
        exit 1
}

note() { echo "[$((SECONDS - t0))s] $*"; }

# wait_until SECONDS DESCRIPTION COMMAND...: runs COMMAND (in this shell, so it may set
# `seen`) every 0.1 s until it succeeds; fails the test after SECONDS (times the scale) with
# the description and the last thing COMMAND put in `seen`.
seen=
wait_until() {
        local limit=$(($1 * scale)) what=$2 deadline
        shift 2
        deadline=$((SECONDS + limit))
        seen=
        while :; do
                "$@" && return 0
                [ $SECONDS -ge $deadline ] && fail "timed out after ${limit}s waiting for $what (last seen: ${seen:-nothing})"
                sleep 0.1
        done
}

# As wait_until, but returns 1 on the deadline instead of failing.
wait_quietly() {
        local limit=$(($1 * scale)) deadline
        shift
        deadline=$((SECONDS + limit))
        while :; do
                "$@" && return 0
                [ $SECONDS -ge $deadline ] && return 1
                sleep 0.1
        done
}

q() { sqlite3 -cmd ".timeout 5000" "$@"; } # a query that waits out a writer's lock

# --- the collector ------------------------------------------------------------------------

healthy() { curl -fsS --max-time 5 --cacert "$demo/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; }

# Starts the demo collector in $demo on $port. The first call makes the demo on a free port
# and sets the terminals' thank-you screen to 1 s (the collector's terminal setting), so that
# taps follow each other quickly.
collector_start() {
        if [ -z "${port:-}" ]; then
                local attempt
                for attempt in 1 2 3 4 5; do
                        # below the kernel's ephemeral range (32768-), where clients' ports are
                        port=$((20000 + RANDOM % 12000))
                        rm -rf "$demo"
                        if collector_launch; then
                                "$collector_bin" terminal-setting thanks_s 1 --database="sqlite:$cdb" \
                                        >>"$tmp/collector.out" 2>>"$tmp/collector.log" ||
                                        fail "otsinka-collector terminal-setting thanks_s 1 failed"
                                return 0
                        fi
                done
                fail "the demo collector did not start on any of five ports"
        fi
        collector_launch || fail "the collector did not come back on port $port"
}

collector_launch() {
        if [ -n "$cpid" ] && alive "$cpid"; then
                fail "test bug: a collector is already running"
        fi
        "$collector_bin" demo --dir "$demo" --port "$port" >>"$tmp/collector.out" 2>>"$tmp/collector.log" 7>&- &
        cpid=$!
        pids+=("$cpid")
        # The first start seeds the demo, with an Argon2 hash for every PIN: many seconds on a
        # loaded machine. Only an exit (the port is taken) makes the caller try another port.
        local deadline=$((SECONDS + 90 * scale))
        while [ $SECONDS -lt $deadline ]; do
                if ! alive "$cpid"; then
                        wait "$cpid" 2>/dev/null || true
                        return 1
                fi
                healthy && alive "$cpid" && return 0
                sleep 0.1
        done
        fail "the collector did not answer /healthz within $((90 * scale))s"
}

collector_kill() { # SIGKILL, and wait until it is gone
        signal KILL "$cpid"
        wait "$cpid" 2>/dev/null || true
}

collector_stop() { # SIGTERM, a clean stop
        local t=$SECONDS
        signal TERM "$cpid"
        wait "$cpid" || fail "the collector did not stop cleanly on SIGTERM"
        [ $((SECONDS - t)) -lt 5 ] || note "the collector took $((SECONDS - t))s to stop on SIGTERM"
}

collector_votes() { q "$cdb" "SELECT COUNT(*) FROM votes"; }

# Whether a thread of the collector sleeps in SQLite's busy handler, i.e. a request is inside
# the store, waiting for the write lock: the kernel's wait channel, or failing that the system
# call (nanosleep / clock_nanosleep on x86-64 and arm64).
collector_in_store() {
        local t w s
        alive "$cpid" || fail "the collector exited unexpectedly"
        seen="collector threads:"
        for t in /proc/"$cpid"/task/*; do
                w=$(cat "$t/wchan" 2>/dev/null || true)
                s=$(cut -d' ' -f1 "$t/syscall" 2>/dev/null || true)
                seen+=" ${w:-?}/${s:-?}"
                [[ $w == *nanosleep* ]] && return 0
                case "$(uname -m):$s" in
                x86_64:35 | x86_64:230 | aarch64:101 | aarch64:115) return 0 ;;
                esac
        done
        return 1
}

# Holds the collector's database write-locked (BEGIN EXCLUSIVE, which in WAL mode still lets
# the collector read: it authenticates, then finds the store busy) until db_unlock. sqlite3
# reads its commands from a FIFO on fd 7; programs started meanwhile must not inherit fd 7
# (they are started with 7>&-).
db_lock() {
        rm -f "$tmp/lock.fifo" "$tmp/locked"
        mkfifo "$tmp/lock.fifo"
        sqlite3 "$cdb" <"$tmp/lock.fifo" >>"$tmp/lock.log" 2>&1 &
        lock_pid=$!
        pids+=("$lock_pid")
        exec 7>"$tmp/lock.fifo"
        printf '.timeout 30000\nBEGIN EXCLUSIVE;\n.shell touch %s\n' "$tmp/locked" >&7
        wait_until 30 "sqlite3 to take the collector's write lock" test -e "$tmp/locked"
}

db_unlock() {
        printf 'ROLLBACK;\n.exit\n' >&7
        exec 7>&-
        wait_until 10 "sqlite3 to let the collector's database go" lock_released
        wait "$lock_pid" 2>/dev/null || true
}
lock_released() { ! alive "$lock_pid"; }

# --- the terminal ---------------------------------------------------------------------------

# Xvfb picks a free display itself (-displayfd, as e2e_one_vote.sh does). -noreset: by default
# an X server resets when its last client goes, and refuses or resets connections meanwhile;
# a terminal restarted right after one was killed would then find no display (and SDL would
# quietly run it without a window).
xvfb_start() {
        Xvfb -displayfd 3 -noreset -screen 0 800x480x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 7>&- &
        xpid=$!
        pids+=("$xpid")
        wait_until 10 "Xvfb to pick a display" test -s "$tmp/display"
        export DISPLAY=:$(head -n 1 "$tmp/display")
        layout=$("$kiosk_bin" layout 800 480)
}

# Starts the terminal in a window at the screen's top-left corner; extra arguments are kiosk
# options (e.g. --collector-url=... to go through the proxy, --batch-size=50).
kiosk_start() {
        "$kiosk_bin" --config "$conf" --windowed=true --width=800 --height=480 --software=true \
                --log-level=debug "$@" >>"$tmp/kiosk.out" 2>>"$tmp/kiosk.log" 7>&- &
        kpid=$!
        pids+=("$kpid")
        wait_until 20 "the terminal's window" kiosk_window
}

kiosk_window() {
        alive "$kpid" || fail "the terminal exited"
        xdotool search --onlyvisible --pid "$kpid" >/dev/null 2>&1 && return 0
        seen="windows of pid $kpid: $(xdotool search --pid "$kpid" 2>&1 | tr '\n' ' '); top-level windows: $(xwininfo -root -children 2>&1 | grep -c '^ *0x')"
        return 1
}

kiosk_kill() {
        signal KILL "$kpid"
        wait "$kpid" 2>/dev/null || true
}

# "pending sent rejected" in the terminal's outbox.
kiosk_states() {
        q "$kdb" "SELECT IFNULL(SUM(state = 0), 0) || ' ' || IFNULL(SUM(state = 1), 0) || ' ' ||
                  IFNULL(SUM(state = 2), 0) FROM votes"
}
kiosk_total() { q "$kdb" "SELECT COUNT(*) FROM votes" 2>/dev/null || echo 0; }

centre() { # the centre of a named rectangle of the layout
        local r
        r=$(echo "$layout" | sed -n "s/.*\"$1\":\[\([0-9]*\),\([0-9]*\),\([0-9]*\),\([0-9]*\)\].*/\1 \2 \3 \4/p")
        set -- $r
        echo "$(($1 + $3 / 2)) $(($2 + $4 / 2))"
}

click() { # a real click on a named target of the layout
        local x y
        read -r x y <<<"$(centre "$1")"
        xdotool mousemove "$x" "$y" click 1
}

# Employee E001 opens a shift, as staff do: «staff», personal number 1 on the keypad, the PIN
# the demo made for E001, all with real clicks. Needs the roster, which the terminal pulls
# from the collector (and keeps in its outbox for a restart, which resumes the shift).
login() {
        local pin i
        wait_until 30 "the terminal to receive its roster" kiosk_log_has "Roster: workplace"
        pin=$(sed -n 's/^E001 \([0-9]*\)$/\1/p' "$demo/staff-pins")
        [ -n "$pin" ] || fail "the demo gave employee E001 no PIN"
        for _ in 1 2 3; do
                # each click acts on the screen the one before it led to: a moment between them
                for i in staff number key1 ok $(echo "$pin" | sed 's/./key& /g') ok; do
                        click "$i"
                        sleep 0.3
                done
                if wait_quietly 15 kiosk_log_has "opened for employee E001"; then
                        note "E001 opened a shift with the PIN"
                        return 0
                fi
                note "the PIN login did not open a shift; again"
        done
        fail "E001 could not open a shift with the PIN on the keypad"
}

# A resident taps a smiley (level 1-3, default 3) and «Відправити відгук». Waits until the
# terminal has stored the vote; taps again if the screen was not ready (the thank-you screen
# ignores taps). A stored vote also kicks the uploader, ending any backoff wait.
tap() {
        local level=${1:-3} before x y sx sy
        before=$(kiosk_total)
        read -r x y <<<"$(centre "smiley$level")"
        read -r sx sy <<<"$(centre send)"
        for _ in 1 2 3 4 5 6 7 8; do
                xdotool mousemove "$x" "$y" click 1 mousemove "$sx" "$sy" click 1
                if wait_quietly 3 tapped "$before"; then
                        taps=$((taps + 1))
                        return 0
                fi
        done
        fail "eight taps on smiley $level and «Send» stored no vote (the outbox holds $(kiosk_total))"
}
tapped() { [ "$(kiosk_total)" -gt "$1" ]; }

# Adds N votes to the terminal's outbox (the kiosk may be running) and keeps their ids. They
# are like the last vote tapped: the same employee, workplace and shift.
fill() {
        local e w sh
        IFS='|' read -r e w sh < <(q "$kdb" "SELECT employee, workplace, shift FROM votes
                                            WHERE channel = 'terminal' ORDER BY seq DESC LIMIT 1")
        [ -n "$e" ] || fail "test bug: fill before any tapped vote"
        "$fill_bin" --config "$conf" --employee "$e" --workplace "$w" --shift "$sh" "$@" \
                >>"$ids" 2>>"$tmp/fill.log" || fail "outbox_fill $* failed"
}

# Waits until the terminal has no vote pending. When nothing moves for `stall` seconds, a
# resident taps a vote, which kicks the uploader out of its backoff (the uploader otherwise
# looks again only every 30 s, or after a backoff of up to 5 min).
drain() {
        local limit=$((${1:-90} * scale)) stall=${2:-6} deadline last='' now since=$SECONDS
        deadline=$((SECONDS + limit))
        while :; do
                now=$(kiosk_states)
                set -- $now
                [ "$1" = 0 ] && return 0
                [ $SECONDS -ge $deadline ] && fail "the terminal still has votes pending after ${limit}s (pending sent rejected: $now)"
                if [ "$now" != "$last" ]; then
                        last=$now
                        since=$SECONDS
                elif [ $((SECONDS - since)) -ge "$stall" ]; then
                        note "nothing moved for ${stall}s ($now pending, sent, rejected): a tap kicks the uploader"
                        tap $((RANDOM % 3 + 1))
                        since=$SECONDS
                fi
                sleep 0.2
        done
}

# E001 taps a vote, and it reaches the collector: the terminal works before the fault.
first_vote() {
        tap 3
        wait_until 30 "the first vote to be stored" first_stored
}
first_stored() {
        seen="collector $(collector_votes), terminal $(kiosk_states)"
        [ "$(collector_votes)" = 1 ] && [ "$(kiosk_states)" = "0 1 0" ]
}

kiosk_log_has() { grep -qF -- "$1" "$tmp/kiosk.log"; }
# A line of the terminal's log as a person reads it: from "sync: " on, without the source
# location that debug logging adds.
said() { sed -E 's/^.*(sync: )/\1/; s/ \([^()]*\.c:[0-9]+\)$//' <<<"$1"; }
log_mark() { wc -l <"$tmp/kiosk.log"; } # the terminal's log so far, for kiosk_log_since
# Whether the terminal logged a line matching the extended regex $2 after mark $1; the line
# goes to `seen`.
kiosk_log_since() {
        seen=$(tail -n +"$(($1 + 1))" "$tmp/kiosk.log" | grep -E -m 1 -- "$2") || return 1
}

# Votes the collector has stored that the terminal still has pending: answers lost on the way
# (or not yet applied, while the terminal runs). With an argument, only votes the collector
# first received at or after that time (Unix ms).
lost_answers() {
        q "$cdb" "ATTACH '$kdb' AS k; SELECT COUNT(*) FROM k.votes kv WHERE kv.state = 0 AND
                  EXISTS (SELECT 1 FROM main.votes v WHERE v.uuid = kv.id
                          AND v.received_at >= ${1:-0})"
}

# kill_when PID COMMAND...: with PID frozen (SIGSTOP) by the caller, lets it run for a random
# 0-11 ms at a time and freezes it again; as soon as COMMAND succeeds with PID frozen, kills
# it there (SIGKILL) and returns 0. Returns 1, with PID running, once the terminal has nothing
# pending any more or after 30 s. `samples` counts the freezes. After each freeze it waits
# 50 ms before asking COMMAND: a request the terminal sent just before is then stored by the
# collector, and the freeze counts as "answer in flight" (a collector that stores a batch in a
# few ms would otherwise finish a whole drain between two looks).
samples=0
kill_when() {
        local pid=$1 deadline=$((SECONDS + 30 * scale)) states
        shift
        samples=0
        while [ $SECONDS -lt $deadline ]; do
                signal CONT "$pid"
                sleep "$(printf '0.%03d' $((RANDOM % 12)))"
                signal STOP "$pid"
                samples=$((samples + 1))
                sleep 0.05
                if "$@"; then
                        signal KILL "$pid"
                        wait "$pid" 2>/dev/null || true
                        return 0
                fi
                if [ $((samples % 10)) = 0 ]; then
                        states=$(kiosk_states)
                        [ "${states%% *}" = 0 ] && break
                fi
        done
        signal CONT "$pid"
        return 1
}

# --- the proxy ------------------------------------------------------------------------------

# Starts cutproxy in front of the collector: on a free port of its own choosing the first
# time ($proxy_port), on the same port after proxy_stop; arguments are cutproxy's options.
proxy_pid=
proxy_start() {
        rm -f "$tmp/proxy.port"
        "$proxy_bin" --to "$port" --listen "${proxy_port:-0}" --log "$tmp/proxy.log" "$@" \
                >"$tmp/proxy.port" 2>>"$tmp/proxy.log" 7>&- &
        proxy_pid=$!
        pids+=("$proxy_pid")
        wait_until 10 "cutproxy to listen" proxy_listening
        proxy_port=$(sed -n 's/^port //p' "$tmp/proxy.port")
        [ -n "$proxy_port" ] || fail "cutproxy did not say its port"
}
proxy_listening() { alive "$proxy_pid" || fail "cutproxy exited: $(tail -n 1 "$tmp/proxy.log")"; test -s "$tmp/proxy.port"; }
proxy_stop() { # every connection through it ends
        signal TERM "$proxy_pid"
        wait "$proxy_pid" 2>/dev/null || true
}

# A counter of the collector's /metrics (loopback only), e.g.
# metric 'otsinka_votes_received_total{source="terminal",result="duplicate"}'. It counts from
# the collector's start.
metric() {
        local body
        body=$(curl -fsS --max-time 10 --cacert "$demo/ca.pem" "https://127.0.0.1:$port/metrics") ||
                fail "the collector's /metrics did not answer"
        awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' <<<"$body"
}

# --- the verdict ----------------------------------------------------------------------------

# The verdict: cast == stored, none twice, none lost, none left behind.
fault_verify() {
        local states filled total extra stored distinct missing twice foreign bad flagged
        states=$(kiosk_states)
        [ "$states" = "0 $(kiosk_total) 0" ] ||
                fail "the terminal's votes are not all marked sent (pending sent rejected: $states)"
        filled=$(wc -l <"$ids")
        total=$(kiosk_total)
        rm -f "$tmp/filled.db"
        sqlite3 "$tmp/filled.db" "CREATE TABLE filled(id TEXT PRIMARY KEY)" ".import $ids filled" ||
                fail "outbox_fill printed an id twice"
        [ "$(sqlite3 "$tmp/filled.db" "SELECT COUNT(*) FROM filled")" = "$filled" ] ||
                fail "outbox_fill printed an id twice"
        read -r stored distinct missing twice foreign bad < <(q -separator ' ' "$cdb" \
                "ATTACH '$kdb' AS k; ATTACH '$tmp/filled.db' AS f;
                 SELECT (SELECT COUNT(*) FROM main.votes),
                        (SELECT COUNT(DISTINCT uuid) FROM main.votes),
                        (SELECT COUNT(*) FROM k.votes kv WHERE NOT EXISTS
                                (SELECT 1 FROM main.votes v WHERE v.uuid = kv.id)),
                        (SELECT COUNT(*) FROM k.votes kv WHERE
                                (SELECT COUNT(*) FROM main.votes v WHERE v.uuid = kv.id) > 1),
                        (SELECT COUNT(*) FROM main.votes v WHERE NOT EXISTS
                                (SELECT 1 FROM k.votes kv WHERE kv.id = v.uuid)),
                        (SELECT COUNT(*) FROM f.filled fv WHERE
                                (SELECT COUNT(*) FROM main.votes v WHERE v.uuid = fv.id) != 1
                                OR NOT EXISTS (SELECT 1 FROM k.votes kv WHERE kv.id = fv.id))")
        extra=$((total - filled))
        note "cast: $total ($filled by outbox_fill, $extra tapped, $taps taps); stored: $stored, distinct $distinct"
        [ "$stored" = "$distinct" ] || fail "the collector stored $((stored - distinct)) votes twice ($stored rows, $distinct ids)"
        [ "$missing" = 0 ] || fail "$missing votes the terminal cast are not at the collector"
        [ "$twice" = 0 ] || fail "$twice votes the terminal cast are stored more than once"
        [ "$foreign" = 0 ] || fail "the collector holds $foreign votes the terminal never cast"
        [ "$bad" = 0 ] || fail "$bad votes added by outbox_fill are not in the terminal's outbox and at the collector exactly once"
        [ "$extra" -ge "$taps" ] || fail "$taps taps stored votes, but only $extra votes beside outbox_fill's are in the outbox"
        [ "$stored" = "$total" ] || fail "the terminal cast $total votes, the collector stored $stored"
        # outbox_fill's votes are the terminal's own kind: the collector flags none (it flags a
        # terminal vote without a shift, and holds it back from the counts)
        if [ "$(q "$cdb" "SELECT COUNT(*) FROM pragma_table_info('votes') WHERE name = 'flag'")" = 1 ]; then
                flagged=$(q "$cdb" "SELECT COUNT(*) FROM votes WHERE IFNULL(flag, '') != ''")
                [ "$flagged" = 0 ] || fail "the collector flagged $flagged of the votes"
        fi
        [ "$(q "$cdb" "PRAGMA integrity_check")" = ok ] || fail "the collector's database is damaged"
        [ "$(q "$kdb" "PRAGMA integrity_check")" = ok ] || fail "the terminal's outbox is damaged"
}
