#!/usr/bin/env bash
# README's test command runs this (via `make test`), and so does CI (.ci/run). Stages run in order and the
# first failure stops the run loudly; a table of each stage's wall time is printed either way.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${MDRDX_VENV:-.venv}
BIN="$VENV/bin"
ART=${MDRDX_ARTIFACTS:-$(mktemp -d /tmp/mdrdx-test.XXXXXX)}
mkdir -p "$ART"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

names=(); secs=(); results=()
table() {
  printf '\n== stage timings (artifacts in %s)\n' "$ART"
  printf '%-14s %-6s %9s\n' stage result seconds
  local total=0
  for i in "${!names[@]}"; do
    printf '%-14s %-6s %9s\n' "${names[$i]}" "${results[$i]}" "${secs[$i]}"
    total=$((total + secs[$i]))
  done
  printf '%-14s %-6s %9s\n' total "" "$total"
}
stage() {  # stage NAME COMMAND...: run it, time it, stop everything if it fails
  local name=$1; shift
  printf '\n== stage %s\n' "$name"
  local t0=$SECONDS
  "$@"; local rc=$?
  names+=("$name"); secs+=($((SECONDS - t0)))
  if [ $rc -ne 0 ]; then
    results+=(FAIL); table
    printf '\nFAILED at stage %s (exit %s)\nstages: %s passed, 1 failed\n' "$name" "$rc" "$((${#names[@]} - 1))"
    exit 1
  fi
  results+=(ok)
}

setup() { bash tools/setup_env.sh; }

sync_gate() {
  # export + clean must change nothing: otherwise mdrdx/ is not the export of nbs/, or notebooks are not clean
  if [ "${CI:-}" = "true" ] && [ -n "$(git status --porcelain)" ]; then
    echo "the checkout is not clean before the sync gate:"; git status --porcelain; return 1
  fi
  local before after
  before=$(git status --porcelain; git diff)
  "$BIN/nbdev_export" || { echo "nbdev_export failed"; return 1; }
  after=$(git status --porcelain; git diff)
  if [ "$before" != "$after" ]; then
    echo "library not in sync with notebooks: nbdev_export changed these files (run 'make export' and commit):"
    diff <(echo "$before") <(echo "$after") | head -40; return 1
  fi
  "$BIN/python" tools/build_docs.py --sync >/dev/null || { echo "refreshing the docs config and README.md failed"; return 1; }
  after=$(git status --porcelain; git diff)
  if [ "$before" != "$after" ]; then
    echo "docs config or README.md stale: nbs/index.ipynb, nbs/sidebar.yml or nbdev.yml changed without them (run 'make export' and commit):"
    diff <(echo "$before") <(echo "$after") | head -40; return 1
  fi
  "$BIN/nbdev_clean" || { echo "nbdev_clean failed"; return 1; }
  after=$(git status --porcelain; git diff)
  if [ "$before" != "$after" ]; then
    echo "notebooks not clean: nbdev_clean changed these files (run 'make export' and commit):"
    diff <(echo "$before") <(echo "$after") | head -40; return 1
  fi
  echo "mdrdx/ equals the export of nbs/, and the notebooks are clean"
}

notebooks() { "$BIN/nbdev_test" --n_workers 2 --timing; }

unit_tests() {
  if ! ls tests/test_*.py >/dev/null 2>&1; then echo "tests/ holds no test_*.py: nothing for pytest"; return 0; fi
  "$BIN/python" -m pytest -q -p no:cacheprovider tests
}

experiments() { "$BIN/python" tools/run_experiments.py --smoke --out "$ART/experiments"; }

package() {
  # build the wheel and install it, with its dependencies, into a clean venv: import and console script must work
  rm -rf "$ART/dist" "$ART/venv"
  "$BIN/python" -m pip wheel --quiet --no-deps -w "$ART/dist" . \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) || return 1
  python3 -m venv "$ART/venv" || return 1
  "$ART/venv/bin/python" -m pip install --quiet "$ART"/dist/mdrdx-*.whl \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) || return 1
  (cd "$ART" && "$ART/venv/bin/python" -c "import mdrdx, mdrdx.core; print('import mdrdx', mdrdx.__version__, 'from', mdrdx.__file__)") || return 1
  (cd "$ART" && "$ART/venv/bin/mdrdx" --help) || return 1
}

docs() {
  "$BIN/python" tools/build_docs.py --out "$ART/site" && "$BIN/python" tools/check_docs.py --site "$ART/site" --shots "$ART/screenshots"
}

# `tools/test.sh` runs every stage; `tools/test.sh docs pytest` only the stages named
all_stages=(setup:setup sync-gate:sync_gate nbdev-test:notebooks pytest:unit_tests experiments:experiments package:package docs:docs)
for s in "${all_stages[@]}"; do
  name=${s%%:*}
  if [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; then stage "$name" "${s##*:}"; fi
done
table
printf '\nstages: %s passed, 0 failed\n' "${#names[@]}"
