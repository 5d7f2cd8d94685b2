#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this). Sets up first (a no-op when up to date).
#   bash tools/test.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash tools/setup.sh
# VIRTUAL_ENV names the same .venv: one activated elsewhere made IPython warn in every notebook's process
export PATH="$ROOT/.venv/bin:$PATH" VIRTUAL_ENV="$ROOT/.venv" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0
# Real corpora beside the project (../shared/data), when present: tests that need them read this variable.
if [ -z "${EMODARTS_SHARED_DATA:-}" ] && [ -d "$ROOT/../shared/data" ]; then
  export EMODARTS_SHARED_DATA=$(cd "$ROOT/../shared/data" && pwd)
fi
step() { printf '\n=== %s\n' "$*"; }

step "1/3 notebooks, package and README in sync (nbdev-export, nbdev-clean, tools/readme.py change nothing)"
snapshot() { git status --porcelain; git diff; }
before=$(snapshot)
nbdev-export
nbdev-clean
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAILED: nbdev-export or nbdev-clean changed files. Run them, review, and commit:"
  diff <(echo "$before") <(echo "$after") | grep '^>' | head -40
  exit 1
fi
python tools/readme.py --check
echo "in sync"

step "2/3 notebooks as tests, and the documentation site (tools/docs.sh)"
# Every notebook runs once here: the docs build executes each code cell that `nbdev-test` would (same tst_flags,
# same skip_exec) in a fresh kernel per notebook, and fails on the first cell that raises, naming the notebook, the
# cell and the error, as nbdev-test does. Running nbdev-test as well would execute every notebook a second time.
# The site is rendered offline into _docs/, KaTeX and plotly bundled.
bash tools/docs.sh "$ROOT/_docs"
# tests/test_docs_site.py (step 3) checks this build in Chromium: links (relative and to the own site) resolve,
# nothing loads from another host, maths typeset, no widget repr, every page keeps its opening text, nothing
# clipped past the content column, padded tables, parameter tables on the API pages
export EMODARTS_DOCS_SITE="$ROOT/_docs"

step "3/3 pytest tests/ (PYTEST_WORKERS processes, default: one per core; tests that start Ray share one)"
set +e
python -m pytest tests/ -q -rs -p no:cacheprovider -n "${PYTEST_WORKERS:-auto}" --dist loadgroup --durations 15
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "FAILED: pytest collected no tests (exit 5); tests/ must not be empty."; exit 1; fi
exit $rc
