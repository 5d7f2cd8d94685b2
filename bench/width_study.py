"""Retraining width of searched genotypes on EmoDB, chosen on the validation speakers only.

    OMP_NUM_THREADS=1 .venv/bin/python bench/width_study.py --runs runs/emodb_loso --folds 03,08 --widths 8

DARTS searches a narrow supernet and retrains the genotype it found wider (C 16 -> 36 on CIFAR-10). For each
fold of an `emodb_report.py` run folder (--runs), this reads the `searched` job's own retraining (the genotype
best on the valid part, at the C its config.json names; <runs>/searched/<fold>/seed<seed>/train) and retrains the same
genotype with the same preset and seed at each width C of --widths. It compares the utterance UA on the fold's
validation speaker (used to choose) and reports the one on its test speaker (never used to choose).
Resumable: finished jobs are read back from --out. Writes bench/results/width_study.csv after every job. Prints
figures; asserts nothing.
"""
from __future__ import annotations
import argparse, os, shlex, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def train_seconds(run: Path) -> float:
    "Seconds of a retraining run's epochs (its history.csv), so that a run read back keeps its own time."
    import pandas as pd
    return round(float(pd.read_csv(run / "history.csv").seconds.sum()), 1)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default=str(ROOT / "runs" / "emodb_loso"), help="an emodb_report.py run folder")
    p.add_argument("--folds", required=True, help="comma-separated fold names (test speakers), e.g. 03,08")
    p.add_argument("--widths", default="4,8", help="comma-separated C of the retrained network")
    p.add_argument("--seed", type=int, default=0, help="the search seed whose genotype is retrained")
    p.add_argument("--emodb", default=None, help="EmoDB folder (default: $EMODARTS_SHARED_DATA/emodb)")
    p.add_argument("--out", default=str(ROOT / "runs" / "width_study"))
    p.add_argument("--results", default=str(ROOT / "bench" / "results" / "width_study.csv"))
    a = p.parse_args(argv)
    command = (f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python bench/width_study.py "
               f"{shlex.join(sys.argv[1:] if argv is None else argv)}")
    print(command, flush=True)
    import pandas as pd
    from emodarts_nb.config import get_train_config
    from emodarts_nb.core import load_json
    from emodarts_nb.corpus import load_corpus
    from emodarts_nb.genotypes import Genotype
    from emodarts_nb.protocols import make_folds
    from emodarts_nb.train import retrain
    d = Path(a.emodb) if a.emodb else Path(os.environ.get("EMODARTS_SHARED_DATA", ROOT.parent / "shared" / "data")) / "emodb"
    corpus = load_corpus("emodb", d)
    names = [f.name for f in make_folds(corpus, "loso")]
    rows = []
    for fold in a.folds.split(","):
        job = Path(a.runs) / "searched" / fold / f"seed{a.seed}"
        geno = Genotype.from_dict(load_json(job / "search" / "genotype.json")["best"], what=str(job))
        m = load_json(job / "train" / "metrics.json")
        C0 = load_json(job / "train" / "config.json")["space"]["C"]    # the width the report retrained at
        rows.append(dict(fold=fold, C=C0, params=m["params"], valid_ua=m["valid"]["ua"], test_ua=m["test"]["ua"],
                         seconds=train_seconds(job / "train")))                # the report's own retraining
        for C in (int(c) for c in a.widths.split(",")):
            run = Path(a.out) / fold / f"C{C}"
            r = retrain(geno, get_train_config("cpu", space=dict(C=C), seed=a.seed), corpus, names.index(fold), run,
                        resume=run.exists(), progress=False)
            rows.append(dict(fold=fold, C=C, params=r.metrics["params"], valid_ua=r.metrics["valid"]["ua"],
                             test_ua=r.metrics["test"]["ua"], seconds=train_seconds(run)))
            print(rows[-1], flush=True)
            Path(a.results).parent.mkdir(parents=True, exist_ok=True)
            with open(a.results, "w") as f:          # after every job: a stopped study keeps what it finished
                f.write(f"# command: {command}\n# valid_ua chooses; test_ua is reported only; seconds: the retraining's epochs "
                        "(history.csv), on a shared machine: not a speed figure\n")
                pd.DataFrame(rows).to_csv(f, index=False)
    s = pd.DataFrame(rows).groupby("C").agg(valid_ua=("valid_ua", "mean"), test_ua=("test_ua", "mean"),
                                            params=("params", "median"), folds=("fold", "count"))
    print(s.round(3).to_string())
    print(f"chosen on validation speakers: C={s.valid_ua.idxmax()}")


if __name__ == "__main__":
    main()
