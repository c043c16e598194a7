#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue 5: the collector's HTTPS front, measured beside a reference in the same run.
#
#  1. The vote page (GET /r/<token>): wrk with keep-alive against the demo collector and, the
#     same way, against a throwaway nginx serving a static copy of the same page over HTTPS with
#     the demo's own certificate (2 workers, keep-alive, access_log off, the collector's
#     headers), alternating, BENCH_ROUNDS runs each, medians compared. Twice: "shared" (all on
#     both cores, as a real box would be) and "split" (the server pinned to core 1, wrk to core
#     0). Then once each with a new TLS connection per request (a phone that scans a code).
#     Target: >= 10,000 requests/s, and at least half of nginx's rate.
#  2. Vote submissions with bench_collector_http (libcurl, keep-alive): a resident's vote
#     (GET the page, POST level + form token + cookie), the POSTs alone with tokens fetched
#     beforehand, and terminal batches of one vote (POST /api/v1/votes). After each, the rows
#     in collector.db must be exactly the votes thanked. Target: >= 3,000 votes/s.
#  3. Memory: the collector stopped, its votes table filled with SQL to BENCH_COLLECTOR_VOTES
#     (10,000,000) rows, started again (after it has folded them into its report counts), the
#     page and vote loads run, and VmRSS/VmHWM read from /proc. Target: <= 60 MB.
# Steps 1 and 2 run once per BENCH_THREADS value (the collector's `threads`).
#
# Needs wrk, nginx (nginx-light is enough) and sqlite3: installed with apt-get when missing and
# run as root. Everything shares the machine's 2 cores: the load generators take CPU from the
# servers, so the script also prints each server's own CPU time per request.
#
# Environment: OTSINKA_BUILD (default build-bench-release), BENCH_TMPDIR (/var/tmp),
# BENCH_KEEP=1, BENCH_THREADS ("8 2": the default, then one per core), BENCH_SECONDS (one wrk
# run, 10), BENCH_ROUNDS (wrk runs per server and placement, alternating collector and nginx,
# 3), BENCH_CONNS (wrk, 64),
# BENCH_VOTE_SECONDS (10), BENCH_VOTE_CONNS (32), BENCH_POSTS (5000),
# BENCH_COLLECTOR_VOTES (10000000; 0 skips step 3), BENCH_MEM_THREADS (the first of BENCH_THREADS,
# else 2), BENCH_DEMO_DIR (a demo folder to use and keep, e.g. one already filled: the fill then
# adds only what is missing; BENCH_THREADS="" with it runs step 3 alone).
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${OTSINKA_BUILD:-$here/build-bench-release}
collector=$build/collector/otsinka-collector
loadgen=$build/bench/bench_collector_http
threads_list=${BENCH_THREADS-8 2}
secs=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-64}
vote_secs=${BENCH_VOTE_SECONDS:-10}
vote_conns=${BENCH_VOTE_CONNS:-32}
posts=${BENCH_POSTS:-5000}
fill=${BENCH_COLLECTOR_VOTES:-10000000}
first_threads=${threads_list%% *}
mem_threads=${BENCH_MEM_THREADS:-${first_threads:-2}}

say() { printf '%s\n' "$*"; }
summary() { say "SUMMARY|collector_http|$1|$2|$3|$4|$5"; }

for p in "$collector" "$loadgen"; do
        [ -x "$p" ] || { say "!! $p is missing: build first (cmake --build $build -j2)"; exit 1; }
done
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ]; then
                say "== installing ${missing[*]}"
                apt-get install -y -qq "${missing[@]}" >/dev/null || { say "!! apt-get failed"; exit 1; }
        else
                say "!! missing: ${missing[*]} (apt-get install -y ${missing[*]})"
                exit 1
        fi
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d "${BENCH_TMPDIR:-/var/tmp}/otsinka-collector_http-XXXXXX") || exit 1
chmod 755 "$work" # nginx's workers run as nobody and read the page from here
col_pid=
ngx_pid=
cleanup() {
        [ -n "$col_pid" ] && kill -TERM "$col_pid" 2>/dev/null && wait "$col_pid" 2>/dev/null
        [ -n "$ngx_pid" ] && kill -QUIT "$ngx_pid" 2>/dev/null && wait "$ngx_pid" 2>/dev/null
        if [ "${BENCH_KEEP:-0}" = 1 ]; then say "(kept $work)"; else rm -rf "$work"; fi
}
trap cleanup EXIT

free_port() {
        local p
        while :; do
                p=$((20000 + RANDOM % 30000))
                ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return; }
        done
}
# CPU time of pids and their threads so far, in ms (utime + stime)
cpu_ms() {
        local total=0 p t
        for p in "$@"; do
                t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
                total=$((total + t))
        done
        echo $((total * 1000 / $(getconf CLK_TCK)))
}
mem_line() { # pid: VmRSS, VmHWM and the split, in KiB
        awk '/^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem|Threads):/ {printf "%s %s  ", $1, $2} END {print ""}' \
                "/proc/$1/status"
}
kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
load_note() { say "  ($1: load average $(cut -d' ' -f1-3 /proc/loadavg); CPU pressure $(sed -n 's/^some avg10=\([0-9.]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null)% some)"; }
votes_in() { sqlite3 "file:$demo/collector.db?mode=ro" "SELECT COUNT(*) FROM votes"; }

use_demo() { # folder: a new demo there, or the one that is there (made for one port)
        demo=$1
        if [ -f "$demo/collector.db" ]; then
                port=$(sqlite3 "file:$demo/collector.db?mode=ro" "SELECT value FROM meta WHERE key = 'demo.port'")
                ss -ltnH "sport = :$port" | grep -q . && { say "!! port $port of $demo is in use"; exit 1; }
        else
                port=$(free_port)
        fi
        base=https://127.0.0.1:$port
}

start_collector() { # threads
        local log=$work/collector-$1.log
        "$collector" demo --dir "$demo" --port "$port" --threads "$1" >"$log" 2>&1 &
        col_pid=$!
        for _ in $(seq 600); do
                if grep -q "A vote page:" "$log" &&
                        curl -fsS --cacert "$demo/ca.pem" "$base/healthz" >/dev/null 2>&1; then
                        token=$(sed -n 's|.*A vote page: *https://[^/]*/r/\([A-Za-z0-9_-]*\).*|\1|p' "$log" | head -n 1)
                        return 0
                fi
                kill -0 "$col_pid" 2>/dev/null || break
                sleep 0.5
        done
        say "!! the collector did not start; its log:"
        tail -n 20 "$log"
        exit 1
}
stop_collector() {
        kill -TERM "$col_pid" 2>/dev/null
        wait "$col_pid" 2>/dev/null
        col_pid=
}
alive() { kill -0 "$col_pid" 2>/dev/null || { say "!! the collector died (or was killed); log: $work/collector-*.log"; exit 1; }; }

start_nginx() { # serves $work/www/page.html at /r/<token> with the collector's headers
        ngx_port=$(free_port)
        mkdir -p "$work/nginx/tmp"
        cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
        access_log off;
        client_body_temp_path $work/nginx/tmp/body;
        proxy_temp_path $work/nginx/tmp/proxy;
        fastcgi_temp_path $work/nginx/tmp/fastcgi;
        uwsgi_temp_path $work/nginx/tmp/uwsgi;
        scgi_temp_path $work/nginx/tmp/scgi;
        keepalive_timeout 65;
        keepalive_requests 100000000;
        server {
                listen 127.0.0.1:$ngx_port ssl;
                ssl_certificate $demo/server.pem;
                ssl_certificate_key $demo/server.key;
                root $work/www;
                location /r/ {
                        default_type "text/html; charset=utf-8";
                        add_header X-Content-Type-Options nosniff;
                        add_header Referrer-Policy no-referrer;
                        add_header X-Frame-Options DENY;
                        add_header Content-Security-Policy "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'";
                        add_header Cache-Control no-store;
                        add_header Strict-Transport-Security max-age=31536000;
                        try_files /page.html =404;
                }
        }
}
EOF
        "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/stderr.log" &
        ngx_pid=$!
        for _ in $(seq 50); do
                curl -fsS --cacert "$demo/ca.pem" -o /dev/null "https://127.0.0.1:$ngx_port/r/$token" 2>/dev/null && return 0
                sleep 0.2
        done
        say "!! nginx did not start:"
        cat "$work/nginx/stderr.log" "$work/nginx/error.log" 2>/dev/null | tail -n 10
        exit 1
}
ngx_pids() { echo "$ngx_pid $(pgrep -P "$ngx_pid" | tr '\n' ' ')"; }
stop_nginx() {
        kill -QUIT "$ngx_pid" 2>/dev/null
        wait "$ngx_pid" 2>/dev/null
        ngx_pid=
}

# wrk against a URL; prints "rate requests errors cpu_ms_per_1000" and keeps the output
# args: label url pin(shared|split) server-pids... [-H header: passed to wrk]
run_wrk() {
        local label=$1 url=$2 pin=$3 extra=()
        shift 3
        if [ "${*: -2:1}" = -H ]; then
                extra=(-H "${*: -1}")
                set -- "${@:1:$(($# - 2))}"
        fi
        local out=$work/wrk-$label.txt c0 c1 wrk_cmd=(wrk -t2 -c"$conns" -d"${secs}s" --latency "${extra[@]}" "$url")
        if [ "$pin" = split ]; then
                for p in "$@"; do taskset -a -p -c 1 "$p" >/dev/null; done
                wrk_cmd=(taskset -c 0 "${wrk_cmd[@]}")
        fi
        c0=$(cpu_ms "$@")
        "${wrk_cmd[@]}" >"$out" 2>&1
        c1=$(cpu_ms "$@")
        [ "$pin" = split ] && for p in "$@"; do taskset -a -p -c 0-1 "$p" >/dev/null; done
        local rate reqs errs
        rate=$(awk '/^Requests\/sec:/ {print $2}' "$out")
        reqs=$(awk '/requests in/ {print $1}' "$out")
        errs=$(awk '/Non-2xx or 3xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
        echo "${rate:-0} ${reqs:-0} $errs $(awk -v c=$((c1 - c0)) -v n="${reqs:-0}" 'BEGIN {printf "%.1f", n ? c * 1000 / n : 0}')"
}

say "== collector_http: the vote page and vote submissions over HTTPS (issue 5)"
say "  $(date '+%Y-%m-%d %H:%M'); $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) cores, $(uname -r)"
say "  collector $collector; wrk $(wrk --version 2>&1 | awk 'NR == 1 {print $2}'); $("$nginx_bin" -v 2>&1 | sed 's/.*: //')"
say "  wrk -t2 -c$conns -d${secs}s (keep-alive); votes: $vote_conns connections, ${vote_secs} s; folder $work"
say "  wrk, the load generator and the servers share the 2 cores; \"split\" pins the server to core 1"
say "  and wrk to core 0. Other sessions' work on this machine shows in the load average."
load_note start

best_page=0 best_ratio=0 best_pairs=0 best_api=0 best_posts=0
best_page_ref= best_page_note=
for threads in $threads_list; do
        say ""
        say "== threads = $threads (a new demo)"
        use_demo "$work/demo-$threads"
        start_collector "$threads"
        mkdir -p "$work/www"
        curl -fsS --cacert "$demo/ca.pem" -o "$work/www/page.html" "$base/r/$token" ||
                { say "!! cannot fetch the vote page"; exit 1; }
        chmod 644 "$work/www/page.html"
        start_nginx
        say "  the page: $base/r/<token>, $(stat -c %s "$work/www/page.html") bytes; nginx serves a copy with the same certificate on port $ngx_port"
        for pin in shared split; do
                # rounds alternate the two servers, so that other work on the machine falls on
                # both alike; the medians are compared
                : >"$work/page-$threads-$pin.txt"
                for round in $(seq "$rounds"); do
                        read -r c_rate c_n c_err c_cpu < <(run_wrk "col-$threads-$pin-$round" "$base/r/$token" "$pin" "$col_pid")
                        alive
                        read -r n_rate n_n n_err n_cpu < <(run_wrk "ngx-$threads-$pin-$round" "https://127.0.0.1:$ngx_port/r/$token" "$pin" $(ngx_pids))
                        echo "$c_rate $c_err $c_cpu $n_rate $n_err $n_cpu" >>"$work/page-$threads-$pin.txt"
                        printf '    round %d, %-6s collector %8.0f req/s (%s errors, %5.1f ms CPU per 1000) | nginx %8.0f req/s (%s errors, %5.1f ms CPU per 1000)\n' \
                                "$round" "$pin:" "$c_rate" "$c_err" "$c_cpu" "$n_rate" "$n_err" "$n_cpu"
                done
                read -r c_rate c_err c_cpu n_rate n_err n_cpu ratio < <(awk '
                        function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
                        { cr[NR] = $1; ce += $2; cc[NR] = $3; nr[NR] = $4; ne += $5; nc[NR] = $6 }
                        END { c = med(cr, NR); n = med(nr, NR); printf "%.0f %d %.1f %.0f %d %.1f %.2f\n", c, ce, med(cc, NR), n, ne, med(nc, NR), (n > 0 ? c / n : 0) }' \
                        "$work/page-$threads-$pin.txt")
                printf '  page, %-6s collector %8.0f req/s (%s errors, %5.1f ms CPU per 1000) | nginx %8.0f req/s (%s errors, %5.1f ms CPU per 1000) | ratio %s (medians of %d)\n' \
                        "$pin:" "$c_rate" "$c_err" "$c_cpu" "$n_rate" "$n_err" "$n_cpu" "$ratio" "$rounds"
                if awk -v a="$c_rate" -v b="$best_page" 'BEGIN {exit !(a > b)}'; then
                        best_page=$c_rate
                        best_page_ref="nginx $n_rate req/s, same run (ratio $ratio)"
                        best_page_note="threads $threads, $pin"
                fi
                if awk -v a="$ratio" -v b="$best_ratio" 'BEGIN {exit !(a > b)}'; then
                        best_ratio=$ratio
                        best_ratio_ref="collector $c_rate / nginx $n_rate req/s; CPU per 1000: $c_cpu / $n_cpu ms"
                        best_ratio_note="threads $threads, $pin"
                fi
        done
        grep -A4 "Latency Distribution" "$work/wrk-col-$threads-shared-1.txt" | sed 's/^/    collector (shared, round 1) /'
        # a phone that scans a code opens a new TLS connection: the handshake's cost, once each
        read -r c_rate _ c_err c_cpu < <(run_wrk "col-$threads-close" "$base/r/$token" shared "$col_pid" -H "Connection: close")
        alive
        read -r n_rate _ n_err n_cpu < <(run_wrk "ngx-$threads-close" "https://127.0.0.1:$ngx_port/r/$token" shared $(ngx_pids) -H "Connection: close")
        printf '  page, a new TLS connection each: collector %6.0f req/s (%s errors, %5.2f ms CPU each) | nginx %6.0f req/s (%s errors, %5.2f ms CPU each)\n' \
                "$c_rate" "$c_err" "$(awk -v c="$c_cpu" 'BEGIN {print c / 1000}')" "$n_rate" "$n_err" "$(awk -v c="$n_cpu" 'BEGIN {print c / 1000}')"
        load_note "after the page"

        for mode in pairs posts api; do
                before=$(votes_in)
                args=(--url "$base" --token "$token" --ca "$demo/ca.pem" --conns "$vote_conns" --pid "$col_pid")
                case $mode in
                pairs | api) args+=(--seconds "$vote_secs" --kiosk-conf "$demo/kiosk.conf") ;;
                posts) args+=(--count "$posts") ;;
                esac
                "$loadgen" "$mode" "${args[@]}" >"$work/votes-$threads-$mode.txt" 2>&1
                alive
                after=$(votes_in)
                sed 's/^/  /' "$work/votes-$threads-$mode.txt" | grep -v "RESULT|"
                IFS='|' read -r _ _ ok rate bad < <(grep "^RESULT|" "$work/votes-$threads-$mode.txt")
                stored=$((after - before))
                if [ "${ok:-x}" = "$stored" ] && [ "${bad:-1}" = 0 ]; then
                        say "    stored in collector.db: $stored = thanked: no vote lost, none twice"
                else
                        say "    !! stored in collector.db: $stored, thanked: ${ok:-?}, failed requests: ${bad:-?}"
                        rate=0
                fi
                case $mode in
                pairs) awk -v a="$rate" -v b="$best_pairs" 'BEGIN {exit !(a > b)}' && best_pairs=$rate best_pairs_note="threads $threads" ;;
                posts) awk -v a="$rate" -v b="$best_posts" 'BEGIN {exit !(a > b)}' && best_posts=$rate ;;
                api) awk -v a="$rate" -v b="$best_api" 'BEGIN {exit !(a > b)}' && best_api=$rate best_api_note="threads $threads" ;;
                esac
        done
        say "  collector: $(mem_line "$col_pid")"
        load_note "after the votes"
        stop_collector
        stop_nginx
done

met() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a >= b)}' && echo MET || echo "NOT MET"; }
say ""
[ -n "$threads_list" ] && summary "vote page, requests/s (best: $best_page_note)" "$(printf '%.0f' "$best_page")" "$best_page_ref" ">= 10000" "$(met "$best_page" 10000)"
[ -n "$threads_list" ] && summary "vote page, share of nginx's rate (best: ${best_ratio_note:-})" "$best_ratio" "${best_ratio_ref:-}" ">= 0.5" "$(met "$best_ratio" 0.5)"
[ -n "$threads_list" ] && summary "resident's vote (GET+POST), votes/s (${best_pairs_note:-})" "$(printf '%.0f' "$best_pairs")" "POSTs alone: $(printf '%.0f' "$best_posts")/s" ">= 3000" "$(met "$best_pairs" 3000)"
[ -n "$threads_list" ] && summary "terminal batches of 1 vote, votes/s (${best_api_note:-})" "$(printf '%.0f' "$best_api")" "-" ">= 3000" "$(met "$best_api" 3000)"

[ "$fill" -gt 0 ] 2>/dev/null || exit 0
say ""
say "== memory with $fill votes stored (threads = $mem_threads)"
use_demo "${BENCH_DEMO_DIR:-$work/demo-mem}"
if [ ! -f "$demo/collector.db" ]; then # seed it once
        start_collector "$mem_threads"
        stop_collector
fi
have=$(votes_in)
add=$((fill > have ? fill - have : 0))
t0=$(date +%s)
# The rows follow collector/store_sqlite.c's schema: the demo's employees with their units and
# (one each, by order) workplaces and directions; 70 % from terminal T001, 30 % from printed QR
# codes with a client hash (from 50,000 addresses) and a random phone hash; cast times in order
# over the past year; UUIDv7-shaped unique ids; the day key in the collector's zone. The report
# triggers stay on, so the pre-aggregated counts are right. No journal, no fsync: preparation.
chunk=1000000
done_n=0
while [ "$done_n" -lt "$add" ]; do
        n=$((add - done_n < chunk ? add - done_n : chunk))
        TZ=${BENCH_TIME_ZONE:-Europe/Kyiv} sqlite3 "$demo/collector.db" >/dev/null <<EOF || { say "!! the fill failed"; exit 1; }
PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576;
CREATE TEMP TABLE emp AS SELECT e.rn - 1 AS k, e.id AS id, e.unit_id AS unit, w.id AS wp,
  w.direction_id AS dir FROM (SELECT row_number() OVER (ORDER BY id) AS rn, * FROM employees) e
  JOIN (SELECT row_number() OVER (ORDER BY id) AS rn, * FROM workplaces) w ON w.rn = e.rn;
CREATE TEMP TABLE p AS SELECT $n AS n, $done_n AS off, $add AS total,
  (CAST(strftime('%s', 'now', '-365 days') AS INTEGER)) * 1000 AS t0, 365 * 86400000 AS span;
BEGIN;
INSERT INTO votes(uuid, level, employee_id, unit_id, workplace_id, direction_id, channel,
  terminal_id, cast_at, received_at, day, counted, client_hash, phone_hash)
SELECT printf('%08x-%04x-7%03x-%04x-%012x', c >> 16, c & 65535, (i >> 48) & 4095,
    32768 | ((i >> 36) & 4095), i & 281474976710655),
  1 + (i * 7) % 3, emp.id, emp.unit, emp.wp, emp.dir,
  CASE WHEN i % 10 >= 7 THEN 'qr_printed' ELSE 'terminal' END,
  CASE WHEN i % 10 >= 7 THEN NULL ELSE 'T001' END,
  c, c + 1500, CAST(strftime('%Y%m%d', c / 1000, 'unixepoch', 'localtime') AS INTEGER), 1,
  CASE WHEN i % 10 >= 7 THEN CAST(printf('%032d', i % 50000) AS BLOB) END,
  CASE WHEN i % 10 >= 7 THEN randomblob(32) END
FROM (SELECT p.off + value AS i, p.t0 + (p.off + value) * p.span / p.total AS c
      FROM p, generate_series(0, p.n - 1))
JOIN emp ON emp.k = i % (SELECT COUNT(*) FROM emp);
COMMIT;
EOF
        done_n=$((done_n + n))
        say "  filled $done_n of $add ($(($(date +%s) - t0)) s)"
done
sqlite3 "$demo/collector.db" "PRAGMA journal_mode=WAL" >/dev/null
# the fill wrote without fsync: put its pages on disk now, or the collector's first checkpoint
# would wait for gigabytes of them inside the measured load
sync "$demo/collector.db"
say "  $(votes_in) votes, $(du -m "$demo/collector.db" | cut -f1) MB; filled in $(($(date +%s) - t0)) s"
say "  SQLite's page cache: cache_size $(sqlite3 :memory: 'PRAGMA cache_size') (negative: KiB) per connection by default; the collector keeps one connection"
start_collector "$mem_threads"
say "  started:           $(mem_line "$col_pid")"
# a collector that keeps pre-aggregated report counts by folding votes in the background
# (rep_state.w, the last vote folded) first catches up with the votes the fill added, as one
# that received them over a year would have; the measurements wait for it
if sqlite3 "file:$demo/collector.db?mode=ro" "SELECT w FROM rep_state" >/dev/null 2>&1; then
        t1=$(date +%s)
        while :; do
                left=$(sqlite3 "file:$demo/collector.db?mode=ro" "SELECT (SELECT MAX(id) FROM votes) - w FROM rep_state" 2>/dev/null)
                [ "${left:-1}" -le 0 ] 2>/dev/null && break
                [ $(($(date +%s) - t1)) -gt 1800 ] && { say "  !! the collector did not fold the votes in 30 min ($left left)"; break; }
                alive
                sleep 5
        done
        say "  report counts folded in by the collector in $(($(date +%s) - t1)) s: $(mem_line "$col_pid")"
fi
read -r c_rate _ c_err c_cpu < <(run_wrk "mem-page" "$base/r/$token" shared "$col_pid")
alive
say "  after the page load ($(printf '%.0f' "$c_rate") req/s): $(mem_line "$col_pid")"
for mode in pairs api; do
        before=$(votes_in)
        "$loadgen" "$mode" --url "$base" --token "$token" --ca "$demo/ca.pem" --conns "$vote_conns" \
                --seconds "$vote_secs" --kiosk-conf "$demo/kiosk.conf" --pid "$col_pid" >"$work/mem-$mode.txt" 2>&1
        alive
        IFS='|' read -r _ _ ok rate bad < <(grep "^RESULT|" "$work/mem-$mode.txt")
        say "  after $mode ($(printf '%.0f' "${rate:-0}") votes/s; stored $(($(votes_in) - before)) of ${ok:-?} thanked): $(mem_line "$col_pid")"
done
hwm=$(kib "$col_pid" VmHWM)
rss=$(kib "$col_pid" VmRSS)
say "  largest mappings (smaps, KiB):"
awk '/^[0-9a-f]+-[0-9a-f]+ / {name = $6 ? $6 : "[anon]"} /^Rss:/ {rss[name] += $2} END {for (n in rss) printf "%10d  %s\n", rss[n], n}' \
        "/proc/$col_pid/smaps" | sort -rn | head -n 6 | sed 's/^/   /'
load_note end
summary "collector VmHWM with $(votes_in) votes, after page and vote load" "$(awk -v k="$hwm" 'BEGIN {printf "%.1f MiB", k / 1024}')" "VmRSS $(awk -v k="$rss" 'BEGIN {printf "%.1f MiB", k / 1024}')" "<= 60 MB" "$( [ "$hwm" -le $((60 * 1024)) ] && echo MET || echo "NOT MET")"
