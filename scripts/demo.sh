#!/usr/bin/env bash
# The product's main job on its embedded default config (README: "Run it").
# Builds Craton HSM, then in scratch directories (nothing on the host is
# touched):
#   1. lists the slots and the mechanism table through the real PKCS#11
#      module with OpenSC's pkcs11-tool;
#   2. runs the spec's quarterly restoration drill end to end with
#      craton-hsm-admin: token init, a known key, backup, bundle manifest,
#      then `drill` (verify bundle, restore into a clean store, self-tests,
#      token facts vs manifest, known-signature check, audit continuity) and
#      prints the drill report with the observed RTO.
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
cd "$ROOT"
echo "== restoration drill (backup, restore into a clean store, known-signature check, RTO)"
bash tests/admin/drill_demo.sh build/tools/admin/craton-hsm-admin
