#!/usr/bin/env bash
# Builds the kernel benchmarks in Release (own build directory) and runs them: the
# Google Benchmark microbenchmarks of a write's CPU work, then lattice-kernel-bench with its
# baselines, the gRPC floor and a real kernel. See bench/README.md.
#
#   bench/run-kernel-bench.sh                 # every throughput/latency figure, 3 rounds
#   bench/run-kernel-bench.sh --startup       # ... plus start-up at 100k and 1M intentions
#   bench/run-kernel-bench.sh --quick         # 1 round of 1 s per figure, a smoke test
#   bench/run-kernel-bench.sh -- --only kernel,floor --duration 5   # flags for the harness
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LATTICE_BENCH_BUILD_DIR:-$repo/build-bench}"
startup_sizes=""
primitives=1
harness_args=()

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'USAGE'
Options:
  --startup              also fill a store to 100,000 and 1,000,000 intentions and measure
                         the kernel's start-up time and memory (the 1M fill takes minutes)
  --startup-sizes LIST   the same with other sizes, e.g. 10000,100000
  --quick                --rounds 1 --duration 1 (figures are then only indicative)
  --no-primitives        skip the microbenchmarks
  --build-dir DIR        build here (default: build-bench in the repository, or
                         $LATTICE_BENCH_BUILD_DIR)
  -- ARGS                pass the rest to lattice-kernel-bench (see its --help)
USAGE
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --startup) startup_sizes="100000,1000000" ;;
    --startup-sizes) startup_sizes="$2"; shift ;;
    --quick) harness_args+=(--rounds 1 --duration 1) ;;
    --no-primitives) primitives=0 ;;
    --build-dir) build="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; harness_args+=("$@"); break ;;
    *) echo "run-kernel-bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

source "$repo/bench/build-bench-targets.sh"
build_bench_targets "$repo" "$build" lattice-kernel-bench lattice-primitives-bench

if [[ $primitives -eq 1 ]]; then
  echo "== microbenchmarks (lattice-primitives-bench)"
  "$build/bench/lattice-primitives-bench" --benchmark_min_time=0.5
fi

echo "== lattice-kernel-bench"
if [[ -n "$startup_sizes" ]]; then harness_args+=(--startup-sizes "$startup_sizes"); fi
exec "$build/bench/lattice-kernel-bench" "${harness_args[@]}"
