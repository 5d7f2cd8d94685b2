"""Front-end recipes for the hand-designed CNN-LSTM on EmoDB, chosen on the validation speakers only.

    OMP_NUM_THREADS=2 .venv/bin/python bench/recipe_study.py                       # every recipe, 10 folds
    OMP_NUM_THREADS=2 .venv/bin/python bench/recipe_study.py --recipes cpu,whole --folds 0,1

Each recipe is the `cpu` feature preset with some fields replaced (below). For each recipe and leave-one-speaker-out
fold it retrains the `baseline` model with the `cpu` retraining preset (seed 0) and reads the utterance UA on the
fold's validation speaker and on its test speaker. The recipe to adopt is the one with the best mean *validation* UA;
the test UA is printed beside it only to report, never to choose. Resumable: finished folds are read back from
--out. Writes bench/results/recipe_study.csv. Prints figures; asserts nothing.
"""
from __future__ import annotations
import argparse, os, shlex, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECIPES = {                                     # name: fields of the `cpu` feature preset that change
    "cpu": {},                                                              # first 3 s of each utterance
    "whole": dict(max_seconds=None, segment_seconds=3.0, segment_hop_seconds=1.5),   # every 3-s segment, averaged
    "whole_d2": dict(max_seconds=None, segment_seconds=3.0, segment_hop_seconds=1.5, deltas=2),  # + Δ, ΔΔ as channels
    "whole_2s": dict(max_seconds=None, segment_seconds=2.0, segment_hop_seconds=1.0),
    "whole_2s_d2": dict(max_seconds=None, segment_seconds=2.0, segment_hop_seconds=1.0, deltas=2),
}
# Up to 4f6b830 the models saw Δ and ΔΔ stacked on the feature axis (192 rows, ~5x the time per fold); those rows,
# whole_d2 and whole_d2_40 (40 mels), are kept in bench/results/recipe_study_stacked.csv.


def write(rows, path):
    import pandas as pd
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write(f"# command: EMODARTS_SHARED_DATA=../shared/data OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} "
                f"python bench/recipe_study.py {shlex.join(sys.argv[1:])}\n"
                "# baseline (hand-designed CNN-LSTM), cpu retraining preset, seed 0, EmoDB LOSO; valid_ua on the fold's "
                "validation speaker (used to choose), test_ua on its test speaker (reported only)\n"
                "# seconds: wall per job, including feature extraction on a recipe's first fold; not a speed figure\n")
        pd.DataFrame(rows).to_csv(f, index=False)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recipes", default=",".join(RECIPES))
    p.add_argument("--folds", default=None, help="comma-separated fold indices (default: all)")
    p.add_argument("--emodb", default=None, help="EmoDB folder (default: $EMODARTS_SHARED_DATA/emodb)")
    p.add_argument("--out", default=str(ROOT / "runs" / "recipe_study"))
    p.add_argument("--results", default=str(ROOT / "bench" / "results" / "recipe_study.csv"))
    a = p.parse_args(argv)
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python bench/recipe_study.py "
          f"{shlex.join(sys.argv[1:] if argv is None else argv)}", flush=True)
    import pandas as pd
    from emodarts_nb import features
    from emodarts_nb.config import get_train_config
    from emodarts_nb.core import load_json
    from emodarts_nb.corpus import load_corpus
    from emodarts_nb.protocols import get_fold, make_folds
    from emodarts_nb.train import retrain
    d = Path(a.emodb) if a.emodb else Path(os.environ.get("EMODARTS_SHARED_DATA", ROOT.parent / "shared" / "data")) / "emodb"
    corpus = load_corpus("emodb", d)
    n = len(make_folds(corpus, "loso"))
    folds = [int(f) for f in a.folds.split(",")] if a.folds else list(range(n))
    rows = []
    names = a.recipes.split(",")
    for name in names:
        features.PRESETS[f"study_{name}"] = features.get_preset("cpu", name=f"study_{name}", **RECIPES[name])
    for f in folds:                                  # fold by fold: a partial run compares recipes on the same folds
        for name in names:
            run = Path(a.out) / name / f"fold{f:02d}"
            t0 = time.perf_counter()
            retrain("baseline", get_train_config("cpu", features=f"study_{name}", seed=0), corpus,
                    get_fold(corpus, "loso", f), run, resume=run.exists(), progress=False)
            m = load_json(run / "metrics.json")
            rows.append(dict(recipe=name, fold=f, valid_ua=m["valid"]["ua"], test_ua=m["test"]["ua"],
                             seconds=round(time.perf_counter() - t0, 1)))
            print(rows[-1], flush=True)
            write(rows, a.results)                   # after every job: a stopped study keeps what it finished
    df = pd.DataFrame(rows)
    s = df.groupby("recipe", sort=False).agg(valid_ua=("valid_ua", "mean"), test_ua=("test_ua", "mean"),
                                             test_std=("test_ua", "std"), folds=("fold", "count"), seconds=("seconds", "sum"))
    print((s * [100, 100, 100, 1, 1]).round(1).to_string())
    print(f"chosen on validation speakers: {s.valid_ua.idxmax()}")


if __name__ == "__main__":
    main()
