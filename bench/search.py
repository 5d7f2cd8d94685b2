"""Seconds per search step, peak memory and achieved GFLOP/s of the supernet search; side by side with an
earlier copy of this package (before/after) or with the official emoDARTS code when a path to it is given.

    OMP_NUM_THREADS=2 .venv/bin/python bench/search.py                      # cpu preset, emodarts shape at batch 16
    OMP_NUM_THREADS=2 .venv/bin/python bench/search.py --cases emodarts-b4,cpu --orders first_order \\
        --before /tmp/old            # /tmp/old/emodarts_nb from `git archive <commit> emodarts_nb | tar -x -C /tmp/old`
    OMP_NUM_THREADS=2 .venv/bin/python bench/search.py --cases emodarts --official /tmp/emoDARTS
                                     # a checkout of jayaneetha/emoDARTS, fetched for the run and never committed
    OMP_NUM_THREADS=2 .venv/bin/python bench/search.py --full               # + a full cpu-preset search on EmoDB fold 0
    python bench/search.py --device cuda --cases emodarts,emodarts-b64 --official /tmp/emoDARTS   # on a GPU

Each case runs in a fresh subprocess (its peak memory is its own); with --before or --official the two codes run
one after the other, --rounds times, taking turns going first, and the ratio of their medians is printed. One round
is not enough to resolve a few percent: with the same code on both sides (an A/A run: `--before` a copy of this
checkout), one round at the emoDARTS shape, batch 16, 2 threads, timed 40.1 s and 35.5 s per search step on an AMD
EPYC with 2 cores, a ratio of 1.13 between identical codes; give an even --rounds, 2 or more, so that each code
runs first as often as second. A "search step" is
one architecture step on an alpha batch plus one weight step on a weight batch, as the search loop does; times
are medians over --steps steps after one warm-up step. Peak memory is the process's maximum resident set size
(resource.getrusage ru_maxrss); on a GPU also the peak of torch's CUDA allocator (max_memory_allocated), and
steps are timed between torch.cuda.synchronize() calls. FLOPs of a step are counted by torch's FlopCounterMode
(with the fused CPU LSTM and cuDNN RNN kernels added) on a batch-2 step with activation checkpointing off, scaled
to the batch: the model's own FLOPs, not the recomputation. The GEMM peak is the best of five 2048x2048 fp32 torch.matmul in the same process with the
same threads (8192x8192 on a GPU, TF32 off as torch's matmul default is; cuDNN's convolutions may use TF32, torch's
default there). Prints figures only; asserts nothing.
"""
from __future__ import annotations
import argparse, json, math, os, resource, statistics, subprocess, sys, time
from pathlib import Path

CASES = {  # name: (search preset, input (F, T), batch, space overrides)
    "emodarts": ("emodarts", (128, 128), 16, {}),
    "emodarts-b8": ("emodarts", (128, 128), 8, {}),
    "emodarts-b4": ("emodarts", (128, 128), 4, {}),
    "emodarts-b2": ("emodarts", (128, 128), 2, {}),
    "emodarts-b64": ("emodarts", (128, 128), 64, {}),
    "cpu": ("cpu", None, None, {}),
    "tiny": ("tiny", None, 16, {}),   # the tests', tutorials' and docs' searches (tutorial 6: batch 16)
}
ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def gemm_peak_gflops(device: str = "cpu", reps: int = 5) -> float:
    "Best fp32 GFLOP/s of an n x n matrix product on `device` (n = 2048 on a CPU, with this process's threads)."
    import torch
    n = 2048 if device == "cpu" else 8192
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    best = min(_timed(lambda: a @ b, device) for _ in range(reps))
    return 2 * n ** 3 / best / 1e9


def _timed(f, device: str = "cpu") -> float:
    "Seconds of f(); on a GPU, from an idle device to the end of the kernels f queued."
    import torch
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    t0 = time.perf_counter()
    f()
    sync()
    return time.perf_counter() - t0


def peak_memory(device: str) -> dict:
    "Peak resident set of this process; on a GPU also the peak of torch's CUDA allocator."
    import torch
    out = dict(peak_rss_MB=round(peak_rss_mb()))
    if device.startswith("cuda"): out["peak_cuda_MB"] = round(torch.cuda.max_memory_allocated() / 2 ** 20)
    return out


def flop_counter():
    "FlopCounterMode that also counts the CPU's fused LSTM layers (as emodarts_nb.network.flop_counter does)."
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    fwd = lambda x, w_ih, w_hh, *a, **k: 2 * math.prod(x[:-1]) * (math.prod(w_ih) + math.prod(w_hh))
    bwd = lambda *a, **k: 2 * fwd(*a)  # input and weight gradients
    # cuDNN: all layers and directions in one call; weights [w_ih, w_hh, b_ih, b_hh] per layer and direction
    cudnn = lambda x, ws, *a, **k: 2 * math.prod(x[:-1]) * sum(math.prod(w) for w in ws if len(w) == 2)
    fused = {torch.ops.aten.mkldnn_rnn_layer: fwd, torch.ops.aten.mkldnn_rnn_layer_backward: bwd,
             torch.ops.aten._cudnn_rnn: cudnn, torch.ops.aten._cudnn_rnn_backward: lambda *a, **k: 2 * cudnn(*a)}
    return FlopCounterMode(display=False, custom_mapping=fused)


def case_shape(name: str):
    "Search preset, input (F, T), batch and config of a case."
    from emodarts_nb.config import get_config
    preset, shape, batch, space = CASES[name]
    cfg = get_config(preset, space=space or None)
    return preset, tuple(shape or preset_input_shape(cfg.features)), batch or cfg.batch_size, cfg


def preset_input_shape(features: str) -> tuple:
    "What a model sees of one training example of feature preset `features`: (F, T), or (C, F, T) with Δ channels."
    from emodarts_nb.features import get_preset, model_input_shape, n_features, n_frames, segment_frames
    f = get_preset(features)
    T = segment_frames(f)[0] if segment_frames(f) else n_frames(f)  # a training segment, or the fixed length
    return model_input_shape(1 + f.deltas, n_features(f), T)


def time_steps(alpha_step, weight_step, batch_of, steps: int, device: str = "cpu") -> dict:
    "Median seconds of the alpha step, the weight step and both, over `steps` steps after one warm-up."
    times = []
    for i in range(steps + 1):
        trn, val = batch_of(), batch_of()
        ta = _timed(lambda: alpha_step(trn, val), device)
        tw = _timed(lambda: weight_step(trn), device)
        if i: times.append((ta, tw))
    return dict(alpha_step_s=round(statistics.median(a for a, _ in times), 3),
                weight_step_s=round(statistics.median(w for _, w in times), 3),
                search_step_s=round(statistics.median(a + w for a, w in times), 3),
                steps_s=[round(a + w, 3) for a, w in times])


def one_case(name: str, steps: int, orders, device: str = "cpu", checkpoint: str = "auto") -> dict:
    "Time this checkout's (or PYTHONPATH's) supernet search steps at case `name`; runs in its own process."
    import torch, torch.nn.functional as F
    import emodarts_nb
    from emodarts_nb.supernet import SuperNet, count_params
    from emodarts_nb.architect import Architect
    from emodarts_nb.features import input_chw
    preset, shape, batch, cfg = case_shape(name)
    torch.manual_seed(0)
    model = SuperNet(cfg.space, 4, shape).to(device)  # a SpaceConfig (a dict of its fields in older checkouts)
    if checkpoint != "auto": model.checkpoint = checkpoint == "all"  # else SuperNet's own rule
    edges = list(getattr(model, "_mixed_ops", lambda: [])())  # older copies may have none
    w_optim = torch.optim.SGD(model.weights(), lr=cfg.w_lr, momentum=cfg.w_momentum, weight_decay=cfg.w_weight_decay)
    batch_of = lambda b=batch: (torch.randn(b, *input_chw(shape), device=device), torch.randint(0, 4, (b,), device=device))
    out = dict(case=name, code=str(Path(emodarts_nb.__file__).parent), input=list(shape), batch=batch, C=model.space.C,
               threads=torch.get_num_threads(), weights_M=round(count_params(model) / 1e6, 2), **device_info(device),
               checkpoint=f"{checkpoint}: {sum(m.checkpoint for m in edges)} of {len(edges)} edges")
    def weight_step(b):
        w_optim.zero_grad()
        F.cross_entropy(model(b[0]), b[1]).backward()
        torch.nn.utils.clip_grad_norm_(model.weights(), cfg.grad_clip)
        w_optim.step()
    for order in orders:
        arch = Architect(model, order=order)
        alpha_step = lambda t, v: arch.step(t, v, xi=cfg.w_lr, w_optim=w_optim)
        out[order] = time_steps(alpha_step, weight_step, batch_of, steps, device)
    out.update(peak_memory(device))  # before the FLOP count, which runs without checkpointing
    for m in edges: m.checkpoint = False
    for order in orders:
        arch, small = Architect(model, order=order), 2
        with flop_counter() as fc:
            t = batch_of(small)
            arch.step(t, batch_of(small), xi=cfg.w_lr, w_optim=w_optim)
            weight_step(t)
        gflop = fc.get_total_flops() / 1e9 * batch / small
        out[order].update(gflop_per_step=round(gflop, 2), gflops=round(gflop / out[order]["search_step_s"], 2))
    out["gemm_peak_gflops"] = round(gemm_peak_gflops(device), 1)
    for order in orders: out[order]["share_of_gemm_peak"] = round(out[order]["gflops"] / out["gemm_peak_gflops"], 3)
    return out


def official_case(name: str, steps: int, orders, official: str, device: str = "cpu") -> dict:
    "The same steps with the official emoDARTS supernet (a checkout of jayaneetha/emoDARTS at `official`)."
    import torch, torch.nn as nn
    sys.path.insert(0, str(Path(official) / "emoDARTS"))
    from models.search_cnn import SearchCNNController  # the official code's names
    from architect import Architect as OfficialArchitect
    from emodarts_nb.features import input_chw
    preset, shape, batch, cfg = case_shape(name)
    sp = cfg.space  # its cells reduce at n//3 and 2n//3: ("normal", "reduce", "reduce", "normal") for 4
    torch.manual_seed(0)
    model = SearchCNNController(1, sp.C, 4, len(sp.cnn_cells), nn.CrossEntropyLoss(), n_nodes=sp.nodes,
                                device_ids=[0], n_layers_rnn=sp.seq_cells, n_nodes_rnn=sp.n_seq_nodes).to(device)
    w_optim = torch.optim.SGD(model.weights(), lr=cfg.w_lr, momentum=cfg.w_momentum, weight_decay=cfg.w_weight_decay)
    a_optim = torch.optim.Adam(model.alphas(), cfg.alpha_lr, betas=(0.5, 0.999), weight_decay=1e-3)
    batch_of = lambda b=batch: (torch.randn(b, *input_chw(shape), device=device), torch.randint(0, 4, (b,), device=device))
    out = dict(case=name, code=f"official: {official}", input=list(shape), batch=batch, C=sp.C,
               threads=torch.get_num_threads(),
               weights_M=round(sum(p.numel() for p in model.weights()) / 1e6, 2), **device_info(device))
    def weight_step(b):
        w_optim.zero_grad()
        model.loss(*b).backward()
        nn.utils.clip_grad_norm_(model.weights(), cfg.grad_clip)
        w_optim.step()
    for order in orders:
        arch = OfficialArchitect(model, cfg.w_momentum, cfg.w_weight_decay)
        def alpha_step(t, v):
            a_optim.zero_grad()
            if order == "second_order": arch.unrolled_backward(*t, *v, cfg.w_lr, w_optim)
            else: model.loss(*v).backward()
            a_optim.step()
        out[order] = time_steps(alpha_step, weight_step, batch_of, steps, device)
    out.update(peak_memory(device))
    for order in orders:
        with flop_counter() as fc:   # at the case's batch: the official attention ops fail on a batch of 2
            t = batch_of(batch)
            a_optim.zero_grad()
            model.loss(*t).backward()  # first-order alpha step; the second order adds 3 passes, counted below
            weight_step(t)
        gflop = fc.get_total_flops() / 1e9 * (2.5 if order == "second_order" else 1)
        out[order].update(gflop_per_step=round(gflop, 2), gflops=round(gflop / out[order]["search_step_s"], 2))
    out["gemm_peak_gflops"] = round(gemm_peak_gflops(device), 1)
    for order in orders: out[order]["share_of_gemm_peak"] = round(out[order]["gflops"] / out["gemm_peak_gflops"], 3)
    return out


def device_info(device: str) -> dict:
    "The device a case ran on, named (a GPU by its model)."
    import torch
    return dict(device=device) if device == "cpu" else dict(device=device, gpu=torch.cuda.get_device_name(device))


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
    t0 = time.perf_counter()
    res = search(cfg, corpus, 0, out, progress=False)
    wall = time.perf_counter() - t0
    h = res.history.iloc[-1]
    return dict(full="cpu preset, EmoDB LOSO fold 0", wall_s=round(wall, 1), epochs=len(res.history),
                final_valid_acc=round(float(h.valid_acc), 3),
                best_valid_acc=round(float(res.history.valid_acc.max()), 3),
                genotype=str(res.genotype), peak_rss_MB=round(peak_rss_mb()), run=str(out))


def run_case(case: str, a, code: str | None = None, official: str | None = None) -> dict:
    "One case in a fresh subprocess: this checkout, the package copy under `code`, or the official code."
    cmd = [sys.executable, __file__, "--case", case, "--steps", str(a.steps), "--orders", a.orders, "--device", a.device,
           "--checkpoint", a.checkpoint]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [code or str(ROOT), os.environ.get("PYTHONPATH")])))
    if official: cmd += ["--official", official]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode:
        who = f"official: {official}" if official else code or str(ROOT / "emodarts_nb")
        return dict(case=case, code=who, error=r.stderr.strip().splitlines()[-1:], rc=r.returncode)
    return json.loads(r.stdout.strip().splitlines()[-1])


def ratios(other: list, ours: list, orders) -> dict:
    "other / ours for the medians over rounds: time (>1: we are faster) and peak memory (>1: we use less)."
    med = lambda rs, f: statistics.median(f(r) for r in rs)
    out = {o: round(med(other, lambda r: r[o]["search_step_s"]) / med(ours, lambda r: r[o]["search_step_s"]), 2)
           for o in orders if all(o in r for r in other + ours)}
    for peak in ("peak_rss", "peak_cuda"):
        if all(f"{peak}_MB" in r for r in other + ours):
            out[peak] = round(med(other, lambda r: r[f"{peak}_MB"]) / med(ours, lambda r: r[f"{peak}_MB"]), 2)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", choices=tuple(CASES), help="run one case in this process (used by the driver)")
    p.add_argument("--cases", default="cpu,emodarts", help="cases to run, comma-separated")
    p.add_argument("--steps", type=int, default=3, help="measured steps per order (after 1 warm-up)")
    p.add_argument("--orders", default="first_order,second_order")
    p.add_argument("--before", help="a folder holding another copy of emodarts_nb, run side by side")
    p.add_argument("--device", default="cpu", help="cpu or cuda (a GPU: times between synchronisations)")
    p.add_argument("--checkpoint", default="auto", choices=("auto", "all", "none"),
                   help="activation checkpointing of our mixed edges: SuperNet's rule, every edge, or none")
    p.add_argument("--official", help="a checkout of jayaneetha/emoDARTS, run side by side (never committed)")
    p.add_argument("--rounds", type=int, default=1, help="rounds of the two codes per case, taking turns going first")
    p.add_argument("--full", action="store_true", help="also one full cpu-preset search on EmoDB LOSO fold 0")
    p.add_argument("--full-only", action="store_true", help="only the full search")
    p.add_argument("--epochs", type=int, default=None, help="epochs of the full search (default: the preset's)")
    a = p.parse_args()
    orders = a.orders.split(",")
    if a.case:
        r = (official_case(a.case, a.steps, orders, a.official, a.device) if a.official
             else one_case(a.case, a.steps, orders, a.device, a.checkpoint))
        print(json.dumps(r))
        return
    threads = os.environ.get("OMP_NUM_THREADS", "?")
    print(f"# reproduce: OMP_NUM_THREADS={threads} {sys.executable} {' '.join(sys.argv)}")
    print("# peak memory: ru_maxrss of a fresh subprocess per case; times: medians; ratio = other / ours")
    if not a.full_only:
        for case in a.cases.split(","):
            ours, other = [], []
            for i in range(a.rounds):
                # the two codes take turns going first (the other code in even rounds): with the same code on both
                # sides, one round at the emoDARTS shape timed the one that ran first 1.13 times slower
                sides = (False, True) if i % 2 == 0 else (True, False)   # True: this checkout
                for mine in (sides if a.before or a.official else (True,)):
                    r = run_case(case, a) if mine else run_case(case, a, a.before, a.official)
                    (ours if mine else other).append(r)
                    print(json.dumps(r), flush=True)
            if other and not any("error" in r for r in ours + other):
                print(json.dumps(dict(case=case, ratio_other_over_ours=ratios(other, ours, orders))), flush=True)
    if a.full or a.full_only: print(json.dumps(full_search(a.epochs)), flush=True)


if __name__ == "__main__": main()
