#!/bin/bash
# The restoration drill on the embedded default configuration, for the
# README's main-job command (scripts/demo.sh calls it): in a scratch
# directory, initialise a token, import a known Ed25519 key, pre-record a
# signature with openssl, back up, write the bundle manifest, then run
# `craton-hsm-admin drill`, which prints the report and the RTO.
# Usage: drill_demo.sh PATH/TO/craton-hsm-admin
set -euo pipefail
ADMIN=$(realpath "${1:?usage: $0 PATH/TO/craton-hsm-admin}")
WORK=$(mktemp -d /tmp/craton-hsm-drill-demo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
unset CRATON_HSM_CONFIG   # embedded defaults: ./craton_hsm_store, audit log beside it
umask 077
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > so.pin
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > user.pin
"$ADMIN" token init --label "Craton HSM" --so-pin-file so.pin
"$ADMIN" pin reset --so-pin-file so.pin --new-pin-file user.pin
openssl genpkey -algorithm ed25519 -out known.pem 2>/dev/null
"$ADMIN" key import --file known.pem --type ed25519 --label known-key --pin-file user.pin
printf 'known test payload\n' > payload.bin
openssl pkeyutl -sign -rawin -inkey known.pem -in payload.bin -out payload.sig
shred -u known.pem
"$ADMIN" token info
"$ADMIN" backup --pin-file so.pin --output "backup-$(date +%Y%m%d).enc"
"$ADMIN" manifest create --output manifest.json --bundle "backup-$(date +%Y%m%d).enc"
echo "== restoration drill"
"$ADMIN" drill --input "backup-$(date +%Y%m%d).enc" --pin-file so.pin --known-key known-key \
    --payload payload.bin --signature payload.sig --manifest manifest.json --scratch "$WORK"
