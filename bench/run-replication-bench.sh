#!/usr/bin/env bash
# Builds the replication benchmark in Release (the kernel benchmarks' build directory) and
# runs it: bootstrap of 100,000 intentions against the Ed25519 verify rate, and put-to-watch
# latency across full meshes of 3 and 5 kernels. See bench/README.md.
#
#   bench/run-replication-bench.sh                      # everything, 3 rounds, a few minutes
#   bench/run-replication-bench.sh --quick              # 5,000 intentions, 1 round: a smoke test
#   bench/run-replication-bench.sh -- --only latency --mesh-sizes 3,5,8   # flags for the program
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LATTICE_BENCH_BUILD_DIR:-$repo/build-bench}"
args=()

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  cat <<'USAGE'
Options:
  --quick           a smoke run (figures only indicative)
  --build-dir DIR   build here (default: build-bench in the repository, or
                    $LATTICE_BENCH_BUILD_DIR)
  -- ARGS           pass the rest to lattice-replication-bench (see its --help)
USAGE
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) args+=(--quick) ;;
    --build-dir) build="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    *) echo "run-replication-bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

source "$repo/bench/build-bench-targets.sh"
build_bench_targets "$repo" "$build" lattice-replication-bench

echo "== machine: $(uptime)"
"$build/bench/lattice-replication-bench" "${args[@]}"
echo "== machine: $(uptime)"
