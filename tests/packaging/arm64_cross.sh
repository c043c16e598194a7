#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# arm64, the Raspberry Pi terminal's architecture, built on this machine:
#  1. a cross build with cmake/toolchain-aarch64-linux-gnu.cmake (Debian's aarch64-linux-gnu-gcc
#     and the multiarch lib*-dev:arm64 packages), warnings as errors, into build-arm64/;
#  2. every cmocka unit test (ctest -R _test_) run under qemu-aarch64, which the toolchain file
#     makes CTest's CMAKE_CROSSCOMPILING_EMULATOR; the programs themselves run under qemu too;
#  3. the arm64 .debs (packaging/build-debs --arch arm64), checked by lintian.
# The script tests (Xvfb, HTTPS end to end) are not run for arm64: they are the same code as
# on the host, and under emulation they would take minutes.
#
# Skipped (exit 77) when the arm64 toolchain is not installed (scripts/install-deps cross), but
# not in CI (CI=true), where scripts/test installs it; skipped in a sanitizer build's run too.
set -euo pipefail

src=${OTSINKA_SOURCE:?}
build=${OTSINKA_BUILD:?}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

if grep -qs '^OTSINKA_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
        skip "the arm64 build does not depend on the build being tested; the normal build's run covers it"
fi
missing=()
for t in aarch64-linux-gnu-gcc aarch64-linux-gnu-pkg-config qemu-aarch64 dpkg-buildpackage lintian; do
        command -v "$t" >/dev/null || missing+=("$t")
done
if [ ${#missing[@]} -eq 0 ]; then
        for m in sdl2 SDL2_ttf SDL2_image libqrencode libcurl libmicrohttpd jansson libsodium \
                cmocka sqlite3 gnutls libsystemd; do
                aarch64-linux-gnu-pkg-config --exists "$m" || missing+=("$m:arm64")
        done
fi
if [ ${#missing[@]} -gt 0 ]; then
        [ "${CI:-}" = true ] && fail "missing for the arm64 build: ${missing[*]} (scripts/install-deps cross)"
        skip "no arm64 toolchain here (missing ${missing[*]}); scripts/install-deps cross installs it"
fi

dir=$src/build-arm64
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
start=$SECONDS

step "cross build (cmake/toolchain-aarch64-linux-gnu.cmake)"
cmake -S "$src" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchain-aarch64-linux-gnu.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTSINKA_WERROR=ON -DOTSINKA_BENCH=OFF >"$dir/configure.log" 2>&1 ||
        { cat "$dir/configure.log"; fail "configure failed"; }
cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1 || { tail -n 40 "$dir/build.log"; fail "build failed"; }
for p in "$dir/collector/otsinka-collector" "$dir/kiosk/otsinka-kiosk"; do
        file "$p" | grep -q 'ARM aarch64' || fail "$p is not an arm64 program: $(file -b "$p")"
done
echo "built in $((SECONDS - start)) s"

step "unit tests under qemu-aarch64"
grep -q 'qemu-aarch64' "$dir/tests/CTestTestfile.cmake" || fail "CTest does not run the tests under qemu"
# All but the randomized report cuts: thousands of cuts over SQLite, plain arithmetic that the
# native and sanitizer runs check, take longer than the time limit under emulation.
expected=$(find "$src/tests" -path "$src/tests/fuzz" -prune -o -name 'test_*.c' -print | wc -l)
expected=$((expected - 1))
t0=$SECONDS
ctest --test-dir "$dir" -R _test_ -E '^reports_test_report_cuts$' -j"$(nproc)" \
        --output-on-failure --timeout 300 | tee "$dir/ctest.log" ||
        fail "unit tests failed under qemu"
grep -q "100% tests passed, 0 tests failed out of $expected\$" "$dir/ctest.log" ||
        fail "expected all $expected unit tests to run and pass"
echo "unit tests under qemu in $((SECONDS - t0)) s"

step "the programs under qemu"
qemu-aarch64 "$dir/collector/otsinka-collector" --version
qemu-aarch64 "$dir/kiosk/otsinka-kiosk" layout 800 480 | grep -q '"send":\[' || fail "otsinka-kiosk layout"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
qemu-aarch64 "$dir/collector/otsinka-collector" migrate --database="$tmp/c.db" | grep -q 'schema version' ||
        fail "otsinka-collector migrate under qemu"

step "arm64 .debs (packaging/build-debs --arch arm64 --lint)"
t0=$SECONDS
"$src/packaging/build-debs" --arch arm64 --out "$dir/debs" --lint >"$tmp/debs.txt" 2>"$tmp/lint.log" ||
        { cat "$tmp/lint.log"; fail "building or linting the arm64 .debs failed"; }
cat "$tmp/lint.log"
mapfile -t debs <"$tmp/debs.txt"
[ ${#debs[@]} -eq 3 ] || fail "expected 3 .debs"
for d in "${debs[1]}" "${debs[2]}"; do
        [ "$(dpkg-deb -f "$d" Architecture)" = arm64 ] || fail "$d is not arm64"
done
mkdir -p "$tmp/root"
dpkg -x "${debs[2]}" "$tmp/root"
file "$tmp/root/usr/bin/otsinka-kiosk" | grep -q 'ARM aarch64' || fail "the kiosk .deb's program is not arm64"
dpkg-deb -f "${debs[2]}" Depends | grep -q 'libsdl2-2.0-0' || fail "no shlibs dependencies in the arm64 kiosk .deb"
echo "arm64 .debs in $((SECONDS - t0)) s: ${debs[*]##*/}"
echo "PASS ($SECONDS s)"
