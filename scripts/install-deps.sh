#!/usr/bin/env bash
# Install the Debian 12 packages Craton HSM needs to build, test and run.
# Idempotent: installs only what is missing; safe to run on every invocation.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libssl-dev libsqlite3-dev sqlite3 libp11-kit-dev libcmocka-dev
  libgrpc-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  protobuf-compiler-grpc python3-grpcio python3-protobuf
  libsystemd-dev
  clang libclang-rt-14-dev
  opensc python3-pykcs11 libengine-pkcs11-openssl gnutls-bin p11-kit
  softhsm2 gnupg openssl default-jdk-headless valgrind python3-pycryptodome
)

# --bigendian (scripts/test-bigendian.sh; issue 6 "Portability"): cross
# toolchain and qemu-user, installed normally. The s390x libraries are NOT
# co-installable through dpkg on this Debian 12 snapshot: Multi-Arch: same
# packages must carry the exact amd64 version, and libssl3:s390x (3.0.20)
# and linux-libc-dev:s390x (needed by libsqlite3-dev:s390x via libc6-dev) lag
# or lead the installed amd64 ones. So they are fetched with `apt-get
# download` and unpacked into a private sysroot (CHSM_S390X_SYSROOT), which
# leaves every amd64 package untouched.
BIGENDIAN_PKGS=(gcc-s390x-linux-gnu libc6-dev-s390x-cross qemu-user)
BIGENDIAN_SYSROOT_PKGS=(
  libssl-dev libssl3 libsqlite3-dev libsqlite3-0 libp11-kit-dev libp11-kit0 libffi8 libcmocka-dev libcmocka0
)
CHSM_S390X_SYSROOT=${CHSM_S390X_SYSROOT:-/opt/craton-hsm/s390x-sysroot}

bigendian_sysroot() {
  local stamp="$CHSM_S390X_SYSROOT/.craton-pkgs" want tmp
  want=$(apt-cache policy "${BIGENDIAN_SYSROOT_PKGS[@]/%/:s390x}" | awk '/^[^ ]/{p=$1} /Candidate:/{print p, $2}')
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if echo "$want" | grep -q '(none)'; then
    echo "install-deps: no s390x candidate for: $(echo "$want" | grep '(none)')" >&2
    return 1
  fi
  echo "install-deps: unpacking s390x libraries into $CHSM_S390X_SYSROOT" >&2
  tmp=$(mktemp -d) && chmod 755 "$tmp"  # apt-get download runs as _apt
  (cd "$tmp" && apt-get download -qq "${BIGENDIAN_SYSROOT_PKGS[@]/%/:s390x}")
  rm -rf "$CHSM_S390X_SYSROOT"
  mkdir -p "$CHSM_S390X_SYSROOT"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$CHSM_S390X_SYSROOT"; done
  rm -rf "$tmp"
  echo "$want" > "$stamp"
}

if [ "${1:-}" = "--bigendian" ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  if ! dpkg --print-foreign-architectures | grep -qx s390x; then
    echo "install-deps: adding dpkg architecture s390x" >&2
    $SUDO dpkg --add-architecture s390x
    $SUDO apt-get update -qq
  fi
  missing=()
  for p in "${BIGENDIAN_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -ne 0 ]; then
    echo "install-deps: installing ${missing[*]}" >&2
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  bigendian_sysroot
  exit 0
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
