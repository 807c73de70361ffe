#!/usr/bin/env bash
# Installs redis-server and redis-tools (Debian packages) when missing: as root, or with sudo.
# Elsewhere it prints exactly what to install and fails.
set -euo pipefail
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null; then
  exit 0
fi
cmd="apt-get install -y redis-server redis-tools"
if [ "$(id -u)" = 0 ]; then
  sudo=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo="sudo"
else
  echo "loadsim needs redis-server and redis-tools; install them with: sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "loadsim needs redis-server, redis-cli and redis-benchmark (Redis >= 6 built with TLS) on PATH; install them with your package manager" >&2
  exit 1
fi
echo "installing redis-server and redis-tools with apt-get ..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo $cmd -qq >/dev/null
# Debian's package may start a system redis on 6379; loadsim never uses it (it picks free ports).
