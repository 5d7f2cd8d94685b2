"Experiments: a 2-method x 2-fold grid, resume after a kill between jobs, local Ray = sequential, recipes on fixture trees."
import json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path

import pandas as pd, pytest
import forked

from emodarts_nb.cli import make_parser, experiment_kwargs
from emodarts_nb.experiment import run_experiment, get_recipe, read_results, import_ray

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
SAME = ["method", "fold", "seed", "n", "wa", "ua", "macro_f1", "params", "macs"]   # everything but times and memory
TINY = dict(search_preset="tiny", train_preset="tiny", search_overrides=dict(epochs=1, max_steps=2, random_n=1),
            train_overrides=dict(epochs=1, max_steps=2))


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    from emodarts_nb.synthetic import make_synthetic
    root = tmp_path_factory.mktemp("syn")
    return make_synthetic(root / "corpus", n_speakers=4, n_per_class=2, classes=("neutral", "angry"), seconds=0.5), str(root / "cache")


@pytest.fixture(scope="module")
def grid(syn, tmp_path_factory):
    "The reference table: first-order DARTS and the baseline on 2 folds, sequentially in this process."
    corpus, cache = syn
    out = tmp_path_factory.mktemp("grid") / "exp"
    df = run_experiment(corpus, "loso", "first_order,baseline", folds="0,1", out=out, cache_dir=cache, progress=False, **TINY)
    return df, out


def test_grid_table(grid):
    df, out = grid
    per = df[~df.fold.isin(["mean", "std", "pooled"])]
    assert per[["method", "fold"]].values.tolist() == [["first_order", "spk01"], ["first_order", "spk02"], ["baseline", "spk01"], ["baseline", "spk02"]]
    assert per[["wa", "ua", "macro_f1"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (per.params > 0).all() and (per.macs > 0).all() and (per.train_s > 0).all()
    assert (per.search_s[per.method == "first_order"] > 0).all() and (per.search_s[per.method == "baseline"] == 0).all()
    summ = df[df.fold.isin(["mean", "std", "pooled"])]
    assert summ.fold.tolist() == ["mean", "std", "pooled"] * 2
    assert abs(summ.ua[(summ.method == "baseline") & (summ.fold == "mean")].item() - per.ua[per.method == "baseline"].mean()) < 1e-12
    md = (out / "results.md").read_text()
    for key in ("* commit:", "* date:", "* machine:", "* package: emodarts_nb", "run_experiment(corpus='synthetic'", "## Per fold", "± "):
        assert key in md, key
    head = [l for l in (out / "results.csv").read_text().splitlines() if l.startswith("#")]
    assert [l.split(":")[0] for l in head] == ["# command", "# commit", "# date", "# machine", "# package"]
    genotype = json.loads((out / "first_order" / "spk01" / "seed0" / "search" / "genotype.json").read_text())
    assert json.loads((out / "first_order" / "spk01" / "seed0" / "train" / "model.json").read_text())["genotype"] == genotype["best"]


SCRIPT = textwrap.dedent("""
    import json, sys
    from emodarts_nb.synthetic import make_synthetic
    from emodarts_nb.experiment import run_experiment
    corpus = make_synthetic(sys.argv[1], n_speakers=4, n_per_class=2, classes=("neutral", "angry"), seconds=0.5)
    run_experiment(corpus, "loso", "first_order,baseline", folds="0,1", out=sys.argv[2], cache_dir=sys.argv[3], progress=True,
                   **json.loads(sys.argv[4]), **(dict(ray=True, workers=2) if sys.argv[5:] == ["--ray"] else {}))
""")


def test_resume_after_kill_between_jobs(syn, grid, tmp_path):
    "SIGKILL once the first job has finished; the rerun reads it back untouched and ends with the reference table."
    corpus, cache = syn
    out, script = tmp_path / "exp", tmp_path / "exp.py"
    script.write_text(SCRIPT)
    p = subprocess.Popen([sys.executable, str(script), str(corpus.root), str(out), cache, json.dumps(TINY)], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    first = out / "first_order" / "spk01" / "seed0" / "done.json"
    t0 = time.time()
    while not first.exists() and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert first.exists(), p.stdout.read().decode()[-2000:]
    finished = {q: q.stat().st_mtime_ns for q in out.rglob("done.json") if q.parent.parent.parent.parent == out}
    assert not (out / "results.csv").exists()
    df = run_experiment(corpus, "loso", "first_order,baseline", folds="0,1", out=out, cache_dir=cache, progress=False, **TINY)
    assert all(q.stat().st_mtime_ns == t for q, t in finished.items())          # finished jobs were not redone
    pd.testing.assert_frame_equal(df[SAME], grid[0][SAME])


@pytest.mark.xdist_group("ray")   # one local Ray cluster at a time: two starting at once time out on 2 cores
def test_ray_local_two_workers_same_table(syn, grid, tmp_path):
    "The grid on a local Ray with two workers (Ray is part of the dev install: a missing one fails), the same table."
    " Ray runs in a process of its own, forked from this one, which thus never holds Ray's threads (tests/forked.py)."
    corpus, cache = syn
    script = tmp_path / "exp.py"; script.write_text(SCRIPT)
    r = forked.run([sys.executable, script, corpus.root, tmp_path / "exp", cache, json.dumps(TINY), "--ray"], env=ENV)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "submitted to Ray (local)" in r.stdout + r.stderr, r.stdout[-2000:]
    ray, ref = (read_results(out / "results.csv") for out in (tmp_path / "exp", grid[1]))
    pd.testing.assert_frame_equal(ray[SAME], ref[SAME])
    assert (tmp_path / "exp" / "results.md").exists()


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)          # `import ray` now raises ImportError
    with pytest.raises(Exception, match=r"emodarts_nb\[ray\]"): import_ray()


def _parse(*argv):
    return make_parser().parse_args(["experiment", *argv])


@pytest.mark.parametrize("recipe, make, n_folds", [("iemocap_emodarts", "make_iemocap_tree", 5), ("msp_improv_emodarts", "make_msp_improv_tree", 4),
                                                  ("iemocap_loso", "make_iemocap_tree", 5)])
def test_recipes_on_fixture_trees(recipe, make, n_folds, tmp_path):
    "One command per recipe on a tree that mirrors the corpus layout (tiny presets, one fold, the baseline)."
    from emodarts_nb import testing as fixtures
    from emodarts_nb.protocols import make_folds
    from emodarts_nb.corpus import load_corpus
    root = getattr(fixtures, make)(tmp_path / "data")
    a = _parse("--recipe", recipe, "--corpus-path", str(root), "--methods", "baseline", "--folds", "0", "--search-preset", "tiny",
               "--train-preset", "tiny", "--train-epochs", "1", "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "exp"), "--quiet")
    kw = experiment_kwargs(a)
    assert (kw["corpus"], kw["protocol"]) == (get_recipe(recipe)["corpus"], get_recipe(recipe)["protocol"])
    assert len(make_folds(load_corpus(kw["corpus"], kw["corpus_path"]), kw["protocol"])) == n_folds
    a.func(a)
    df = read_results(tmp_path / "exp" / "results.csv")
    assert df.method.tolist()[0] == "baseline" and len(df) == 1 + 3
    labels = json.loads(next((tmp_path / "exp" / "baseline").rglob("model.json")).read_text())["labels"]
    assert labels == ["ang", "hap", "neu", "sad"]
