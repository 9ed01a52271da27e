#!/usr/bin/env bash
# Virtuoso Open Source for the backend tests (issue 11 §2; tests/virtuoso.py starts private
# instances on 127.0.0.1) and nginx for the replica test (issue 11 §3), both from Debian.
# Idempotent and fast when both are present. Called by `make test` before pytest.
# The packages' own services are never started: Debian's postinst may try (it is denied in
# containers); the tests run their own processes with their own configuration and ports.
set -euo pipefail

if [ ! -x /usr/bin/virtuoso-t ] || [ ! -x /usr/bin/isql-vt ] || [ ! -x /usr/sbin/nginx ]; then
    echo "== backends: installing Debian's virtuoso-opensource and nginx-light"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
        virtuoso-opensource nginx-light >/dev/null
fi
