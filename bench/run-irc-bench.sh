#!/usr/bin/env bash
# lattice-irc beside ngIRCd (bench/irc_compare_bench.py): installs what it compares against
# (Debian's ngircd; only the binary is used, started by the harness with its own
# configuration on a loopback port, never as a system service), builds Lattice, and runs it.
# As root: bench/run-irc-bench.sh [--clients N] [--seconds S] [--window W] [--skip-ngircd]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
if ! dpkg-query -W -f='${Status}' ngircd 2>/dev/null | grep -q "install ok installed"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ngircd >/dev/null
fi
# The package may start its own daemon on port 6667; the benchmark does not need it.
if command -v systemctl >/dev/null && systemctl is-active --quiet ngircd 2>/dev/null; then
  echo "note: the system's ngircd service is running; the benchmark starts its own" >&2
fi
export BUILD_DIR=${BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
exec python3 "$root/bench/irc_compare_bench.py" \
  --kernel "$BUILD_DIR/lattice-kernel/lattice-kernel" --ctl "$BUILD_DIR/lattice-ctl/lattice-ctl" \
  --irc "$BUILD_DIR/lattice-irc/lattice-irc" "$@"
