#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Debian packages, built and used for real:
#  1. packaging/build-debs builds otsinka-common, otsinka-collector and otsinka-kiosk (their
#     unit tests run inside the package build) and lintian checks them: no error, no warning.
#  2. Contents: files, conffiles, shlibs dependencies, maintainer scripts, man pages (no groff
#     warning; every configuration key of --help documented), the units (systemd-analyze
#     verify, and the sandbox's systemd-analyze security exposure held under a ceiling).
#  3. The programs as their units run them: the ExecStartPre=/ExecStart= lines read from the
#     unit files, run under the unit's User= with its Environment= and UMask= (systemd is not
#     PID 1 in CI's container; where it is, systemctl starts the collector instead). The
#     collector answers /healthz over HTTPS checked with its CA (curl --cacert) and sends
#     READY=1 and WATCHDOG=1 to $NOTIFY_SOCKET, as Type=notify and WatchdogSec= need; the
#     terminal starts (on Xvfb: no KMS/DRM here) and sends READY=1 and WATCHDOG=1 too; the
#     backup script makes a backup that SQLite can read.
#
# Two modes:
#  - install (CI=true, or OTSINKA_PACKAGING_INSTALL=1; needs root or passwordless sudo): the
#    packages are installed on this machine with apt, used, upgraded to a second build with
#    otsinka-upgrade (conffile changes kept, database kept, pre-upgrade backup made), removed
#    (data kept) and purged (data, conffiles, unit links gone). Refuses to touch a machine where
#    Otsinka packages were installed before, unless CI=true (a throwaway machine).
#  - extract (the default elsewhere): dpkg -x into a temporary root; the same checks of contents
#    and the same runs, as the current user, with paths moved into that root.
#
# Skipped (exit 77) in a sanitizer build's run (the packages do not depend on the build being
# tested, and the normal run covers them) and, outside CI, when the packaging tools are missing.
set -euo pipefail

src=${OTSINKA_SOURCE:?}
build=${OTSINKA_BUILD:?}
skip() { echo "SKIP: $*"; exit 77; }
step() { echo "== $*"; }
tmp=$(mktemp -d /tmp/otsinka-debs.XXXXXX)
chmod 755 "$tmp"
pids=()
installed_by_us=no
sudo=()
cleanup() {
        local p
        for p in "${pids[@]}"; do "${sudo[@]}" kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        if [ "$installed_by_us" = yes ]; then
                "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq \
                        otsinka-kiosk otsinka-collector otsinka-common >/dev/null 2>&1 || true
                "${sudo[@]}" rm -f /etc/otsinka/collector.pem /etc/otsinka/collector.key
                "${sudo[@]}" rmdir /etc/otsinka 2>/dev/null || true
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
        echo "FAIL: $*" >&2
        for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done >&2
        exit 1
}

if grep -qs '^OTSINKA_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
        skip "the packages are built by packaging/build-debs whatever this build is; the run of the normal build tests them"
fi
for t in dpkg-buildpackage dh lintian systemd-analyze curl openssl sqlite3 perl; do
        if ! command -v "$t" >/dev/null; then
                [ "${CI:-}" = true ] && fail "$t is missing: scripts/install-deps test installs it"
                skip "$t is missing (scripts/install-deps test installs it)"
        fi
done

mode=extract
if [ "${OTSINKA_PACKAGING_INSTALL:-}" = 1 ] || { [ "${CI:-}" = true ] && [ "${OTSINKA_PACKAGING_INSTALL:-}" != 0 ]; }; then
        if [ "$(id -u)" -eq 0 ]; then
                mode=install
        elif sudo -n true 2>/dev/null; then
                mode=install
                sudo=(sudo -n)
        else
                fail "installing the packages needs root or passwordless sudo (OTSINKA_PACKAGING_INSTALL=0: extract only)"
        fi
fi
echo "mode: $mode"
as_root() { "${sudo[@]}" "$@"; }

# --- 1. build and lint --------------------------------------------------------------------
out=$src/build-pkg
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9 # one packaging build at a time in this tree
step "build the packages and run lintian"
start=$SECONDS
if ! "$src/packaging/build-debs" --out "$out" --lint >"$tmp/debs.txt" 2>"$tmp/lintian.log"; then
        cat "$tmp/lintian.log"
        fail "packaging/build-debs --lint failed"
fi
cat "$tmp/lintian.log"
mapfile -t debs <"$tmp/debs.txt"
echo "built and linted in $((SECONDS - start)) s: ${debs[*]##*/}"
[ ${#debs[@]} -eq 3 ] || fail "expected 3 .debs, got ${#debs[@]}"
if grep -E '^[EW]: ' "$tmp/lintian.log"; then fail "lintian reported errors or warnings"; fi
version=$(dpkg-deb -f "${debs[0]}" Version)
deb_common=${debs[0]} deb_collector=${debs[1]} deb_kiosk=${debs[2]}

# --- 2. contents --------------------------------------------------------------------------
step "contents, conffiles, dependencies, maintainer scripts"
has_files() { # DEB PATH...
        local deb=$1 list; shift
        list=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
        # (dh_compress leaves documents under 4 KiB uncompressed: FILE.gz or FILE will do)
        for f in "$@"; do
                grep -qxF "$f" <<<"$list" || grep -qxF "${f%.gz}" <<<"$list" || fail "${deb##*/} lacks $f"
        done
}
has_files "$deb_common" /usr/share/otsinka/i18n/uk.txt /usr/share/otsinka/smileys/level-3.svg \
        /usr/lib/sysusers.d/otsinka-common.conf /usr/lib/tmpfiles.d/otsinka-common.conf
has_files "$deb_collector" /usr/bin/otsinka-collector /usr/sbin/otsinka-backup \
        /usr/sbin/otsinka-upgrade /etc/otsinka/collector.conf \
        /lib/systemd/system/otsinka-collector.service /lib/systemd/system/otsinka-backup.service \
        /lib/systemd/system/otsinka-backup.timer /usr/share/man/man8/otsinka-collector.8.gz \
        /usr/share/man/man5/collector.conf.5.gz /usr/share/man/man8/otsinka-backup.8.gz \
        /usr/share/man/man8/otsinka-upgrade.8.gz /usr/share/doc/otsinka-collector/collector-server.md.gz \
        /usr/share/doc/otsinka-collector/examples/otsinka.conf
has_files "$deb_kiosk" /usr/bin/otsinka-kiosk /etc/otsinka/kiosk.conf \
        /lib/systemd/system/otsinka-kiosk.service /usr/lib/sysusers.d/otsinka-kiosk.conf \
        /usr/share/man/man8/otsinka-kiosk.8.gz /usr/share/man/man5/kiosk.conf.5.gz \
        /usr/share/doc/otsinka-kiosk/raspberry-pi.md.gz
mkdir -p "$tmp/ctl/common" "$tmp/ctl/collector" "$tmp/ctl/kiosk"
dpkg-deb -e "$deb_common" "$tmp/ctl/common"
dpkg-deb -e "$deb_collector" "$tmp/ctl/collector"
dpkg-deb -e "$deb_kiosk" "$tmp/ctl/kiosk"
[ "$(cat "$tmp/ctl/collector/conffiles")" = /etc/otsinka/collector.conf ] || fail "collector conffiles"
[ "$(cat "$tmp/ctl/kiosk/conffiles")" = /etc/otsinka/kiosk.conf ] || fail "kiosk conffiles"
for dep in libmicrohttpd12 libgnutls30 libsqlite3-0 libsodium23 libjansson4 libsystemd0 sqlite3 tzdata \
        "otsinka-common (= $version)"; do
        dpkg-deb -f "$deb_collector" Depends | grep -qF "$dep" || fail "otsinka-collector does not depend on $dep"
done
for dep in libsdl2-2.0-0 libsdl2-ttf-2.0-0 libsdl2-image-2.0-0 libcurl3-gnutls libqrencode4 fonts-dejavu-core \
        "otsinka-common (= $version)"; do
        dpkg-deb -f "$deb_kiosk" Depends | grep -qF "$dep" || fail "otsinka-kiosk does not depend on $dep"
done
for s in "$tmp"/ctl/*/{preinst,postinst,prerm,postrm}; do
        [ -f "$s" ] && { sh -n "$s" || fail "$s: syntax"; }
done
grep -q 'systemd-sysusers.*otsinka-common.conf' "$tmp/ctl/common/postinst" || fail "common postinst: no sysusers"
grep -q 'systemd-tmpfiles.*otsinka-common.conf' "$tmp/ctl/common/postinst" || fail "common postinst: no tmpfiles"
grep -q 'rm -rf /var/lib/otsinka' "$tmp/ctl/common/postrm" || fail "common postrm: data not purged"
grep -q 'otsinka-backup.timer' "$tmp/ctl/collector/postinst" || fail "collector postinst: timer not enabled"
if grep -q "enable 'otsinka-collector.service'" "$tmp/ctl/collector/postinst" &&
        ! grep -q "was-enabled 'otsinka-collector.service'" "$tmp/ctl/collector/postinst"; then
        fail "the collector must not be enabled before it is configured"
fi

# Every library the build needs (scripts/install-deps' build set) is a Build-Depends of the
# source package; otherwise a clean builder (sbuild, a Pi) could not build it.
build_set=$(sed -n '/^build=(/,/)/p' "$src/scripts/install-deps" | tr -d '()' | sed 's/^build=//' |
        tr -s ' \n' '\n' | grep -E '^lib.*-dev$')
build_depends=$(sed -n '/^Build-Depends:/,/^[A-Z][A-Za-z-]*:/p' "$src/packaging/debian/control" |
        sed '$d' | tr -s ' ,\n' '\n')
for p in $build_set; do
        grep -qx "$p" <<<"$build_depends" ||
                fail "scripts/install-deps builds with $p, but packaging/debian/control's Build-Depends lacks it: add it there"
done

root=$tmp/root
mkdir -p "$root"
for d in "${debs[@]}"; do dpkg -x "$d" "$root"; done
file "$root/usr/bin/otsinka-collector" | grep -q ', stripped' || fail "otsinka-collector is not stripped (dbgsym)"

step "man pages"
for m in "$root"/usr/share/man/man*/*.gz; do
        w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$m" 2>&1 >/dev/null) || fail "man $m failed"
        [ -z "$w" ] || fail "man ${m##*/}: $w"
done
keys_of() { "$1" --help | sed -n 's/^  --\([a-z-]*\)=.*/\1/p' | grep -vx config; }
check_keys() { # PROGRAM MANPAGE CONFFILE
        local k
        for k in $(keys_of "$1"); do
                zcat "$2" | grep -q "^\.[BIR]*.*$k" || fail "${2##*/} does not document $k (add it to packaging/man)"
                grep -q "^#\{0,1\}$k =" "$3" || fail "${3##*/} does not show $k (add it to packaging/config)"
        done
}
check_keys "$root/usr/bin/otsinka-collector" "$root/usr/share/man/man5/collector.conf.5.gz" \
        "$root/etc/otsinka/collector.conf"
check_keys "$root/usr/bin/otsinka-kiosk" "$root/usr/share/man/man5/kiosk.conf.5.gz" \
        "$root/etc/otsinka/kiosk.conf"
"$root/usr/bin/otsinka-collector" --config="$root/etc/otsinka/collector.conf" --help >/dev/null ||
        fail "the shipped collector.conf does not parse"
"$root/usr/bin/otsinka-kiosk" --config="$root/etc/otsinka/kiosk.conf" --help >/dev/null ||
        fail "the shipped kiosk.conf does not parse"

step "units: systemd-analyze verify and security"
# verify needs the programs at the units' paths: a copy of the units pointing into the root.
mkdir -p "$tmp/units"
for u in "$root"/lib/systemd/system/*; do
        sed "s|=/usr/|=$root/usr/|; s|=\([-@:+!]*\)/usr/|=\1$root/usr/|" "$u" >"$tmp/units/${u##*/}"
done
(cd "$tmp/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./*.service ./*.timer) \
        >"$tmp/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$tmp/verify.log")"
[ -s "$tmp/verify.log" ] && fail "systemd-analyze verify warns: $(cat "$tmp/verify.log")"
# Ceilings on the exposure score (tenths: 15 is 1.5), a little above today's, so that a change
# that weakens a sandbox fails here. The scores are in packaging/README.md.
for pair in otsinka-collector.service:15 otsinka-kiosk.service:20 otsinka-backup.service:10; do
        u=${pair%%:*}
        systemd-analyze security --offline=true --root="$root" --threshold="${pair##*:}" "$u" \
                >"$tmp/security.log" 2>&1 || fail "$u: $(tail -n 1 "$tmp/security.log")"
        echo "$u: $(tail -n 1 "$tmp/security.log" | sed 's/.*level for [^:]*: //')"
done

# --- 3. use ----------------------------------------------------------------------------------
# A development CA and a server certificate for 127.0.0.1, as an administrator would install.
step "TLS certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Test CA" \
        -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>"$tmp/openssl.log"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>>"$tmp/openssl.log"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/san.ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
        -days 2 -extfile "$tmp/san.ext" -out "$tmp/server.pem" 2>>"$tmp/openssl.log"

# Where things are in each mode.
if [ "$mode" = install ]; then
        R='' ETC=/etc/otsinka VAR=/var/lib/otsinka
else
        R=$root ETC=$tmp/etc/otsinka VAR=$tmp/var
        mkdir -p "$ETC" "$VAR"
        cp "$root"/etc/otsinka/*.conf "$ETC/"
fi
unit_dir=$R/lib/systemd/system

# systemd's side of Type=notify: a datagram socket that logs what the service sends.
notify_listen() { # SOCKET LOG
        perl -MIO::Socket::UNIX -e '
                $| = 1;
                my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "$!";
                chmod 0666, $ARGV[0];
                open(my $log, ">>", $ARGV[1]) or die;
                $log->autoflush(1);
                while (defined($s->recv(my $m, 4096))) { print $log "$m\n"; }' "$1" "$2" &
        pids+=($!)
        for _ in $(seq 1 50); do [ -S "$1" ] && return 0; sleep 0.1; done
        fail "the notify socket did not appear"
}
wait_for_line() { # FILE LINE SECONDS
        for _ in $(seq 1 $(($3 * 10))); do grep -qxF "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
        return 1
}

moved() { sed "s|^[-@:+!]*||; s|/usr/|$R/usr/|g; s|/etc/otsinka|$ETC|g"; }
# Runs a unit's ExecStartPre= lines, then its ExecStart= in the background (pid in $unit_pid),
# as systemd would: under User=/Group= with supplementary groups, Environment=, UMask=, with
# $NOTIFY_SOCKET, and paths moved into the root in extract mode. EXTRA... go to ExecStart.
run_unit() { # UNIT LOG NOTIFY_SOCKET [VAR=VALUE...]
        local unit=$unit_dir/$1 log=$2 sock=$3 user group umask line cmd
        shift 3
        local env=(NOTIFY_SOCKET="$sock" "$@")
        user=$(sed -n 's/^User=//p' "$unit") group=$(sed -n 's/^Group=//p' "$unit")
        umask=$(sed -n 's/^UMask=//p' "$unit")
        while read -r line; do env=("$line" "${env[@]}"); done < <(sed -n 's/^Environment=//p' "$unit")
        local as=()
        if [ "$mode" = install ]; then
                as=("${sudo[@]}" setpriv --reuid="$user" --regid="$group" --init-groups --)
        fi
        while read -r cmd; do
                [ -n "$cmd" ] || continue
                # shellcheck disable=SC2086 # the unit's command line, split as systemd does here
                (umask "$umask"; "${as[@]}" env "${env[@]}" $cmd) >>"$log" 2>&1 ||
                        fail "$1: ExecStartPre=$cmd failed"
        done < <(sed -n 's/^ExecStartPre=//p' "$unit" | moved)
        cmd=$(sed -n 's/^ExecStart=//p' "$unit" | moved)
        # shellcheck disable=SC2086
        (umask "$umask"; exec "${as[@]}" env "${env[@]}" $cmd) >>"$log" 2>&1 &
        unit_pid=$!
        pids+=("$unit_pid")
}
stop_unit() { # PID NAME: SIGTERM, as systemctl stop; a clean exit within 10 s
        local rc=0
        as_root kill -TERM "$1"
        for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$1" 2>/dev/null && fail "$2 did not stop within 10 s of SIGTERM"
        wait "$1" || rc=$?
        [ $rc -eq 0 ] || fail "$2 exited with $rc on SIGTERM"
}

configure_collector() { # PORT: the administrator's part: certificate, key, port
        as_root install -m 0644 "$tmp/server.pem" "$ETC/collector.pem"
        as_root install -m 0640 "$tmp/server.key" "$ETC/collector.key"
        [ "$mode" = install ] && as_root chgrp otsinka "$ETC/collector.key"
        {
                echo "port = $1"
                echo "public-url = https://127.0.0.1:$1"
                if [ "$mode" = extract ]; then
                        echo "tls-cert = $ETC/collector.pem"
                        echo "tls-key = $ETC/collector.key"
                        echo "database = $VAR/collector.db"
                        echo "assets = $R/usr/share/otsinka"
                fi
        } | as_root tee -a "$ETC/collector.conf" >/dev/null
}

start_collector() { # LOG: the collector as its unit runs it, checked; pid in $collector_pid
        local log=$1 sock=$tmp/notify-collector-$RANDOM
        : >"$tmp/notify-collector.log"
        notify_listen "$sock" "$tmp/notify-collector.log"
        if [ "$mode" = install ] && [ -d /run/systemd/system ]; then
                as_root systemctl enable --now otsinka-collector.service || fail "systemctl start failed"
                collector_pid=
        else
                run_unit otsinka-collector.service "$log" "$sock"
                collector_pid=$unit_pid
                wait_for_line "$tmp/notify-collector.log" READY=1 20 ||
                        fail "the collector sent no READY=1 to \$NOTIFY_SOCKET"
        fi
        curl -fsS --cacert "$tmp/ca.pem" "https://127.0.0.1:$port/healthz" >"$tmp/healthz" ||
                fail "/healthz over HTTPS did not answer"
        [ "$(cat "$tmp/healthz")" = ok ] || fail "/healthz said '$(cat "$tmp/healthz")'"
        if curl -fsS "https://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
                fail "a client without the CA trusted the collector"
        fi
}

if [ "$mode" = install ]; then
        step "install"
        if dpkg-query -W -f='${db:Status-Status}\n' otsinka-common otsinka-collector otsinka-kiosk 2>/dev/null |
                grep -qv '^not-installed$'; then
                [ "${CI:-}" = true ] || fail "Otsinka packages are already installed here: not touching them"
                echo "leftover Otsinka packages (CI): purging them first"
                as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq otsinka-kiosk \
                        otsinka-collector otsinka-common >/dev/null
        fi
        installed_by_us=yes
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                "${debs[@]}" >"$tmp/apt.log" 2>&1 || fail "apt-get install of the .debs failed"
        id otsinka >/dev/null || fail "no otsinka user"
        for g in video render input; do
                id -nG otsinka | tr ' ' '\n' | grep -qx "$g" || fail "otsinka is not in the $g group"
        done
        [ "$(stat -c '%U:%G %a' /var/lib/otsinka)" = "otsinka:otsinka 750" ] ||
                fail "/var/lib/otsinka is $(stat -c '%U:%G %a' /var/lib/otsinka)"
        [ "$(stat -c '%U:%G %a' /etc/otsinka/kiosk.conf)" = "root:otsinka 640" ] ||
                fail "/etc/otsinka/kiosk.conf is $(stat -c '%U:%G %a' /etc/otsinka/kiosk.conf)"
        [ -L /etc/systemd/system/timers.target.wants/otsinka-backup.timer ] ||
                fail "otsinka-backup.timer is not enabled"
        [ -e /etc/systemd/system/multi-user.target.wants/otsinka-collector.service ] &&
                fail "otsinka-collector.service was enabled before it was configured"
        [ -e /etc/systemd/system/multi-user.target.wants/otsinka-kiosk.service ] &&
                fail "otsinka-kiosk.service was enabled on installation"
        (cd / && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify \
                otsinka-collector.service otsinka-kiosk.service otsinka-backup.service \
                otsinka-backup.timer) >"$tmp/verify-installed.log" 2>&1 ||
                fail "systemd-analyze verify of the installed units: $(cat "$tmp/verify-installed.log")"
fi

step "the collector as its unit runs it"
for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
done
configure_collector "$port"
start_collector "$tmp/collector.log"
if [ -n "$collector_pid" ]; then
        wait_for_line "$tmp/notify-collector.log" WATCHDOG=1 12 ||
                fail "the collector sent no WATCHDOG=1 within 12 s (WatchdogSec=30s)"
fi
echo "collector: READY=1, WATCHDOG=1, /healthz ok over HTTPS"
[ -f "$VAR/collector.db" ] || fail "ExecStartPre=migrate made no database in $VAR"
[ "$mode" = install ] && { [ "$(stat -c %U "$VAR/collector.db")" = otsinka ] || fail "collector.db is not otsinka's"; }

step "the backup service as its unit runs it"
# (OTSINKA_BACKUP_AS_ROOT: in extract mode, as root, stay the current user as the other
# programs do, rather than switch to an otsinka user that a package may have left here.)
run_unit otsinka-backup.service "$tmp/backup.log" /dev/null \
        OTSINKA_BACKUP_DIR="$VAR/backups" OTSINKA_BACKUP_AS_ROOT="$([ "$mode" = extract ] && echo 1)"
wait "$unit_pid" || fail "otsinka-backup.service failed: $(tail -n 5 "$tmp/backup.log")"
backup=$(as_root find "$VAR/backups" -name 'collector-*.db.gz' | head -n 1)
[ -n "$backup" ] || fail "no backup in $VAR/backups"
as_root zcat "$backup" >"$tmp/restored.db"
[ "$(sqlite3 "$tmp/restored.db" 'PRAGMA integrity_check;')" = ok ] || fail "the backup is not a sound database"
sqlite3 "$tmp/restored.db" .tables | grep -qw votes || fail "the backup has no votes table"
[ "$mode" = install ] && { [ "$(as_root stat -c %U "$backup")" = otsinka ] || fail "the backup is not otsinka's"; }
echo "backup: $backup"

step "the terminal as its unit runs it (on Xvfb: SDL_VIDEODRIVER=x11 instead of kmsdrm)"
if command -v Xvfb >/dev/null; then
        Xvfb -displayfd 3 -screen 0 800x480x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
        pids+=($!)
        for _ in $(seq 1 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
        [ -s "$tmp/display" ] || fail "Xvfb did not start"
        if [ "$mode" = extract ]; then
                printf 'database = %s/kiosk.db\nassets = %s/usr/share/otsinka\n' "$VAR" "$R" >>"$ETC/kiosk.conf"
        fi
        sock=$tmp/notify-kiosk
        notify_listen "$sock" "$tmp/notify-kiosk.log"
        run_unit otsinka-kiosk.service "$tmp/kiosk.log" "$sock" \
                SDL_VIDEODRIVER=x11 DISPLAY=":$(head -n 1 "$tmp/display")"
        kiosk_pid=$unit_pid
        wait_for_line "$tmp/notify-kiosk.log" READY=1 30 || fail "the terminal sent no READY=1"
        wait_for_line "$tmp/notify-kiosk.log" WATCHDOG=1 40 || fail "the terminal sent no WATCHDOG=1"
        as_root test -f "$VAR/kiosk.db" || fail "the terminal made no vote store in $VAR"
        stop_unit "$kiosk_pid" "the terminal"
        echo "terminal: READY=1, WATCHDOG=1, vote store in $VAR"
elif [ "${CI:-}" = true ]; then
        fail "Xvfb is missing: scripts/install-deps test installs it"
else
        echo "note: no Xvfb, the terminal's start is not checked"
fi

if [ -n "${collector_pid:-}" ]; then stop_unit "$collector_pid" "the collector"; fi
if [ "$mode" = install ] && [ -d /run/systemd/system ]; then as_root systemctl stop otsinka-collector.service; fi

if [ "$mode" = install ]; then
        step "upgrade with otsinka-upgrade to a second build"
        mapfile -t debs2 < <("$src/packaging/build-debs" --out "$out" --version-suffix test2) ||
                fail "building the second version failed"
        version2=$(dpkg-deb -f "${debs2[0]}" Version)
        as_root otsinka-upgrade "${debs2[@]}" >"$tmp/upgrade.log" 2>&1 ||
                fail "otsinka-upgrade failed: $(tail -n 20 "$tmp/upgrade.log")"
        cat "$tmp/upgrade.log"
        for p in otsinka-common otsinka-collector otsinka-kiosk; do
                [ "$(dpkg-query -W -f='${Version}' "$p")" = "$version2" ] || fail "$p is not at $version2"
        done
        grep -qx "port = $port" /etc/otsinka/collector.conf || fail "the upgrade lost the changed collector.conf"
        [ "$(stat -c '%G %a' /etc/otsinka/kiosk.conf)" = "otsinka 640" ] || fail "kiosk.conf's mode changed"
        as_root sh -c 'ls /var/lib/otsinka/backups/collector-*-pre-upgrade.db.gz' >/dev/null ||
                fail "otsinka-upgrade made no pre-upgrade backup"
        as_root sh -c "ls /var/lib/otsinka/backups/collector-*-pre-${version//./_}.db.gz" >/dev/null ||
                fail "the collector's preinst made no backup before the upgrade"
        grep -q 'schema version' "$tmp/upgrade.log" || fail "otsinka-upgrade did not migrate"
        start_collector "$tmp/collector2.log"
        if [ -n "${collector_pid:-}" ]; then stop_unit "$collector_pid" "the upgraded collector"; fi
        echo "upgrade: $version -> $version2, configuration and database kept, backups made"

        step "remove (data kept), then purge (data gone)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq otsinka-kiosk otsinka-collector \
                >>"$tmp/apt.log" 2>&1 || fail "apt-get remove failed"
        [ -f /var/lib/otsinka/collector.db ] || fail "removing (not purging) deleted the database"
        [ -f /etc/otsinka/collector.conf ] || fail "removing (not purging) deleted collector.conf"
        [ -e /usr/bin/otsinka-collector ] && fail "the program is still there after remove"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq otsinka-kiosk otsinka-collector \
                otsinka-common >>"$tmp/apt.log" 2>&1 || fail "apt-get purge failed"
        installed_by_us=no
        [ -e /var/lib/otsinka ] && fail "purge left /var/lib/otsinka: $(as_root ls -A /var/lib/otsinka)"
        for f in collector.conf kiosk.conf; do [ -e "/etc/otsinka/$f" ] && fail "purge left /etc/otsinka/$f"; done
        ls /lib/systemd/system/otsinka-* 2>/dev/null && fail "purge left unit files"
        [ -e /etc/systemd/system/timers.target.wants/otsinka-backup.timer ] && fail "purge left the timer link"
        dpkg-query -W -f='${db:Status-Status}\n' otsinka-common otsinka-collector otsinka-kiosk 2>/dev/null |
                grep -qv '^not-installed$' && fail "packages left after purge"
        # What purge leaves on purpose: the administrator's own files (certificate and key) and
        # the otsinka system user, as Debian does for system users.
        left=$(ls -A /etc/otsinka)
        [ "$left" = "$(printf 'collector.key\ncollector.pem')" ] || fail "/etc/otsinka after purge: $left"
        as_root rm -f /etc/otsinka/collector.pem /etc/otsinka/collector.key
        as_root rmdir /etc/otsinka
        echo "purge: data, configuration and unit links gone; the certificate, key and user kept"
fi
echo "PASS ($mode mode, $SECONDS s)"
