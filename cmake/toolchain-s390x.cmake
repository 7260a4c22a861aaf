# Cross build for s390x (big-endian, 64-bit) with Debian 12's gcc-s390x-linux-gnu;
# tests run through qemu-user (issue 6, "Portability"; scripts/test-bigendian.sh).
#
# The s390x libraries (OpenSSL, SQLite, p11-kit, cmocka) are not co-installable
# with their amd64 twins on this Debian snapshot, so scripts/install-deps.sh
# --bigendian unpacks them into a private sysroot: CHSM_S390X_SYSROOT (default
# /opt/craton-hsm/s390x-sysroot). libc comes from libc6-dev-s390x-cross in
# /usr/s390x-linux-gnu, which is why CMAKE_SYSROOT is not set (it would hide it).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CMAKE_C_COMPILER s390x-linux-gnu-gcc)

if(DEFINED ENV{CHSM_S390X_SYSROOT})
  set(CHSM_S390X_SYSROOT "$ENV{CHSM_S390X_SYSROOT}" CACHE PATH "s390x library sysroot")
else()
  set(CHSM_S390X_SYSROOT "/opt/craton-hsm/s390x-sysroot" CACHE PATH "s390x library sysroot")
endif()
set(_chsm_s390x_lib "${CHSM_S390X_SYSROOT}/usr/lib/s390x-linux-gnu")

# pkg-config must see only s390x .pc files; the sysroot prefix is added to -I/-L.
set(ENV{PKG_CONFIG_LIBDIR} "${_chsm_s390x_lib}/pkgconfig:${CHSM_S390X_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${CHSM_S390X_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

# The cross gcc also searches the HOST's /usr/include (amd64 headers): the
# sysroot's include dirs must come first, including OpenSSL's per-arch
# configuration.h under s390x-linux-gnu/.
set(CMAKE_C_FLAGS_INIT
    "-isystem ${CHSM_S390X_SYSROOT}/usr/include/s390x-linux-gnu -isystem ${CHSM_S390X_SYSROOT}/usr/include")
# libp11-kit.so.0 needs libffi.so.8: let the linker find transitive deps in the sysroot.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_chsm_s390x_lib}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_chsm_s390x_lib}")

set(CMAKE_FIND_ROOT_PATH "${CHSM_S390X_SYSROOT}" /usr/s390x-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# ctest runs every s390x executable under qemu-user: the loader from the cross
# libc (-L) and the sysroot's shared libraries (LD_LIBRARY_PATH inside the guest).
set(CMAKE_CROSSCOMPILING_EMULATOR
    "qemu-s390x;-L;/usr/s390x-linux-gnu;-E;LD_LIBRARY_PATH=${_chsm_s390x_lib}")
