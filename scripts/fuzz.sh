#!/usr/bin/env bash
# Fuzzes every reader of outside bytes (engine/fuzz/fuzz_targets/*.rs) with libFuzzer, without cargo-fuzz and
# on stable Rust (RUSTC_BOOTSTRAP lets stable take the -Z flags cargo-fuzz passes on nightly):
#   scripts/fuzz.sh build              build the targets (engine/fuzz/target/)
#   scripts/fuzz.sh seeds              rebuild the seed corpora from real files (scripts/fuzz-seeds.py)
#   scripts/fuzz.sh smoke              every target for 30 s, two at a time (CI; about 4 minutes on 2 cores)
#   scripts/fuzz.sh campaign [RUNS]    every target for RUNS executions (default 10,000,000), one at a time;
#                                      per target: executions, seconds, exec/s, crashes; summary in
#                                      engine/fuzz/campaign/summary.tsv, logs beside it
#   scripts/fuzz.sh run TARGET [ARGS]  one target with libFuzzer's own arguments (reproduce: ... run wav CRASHFILE)
# FUZZ_TARGETS="wav onnx" limits smoke/campaign to those targets. Exits non-zero on any crash, timeout or
# out-of-memory; the input that caused it is in engine/fuzz/artifacts/TARGET/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$root/engine/fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
triple=x86_64-unknown-linux-gnu
bin_dir="$fuzz/target/$triple/release"
all_targets=(wav gguf safetensors ctranslate2 onnx image tokenizer_json chat_gguf chat_template model_json collection)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"

# The largest input each target is given: room for the seeds' structure, small enough to stay fast.
max_len() {
  case "$1" in
    onnx | ctranslate2 | gguf | chat_gguf | safetensors | tokenizer_json) echo 262144 ;;
    wav | image) echo 65536 ;;
    *) echo 16384 ;;
  esac
}

# cargo-fuzz's flags: SanitizerCoverage (8-bit counters, PC table, compare tracing) so libFuzzer sees
# coverage, `--cfg fuzzing`, and every debug assertion and overflow check in the fuzzed code.
# No AddressSanitizer by default: it finds out-of-bounds access in unsafe code, and our readers deny `unsafe`
# (engine, search) as do most of the decoders under them (png, image-webp, gif, fdeflate, weezl); in safe Rust
# an overrun is already a panic, which libFuzzer reports. Measured on 2 cores (300,000 runs from the same
# seeds): wav 7,692 -> 2,222 exec/s with ASan (3.5x slower), ctranslate2 6,976 -> 1,507 (4.6x), and 1.5x
# the build's CPU time; the campaign spends those runs on inputs instead. The targets whose decoders do hold
# unsafe code (image: zune-jpeg's SIMD and moxcms; chat templates: minijinja) are worth an ASan run now and
# then: OFFGRID_FUZZ_ASAN=1 scripts/fuzz.sh ... (it builds into engine/fuzz/target too; rebuild after).
build() {
  local flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
  flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
  flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
  if [ "${OFFGRID_FUZZ_ASAN:-0}" = 1 ]; then
    flags+=" -Zsanitizer=address"
  fi
  local bins=()
  for t in "${targets[@]}"; do bins+=(--bin "$t"); done
  # The fuzzed crates are the versions the app ships: the fuzz workspace starts from the main Cargo.lock
  # (cargo then only adds libfuzzer-sys and drops what the targets do not use).
  cp "$root/Cargo.lock" "$fuzz/Cargo.lock"
  (cd "$fuzz" && RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" CARGO_INCREMENTAL=0 \
    cargo build --release --target "$triple" "${bins[@]}")
}

seeds() {
  python3 "$root/scripts/fuzz-seeds.py" "$fuzz/seeds"
}

# libFuzzer options for one target: memory limits that catch an allocation sized from a file's claim
# (-malloc_limit_mb: any single allocation over 512 MB is a failure), a 10 s timeout per input.
fuzz_args() {
  echo "-max_len=$(max_len "$1") -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1"
}

# Runs one target; $2 is libFuzzer's stop condition (-runs=N or -max_total_time=S); output to $3.
run_one() {
  local t="$1" stop="$2" log="$3"
  mkdir -p "$fuzz/corpus/$t" "$fuzz/artifacts/$t" "$fuzz/seeds/$t"
  # shellcheck disable=SC2046
  "$bin_dir/$t" "$fuzz/corpus/$t" "$fuzz/seeds/$t" $(fuzz_args "$t") "$stop" \
    -artifact_prefix="$fuzz/artifacts/$t/" >"$log" 2>&1
}

# `executions seconds exec/s` from a libFuzzer log's final stats.
stats() {
  awk '/stat::number_of_executed_units/ {n=$2} /stat::average_exec_per_sec/ {r=$2}
       END {printf "%s %s\n", n, r}' "$1"
}

failure_of() {
  grep -m1 -oE "ERROR: libFuzzer: [a-z-]+|panicked at [^ ]+|deadly signal" "$1" || echo "exit status $2"
}

smoke() {
  local logs="$fuzz/smoke" failed=0 i t
  rm -rf "$logs" && mkdir -p "$logs"
  # Two at a time: CI has two cores.
  for ((i = 0; i < ${#targets[@]}; i += 2)); do
    local pids=() names=()
    for t in "${targets[@]:i:2}"; do
      run_one "$t" -max_total_time=30 "$logs/$t.log" &
      pids+=($!) names+=("$t")
    done
    for j in "${!pids[@]}"; do
      local status=0 n r
      t="${names[$j]}"
      wait "${pids[$j]}" || status=$?
      if [ "$status" = 0 ]; then
        read -r n r < <(stats "$logs/$t.log")
        printf '  %-15s ok      %9s runs  %6s exec/s\n' "$t" "$n" "$r"
      else
        printf '  %-15s FAILED  %s (log: %s)\n' "$t" "$(failure_of "$logs/$t.log" "$status")" "$logs/$t.log"
        tail -40 "$logs/$t.log" | sed 's/^/    /'
        failed=1
      fi
    done
  done
  return "$failed"
}

campaign() {
  local runs="${1:-10000000}" dir="$fuzz/campaign" failed=0 t
  mkdir -p "$dir"
  local summary="$dir/summary.tsv"
  # A rerun of some targets (FUZZ_TARGETS=...) replaces their rows and keeps the others'.
  local header=$'target\texecutions\tseconds\texec_per_s\tcrashes\tresult'
  if [ -f "$summary" ]; then
    local kept
    kept=$(awk -F'\t' -v run=" ${targets[*]} " 'NR > 1 && index(run, " " $1 " ") == 0' "$summary")
    { echo "$header"; [ -z "$kept" ] || echo "$kept"; } >"$summary"
  else
    echo "$header" >"$summary"
  fi
  for t in "${targets[@]}"; do
    local start end status=0 n r
    start=$(date +%s)
    run_one "$t" "-runs=$runs" "$dir/$t.log" || status=$?
    end=$(date +%s)
    read -r n r < <(stats "$dir/$t.log")
    local crashes result
    # libFuzzer's failures; a slow-unit-* file is only a note (it is written for the slowest input so far).
    crashes=$(find "$fuzz/artifacts/$t" -type f -newermt "@$start" \( -name 'crash-*' -o -name 'timeout-*' \
      -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
    if [ "$status" = 0 ]; then result=ok; else result="$(failure_of "$dir/$t.log" "$status")"; failed=1; fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$n" "$((end - start))" "$r" "$crashes" "$result" >>"$summary"
    printf '%-15s %11s executions %7ss %7s exec/s  %s crashes  %s\n' "$t" "$n" "$((end - start))" "$r" \
      "$crashes" "$result"
  done
  echo "summary: $summary"
  return "$failed"
}

mode="${1:-smoke}"
shift || true
case "$mode" in
  build) build ;;
  seeds) seeds ;;
  smoke) build && seeds && smoke ;;
  campaign) build && seeds && campaign "$@" ;;
  run)
    t="$1"; shift
    targets=("$t") && build
    # shellcheck disable=SC2046
    "$bin_dir/$t" $(fuzz_args "$t") -artifact_prefix="$fuzz/artifacts/$t/" "$@"
    ;;
  *) echo "usage: scripts/fuzz.sh build|seeds|smoke|campaign [RUNS]|run TARGET [ARGS]" >&2; exit 2 ;;
esac
