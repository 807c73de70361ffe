#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) when missing and installs loadsim with its extras into it.
set -euo pipefail
py=${PYTHON:-python3}
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "loadsim needs Python >= 3.11 as '$py'; install it (Debian 12: apt-get install -y python3) or set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$py" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$py" -m venv .venv
    else
      echo "python venv module missing; install it with: sudo apt-get install -y python3-venv" >&2
      exit 1
    fi
  fi
fi
stamp=.venv/.loadsim-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "installing loadsim and its dependencies into .venv ..."
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev,notebooks]'
  touch "$stamp"
fi
