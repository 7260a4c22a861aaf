#!/usr/bin/env bash
# Backup benchmark (issue 6, "Speed"): a store with 10,000 token objects
# (9,800 AES-256 keys, 90 EC P-256 and 9 RSA-2048 key pairs made through the
# module, plus the drill's known Ed25519 key pair imported with the CLI),
# then, with craton-hsm-admin at the default configuration (600000 PBKDF2
# iterations, audit sync "always"):
#   backup            goal < 2 s   excluding the single PBKDF2 of the SO PIN
#   backup verify     goal < 2 s   excluding the single PBKDF2
#   restore (fresh)   goal < 3 s   excluding the single PBKDF2
#   drill             goal: reported RTO < 5 s (everything included)
# Each command runs ROUNDS times (default 5) in a fresh process; the table
# gives medians. "Excluding PBKDF2" = process wall-clock minus the phase the
# CLI itself reports as the PIN derivation (--timings); one PBKDF2 at the
# same iterations is also timed with `openssl kdf` as a cross-check.
#   bench/backup/run.sh      (BUILD=build-dir, default build; ROUNDS=5; OBJECTS=10000)
# Writes bench/results/backup-latest.txt: date, machine, raw output, table.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-5}
OBJECTS=${OBJECTS:-10000}
ITER=600000
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2 --target craton_hsm craton-hsm-admin backup_populate >/dev/null
ADMIN=$ROOT/$BUILD/tools/admin/craton-hsm-admin
POP=$ROOT/$BUILD/bench/backup/backup_populate
MOD=$ROOT/$BUILD/src/pkcs11/libcraton_hsm.so
WORK=$(mktemp -d /tmp/craton-backupbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 700 "$WORK"
OUT=$WORK/out.txt
{
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(uname -srm); $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# craton: $(git log -1 --format=%h 2>/dev/null) $BUILD ($(grep -m1 CMAKE_BUILD_TYPE: "$BUILD/CMakeCache.txt" | cut -d= -f2)); pbkdf2_iterations $ITER (default); rounds $ROUNDS"
} > "$OUT"
log() { echo "== $*" | tee -a "$OUT" >&2; }
r() { "$@" 2>&1 | tee -a "$OUT" >&2; }

cd "$WORK"
umask 077
mkdir -p host/audit
mkconfig() { # mkconfig FILE ROOT [extra audit line]
  cat > "$1" <<TOML
[token]
label = "Craton HSM"
serial_number = "0000000000000001"
storage_path = "$2/store"
[security]
pbkdf2_iterations = $ITER
[audit]
log_path = "$2/audit/craton_hsm_audit.jsonl"
${3:-}
TOML
}
# Populating uses audit sync "batch" (one fsync per batch instead of per key
# generation) only to fill the store quickly; every measurement uses the defaults.
mkconfig fill.toml "$WORK/host" 'sync = "batch"'
mkconfig host.toml "$WORK/host"
printf 'so-pin-bench-1234' > so.pin
printf 'user-pin-bench-5678' > user.pin
export CRATON_HSM_LOG=error

log "populate: $OBJECTS token objects through the module"
CRATON_HSM_CONFIG=$WORK/fill.toml r "$POP" --module "$MOD" --so-pin "$(cat so.pin)" --pin "$(cat user.pin)" \
  --total "$OBJECTS" --reserve 2
openssl genpkey -algorithm ed25519 -out known.pem 2>/dev/null
CRATON_HSM_CONFIG=$WORK/fill.toml "$ADMIN" --quiet key import --file known.pem --type ed25519 --label known-key \
  --pin-file user.pin >/dev/null
printf 'known test payload\n' > payload.bin
openssl pkeyutl -sign -rawin -inkey known.pem -in payload.bin -out payload.sig
rm -f known.pem
export CRATON_HSM_CONFIG=$WORK/host.toml
r "$ADMIN" --json token info

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
# timed NAME cmd...: one run; RESULT line with wall-clock and the CLI's own PBKDF2 phase.
timed() {
  local name=$1 t0 t1 kdf; shift
  t0=$(ms_now)
  "$@" >"$WORK/cmd.out" 2>"$WORK/cmd.err" || { cat "$WORK/cmd.err" >&2; echo "FAILED: $*" >&2; exit 1; }
  t1=$(ms_now)
  grep 'timing: ' "$WORK/cmd.err" >> "$OUT"
  kdf=$(sed -n 's/.*timing: total [0-9.]* ms, pbkdf2 \([0-9.]*\) ms,.*/\1/p' "$WORK/cmd.err")
  echo "RESULT $name wall_ms $((t1 - t0)) pbkdf2_ms ${kdf:-0}" | tee -a "$OUT" >&2
}

log "one PBKDF2-HMAC-SHA256 at $ITER iterations (openssl kdf, cross-check)"
for i in $(seq "$ROUNDS"); do
  t0=$(ms_now)
  openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:so-pin-bench-1234 \
    -kdfopt hexsalt:000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f \
    -kdfopt iter:$ITER PBKDF2 >/dev/null
  echo "RESULT openssl_pbkdf2 wall_ms $(( $(ms_now) - t0 ))" | tee -a "$OUT" >&2
done

for i in $(seq "$ROUNDS"); do
  log "round $i"
  timed backup "$ADMIN" --timings backup --pin-file so.pin --output backup.enc --force
  timed verify "$ADMIN" --timings backup verify --pin-file so.pin --input backup.enc
  tail -1 "$WORK/cmd.out" >> "$OUT"
  rm -rf "$WORK/new$i"; mkdir -p "$WORK/new$i/audit"; mkconfig "new$i.toml" "$WORK/new$i"
  timed restore "$ADMIN" --timings --config "new$i.toml" restore --pin-file so.pin --input backup.enc
  "$ADMIN" --config "new$i.toml" --json token info | grep -q "\"object_count\":$OBJECTS" \
    || { echo "restored store does not hold $OBJECTS objects" >&2; exit 1; }
  rm -rf "$WORK/new$i"
  timed drill "$ADMIN" --timings --json drill --input backup.enc --pin-file so.pin --known-key known-key \
    --payload payload.bin --signature payload.sig --scratch "$WORK"
  cat "$WORK/cmd.out" >> "$OUT"
  rto=$(sed -n 's/.*"rto_seconds":\([0-9.]*\).*/\1/p' "$WORK/cmd.out")
  grep -q '"ok":true' "$WORK/cmd.out" || { echo "drill failed" >&2; exit 1; }
  echo "RESULT drill_rto seconds $rto" | tee -a "$OUT" >&2
done
ls -l backup.enc | awk '{print "# archive size: " $5 " bytes"}' >> "$OUT"

cd "$ROOT"
/usr/bin/python3 bench/backup/report.py "$OBJECTS" < "$OUT" > "$WORK/table.txt"
cat "$WORK/table.txt" >&2
mkdir -p bench/results
{ cat "$OUT"; echo; cat "$WORK/table.txt"; } > bench/results/backup-latest.txt
echo "saved bench/results/backup-latest.txt" >&2
