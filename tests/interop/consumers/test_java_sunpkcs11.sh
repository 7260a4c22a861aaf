#!/usr/bin/env bash
# Interop: Java 17 SunPKCS11 (KeyStore "PKCS11") signs with an EC and an RSA
# key of ANY PKCS#11 module; Java verifies in software and openssl verifies
# the same signatures (issue 4, acceptance 2).
#   usage: test_java_sunpkcs11.sh /path/to/module.so
# SunPKCS11 only exposes a private key as a KeyStore entry when a
# certificate with the same CKA_ID sits beside it, so each key pair gets a
# certificate for its token public key (issued by a throwaway openssl CA:
# SunPKCS11 does not check the certificate's signature, only pairs it).
set -euo pipefail
MODULE=${1:?usage: test_java_sunpkcs11.sh /path/to/module.so}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

require_tools java javac pkcs11-tool openssl
prepare_token "$MODULE"
T=$CHSM_TMP
L=(--login --pin "$USER_PIN")

check_out "keypairgen EC:prime256v1 (pkcs11-tool)" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type EC:prime256v1 --id 02 --label ec-key --usage-sign
check_out "keypairgen rsa:2048 (pkcs11-tool)" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type rsa:2048 --id 01 --label rsa-key --usage-sign

prep openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=interop CA" \
  -days 2 -keyout "$T/ca.key" -out "$T/ca.crt"
for kv in 01:rsa-key 02:ec-key; do
  id=${kv%%:*} k=${kv#*:}
  prep "${P11[@]}" "${L[@]}" --read-object --type pubkey --id "$id" -o "$T/$k.pub.der"
  prep openssl pkey -pubin -inform DER -in "$T/$k.pub.der" -out "$T/$k.pub.pem"
  prep openssl req -new -key "$T/ca.key" -subj "/CN=$k" -out "$T/$k.csr"
  check "$k: certificate for the token public key" -- openssl x509 -req -in "$T/$k.csr" \
    -CA "$T/ca.crt" -CAkey "$T/ca.key" -set_serial "0x$id" -days 2 -force_pubkey "$T/$k.pub.pem" \
    -outform DER -out "$T/$k.crt.der"
  check "$k: pkcs11-tool --write-object cert (same id and label)" -- "${P11[@]}" "${L[@]}" \
    --write-object "$T/$k.crt.der" --type cert --id "$id" --label "$k"
done

mkdir -p "$T/classes" "$T/out"
check "javac P11Sign.java" -- javac -d "$T/classes" "$HERE/java/P11Sign.java"

# SunPKCS11 takes the slot id; quote the library path for spaces.
cat >"$T/sunpkcs11.cfg" <<CFG
name = CratonInterop
library = "$MODULE"
slot = $TOKEN_SLOT
CFG
head -c 2048 /dev/urandom >"$T/data"

# Java's own PASS/FAIL lines become checks of this script.
rc=0
java -cp "$T/classes" P11Sign "$T/sunpkcs11.cfg" "$USER_PIN" "$T/data" "$T/out" \
  ec-key:SHA256withECDSA rsa-key:SHA256withRSA >"$T/java.log" 2>&1 || rc=$?
while IFS= read -r line; do
  case $line in
    PASS:*) pass "${line#PASS: }" ;;
    FAIL:*) fail "${line#FAIL: }" ;;
  esac
done <"$T/java.log"
if [ "$rc" -eq 0 ]; then pass "java P11Sign exit 0"
else fail "java P11Sign exit 0" "exit $rc"; grep -v -E '^(PASS|FAIL):' "$T/java.log" | sed -n '1,30s/^/    | /p'; fi

for ka in ec-key rsa-key; do
  prep openssl pkey -pubin -inform DER -in "$T/out/$ka.spki.der" -out "$T/out/$ka.java.pem"
  check_same "$ka: Java's certificate key is the token's exported key" "$T/$ka.pub.pem" "$T/out/$ka.java.pem"
  check "$ka: openssl verifies the SunPKCS11 signature" -- openssl dgst -sha256 \
    -verify "$T/$ka.pub.pem" -signature "$T/out/$ka.sig" "$T/data"
done

finish
