r"""The documentation site, checked in a real browser.

Builds the site with `tools/docs.sh` (or uses one already built: set EMODARTS_DOCS_SITE to its folder), serves it
on 127.0.0.1 and opens every page in Debian's headless Chromium through Playwright. What it verifies:

* every page loads with status 200, no console error and no failed request to the site itself;
* the sidebar has the three Diátaxis sections;
* every link resolves inside the build: relative links, and absolute links to the project's own published site
  (`site-url` of nbs/nbdev.yml), each to an existing page and, with a `#fragment`, to an existing anchor;
* nothing is loaded from another host (scripts, stylesheets, fonts): the site works offline;
* maths is rendered (KaTeX, bundled): no page shows raw `\(`, `\[` or `$$` text, and every `.math` is typeset;
* no page shows a widget's repr text (`VBox(children=...`); the widgets' pages show their static view;
* each page carries its notebook's opening text (the first sentence after the title and summary);
* nothing is clipped: no figure, graph, table or image reaches beyond the content column unless it sits in a
  scrolling box, and no code block hides part of a line (measured in the browser, 1300 px wide);
* the executed tutorial pages contain their plotly figures (rendered) and graphviz graphs (inline SVG), and the
  executed API pages give parameter tables under their signatures.

To keep the test to a few minutes, the build it makes executes only the notebooks matching
EMODARTS_DOCS_FILE_RE (default: tutorials 1 and 2 and the explanations; `all` runs every notebook, as
`bash tools/docs.sh` does; with EMODARTS_DOCS_SITE it says which notebooks that build executed, default all). Skipped, with the reason, when Chromium or Playwright is missing.
"""
import functools, http.server, json, os, re, subprocess, sys, threading
from pathlib import Path
from urllib.parse import urljoin, urlparse, unquote
import pytest
import forked

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# One worker runs them all: the session fixture `visited` opens every page in Chromium (~35 s), once per worker.
pytestmark = pytest.mark.xdist_group("docs_site")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEFAULT_RE = r"tutorials/0[12]_|explanations/"
# tutorial page -> (plotly figures, graphviz graphs) it must show at least, when executed
FIGURES = {"01_darts_in_ten_minutes": (2, 2), "02_waveform_to_mfcc": (4, 0), "04_first_vs_second_order": (1, 0),
           "05_joint_vs_bilevel": (2, 0), "06_skip_collapse": (3, 0)}


def _browser_or_skip():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's Chromium (apt-get install -y chromium); "
                    "never `playwright install`")
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    "(site folder, regex of the executed notebooks)."
    _browser_or_skip()
    if given := os.environ.get("EMODARTS_DOCS_SITE"):
        assert (Path(given) / "index.html").exists(), f"EMODARTS_DOCS_SITE={given} holds no built site (index.html)"
        return Path(given), os.environ.get("EMODARTS_DOCS_FILE_RE", ".*")
    tmp = tmp_path_factory.mktemp("docs")
    file_re = os.environ.get("EMODARTS_DOCS_FILE_RE", DEFAULT_RE)
    env = {**os.environ, "DOCS_PROC": str(tmp / "proc"), "OMP_NUM_THREADS": "1"}
    if file_re != "all": env["DOCS_FILE_RE"] = file_re
    else: env.pop("DOCS_FILE_RE", None)
    r = subprocess.run(["bash", str(ROOT / "tools" / "docs.sh"), str(tmp / "site")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"tools/docs.sh failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}"
    return tmp / "site", (".*" if file_re == "all" else file_re)


@pytest.fixture(scope="session")
def server(site):
    "Base URL of the site served on 127.0.0.1 (random port), stopped at the end of the session."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    handler = functools.partial(Quiet, directory=str(site[0]))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown(); httpd.server_close()


@pytest.fixture(scope="session")
def visited(site, server):
    "Open every page once in Chromium; per page: status, console errors, figures, graphs, links, ids, sidebar text."
    sync_api = _browser_or_skip()
    pages = sorted(p.relative_to(site[0]).as_posix() for p in site[0].rglob("*.html") if "site_libs" not in p.parts)
    out = {}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            errors, failed = [], []
            # offline, resources on other hosts fail to load: "Failed to load resource" only matters for our own
            # URLs, which `requestfailed` and `response` catch
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
            page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            page.on("requestfailed", lambda r: failed.append(r.url) if r.url.startswith(server) else None)
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.url.startswith(server) and r.status >= 400 else None)
            outside = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((server, "data:", "blob:", "about:")) else None)
            page.set_viewport_size({"width": 1300, "height": 900})
            for rel in pages:
                errors.clear(); failed.clear(); outside.clear()
                resp = page.goto(server + rel, wait_until="load")
                if page.locator(".plotly-graph-div").count():      # let plotly draw
                    page.wait_for_selector(".js-plotly-plot", state="attached", timeout=20_000)
                try: page.wait_for_function(TYPESET_JS, timeout=5_000)   # KaTeX typesets on DOMContentLoaded + defer
                except sync_api.TimeoutError: pass                 # what is left untypeset, MEASURE_JS reports
                out[rel] = dict(outside=list(outside), **page.evaluate(MEASURE_JS),
                    status=resp.status if resp else None, errors=list(errors), failed=list(failed),
                    plotly=page.locator(".plotly-graph-div").count(), drawn=page.locator(".js-plotly-plot").count(),
                    svg=page.locator(".cell-output svg > g.graph").count(),   # graphviz (plotly draws svg too)
                    links=page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"),
                    sidebar=page.locator("#quarto-sidebar").text_content() if page.locator("#quarto-sidebar").count() else "")
        finally:
            browser.close()
    return out


# Every .math element holds KaTeX's output (at once on a page without maths)
TYPESET_JS = "() => [...(document.querySelector('main') || document.body).querySelectorAll('.math')].every(e => e.querySelector('.katex'))"

# Measured in the page: the main column's text, raw maths, unrendered .math, clipped elements, tables.
MEASURE_JS = r"""() => {
  const main = document.querySelector('main') || document.body;
  const col = main.getBoundingClientRect();
  const skip = el => el.closest('pre, code, script, style, .katex, textarea');
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n; (n = walker.nextNode());) {
    if (skip(n.parentElement)) continue;
    const m = n.textContent.match(/\\\(|\\\[|\$\$/);
    if (m) raw.push(n.textContent.trim().slice(0, 80));
  }
  const untypeset = [...main.querySelectorAll('.math')].filter(e => !e.querySelector('.katex')).map(e => e.textContent.slice(0, 60));
  const scrolls = el => { for (let a = el.parentElement; a && a !== main.parentElement; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return a.getBoundingClientRect().right <= col.right + 2; }
    return false; };
  const clipped = [];
  for (const el of main.querySelectorAll('pre, table, svg, img, .plotly-graph-div, .cell-output-display > *')) {
    if (el.closest('svg') && el.tagName.toLowerCase() === 'svg' && el.parentElement.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    const what = el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + String(el.className).split(' ')[0] : '');
    if (r.right > col.right + 2 && !scrolls(el)) clipped.push(`${what} reaches ${Math.round(r.right - col.right)}px past the column`);
    if (el.tagName === 'PRE' && el.scrollWidth > el.clientWidth + 2) clipped.push(`pre hides ${el.scrollWidth - el.clientWidth}px of its lines: ${el.textContent.slice(0, 60)}`);
  }
  const tables = [...main.querySelectorAll('table')].map(t => ({head: (t.querySelector('tr') || {}).textContent || '',
      pad: Math.max(0, ...[...t.querySelectorAll('td, th')].slice(0, 4).map(c => parseFloat(getComputedStyle(c).paddingLeft) + parseFloat(getComputedStyle(c).paddingRight)))}));
  return {text: main.innerText, raw_math: raw, untypeset, clipped, tables,
          static_widgets: main.querySelectorAll('.emodarts-explorer-static').length,
          katex: main.querySelectorAll('.katex').length};
}"""
WIDGET_REPR = re.compile(r"\b(?:[HV]Box|IntSlider|Dropdown|Play|FigureWidget|Button)\((?:children|value|description)=")


def _executed(site, name):
    return re.search(site[1], f"tutorials/{name}.ipynb") is not None


def test_every_page_loads(visited):
    assert len(visited) >= 10, f"only {len(visited)} pages built"
    for must in ("index.html", "tutorials/01_darts_in_ten_minutes.html", "explanations/bilevel.html", "api/22_search.html"):
        assert must in visited, f"page {must} missing from the site"
    bad = {p: (v["status"], v["errors"][:3], v["failed"][:3]) for p, v in visited.items()
           if v["status"] != 200 or v["errors"] or v["failed"]}
    assert not bad, f"pages with a bad status, console errors or failed local requests: {bad}"


def test_sidebar_has_the_three_sections(visited):
    text = visited["tutorials/01_darts_in_ten_minutes.html"]["sidebar"]
    for section in ("Tutorials", "Explanations", "API reference"):
        assert section in text, f"sidebar lacks {section!r}: {text[:300]!r}"


def test_tutorials_show_figures_and_graphs(site, visited):
    checked = 0
    for name, (n_plotly, n_svg) in FIGURES.items():
        v = visited.get(f"tutorials/{name}.html")
        assert v is not None, f"tutorial page {name}.html missing"
        if not _executed(site, name): continue
        checked += 1
        assert v["plotly"] >= n_plotly and v["drawn"] >= n_plotly, f"{name}: {v['plotly']} plotly figures ({v['drawn']} drawn), expected {n_plotly}"
        assert v["svg"] >= n_svg, f"{name}: {v['svg']} inline SVG graphs, expected {n_svg}"
    assert checked, "no tutorial was executed: check EMODARTS_DOCS_FILE_RE"


def _ids(path: Path) -> set:
    return set(re.findall(r'\b(?:id|name)="([^"]+)"', path.read_text(errors="replace")))


def _site_url() -> str:
    "The project's published address (nbs/nbdev.yml `site-url`), ending with /."
    m = re.search(r"^\s*site-url:\s*\"?([^\"\s]+)", (ROOT / "nbs" / "nbdev.yml").read_text(), re.M)
    return m.group(1).rstrip("/") + "/"


def test_no_broken_internal_link(site, server, visited):
    "Relative links and absolute links to the project's own site resolve in the build (page and anchor)."
    root, broken, ids, own = site[0], [], {}, _site_url()
    for rel, v in visited.items():
        for href in v["links"]:
            if not href or href.startswith(("mailto:", "javascript:", "data:")): continue
            if href.startswith(own): href = server + href[len(own):]      # the published site: this build
            url = urljoin(server + rel, href)
            if not url.startswith(server): continue                       # external: not checked offline
            u = urlparse(url)
            target = root / unquote(u.path[len(urlparse(server).path):])
            if u.path.endswith("/") or target.is_dir(): target = target / "index.html"
            if not target.exists(): broken.append(f"{rel}: {href} (no {target.relative_to(root)})"); continue
            executed = re.search(site[1], target.relative_to(root).with_suffix(".ipynb").as_posix())
            if u.fragment and target.suffix == ".html" and executed:   # a page not executed has no show_doc anchors
                if target not in ids: ids[target] = _ids(target)
                if unquote(u.fragment) not in ids[target]: broken.append(f"{rel}: {href} (no anchor #{u.fragment})")
    assert not broken, f"{len(broken)} broken internal link(s):\n" + "\n".join(sorted(set(broken))[:40])


def test_nothing_loaded_from_other_hosts(visited):
    "Scripts, styles, fonts and maths come from the site itself: it works offline (no CDN)."
    bad = {p: v["outside"][:3] for p, v in visited.items() if v["outside"]}
    assert not bad, f"pages that load from other hosts (a classroom without internet breaks): {bad}"


def test_maths_is_rendered(visited):
    bad = {p: (v["raw_math"][:2], v["untypeset"][:2]) for p, v in visited.items() if v["raw_math"] or v["untypeset"]}
    assert not bad, f"pages showing raw LaTeX (\\( \\[ $$) or untypeset .math: {bad}"
    assert visited["explanations/bilevel.html"]["katex"] >= 10, "the bilevel page's equations were not typeset"


def test_no_widget_repr_text(site, visited):
    bad = {p: WIDGET_REPR.search(v["text"]).group(0) for p, v in visited.items() if WIDGET_REPR.search(v["text"])}
    assert not bad, f"pages showing a widget's repr instead of a view: {bad}"
    for page in ("api/33_widgets.html", "tutorials/03_watching_alphas.html"):
        nb = page.replace(".html", ".ipynb")
        if re.search(site[1], nb) and page in visited:
            assert visited[page]["static_widgets"] >= 1, f"{page}: no static view of the explorer"
            assert "needs a running" in visited[page]["text"], f"{page}: no note that the live widget needs a kernel"


def _plain(md: str) -> str:
    "Markdown to the text a page shows: links, emphasis, code marks and list bullets dropped, spaces collapsed."
    md = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", md)
    md = re.sub(r"[*`>#]|^\s*[-*\d.]+\s", "", md, flags=re.M)
    return _quotes(" ".join(md.split()))


def _quotes(t: str) -> str: return t.translate(str.maketrans("“”‘’", "\"\"''"))


def opening_text(nb: Path) -> str | None:
    "The first words of a notebook's opening prose: what follows the title and summary (None: no prose)."
    cells = [c for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "markdown"]
    if not cells: return None
    lines = "".join(cells[0]["source"]).splitlines()
    rest = [l for l in lines[1:] if l.strip() and not l.startswith(">")]        # text lost with the title cell
    if not rest and len(cells) > 1: rest = "".join(cells[1]["source"]).splitlines()
    for l in rest:
        t = _plain(l)
        if len(t) >= 20 and "$" not in l and "|" not in l and not l.lstrip().startswith(("<", "!")):
            return " ".join(t.split()[:6])
    return None


def test_pages_keep_their_opening_text(site, visited):
    "Each page shows its notebook's opening text (nbdev drops the whole first markdown cell into the title)."
    missing, nbs = [], ROOT / "nbs"
    for nb in sorted(nbs.rglob("*.ipynb")):
        rel = nb.relative_to(nbs)
        if any(p.startswith((".", "_")) for p in rel.parts): continue
        page = rel.with_suffix(".html").as_posix()
        if page not in visited or not (want := opening_text(nb)): continue
        if want not in _quotes(" ".join(visited[page]["text"].split())): missing.append(f"{page}: {want!r}")
    assert not missing, f"{len(missing)} page(s) lost their opening text:\n" + "\n".join(missing)


def test_nothing_clipped(visited):
    "No figure, table, graph or image beyond the content column (outside a scroll box); no code line cut."
    bad = {p: v["clipped"][:3] for p, v in visited.items() if v["clipped"]}
    assert not bad, f"{len(bad)} page(s) with clipped content (1300 px wide): {bad}"


def test_tables_are_readable(visited):
    "Table cells have padding (a DataFrame's headers do not run together)."
    bad = {p: [t["head"][:40] for t in v["tables"] if t["pad"] < 8] for p, v in visited.items()}
    bad = {p: t for p, t in bad.items() if t}
    assert not bad, f"tables without cell padding: {bad}"


def test_api_pages_have_parameter_tables(site, visited):
    "`show_doc` gives a parameter table (name, type, default, details) under a signature with parameters."
    checked = 0
    for page in ("api/31_plots.html", "api/32_graphs.html", "api/33_widgets.html"):
        if page not in visited or not re.search(site[1], page.replace(".html", ".ipynb")): continue
        checked += 1
        heads = [t["head"] for t in visited[page]["tables"]]
        assert any("Default" in h or "Details" in h or "Type" in h for h in heads), f"{page}: no parameter table ({heads[:5]})"
    assert checked or site[1] != ".*"


def test_a_failing_notebook_cell_fails_the_build(tmp_path):
    "The docs build is where CI runs the notebooks as tests: a cell that raises fails it, naming notebook, cell and error."
    import nbformat
    src = tmp_path / "nbs"
    (src / "tutorials").mkdir(parents=True)
    for f in ("nbdev.yml", "_quarto.yml", "sidebar.yml"): (src / f).write_text((ROOT / "nbs" / f).read_text())
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Broken\n\n> a page whose second cell raises"),
                                         nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("raise ValueError('this cell is broken')"),
                                         nbformat.v4.new_code_cell("#| slow\nraise RuntimeError('a slow cell is not run')")])
    nbformat.write(nb, src / "tutorials" / "99_broken.ipynb")
    ok = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Fine\n\n> runs"),
                                         nbformat.v4.new_code_cell("#| slow\nraise RuntimeError('a slow cell is not run')"),
                                         nbformat.v4.new_code_cell("assert 1 + 1 == 2")])
    nbformat.write(ok, src / "tutorials" / "98_fine.ipynb")
    r = forked.run([sys.executable, "tools/docs_build.py", "proc", str(src), str(tmp_path / "proc")], cwd=ROOT)
    assert r.returncode != 0, r.stdout
    assert "tutorials/99_broken.ipynb" in r.stderr and "this cell is broken" in r.stderr and "ValueError" in r.stderr
    assert "a slow cell is not run" not in r.stderr                     # flagged cells are skipped, as nbdev-test does
    assert "98_fine.ipynb" in r.stdout and "98_fine.ipynb: 0 s FAILED" not in r.stdout and (tmp_path / "proc" / "tutorials" / "98_fine.ipynb").exists()
