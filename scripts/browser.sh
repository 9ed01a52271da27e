#!/usr/bin/env bash
# A real browser for the end-to-end tests (tests/browser): Debian's chromium, driven by Playwright.
# Idempotent and fast when both are present. Called by `make test` before pytest.
# We never run `playwright install`: its download host is not reachable here, and Debian's
# chromium is the one we test against (executable_path=/usr/bin/chromium in tests/browser).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# fonts-wqy-microhei: a small font with Chinese glyphs, so zh pages render (and screenshot) as text.
if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then
    echo "== browser: installing Debian's chromium and fonts"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core fonts-wqy-microhei >/dev/null
fi

if ! "$BIN/python" -c "import playwright" 2>/dev/null; then
    echo "== browser: installing playwright into $BIN"
    "$BIN/python" -m pip install --quiet "playwright>=1.49,<2"
fi
