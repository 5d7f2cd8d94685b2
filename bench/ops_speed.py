"""Where a search step's time goes, per operation: forward + backward of every candidate operation of a case's
search space, on the inputs its mixed edges see, and each family's share summed over the supernet's edges; side by
side with an earlier copy of the package.

    OMP_NUM_THREADS=1 .venv/bin/python bench/ops_speed.py                          # emodarts shape, batch 16
    OMP_NUM_THREADS=1 .venv/bin/python bench/ops_speed.py --case cpu               # the cpu preset's space and input
    OMP_NUM_THREADS=1 .venv/bin/python bench/ops_speed.py --ops avg_pool_3x3,rnn_1 # only these operations
    OMP_NUM_THREADS=1 .venv/bin/python bench/ops_speed.py --before /tmp/oldpkg     # + an earlier copy, side by side
        # /tmp/oldpkg/emodarts_old: `git archive <commit> emodarts_nb | tar -x -C /tmp/o && mv /tmp/o/emodarts_nb
        #  /tmp/oldpkg/emodarts_old` (its modules import each other relatively, so the copy imports under a new name)

The shapes come from one forward pass of the case's supernet (bench/search.py's cases): a hook on each mixed edge
records its kind, stride and input. Each operation but `none` (which a mixed edge never runs: its weight would
multiply zeros) is built as a mixed edge builds it (CNN operations without affine BN; the recurrent ones unshared:
`lstm_3` is its own 3-layer LSTM here, where a supernet edge shares the layers of lstm_1..4), in train mode, on an
input that needs a gradient (as an edge's does), in the memory format the edge sees. Its time is the median over
--reps calls of forward and backward with a fixed output gradient, after one warm-up; with --before the two copies
take turns call by call, with the same weights and inputs, so that the load of a shared machine falls on both
alike, and their outputs and gradients are compared. The family totals weigh each operation by the number of edges
that run it in one forward pass; they leave out what the mixed edge adds (the weighted sum, the shared relu) and
the shared stacks' savings. Prints figures only; asserts nothing.
"""
from __future__ import annotations
import argparse, collections, os, statistics, sys, time


def edge_inputs(case: str):
    "{(kind, stride, shape, channels_last): edges} of one forward pass of `case`'s supernet, and its space."
    import torch
    from emodarts_nb.supernet import SuperNet, MixedOp
    from emodarts_nb.features import input_chw
    from search import case_shape  # bench/search.py
    _, shape, batch, cfg = case_shape(case)
    model, seen = SuperNet(cfg.space, 4, shape), collections.Counter()
    def hook(m, args):
        x = args[0]
        cl = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
        seen[(m.kind, m.stride, tuple(x.shape), cl)] += 1
    hooks = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, MixedOp)]
    with torch.no_grad(): model(torch.randn(batch, *input_chw(shape)))
    for h in hooks: h.remove()
    return seen, cfg.space


def family(name: str) -> str:
    "sep_conv_3x3 -> sep_conv, lstm_att_2 -> lstm_att, rnn_4 -> rnn, max_pool_3x3 -> max_pool."
    import re
    return re.sub(r"(_\d+x\d+|_\d+)$", "", name)


def build(pkg: str, kind: str, name: str, width: int, stride: int):
    "Operation `name` from package `pkg`'s registry, as a mixed edge builds it."
    import importlib
    ops = importlib.import_module(f"{pkg}.ops")
    return ops.CNN_OPS[name](width, stride, False) if kind == "cnn" else ops.SEQ_OPS[name](width)


def fwd_bwd(op, x, g):
    "Forward and backward of op on x with output gradient g; the output and the input's gradient."
    import torch
    xi = x.detach().requires_grad_()
    y = op(xi)
    if not y.requires_grad: return y, None  # `none` at stride 1: zeros
    grads = torch.autograd.grad(y, [xi, *[p for p in op.parameters() if p.requires_grad]], g, allow_unused=True)
    return y, grads[0]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", default="emodarts", help="a case of bench/search.py (default: emodarts, batch 16)")
    p.add_argument("--reps", type=int, default=9, help="timed calls per operation and input (median)")
    p.add_argument("--before", help="a folder holding emodarts_old, an earlier copy of emodarts_nb")
    p.add_argument("--ops", help="only these operations, comma-separated (default: every one of the case's space)")
    a = p.parse_args()
    import torch
    print(f"# reproduce: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} {sys.executable} {' '.join(sys.argv)}")
    print(f"# threads {torch.get_num_threads()}, torch {torch.__version__}")
    if a.before: sys.path.insert(0, a.before)
    pkgs = ["emodarts_nb"] + (["emodarts_old"] if a.before else [])
    inputs, space = edge_inputs(a.case)
    per_family = {pkg: collections.Counter() for pkg in pkgs}
    print("kind  stride  input  edges  op  ms " + "  ".join(f"ms({p})" for p in pkgs[1:]) + ("  ratio  max|diff|" if a.before else ""))
    for (kind, stride, shape, cl), edges in sorted(inputs.items()):
        names = [n for n in (space.cnn_ops if kind == "cnn" else space.seq_ops)
                 if n != "none" and (not a.ops or n in a.ops.split(","))]  # a mixed edge never runs `none`
        width = shape[1] if kind == "cnn" else shape[-1]
        for name in names:
            torch.manual_seed(0)
            x = torch.randn(shape)
            if cl: x = x.contiguous(memory_format=torch.channels_last)
            ops = {pkg: build(pkg, kind, name, width, stride).train() for pkg in pkgs}
            for pkg in pkgs[1:]: ops[pkg].load_state_dict(ops["emodarts_nb"].state_dict())
            with torch.no_grad(): g = torch.randn_like(ops["emodarts_nb"](x))
            times, outs = {pkg: [] for pkg in pkgs}, {}
            for r in range(a.reps + 1):
                for pkg in (pkgs if r % 2 else pkgs[::-1]):  # taking turns going first
                    torch.manual_seed(r)  # the same dropout masks for both copies
                    t0 = time.perf_counter()
                    outs[pkg] = fwd_bwd(ops[pkg], x, g)
                    if r: times[pkg].append(time.perf_counter() - t0)
            ms = {pkg: statistics.median(t) * 1e3 for pkg, t in times.items()}
            for pkg in pkgs: per_family[pkg][family(name)] += edges * ms[pkg]
            line = f"{kind}  {stride}  {'x'.join(map(str, shape))}{',channels_last' if cl else ''}  {edges}  {name}  {ms['emodarts_nb']:.3f}"
            if a.before:
                (y0, g0), (y1, g1) = outs["emodarts_nb"], outs["emodarts_old"]
                diff = max((y0 - y1).abs().max().item(), 0 if g0 is None else (g0 - g1).abs().max().item())
                line += f"  {ms['emodarts_old']:.3f}  {ms['emodarts_old'] / ms['emodarts_nb']:.2f}  {diff:.1e}"
            print(line, flush=True)
    total = {pkg: sum(c.values()) for pkg, c in per_family.items()}
    print(f"\n# per forward + backward of the supernet's edges (each operation once per edge): {total['emodarts_nb']:.0f} ms"
          + (f", before {total['emodarts_old']:.0f} ms ({total['emodarts_old'] / total['emodarts_nb']:.2f}x)" if a.before else ""))
    for fam, t in per_family["emodarts_nb"].most_common():
        line = f"{fam:14} {t:9.1f} ms  {100 * t / total['emodarts_nb']:5.1f} %"
        if a.before: line += f"   before {per_family['emodarts_old'][fam]:9.1f} ms ({per_family['emodarts_old'][fam] / t:.2f}x)"
        print(line)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench/search.py
    main()
