# Sourced by the bench/run-*.sh scripts: configures a Release build with the benchmarks (and
# without the tests) in BUILD_DIR the first time, then builds the given targets.
#   build_bench_targets REPO BUILD_DIR TARGET...
build_bench_targets() {
  local repo="$1" build="$2"
  shift 2
  local launcher=()
  if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
  if [[ ! -f "$build/build.ninja" ]]; then
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLATTICE_BENCH=ON \
      -DLATTICE_TESTS=OFF "${launcher[@]}"
  fi
  ninja -C "$build" "$@"
}
