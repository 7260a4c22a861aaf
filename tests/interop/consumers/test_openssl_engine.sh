#!/usr/bin/env bash
# Interop: OpenSSL 3 signs through ANY PKCS#11 module via libp11's engine
# (libengine-pkcs11-openssl) addressed by RFC 7512 pkcs11: URIs; every
# signature is then verified by plain openssl (no engine) against the
# public key exported by pkcs11-tool and by the engine (issue 4, acceptance 2).
#   usage: test_openssl_engine.sh /path/to/module.so
set -euo pipefail
MODULE=${1:?usage: test_openssl_engine.sh /path/to/module.so}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

ENGINE=${PKCS11_ENGINE:-/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so}
require_tools pkcs11-tool openssl
require_file "$ENGINE" "apt-get install libengine-pkcs11-openssl"
prepare_token "$MODULE"
T=$CHSM_TMP
L=(--login --pin "$USER_PIN")

cat >"$T/openssl.cnf" <<CNF
openssl_conf = openssl_init

[openssl_init]
engines = engine_section

[engine_section]
pkcs11 = pkcs11_section

[pkcs11_section]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $MODULE
init = 0
CNF
export OPENSSL_CONF=$T/openssl.cnf

check_out "keypairgen rsa:2048 (pkcs11-tool)" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type rsa:2048 --id 01 --label rsa-key --usage-sign
check_out "keypairgen EC:prime256v1 (pkcs11-tool)" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type EC:prime256v1 --id 02 --label ec-key --usage-sign
check_out "engine loads the module" '\(pkcs11\)' -- openssl engine -t pkcs11

URI="pkcs11:token=$TOKEN_LABEL"
head -c 4096 /dev/urandom >"$T/data"
openssl dgst -sha256 -binary "$T/data" >"$T/data.sha256"

for k in rsa ec; do
  PRIV="$URI;object=$k-key;type=private?pin-value=$USER_PIN"
  PUB="$URI;object=$k-key;type=public"
  # Public key two ways: the consumer's own export and the engine's view.
  prep "${P11[@]}" "${L[@]}" --read-object --type pubkey --label "$k-key" -o "$T/$k.pub.der"
  check "$k: pkcs11-tool public key -> PEM" -- \
    openssl pkey -pubin -inform DER -in "$T/$k.pub.der" -out "$T/$k.pub.pem"
  check "$k: engine exports public key (openssl pkey -engine pkcs11 -pubout)" -- \
    openssl pkey -engine pkcs11 -inform engine -pubin -in "$PUB" -pubout -out "$T/$k.eng.pem"
  check_same "$k: both exported public keys are identical" "$T/$k.pub.pem" "$T/$k.eng.pem"

  check "$k: pkeyutl -engine pkcs11 -keyform engine -sign" -- \
    openssl pkeyutl -engine pkcs11 -keyform engine -inkey "$PRIV" -sign \
      -pkeyopt digest:sha256 -in "$T/data.sha256" -out "$T/$k.pkeyutl.sig"
  check "$k: plain openssl verifies the pkeyutl signature" -- \
    openssl pkeyutl -verify -pubin -inkey "$T/$k.pub.pem" -pkeyopt digest:sha256 \
      -in "$T/data.sha256" -sigfile "$T/$k.pkeyutl.sig"
  check "$k: dgst -sha256 -engine pkcs11 -keyform engine -sign" -- \
    openssl dgst -sha256 -engine pkcs11 -keyform engine -sign "$PRIV" -out "$T/$k.dgst.sig" "$T/data"
  check "$k: plain openssl dgst -verify" -- \
    openssl dgst -sha256 -verify "$T/$k.pub.pem" -signature "$T/$k.dgst.sig" "$T/data"
  # Negative: the signature must not verify over different data.
  printf x >>"$T/data.other"; cat "$T/data" >>"$T/data.other"
  if [ -s "$T/$k.dgst.sig" ] && ! openssl dgst -sha256 -verify "$T/$k.pub.pem" \
       -signature "$T/$k.dgst.sig" "$T/data.other" >/dev/null 2>&1; then
    pass "$k: signature does not verify over other data"
  else fail "$k: signature does not verify over other data" "missing signature or it verified"; fi
  rm -f "$T/data.other"
done

# RSA-PSS through the engine, verified by plain openssl.
PRIV="$URI;object=rsa-key;type=private?pin-value=$USER_PIN"
check "rsa: pkeyutl -engine pkcs11 PSS sign" -- \
  openssl pkeyutl -engine pkcs11 -keyform engine -inkey "$PRIV" -sign -pkeyopt digest:sha256 \
    -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -in "$T/data.sha256" -out "$T/rsa.pss.sig"
check "rsa: plain openssl verifies PSS" -- \
  openssl pkeyutl -verify -pubin -inkey "$T/rsa.pub.pem" -pkeyopt digest:sha256 \
    -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -in "$T/data.sha256" -sigfile "$T/rsa.pss.sig"
# Object addressed by id instead of label (RFC 7512 id=%01).
check "rsa: sign with URI id=%01" -- \
  openssl pkeyutl -engine pkcs11 -keyform engine -sign -pkeyopt digest:sha256 \
    -inkey "$URI;id=%01;type=private?pin-value=$USER_PIN" -in "$T/data.sha256" -out "$T/rsa.id.sig"
check "rsa: plain openssl verifies id-addressed signature" -- \
  openssl pkeyutl -verify -pubin -inkey "$T/rsa.pub.pem" -pkeyopt digest:sha256 \
    -in "$T/data.sha256" -sigfile "$T/rsa.id.sig"
# A wrong PIN must not sign. (libp11 0.4.12 itself may crash on the failed
# login -- seen with SoftHSM too -- so only the absence of a signature is
# asserted and the exit status is reported.)
rc=0
( openssl pkeyutl -engine pkcs11 -keyform engine -sign -pkeyopt digest:sha256 \
    -inkey "$URI;object=ec-key;type=private?pin-value=wrong-pin-0" -in "$T/data.sha256" \
    -out "$T/wrong.sig" ) >/dev/null 2>&1 || rc=$?
if [ "$rc" -ne 0 ] && [ ! -s "$T/wrong.sig" ]; then pass "wrong PIN does not sign (openssl exit $rc)"
else fail "wrong PIN does not sign" "exit $rc"; fi

finish
