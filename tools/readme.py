"""Write README.md from nbs/index.ipynb (nbdev-readme needs Quarto, which these machines cannot install).

    python tools/readme.py          # rewrite README.md
    python tools/readme.py --check  # exit 1 if README.md is out of date (tools/test.sh runs this)
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _src(cell): return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]

def _outputs(cell):
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream": yield "".join(o["text"])
        elif "data" in o and "text/plain" in o["data"] and "text/html" not in o["data"]:
            yield "".join(o["data"]["text/plain"])

def site_url() -> str:
    "The published documentation's address (nbs/nbdev.yml `site-url`), ending with /."
    m = re.search(r"^\s*site-url:\s*\"?([^\"\s]+)", (ROOT/"nbs/nbdev.yml").read_text(), re.M)
    return m.group(1).rstrip("/") + "/"

def link_pages(md: str) -> str:
    "Links to notebooks (`api/22_search.ipynb`) -> their page on the published site, named as nbdev names it."
    def page(m):
        parts = [re.sub(r"^\d+[a-zA-Z0-9]*_", "", p) for p in m.group(1).split("/")]
        return f"]({site_url()}{'/'.join(parts)}.html{m.group(2) or ''})"
    return re.sub(r"\]\(((?:api|tutorials|explanations)/[\w/.-]+?)\.ipynb(#[^)\s]*)?\)", page, md)

def render(nb: dict) -> str:
    parts = ["<!-- Generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file. -->"]
    for c in nb["cells"]:
        src = _src(c).strip()
        if not src: continue
        if c["cell_type"] == "markdown":
            parts.append(link_pages(src))
        elif c["cell_type"] == "code":
            if re.search(r"^#\|\s*hide", src, re.M): continue
            code = "\n".join(l for l in src.splitlines() if not l.startswith("#|")).strip()
            if code: parts.append(f"```python\n{code}\n```")
            for out in _outputs(c): parts.append(f"```\n{out.rstrip()}\n```")
    return "\n\n".join(parts) + "\n"

if __name__ == "__main__":
    text = render(json.loads((ROOT/"nbs/index.ipynb").read_text()))
    readme = ROOT/"README.md"
    if "--check" in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            print("README.md is out of date: run `python tools/readme.py` and commit it."); sys.exit(1)
        print("README.md matches nbs/index.ipynb")
    else:
        readme.write_text(text); print(f"wrote {readme}")
