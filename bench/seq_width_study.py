"""Retraining width of the sequential cells (`seq_dim`) of DARTS networks on EmoDB, chosen on validation speakers only.

    OMP_NUM_THREADS=1 .venv/bin/python bench/seq_width_study.py --folds 0,1,2,3,4 --seq-dims 32,64

The `cpu` retraining preset builds the sequential cells 32 wide, where the hand-designed baseline's BiLSTM is 2 x 64.
For each fold (an index into EmoDB's leave-one-speaker-out folds) this draws one genotype uniformly from the `cpu`
search space (the random-search sampler, seed 100 + fold; no search, so that the width is judged apart from what a
search picks) and retrains it with the `cpu` preset and seed 0 at each `seq_dim` of --seq-dims. It compares the
utterance UA on the fold's validation speaker (used to choose) and reports the one on its test speaker (never used
to choose). Resumable: finished runs are read back from --out. Writes --results after every run. Prints figures;
asserts nothing.
"""
from __future__ import annotations
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import command_line, emodb_corpus, print_choice, retrain_row, study_parser, write_rows  # noqa: E402


def main(argv=None):
    p = study_parser(__doc__, "seq_width_study")
    p.add_argument("--folds", required=True, help="comma-separated fold indices, e.g. 0,1,2")
    p.add_argument("--seq-dims", default="32,64", help="comma-separated seq_dim of the retrained network")
    a = p.parse_args(argv)
    command = command_line("seq_width_study.py", argv)
    from emodarts_nb.config import get_config
    from emodarts_nb.random_search import draw_candidate
    from emodarts_nb.search import short_genotype
    corpus = emodb_corpus(a.emodb)
    rows = []
    for fold in (int(f) for f in a.folds.split(",")):
        geno = draw_candidate(get_config("cpu", seed=100 + fold), 0)
        for dim in (int(x) for x in a.seq_dims.split(",")):
            run = Path(a.out) / f"f{fold}" / f"d{dim}"
            rows.append(dict(fold=fold, seq_dim=dim, **retrain_row(geno, dict(seq_dim=dim), 0, corpus, fold, run),
                             genotype=short_genotype(geno)))
            print(rows[-1], flush=True)
            write_rows(a.results, command, "valid_ua chooses; test_ua is reported only; seconds: the retraining's epochs "
                       "(history.csv), at nice 19 beside other work: not a speed figure", rows)
    print_choice(rows, "seq_dim")


if __name__ == "__main__":
    main()
