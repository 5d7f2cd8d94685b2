#!/usr/bin/env bash
# Build the documentation site from the notebooks, offline.
#
#   bash tools/docs.sh            # site in _docs/ (open _docs/index.html, or: python -m http.server -d _docs)
#   bash tools/docs.sh SITE_DIR   # site in SITE_DIR
#
# Steps (tools/docs_build.py says more): (1) process every notebook of nbs/ with nbdev's documentation processors
# into _proc/ (DOCS_PROC to change), *executing every code cell* so that tables, plotly figures and graphviz graphs
# are in the outputs (the committed notebooks keep none: an executed plotly figure embeds ~4.7 MB of plotly.js);
# cells flagged with pyproject's `tst_flags` (slow, real_data, notest) and notebooks with `skip_exec: true` in their
# frontmatter (tutorial 7) are not run, nor are any cells of notebooks left out by DOCS_FILE_RE; links to the
# project's own site become relative, widgets become their static view, `show_doc` gets parameter tables;
# (2) render _proc/ with Quarto when it is installed (DOCS_RENDERER=quarto or smalldocs to choose), else with
# smalldocs; (3) bundle KaTeX (Debian's libjs-katex, or KATEX_DIR) and plotly.min.js into the site: no CDN, the
# maths and figures render offline.
# Environment: DOCS_JOBS (notebooks executed in parallel, default 2), DOCS_FILE_RE (only the notebooks whose
# path matches this regex are executed; the others are shown as written, without outputs; for quick checks).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[ -x .venv/bin/python ] && export PATH="$ROOT/.venv/bin:$PATH" VIRTUAL_ENV="$ROOT/.venv"   # as tools/test.sh does
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1} PYTHONHASHSEED=0
SITE=$(python -c 'import os,sys; print(os.path.abspath(sys.argv[1]))' "${1:-_docs}")
PROC=$(python -c 'import os,sys; print(os.path.abspath(sys.argv[1]))' "${DOCS_PROC:-_proc}")
RENDERER=${DOCS_RENDERER:-$(command -v quarto >/dev/null 2>&1 && echo quarto || echo smalldocs)}
t0=$(date +%s)
python tools/docs_build.py check-katex

echo "=== 1/3 process and execute the notebooks into $PROC"
python tools/docs_build.py proc "$ROOT/nbs" "$PROC"

echo "=== 2/3 render with $RENDERER into $SITE"
rm -rf "$SITE"
if [ "$RENDERER" = quarto ]; then
  quarto render "$PROC" --output-dir "$SITE"
else
  out=$(python -c 'import yaml,sys; print((yaml.safe_load(open(sys.argv[1])).get("project") or {}).get("output-dir") or "_site")' "$PROC/nbdev.yml")
  # nbdev's `output-file` (pages named without the number) is Quarto's; smalldocs keeps the notebooks' names
  smalldocs render "$PROC" 2>&1 | { grep -v "output-file is not read by smalldocs" || true; }
  mv "$PROC/$out" "$SITE"
fi

echo "=== 3/3 offline assets: KaTeX and plotly.js into the site"
python tools/docs_build.py finish "$SITE"
echo "site: $SITE ($(find "$SITE" -name '*.html' | wc -l) pages, $(du -sh "$SITE" | cut -f1)) in $(( $(date +%s) - t0 )) s"
