#!/usr/bin/env bash
# Interop: GnuTLS p11tool and certtool (gnutls-bin 3.7) list, generate and
# sign through ANY PKCS#11 module; certtool's token-signed certificate is
# verified by plain openssl (issue 4, acceptance 2).
#   usage: test_p11tool.sh /path/to/module.so
set -euo pipefail
MODULE=${1:?usage: test_p11tool.sh /path/to/module.so}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

require_tools p11tool certtool pkcs11-tool openssl
prepare_token "$MODULE"
T=$CHSM_TMP
L=(--login --pin "$USER_PIN")
# p11tool reads the user PIN from GNUTLS_PIN; never prompt in CI.
export GNUTLS_PIN=$USER_PIN
PT=(p11tool --provider "$MODULE")
TOK="pkcs11:token=$TOKEN_LABEL"

check_out "p11tool --list-tokens shows our token" "Label: $TOKEN_LABEL\$" -- "${PT[@]}" --list-tokens
check_out "p11tool --list-tokens URL carries token=" "URL: pkcs11:.*token=$TOKEN_LABEL" -- "${PT[@]}" --list-tokens

check_out "keypairgen rsa:2048 (pkcs11-tool)" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type rsa:2048 --id 01 --label rsa-key --usage-sign
check_out "keypairgen EC:prime256v1 (pkcs11-tool)" 'Key pair generated' -- "${P11[@]}" "${L[@]}" \
  --keypairgen --key-type EC:prime256v1 --id 02 --label ec-key --usage-sign
check "p11tool --generate-privkey=ECDSA --curve=secp384r1" -- "${PT[@]}" --login \
  --generate-privkey=ECDSA --curve=secp384r1 --label gnutls-ec --outfile "$T/gnutls-ec.gen.pem" "$TOK"

"${PT[@]}" --login --list-all "$TOK" >"$T/list-all.txt" 2>&1 || true
for lbl in rsa-key ec-key gnutls-ec; do
  if grep -q "Label: $lbl\$" "$T/list-all.txt"; then pass "--list-all --login lists $lbl"
  else fail "--list-all --login lists $lbl"; show_log "$T/list-all.txt"; fi
done
if grep -q 'Type: Private key' "$T/list-all.txt"; then pass "--list-all --login shows private keys"
else fail "--list-all --login shows private keys"; fi
# Without login the private keys stay hidden (CKA_PRIVATE defaults to true).
"${PT[@]}" --list-all "$TOK" >"$T/list-nologin.txt" 2>&1 || true
if ! grep -q 'Type: Private key' "$T/list-all.txt"; then
  fail "private keys hidden without login" "no private key listed even with login"
elif grep -q 'Type: Private key' "$T/list-nologin.txt"; then fail "private keys hidden without login"
else pass "private keys hidden without login"; fi
check_out "--list-all-privkeys --login" 'Type: Private key' -- "${PT[@]}" --login --list-all-privkeys "$TOK"

for k in rsa-key ec-key gnutls-ec; do
  check_out "$k: p11tool --test-sign (sign + verify against token public key)" \
    'Verifying against public key in the token\.\.\. ok' -- \
    "${PT[@]}" --login --test-sign "$TOK;object=$k;type=private"
  check "$k: p11tool --export-pubkey" -- \
    "${PT[@]}" --login --export-pubkey --outfile "$T/$k.gnutls.pem" "$TOK;object=$k;type=private"
done
check_out "rsa-key: --test-sign --sign-params=RSA-PSS" 'Verifying against public key in the token\.\.\. ok' -- \
  "${PT[@]}" --login --test-sign --sign-params=RSA-PSS --hash=SHA256 "$TOK;object=rsa-key;type=private"
check_same "gnutls-ec: --generate-privkey output equals --export-pubkey" \
  "$T/gnutls-ec.gen.pem" "$T/gnutls-ec.gnutls.pem"

for k in rsa-key ec-key; do
  prep "${P11[@]}" "${L[@]}" --read-object --type pubkey --label "$k" -o "$T/$k.der"
  prep openssl pkey -pubin -inform DER -in "$T/$k.der" -out "$T/$k.p11tool.pem"
  prep openssl pkey -pubin -in "$T/$k.gnutls.pem" -out "$T/$k.gnutls.norm.pem"
  check_same "$k: GnuTLS and OpenSC export the same public key" "$T/$k.p11tool.pem" "$T/$k.gnutls.norm.pem"

  # certtool signs a self-signed certificate with the token key; openssl
  # checks the signature and that the certificate carries the token's key.
  cat >"$T/tmpl" <<TMPL
cn = "interop $k"
serial = 7
expiration_days = 2
signing_key
ca
TMPL
  check "$k: certtool --generate-self-signed with pkcs11: URI key" -- \
    certtool --provider "$MODULE" --generate-self-signed --load-privkey "$TOK;object=$k;type=private" \
      --template "$T/tmpl" --outfile "$T/$k.crt"
  check_out "$k: openssl verifies the token-signed certificate" ': OK$' -- \
    openssl verify -CAfile "$T/$k.crt" "$T/$k.crt"
  prep openssl x509 -in "$T/$k.crt" -pubkey -noout -out "$T/$k.crt.pub.pem"
  check_same "$k: certificate public key is the token key" "$T/$k.p11tool.pem" "$T/$k.crt.pub.pem"
done

finish
