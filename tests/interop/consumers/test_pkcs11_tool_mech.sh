#!/usr/bin/env bash
# Interop: OpenSC pkcs11-tool drives keygen / sign / verify / encrypt /
# decrypt / wrap / unwrap / derive through ANY PKCS#11 module, and every
# result is checked independently with the openssl CLI (issue 4, acceptance 1).
#   usage: test_pkcs11_tool_mech.sh /path/to/module.so
# Prints one line per check and "N passed, M failed"; exit 0 iff none failed.
set -euo pipefail
MODULE=${1:?usage: test_pkcs11_tool_mech.sh /path/to/module.so}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

require_tools pkcs11-tool openssl xxd cmp
prepare_token "$MODULE"
T=$CHSM_TMP
L=(--login --pin "$USER_PIN")

# --- key generation by the consumer ------------------------------------
check_out "keypairgen rsa:2048" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type rsa:2048 --id 01 --label rsa-key --usage-sign --usage-decrypt
check_out "keypairgen EC:prime256v1" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type EC:prime256v1 --id 02 --label ec-key --usage-sign --usage-derive
# OpenSC 0.23 names Ed25519 "edwards25519"; later releases accept "ed25519".
check_out "keypairgen EC:edwards25519" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type EC:edwards25519 --id 03 --label ed-key --usage-sign
check_out "keygen AES:32" 'Key generated' -- "${P11[@]}" "${L[@]}" \
  --keygen --key-type AES:32 --id 10 --label aes-gen --usage-decrypt

# --- the consumer's own self-tests on the populated token ---------------
check_out "pkcs11-tool --test --login" 'No errors' -- "${P11[@]}" "${L[@]}" --test
# "No errors" also appears for an empty token: require that it tested our keys.
check_log "--test exercised rsa-key" 'testing key [0-9]+ \(rsa-key\)'
# --test-ec generates its own key pair (needs a R/W session) and signs with
# CKM_ECDSA_SHA1; it prints "==> OK" after the signature.
check_out "pkcs11-tool --test-ec --login" '==> OK' -- \
  "${P11[@]}" "${L[@]}" --session-rw --test-ec --id 04 --key-type EC:prime256v1

# --- export public keys (SPKI) for openssl -----------------------------
# pkcs11-tool writes SPKI DER for RSA/EC and (0.23) PEM for Edwards keys.
export_pub() { # id out.pem
  "${P11[@]}" "${L[@]}" --read-object --type pubkey --id "$1" -o "$T/pub$1.raw" >/dev/null 2>&1 || return 1
  if head -c 11 "$T/pub$1.raw" | grep -q -- '-----BEGIN'; then cp "$T/pub$1.raw" "$2"
  else openssl pkey -pubin -inform DER -in "$T/pub$1.raw" -out "$2" 2>/dev/null; fi
}
check "export RSA public key -> PEM" -- export_pub 01 "$T/rsa.pem"
check "export EC public key -> PEM" -- export_pub 02 "$T/ec.pem"
check "export Ed25519 public key -> PEM" -- export_pub 03 "$T/ed.pem"
check_out "exported RSA key is 2048-bit" 'Public-Key: \(2048 bit\)' -- \
  openssl pkey -pubin -in "$T/rsa.pem" -text -noout
check_out "exported EC key is P-256" 'prime256v1|P-256' -- openssl pkey -pubin -in "$T/ec.pem" -text -noout
check_out "exported Edwards key is ED25519" 'ED25519' -- openssl pkey -pubin -in "$T/ed.pem" -text -noout

head -c 1000 /dev/urandom >"$T/data"
openssl dgst -sha256 -binary "$T/data" >"$T/data.sha256"

sign() { # mech id in out [extra...]
  local m=$1 id=$2 in=$3 out=$4; shift 4
  "${P11[@]}" "${L[@]}" --sign -m "$m" --id "$id" -i "$in" -o "$out" "$@"
}
p11verify() { # mech id in sig [extra...]
  local m=$1 id=$2 in=$3 sig=$4; shift 4
  "${P11[@]}" "${L[@]}" --verify -m "$m" --id "$id" -i "$in" --signature-file "$sig" "$@"
}

# --- RSA signatures ------------------------------------------------------
# CKM_RSA_PKCS signs the caller's bytes; give it a DigestInfo so openssl's
# "pkeyutl -verify" with a digest checks the full PKCS#1 v1.5 encoding.
printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20' | cat - "$T/data.sha256" >"$T/data.di"
check "sign RSA-PKCS" -- sign RSA-PKCS 01 "$T/data.di" "$T/rsa-pkcs.sig"
check "openssl verifies RSA-PKCS" -- openssl pkeyutl -verify -pubin -inkey "$T/rsa.pem" \
  -pkeyopt digest:sha256 -in "$T/data.sha256" -sigfile "$T/rsa-pkcs.sig"
check_out "pkcs11-tool verifies RSA-PKCS" 'Signature is valid' -- p11verify RSA-PKCS 01 "$T/data.di" "$T/rsa-pkcs.sig"

check "sign SHA256-RSA-PKCS" -- sign SHA256-RSA-PKCS 01 "$T/data" "$T/rsa-sha256.sig"
check "openssl verifies SHA256-RSA-PKCS" -- openssl dgst -sha256 -verify "$T/rsa.pem" \
  -signature "$T/rsa-sha256.sig" "$T/data"
check_out "pkcs11-tool verifies SHA256-RSA-PKCS" 'Signature is valid' -- \
  p11verify SHA256-RSA-PKCS 01 "$T/data" "$T/rsa-sha256.sig"

# OpenSC takes the hash from the mechanism name for SHAx-RSA-PKCS-PSS and
# refuses --hash-algorithm there; plain RSA-PKCS-PSS signs a digest.
PSS=(--mgf MGF1-SHA256 --salt-len 32)
check "sign SHA256-RSA-PKCS-PSS" -- sign SHA256-RSA-PKCS-PSS 01 "$T/data" "$T/rsa-pss.sig" "${PSS[@]}"
check "openssl verifies SHA256-RSA-PKCS-PSS (salt 32)" -- openssl dgst -sha256 -verify "$T/rsa.pem" \
  -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256 \
  -signature "$T/rsa-pss.sig" "$T/data"
check_out "pkcs11-tool verifies SHA256-RSA-PKCS-PSS" 'Signature is valid' -- \
  p11verify SHA256-RSA-PKCS-PSS 01 "$T/data" "$T/rsa-pss.sig" "${PSS[@]}"
check "sign RSA-PKCS-PSS (prehashed SHA-256)" -- sign RSA-PKCS-PSS 01 "$T/data.sha256" "$T/rsa-pss-raw.sig" \
  --hash-algorithm SHA256 "${PSS[@]}"
check "openssl verifies RSA-PKCS-PSS" -- openssl pkeyutl -verify -pubin -inkey "$T/rsa.pem" \
  -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 \
  -in "$T/data.sha256" -sigfile "$T/rsa-pss-raw.sig"
# Negative: a flipped byte must not verify in openssl.
prep cp "$T/rsa-sha256.sig" "$T/bad.sig"
prep dd if=/dev/zero of="$T/bad.sig" bs=1 seek=10 count=1 conv=notrunc
if [ ! -s "$T/rsa-sha256.sig" ]; then fail "corrupted RSA signature rejected by openssl" "no signature to corrupt"
elif openssl dgst -sha256 -verify "$T/rsa.pem" -signature "$T/bad.sig" "$T/data" >/dev/null 2>&1; then
  fail "corrupted RSA signature rejected by openssl"; else pass "corrupted RSA signature rejected by openssl"; fi

# --- ECDSA / EdDSA -------------------------------------------------------
check "sign ECDSA (prehashed, DER out)" -- sign ECDSA 02 "$T/data.sha256" "$T/ecdsa.sig" -f openssl
check "openssl verifies ECDSA" -- openssl pkeyutl -verify -pubin -inkey "$T/ec.pem" \
  -in "$T/data.sha256" -sigfile "$T/ecdsa.sig"
check "sign ECDSA-SHA256 (DER out)" -- sign ECDSA-SHA256 02 "$T/data" "$T/ecdsa-sha256.sig" -f openssl
check "openssl verifies ECDSA-SHA256" -- openssl dgst -sha256 -verify "$T/ec.pem" \
  -signature "$T/ecdsa-sha256.sig" "$T/data"
check "sign ECDSA-SHA256 (r||s)" -- sign ECDSA-SHA256 02 "$T/data" "$T/ecdsa-rs.sig"
check_out "pkcs11-tool verifies ECDSA-SHA256 (r||s)" 'Signature is valid' -- \
  p11verify ECDSA-SHA256 02 "$T/data" "$T/ecdsa-rs.sig"
if [ "$(stat -c %s "$T/ecdsa-rs.sig" 2>/dev/null || echo 0)" = 64 ]; then pass "ECDSA P-256 raw signature is 64 bytes"
else fail "ECDSA P-256 raw signature is 64 bytes" "got $(stat -c %s "$T/ecdsa-rs.sig" 2>/dev/null || echo none)"; fi
check "sign EDDSA (Ed25519)" -- sign EDDSA 03 "$T/data" "$T/ed.sig"
check "openssl verifies EDDSA" -- openssl pkeyutl -verify -pubin -inkey "$T/ed.pem" -rawin \
  -in "$T/data" -sigfile "$T/ed.sig"

# --- RSA decryption of openssl ciphertext --------------------------------
head -c 48 /dev/urandom >"$T/secret"
prep openssl pkeyutl -encrypt -pubin -inkey "$T/rsa.pem" -pkeyopt rsa_padding_mode:oaep \
  -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in "$T/secret" -out "$T/oaep.bin"
check "decrypt RSA-PKCS-OAEP (SHA-256) of openssl ciphertext" -- "${P11[@]}" "${L[@]}" --decrypt \
  -m RSA-PKCS-OAEP --hash-algorithm SHA256 --mgf MGF1-SHA256 --id 01 -i "$T/oaep.bin" -o "$T/oaep.out"
check_same "RSA-PKCS-OAEP (SHA-256) plaintext matches" "$T/secret" "$T/oaep.out"
prep openssl pkeyutl -encrypt -pubin -inkey "$T/rsa.pem" -pkeyopt rsa_padding_mode:oaep \
  -in "$T/secret" -out "$T/oaep1.bin"
check "decrypt RSA-PKCS-OAEP (SHA-1) of openssl ciphertext" -- "${P11[@]}" "${L[@]}" --decrypt \
  -m RSA-PKCS-OAEP --hash-algorithm SHA-1 --mgf MGF1-SHA1 --id 01 -i "$T/oaep1.bin" -o "$T/oaep1.out"
check_same "RSA-PKCS-OAEP (SHA-1) plaintext matches" "$T/secret" "$T/oaep1.out"
prep openssl pkeyutl -encrypt -pubin -inkey "$T/rsa.pem" -pkeyopt rsa_padding_mode:pkcs1 \
  -in "$T/secret" -out "$T/pkcs1.bin"
check "decrypt RSA-PKCS of openssl ciphertext" -- "${P11[@]}" "${L[@]}" --decrypt \
  -m RSA-PKCS --id 01 -i "$T/pkcs1.bin" -o "$T/pkcs1.out"
check_same "RSA-PKCS plaintext matches" "$T/secret" "$T/pkcs1.out"

# --- AES with a known key, compared to openssl enc -----------------------
# RFC 3394 section 4.6 key (256-bit KEK) and 4.1 key data: the wrap output
# is a published vector, the ciphers are compared to openssl enc.
KEK=000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F
KD=00112233445566778899AABBCCDDEEFF
xxd -r -p <<<"$KEK" >"$T/kek.bin"
xxd -r -p <<<"$KD" >"$T/kd.bin"
check "import AES-256 key (write-object secrkey)" -- "${P11[@]}" "${L[@]}" --write-object "$T/kek.bin" \
  --type secrkey --key-type AES:32 --id 11 --label aes-kek --usage-wrap --usage-decrypt
check "import AES-128 key (extractable)" -- "${P11[@]}" "${L[@]}" --write-object "$T/kd.bin" \
  --type secrkey --key-type AES:16 --id 12 --label aes-kd --extractable
IV=000102030405060708090a0b0c0d0e0f
head -c 100 /dev/urandom >"$T/pt"
head -c 64 "$T/pt" >"$T/pt64"
check "encrypt AES-CBC-PAD" -- "${P11[@]}" "${L[@]}" --encrypt -m AES-CBC-PAD --id 11 --iv "$IV" \
  -i "$T/pt" -o "$T/cbcpad.ct"
openssl enc -aes-256-cbc -K "$KEK" -iv "$IV" -in "$T/pt" -out "$T/cbcpad.ref"
check_same "AES-CBC-PAD ciphertext equals openssl enc" "$T/cbcpad.ref" "$T/cbcpad.ct"
check "decrypt AES-CBC-PAD" -- "${P11[@]}" "${L[@]}" --decrypt -m AES-CBC-PAD --id 11 --iv "$IV" \
  -i "$T/cbcpad.ref" -o "$T/cbcpad.out"
check_same "AES-CBC-PAD round trip" "$T/pt" "$T/cbcpad.out"
check "encrypt AES-CBC" -- "${P11[@]}" "${L[@]}" --encrypt -m AES-CBC --id 11 --iv "$IV" \
  -i "$T/pt64" -o "$T/cbc.ct"
openssl enc -aes-256-cbc -nopad -K "$KEK" -iv "$IV" -in "$T/pt64" -out "$T/cbc.ref"
check_same "AES-CBC ciphertext equals openssl enc" "$T/cbc.ref" "$T/cbc.ct"
check "encrypt AES-ECB" -- "${P11[@]}" "${L[@]}" --encrypt -m AES-ECB --id 11 -i "$T/pt64" -o "$T/ecb.ct"
openssl enc -aes-256-ecb -nopad -K "$KEK" -in "$T/pt64" -out "$T/ecb.ref"
check_same "AES-ECB ciphertext equals openssl enc" "$T/ecb.ref" "$T/ecb.ct"
check "generated AES key: encrypt AES-CBC-PAD" -- "${P11[@]}" "${L[@]}" --encrypt -m AES-CBC-PAD --id 10 \
  --iv "$IV" -i "$T/pt" -o "$T/gen.ct"
check "generated AES key: decrypt AES-CBC-PAD" -- "${P11[@]}" "${L[@]}" --decrypt -m AES-CBC-PAD --id 10 \
  --iv "$IV" -i "$T/gen.ct" -o "$T/gen.out"
check_same "generated AES key round trip" "$T/pt" "$T/gen.out"
# AES-GCM/CTR through --encrypt need the --aad/--tag-bits-len options of
# OpenSC >= 0.24; older releases abort before calling the module.
if pkcs11-tool 2>&1 | grep -q -- '--aad'; then
  check "encrypt AES-GCM" -- "${P11[@]}" "${L[@]}" --encrypt -m AES-GCM --id 11 \
    --iv 000102030405060708090a0b --aad 0102 --tag-bits-len 128 -i "$T/pt" -o "$T/gcm.ct"
  check "decrypt AES-GCM" -- "${P11[@]}" "${L[@]}" --decrypt -m AES-GCM --id 11 \
    --iv 000102030405060708090a0b --aad 0102 --tag-bits-len 128 -i "$T/gcm.ct" -o "$T/gcm.out"
  check_same "AES-GCM round trip" "$T/pt" "$T/gcm.out"
else
  echo "NOTE: this pkcs11-tool has no --aad (OpenSC < 0.24): AES-GCM is covered by test_pykcs11_families.py"
fi

# --- wrap / unwrap -------------------------------------------------------
check "wrap AES-KEY-WRAP" -- "${P11[@]}" "${L[@]}" --wrap -m AES-KEY-WRAP --id 11 --application-id 12 \
  -o "$T/wrapped"
xxd -r -p <<<"64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7" >"$T/wrapped.ref"
check_same "AES-KEY-WRAP output equals RFC 3394 4.6 vector" "$T/wrapped.ref" "$T/wrapped"
# "AES:0" leaves CKA_VALUE_LEN out of the template (the wrapped blob fixes
# the length; SoftHSM refuses VALUE_LEN on unwrap).
check "unwrap AES-KEY-WRAP" -- "${P11[@]}" "${L[@]}" --unwrap -m AES-KEY-WRAP --id 11 -i "$T/wrapped.ref" \
  --key-type AES:0 --application-id 13 --application-label aes-unwrapped
check "unwrapped key encrypts AES-ECB" -- "${P11[@]}" "${L[@]}" --encrypt -m AES-ECB --id 13 \
  -i "$T/pt64" -o "$T/unw.ct"
openssl enc -aes-128-ecb -nopad -K "$KD" -in "$T/pt64" -out "$T/unw.ref"
check_same "unwrapped key equals the RFC 3394 key data" "$T/unw.ref" "$T/unw.ct"

# --- derive --------------------------------------------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/peer.pem" 2>/dev/null
openssl pkey -in "$T/peer.pem" -pubout -outform DER -out "$T/peer.der"
check "derive ECDH1-DERIVE" -- "${P11[@]}" "${L[@]}" --derive -m ECDH1-DERIVE --id 02 \
  -i "$T/peer.der" -o "$T/ecdh.bin"
prep openssl pkeyutl -derive -inkey "$T/peer.pem" -peerkey "$T/ec.pem" -out "$T/ecdh.ref"
check_same "ECDH shared secret equals openssl pkeyutl -derive" "$T/ecdh.ref" "$T/ecdh.bin"

finish
