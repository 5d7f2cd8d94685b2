#!/usr/bin/env bash
# Build the documentation site from the notebooks, offline.
#
#   bash tools/docs.sh            # site in _docs/ (open _docs/index.html, or: python -m http.server -d _docs)
#   bash tools/docs.sh SITE_DIR   # site in SITE_DIR
#
# Steps: (1) process every notebook of nbs/ with nbdev's documentation processors into _proc/ (DOCS_PROC to
# change), *executing every code cell* so that tables, plotly figures and graphviz graphs are in the outputs
# (the committed notebooks keep none: an executed plotly figure embeds ~4.7 MB of plotly.js); cells flagged
# with pyproject's `tst_flags` (slow, real_data, notest) and notebooks with `skip_exec: true` in their
# frontmatter (tutorial 7) are not run, nor are any cells of notebooks left out by DOCS_FILE_RE; (2) render _proc/ with Quarto when it is installed (DOCS_RENDERER=quarto
# or smalldocs to choose), else with smalldocs; (3) copy plotly.min.js beside the pages, which load it once each.
# Environment: DOCS_JOBS (notebooks executed in parallel, default 2), DOCS_FILE_RE (only the notebooks whose
# path matches this regex are executed; the others are shown as written, without outputs; for quick checks).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[ -x .venv/bin/python ] && export PATH="$ROOT/.venv/bin:$PATH"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1} PYTHONHASHSEED=0
SITE=$(python -c 'import os,sys; print(os.path.abspath(sys.argv[1]))' "${1:-_docs}")
PROC=$(python -c 'import os,sys; print(os.path.abspath(sys.argv[1]))' "${DOCS_PROC:-_proc}")
RENDERER=${DOCS_RENDERER:-$(command -v quarto >/dev/null 2>&1 && echo quarto || echo smalldocs)}
t0=$(date +%s)

echo "=== 1/3 process and execute the notebooks into $PROC"
python - "$ROOT/nbs" "$PROC" <<'PY'
import os, re, sys, shutil, time, traceback, multiprocessing as mp
from pathlib import Path
from fastcore.nbio import read_nb, write_nb, does_cell_eval, fm_default_eval
from fastcore.basics import str2bool
from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.processors import FilterDefaults, exec_show_docs

SRC, PROC = Path(sys.argv[1]), Path(sys.argv[2])
FLAGS = set(str(get_config().get("tst_flags", "") or "").split())
ONLY = os.environ.get("DOCS_FILE_RE")
PLOTLY = "application/vnd.plotly.v1+json"
page = {}   # this worker's notebook: depth below the site root, plotly.js already loaded

def plotly_html(fig: dict) -> str:
    "A plotly figure as HTML; the first one of a page loads plotly.min.js from the site root."
    import plotly.io as pio
    js = False if page["js"] else "../" * page["depth"] + "plotly.min.js"
    page["js"] = True
    return pio.to_html(fig, include_plotlyjs=js, full_html=False, config=dict(responsive=True))

class exec_all(exec_show_docs):
    "Like nbdev's `exec_show_docs`, but run every code cell a test run would run, and keep plotly figures as HTML."
    def begin(self):
        if not page["run"]: return                # no kernel: nothing of this notebook runs
        super().begin()
        if hasattr(self, "k"): self.k.run_cell('import plotly.io as _pio; _pio.renderers.default = "plotly_mimetype"')
    def __call__(self, cell):
        fm = getattr(self.nb, "frontmatter_", {}) or {}
        if not page["run"] or str2bool(fm.get("skip_exec", False)): return   # shown as written, outputs empty
        if not hasattr(self, "k") or cell.cell_type != "code" or not cell.source.strip(): return
        if not does_cell_eval(cell, fm_default_eval(fm)) or FLAGS & set(getattr(cell, "directives_", {}) or {}): return
        self.k.cell(cell)
        if (e := self.k.exc):
            raise Exception(f"{page['name']}: error in cell {cell.idx_}:\n{cell.source}\n{type(e).__name__}: {e}") from e
        for o in cell.get("outputs", []):
            if PLOTLY in (o.get("data") or {}):
                o["data"] = {"text/html": plotly_html(o["data"][PLOTLY]), "text/plain": "<plotly figure>"}

class DocsProcs(FilterDefaults):
    def base_procs(self): return [exec_all if p is exec_show_docs else p for p in super().base_procs()]

def process(src: Path):
    rel = src.relative_to(SRC); dst = PROC/rel
    page.update(depth=len(rel.parts) - 1, js=False, name=str(rel), run=ONLY is None or bool(re.search(ONLY, str(rel))))
    os.chdir(src.parent); os.environ["IN_TEST"] = "1"
    t = time.time()
    try:
        nb = read_nb(src); DocsProcs()(nb)
        dst.parent.mkdir(parents=True, exist_ok=True); write_nb(nb, dst)
    except Exception:
        return str(rel), time.time() - t, traceback.format_exc(limit=3)
    return str(rel), time.time() - t, None

if __name__ == "__main__":
    if PROC.exists(): shutil.rmtree(PROC)
    for f in SRC.rglob("*"):            # configuration, styles, images: as nbdev-proc-nbs copies them
        rel = f.relative_to(SRC)
        if f.is_file() and f.suffix != ".ipynb" and not any(p[0] == "." or p in ("_proc", "_docs", "_site") for p in rel.parts):
            (PROC/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, PROC/rel)
    nbs = sorted(nbglob(SRC, func=Path, skip_folder_re=r"^[_.]"))
    with mp.get_context("fork").Pool(int(os.environ.get("DOCS_JOBS", "2")), maxtasksperchild=1) as pool:
        results = pool.map(process, nbs, chunksize=1)
    bad = [(n, e) for n, _, e in results if e]
    for n, s, e in results: print(f"  {n}: {s:.0f} s{' FAILED' if e else ''}")
    for n, e in bad: print(f"\n--- {n}\n{e}", file=sys.stderr)
    if bad: sys.exit(f"docs: {len(bad)} notebook(s) failed to run: {', '.join(n for n, _ in bad)}")
PY

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

echo "=== 3/3 plotly.js"
cp "$(python -c 'import plotly, os; print(os.path.join(os.path.dirname(plotly.__file__), "package_data", "plotly.min.js"))')" "$SITE/"
echo "site: $SITE ($(find "$SITE" -name '*.html' | wc -l) pages, $(du -sh "$SITE" | cut -f1)) in $(( $(date +%s) - t0 )) s"
