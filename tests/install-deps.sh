#!/bin/sh
# Installs what the build (`sh tests/install-deps.sh build`), the build and the
# tests (no argument) or the libFuzzer build (`fuzz`) need when it is missing, from
# Debian's packages: a C++20 compiler and CMake, plus doctest for the tests, plus
# clang and its fuzzer runtime for `make fuzz`. Nothing is fetched at build time.
set -e
mode=${1:-test}
missing=""
command -v cmake >/dev/null 2>&1 || missing="$missing cmake"
command -v c++ >/dev/null 2>&1 || missing="$missing g++"
if [ "$mode" = test ]; then
  [ -f /usr/include/doctest/doctest.h ] || [ -f /usr/local/include/doctest/doctest.h ] || missing="$missing doctest-dev"
fi
# libFuzzer's runtime: Debian 12 ships it in libclang-rt-dev (clang's default version)
fuzzer_runtime() { ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; }
if [ "$mode" = fuzz ]; then
  command -v clang++ >/dev/null 2>&1 || missing="$missing clang"
  fuzzer_runtime || missing="$missing libclang-rt-dev"
fi
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
