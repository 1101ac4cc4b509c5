#!/usr/bin/env bash
# lattice-web's benchmarks (bench/web_bench.py): installs what they compare against and drive
# with (Debian's wrk and etcd-server), builds Lattice, and runs them.
# As root: bench/run-web-bench.sh [--seconds S] [--watchers N] [--only http,sse]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
missing=()
for p in wrk etcd-server; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export BUILD_DIR=${BUILD_DIR:-$root/build}
"$root/scripts/build.sh" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
exec python3 "$root/bench/web_bench.py" --build "$BUILD_DIR" "$@"
