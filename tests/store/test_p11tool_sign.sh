#!/usr/bin/env bash
# Issue 3 with pkcs11-tool: --init-token, --init-pin, --login --keypairgen
# --key-type EC:prime256v1, then --sign in a fourth process; the signature is
# verified by openssl against the public key read out in a fifth process.
# Needs EC key generation and ECDSA in the module (mechanism issue): until
# they land this test fails at step 3, by design.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/p11tool_lib.sh"
mkstore "$W/a" P11TOOL2
use "$W/a"
expect "1 init-token" 'Token successfully initialized' "${P[@]}" --init-token --label p11tool --so-pin "$ST_SO_PIN"
expect "2 init-pin" 'User PIN successfully initialized' "${P[@]}" --login --login-type so --so-pin "$ST_SO_PIN" --init-pin --pin "$ST_USER_PIN"
expect "3 keypairgen EC:prime256v1" 'Key pair generated' "${P[@]}" --login --pin "$ST_USER_PIN" --keypairgen --key-type EC:prime256v1 --id 01 --label eckey
printf 'message signed in a fourth process' > "$W/msg"
"${P[@]}" --login --pin "$ST_USER_PIN" --sign -m ECDSA-SHA256 --id 01 --signature-format openssl -i "$W/msg" -o "$W/sig" >"$W/sign.out" 2>&1 \
  && [ -s "$W/sig" ] && ok "4 sign (own process): $(stat -c %s "$W/sig") byte signature" || { fail "4 sign"; tail -5 "$W/sign.out" >&2; }
"${P[@]}" --read-object --type pubkey --id 01 -o "$W/pub.der" >"$W/read.out" 2>&1 && ok "5 public key read" || { fail "5 read pubkey"; tail -5 "$W/read.out" >&2; }
out=$(openssl dgst -sha256 -verify <(openssl pkey -pubin -inform DER -in "$W/pub.der" 2>&1) -signature "$W/sig" "$W/msg" 2>&1)
[ "$out" = "Verified OK" ] && ok "openssl: $out" || fail "openssl verify: $out"
integrity "after pkcs11-tool"
finish
