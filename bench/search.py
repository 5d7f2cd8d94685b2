"""Seconds per search step and peak memory of the emoDARTS search, and (--full) one full CPU-preset search.

    OMP_NUM_THREADS=2 .venv/bin/python bench/search.py            # step timings: emodarts shape and cpu preset
    OMP_NUM_THREADS=2 .venv/bin/python bench/search.py --full     # + a full cpu-preset search on one EmoDB LOSO fold

Each shape runs in a fresh subprocess, so its peak memory is its own. A "search step" is one architecture
step on an alpha batch plus one weight step on a weight batch, as the search loop does; figures are the
median over --steps steps after one warm-up step. Peak memory is the process's maximum resident set size
(resource.getrusage ru_maxrss). Prints figures only; asserts nothing.
"""
from __future__ import annotations
import argparse, json, os, resource, statistics, subprocess, sys, time
from pathlib import Path

CASES = {  # name: (search preset, input (F, T), batch, space overrides)
    "emodarts": ("emodarts", (128, 128), 16, {}),
    "cpu": ("cpu", None, None, {}),
}

def peak_rss_mb() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

def one_case(name: str, steps: int, orders) -> dict:
    import torch, torch.nn.functional as F
    from emodarts_nb.config import get_config
    from emodarts_nb.features import get_preset
    from emodarts_nb.search import build_supernet
    from emodarts_nb.architect import Architect
    from emodarts_nb.supernet import count_params
    preset, shape, batch, space = CASES[name]
    cfg = get_config(preset, space=space or None)
    if shape is None:  # the cpu preset's own input: its feature preset's (F, T)
        f = get_preset(cfg.features); shape = (f.n_mels, int(f.max_seconds * f.sr / f.hop_length + 1) // f.time_pool)
    batch = batch or cfg.batch_size
    torch.manual_seed(0)
    model = build_supernet(cfg, 4, shape)
    w_optim = torch.optim.SGD(model.weights(), lr=cfg.w_lr, momentum=cfg.w_momentum, weight_decay=cfg.w_weight_decay)
    batch_of = lambda: (torch.randn(batch, 1, *shape), torch.randint(0, 4, (batch,)))
    out = dict(case=name, preset=preset, input=list(shape), batch=batch, C=cfg.space.get("C"), threads=torch.get_num_threads(),
               weights_M=round(count_params(model) / 1e6, 2))
    def weight_step(b):
        w_optim.zero_grad(); loss = F.cross_entropy(model(b[0]), b[1]); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.weights(), cfg.grad_clip); w_optim.step()
    for order in orders:
        arch = Architect(model, order=order)
        times = []
        for i in range(steps + 1):  # the first is warm-up
            trn, val = batch_of(), batch_of()
            t0 = time.perf_counter(); arch.step(trn, val, xi=cfg.w_lr, w_optim=w_optim); t1 = time.perf_counter()
            weight_step(trn); t2 = time.perf_counter()
            if i: times.append((t1 - t0, t2 - t1))
        out[order] = dict(alpha_step_s=round(statistics.median(a for a, _ in times), 3),
                          weight_step_s=round(statistics.median(w for _, w in times), 3),
                          search_step_s=round(statistics.median(a + w for a, w in times), 3))
    out["peak_rss_MB"] = round(peak_rss_mb())
    return out

def full_search(epochs=None) -> dict:
    from emodarts_nb.core import emodb_dir
    from emodarts_nb.corpus import load_corpus
    from emodarts_nb.config import get_config
    from emodarts_nb.search import search
    import tempfile
    if emodb_dir() is None: return dict(full="skipped: ../shared/data/emodb not found")
    corpus = load_corpus("emodb", emodb_dir())
    cfg = get_config("cpu", **({"epochs": epochs} if epochs else {}))
    out = Path(tempfile.mkdtemp()) / "run"
    t0 = time.perf_counter(); res = search(cfg, corpus, 0, out, progress=False); wall = time.perf_counter() - t0
    h = res.history.iloc[-1]
    return dict(full="cpu preset, EmoDB LOSO fold 0", wall_s=round(wall, 1), epochs=len(res.history), final_valid_acc=round(float(h.valid_acc), 3),
                best_valid_acc=round(float(res.history.valid_acc.max()), 3), genotype=str(res.genotype), peak_rss_MB=round(peak_rss_mb()), run=str(out))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", choices=tuple(CASES), help="run one case in this process (used by the driver)")
    p.add_argument("--cases", default="cpu,emodarts", help="cases to run, comma-separated")
    p.add_argument("--steps", type=int, default=3, help="measured steps per order (after 1 warm-up)")
    p.add_argument("--orders", default="first_order,second_order")
    p.add_argument("--full", action="store_true", help="also one full cpu-preset search on EmoDB LOSO fold 0")
    p.add_argument("--full-only", action="store_true", help="only the full search")
    p.add_argument("--epochs", type=int, default=None, help="epochs of the full search (default: the preset's)")
    a = p.parse_args()
    if a.case: print(json.dumps(one_case(a.case, a.steps, a.orders.split(",")))); return
    print(f"# reproduce: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} {sys.executable} {' '.join(sys.argv)}")
    print("# peak memory: resource.getrusage(RUSAGE_SELF).ru_maxrss of a fresh subprocess per case")
    if not a.full_only:
        for case in a.cases.split(","):
            r = subprocess.run([sys.executable, __file__, "--case", case, "--steps", str(a.steps), "--orders", a.orders],
                               capture_output=True, text=True)
            print(r.stdout.strip() if r.returncode == 0 else json.dumps(dict(case=case, error=r.stderr.strip().splitlines()[-1:], rc=r.returncode)), flush=True)
    if a.full or a.full_only: print(json.dumps(full_search(a.epochs)), flush=True)

if __name__ == "__main__": main()
