#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs a kernel on the default data
# directory (~/.local/share/lattice, socket kernel.sock inside it) in the foreground.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
BUILD_DIR=${BUILD_DIR:-$root/build} "$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLATTICE_TESTS=OFF -DLATTICE_BENCH=OFF
bin=${BUILD_DIR:-$root/build}
cat <<MSG
lattice: starting the kernel. In another terminal, try:
  $bin/lattice-ctl/lattice-ctl status
  $bin/lattice-ctl/lattice-ctl store create notes --type kv
  $bin/lattice-ctl/lattice-ctl kv put notes hello world
  $bin/lattice-ctl/lattice-ctl kv get notes hello
Stop it with Ctrl-C.
MSG
exec "$bin/lattice-kernel/lattice-kernel" "$@"
