"""The widgets' logic without a browser: set the selectors, assert on `state()`; LiveSearch in its thread.
(tests/test_browser.py drives the same widgets in JupyterLab and Chromium.)"""
import re, time

import numpy as np
import pytest

from emodarts_nb.core import BadInputError
from emodarts_nb.config import get_config
from emodarts_nb.history import SearchHistory, describe_changes
from emodarts_nb.runs import SearchResult
from emodarts_nb.search import run_search
from emodarts_nb.testing import toy_search_data, toy_model, toy_history
from emodarts_nb.widgets import SearchExplorer, LiveSearch, as_history, changes_text, top_ops_text
from emodarts_nb.graphs import edge_label


@pytest.fixture(scope="module")
def hist():
    return toy_history(epochs=5)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("widgets")/"run"
    res = run_search(get_config("tiny", epochs=3, alpha_lr=0.05), toy_search_data(), out, progress=False, model_fn=toy_model)
    return out, res


def test_every_epoch_and_cell_shows_the_history(hist):
    ex = SearchExplorer(hist)
    assert ex.state()["epoch"] == hist.epochs[0]
    for cell in hist.cells:
        ex.cell = cell
        assert ex.edge == hist.edges(cell)[0]
        for e in hist.epochs:
            ex.epoch = e
            s = ex.state()
            np.testing.assert_allclose(s["heatmap"], hist.probs(e, cell).to_numpy())
            assert s["title"].startswith(f"epoch {e} of {hist.epochs[-1]}")
            assert s["top_ops"] == top_ops_text(hist.probs(e, cell), ex.edge, 3, name=edge_label(cell, ex.edge))
            assert s["changes"] == changes_text(hist, e, cell=cell)


def test_labels_change_between_epochs(hist):
    ex = SearchExplorer(hist, cell="normal")
    texts = []
    for e in hist.epochs:
        ex.epoch = e; s = ex.state(); texts.append((s["top_ops"], s["changes"]))
    assert len(set(t for t, _ in texts)) > 1 and len(set(c for _, c in texts)) == len(texts)
    assert texts[0][1] == "epoch 0: the initial alphas (nothing before)"
    lines = describe_changes(hist.changes(2, n=3))
    assert changes_text(hist, 2) == "epoch 2: " + "; ".join(lines) and lines


def test_graph_follows_the_genotype(hist):
    ex = SearchExplorer(hist)
    sha = {}
    for e in hist.epochs: ex.epoch = e; sha[e] = ex.state()["graph_sha"]
    for a in hist.epochs:
        for b in hist.epochs:
            assert (sha[a] == sha[b]) == (hist.genotype(a).normal == hist.genotype(b).normal)
    assert len(set(sha.values())) > 1
    assert "<svg" in ex.graph.value


def test_edge_selector_and_bad_values(hist):
    ex = SearchExplorer(hist, epoch=3)
    for edge in hist.edges("normal"):
        ex.edge = edge
        assert ex.state()["top_ops"].startswith(f"{edge_label('normal', edge)}: ")
    ex.epoch = -5; assert ex.epoch == hist.epochs[0]
    with pytest.raises(BadInputError, match="use one of"): ex.cell = "nope"
    with pytest.raises(BadInputError, match="is not an edge"): ex.edge = "7->9"


def test_sources_and_callbacks_only_read(toy_run):
    out, res = toy_run
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    exs = [SearchExplorer(src) for src in (out, str(out), res, SearchHistory.from_run(out))]
    for ex in exs:
        for e in (3, 1, 2): ex.epoch = e
    assert len({ex.state()["graph_sha"] for ex in exs}) == 1
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before      # nothing trained or written
    with pytest.raises(BadInputError, match="not a search run folder"): as_history(out.parent/"missing")
    with pytest.raises(BadInputError, match="SearchHistory, a run folder path or a SearchResult"): as_history(42)


def test_update_follows_a_growing_run(tmp_path):
    cfg, data, out = get_config("tiny", epochs=3, alpha_lr=0.05), toy_search_data(), tmp_path/"run"
    run_search(cfg, data, out, progress=False, model_fn=toy_model, until=1)
    ex, behind = SearchExplorer(out, epoch=1), SearchExplorer(out, epoch=0)
    run_search(cfg, data, out, resume=True, progress=False, model_fn=toy_model)
    ex.update(out); behind.update(out)
    assert (ex.epoch, ex.slider.max, behind.epoch) == (3, 3, 0)                  # follows only from the end
    np.testing.assert_allclose(ex.state()["heatmap"], as_history(out).probs(3, "normal").to_numpy())


def test_live_search_real_supernet(tmp_path):
    "A tiny real supernet search in the background: start returns at once, the explorer ends with every epoch."
    cfg = get_config("tiny", epochs=2, alpha_lr=0.05)
    data = toy_search_data(n_train=32, n_valid=8, shape=(16, 16))
    t0 = time.time()
    live = LiveSearch(cfg, data, out=tmp_path/"live").start()
    assert time.time() - t0 < 1 and live.running
    res = live.wait(120)
    assert isinstance(res, SearchResult) and not live.running
    assert live.explorer.h.epochs == [0, 1, 2] and live.explorer.epoch == 2
    assert set(live.explorer.h.cells) == {"normal", "reduce", "seq"}
    np.testing.assert_allclose(live.explorer.state()["heatmap"], as_history(tmp_path/"live").probs(2, "normal").to_numpy())
    assert live.status.value == "done: 2 epochs"


def test_live_search_stops_between_epochs_and_resumes(tmp_path):
    cfg, data = get_config("tiny", epochs=4, alpha_lr=0.05), toy_search_data()
    ref = run_search(cfg, data, tmp_path/"ref", progress=False, model_fn=toy_model)
    live = LiveSearch(cfg, data, out=tmp_path/"live", model_fn=toy_model).start()
    t0 = time.time()
    while live.explorer is None and time.time() - t0 < 60: time.sleep(0.01)
    live.stop()
    assert live.wait(60) is None and live.stop_button.disabled
    done = live._last_epoch()
    assert 1 <= done < 4 and "resumable" in live.status.value
    again = LiveSearch(cfg, data, out=tmp_path/"live", resume=True, model_fn=toy_model).start()
    assert isinstance(again.wait(60), SearchResult) and again.explorer.h.epochs == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(as_history(tmp_path/"live").alphas.probability, as_history(ref.run_dir).alphas.probability, atol=1e-6)


def test_live_search_errors_come_back(tmp_path, toy_run):
    out, _ = toy_run
    cfg = get_config("tiny", epochs=3, alpha_lr=0.05)
    live = LiveSearch(cfg, toy_search_data(), out=out, model_fn=toy_model).start()     # folder already holds a search
    with pytest.raises(BadInputError, match="already holds a search"): live.wait(60)
    assert live.status.value.startswith("failed: BadInputError")
    with pytest.raises(BadInputError, match="no alphas to watch"): LiveSearch(get_config("tiny", strategy="random"), None)


def test_one_naming_and_one_cell(hist):
    "The edge selector, the top operations and the changed line name edges as the graph names nodes; one cell type."
    ex = SearchExplorer(hist, epoch=2)
    for cell in hist.cells:
        ex.cell = cell
        labels = [l for l, _ in ex.edge_dd.options]
        assert labels == [edge_label(cell, e) for e in hist.edges(cell)] and all("->" not in l for l in labels)
        s = ex.state()
        assert all(f"{o} " not in s["changes"] for o in hist.cells if o != cell), s["changes"]
        assert "->" not in s["changes"] and "->" not in s["top_ops"]
        drawn = " ".join(re.findall(r">([^<]+)</text>", ex.graph.value))
        assert "c_{" not in drawn and "h_{" not in drawn, drawn
        assert all(l.split("→")[0] in drawn for l in labels)             # the selector's node names are in the graph


def test_graph_font_is_steady(hist):
    "The genotype graph keeps graphviz's size (pt) instead of being scaled to the width: same font every epoch."
    ex = SearchExplorer(hist)
    for e in hist.epochs:
        ex.epoch = e
        assert re.search(r'<svg width="[\d.]+pt" height="[\d.]+pt"', ex.graph.value), ex.graph.value[:200]
