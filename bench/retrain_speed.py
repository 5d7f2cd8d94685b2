"""Throughput per operation of retraining: multiply-accumulates per second of a searched network's training step
against the hand-designed baseline's (emodarts_nb.baselines.build_baseline), at the `cpu` retraining preset.

    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_speed.py                       # this checkout
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_speed.py --before /tmp/oldpkg  # + an earlier copy, side by side
        # /tmp/oldpkg/emodarts_old: `git archive <commit> emodarts_nb | tar -x -C /tmp/o && mv /tmp/o/emodarts_nb
        #  /tmp/oldpkg/emodarts_old` (its modules import each other relatively, so the copy imports under a new name)
    OMP_NUM_THREADS=1 .venv/bin/python bench/retrain_speed.py --runs runs/emodb_loso --genotypes 10   # what a report found

A training step is forward, cross-entropy, backward and an SGD step (momentum 0.9, weight decay 3e-4) on a batch
of the preset's size, in train mode, with drop path at the preset's final probability. Its MACs are counted once
by emodarts_nb.network.flop_counter (torch's FlopCounterMode plus the fused CPU LSTM kernel; forward and
backward, FLOPs / 2); its time is the minimum over --steps steps after one warm-up, the models taking turns step
by step so that the load of a shared machine falls on all of them alike. The searched networks are random
genotypes of the preset's space (seeds 0..--genotypes-1): the same operations a search picks from; or, with --runs,
the genotypes the searches of an `emodb_report.py` run folder found. Prints one
JSON line per model and the share of the baseline's MAC/s; asserts nothing.
"""
from __future__ import annotations
import argparse, copy, json, os, sys, time


def train_step(model, opt, x, y):
    import torch.nn.functional as F
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--genotypes", type=int, default=3)
    p.add_argument("--before", help="a folder holding emodarts_old, an earlier copy of emodarts_nb")
    p.add_argument("--runs", help="an emodb_report.py run folder: time the genotypes its searches found "
                                  "(searched/FOLD/seedS/search/genotype.json, the first --genotypes of them) instead of random ones")
    a = p.parse_args()
    import torch
    from emodarts_nb.baselines import build_baseline
    from emodarts_nb.network import Network, flop_counter
    from emodarts_nb.supernet import random_genotype
    from emodarts_nb.train import get_train_config
    from emodarts_nb.features import input_chw
    from search import preset_input_shape  # bench/search.py
    cfg = get_train_config("cpu")
    shape, B, space = preset_input_shape(cfg.features), cfg.batch_size, cfg.space
    print(f"# reproduce: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} {sys.executable} {' '.join(sys.argv)}")
    torch.manual_seed(0)
    models = {"baseline": build_baseline(cfg.baseline, 4, shape)}
    old_network = None
    if a.before:
        sys.path.insert(0, a.before)
        from emodarts_old.network import Network as old_network
        from emodarts_old.supernet import SpaceConfig as OldSpace
    if a.runs:  # the genotypes a report's searches found, named by fold and seed
        from pathlib import Path
        from emodarts_nb.core import load_json
        from emodarts_nb.genotypes import Genotype
        found = sorted(Path(a.runs).glob("searched/*/seed*/search/genotype.json"))[:a.genotypes]
        if not found: sys.exit(f"{a.runs}: no searched/FOLD/seedS/search/genotype.json in it; give an emodb_report.py --out folder")
        genotypes = {f"searched_{f.parents[2].name}_{f.parents[1].name}": Genotype.from_dict(load_json(f)["best"], what=str(f))
                     for f in found}
    else:
        genotypes = {f"searched_{s}": random_genotype(space, generator=torch.Generator().manual_seed(s))
                     for s in range(a.genotypes)}
    for s, (name, g) in enumerate(genotypes.items()):
        torch.manual_seed(s)
        net = Network(g, space, 4, shape)
        net.drop_path_prob = cfg.drop_path
        models[name] = net
        if old_network is not None:
            old = old_network(g, OldSpace(**space.to_dict()), 4, shape)
            old.load_state_dict(net.state_dict())
            old.drop_path_prob = cfg.drop_path
            models[f"{name}_before"] = old
    x, y = torch.randn(B, *input_chw(shape)), torch.randint(0, 4, (B,))
    opts = {k: torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=3e-4) for k, m in models.items()}
    macs = {}
    for k, m in models.items():
        m.train()
        with flop_counter() as fc: train_step(m, opts[k], x, y)  # also the warm-up step
        macs[k] = fc.get_total_flops() // 2
    times = {k: [] for k in models}
    for _ in range(a.steps):
        for k, m in models.items():
            t0 = time.perf_counter()
            train_step(m, opts[k], x, y)
            times[k].append(time.perf_counter() - t0)
    base = macs["baseline"] / min(times["baseline"])
    for k in models:
        rate = macs[k] / min(times[k])
        print(json.dumps(dict(model=k, batch=B, input=list(shape), threads=torch.get_num_threads(),
                              params=sum(p.numel() for p in models[k].parameters()), mmacs_per_step=round(macs[k] / 1e6, 1),
                              step_s=round(min(times[k]), 4), gmacs_per_s=round(rate / 1e9, 3),
                              share_of_baseline=round(rate / base, 3))), flush=True)


if __name__ == "__main__": main()
