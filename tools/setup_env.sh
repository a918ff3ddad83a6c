#!/usr/bin/env bash
# Create (or reuse) the project-local virtual environment .venv and install mdrdx into it, editable, with the
# dev, data and experiments extras. Reinstalls only when settings.ini, setup.py or this script changed since the last run.
# Touches only the package registries (pip, and apt for the headless browser the docs check needs).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MDRDX_VENV:-.venv}
PYTHON=${PYTHON:-python3}

"$PYTHON" - <<'PY' || { echo "mdrdx needs Python >= 3.10 (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)
PY

pipq() {  # pip, quiet, without the noise of find-links folders this machine's pip.conf names but lacks
  "$VENV/bin/python" -m pip "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

[ -x "$VENV/bin/python" ] || { echo "== creating $VENV"; "$PYTHON" -m venv "$VENV"; }
stamp="$VENV/.mdrdx-installed"
want=$(cat settings.ini setup.py tools/setup_env.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "== $VENV is up to date"
else
  echo "== installing mdrdx (editable, dev + data + experiments extras) into $VENV"
  pipq install --quiet --upgrade pip
  # torch/torchvision first and alone: the pinned pair, so nothing else drags in a different build
  pipq install --quiet "torch==2.14.1" "torchvision==0.29.1"
  pipq install --quiet -e ".[dev,data,experiments]"
  # the IU chest X-ray reports ship as data files inside torchxrayvision; its dependencies are not needed
  pipq install --quiet --no-deps "torchxrayvision>=1.2"
  echo "$want" > "$stamp"
fi

# headless Chromium for the docs' browser check (Debian package; needs root or an existing install)
if [ "${MDRDX_NO_BROWSER:-0}" != "1" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the docs browser check"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is not installed and this user cannot apt-get it: install Debian's 'chromium' package," >&2
    echo "or set MDRDX_NO_BROWSER=1 to set up without it (the docs browser check will then fail, not skip)." >&2
    exit 1
  fi
fi
