# SPDX-License-Identifier: MIT
# Sourced by script tests: start_demo DIR starts `otsinka-collector demo` in DIR on a free
# port and waits until it answers /healthz over HTTPS, retrying another port when one is
# taken. Sets demo_pid, demo_port, demo_base, demo_ca; the caller's EXIT trap must
# `kill "$demo_pid"`. The collector's log goes to DIR.log.
start_demo() {
        local dir=$1 attempt
        for attempt in 1 2 3 4 5; do
                demo_port=$((20000 + RANDOM % 20000))
                rm -rf "$dir"
                "${OTSINKA_BUILD:?}/collector/otsinka-collector" demo --dir "$dir" \
                        --port "$demo_port" >"$dir.out" 2>"$dir.log" &
                demo_pid=$!
                for _ in $(seq 1 300); do # seeding hashes PINs: slow under sanitizers
                        if curl -fsS --cacert "$dir/ca.pem" "https://127.0.0.1:$demo_port/healthz" \
                                >/dev/null 2>&1; then
                                demo_base=https://127.0.0.1:$demo_port
                                demo_ca=$dir/ca.pem
                                return 0
                        fi
                        kill -0 "$demo_pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill "$demo_pid" 2>/dev/null || true
                wait "$demo_pid" 2>/dev/null || true
        done
        echo "FAIL: the demo collector did not start" >&2
        tail -n 20 "$dir.log" >&2
        return 1
}

# admin_login DIR JAR: signs in as the demo's administrator, keeping cookies in JAR.
admin_login() {
        local dir=$1 jar=$2 csrf
        csrf=$(curl -fsS --cacert "$demo_ca" -c "$jar" -b "$jar" "$demo_base/login" |
                sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
        curl -fsS --cacert "$demo_ca" -c "$jar" -b "$jar" -o /dev/null \
                --data-urlencode "csrf=$csrf" --data-urlencode login=admin \
                --data-urlencode "password=$(cat "$dir/admin-password")" "$demo_base/login"
}

# demo_test: how a script test over the demo begins: build and bin (the collector), a scratch
# folder tmp with demo=$tmp/demo in it, both removed at exit with the demo stopped, and
# fail MESSAGE, which shows the end of the collector's log and exits 1. A script that keeps
# other processes sets its own EXIT trap after this.
demo_test() {
        build=${OTSINKA_BUILD:?}
        bin=$build/collector/otsinka-collector
        tmp=$(mktemp -d)
        demo=$tmp/demo
        demo_pid=
        trap demo_test_cleanup EXIT
}
demo_test_cleanup() {
        [ -n "$demo_pid" ] && kill "$demo_pid" 2>/dev/null
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
fail() {
        echo "FAIL: $*" >&2
        # a sanitizer's verdict first: it may be more than 20 lines up
        grep -E 'ERROR: (Address|Leak|Undefined)Sanitizer|SUMMARY: |runtime error:' \
                "$demo.log" >&2 2>/dev/null || true
        tail -n 20 "$demo.log" >&2 2>/dev/null || true
        exit 1
}
