"Visualisation: SearchHistory over run folders, plotly figures, graphviz genotype graphs."
import os
import numpy as np, pandas as pd, pytest, torch

pytest.importorskip("plotly"); pytest.importorskip("graphviz")
from emodarts_nb.core import BadInputError
from emodarts_nb.config import get_config
from emodarts_nb.search import run_search
from emodarts_nb.testing import toy_search_data, toy_model, toy_history
from emodarts_nb.genotypes import DARTS_V2, CELL_TYPES, Genotype
from emodarts_nb.supernet import get_space, random_genotype
from emodarts_nb.history import SearchHistory, describe_changes
from emodarts_nb import plots, graphs


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    "A real 2-epoch search of the tiny space on random tensors."
    out = tmp_path_factory.mktemp("viz") / "run"
    run_search(get_config("tiny", epochs=2, max_steps=2, alpha_lr=0.05), toy_search_data(), out, progress=False)
    return out


@pytest.fixture(scope="module")
def h(run): return SearchHistory.from_run(run)


def test_history_reads_run_folder(run, h):
    a = pd.read_csv(run / "alphas.csv")
    assert h.done and h.epochs == [0, 1, 2] and h.cells == ["normal", "reduce", "seq"]
    assert len(h.alphas) == len(a) and sorted(h.genotypes) == [0, 1, 2]
    p = h.probs(2, "seq")
    assert np.allclose(p.sum(axis=1), 1, atol=1e-5) and list(p.index) == h.edges("seq") and list(p.columns) == h.ops("seq")
    assert list(h.changes(2).columns)[:3] == ["kind", "cell", "edge"] and len(h.changes(0)) == 0
    assert all(isinstance(s, str) for s in describe_changes(h.changes(2)))


def test_history_unfinished_and_not_a_run(tmp_path):
    part = tmp_path / "part"
    run_search(get_config("tiny", epochs=3, max_steps=1), toy_search_data(), part, progress=False, model_fn=toy_model, until=1)
    hp = SearchHistory.from_run(part)
    assert not hp.done and hp.epochs == [0, 1]
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="config.json: is missing"): SearchHistory.from_run(tmp_path / "empty")
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(BadInputError, match="alphas.csv: is missing"): SearchHistory.from_run(tmp_path / "empty")


def test_heatmap_and_evolution_values_equal_alphas_csv(run, h):
    a = pd.read_csv(run / "alphas.csv")
    fig = plots.alpha_heatmap(h, 2, "reduce")
    hm = fig.data[0]; z = np.array(hm.z)
    want = a[(a.epoch == 2) & (a.cell == "reduce")].pivot(index="edge", columns="operation", values="probability")
    assert np.array_equal(z, want.loc[list(hm.y), list(hm.x)].values)
    assert np.allclose(z.sum(axis=1), 1, atol=1e-5)
    ev = plots.alpha_evolution(h, "seq", "1->3")
    for tr in ev.data:
        sel = a[(a.cell == "seq") & (a.edge == "1->3") & (a.operation == tr.name)].sort_values("epoch")
        assert np.array_equal(np.array(tr.y), sel.probability.values) and list(tr.x) == sel.epoch.tolist()


def test_slider_has_one_frame_per_epoch():
    th = toy_history(5)
    fig = plots.alpha_slider(th, "normal")
    assert [f.name for f in fig.frames] == [str(e) for e in th.epochs] and len(fig.layout.sliders[0].steps) == 6
    assert fig.layout.updatemenus[0].buttons[0].method == "animate"
    for f in fig.frames: assert np.allclose(np.array(f.data[0].z), th.probs(int(f.name), "normal").values)


def test_other_figures(h):
    cm = plots.collapse_monitor(h); names = [d.name for d in cm.data]
    assert "normal: parameter-free" in names and "normal: none" in names and "normal: skips kept" in names
    df = h.history[["epoch", "train_loss", "valid_loss", "train_acc", "valid_acc"]]
    assert len(plots.training_curves(df).data) == 4 and len(plots.training_curves({"a": h, "b": df}).data) == 8
    z = np.array(plots.confusion_matrix_fig([[3, 1], [0, 4]], ["a", "b"]).data[0].z)
    assert np.allclose(z, [[0.75, 0.25], [0, 1]])
    assert len(plots.compare_runs({"x": h, "y": toy_history(2)}).data) == 4
    res = pd.DataFrame(dict(fold=[0, 1, 0, 1], method=["m", "m", "b", "b"], ua=[.5, .6, .4, .45], wa=[.55, .62, .42, .5]))
    assert len(plots.compare_folds(res).data) == 4


def test_figures_write_files_only_when_asked(tmp_path, h):
    cwd = os.getcwd(); os.chdir(tmp_path)
    try:
        plots.alpha_heatmap(h, 1, "normal"); plots.alpha_slider(h, "seq"); plots.collapse_monitor(h)
        graphs.genotype_figure(h.genotype(2)); h.genotype(2)._repr_mimebundle_()
        assert list(tmp_path.iterdir()) == []
        plots.alpha_heatmap(h, 1, "normal", path=tmp_path / "a.html")
        assert [p.name for p in tmp_path.iterdir()] == ["a.html"]
    finally: os.chdir(cwd)


def test_static_figure_export(tmp_path):
    pytest.importorskip("kaleido")
    th = toy_history(2)
    try: plots.alpha_heatmap(th, 2, "normal", path=tmp_path / "h.png")
    except BadInputError as e: pytest.skip(f"no static export here: {e}")
    plots.collapse_monitor(th, path=tmp_path / "c.svg")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "c.svg").read_bytes()[:500]


def _labelled(g): return sorted(e for e in graphs.dot_edges(g) if e[2])


@pytest.mark.parametrize("cell", CELL_TYPES)
def test_cell_graph_has_every_edge(cell):
    gt = random_genotype(get_space("cpu"), generator=torch.Generator().manual_seed(3))
    g = graphs.cell_graph(gt, cell)
    a, b, out = graphs.state_names(cell)
    name = lambda i: (a, b)[i] if i < 2 else str(i - 2)
    want = sorted((name(j), str(n), op) for n, node in enumerate(getattr(gt, cell)) for op, j in node)
    assert _labelled(g) == want
    nodes = [l for l in g.body if "[label=" in l and "->" not in l]
    assert len(nodes) == len(getattr(gt, cell)) + 3
    assert sum(1 for e in graphs.dot_edges(g) if e[1] == out) == len(getattr(gt, f"{cell}_concat"))


def test_network_graph():
    sp = get_space("cpu")
    gt = random_genotype(sp, generator=torch.Generator().manual_seed(0))
    src = graphs.network_graph(gt, sp, input_shape=(64, 100), n_classes=4).source
    assert src.count("normal cell") == sp.cnn_cells.count("normal") and src.count("reduction cell") == sp.cnn_cells.count("reduce")
    assert src.count("sequential cell") == sp.seq_cells and "classifier" in src and "mean over time" in src


@pytest.mark.parametrize("fmt,head", [("svg", b"<"), ("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")])
def test_render_formats(tmp_path, fmt, head):
    p = graphs.render(graphs.genotype_figure(DARTS_V2), tmp_path / f"g.{fmt}")
    data = p.read_bytes()
    assert data.startswith(head) and (fmt != "svg" or b"<svg" in data[:1000])
    assert [x.name for x in tmp_path.iterdir()] == [f"g.{fmt}"]


def test_missing_dot_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(graphs.GraphvizNotFound) as e: graphs.render(graphs.cell_graph(DARTS_V2), tmp_path / "g.svg")
    for s in ("`dot`", "apt-get install graphviz", "brew install graphviz", "conda install"): assert s in str(e.value)
    b = DARTS_V2._repr_mimebundle_()
    assert list(b) == ["text/plain"] and "apt-get install graphviz" in b["text/plain"]


def test_genotype_displays_as_svg():
    b = DARTS_V2._repr_mimebundle_()
    assert "<svg" in b["image/svg+xml"] and b["text/plain"] == str(DARTS_V2)
    assert "<svg" in DARTS_V2._repr_svg_()
