#!/usr/bin/env bash
# Screenshots of rendered reports for the README (docs/images/report-<name>.png), in Debian's chromium, headless.
#   scripts/report-screenshots.sh single=results/run-a sweep=results/sweep1 tls=results/tls1 recovery=results/run-f
# Each folder is rendered with `loadsim report` first unless it already holds report.html. The top of each
# report is shot (the verdict comes first); HEIGHT (default 1800) sets how much.
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { echo "chromium is missing: scripts/ensure-browser.sh installs it" >&2; exit 2; }
HEIGHT=${HEIGHT:-1800}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p docs/images
for pair in "$@"; do
  name=${pair%%=*} folder=${pair#*=}
  [ -f "$folder/report.html" ] || .venv/bin/loadsim report "$folder"
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --disable-background-networking \
    --user-data-dir="$profile" --window-size=1100,"$HEIGHT" --screenshot="docs/images/report-$name.png" \
    "file://$(realpath "$folder/report.html")" 2>/dev/null
  echo "docs/images/report-$name.png <- $folder/report.html"
done
