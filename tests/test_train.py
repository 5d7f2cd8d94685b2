"Retraining: same seed same run, exact resume after SIGKILL, the test part read once and never used for selection, load_model, CLI."
import copy, json, os, random, signal, sys, textwrap, time
from pathlib import Path

import numpy as np, pandas as pd, pytest, torch
import forked

from emodarts_nb.data import Part
from emodarts_nb.runs import load_checkpoint
from emodarts_nb.supernet import random_genotype
from emodarts_nb.testing import toy_fold_data
from emodarts_nb.predict import load_model, predict_arrays
from emodarts_nb.train import get_train_config, run_retrain, part_probs, retrain

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}

# A tiny genotype network (or the baseline; with a weight average for genotype_ema) on random tensors cut in 2 segments
# per utterance: 6 epochs of 9 steps.
SCRIPT = textwrap.dedent("""
    import os, sys, torch
    from emodarts_nb.testing import toy_fold_data
    from emodarts_nb.train import get_train_config, run_retrain
    from emodarts_nb.supernet import random_genotype
    cfg = get_train_config("tiny", epochs=6, max_steps=None, batch_size=8, ema_epochs=1. if sys.argv[2].endswith("_ema") else 0.)
    fd = toy_fold_data(shape=(16, 12), n=(36, 9, 9), segments=2)
    spec = "baseline" if sys.argv[2] == "baseline" else random_genotype(cfg.space, generator=torch.Generator().manual_seed(1))
    run_retrain(spec, cfg, fd, sys.argv[1], resume="--resume" in sys.argv and os.path.isdir(sys.argv[1]), progress=False)  # killed before any folder: start
""")


def _genotype(cfg, seed=1):
    return random_genotype(cfg.space, generator=torch.Generator().manual_seed(seed))


def _same_weights(a, b):
    a, b = torch.load(Path(a) / "model.pt", weights_only=True), torch.load(Path(b) / "model.pt", weights_only=True)
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _history(run):
    return pd.read_csv(Path(run) / "history.csv").drop(columns="seconds")


def test_same_seed_same_run_and_another_seed_differs(tmp_path):
    cfg = get_train_config("tiny", epochs=3)
    fd = toy_fold_data(segments=2)
    g = _genotype(cfg)
    r1 = run_retrain(g, cfg, fd, tmp_path / "a", progress=False)
    r2 = run_retrain(g, cfg, fd, tmp_path / "b", progress=False)
    assert _same_weights(tmp_path / "a", tmp_path / "b")
    pd.testing.assert_frame_equal(_history(tmp_path / "a"), _history(tmp_path / "b"))
    assert r1.metrics == r2.metrics
    run_retrain(g, get_train_config("tiny", epochs=3, seed=1), fd, tmp_path / "c", progress=False)
    assert not _same_weights(tmp_path / "a", tmp_path / "c")


def test_checkpoint_loads_weights_only(tmp_path):
    run_retrain("baseline", get_train_config("tiny", epochs=1), toy_fold_data(), tmp_path / "r", progress=False)
    ck = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)
    assert set(ck) >= {"epoch", "model", "optim", "sched", "rng", "best", "history", "stopped"}
    assert set(torch.load(tmp_path / "r" / "model.pt", weights_only=True)) == set(load_model(tmp_path / "r").model.state_dict())


def _kill_when(proc, cond, timeout=300):
    t0 = time.time()
    while time.time() - t0 < timeout and proc.poll() is None and not cond():
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL); proc.wait()


def _epoch_at_least(run, n):
    def cond():
        try: return load_checkpoint(run / "checkpoint.pt")["epoch"] >= n
        except Exception: return False
    return cond


@pytest.mark.parametrize("model,when", [("genotype", "after_checkpoint"), ("genotype", "random"), ("baseline", "random"),
                                        ("genotype_ema", "after_checkpoint")])   # _ema: the weight average resumes too
def test_resume_after_sigkill_gives_the_same_run(tmp_path, model, when):
    script = tmp_path / "run.py"; script.write_text(SCRIPT)
    t0 = time.time()
    ref = forked.run([sys.executable, script, tmp_path / "ref", model], env=ENV)   # each a process of its own, forked from this one
    took = time.time() - t0
    assert ref.returncode == 0, ref.stderr
    run = tmp_path / "killed"
    proc = forked.start([sys.executable, script, run, model], env=ENV)
    if when == "after_checkpoint": cond = _epoch_at_least(run, 2)
    else:  # a random moment of the run: before the first checkpoint, mid-epoch, mid-write, anywhere
        deadline = time.time() + random.uniform(0.02, 0.5 * took); cond = lambda: time.time() > deadline
    _kill_when(proc, cond)
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "done.json").exists(), "the run finished before the kill: make it longer"
    res = forked.run([sys.executable, script, run, model, "--resume"], env=ENV)
    assert res.returncode == 0, res.stderr
    assert _same_weights(tmp_path / "ref", run)
    ck_ref, ck = load_checkpoint(tmp_path / "ref" / "checkpoint.pt"), load_checkpoint(run / "checkpoint.pt")
    assert all(torch.equal(ck_ref["model"][k], ck["model"][k]) for k in ck["model"])
    pd.testing.assert_frame_equal(_history(tmp_path / "ref"), _history(run))
    assert _history(run).epoch.tolist() == list(range(1, 7))
    a, b = (json.loads((r / "metrics.json").read_text()) for r in (tmp_path / "ref", run))
    assert a == b
    assert (run / "predictions.csv").read_text() == (tmp_path / "ref" / "predictions.csv").read_text()


class CountingPart(Part):
    "A Part that counts how often its inputs are read."
    reads = 0
    def __getattribute__(self, name):
        if name == "x": type(self).reads += 1
        return super().__getattribute__(name)


def test_test_part_is_read_once_and_never_selects(tmp_path):
    cfg = get_train_config("tiny", epochs=4, max_steps=None, patience=2)
    fd = toy_fold_data(segments=2)
    g = _genotype(cfg)
    t = fd["test"]
    fd.parts["test"] = CountingPart(**{k: getattr(t, k) for k in t.__dataclass_fields__})
    r1 = run_retrain(g, cfg, fd, tmp_path / "a", progress=False)
    assert CountingPart.reads == 1                                   # the final evaluation only
    fd2 = copy.deepcopy(toy_fold_data(segments=2))
    fd2["test"].utt_y[:] = (fd2["test"].utt_y + 1) % fd2.n_classes   # other test labels ...
    fd2["test"].y[:] = fd2["test"].utt_y[fd2["test"].utt_index]
    fd2["test"].x[:] = np.random.default_rng(5).standard_normal(fd2["test"].x.shape)  # ... and other test inputs
    r2 = run_retrain(g, cfg, fd2, tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(_history(tmp_path / "a"), _history(tmp_path / "b"))  # same training, same selection
    assert r1.selected_epoch == r2.selected_epoch and r1.metrics["valid"] == r2.metrics["valid"]
    assert _same_weights(tmp_path / "a", tmp_path / "b")
    assert r1.test != r2.test


def test_selection_and_early_stopping_follow_the_valid_part(tmp_path):
    cfg = get_train_config("tiny", epochs=8, max_steps=None, patience=2, lr=0.2)
    r = run_retrain("baseline", cfg, toy_fold_data(), tmp_path / "r", progress=False)
    h = r.history
    assert r.selected_epoch == int(h.epoch[h.valid_ua.to_numpy().argmax()])        # first epoch with the best valid UA
    assert h.selected.sum() >= 1 and h.epoch[h.selected].max() == r.selected_epoch
    if r.stopped: assert len(h) - r.selected_epoch == 2 and len(h) < 8
    else: assert len(h) == 8
    m = r.metrics
    assert m["valid"]["ua"] == pytest.approx(h.valid_ua[h.epoch == r.selected_epoch].item())  # metrics.json: the selected weights


def test_segments_train_norm_and_predict_arrays_match_the_run(tmp_path):
    "wu2022 features (norm 'train', 2 s segments): load_model + predict_arrays on raw features give the run's test posteriors."
    from emodarts_nb.synthetic import make_synthetic
    from emodarts_nb.cache import extract_corpus
    from emodarts_nb.features import get_preset
    syn = make_synthetic(tmp_path / "syn", n_speakers=4, n_per_class=2, classes=("neutral", "angry"), seconds=(0.5, 2.5))
    cfg = get_train_config("tiny", features="wu2022", cache_dir=str(tmp_path / "cache"), baseline=dict(channels=(4,), lstm_hidden=4))
    r = retrain("baseline", cfg, syn, 0, tmp_path / "run", progress=False)
    info = json.loads((tmp_path / "run" / "model.json").read_text())
    assert info["norm"]["mode"] == "train" and len(info["norm"]["mean"]["*"]) == info["input_shape"][0]
    tm = load_model(tmp_path / "run")
    pred = pd.read_csv(tmp_path / "run" / "predictions.csv")
    feats = extract_corpus(syn, get_preset("wu2022"), cache_dir=tmp_path / "cache", progress=False).feats
    P = predict_arrays(tm, [feats[u] for u in pred.utt])
    np.testing.assert_allclose(P, pred.filter(like="p_").to_numpy(), atol=1e-5)
    assert list(pred.columns) == ["utt", "label", "pred", "p_neutral", "p_angry"]


def test_bad_specs_and_folders(tmp_path):
    from emodarts_nb.core import BadInputError
    fd = toy_fold_data()
    with pytest.raises(BadInputError, match="neither 'baseline'"): run_retrain(tmp_path / "missing", get_train_config("tiny"), fd, tmp_path / "r")
    fd.parts["valid"] = Part("valid", np.zeros((0, 16, 12), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64), (), np.zeros(0, np.int64), ())
    with pytest.raises(BadInputError, match="no valid part"): run_retrain("baseline", get_train_config("tiny"), fd, tmp_path / "r2")
    with pytest.raises(BadInputError, match="no model.pt"): load_model(tmp_path)


def test_cli_retrain_baseline_on_the_synthetic_corpus(tmp_path, emodarts_cmd):
    out = tmp_path / "run"
    r = forked.run([emodarts_cmd, "retrain", "--baseline", "--corpus", "synthetic", "--preset", "tiny",
                    "--epochs", "1", "--out", out, "--quiet", "--cache", tmp_path / "cache"], env=ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "test:  WA" in r.stdout and f"run folder: {out}" in r.stdout and (out / "done.json").exists()
    r = forked.run([emodarts_cmd, "retrain", "--genotype", tmp_path / "nope.json", "--corpus", "synthetic"], env=ENV, cwd=tmp_path)
    assert r.returncode == 2 and "neither 'baseline'" in r.stderr


def test_a_retraining_folder_of_an_older_version_resumes_and_loads(tmp_path):
    "config.json with a partial space (versions before the typed space): resume returns the same run, load_model rebuilds it."
    from emodarts_nb.core import load_json, save_json
    from emodarts_nb.runs import save_run_checkpoint
    from emodarts_nb.supernet import SPACES
    from emodarts_nb.synthetic import make_synthetic
    syn = make_synthetic(tmp_path / "syn", n_speakers=4, n_per_class=2, classes=("neutral", "angry"), seconds=(0.5, 1.0))
    cfg, run = get_train_config("tiny", cache_dir=str(tmp_path / "cache")), tmp_path / "run"
    first = retrain(_genotype(cfg), cfg, syn, 0, run, progress=False)
    old = load_json(run / "config.json")
    old["space"] = {k: v for k, v in old["space"].items() if k in SPACES["tiny"]}
    save_json(old, run / "config.json")
    save_run_checkpoint(run, **{k: v for k, v in load_checkpoint(run / "checkpoint.pt").items() if k != "key"})
    again = retrain(_genotype(cfg), cfg, syn, 0, run, resume=True, progress=False)
    assert again.metrics == first.metrics and load_json(run / "config.json") == old
    tm = load_model(run)
    assert tm.labels == ("neutral", "angry") and tm.model.space == cfg.space   # weights loaded into the same network


@pytest.mark.parametrize("model", ["baseline", "genotype"])
def test_deltas_reach_the_model_as_channels(tmp_path, monkeypatch, model):
    "deltas=2: the stem convolution takes 3 channels (static, Δ, ΔΔ) of F rows each; the run's predictions are reproduced"
    " from raw features by load_model + predict_arrays, and the exported model agrees."
    from emodarts_nb import features
    from emodarts_nb.cache import extract_corpus
    from emodarts_nb.predict import export_run
    from emodarts_nb.synthetic import make_synthetic
    fcfg = features.get_preset("cpu", name="cpu_d2", deltas=2, n_mels=16, norm="train", max_seconds=None, segment_seconds=1.0,
                               segment_hop_seconds=0.5)
    monkeypatch.setitem(features.PRESETS, "cpu_d2", fcfg)
    syn = make_synthetic(tmp_path / "syn", n_speakers=4, n_per_class=2, classes=("neutral", "angry"), seconds=(1.0, 2.0))
    cfg = get_train_config("tiny", features="cpu_d2", cache_dir=str(tmp_path / "cache"), baseline=dict(channels=(4,), lstm_hidden=4))
    retrain("baseline" if model == "baseline" else _genotype(cfg), cfg, syn, 0, tmp_path / "run", progress=False)
    info = json.loads((tmp_path / "run" / "model.json").read_text())
    assert info["input_shape"][:2] == [3, 16]
    tm = load_model(tmp_path / "run")
    first_conv = next(m for m in tm.model.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 3
    pred = pd.read_csv(tmp_path / "run" / "predictions.csv")
    feats = extract_corpus(syn, fcfg, cache_dir=tmp_path / "cache", progress=False).feats
    assert next(iter(feats.values())).shape[0] == 48                      # the cache keeps the blocks stacked on F
    np.testing.assert_allclose(predict_arrays(tm, [feats[u] for u in pred.utt]), pred.filter(like="p_").to_numpy(), atol=1e-5)
    assert export_run(tmp_path / "run", formats=("torchscript",))["torchscript"].exists()
