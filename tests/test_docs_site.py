"""The documentation site, checked in a real browser.

Builds the site with `tools/docs.sh` (or uses one already built: set EMODARTS_DOCS_SITE to its folder), serves it
on 127.0.0.1 and opens every page in Debian's headless Chromium through Playwright: every page loads with no
console error, the executed tutorial pages contain their plotly figures (rendered) and graphviz graphs (inline
SVG), the sidebar has the three Diátaxis sections, and no internal link or anchor is broken.

To keep the test to a few minutes, the build it makes executes only the notebooks matching
EMODARTS_DOCS_FILE_RE (default: tutorials 1 and 2 and the explanations; `all` runs every notebook, as
`bash tools/docs.sh` does; with EMODARTS_DOCS_SITE it says which notebooks that build executed, default all). Skipped, with the reason, when Chromium or Playwright is missing.
"""
import functools, http.server, os, re, subprocess, threading
from pathlib import Path
from urllib.parse import urljoin, urlparse, unquote
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
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
            for rel in pages:
                errors.clear(); failed.clear()
                resp = page.goto(server + rel, wait_until="load")
                if page.locator(".plotly-graph-div").count():      # let plotly draw
                    page.wait_for_selector(".js-plotly-plot", state="attached", timeout=20_000)
                out[rel] = dict(
                    status=resp.status if resp else None, errors=list(errors), failed=list(failed),
                    plotly=page.locator(".plotly-graph-div").count(), drawn=page.locator(".js-plotly-plot").count(),
                    svg=page.locator(".cell-output svg > g.graph").count(),   # graphviz (plotly draws svg too)
                    links=page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"),
                    sidebar=page.locator("#quarto-sidebar").text_content() if page.locator("#quarto-sidebar").count() else "")
        finally:
            browser.close()
    return out


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


def test_no_broken_internal_link(site, server, visited):
    root, broken, ids = site[0], [], {}
    for rel, v in visited.items():
        for href in v["links"]:
            if not href or href.startswith(("mailto:", "javascript:", "data:")): continue
            url = urljoin(server + rel, href)
            if not url.startswith(server): continue                       # external: not checked offline
            u = urlparse(url)
            target = root / unquote(u.path[len(urlparse(server).path):])
            if u.path.endswith("/") or target.is_dir(): target = target / "index.html"
            if not target.exists(): broken.append(f"{rel}: {href} (no {target.relative_to(root)})"); continue
            if u.fragment and target.suffix == ".html":
                if target not in ids: ids[target] = _ids(target)
                if unquote(u.fragment) not in ids[target]: broken.append(f"{rel}: {href} (no anchor #{u.fragment})")
    assert not broken, f"{len(broken)} broken internal link(s):\n" + "\n".join(sorted(set(broken))[:40])
