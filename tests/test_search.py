"Search loop: weight optimiser holds no alpha, same seed same run, exact resume after SIGKILL, NaN stop, CLI."
import json, os, random, signal, subprocess, sys, textwrap, time
from pathlib import Path

import numpy as np, pandas as pd, pytest, torch
import forked

from emodarts_nb.config import get_config
from emodarts_nb.cli import make_parser
from emodarts_nb.loops import SearchDiverged
from emodarts_nb.runs import load_checkpoint
from emodarts_nb.search import run_search, setup
from emodarts_nb.testing import toy_search_data

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}

# The real tiny supernet on random tensors: 6 epochs of 4 steps, about a second per epoch.
SCRIPT = textwrap.dedent("""
    import os, sys
    from emodarts_nb.config import get_config
    from emodarts_nb.search import run_search
    from emodarts_nb.testing import toy_search_data
    cfg = get_config("tiny", epochs=6, max_steps=None, batch_size=8, strategy=sys.argv[2])
    data = toy_search_data(n_train=64, n_valid=16, shape=(16, 12))
    run_search(cfg, data, sys.argv[1], resume="--resume" in sys.argv and os.path.isdir(sys.argv[1]), progress=False)  # killed before any folder: start
""")


def _alphas(run):
    return {k: v for k, v in load_checkpoint(Path(run) / "checkpoint.pt")["model"].items() if k.startswith("arch.")}


def _run(script, run, strategy, *extra):
    return forked.run([sys.executable, script, run, strategy, *extra], env=ENV)


def test_weight_optimiser_holds_no_alpha():
    data = toy_search_data(shape=(16, 12))
    for strategy in ("first_order", "second_order", "joint", "sampling", "path_dropout"):
        st = setup(get_config("tiny", strategy=strategy), data)
        held = {id(p) for g in st.w_optim.param_groups for p in g["params"]}
        alphas = {id(a) for a in st.model.alphas()}
        assert alphas and not held & alphas
        assert held == {id(p) for p in st.model.weights()}
        assert {id(p) for g in st.arch.optimizer.param_groups for p in g["params"]} == alphas


@pytest.mark.parametrize("strategy", ["first_order", "second_order", "joint", "sampling", "path_dropout"])
def test_every_strategy_runs_and_moves_the_alphas(tmp_path, strategy):
    data = toy_search_data(shape=(16, 12))
    res = run_search(get_config("tiny", strategy=strategy, epochs=1), data, tmp_path / "r", progress=False)
    a = pd.read_csv(tmp_path / "r" / "alphas.csv")
    p0, p1 = (a[a.epoch == e].probability.to_numpy() for e in (0, 1))
    assert not np.allclose(p0, p1) and np.isfinite(res.history.train_loss).all()


def test_same_seed_same_run(tmp_path):
    data = toy_search_data(shape=(16, 12))
    cfg = get_config("tiny", strategy="second_order", darts_minus=1.0, beta_darts=1.0)
    r1 = run_search(cfg, data, tmp_path / "a", progress=False)
    r2 = run_search(cfg, data, tmp_path / "b", progress=False)
    a, b = _alphas(tmp_path / "a"), _alphas(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert r1.genotype == r2.genotype
    pd.testing.assert_frame_equal(r1.history.drop(columns="seconds"), r2.history.drop(columns="seconds"))
    assert pd.read_csv(tmp_path / "a" / "alphas.csv").equals(pd.read_csv(tmp_path / "b" / "alphas.csv"))


def _kill_when(proc, run, cond, timeout=300):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond(run): break
        if proc.poll() is not None: break
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL); proc.wait()


def _epoch_at_least(n):
    def cond(run):
        try: return load_checkpoint(run / "checkpoint.pt")["epoch"] >= n
        except Exception: return False
    return cond


@pytest.mark.parametrize("strategy,when", [("first_order", "after_checkpoint"), ("second_order", "random"), ("path_dropout", "random")])
def test_resume_after_sigkill_gives_the_same_search(tmp_path, strategy, when):
    script = tmp_path / "run.py"; script.write_text(SCRIPT)
    t0 = time.time(); ref = _run(script, tmp_path / "ref", strategy); took = time.time() - t0
    assert ref.returncode == 0, ref.stderr
    run = tmp_path / "killed"
    proc = forked.start([sys.executable, script, run, strategy], env=ENV)     # a process of its own, forked from this one
    if when == "after_checkpoint": cond = _epoch_at_least(1)
    else:  # a random moment of the run: before the first checkpoint, mid-epoch, mid-write, anywhere
        deadline = time.time() + random.uniform(0.02, 0.5 * took)
        cond = lambda r: time.time() > deadline
    _kill_when(proc, run, cond)
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "done.json").exists(), "the search finished before the kill: make it longer"
    res = _run(script, run, strategy, "--resume")
    assert res.returncode == 0, res.stderr
    a, b = _alphas(tmp_path / "ref"), _alphas(run)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((run / "genotype.json").read_text())["final"] == json.loads((tmp_path / "ref" / "genotype.json").read_text())["final"]
    assert pd.read_csv(run / "alphas.csv").equals(pd.read_csv(tmp_path / "ref" / "alphas.csv"))
    assert pd.read_csv(run / "history.csv").epoch.tolist() == list(range(1, 7))


def test_nan_stops_with_where_and_keeps_the_checkpoint(tmp_path):
    data = toy_search_data(shape=(16, 12))
    data.train_x[data.alpha_idx] = float("inf")                      # corrupt the alpha split: the alpha loss breaks
    with pytest.raises(SearchDiverged, match=r"epoch 1, step 1: the alpha loss \(first_order architecture step\) is nan"):
        run_search(get_config("tiny"), data, tmp_path / "r", progress=False)
    ck = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)
    assert ck["epoch"] == 0 and not (tmp_path / "r" / "done.json").exists()


def test_checkpoint_loads_weights_only(tmp_path):
    run_search(get_config("tiny", epochs=1), toy_search_data(shape=(16, 12)), tmp_path / "r", progress=False)
    ck = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)
    assert set(ck) >= {"epoch", "model", "w_optim", "a_optim", "sched", "rng", "best"}


def test_cli_parses_with_defaults():
    a = make_parser().parse_args(["search", "--corpus", "synthetic", "--epochs", "2", "--seed", "7", "--out", "x"])
    assert (a.protocol, a.fold, a.preset, a.strategy, a.resume) == ("loso", "0", "cpu", None, False)


def test_cli_search_on_the_synthetic_corpus(tmp_path, emodarts_cmd):
    "`emodarts search` end to end (features, fold, tiny search), printing the genotype and the run folder."
    out = tmp_path / "run"
    r = forked.run([emodarts_cmd, "search", "--corpus", "synthetic", "--preset", "tiny", "--epochs", "1",
                    "--seed", "7", "--out", out, "--quiet", "--cache", tmp_path / "cache"], env=ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "genotype: Genotype(" in r.stdout and f"run folder: {out}" in r.stdout
    assert (out / "done.json").exists() and json.loads((out / "fold.json").read_text())["test"]


@pytest.mark.slow
def test_cli_default_search_on_synthetic(tmp_path, emodarts_cmd):
    "The README's command as it stands: `search --corpus synthetic --epochs 2 --seed 7 --out DIR` (cpu preset)."
    r = subprocess.run([emodarts_cmd, "search", "--corpus", "synthetic", "--epochs", "2", "--seed", "7",
                        "--out", str(tmp_path / "run"), "--quiet"], env=ENV, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "run folder:" in r.stdout


def _damage_delete(run, name): (run / name).unlink()
def _damage_empty(run, name): (run / name).write_text("")
def _damage_header_only(run, name): (run / name).write_text((run / name).read_text().splitlines()[0] + "\n")


@pytest.mark.parametrize("name", ["history.csv", "alphas.csv", "genotypes.jsonl"])
@pytest.mark.parametrize("damage", [_damage_delete, _damage_empty, _damage_header_only])
def test_damaged_records_are_refused_on_resume(tmp_path, name, damage):
    "A record file deleted, emptied or cut back to its header: resume refuses, naming the file, instead of losing epochs."
    from emodarts_nb.core import BadInputError
    from emodarts_nb.testing import toy_model
    cfg, data, run = get_config("tiny", epochs=3), toy_search_data(shape=(16, 12)), tmp_path / "r"
    assert run_search(cfg, data, run, progress=False, model_fn=toy_model, until=2) is None
    damage(run, name)
    with pytest.raises(BadInputError, match=name.replace(".", r"\.")):
        run_search(cfg, data, run, resume=True, progress=False, model_fn=toy_model)


def test_a_checkpoint_from_another_run_is_refused(tmp_path):
    from emodarts_nb.core import BadInputError
    from emodarts_nb.testing import toy_model
    data = toy_search_data(shape=(16, 12))
    for run, seed in (("a", 0), ("b", 1)):
        run_search(get_config("tiny", epochs=3, seed=seed), data, tmp_path / run, progress=False, model_fn=toy_model, until=1)
    (tmp_path / "a" / "checkpoint.pt").write_bytes((tmp_path / "b" / "checkpoint.pt").read_bytes())
    with pytest.raises(BadInputError, match="written by another run"):
        run_search(get_config("tiny", epochs=3), data, tmp_path / "a", resume=True, progress=False, model_fn=toy_model)
    (tmp_path / "a" / "checkpoint.pt").write_bytes(b"cut")
    with pytest.raises(BadInputError, match="delete this file to run this folder again"):
        run_search(get_config("tiny", epochs=3), data, tmp_path / "a", resume=True, progress=False, model_fn=toy_model)


def _as_older_version(run, space_keys):
    "Rewrite `run`'s config.json as versions before the typed space wrote it (a partial space, `pc_k` beside it) and re-key its checkpoint."
    from emodarts_nb.core import load_json, save_json
    from emodarts_nb.runs import save_run_checkpoint
    d = load_json(run / "config.json")
    d["pc_k"] = d["space"].pop("pc_k")
    d["space"] = {k: v for k, v in d["space"].items() if k in space_keys}
    save_json(d, run / "config.json")
    if (run / "checkpoint.pt").exists():
        save_run_checkpoint(run, **{k: v for k, v in load_checkpoint(run / "checkpoint.pt").items() if k != "key"})
    return d


def test_a_run_folder_of_an_older_version_loads_and_resumes_to_the_same_search(tmp_path):
    "config.json with `pc_k` at the top and a partial space: from_dict, SearchHistory and resume read it as today's config."
    from emodarts_nb.config import from_dict
    from emodarts_nb.core import load_json
    from emodarts_nb.history import SearchHistory
    from emodarts_nb.supernet import SPACES
    cfg, data = get_config("tiny", epochs=2, space=dict(pc_k=2)), toy_search_data(shape=(16, 12))
    full = run_search(cfg, data, tmp_path / "full", progress=False)
    assert run_search(cfg, data, tmp_path / "old", progress=False, until=1) is None
    old = _as_older_version(tmp_path / "old", SPACES["tiny"])
    assert from_dict(old) == cfg and SearchHistory.from_run(tmp_path / "old").space == cfg.space
    res = run_search(cfg, data, tmp_path / "old", resume=True, progress=False)
    assert res.genotype == full.genotype
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "old" / "alphas.csv"), pd.read_csv(tmp_path / "full" / "alphas.csv"))
    assert load_json(tmp_path / "old" / "config.json") == old          # the folder keeps the file it was made with
    with pytest.raises(Exception, match="pc_k"):                        # another pc_k is still another run
        run_search(get_config("tiny", epochs=2), data, tmp_path / "old", resume=True, progress=False)
