#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright's own browser download does not work offline).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium is missing: run 'sudo apt-get install chromium' (the UI tests need /usr/bin/chromium)" >&2
  [ "${CI:-}" = true ] && exit 1 || exit 0
fi
