#!/usr/bin/env bash
# Headless Chromium for the console's browser tests, from Debian's own packages (Playwright never downloads a
# browser here), plus a small CJK font so the Chinese pages render. Does nothing when both are installed.
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || packages+=(fonts-wqy-microhei)
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install ${packages[*]} (sudo apt-get install -y ${packages[*]}), or the browser tests are skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}"
