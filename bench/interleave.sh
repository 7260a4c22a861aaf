# Sourced by the benchmark drivers. interleave_run DIR NAME... runs the
# shell functions bench_cmd_NAME at once, each given
#   --turn-in F --turn-out F --ready F
# so that the programs take turns measurement by measurement (bench_common.h,
# struct bench_plan): NAME1's first measurement, NAME2's first, ..., NAME1's
# second, ... Each program's stdout goes to DIR/NAME.out and stderr to
# DIR/NAME.err. Returns non-zero (after stopping the others) as soon as one
# program fails, so a broken partner never leaves the rest waiting.
interleave_run() {
  local dir=$1; shift
  local names=("$@") n=$# i pids=() status=0 fd got=0 b
  for i in $(seq 0 $((n - 1))); do mkfifo "$dir/turn$i"; done
  mkfifo "$dir/ready"
  exec {fd}<>"$dir/ready"
  # The programs stop waiting for a turn once this script is gone (bench_common.c, turn_wait).
  export BENCH_DRIVER_PID=$$
  for i in $(seq 0 $((n - 1))); do
    "bench_cmd_${names[$i]}" --turn-in "$dir/turn$i" --turn-out "$dir/turn$(( (i + 1) % n ))" \
      --ready "$dir/ready" > "$dir/${names[$i]}.out" 2> "$dir/${names[$i]}.err" &
    pids+=($!)
  done
  # Every program has set up (keys made, logged in) before the first measurement starts.
  while [ "$got" -lt "$n" ]; do
    if read -r -t 5 -N 1 -u "$fd" b; then
      got=$((got + 1))
      continue
    fi
    for i in $(seq 0 $((n - 1))); do
      if ! kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "interleave: ${names[$i]} stopped during set-up: $(tail -1 "$dir/${names[$i]}.err")" >&2
        kill "${pids[@]}" 2>/dev/null || true
        wait || true
        exec {fd}>&-
        return 1
      fi
    done
  done
  exec {fd}>&-
  printf t > "$dir/turn0"
  for i in $(seq 1 "$n"); do
    if ! wait -n; then
      status=1
      echo "interleave: a program failed:" >&2
      for b in "${names[@]}"; do tail -2 "$dir/$b.err" | sed "s/^/  $b: /" >&2; done
      kill "${pids[@]}" 2>/dev/null || true
      wait || true
      break
    fi
  done
  return $status
}

# interleave_generations DIR G NAME... runs interleave_run G times, each time
# with fresh processes (in DIR/g1 .. DIR/gG), and concatenates each program's
# output into DIR/NAME.out in measurement order. One process can run a few per
# cent faster or slower than an identical one for its whole life (placement,
# caches); over G generations that bias averages out instead of deciding a
# row. Every second generation takes its turns in the reverse order, so no
# program always measures right after the same partner (whatever one program
# leaves behind - dirty pages, a flusher thread finishing - lands on each
# neighbour alike). The bench_cmd_NAME functions should measure SLICES/G
# slices each.
interleave_generations() {
  local dir=$1 gens=$2 g n order; shift 2
  for n in "$@"; do : > "$dir/$n.out"; done
  for g in $(seq 1 "$gens"); do
    mkdir -p "$dir/g$g"
    order=("$@")
    if [ $((g % 2)) -eq 0 ]; then
      order=()
      for n in "$@"; do order=("$n" "${order[@]}"); done
    fi
    echo "== generation $g/$gens (turns: ${order[*]})" >&2
    interleave_run "$dir/g$g" "${order[@]}" || return 1
    for n in "$@"; do cat "$dir/g$g/$n.out" >> "$dir/$n.out"; done
  done
}
