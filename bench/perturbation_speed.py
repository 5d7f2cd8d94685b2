"""The perturbation selection (DARTS-PT) of a finished search, timed with and without keeping what enters each cell
type's first cell.

    OMP_NUM_THREADS=1 .venv/bin/python bench/perturbation_speed.py --run runs/emodb_loso/searched/03/seed0/search
    OMP_NUM_THREADS=1 .venv/bin/python bench/perturbation_speed.py --run ... --batch-sizes 32   # + the states kept, batch 32

Loads the final supernet of a search run folder on EmoDB (--run: its checkpoint, config and fold) and the search's
valid part, then times `search.perturbation_scores` alternately with `cache_mb=0` (every score a whole evaluation of
the supernet, as before the states were kept) and with the default (the states entering the cell type's first cell
computed once), --repeats times each, in batches of the search's `eval_batch_size` (and, with --batch-sizes, the
states kept in batches of each size given, in the same turns). Prints the median seconds of each, their ratio, and
the largest difference between the two's scores (and each batch size's against the default's). Prints figures;
asserts nothing.
"""
from __future__ import annotations
import argparse, statistics, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _studies import command_line, emodb_corpus  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True, help="a search run folder with checkpoint.pt (a searched job's search/)")
    p.add_argument("--emodb", default=None, help="EmoDB folder (default: $EMODARTS_SHARED_DATA/emodb)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch-sizes", default="", help="more batch sizes to time the kept states at, comma-separated")
    a = p.parse_args(argv)
    command_line("perturbation_speed.py", argv)
    import torch
    from emodarts_nb.config import load_config
    from emodarts_nb.core import load_json
    from emodarts_nb.data import load_fold, search_data
    from emodarts_nb.protocols import make_folds
    from emodarts_nb.runs import load_run_checkpoint
    from emodarts_nb.search import build_supernet, perturbation_scores
    run = Path(a.run)
    cfg, name = load_config(run / "config.json"), load_json(run / "fold.json")["fold"]
    corpus = emodb_corpus(a.emodb)
    fold = next(f for f in make_folds(corpus, "loso") if f.name == name)
    data = search_data(load_fold(corpus, fold, cfg.features, cfg.cache_dir, False), cfg.weight_fraction, cfg.seed)
    net = build_supernet(cfg, data.n_classes, data.input_shape)
    net.load_state_dict(load_run_checkpoint(run)["model"])
    ways = [("whole", 0, cfg.eval_batch_size), ("kept", 512, cfg.eval_batch_size)]
    ways += [(f"kept, batch {b}", 512, b) for b in map(int, filter(None, a.batch_sizes.split(",")))]
    times, scores = {w: [] for w, _, _ in ways}, {}
    for _ in range(a.repeats):
        for way, mb, bs in ways:
            t = time.perf_counter()
            scores[way] = perturbation_scores(net, data.valid_x, data.valid_y, bs, cache_mb=mb)
            times[way].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    largest = lambda u, v: max((scores[u][c] - scores[v][c]).abs().max().item() for c in scores[u])
    diff = largest("whole", "kept")
    n = sum(int((s != 0).sum()) for s in scores["whole"].values())
    print(f"fold {name}, {len(data.valid_y)} valid segments, {n} scores, {torch.get_num_threads()} thread(s), "
          f"{a.repeats} repeats alternating")
    print(f"whole evaluations: median {med['whole']:.2f} s {[round(t, 2) for t in times['whole']]}")
    print(f"states kept:       median {med['kept']:.2f} s {[round(t, 2) for t in times['kept']]} (batch {cfg.eval_batch_size})")
    print(f"ratio whole / kept: {med['whole'] / med['kept']:.2f}; largest score difference {diff:.2e}")
    for way, _, bs in ways[2:]:
        print(f"states kept, batch {bs}: median {med[way]:.2f} s {[round(t, 2) for t in times[way]]}; "
              f"ratio to batch {cfg.eval_batch_size}: {med[way] / med['kept']:.2f}; largest score difference {largest(way, 'kept'):.2e}")


if __name__ == "__main__":
    main()
