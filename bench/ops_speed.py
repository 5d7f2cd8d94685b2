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
multiply zeros) is built as a mixed edge builds it: CNN operations without affine BN; where the space shares stacks
(`share_rnn_stack`), lstm_1..lstm_4 as one stack of 4 layers whose outputs are the four operations' (one line,
`lstm_1..4`); in train mode, on an input that needs a gradient (as an edge's does), in the memory format the edge
sees. Its time is the median over --reps calls of forward and backward with a fixed output gradient, after one
warm-up; with --before the two copies take turns call by call, with the same weights and inputs, so that the load
of a shared machine falls on both alike, and their outputs and gradients are compared. The family totals weigh each operation by the number of edges
that run it in one forward pass; they leave out what the mixed edge adds (the weighted sum, the shared relu).
Prints figures only; asserts nothing.
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


def edge_ops(space, kind: str, only=None) -> dict:
    "{label: (family, build(pkg, width, stride))}: what an edge of `kind` runs, one entry per shared stack."
    import importlib
    from emodarts_nb.ops import stack_family
    names = [n for n in (space.cnn_ops if kind == "cnn" else space.seq_ops)
             if n != "none" and (not only or n in only)]  # a mixed edge never runs `none`
    reg = lambda pkg: importlib.import_module(f"{pkg}.ops")
    if kind == "cnn": return {n: (family(n), lambda pkg, w, s, n=n: reg(pkg).CNN_OPS[n](w, s, False)) for n in names}
    out, stacks = {}, {}
    for n in names:
        if space.share_rnn_stack and (f := stack_family(n)): stacks[f[0]] = max(stacks.get(f[0], 0), f[1])
        else: out[n] = (family(n), lambda pkg, w, s, n=n: reg(pkg).SEQ_OPS[n](w))
    for fam, k in stacks.items():  # lstm_1..lstm_k of an edge: the outputs of layers 1..k of one stack
        out[f"{fam}_1..{k}" if k > 1 else f"{fam}_1"] = (fam, lambda pkg, w, s, fam=fam, k=k: reg(pkg).RNNStack(fam, w, k))
    return out


def fwd_bwd(op, x, g):
    "Forward and backward of op on x with output gradient g (each output of a stack's); the outputs and x's gradient."
    import torch
    xi = x.detach().requires_grad_()
    y = op(xi)
    ys = y if isinstance(y, list) else [y]
    grads = torch.autograd.grad(ys, [xi, *[p for p in op.parameters() if p.requires_grad]], [g] * len(ys), allow_unused=True)
    return ys, grads[0]


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
        width = shape[1] if kind == "cnn" else shape[-1]
        for name, (fam, make) in edge_ops(space, kind, a.ops and a.ops.split(",")).items():
            torch.manual_seed(0)
            x = torch.randn(shape)
            if cl: x = x.contiguous(memory_format=torch.channels_last)
            ops = {pkg: make(pkg, width, stride).train() for pkg in pkgs}
            for pkg in pkgs[1:]: ops[pkg].load_state_dict(ops["emodarts_nb"].state_dict())
            with torch.no_grad(): y = ops["emodarts_nb"](x)
            g = torch.randn_like(y[0] if isinstance(y, list) else y)  # a stack's outputs are all (B, T, d)
            times, outs = {pkg: [] for pkg in pkgs}, {}
            for r in range(a.reps + 1):
                for pkg in (pkgs if r % 2 else pkgs[::-1]):  # taking turns going first
                    torch.manual_seed(r)  # the same dropout masks for both copies
                    t0 = time.perf_counter()
                    outs[pkg] = fwd_bwd(ops[pkg], x, g)
                    if r: times[pkg].append(time.perf_counter() - t0)
            ms = {pkg: statistics.median(t) * 1e3 for pkg, t in times.items()}
            for pkg in pkgs: per_family[pkg][fam] += edges * ms[pkg]
            line = f"{kind}  {stride}  {'x'.join(map(str, shape))}{',channels_last' if cl else ''}  {edges}  {name}  {ms['emodarts_nb']:.3f}"
            if a.before:
                (y0, g0), (y1, g1) = outs["emodarts_nb"], outs["emodarts_old"]
                diff = max(max((u - v).abs().max().item() for u, v in zip(y0, y1)), (g0 - g1).abs().max().item())
                line += f"  {ms['emodarts_old']:.3f}  {ms['emodarts_old'] / ms['emodarts_nb']:.2f}  {diff:.1e}"
            print(line, flush=True)
    total = {pkg: sum(c.values()) for pkg, c in per_family.items()}
    print(f"\n# per forward + backward of the supernet's edges (each operation, or shared stack, once per edge): {total['emodarts_nb']:.0f} ms"
          + (f", before {total['emodarts_old']:.0f} ms ({total['emodarts_old'] / total['emodarts_nb']:.2f}x)" if a.before else ""))
    for fam, t in per_family["emodarts_nb"].most_common():
        line = f"{fam:14} {t:9.1f} ms  {100 * t / total['emodarts_nb']:5.1f} %"
        if a.before: line += f"   before {per_family['emodarts_old'][fam]:9.1f} ms ({per_family['emodarts_old'][fam] / t:.2f}x)"
        print(line)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench/search.py
    main()
