# Cross-compiling the native core for 64-bit ARM Linux (Jetson, Raspberry Pi 4/5, Graviton)
# with Debian's g++-aarch64-linux-gnu. Binaries run on x86 under qemu-aarch64 -L <sysroot>.
#
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cpp/cmake/aarch64-linux-gnu.cmake \
#         -DPAVENET_PYTHON=OFF -DPAVENET_BUILD_TESTS=ON
#
# Override the compiler prefix or sysroot with -DPAVENET_CROSS_PREFIX=... / -DPAVENET_SYSROOT=...
set(CMAKE_SYSTEM_NAME Linux)
# CMakeLists.txt picks the NEON kernel from this value.
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(PAVENET_CROSS_PREFIX "aarch64-linux-gnu-" CACHE STRING "Cross compiler prefix")
set(PAVENET_SYSROOT "/usr/aarch64-linux-gnu" CACHE PATH "Target libraries (Debian: libc6-dev-arm64-cross)")

set(CMAKE_C_COMPILER "${PAVENET_CROSS_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${PAVENET_CROSS_PREFIX}g++")
# Try-compiles build a static library so no target executable has to run during configure.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# Libraries and headers come from the target tree only; programs (cmake helpers) from the host.
set(CMAKE_FIND_ROOT_PATH "${PAVENET_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs the test executable through qemu when the build host is not ARM.
find_program(PAVENET_QEMU_AARCH64 qemu-aarch64)
if(PAVENET_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${PAVENET_QEMU_AARCH64};-L;${PAVENET_SYSROOT}")
endif()
