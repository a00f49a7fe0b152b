#!/bin/sh
# Installs what the build (`sh tests/install-deps.sh build`) or the build and the
# tests (no argument) need when it is missing, from Debian's packages: a C++20
# compiler and CMake, plus doctest for the tests. Nothing is fetched at build time.
set -e
missing=""
command -v cmake >/dev/null 2>&1 || missing="$missing cmake"
command -v c++ >/dev/null 2>&1 || missing="$missing g++"
if [ "${1:-test}" = test ]; then
  [ -f /usr/include/doctest/doctest.h ] || [ -f /usr/local/include/doctest/doctest.h ] || missing="$missing doctest-dev"
fi
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
