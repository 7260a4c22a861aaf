#!/bin/bash
# craton-hsm-admin --help and every command's --help against the man page
# (tools/admin/craton-hsm-admin.1): each prints and exits 0 touching nothing;
# every option the parsers accept (the option tables in tools/admin/*.c) is
# named in a help text and in the man page; every option a help text names
# is in the man page; exit codes 0..5 are worded identically in both; the
# man page renders without warnings.
# Usage: test_help.sh PATH/TO/craton-hsm-admin SOURCE_DIR
set -u
ADMIN=$(realpath "${1:?usage: $0 PATH/TO/craton-hsm-admin SOURCE_DIR}")
SRC=$(realpath "${2:?usage: $0 PATH/TO/craton-hsm-admin SOURCE_DIR}")
MAN=$SRC/tools/admin/craton-hsm-admin.1
W=$(mktemp -d /tmp/chsm-admin-help.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
PASS=0
fail() { echo "FAIL: $*"; exit 1; }
ok() { PASS=$((PASS+1)); echo "ok $PASS - $*"; }

# A config whose store does not exist: --help must not create it.
printf '[token]\nstorage_path = "%s/store"\n[audit]\nlog_path = "%s/audit.jsonl"\n' "$W" "$W" > c.toml
export CRATON_HSM_CONFIG=$W/c.toml

TOPICS=("" "config check" "token init" "token info" "status" "pin change" "pin reset" "key" "key sign"
        "backup" "backup verify" "restore" "manifest create" "manifest verify" "drill" "audit verify" "audit")
: > all_help.txt
for t in "${TOPICS[@]}"; do
    # shellcheck disable=SC2086
    "$ADMIN" $t --help > out.txt 2> err.txt; rc=$?
    [ $rc -eq 0 ] || fail "'$t --help' exited $rc: $(cat err.txt)"
    [ -s err.txt ] && fail "'$t --help' wrote to stderr: $(cat err.txt)"
    first=${t%% *}
    grep -q "^usage: craton-hsm-admin${first:+ $first}" out.txt || fail "'$t --help' lacks its usage line: $(head -1 out.txt)"
    grep -q "^Exit codes: 0 ok" out.txt || fail "'$t --help' lacks the exit codes"
    cat out.txt >> all_help.txt
done
# --help anywhere on the line wins over missing or bad options, and touches nothing.
"$ADMIN" restore --input /nonexistent --help > out.txt 2>&1 || fail "restore --input X --help"
[ -e store ] || [ -e audit.jsonl ] && fail "--help created files: $(ls)"
ok "--help and every command's --help exit 0 on stdout, touching nothing"

# Options the parsers accept: literal option tables and ADM_PIN_SPECS(base) expansions.
grep -ho '{"--[a-z-]*"' "$SRC"/tools/admin/*.c | sed 's/{"//; s/"$//' > accepted.txt
grep -ho 'ADM_PIN_SPECS("[a-z-]*")' "$SRC"/tools/admin/*.c | sed 's/.*("//; s/")//' | sort -u |
    while read -r b; do printf -- '--%s\n--%s-file\n--%s-env\n' "$b" "$b" "$b"; done >> accepted.txt
printf -- '--slot\n--config\n--json\n--quiet\n--help\n--timings\n' >> accepted.txt
sort -u accepted.txt -o accepted.txt
[ "$(wc -l < accepted.txt)" -ge 30 ] || fail "option extraction found too few options: $(tr '\n' ' ' < accepted.txt)"
sed 's/\\-/-/g' "$MAN" > man.txt
# --pin-style forms are documented once generically ("--pin-file PATH ... the same forms for --so-pin ...").
generic() { case "$1" in --so-pin-*|--new-pin-*|--old-pin-*|--pin-*) return 0 ;; esac; return 1; }
while read -r o; do
    grep -q -- "$o\b" all_help.txt || { generic "$o" && grep -q -- "${o%-*}" all_help.txt; } \
        || fail "accepted option $o is in no --help text"
    grep -q -- "$o\b" man.txt || { generic "$o" && grep -q -- "${o%-*}" man.txt; } \
        || fail "accepted option $o is not in the man page"
done < accepted.txt
# (gpg --encrypt is gpg's option, named in the escrow pipeline hint.)
grep -o -- '--[a-z][a-z-]*' all_help.txt | grep -vx -- '--encrypt' | sort -u > helped.txt
while read -r o; do
    grep -q -- "$o" man.txt || { generic "$o" && grep -q -- "${o%-*}" man.txt; } \
        || fail "help names $o but the man page does not"
    grep -qx -- "$o" accepted.txt || fail "help names $o but no parser accepts it"
done < helped.txt
ok "every accepted option ($(wc -l < accepted.txt)) is in --help and the man page; help names nothing else"

# Exit codes: "N description" pairs from --help and from the man page's EXIT STATUS.
"$ADMIN" --help | sed -n '/^Exit codes:/,$p' | tr '\n' ' ' | sed 's/^Exit codes: //; s/ *$//; s/\.$//' |
    sed -E 's/, ([0-9]) /\n\1 /g' | sed -E 's/  +/ /g' | awk 1 > help_exits.txt
MANWIDTH=400 man -l "$MAN" 2>/dev/null | sed -n '/^EXIT STATUS/,/^[A-Z]/p' | sed -E 's/^ +//; s/  +/ /g' |
    grep -E '^[0-5] ' > man_exits.txt
[ "$(wc -l < help_exits.txt)" -eq 6 ] || fail "help lists $(wc -l < help_exits.txt) exit codes: $(cat help_exits.txt)"
diff help_exits.txt man_exits.txt > exits.diff || { cat exits.diff; fail "exit codes differ between --help and the man page"; }
ok "exit codes 0..5 worded identically in --help and the man page"

MANWIDTH=80 man --warnings -l "$MAN" > /dev/null 2> manwarn.txt
[ -s manwarn.txt ] && fail "man page warnings: $(cat manwarn.txt)"
ok "man -l renders without warnings"
echo "PASS: $PASS checks"
