"""Where the supernet's memory goes: what one training forward pass keeps for the backward pass, per operation family.

    OMP_NUM_THREADS=2 .venv/bin/python bench/search_memory.py                     # emoDARTS shape, batch 16
    OMP_NUM_THREADS=2 .venv/bin/python bench/search_memory.py --batch 4 --checkpoint all

Builds the supernet of a search preset (default `emodarts`: 1x128x128 input, C = 8, 4 CNN + 4 sequential cells, all
operations), runs one forward pass in training mode on random inputs, and adds up the tensors autograd saves for the
backward pass (torch.autograd.graph.saved_tensors_hooks; each storage counted once) by the module that saved them:
in the sequential cells by operation (`ops.lstm_att_2.rnn`: the bidirectional LSTM inside lstm_att_2; `stacks.lstm`:
the shared lstm_1..4 stack), elsewhere by part (stem, CNN cell pre-processing, CNN edges, ...). Then one backward pass,
and the process's peak resident memory (ru_maxrss), which also holds the weights, their gradients and what the
backward pass of checkpointed edges recomputes. `--checkpoint` sets which mixed edges keep only their inputs (auto:
the supernet's own rule; all; none). Prints figures only; asserts nothing.
"""
from __future__ import annotations
import argparse, collections, os, resource, shlex, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def family(module_name: str) -> str:
    "`seq_cells.0.edges.3.ops.lstm_att_2.rnn` -> `ops.lstm_att_2.rnn`; `cells.1.edges.4.ops.sep_conv_3x3` -> `cells.edges`."
    p = module_name.split(".")
    if p[0] == "seq_cells" and len(p) > 4: return ".".join(p[4:7])
    return ".".join(p[:1] + p[2:3])


def saved_by_family(model, x, y) -> tuple[collections.Counter, object]:
    "({family: bytes saved for backward}, loss) of one training forward pass."
    import torch, torch.nn.functional as F
    where, by, seen = [], collections.Counter(), set()
    hooks = []
    for name, m in model.named_modules():
        if name and name.count(".") <= 6:
            hooks.append(m.register_forward_pre_hook(lambda m, i, name=name: where.append(name)))
            hooks.append(m.register_forward_hook(lambda m, i, o: None if where.pop() else None))  # None: output unchanged
    def pack(t):
        s = t.untyped_storage()
        if (s.data_ptr(), s.nbytes()) not in seen:
            seen.add((s.data_ptr(), s.nbytes()))
            by[family(where[-1]) if where else "(outside modules)"] += s.nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model(x), y)
    for h in hooks: h.remove()
    return by, loss


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="emodarts", help="search preset whose space to build (default emodarts)")
    p.add_argument("--input", default="128x128", help="F x T of the input (default 128x128)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--checkpoint", choices=("auto", "all", "none"), default="auto")
    p.add_argument("--top", type=int, default=20)
    a = p.parse_args(argv)
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python bench/search_memory.py "
          f"{shlex.join(sys.argv[1:] if argv is None else argv)}", flush=True)
    import torch
    from emodarts_nb.config import get_config
    from emodarts_nb.supernet import SuperNet, count_params
    F_, T_ = (int(v) for v in a.input.lower().split("x"))
    torch.manual_seed(0)
    model = SuperNet(get_config(a.preset).space, 4, (F_, T_))
    if a.checkpoint != "auto": model.checkpoint = a.checkpoint == "all"
    edges = list(model._mixed_ops())
    print(f"preset {a.preset}, input 1x{F_}x{T_}, batch {a.batch}, {count_params(model) / 1e6:.1f} M weights, "
          f"checkpointed edges {sum(m.checkpoint for m in edges)} of {len(edges)} "
          f"({sum(m.checkpoint for m in edges if m.kind == 'cnn')} CNN, {sum(m.checkpoint for m in edges if m.kind == 'seq')} sequential)")
    x, y = torch.randn(a.batch, 1, F_, T_), torch.randint(0, 4, (a.batch,))
    t0 = time.perf_counter()
    by, loss = saved_by_family(model, x, y)
    t1 = time.perf_counter()
    loss.backward()
    t2 = time.perf_counter()
    total = sum(by.values())
    seq = sum(v for k, v in by.items() if k.startswith(("ops.", "stacks.", "seq_cells")))
    print(f"saved for backward: {total / 2**30:.2f} GiB, of which the sequential cells {seq / 2**30:.2f} GiB "
          f"({seq / total:.0%}); forward {t1 - t0:.1f} s, backward {t2 - t1:.1f} s")
    for k, v in by.most_common(a.top): print(f"  {k:28s} {v / 2**20:9.1f} MiB  {v / total:6.1%}")
    print(f"peak resident memory of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
