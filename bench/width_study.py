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
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import (command_line, emodb_corpus, print_choice, retrain_row, study_parser, train_seconds,  # noqa: E402
                      write_rows)


def main(argv=None):
    p = study_parser(__doc__, "width_study")
    p.add_argument("--runs", default=str(ROOT / "runs" / "emodb_loso"), help="an emodb_report.py run folder")
    p.add_argument("--folds", required=True, help="comma-separated fold names (test speakers), e.g. 03,08")
    p.add_argument("--widths", default="4,8", help="comma-separated C of the retrained network")
    p.add_argument("--seed", type=int, default=0, help="the search seed whose genotype is retrained")
    a = p.parse_args(argv)
    command = command_line("width_study.py", argv)
    from emodarts_nb.core import load_json
    from emodarts_nb.genotypes import Genotype
    from emodarts_nb.protocols import make_folds
    corpus = emodb_corpus(a.emodb)
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
            rows.append(dict(fold=fold, C=C, **retrain_row(geno, dict(C=C), a.seed, corpus, names.index(fold), run)))
            print(rows[-1], flush=True)
            write_rows(a.results, command, "valid_ua chooses; test_ua is reported only; seconds: the retraining's epochs "
                       "(history.csv), on a shared machine: not a speed figure", rows)
    print_choice(rows, "C")


if __name__ == "__main__":
    main()
