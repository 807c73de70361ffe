#!/usr/bin/env bash
# Debian's chromium for the web UI's browser test (tests/integration/test_webui_redis_view.py, test_webui_browser.py). Installed
# with apt-get when missing (as root or with sudo); otherwise the test is skipped and says so.
set -u
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium (for the web UI's browser test) ..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
    || echo "could not install chromium: the browser test will be skipped" >&2
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || echo "could not install chromium: the browser test will be skipped" >&2
else
  echo "chromium is missing: the browser test will be skipped (install it with: sudo apt-get install -y chromium)" >&2
fi
exit 0
