#!/usr/bin/env bash
# Install the browser that tests/test_browser_widgets.py drives: Debian's Chromium, plus a small
# Chinese font so that the course's Chinese terms are legible in the test's screenshots.
#
# Why Debian's package and not `playwright install chromium`: Playwright's own browser build is
# downloaded from a CDN that CI machines cannot reach; only package registries are reachable.
# The test launches /usr/bin/chromium through Playwright's `executable_path`.
#
# Idempotent: does nothing when both are installed. Needs root (CI runs as root) or sudo.
# Usage: bash tools/install_browser.sh
set -euo pipefail

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
# wqy-microhei: 1.6 MB, versus 57 MB for fonts-noto-cjk; without a CJK font, 召回 shows as boxes.
dpkg -s fonts-wqy-microhei > /dev/null 2>&1 || packages+=(fonts-wqy-microhei)

if [ ${#packages[@]} -eq 0 ]; then
    echo "install_browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already installed"
    exit 0
fi

if ! command -v apt-get > /dev/null; then
    echo "install_browser: apt-get not found; install Chromium yourself (the browser test is skipped without it)" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo > /dev/null; then SUDO="sudo"; else
        echo "install_browser: must run as root (or with sudo available) to apt-get install ${packages[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
$SUDO apt-get update -qq
# --no-install-recommends: no extra plugins or desktop integration; the fonts Chromium depends
# on come in anyway, so screenshots show text.
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" > /dev/null
echo "install_browser: installed ${packages[*]} ($(/usr/bin/chromium --version 2>/dev/null)) in $(( $(date +%s) - start )) s"
