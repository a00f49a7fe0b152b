# Cross toolchain for armhf (Debian's g++-arm-linux-gnueabihf), tests run under qemu-arm.
# Used by tests/cross/cross-test.sh; static binaries so qemu needs no sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -cpu max)
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")  # GCC notes on an ABI change of GCC 7.1: nothing to act on
