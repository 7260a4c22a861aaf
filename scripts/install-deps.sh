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
  softhsm2 gnupg openssl default-jdk-headless valgrind
)

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
