#!/bin/bash
# End-to-end: the spec's backup and recovery procedures performed literally
# with craton-hsm-admin (../shared/spec/backup-and-recovery.txt), plus every
# refusal asserting the exit code, the message, and that nothing on disk
# changed (recursive sha256 listing before/after).
# Usage: test_backup_restore.sh PATH/TO/craton-hsm-admin
set -u
ADMIN=$(realpath "${1:?usage: $0 PATH/TO/craton-hsm-admin PATH/TO/admin_rewrite_archive}")
REWRITE=$(realpath "${2:?usage: $0 PATH/TO/craton-hsm-admin PATH/TO/admin_rewrite_archive}")
[ -x "$ADMIN" ] || { echo "FAIL: $ADMIN is not built"; exit 1; }
[ -x "$REWRITE" ] || { echo "FAIL: $REWRITE is not built"; exit 1; }
for tool in gpg flock tar openssl sha256sum sqlite3; do
    command -v $tool >/dev/null || { echo "FAIL: missing dependency $tool"; exit 1; }
done
W=$(mktemp -d /tmp/chsm-admin-e2e.XXXXXX)
HOLDER=
cleanup() { [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
export CRATON_HSM_LOG=error
PASS=0
fail() { echo "FAIL: $*"; [ -f "$W/scratch/err" ] && sed 's/^/  stderr: /' "$W/scratch/err"; exit 1; }
ok() { PASS=$((PASS+1)); echo "ok $PASS - $*"; }
adm() { "$ADMIN" "$@"; }

# snap: recursive listing of every path, mode and content hash under $W (minus scratch files).
snap() { (cd "$W" && find . -path ./scratch -prune -o -printf '%p %m\n' | sort;
          find . -path ./scratch -prune -o -type f -print0 | sort -z | xargs -0 sha256sum) }

# neg CODE PATTERN cmd...: must exit CODE, print PATTERN on stderr in one line, and change nothing.
neg() {
    local code=$1 pat=$2; shift 2
    local before after rc
    before=$(snap)
    "$@" >"$W/scratch/out" 2>"$W/scratch/err"; rc=$?
    after=$(snap)
    [ "$rc" -eq "$code" ] || fail "expected exit $code, got $rc: $*"
    grep -q -- "$pat" "$W/scratch/err" || fail "stderr lacks '$pat': $*"
    [ "$(grep -c '^craton-hsm-admin: ' "$W/scratch/err")" -ge 1 ] || fail "no one-line error: $*"
    [ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") | head; fail "disk changed: $*"; }
    ok "refused ($code) $pat"
}

mkdir -p scratch host1/audit
printf 'so-pin-1234\n' > so.pin
printf 'user-pin-5678\n' > user.pin
chmod 600 so.pin user.pin

mkconfig() { # mkconfig FILE ROOT [SERIAL] [LABEL] [ITER]
    cat > "$1" <<EOC
[token]
label = "${4:-Craton HSM}"
serial_number = "${3:-0000000000000001}"
storage_path = "$2/store"

[security]
pbkdf2_iterations = ${5:-100000}

[audit]
log_path = "$2/audit/craton_hsm_audit.jsonl"
EOC
}
mkconfig host1.toml "$W/host1"
export CRATON_HSM_CONFIG=$W/host1.toml

# ---- config check (the spec's pbkdf2_iterations floor example) ----
adm config check > scratch/out 2>"$W/scratch/err" || fail "valid config rejected"
ok "config check accepts a valid config"
mkconfig scratch/low.toml "$W/host1" 0000000000000001 "Craton HSM" 50000
adm config check --config scratch/low.toml > scratch/out 2>"$W/scratch/err"; rc=$?
[ $rc -eq 1 ] || fail "low pbkdf2 config: exit $rc"
grep -q "pbkdf2_iterations" scratch/out || fail "problem does not name the field"
grep -q "100000" scratch/out || fail "problem does not name the floor"
ok "config check refuses pbkdf2_iterations below the floor, naming field and floor"

# ---- token setup and objects ----
adm token init --label "prod token" --so-pin-file so.pin > scratch/out 2>"$W/scratch/err" || fail "token init"
adm pin reset --so-pin-file so.pin --new-pin-file user.pin > scratch/out 2>"$W/scratch/err" || fail "pin reset"
head -c 32 /dev/urandom > aes1.raw
adm key import --file aes1.raw --type aes:256 --label imported-aes --pin-file user.pin > scratch/out 2>"$W/scratch/err" \
    || fail "key import aes"
ok "key import of a raw AES-256 key"
# The known key: an Ed25519 key made outside the HSM, so openssl can pre-record its signature independently.
openssl genpkey -algorithm ed25519 -out scratch/known.pem 2>/dev/null || fail "openssl genpkey"
adm key import --file scratch/known.pem --type ed25519 --label known-key --pin-file user.pin > scratch/out 2>"$W/scratch/err" \
    || fail "key import ed25519 PEM"
adm key export-public --label known-key --pin-file user.pin > scratch/known.pub 2>"$W/scratch/err" || fail "export-public"
cmp -s scratch/known.pub <(openssl pkey -in scratch/known.pem -pubout) || fail "export-public differs from openssl"
ok "key import of an Ed25519 PEM; export-public matches openssl"
adm key generate --type aes:256 --label wrap-key --pin-file user.pin > scratch/out 2>"$W/scratch/err" || fail "key generate aes"
adm key generate --type ec:p256 --label ec-key --pin-file user.pin > scratch/out 2>"$W/scratch/err" || fail "key generate ec"
adm key list --pin-file user.pin > scratch/out 2>"$W/scratch/err" || fail "key list"
grep -q known-key scratch/out || fail "key list lacks known-key"
ok "token init, pin reset, key generate (aes:256, ec:p256), key list"
printf 'known test payload\n' > payload.bin
openssl pkeyutl -sign -rawin -inkey scratch/known.pem -in payload.bin -out known.sig || fail "openssl sign"
shred -u scratch/known.pem
adm key sign --label known-key --in payload.bin --out scratch/hsm.sig --pin-file user.pin 2>"$W/scratch/err" || fail "key sign"
cmp -s scratch/hsm.sig known.sig || fail "HSM Ed25519 signature differs from openssl's"
adm key verify --label known-key --in payload.bin --signature known.sig --pin-file user.pin >scratch/out 2>"$W/scratch/err" || fail "key verify"
ok "pre-recorded signature made with the known key"
adm --json token info > info1.json 2>"$W/scratch/err" || fail "token info"
grep -q '"object_count":6' info1.json || fail "expected 6 objects: $(cat info1.json)"
grep -q '"label":"prod token"' info1.json || fail "label missing: $(cat info1.json)"
ok "token info --json: label, 6 objects"

# ---- Backup procedure (spec command line, then the file/env forms) ----
adm audit rotate > scratch/out 2>"$W/scratch/err" || fail "audit rotate"
adm backup --pin "$(cat so.pin)" --output backup-20260101.enc 2>"$W/scratch/err" || fail "backup"
grep -q "visible" "$W/scratch/err" || fail "--pin VALUE did not warn"
[ "$(stat -c %a backup-20260101.enc)" = 600 ] || fail "archive mode is not 0600"
ls backup-20260101.enc.tmp.* >/dev/null 2>&1 && fail "temporary file left behind"
ok "backup --pin <SO_PIN> --output backup-YYYYMMDD.enc (mode 0600, --pin warning)"
adm backup verify --input backup-20260101.enc --pin-file so.pin > scratch/verify.txt 2>"$W/scratch/err" || fail "backup verify"
grep -q "integrity: ok (6 objects" scratch/verify.txt || fail "verify listing: $(cat scratch/verify.txt)"
grep -q "known-key" scratch/verify.txt || fail "verify does not list labels"
ok "backup verify decrypts and lists without extracting"
for s in so-pin-1234 user-pin-5678; do
    grep -q "$s" backup-20260101.enc && fail "PIN bytes found in the archive"
done
python3 - backup-20260101.enc aes1.raw <<'EOP' || fail "raw AES key bytes found in the archive"
import sys
d = open(sys.argv[1], 'rb').read(); k = open(sys.argv[2], 'rb').read()
sys.exit(1 if k in d or k[:16] in d or k[16:] in d else 0)
EOP
ok "no PIN and no imported key bytes in the archive"

# ---- CLI basics ----
adm --help > scratch/out 2>&1 && grep -q "Exit codes: 0 ok" scratch/out || fail "--help"
adm no-such-command >/dev/null 2>"$W/scratch/err"; [ $? -eq 2 ] || fail "unknown command is not exit 2"
adm token info --no-such-option >/dev/null 2>"$W/scratch/err"; [ $? -eq 2 ] || fail "unknown option is not exit 2"
adm status > scratch/out 2>"$W/scratch/err" && grep -q "Self-tests: *passed" scratch/out || fail "status"
adm audit head > scratch/out 2>"$W/scratch/err" && grep -Eq '^[0-9]+ [0-9a-f]{64}$' scratch/out || fail "audit head"
adm audit dump --last 3 --json > scratch/out 2>"$W/scratch/err" || fail "audit dump"
printf 'temp-pin-999\n' > scratch/tmp.pin
adm pin change --user-type user --pin-file user.pin --new-pin-file scratch/tmp.pin >scratch/out 2>"$W/scratch/err" || fail "pin change"
adm pin change --user-type user --pin-file user.pin --new-pin-file scratch/tmp.pin >scratch/out 2>"$W/scratch/err"
[ $? -eq 3 ] || fail "pin change with the old (now wrong) PIN is not exit 3"
adm pin change --user-type user --pin-file scratch/tmp.pin --new-pin-file user.pin >scratch/out 2>"$W/scratch/err" || fail "pin change back"
PIN_ENV_VAL=$(cat user.pin) adm key list --pin-env PIN_ENV_VAL > scratch/out 2>"$W/scratch/err" || fail "--pin-env"
adm key list --pin - < user.pin > scratch/out 2>"$W/scratch/err" || fail "--pin -"
ok "help, usage errors (2), status, audit head/dump, pin change (wrong old PIN: 3), --pin-env, --pin -"

# ---- Bundle manifest ----
adm manifest create --output manifest.json --bundle backup-20260101.enc --bundle host1.toml >scratch/out 2>"$W/scratch/err" \
    || fail "manifest create"
for f in product_version store_format_version archive_format_version hostname machine_id architecture byte_order \
         timestamp object_count sha256; do
    grep -q "\"$f\"" manifest.json || fail "manifest lacks $f"
done
grep -q "$(sha256sum backup-20260101.enc | cut -d' ' -f1)" manifest.json || fail "manifest hash differs from sha256sum"
adm manifest verify --input manifest.json >scratch/out 2>"$W/scratch/err" || fail "manifest verify"
ok "manifest create/verify (versions, host identity, timestamp, token facts, SHA-256 of each file)"
# ---- Backup while another process keeps writing (consistent snapshot) ----
( for i in 1 2 3 4 5 6 7 8; do
      head -c 32 /dev/urandom > "$W/scratch/w$i.raw"
      "$ADMIN" key import --file "$W/scratch/w$i.raw" --type aes:256 --label "w$i" --pin-file user.pin >/dev/null 2>&1 || exit 1
  done ) & WRITER=$!
for n in 1 2 3; do
    adm --quiet backup --pin-file so.pin --output scratch/live$n.enc 2>"$W/scratch/err" || fail "backup during writes"
    adm --quiet backup verify --input scratch/live$n.enc --pin-file so.pin > scratch/out 2>"$W/scratch/err" \
        || fail "a backup taken during writes does not verify"
done
wait $WRITER || fail "the concurrent writer failed"
adm --quiet backup --pin-file so.pin --output scratch/live-final.enc 2>"$W/scratch/err" || fail "final backup"
adm --json backup verify --input scratch/live-final.enc --pin-file so.pin | grep -q '"object_count":14' \
    || fail "final backup does not hold all 14 objects"
ok "backups taken while another process writes are consistent and verify"
adm key delete --label w1 --pin-file user.pin > scratch/out 2>"$W/scratch/err" || fail "key delete"
adm key delete --label known-key --pin-file user.pin > scratch/out 2>"$W/scratch/err"; rc=$?
[ $rc -eq 5 ] && grep -q -- "--force" "$W/scratch/err" || fail "deleting a key pair without --force: exit $rc"
adm --json token info | grep -q '"object_count":13' || fail "key delete removed the wrong number of objects"
ok "key delete (one object; a pair needs --force)"

# "validates store consistency": a store record that fails authentication stops the backup (4), nothing written.
cp -a host1/store scratch/badstore
mkconfig scratch/bad.toml "$W/scratch/bad"
sed -i "s|$W/scratch/bad/store|$W/scratch/badstore|" scratch/bad.toml
sqlite3 scratch/badstore/craton_hsm.db \
    "UPDATE objects SET sec_blob = zeroblob(length(sec_blob)) WHERE rowid = (SELECT min(rowid) FROM objects WHERE sec_blob IS NOT NULL)" \
    || fail "sqlite3 corrupt"
neg 4 "fails authentication under the master key; nothing was written" \
    adm backup --config scratch/bad.toml --pin-file so.pin --output bad.enc
[ -e bad.enc ] || ls bad.enc.tmp.* >/dev/null 2>&1 && fail "a failed backup left a file behind"
rm -rf scratch/badstore

mkdir -p badbundle && cp manifest.json host1.toml badbundle/ && printf 'x' | cat backup-20260101.enc - > badbundle/backup-20260101.enc
neg 4 "SHA-256" adm manifest verify --input badbundle/manifest.json
rm -rf badbundle

# ---- Refusals (exit code, message, nothing changed) ----
cp backup-20260101.enc scratch/src.enc
tamper() { # tamper OFFSET OUT
    cp scratch/src.enc "$2"
    # XOR, never overwrite: overwriting with a fixed value is a no-op when the byte already has it.
    python3 -c 'import sys; p, o = sys.argv[1], int(sys.argv[2]); d = bytearray(open(p, "rb").read()); d[o] ^= 0x01; open(p, "wb").write(d)' "$2" "$1"
    chmod 600 "$2"
}
SIZE=$(stat -c %s backup-20260101.enc)
mkdir -p tampered
tamper 40 tampered/header.enc
tamper $((SIZE / 2)) tampered/body.enc
tamper $((SIZE - 1)) tampered/tag.enc
head -c $((SIZE * 2 / 3)) backup-20260101.enc > tampered/truncated.enc
cp backup-20260101.enc tampered/newer.enc; printf '\x03\x00' | dd of=tampered/newer.enc bs=1 seek=11 conv=notrunc status=none
printf 'so-pin-WRONG\n' > wrong.pin

neg 5 "already exists" adm restore --pin-file so.pin --input backup-20260101.enc
neg 5 "already exists" adm backup --pin-file so.pin --output backup-20260101.enc
# A wrong SO PIN on backup is checked by the store, so it counts toward the lockout (the only change).
adm backup --pin-file wrong.pin --output x.enc 2>"$W/scratch/err"; rc=$?
[ $rc -eq 3 ] && grep -q "wrong SO PIN" "$W/scratch/err" && [ ! -e x.enc ] || fail "backup with a wrong SO PIN: exit $rc"
adm --json token info | grep -q '"so_pin":{"failed":1' || fail "failed SO attempt not counted"
ok "refused (3) backup with a wrong SO PIN, attempt counted, no output"
# Restores below target an empty host (host2) so that only the named rule can refuse.
mkdir -p host2/audit
mkconfig host2.toml "$W/host2"
export CRATON_HSM_CONFIG=$W/host2.toml
neg 3 "SO PIN does not open" adm restore --pin-file wrong.pin --input backup-20260101.enc
neg 3 "SO PIN does not open" adm restore --pin-file user.pin --input backup-20260101.enc
neg 4 "damaged or tampered" adm restore --pin-file so.pin --input tampered/header.enc
neg 4 "damaged or tampered" adm restore --pin-file so.pin --input tampered/body.enc
neg 4 "damaged or tampered" adm restore --pin-file so.pin --input tampered/tag.enc
neg 4 "truncated" adm restore --pin-file so.pin --input tampered/truncated.enc
neg 4 "damaged or tampered" adm backup verify --pin-file so.pin --input tampered/body.enc
neg 5 "archive format version 3 is newer than this craton-hsm-admin supports (1)" \
    adm restore --pin-file so.pin --input tampered/newer.enc
# "Never restore a newer-version backup into an older-version daemon": a genuine, valid archive whose
# header names a newer software version / store format (re-written under the same MK) is refused.
"$REWRITE" backup-20260101.enc tampered/newer-sw.enc so.pin 9.9.9 || fail "rewrite_archive 9.9.9"
"$REWRITE" backup-20260101.enc tampered/newer-store.enc so.pin "$("$ADMIN" version | cut -d' ' -f2)" 2 \
    || fail "rewrite_archive store format 2"
"$REWRITE" backup-20260101.enc older-0.9.0.enc so.pin 0.9.0 || fail "rewrite_archive 0.9.0"
"$ADMIN" backup verify --pin-file so.pin --input tampered/newer-sw.enc >/dev/null 2>&1 \
    || fail "the re-written archive does not verify (the refusal below would prove nothing)"
neg 5 "written by craton-hsm 9.9.9, newer than this craton-hsm-admin $("$ADMIN" version | cut -d' ' -f2)" \
    adm restore --pin-file so.pin --input tampered/newer-sw.enc
neg 5 "store format version 2, newer than this craton-hsm-admin" \
    adm restore --pin-file so.pin --input tampered/newer-store.enc
neg 5 "newer than this craton-hsm-admin" \
    adm drill --input tampered/newer-sw.enc --pin-file so.pin --known-key known-key --payload payload.bin \
    --signature known.sig --scratch "$W/scratch"
neg 1 "cannot read archive" adm restore --pin-file so.pin --input does-not-exist.enc
mkconfig scratch/serial.toml "$W/host2" 0000000000000009
neg 5 "serial_number" adm restore --config scratch/serial.toml --pin-file so.pin --input backup-20260101.enc
mkconfig scratch/label.toml "$W/host2" 0000000000000001 "Other Label"
neg 5 "label" adm restore --config scratch/label.toml --pin-file so.pin --input backup-20260101.enc
# An archive from another token (different serial) refused by a config of this token.
mkdir -p other/audit
mkconfig other.toml "$W/other" 0000000000000002
adm --config other.toml token init --label other --so-pin-file so.pin >scratch/out 2>"$W/scratch/err" || fail "other token init"
adm --config other.toml backup --pin-file so.pin --output other.enc 2>"$W/scratch/err" || fail "other backup"
neg 5 "serial_number" adm restore --pin-file so.pin --input other.enc
# A daemon holding the store's advisory lock.
mkdir -p host2/store && chmod 700 host2/store
flock -x host2/store/craton_hsm.lock sleep 60 & HOLDER=$!
sleep 0.5
neg 5 "running daemon" adm restore --pin-file so.pin --input backup-20260101.enc
kill $HOLDER; wait $HOLDER 2>/dev/null; HOLDER=
rm -rf host2/store

# ---- Restore to the same host (spec procedure) ----
export CRATON_HSM_CONFIG=$W/host1.toml
# sudo systemctl stop craton-hsm   (no daemon runs in this test)
mv host1/store host1/store.quarantine.$(date +%s)
# A directory that merely looks like a scratch store: restore must not remove or use it (it builds in
# its own mkdtemp directory and removes only that).
mkdir -p host1/store.restore.decoy && printf 'keep\n' > host1/store.restore.decoy/keep
adm restore --pin "$(cat so.pin)" --input backup-20260101.enc 2>"$W/scratch/err" || fail "same-host restore"
[ "$(cat host1/store.restore.decoy/keep 2>/dev/null)" = keep ] || fail "restore touched a directory it did not create"
[ "$(ls -d host1/store.restore.* | wc -l)" -eq 1 ] || fail "restore left its scratch directory: $(ls -d host1/store.restore.*)"
rm -r host1/store.restore.decoy
adm --json token info > info2.json 2>"$W/scratch/err" || fail "token info after restore"
diff <(sed 's/"store_path":"[^"]*",//' info1.json) <(sed 's/"store_path":"[^"]*",//' info2.json) >/dev/null \
    || fail "token info differs after restore: $(cat info2.json)"
adm key verify --label known-key --in payload.bin --signature known.sig --pin-file user.pin >scratch/out 2>"$W/scratch/err" \
    || fail "known signature no longer verifies"
adm key sign --label known-key --in payload.bin --out scratch/again.sig --pin-file user.pin 2>"$W/scratch/err" || fail "sign"
cmp -s scratch/again.sig known.sig || fail "Ed25519 signature after restore differs from the pre-recorded one"
adm audit verify > scratch/out 2>"$W/scratch/err" || fail "audit chain broken after same-host restore"
ok "restore to the same host: quarantine with mv, restore, token info identical, known signature matches, audit verifies"

# --force moves an existing store aside itself.
adm restore --pin-file so.pin --input backup-20260101.enc --force 2>"$W/scratch/err" || fail "restore --force"
ls -d host1/store.quarantine.* | wc -l | grep -q 2 || fail "--force did not quarantine the old store"
ok "restore --force quarantines the existing store as store.quarantine.<unix time>"

# ---- Restore to a new host (second config and directory tree, TLS 0600) ----
export CRATON_HSM_CONFIG=$W/host2.toml
mkdir -p host2/tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=hsm -days 1 \
    -keyout host2/tls/key.pem -out host2/tls/cert.pem >/dev/null 2>&1 || fail "openssl"
chmod 600 host2/tls/key.pem host2/tls/cert.pem
adm restore --pin-file so.pin --input backup-20260101.enc --audit-archive "$W/host1/audit" 2>"$W/scratch/err" \
    || fail "new-host restore"
adm --json token info > info3.json 2>"$W/scratch/err" || fail "token info on new host"
grep -q '"object_count":6' info3.json && grep -q '"label":"prod token"' info3.json || fail "new host facts: $(cat info3.json)"
adm key sign --label known-key --in payload.bin --out scratch/new.sig --pin-file user.pin 2>"$W/scratch/err" || fail "sign on new host"
cmp -s scratch/new.sig known.sig || fail "known signature differs on the new host"
SEGS=$(ls host1/audit/craton_hsm_audit.jsonl.[0-9]* | sort | tr '\n' ' ')
adm audit verify --segments "$W/host1/audit" --log "$W/host2/audit/craton_hsm_audit.jsonl" >scratch/out 2>"$W/scratch/err" \
    || fail "new log does not chain from the most recent archived segment"
adm manifest verify --input manifest.json >scratch/out 2>"$W/scratch/err" || fail "token info differs from the manifest on the new host"
ok "restore to a new host: manifest token facts match, known signature matches, audit chains from archived segment"

# ---- Quarterly restoration drill (one command) ----
adm --config host1.toml drill --input backup-20260101.enc --pin-file so.pin --known-key known-key \
    --payload payload.bin --signature known.sig --manifest manifest.json --audit-archive "$W/host1/audit" \
    --scratch "$W/scratch" > drill.txt 2>"$W/scratch/err" || fail "drill: $(cat drill.txt)"
grep -q "RTO: .* s" drill.txt && grep -q "Result: *PASS" drill.txt || fail "drill report: $(cat drill.txt)"
ls -d scratch/craton-hsm-drill.* >/dev/null 2>&1 && fail "drill left scratch key material behind"
# --pin VALUE here: adm_pin wipes it from argv, so the drill must read the SO PIN once for both its logins.
adm --config host1.toml --json drill --input backup-20260101.enc --pin "$(cat so.pin)" --known-key known-key \
    --payload payload.bin --signature known.sig --scratch "$W/scratch" > drill.json 2>"$W/scratch/err" \
    || fail "drill --json --pin VALUE: $(cat "$W/scratch/err")"
grep -q '"signature_match":true' drill.json && grep -q '"rto_seconds":' drill.json || fail "drill json: $(cat drill.json)"
ok "drill: bundle verified, restored in scratch, self-tests, manifest, known signature, audit continuity, RTO, scratch destroyed"
printf 'tampered payload\n' > scratch/other.bin
adm --config host1.toml drill --input backup-20260101.enc --pin-file so.pin --known-key known-key \
    --payload scratch/other.bin --signature known.sig --scratch "$W/scratch" > scratch/out 2>"$W/scratch/err"; rc=$?
[ $rc -eq 4 ] && grep -q "differs from the pre-recorded" "$W/scratch/err" || fail "drill with a wrong payload: exit $rc"
ls -d scratch/craton-hsm-drill.* >/dev/null 2>&1 && fail "failed drill left scratch key material behind"
ok "drill fails (4) when the signature does not match, and still destroys the scratch material"

# ---- Patch-level upgrade (0.9.0 -> this version): "Backward-compatible. Restore directly." ----
mkdir -p host6/audit; mkconfig host6.toml "$W/host6"
adm --config host6.toml restore --pin-file so.pin --input older-0.9.0.enc 2>"$W/scratch/err" || fail "restore of a 0.9.0 archive"
adm --config host6.toml --json token info | grep -q '"object_count":6' || fail "0.9.0 archive restored the wrong count"
ok "an archive written by an older patch version (0.9.0) restores directly"

# ---- Raw file copy of a stopped store ----
export CRATON_HSM_CONFIG=$W/host1.toml
tar czf store.tgz -C "$W/host1" store || fail "tar"
mkdir -p host3/audit && tar xzf store.tgz -C host3 || fail "untar"
mkconfig host3.toml "$W/host3"
adm --config host3.toml --json token info > info4.json 2>"$W/scratch/err" || fail "token info on tar copy"
grep -q '"object_count":6' info4.json || fail "tar copy facts: $(cat info4.json)"
adm --config host3.toml key sign --label known-key --in payload.bin --out scratch/tar.sig --pin-file user.pin 2>"$W/scratch/err" \
    || fail "sign from tar copy"
cmp -s scratch/tar.sig known.sig || fail "known signature differs from tar copy"
ok "raw tar copy of a stopped store is a valid store"

# ---- gpg escrow pipelines ----
export GNUPGHOME=$W/gnupg; mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key backup@example.com default default never >/dev/null 2>&1 || fail "gpg key"
adm backup --pin-file so.pin --output - | gpg --batch --trust-model always --encrypt --recipient backup@example.com > bundle.gpg \
    || fail "backup | gpg --encrypt"
mkdir -p host4/audit; mkconfig host4.toml "$W/host4"
gpg --batch --decrypt bundle.gpg 2>/dev/null | adm --config host4.toml restore --pin-file so.pin --input - 2>"$W/scratch/err" \
    || fail "gpg --decrypt | restore --input -"
adm --config host4.toml --json token info > info5.json 2>"$W/scratch/err" || fail "token info host4"
grep -q '"object_count":6' info5.json || fail "gpg pipeline facts: $(cat info5.json)"
ok "gpg escrow pipelines: backup --output - | gpg --encrypt, gpg --decrypt | restore --input -"
# The raw copy's escrow step, literally: gpg --encrypt --recipient backup@example.com store.tgz
gpg --batch --trust-model always --encrypt --recipient backup@example.com store.tgz || fail "gpg --encrypt store.tgz"
mkdir -p host5/audit && gpg --batch --decrypt store.tgz.gpg 2>/dev/null | tar xzf - -C host5 || fail "gpg --decrypt | tar x"
mkconfig host5.toml "$W/host5"
adm --config host5.toml key sign --label known-key --in payload.bin --out scratch/tar5.sig --pin-file user.pin \
    2>"$W/scratch/err" && cmp -s scratch/tar5.sig known.sig || fail "known signature from the gpg-escrowed tar copy"
ok "raw copy escrow: gpg --encrypt store.tgz, decrypt, untar, known signature matches"

echo "PASS: $PASS checks"
