#!/bin/sh
# Cross-builds tinygptv and its tests for another machine and runs the whole CTest
# suite there under emulation: `make cross-test ARCH=...` (docs/porting.md).
#
#   sh tests/cross/cross-test.sh ARCH [BUILD_DIR]
#   SUITES="core quant" sh tests/cross/cross-test.sh ARCH   only those test suites
#
#   aarch64  g++-aarch64-linux-gnu, qemu-aarch64 -cpu max: the NEON kernel set runs
#   s390x    g++-s390x-linux-gnu, qemu-s390x: big-endian, every file format
#   armhf    g++-arm-linux-gnueabihf, qemu-arm: 32-bit size_t
#   wasm32   emscripten, node: no mmap, no threads
#
# Installs what is missing from Debian's packages (waiting for the apt lock if
# another install holds it), configures BUILD_DIR (default build-cross-ARCH) with
# tests/cross/ARCH.cmake, builds every test (or the suites named in SUITES: `make
# ci-cross`), and runs ctest: each test binary, and every tinygptv the tests start,
# goes through the emulator (CMAKE_CROSSCOMPILING_EMULATOR). Prints the wall time of
# each step.
set -eu
arch=${1:?usage: cross-test.sh aarch64|s390x|armhf|wasm32 [build-dir]}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-build-cross-$arch}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

case $arch in
  aarch64) tools="aarch64-linux-gnu-g++ qemu-aarch64"; pkgs="g++-aarch64-linux-gnu qemu-user" ;;
  s390x)   tools="s390x-linux-gnu-g++ qemu-s390x";     pkgs="g++-s390x-linux-gnu qemu-user" ;;
  armhf)   tools="arm-linux-gnueabihf-g++ qemu-arm";   pkgs="g++-arm-linux-gnueabihf qemu-user" ;;
  wasm32)  tools="em++ node";                          pkgs="emscripten nodejs" ;;
  *) echo "cross-test: unknown ARCH '$arch' (aarch64, s390x, armhf, wasm32)" >&2; exit 2 ;;
esac

# emscripten's tools are Python scripts: Debian's own interpreter, not whatever is first on PATH.
[ "$arch" = wasm32 ] && [ -x /usr/bin/python3 ] && export EMSDK_PYTHON=/usr/bin/python3
# Its JS optimizer needs Debian's node modules (acorn), which a node not from Debian does not search.
[ "$arch" = wasm32 ] && export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
now() { date +%s; }
t0=$(now)
missing=""
for t in cmake make $tools; do command -v "$t" >/dev/null 2>&1 || missing=yes; done
[ -f /usr/include/doctest/doctest.h ] || [ -f /usr/local/include/doctest/doctest.h ] || missing=yes
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "cross-test: installing $pkgs (Debian)"
  # DPkg::Lock::Timeout waits for another apt to finish instead of failing at once.
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
    cmake make doctest-dev $pkgs >/dev/null
fi
t1=$(now)

# A toolchain file's flags reach only a fresh CMake cache (CMAKE_*_FLAGS_INIT): start the
# cache anew when the file changed since (objects whose flags are unchanged are kept).
toolchain="$root/tests/cross/$arch.cmake"
[ -f "$build/CMakeCache.txt" ] && [ "$toolchain" -nt "$build/CMakeCache.txt" ] && rm -f "$build/CMakeCache.txt"
# Lean builds: -O2, the test binaries and the CLI only (no benches, no fuzzers' corpus runs).
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DTGV_TESTS=ON -DTGV_TEST_TIMEOUT=3600 >/dev/null
suites=${SUITES:-$(cd "$root/tests" && for d in */; do d=${d%/}; ls "$d"/*.cpp >/dev/null 2>&1 && [ -d "$root/src/$d" ] && echo "$d"; done)}
for s in $suites; do
  [ -d "$root/src/$s" ] && ls "$root/tests/$s"/*.cpp >/dev/null 2>&1 || { echo "cross-test: no test suite '$s'" >&2; exit 2; }
done
cmake --build "$build" -j "$jobs" $(for s in $suites; do printf -- '--target test_%s ' "$s"; done) --target tinygptv
t2=$(now)

(cd "$build" && ctest --output-on-failure -j "$jobs" -R "^($(echo $suites | tr ' ' '|'))\$")
case " $suites " in *" kernels "*) neon=yes ;; *) neon=no ;; esac
if [ "$arch" = aarch64 ] && [ $neon = yes ]; then  # the NEON set must be compiled in and compared with the scalar one
  out=$(cd "$build" && qemu-aarch64 -cpu max ./test_kernels -s -tc='*SIMD KernelSet*' 2>&1)
  echo "$out" | grep "neon vs scalar" || { echo "cross-test: the NEON kernel set was not tested" >&2; exit 1; }
fi
t3=$(now)
echo "cross-test $arch: install $((t1 - t0)) s, build $((t2 - t1)) s, tests $((t3 - t2)) s, total $((t3 - t0)) s"
