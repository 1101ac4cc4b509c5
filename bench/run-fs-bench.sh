#!/usr/bin/env bash
# The shared drive's benchmarks (bench/fs_bench.py): installs what they compare against
# (bindfs, fuse-overlayfs, rsync, git from Debian), builds Lattice, and runs the rounds.
# As root: bench/run-fs-bench.sh [--rounds N] [--gib G] [--only dd-write,dd-read,...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
missing=()
for p in bindfs fuse-overlayfs rsync git; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export BUILD_DIR=${BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
exec python3 "$root/bench/fs_bench.py" --build "$BUILD_DIR" "$@"
