#!/usr/bin/env bash
# Installs the Debian 12 packages Lattice needs to build, test and run. Idempotent: does
# nothing when everything is already there. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-14 libclang-rt-14-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libre2-dev libsodium-dev libleveldb-dev libsnappy-dev libfuse3-dev fuse3 libsystemd-dev
  libboost-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  systemd python3 python3-irc python3-jsonschema curl irssi weechat-curses tmux rsync vim-tiny fio dbench stress-ng
  chromium
  python3-prometheus-client
  # The IRC conformance test (tests/integration/irc_conformance_test.py) runs its cases against
  # InspIRCd as the reference; it uses only the binary, started with its own configuration on
  # a loopback port, never the system service the package installs.
  inspircd
  # The package tests install the .deb in a Debian 12 tree and boot it (tests/package.cmake);
  # dpkg-shlibdeps, which makes its Depends, is in dpkg-dev, part of build-essential.
  debootstrap systemd-container
)
# The management page is bundled from npm packages at build time (lattice-web/page.cmake) and
# tested in Debian's chromium with playwright-core. Debian's nodejs and npm only when the
# commands are missing: a newer node installed some other way is left alone.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo "$0" "$@"; fi
  echo "install-deps: run as root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
