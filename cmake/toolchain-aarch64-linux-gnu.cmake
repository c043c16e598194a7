# SPDX-License-Identifier: MIT
# Cross-building Otsinka for arm64 (Raspberry Pi OS / Debian 12 arm64) on a Debian 12 host with
# Debian's own cross compiler and multiarch -dev packages; no separate sysroot:
#
#   scripts/install-deps cross          # crossbuild-essential-arm64, qemu-user, lib*-dev:arm64
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
#   cmake --build build-arm64 -j2
#   ctest --test-dir build-arm64 -R _test_   # the cmocka unit tests, run under qemu-aarch64
#
# Debian's aarch64-linux-gnu-gcc already searches the multiarch folders (/usr/include/
# aarch64-linux-gnu, /usr/lib/aarch64-linux-gnu) that the lib*-dev:arm64 packages fill, and
# aarch64-linux-gnu-pkg-config reads their .pc files, so nothing else has to be pointed at them.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

find_program(OTSINKA_CROSS_CC aarch64-linux-gnu-gcc)
find_program(OTSINKA_CROSS_PKG_CONFIG aarch64-linux-gnu-pkg-config)
if(NOT OTSINKA_CROSS_CC OR NOT OTSINKA_CROSS_PKG_CONFIG)
        message(FATAL_ERROR "aarch64-linux-gnu-gcc or aarch64-linux-gnu-pkg-config is missing: "
                            "run scripts/install-deps cross (crossbuild-essential-arm64, "
                            "pkg-config and the lib*-dev:arm64 packages)")
endif()
set(CMAKE_C_COMPILER ${OTSINKA_CROSS_CC})
set(PKG_CONFIG_EXECUTABLE ${OTSINKA_CROSS_PKG_CONFIG} CACHE FILEPATH "pkg-config for arm64")

# Host programs (pkg-config, the shell) are the build machine's; libraries and headers are
# looked up only for the target, in the multiarch folders above.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# Test programs built for arm64 run under user-mode QEMU: CTest puts this in front of every
# add_test() whose command is a target, so `ctest` works as on the host. QEMU runs them with the
# arm64 dynamic loader and C library of the multiarch libc6:arm64 (/lib/ld-linux-aarch64.so.1,
# /usr/lib/aarch64-linux-gnu), the same that the lib*-dev:arm64 packages were built against.
# (`-L /usr/aarch64-linux-gnu`, the cross toolchain's own libc6-arm64-cross, is not used: with it,
# a child process that opens SQLite after fork() hangs under qemu-user 7.2.)
find_program(OTSINKA_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(OTSINKA_QEMU_AARCH64)
        set(CMAKE_CROSSCOMPILING_EMULATOR ${OTSINKA_QEMU_AARCH64})
endif()
