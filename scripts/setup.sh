#!/usr/bin/env bash
# Installs what tfjs-facenet's examples and tests need on a fresh machine that has only
# Node, npm, python3 and g++: npm dependencies (from the lockfile) and, as root, Debian's
# ffmpeg and chromium for the webcam examples and browser tests. Idempotent and quiet.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]} from Debian" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install ${need_apt[*]} (needed by the webcam examples and browser tests)" >&2
  fi
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.tfjs-facenet-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi
