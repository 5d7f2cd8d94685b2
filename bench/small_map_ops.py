"""Two rewrites for the small channels_last maps of the searches, timed against torch's own kernels on the same
inputs: batch norm in training (forward + backward) over the map's rows (`ops.BatchNormRows`) against
`nn.BatchNorm2d`, and 3x3 max pooling without a gradient, stride 1 and 2, as shifted maxima (`ops.MaxPool`) against
`F.max_pool2d`.

    OMP_NUM_THREADS=1 .venv/bin/python bench/small_map_ops.py                  # the tiny/cpu presets' map shapes
    OMP_NUM_THREADS=2 .venv/bin/python bench/small_map_ops.py --reps 31

Each figure is the median over --reps calls after two warm-up calls, the two kernels taking turns call by call. The
largest difference of outputs (and input gradients, for batch norm) is printed beside them. Which of the two
`BatchNorm` runs is decided by `ops._narrow_rows` (printed per shape: `rows`). Prints figures; asserts nothing.
"""
from __future__ import annotations
import argparse, json, os, statistics, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
SHAPES = "16x4x64x100,32x4x32x50,32x2x64x100,32x6x32x50,32x8x32x50,32x8x16x25,16x8x128x128"


def paired(fs: dict, reps: int) -> dict:
    "Median milliseconds of each callable of `fs`, called in turns."
    ts = {k: [] for k in fs}
    for i in range(reps + 2):
        for k, f in fs.items():
            t = time.perf_counter(); f(); dt = time.perf_counter() - t
            if i >= 2: ts[k].append(dt * 1e3)
    return {k: round(statistics.median(v), 3) for k, v in ts.items()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shapes", default=SHAPES, help="N x C x H x W, comma-separated")
    p.add_argument("--reps", type=int, default=15)
    a = p.parse_args(argv)
    import torch, torch.nn as nn, torch.nn.functional as F
    from emodarts_nb.ops import BatchNormRows, MaxPool, _narrow_rows
    print(f"# reproduce: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python bench/small_map_ops.py "
          + " ".join(sys.argv[1:] if argv is None else argv))
    print(f"# threads {torch.get_num_threads()}, torch {torch.__version__}; milliseconds, medians; ratio = torch / ours")
    for s in a.shapes.split(","):
        shape = tuple(int(v) for v in s.split("x"))
        torch.manual_seed(0)
        x = torch.randn(*shape).contiguous(memory_format=torch.channels_last)
        g = torch.randn_like(x)
        bn = nn.BatchNorm2d(shape[1], affine=False)
        def fb(f):
            xx = x.detach().requires_grad_(); y = f(xx)
            return y, torch.autograd.grad(y, xx, g)[0]
        ref, rows = (lambda t: F.batch_norm(t, None, None, None, None, True, 0.0, bn.eps),
                     lambda t: BatchNormRows.apply(t, None, None, bn.eps)[0])
        t_bn = paired({"torch": lambda: fb(ref), "rows": lambda: fb(rows)}, a.reps)
        d_bn = max((u - v).abs().max().item() for u, v in zip(fb(ref), fb(rows)))
        pools = {}
        for stride in (1, 2):                                # a normal cell's max pool, and a reduction cell's
            pool = MaxPool(3, stride, 1)
            with torch.no_grad():
                t = paired({"torch": lambda: F.max_pool2d(x, 3, stride, 1), "ours": lambda: pool(x)}, a.reps)
                d = (F.max_pool2d(x, 3, stride, 1) - pool(x)).abs().max().item()
            sfx = "" if stride == 1 else "_stride2"
            pools.update({f"max_pool_3x3{sfx}_no_grad_ms": t, f"pool{sfx}_ratio": round(t["torch"] / t["ours"], 2),
                          f"pool{sfx}_max_diff": d})
        print(json.dumps(dict(shape=s, batch_norm_train_ms=t_bn, bn_ratio=round(t_bn["torch"] / t_bn["rows"], 2),
                              bn_max_diff=float(f"{d_bn:.1e}"), rows=_narrow_rows(x), **pools)), flush=True)


if __name__ == "__main__": main()
