#!/usr/bin/env bash
# Builds the kernel benchmarks in Release (own build directory) and runs them: the
# Google Benchmark microbenchmarks of a write's CPU work, then lattice-kernel-bench with its
# baselines, the gRPC floor, etcd (Debian's etcd-server, installed here when missing) and a
# real kernel, in one interleaved run. See bench/README.md.
#
#   bench/run-kernel-bench.sh                 # every throughput/latency figure, 3 rounds
#   bench/run-kernel-bench.sh --startup       # ... plus start-up at 100k and 1M intentions
#   bench/run-kernel-bench.sh --quick         # 1 round of 1 s per figure, 5 s sustained
#   bench/run-kernel-bench.sh -- --only kernel,floor --duration 5   # flags for the harness
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LATTICE_BENCH_BUILD_DIR:-$repo/build-bench}"
startup_sizes=""
primitives=1
harness_args=()

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'USAGE'
Options:
  --startup              also fill a store to 100,000 and 1,000,000 intentions and measure
                         the kernel's start-up time and memory (the 1M fill takes minutes)
  --startup-sizes LIST   the same with other sizes, e.g. 10000,100000
  --quick                --rounds 1 --duration 1 --sustained-s 5 (figures are then only
                         indicative)
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
    --quick) harness_args+=(--rounds 1 --duration 1 --sustained-s 5) ;;
    --no-primitives) primitives=0 ;;
    --build-dir) build="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; harness_args+=("$@"); break ;;
    *) echo "run-kernel-bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# etcd, the comparison of issue 18: Debian's etcd-server, through apt like any package
# (not needed when --only leaves out the etcd section; the sustained one then runs the kernel
# alone).
needs_etcd=1
for ((i = 0; i < ${#harness_args[@]}; i++)); do
  if [[ ${harness_args[i]} == --only && ! ${harness_args[i + 1]:-} =~ etcd ]]; then
    needs_etcd=0
  fi
done
if [[ $needs_etcd -eq 1 && ! -x /usr/bin/etcd ]]; then
  echo "== installing etcd-server (Debian)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      etcd-server >/dev/null; then
    echo "run-kernel-bench.sh: cannot install etcd-server (run as root, or install it); to run" \
         "without etcd: -- --only leveldb,crypto,floor,kernel,sustained,watch,inprocess" >&2
    exit 1
  fi
fi

source "$repo/bench/build-bench-targets.sh"
build_bench_targets "$repo" "$build" lattice-kernel-bench lattice-primitives-bench

if [[ $primitives -eq 1 ]]; then
  echo "== microbenchmarks (lattice-primitives-bench)"
  "$build/bench/lattice-primitives-bench" --benchmark_min_time=0.5
fi

echo "== lattice-kernel-bench"
if [[ -n "$startup_sizes" ]]; then harness_args+=(--startup-sizes "$startup_sizes"); fi
exec "$build/bench/lattice-kernel-bench" "${harness_args[@]}"
