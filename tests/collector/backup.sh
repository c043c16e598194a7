#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An online backup of a collector that keeps working: the demo serves over HTTPS while a
# terminal keeps sending votes and a monitor keeps asking /healthz, and `otsinka-collector
# backup` copies the database meanwhile. The copy is a standalone SQLite file that passes
# integrity_check, holds every vote stored before the backup began (and none that was never
# stored), and the collector itself can read it; no vote sent meanwhile was refused or lost,
# and the collector never stopped answering.
set -euo pipefail

build=${OTSINKA_BUILD:?}
source "${OTSINKA_SOURCE:?}/tests/common/demo.bash"
bin=$build/collector/otsinka-collector
command -v sqlite3 >/dev/null || { echo "SKIP: no sqlite3 command"; exit 77; }
tmp=$(mktemp -d)
demo=$tmp/demo
demo_pid= sender_pid= monitor_pid=
cleanup() {
        for p in $sender_pid $monitor_pid $demo_pid; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$demo.log" >&2 2>/dev/null || true; exit 1; }

start_demo "$demo" || exit 1
db=$demo/collector.db
secret=$(sed -n 's/^terminal-secret = //p' "$demo/kiosk.conf")
[ -n "$secret" ] || fail "no terminal-secret in $demo/kiosk.conf"
shift_id=0190a1b2-0000-7000-8000-000000000001
votes_in() { sqlite3 "$1" "SELECT COUNT(*) FROM votes"; }

# Vote ids: this run's random prefix and a counter (only one process sends at a time).
id_prefix=$(cut -c1-24 /proc/sys/kernel/random/uuid)
id_next=0

# send N: one batch of N votes from the demo terminal T001 (docs/protocol.md), cast now in an
# open shift; appends "<HTTP status> <votes stored>" to $tmp/sent.
send() {
        local n=$1 me=$BASHPID now id votes="" i status stored
        now=$(date +%s%3N)
        for ((i = 0; i < n; i++)); do
                printf -v id '%s%012x' "$id_prefix" $((id_next++))
                votes+="${votes:+,}{\"id\":\"$id\",\"level\":$((i % 3 + 1)),\"channel\":\"terminal\""
                votes+=",\"employee\":\"E001\",\"shift\":\"$shift_id\",\"cast_at\":$now}"
        done
        printf '{"protocol":1,"terminal":"T001","sent_at":%s,"votes":[%s]}' "$now" "$votes" \
                >"$tmp/batch.$me"
        status=$(curl -sS --cacert "$demo_ca" -o "$tmp/ack.$me" -w '%{http_code}' \
                -H "Authorization: Bearer T001:$secret" -H "Content-Type: application/json" \
                --data-binary @"$tmp/batch.$me" "$demo_base/api/v1/votes") || status=000
        stored=$(grep -o '"status":"stored"' "$tmp/ack.$me" 2>/dev/null | wc -l) || true
        echo "$status $stored" >>"$tmp/sent"
}

# ---- a database worth copying in several steps: a few thousand votes ----
for _ in 1 2 3 4 5 6; do send 1000; done
while read -r status stored; do
        [ "$status" = 200 ] && [ "$stored" = 1000 ] ||
                fail "a batch of 1000 answered $status, $stored stored"
done <"$tmp/sent"
before=$(votes_in "$db")
[ "$before" = 6000 ] || fail "$before votes stored, not 6000"
: >"$tmp/sent"
# and some 16 MB more (a year of a city's votes is larger still), so that the copy takes many
# steps while the votes come in
sqlite3 "$db" "PRAGMA busy_timeout = 5000; INSERT INTO meta VALUES ('test.ballast', randomblob(16000000))" >/dev/null

# ---- the backup, while a terminal keeps sending and a monitor keeps asking ----
(
        while [ ! -e "$tmp/stop" ]; do send 20; done
) &
sender_pid=$!
(
        while [ ! -e "$tmp/stop" ]; do
                curl -sS --cacert "$demo_ca" -o /dev/null -w '%{http_code}\n' --max-time 5 \
                        "$demo_base/healthz" >>"$tmp/health" 2>>"$tmp/health.err" || echo 000 >>"$tmp/health"
                sleep 0.05
        done
) &
monitor_pid=$!
# let both get going before the backup begins, and check they do
for _ in $(seq 1 100); do
        [ -s "$tmp/sent" ] && [ -s "$tmp/health" ] && break
        sleep 0.1
done
[ -s "$tmp/sent" ] || fail "the terminal's votes did not get through before the backup"
during_start=$(votes_in "$db")

timeout 120 "$bin" backup "$tmp/backup.db" --database "sqlite:$db" >"$tmp/backup.out" 2>&1 ||
        fail "backup: $(cat "$tmp/backup.out")"
grep -q "Backed up" "$tmp/backup.out" || fail "backup said: $(cat "$tmp/backup.out")"
# the collector still takes votes after the backup
sleep 1
touch "$tmp/stop"
wait "$sender_pid" "$monitor_pid" || true
sender_pid= monitor_pid=

# ---- the collector kept answering, and lost nothing sent meanwhile ----
bad=$(awk '$1 != 200' "$tmp/health" | wc -l)
[ "$bad" = 0 ] || fail "/healthz failed $bad of $(wc -l <"$tmp/health") times during the backup: $(sort "$tmp/health" | uniq -c | tr '\n' ' ') $(head -3 "$tmp/health.err")"
[ "$(wc -l <"$tmp/health")" -ge 3 ] || fail "the monitor asked only $(wc -l <"$tmp/health") times"
batches=$(wc -l <"$tmp/sent")
refused=$(awk '$1 != 200 || $2 != 20' "$tmp/sent" | wc -l)
[ "$refused" = 0 ] || fail "$refused of $batches batches sent during the backup were not stored: $(awk '$1 != 200 || $2 != 20' "$tmp/sent" | head -3 | tr '\n' ' ')"
[ "$batches" -ge 2 ] || fail "only $batches batches were sent during the backup"
after=$(votes_in "$db")
[ "$after" = $((before + 20 * batches)) ] ||
        fail "$after votes in the database, not $before + 20 x $batches sent during the backup"

# ---- the copy ----
[ ! -e "$tmp/backup.db.partial" ] || fail "the backup left its partial file behind"
[ ! -e "$tmp/backup.db-wal" ] || fail "the backup needs a -wal file beside it"
check=$(sqlite3 "$tmp/backup.db" "PRAGMA integrity_check") || fail "sqlite3 cannot open the backup"
[ "$check" = ok ] || fail "integrity_check of the backup: $check"
[ "$(sqlite3 "$tmp/backup.db" "PRAGMA foreign_key_check" | wc -l)" = 0 ] ||
        fail "the backup has dangling references"
[ "$(sqlite3 "$tmp/backup.db" "PRAGMA journal_mode")" = delete ] ||
        fail "the backup is not a standalone file (journal mode $(sqlite3 "$tmp/backup.db" "PRAGMA journal_mode"))"
copied=$(votes_in "$tmp/backup.db")
[ "$copied" -ge "$during_start" ] || fail "the backup has $copied votes, fewer than the $during_start stored before it began"
[ "$copied" -le "$after" ] || fail "the backup has $copied votes, more than the $after ever stored"
# it is a copy of this database, vote for vote, as far as it goes
sqlite3 "$tmp/backup.db" "SELECT uuid FROM votes ORDER BY id" >"$tmp/copied"
sqlite3 "$db" "SELECT uuid FROM votes ORDER BY id LIMIT $copied" >"$tmp/live"
cmp -s "$tmp/copied" "$tmp/live" || fail "the backup's votes are not the first $copied of the database"
[ "$(sqlite3 "$tmp/backup.db" "SELECT length(value) FROM meta WHERE key = 'test.ballast'")" = 16000000 ] ||
        fail "the backup lacks part of the database"
# the secrets and settings go with it: the copy is what a restore needs
[ "$(sqlite3 "$tmp/backup.db" "SELECT value FROM meta WHERE key = 'secret.client_key'")" = \
        "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'secret.client_key'")" ] ||
        fail "the backup lacks the key of the address and cookie hashes"
# and the collector reads it as it reads its own
mkdir "$tmp/org"
"$bin" export "$tmp/org" --database "sqlite:$tmp/backup.db" >"$tmp/export.out" 2>&1 ||
        fail "the collector cannot read the backup: $(cat "$tmp/export.out")"
grep -q "^E001," "$tmp/org/employees.csv" || fail "the backup's organisation lacks E001"

# a second backup to the same file replaces it whole
"$bin" backup "$tmp/backup.db" --database "sqlite:$db" >"$tmp/backup.out" 2>&1 ||
        fail "the second backup: $(cat "$tmp/backup.out")"
[ "$(votes_in "$tmp/backup.db")" = "$after" ] || fail "the second backup does not have all $after votes"
[ "$(sqlite3 "$tmp/backup.db" "PRAGMA integrity_check")" = ok ] || fail "the second backup is damaged"
curl -fsS --cacert "$demo_ca" "$demo_base/healthz" >/dev/null || fail "the collector stopped answering"
echo "backup: ok ($(stat -c %s "$tmp/backup.db") bytes; $before + $((after - before)) votes sent during it; $copied in the copy)"
