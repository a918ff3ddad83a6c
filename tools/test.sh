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

setup() {  # the environment, then what it resolved to: trained models (and so some notebooks' numbers) move with both
  bash tools/setup_env.sh || return
  "$BIN/python" -m pip freeze 2>/dev/null > "$ART/pip-freeze.txt"
  "$BIN/python" - <<'PY'
import importlib.metadata as md, platform, torch
pk = ['torch', 'numpy', 'scipy', 'pandas', 'timm', 'transformers', 'diffusers', 'monai', 'captum', 'fastai', 'scikit-image', 'pillow']
print('resolved:', ', '.join(f'{p} {md.version(p)}' for p in pk))
print(f'cpu: {platform.machine()}, torch kernels for {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads')
PY
}

tree_state() { git status --porcelain; git diff; }

changes_nothing() {  # changes_nothing "WHAT IT MEANS" COMMAND...: run it; fail if it changed the working tree
  local what=$1; shift
  local before; before=$(tree_state)
  "$@" >/dev/null || { echo "$* failed"; return 1; }
  local after; after=$(tree_state)
  if [ "$before" != "$after" ]; then
    echo "$what: '$*' changed files (run 'make export' and commit):"
    diff <(echo "$before") <(echo "$after") | head -40; return 1
  fi
}

sync_gate() {
  # export, docs-config refresh and clean must change nothing: else mdrdx/ is not the export of nbs/,
  # README.md / sidebar.yml are stale, or the notebooks are not clean
  if [ "${CI:-}" = "true" ] && [ -n "$(git status --porcelain)" ]; then
    echo "the checkout is not clean before the sync gate:"; git status --porcelain; return 1
  fi
  changes_nothing "library not in sync with notebooks" "$BIN/nbdev_export" &&
  changes_nothing "docs config or README.md stale" "$BIN/python" tools/build_docs.py --sync &&
  changes_nothing "notebooks not clean" "$BIN/nbdev_clean" &&
  echo "mdrdx/ equals the export of nbs/, README.md and the sidebar are current, and the notebooks are clean"
}

# nbdev_test's tests, each notebook in a fresh process (tools/test_nbs.py says why); 2 at once x 1 thread on 2 cores
notebooks() { OMP_NUM_THREADS=1 "$BIN/python" tools/test_nbs.py --n_workers 2; }

# Every notebook once more with torch on 2 threads (its default on a 2-core machine), one at a time: sums spread over
# threads run in another order, so a test that holds only for one thread's rounding fails here (about 15 minutes)
threads() { OMP_NUM_THREADS=2 "$BIN/python" tools/test_nbs.py --n_workers 1; }

unit_tests() {
  if ! ls tests/test_*.py >/dev/null 2>&1; then echo "tests/ holds no test_*.py: nothing for pytest"; return 0; fi
  "$BIN/python" -m pytest -q -p no:cacheprovider tests
}

experiments() { "$BIN/python" tools/run_experiments.py --smoke --out "$ART/experiments"; }

package() {
  # build the wheel and install it, with its dependencies, into a clean venv: import and console script must work.
  # The clean venv holds a second torch (~6.5 GB); it is deleted when the stage ends, pass or fail.
  local free_gb
  free_gb=$(df -Pk "$ART" | awk 'NR==2 {print int($4 / 1048576)}')
  echo "free disk under $ART: ${free_gb} GB (the clean venv needs about 7)"
  if [ "$free_gb" -lt 8 ]; then echo "package stage: not enough free disk for a clean venv (${free_gb} GB < 8 GB)" >&2; return 1; fi
  rm -rf "$ART/dist" "$ART/venv"
  "$BIN/python" -m pip wheel --quiet --no-deps -w "$ART/dist" . \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) || return 1
  package_checks; local rc=$?
  rm -rf "$ART/venv"
  return $rc
}
package_checks() {
  python3 -m venv "$ART/venv" || return 1
  "$ART/venv/bin/python" -m pip install --quiet --no-cache-dir "$ART"/dist/mdrdx-*.whl \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) || return 1
  (cd "$ART" && "$ART/venv/bin/python" -c "import mdrdx, mdrdx.core; print('import mdrdx', mdrdx.__version__, 'from', mdrdx.__file__)") || return 1
  # package data must be in the wheel: the shipped knowledge graphs load
  (cd "$ART" && "$ART/venv/bin/python" -c "from mdrdx.knowledge import KnowledgeGraph as K; print([K.load(n) for n in ('phantom', 'chexpert', 'alzheimers')])") || return 1
  (cd "$ART" && "$ART/venv/bin/mdrdx" --help) || return 1
  # with the offline-data extra, the phantom release builds from its seed in the clean venv (no network: HF_HUB_OFFLINE)
  # and, loaded back with load_pretrained, reproduces every metric and probability its model card stores
  local whl; whl=$(ls "$ART"/dist/mdrdx-*.whl)
  "$ART/venv/bin/python" -m pip install --quiet --no-cache-dir "${whl}[data]" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) || return 1
  (cd "$ART" && MDRDX_CACHE="$ART/cache" "$ART/venv/bin/python" -c "
from mdrdx.pretrained import check_pretrained
d = check_pretrained('phantom')
print(d.round(6))
assert (d['difference'] < 1e-6).all(), 'the phantom release does not reproduce its model card'") || return 1
}

docs() {
  "$BIN/python" tools/build_docs.py --out "$ART/site" && "$BIN/python" tools/check_docs.py --site "$ART/site" --shots "$ART/screenshots"
}

# `tools/test.sh` runs every stage; `tools/test.sh docs pytest` only the stages named
all_stages=(setup:setup sync-gate:sync_gate nbdev-test:notebooks threads:threads pytest:unit_tests experiments:experiments package:package docs:docs)
for s in "${all_stages[@]}"; do
  name=${s%%:*}
  if [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; then stage "$name" "${s##*:}"; fi
done
table
printf '\nstages: %s passed, 0 failed\n' "${#names[@]}"
