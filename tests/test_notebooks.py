"""Notebook hygiene that nbdev-test cannot see.

nbdev's documentation step (`nbdev-proc-nbs`, `nbdev-docs`) executes, on its own, every cell of a module
notebook that contains an import. A cell that mixes imports with code using earlier variables then fails
with a NameError when the docs are built (with Quarto or with tools/docs.sh), although the notebook passes
nbdev-test. So: in the module notebooks and the index, a cell with an import holds only imports.
"""
import ast, json, re
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parents[1] / "nbs"
DOC_EXECUTED = {"export", "exports", "exporti", "exec_doc"}


def mixed_import_cells(path: Path) -> list[str]:
    "Sources of the cells nbdev would run for the docs although they hold more than imports."
    bad = []
    for c in json.loads(path.read_text())["cells"]:
        if c["cell_type"] != "code": continue
        src = "".join(c["source"])
        dirs = {m.group(1) for m in re.finditer(r"^#\|\s*([\w-]+)", src, re.M)}
        if dirs & DOC_EXECUTED or "eval" in dirs: continue
        code = "\n".join(l for l in src.splitlines() if not l.lstrip().startswith(("%", "!")))
        body = ast.parse(code).body
        has_import = any(isinstance(n, (ast.Import, ast.ImportFrom)) for t in body for n in ast.walk(t))
        if has_import and not all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in body): bad.append(src[:200])
    return bad


@pytest.mark.parametrize("nb", sorted(NBS.glob("api/*.ipynb")) + [NBS / "index.ipynb"], ids=lambda p: p.name)
def test_import_cells_hold_only_imports(nb):
    bad = mixed_import_cells(nb)
    assert not bad, f"{nb}: move these cells' imports into a cell of their own (nbdev runs import cells alone " \
                    f"when it builds the docs):\n" + "\n---\n".join(bad)


def test_the_check_can_fail(tmp_path):
    nb = dict(cells=[dict(cell_type="code", source=["x = 1\n", "import json\n", "json.dumps(x)"])])
    (tmp_path / "n.ipynb").write_text(json.dumps(nb))
    assert mixed_import_cells(tmp_path / "n.ipynb")
