"""How a finished search's genotype is derived (its caps, what it is read off), judged by retraining what each
setting derives, on validation speakers only; no search runs again.

    OMP_NUM_THREADS=1 .venv/bin/python bench/derive_study.py --searches runs/search_study/convspreset \
        --vary min_param=2,4,3 --results bench/results/min_param_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/derive_study.py --searches runs/dev/selectperturbation \
        --vary select=perturbation,alphas --results bench/results/select_dev_study.csv
    OMP_NUM_THREADS=1 .venv/bin/python bench/derive_study.py --searches runs/emodb_s345 runs/emodb_s6 \
        --vary max_param=none,2 --results bench/results/max_param_study.csv

--searches is one or more experiment folders (`emodarts experiment`, or one setting of `bench/search_study.py`) of
DARTS searches. For each of its `searched` jobs (<searches>/searched/<fold>/seed<seed>) and each value of --vary (k,
max_skip, min_param or max_param: the caps; select: perturbation or alphas, what the genotype is read off), the
genotype is derived again from what the search saved (`search.rederive`: its perturbation scores, where it selected by
perturbation as the `cpu` preset does, or its final alphas; nothing is evaluated again, except that the final
supernet of a search that read its alphas is scored by perturbation once for select=perturbation:
`search.score_perturbation`). Where that genotype is the
job's own (its own settings give it back), the job's own retraining is read; otherwise the genotype is retrained
with the job's own retraining config (same preset, seed and fold, of any protocol) into
<out>/<field><value>/<fold>/seed<seed>. It compares the retraining's utterance UA on the fold's validation speaker
(selected epoch, and the mean of the last epochs: used to choose) and reports the one on the test speaker (never
used to choose; with --protocol loso_dev searches, a speaker nothing in the fold chose with), with the parameters,
the retraining's seconds and how many of the sequential cell's kept edges hold a recurrent or attention operation.
Resumable: finished retrainings are read back. Writes --results after every job. Prints figures; asserts nothing.
"""
from __future__ import annotations
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import (command_line, emodb_corpus, end_valid_ua, parse_value, print_choice, seq_recurrent,  # noqa: E402
                      study_parser, train_seconds, trained_genotype, write_rows)


def main(argv=None):
    p = study_parser(__doc__, "derive_study")
    p.add_argument("--searches", required=True, nargs="+",
                   help="experiment folders of searched jobs (DARTS searches), e.g. one per seed")
    p.add_argument("--vary", required=True, help="a derivation setting and its values, e.g. min_param=2,4")
    p.add_argument("--folds", default=None, help="comma-separated job folders (test speakers), e.g. 03,08; default all")
    a = p.parse_args(argv)
    from emodarts_nb.search import DERIVE_CAPS
    key, _, values = a.vary.partition("=")
    if key not in ("select", *DERIVE_CAPS) or not values:
        p.error(f"--vary {a.vary!r}: write a derivation setting (select, {', '.join(DERIVE_CAPS)}) and its values, "
                "e.g. min_param=2,4 or select=perturbation,alphas")
    values = [None if v == "none" else parse_value(v) for v in values.split(",")]
    jobs = sorted((j for s in a.searches for j in Path(s).glob("searched/*/seed*")), key=lambda j: (j.parent.name, j.name))
    if len({(j.parent.name, j.name) for j in jobs}) < len(jobs):
        p.error(f"{' '.join(a.searches)}: the same fold and seed in two folders; give each (fold, seed) once")
    if a.folds: jobs = [j for j in jobs if j.parent.name in a.folds.split(",")]
    if not jobs:
        p.error(f"{' '.join(a.searches)}: no searched/<fold>/seed<seed> job folders" + (f" for --folds {a.folds}" if a.folds else ""))
    command = command_line("derive_study.py", argv)
    from emodarts_nb.config import train_config_from_dict
    from emodarts_nb.core import load_json
    from emodarts_nb.protocols import Fold
    from emodarts_nb.search import rederive, score_perturbation, short_genotype
    from emodarts_nb.train import retrain
    corpus = emodb_corpus(a.emodb)
    rows = []
    for job in jobs:
        own = trained_genotype(job / "train")
        f = load_json(job / "train" / "fold.json")   # the job's fold (its utterances, whatever the protocol)
        fold = Fold(f["fold"], *(tuple(f[p]) for p in ("train", "valid", "test")))
        for v in values:
            if (key, v) == ("select", "perturbation"): score_perturbation(job / "search", corpus, fold)  # once per job
            g = rederive(job / "search", **{key: v})
            run = job / "train" if g == own else Path(a.out) / f"{key}{v}" / job.parent.name / job.name
            if g != own:   # the job's own retraining config, on its fold
                cfg = train_config_from_dict(load_json(job / "train" / "config.json"))
                retrain(g, cfg, corpus, fold, run, resume=run.exists(), progress=False, protocol=f["protocol"])
            m = load_json(run / "metrics.json")
            rows.append(dict(fold=job.parent.name, seed=int(job.name.removeprefix("seed")), **{key: v},
                             params=m["params"], valid_ua=m["valid"]["ua"],
                             valid_ua_end=end_valid_ua(run), test_ua=m["test"]["ua"], train_s=train_seconds(run),
                             seq_trained=seq_recurrent(g), genotype=short_genotype(g), retrained=g != own))
            print(rows[-1], flush=True)
            write_rows(a.results, command, "valid_ua chooses; test_ua is reported only; retrained False: the genotype "
                       "is the search job's own, its own retraining is read; train_s: the retraining's epochs, on a "
                       "shared machine: not a speed figure", rows)
    print_choice(rows, key)


if __name__ == "__main__":
    main()
