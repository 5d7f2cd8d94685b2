"""The first-order architecture step with the weights as constants (what `Architect.first_order_grads` does) against
the same step with the weights needing gradients (what it did before), in one process, taking turns.

    OMP_NUM_THREADS=2 .venv/bin/python bench/alpha_step.py --case emodarts --threads 2 --rounds 6
    OMP_NUM_THREADS=1 .venv/bin/python bench/alpha_step.py --case cpu --threads 1 --rounds 10

The case's supernet (`bench/search.py`'s cases: its space, input and batch) on random input; each round times one
step of each kind, the kind that goes first alternating, each from the same random state (the attention operations'
stacked layers draw dropout masks), and checks that the two give the same alpha gradients, bit for bit.
Prints the medians and their ratio; asserts nothing else. One process for both kinds, because on this machine fresh
processes of the same code differ by up to half at the small cases.
"""
from __future__ import annotations
import argparse, statistics, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "bench"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--case", default="cpu", help="a case of bench/search.py: cpu, emodarts, emodarts-b4, ...")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=6)
    a = p.parse_args()
    import torch
    from search import case_shape
    from emodarts_nb.architect import Architect
    from emodarts_nb.features import input_chw
    from emodarts_nb.supernet import SuperNet
    torch.manual_seed(0); torch.set_num_threads(a.threads)
    _, shape, batch, cfg = case_shape(a.case)
    net = SuperNet(cfg.space, 4, shape)
    x, y = torch.randn(batch, *input_chw(shape)), torch.arange(batch) % 4
    arch = Architect(net)
    kinds = {"weights as constants": lambda: arch.first_order_grads((x, y))[0],
             "weights needing gradients": lambda: torch.autograd.grad(arch.loss(list(net.weights()), (x, y)), net.alphas())}
    times, diff = {k: [] for k in kinds}, 0.
    for r in range(a.rounds):
        grads = {}
        for k in (list(kinds) if r % 2 == 0 else list(kinds)[::-1]):
            torch.manual_seed(r)  # the same dropout masks (the attention operations' stacked layers) for both kinds
            t = time.perf_counter(); grads[k] = kinds[k](); times[k].append(time.perf_counter() - t)
        u, v = (torch.cat([g.flatten() for g in gs]) for gs in grads.values())
        diff = max(diff, ((u - v).abs().max() / v.abs().max()).item())
        assert diff == 0, f"the two kinds gave different alpha gradients: {diff:.2e} of the largest entry"
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"# OMP_NUM_THREADS={a.threads} python bench/alpha_step.py --case {a.case} --threads {a.threads} --rounds {a.rounds}")
    print(f"case {a.case}: input {list(shape)}, batch {batch}, C {cfg.space.C}, {a.threads} thread(s), {a.rounds} rounds")
    for k, v in times.items(): print(f"{k}: median {med[k]:.3f} s per architecture step ({', '.join(f'{t:.3f}' for t in v)})")
    print(f"ratio (weights needing gradients / weights as constants): {med['weights needing gradients'] / med['weights as constants']:.2f}")
    print(f"largest difference between their alpha gradients: {diff:.2e} of the largest entry")


if __name__ == "__main__":
    main()
