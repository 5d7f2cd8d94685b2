"""The two Python steps of `tools/docs.sh` (run it, not this file).

    python tools/docs_build.py proc NBS PROC     # notebooks -> executed, processed notebooks in PROC
    python tools/docs_build.py finish SITE       # after rendering: bundle KaTeX and plotly.js into SITE

`proc` runs nbdev's documentation processors on every notebook of NBS and, unlike `nbdev-proc-nbs`:
* executes every code cell a test run would run (not only the imports and `show_doc`), so that tables, plotly
  figures and graphviz graphs are in the outputs; plotly figures are kept as HTML that loads the site's own
  plotly.min.js; notebooks left out by DOCS_FILE_RE (a regex on the path) are shown without outputs;
* gives `show_doc` a parameter table (name, type, default, and the documented argument when there is one);
* makes links to the project's own site (nbdev writes `https://<doc_host>/<baseurl>/api/<module>.html#sym`)
  relative links to the notebook that documents them (`../api/22_search.ipynb#sym`), which Quarto and
  smalldocs both turn into the page they build from it; a backticked command or preset name that is also a
  function's name (`emodarts`) is not linked, nor is a private name (`_finish`: it has no show_doc);
* shows a widget by the static HTML it offers (its `text/html`, e.g. `SearchExplorer`'s saved view), or by a
  note that it needs a running kernel, never by its `VBox(children=...` text.
`finish` copies KaTeX (Debian's libjs-katex, or KATEX_DIR) and plotly.min.js into SITE and points every page at
them instead of a CDN, and drops the theme's remote web-font import, so that the site works offline.
"""
import os, re, sys, shutil, time, traceback, multiprocessing as mp
from pathlib import Path

PLOTLY = "application/vnd.plotly.v1+json"
WIDGET = "application/vnd.jupyter.widget-view+json"
KERNEL_NOTE = ('<p class="emodarts-static-note"><em>An interactive widget: it needs a running Python kernel. '
               'Open this notebook in JupyterLab and run it to use it.</em></p>')
# Run in each notebook's kernel before its cells: plotly figures as their JSON (turned into HTML here), and
# `show_doc` with a parameter table from the signature and the documented arguments (fastcore's docments).
KERNEL_SETUP = r'''
import plotly.io as _pio; _pio.renderers.default = "plotly_mimetype"
from nbdev import showdoc as _sd
from fastcore.docments import DocmentTbl as _DT
def _param_table(fn):
    try: t = _DT(fn)
    except Exception: return ""
    cols = t._columns
    if not t.params or not cols: return ""
    rows = [t.hdr_str, t.params_str] + ([t.return_str] if t.has_return else [])
    return "\n\n" + "\n".join(rows)
if not getattr(_sd.BasicMarkdownRenderer, "_emodarts_params", False):
    _md0 = _sd.BasicMarkdownRenderer._repr_markdown_
    _sd.BasicMarkdownRenderer._repr_markdown_ = lambda self: _md0(self) + _param_table(self.sym)
    _sd.BasicMarkdownRenderer._emodarts_params = True
'''


def site_url() -> str:
    "The project's published address, as nbdev writes it into links: doc_host + doc_baseurl, with a final /."
    from nbdev.config import get_config
    cfg = get_config()
    return (str(cfg.get("doc_host", "") or "").rstrip("/") + "/" + str(cfg.get("doc_baseurl", "") or "").strip("/") + "/").replace(":///", "://")


def module_pages(nbs: Path) -> dict:
    "`api/<module>.html` (nbdev's page name) -> the notebook that exports the module, relative to `nbs`."
    pages = {}
    for nb in nbs.rglob("*.ipynb"):
        m = re.search(r"#\|\s*default_exp\s+([\w.]+)", nb.read_text(errors="replace"))
        if m:
            rel = nb.relative_to(nbs)
            pages[(rel.parent / (m.group(1).split(".")[-1] + ".html")).as_posix()] = rel.as_posix()
            pages[(rel.parent / (rel.stem + ".html")).as_posix()] = rel.as_posix()
    return pages


def unlinked_names() -> set:
    "Command and preset names that are also function names: a backticked one names the command, not the function."
    import tomllib
    root = Path(__file__).resolve().parents[1]
    py = tomllib.loads((root / "pyproject.toml").read_text())
    return set(py.get("project", {}).get("scripts", {})) | {"tiny", "cpu", "emodarts"}


def relink(text: str, page: str, url: str, pages: dict, plain: set) -> str:
    "Links in markdown/HTML `text` of notebook `page` (relative path): own-site links relative; no link on `plain` names."
    def own(m):
        path, frag = m.group(1), m.group(2) or ""
        target = pages.get(path.split("?")[0], path or "index.html")
        rel = os.path.relpath(target, os.path.dirname(page) or ".")
        return rel + frag
    text = re.sub(re.escape(url) + r"([^\s)\"'#<>]*)(#[^\s)\"'<>]*)?", own, text)
    names = "|".join(map(re.escape, sorted(plain)))
    if names: text = re.sub(rf"\[(`(?:{names})`)\]\([^)\s]*\)", r"\1", text)
    # a private name (`_finish`, `Cls._step`) has no show_doc, hence no anchor to link to
    return re.sub(r"\[(`(?:[\w.]+\.)?_(?!_)\w*(?:\(\))?`)\]\([^)\s]*\)", r"\1", text)


# ---- proc: one worker per notebook

SRC = PROC = None
page = {}   # this worker's notebook: depth below the site root, plotly.js already loaded, run or not


def plotly_script() -> str:
    "The <script> that loads the site's plotly.min.js, the first time a page needs it ('' after)."
    if page["js"]: return ""
    page["js"] = True
    return f'<script src="{"../" * page["depth"]}plotly.min.js" charset="utf-8"></script>\n'


def plotly_html(fig: dict) -> str:
    import plotly.io as pio
    return plotly_script() + pio.to_html(fig, include_plotlyjs=False, full_html=False, config=dict(responsive=True))


def static_outputs(cell):
    "Plotly JSON -> HTML; a widget -> its static HTML (or a note)."
    for o in cell.get("outputs", []):
        data = o.get("data") or {}
        if PLOTLY in data:
            o["data"] = {"text/html": plotly_html(data[PLOTLY]), "text/plain": "<plotly figure>"}
        elif WIDGET in data:
            html = data.get("text/html")
            html = "".join(html) if isinstance(html, list) else html
            if html and "plotly-graph-div" in html: html = plotly_script() + html
            o["data"] = {"text/html": html or KERNEL_NOTE}


def own_links(cell):
    "After nbdev's `add_links`: own-site links relative, in markdown cells and in markdown or HTML outputs."
    fix = lambda v: relink("".join(v) if isinstance(v, list) else v, page["name"], page["url"], page["pages"], page["plain"])
    if cell.cell_type == "markdown": cell.source = fix(cell.source)
    for o in cell.get("outputs", []):
        for k in ("text/markdown", "text/html"):
            if k in (o.get("data") or {}): o["data"][k] = fix(o["data"][k])


def make_procs():
    from fastcore.nbio import does_cell_eval, fm_default_eval
    from fastcore.basics import str2bool
    from nbdev.processors import FilterDefaults, exec_show_docs, add_links
    flags = page["flags"]

    class exec_all(exec_show_docs):
        "Like nbdev's `exec_show_docs`, but run every code cell a test run would run; outputs made static."
        def begin(self):
            if not page["run"]: return                # no kernel: nothing of this notebook runs
            super().begin()
            if hasattr(self, "k"): self.k.run_cell(KERNEL_SETUP)
        def __call__(self, cell):
            fm = getattr(self.nb, "frontmatter_", {}) or {}
            if not page["run"] or str2bool(fm.get("skip_exec", False)): return   # shown as written, outputs empty
            if not hasattr(self, "k") or cell.cell_type != "code" or not cell.source.strip(): return
            if not does_cell_eval(cell, fm_default_eval(fm)) or flags & set(getattr(cell, "directives_", {}) or {}): return
            self.k.cell(cell)
            if (e := self.k.exc):
                raise Exception(f"{page['name']}: error in cell {cell.idx_}:\n{cell.source}\n{type(e).__name__}: {e}") from e
            static_outputs(cell)

    class DocsProcs(FilterDefaults):
        def base_procs(self):
            procs = [exec_all if p is exec_show_docs else p for p in super().base_procs()]
            return procs[:procs.index(add_links) + 1] + [own_links] + procs[procs.index(add_links) + 1:]
    return DocsProcs


def process(src: Path):
    from fastcore.nbio import read_nb, write_nb
    rel = src.relative_to(SRC); dst = PROC/rel
    only = os.environ.get("DOCS_FILE_RE")
    page.update(depth=len(rel.parts) - 1, js=False, name=rel.as_posix(), run=only is None or bool(re.search(only, str(rel))))
    os.chdir(src.parent); os.environ["IN_TEST"] = "1"
    t = time.time()
    try:
        nb = read_nb(src); make_procs()()(nb)
        nb.metadata.pop("widgets", None)          # the widgets' saved state: shown statically, not needed
        dst.parent.mkdir(parents=True, exist_ok=True); write_nb(nb, dst)
    except Exception:
        return str(rel), time.time() - t, traceback.format_exc(limit=3)
    return str(rel), time.time() - t, None


def proc(src: str, dst: str):
    global SRC, PROC
    from nbdev.doclinks import nbglob
    from nbdev.config import get_config
    SRC, PROC = Path(src).resolve(), Path(dst).resolve()
    page.update(url=site_url(), pages=module_pages(SRC), plain=unlinked_names(),
                flags=set(str(get_config().get("tst_flags", "") or "").split()))   # read here, from the project's pyproject
    if PROC.exists(): shutil.rmtree(PROC)
    for f in SRC.rglob("*"):            # configuration, styles, images: as nbdev-proc-nbs copies them
        rel = f.relative_to(SRC)
        if f.is_file() and f.suffix != ".ipynb" and not any(p[0] == "." or p in ("_proc", "_docs", "_site") for p in rel.parts):
            (PROC/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, PROC/rel)
    # the long ones first (the tutorials, last first, then the explanations), so that the short API notebooks fill
    # the other workers' time instead of one worker running the longest notebook alone at the end
    group = lambda p: 0 if "tutorials" in p.parts else 1 if "explanations" in p.parts else 2
    nbs = sorted(sorted(nbglob(SRC, func=Path, skip_folder_re=r"^[_.]"), reverse=True), key=group)
    # imported once here, before forking, so that each notebook's process starts with them loaded; nbformat.v4
    # (which nbdev's processing imports, 1.3 s) and the rest of the second line were 1.4 s of every notebook's process;
    # torch._dynamo, which torch.optim imports when a notebook builds its first optimizer, 2 s
    import importlib, pkgutil, emodarts_nb, IPython.core.interactiveshell, torch, pandas, plotly.graph_objects  # noqa
    import nbformat.v4, nbdev.processors, execnb.shell, ipywidgets, plotly.subplots, plotly.io, graphviz  # noqa
    import torch._dynamo  # noqa
    for m in pkgutil.iter_modules(emodarts_nb.__path__):
        try: importlib.import_module(f"emodarts_nb.{m.name}")
        except Exception: pass                  # the notebook that imports it reports the error
    # one fresh process per notebook (forked: nothing is imported twice); one that dies fails the build, never hangs it
    ctx, jobs = mp.get_context("fork"), int(os.environ.get("DOCS_JOBS", "2"))
    def child(nb, w): w.send(process(nb)); w.close()
    pending, running, results = list(nbs), {}, []
    while pending or running:
        while pending and len(running) < jobs:
            nb = pending.pop(0); r, w = ctx.Pipe(False)
            p = ctx.Process(target=child, args=(nb, w)); p.start(); w.close(); running[p] = (nb, r, time.time())
        time.sleep(0.2)
        for p, (nb, r, t) in list(running.items()):
            try: got = r.recv() if r.poll() else None
            except EOFError: got = None                       # it died before sending
            if got: results.append(got); p.join()
            elif not p.is_alive(): results.append((str(nb.relative_to(SRC)), time.time() - t, f"its process died with exit code {p.exitcode}"))
            else: continue
            del running[p]
    results.sort()
    bad = [(n, e) for n, _, e in results if e]
    for n, s, e in results: print(f"  {n}: {s:.0f} s{' FAILED' if e else ''}")
    for n, e in bad: print(f"\n--- {n}\n{e}", file=sys.stderr)
    if bad: sys.exit(f"docs: {len(bad)} notebook(s) failed to run: {', '.join(n for n, _ in bad)}")


# ---- finish: offline assets

KATEX_CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/katex@[^/\"']+/dist/([\w./-]+)")


def katex_dir() -> Path:
    "KaTeX's dist folder: KATEX_DIR, else Debian's libjs-katex; exits with what to install when neither is there."
    for d in (os.environ.get("KATEX_DIR"), "/usr/share/javascript/katex"):
        if d and (Path(d) / "katex.min.css").is_file() and (Path(d) / "contrib" / "auto-render.js").is_file():
            return Path(d)
    sys.exit("docs: KaTeX not found, and the site must render its maths offline. Install Debian's libjs-katex "
             "(`apt-get install -y libjs-katex`, which tools/setup.sh does), or set KATEX_DIR to the dist/ folder "
             "of the npm package katex (`npm install katex`: node_modules/katex/dist).")


def finish(site: str):
    site = Path(site)
    kd, libs = katex_dir(), site / "site_libs"
    dst = libs / "katex"
    if dst.exists(): shutil.rmtree(dst)
    dst.mkdir(parents=True)
    js = kd / "katex.min.js" if (kd / "katex.min.js").exists() else kd / "katex.js"
    shutil.copy(js.resolve(), dst / "katex.min.js")
    shutil.copy(kd / "katex.min.css", dst / "katex.min.css")
    (dst / "contrib").mkdir()
    ar = kd / "contrib" / ("auto-render.min.js" if (kd / "contrib" / "auto-render.min.js").exists() else "auto-render.js")
    shutil.copy(ar.resolve(), dst / "contrib" / "auto-render.min.js")
    shutil.copytree((kd / "fonts").resolve(), dst / "fonts", dirs_exist_ok=True)
    n = 0
    for f in site.rglob("*.html"):
        text = f.read_text(errors="replace")
        up = "../" * (len(f.relative_to(site).parts) - 1)
        new = KATEX_CDN.sub(lambda m: f"{up}site_libs/katex/{m.group(1)}", text)
        if new != text: f.write_text(new); n += 1
    for css in libs.rglob("*.css"):       # the theme's web font (Google Fonts): system fonts instead, offline
        text = css.read_text(errors="replace")
        new = re.sub(r"@import\s+url\(\s*[\"']?https?://[^)]*\)\s*;?", "", text)
        if new != text: css.write_text(new)
    import plotly
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", site / "plotly.min.js")
    print(f"  KaTeX from {kd} in site_libs/katex ({n} pages with maths), plotly.min.js")


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"proc": proc, "finish": finish, "check-katex": katex_dir}[cmd](*args)
