"Search space (stream D): ops, supernet, genotypes, network. Tiny shapes, CPU, seeded."
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
import itertools, random
import pytest
import torch
import torch.nn as nn

from emodarts_nb.core import BadInputError
from emodarts_nb.ops import CNN_OPS, SEQ_OPS, register_op, Identity
from emodarts_nb.supernet import SpaceConfig, SuperNet, get_space, random_genotype, count_params, CNN_DEFAULT, SEQ_DEFAULT
from emodarts_nb.genotypes import Genotype, DARTS_V1, DARTS_V2, parse_genotype, derive_genotype
from emodarts_nb.network import Network, count_macs

torch.set_num_threads(1)
SHAPE = (16, 24)
ALL_SEQ = tuple(SEQ_OPS)


def tiny(**kw):
    return get_space("tiny", **kw)


def test_weights_and_alphas_are_disjoint_and_cover_everything():
    torch.manual_seed(0)
    net = SuperNet(tiny(edge_norm=True), 3, SHAPE)
    w, a = {id(p) for p in net.weights()}, {id(p) for p in net.alphas()}
    assert not w & a
    assert w | a == {id(p) for p in net.parameters()}
    opt = torch.optim.SGD(net.weights(), lr=0.1)
    held = {id(p) for g in opt.param_groups for p in g["params"]}
    assert not held & a
    assert len(net.alpha_labels()) == sum(p.numel() for p in net.alphas())
    assert {l[2] for l in net.alpha_labels() if l[2] == "[edge]"} == {"[edge]"}


@pytest.mark.parametrize("seed", range(4))
def test_any_op_subset_works(seed):
    rng = random.Random(seed)
    cnn = rng.sample(list(CNN_DEFAULT), rng.randint(1, len(CNN_DEFAULT)))
    seq = rng.sample(list(ALL_SEQ), rng.randint(1, 5))
    if cnn == ["none"]: cnn.append("skip_connect")
    if seq == ["none"]: seq.append("gru_2")
    torch.manual_seed(seed)
    net = SuperNet(tiny(cnn_ops=cnn, seq_ops=seq), 3, SHAPE)
    net(torch.randn(3, 1, *SHAPE)).sum().backward()
    assert all(a.grad is not None for a in net.alphas())
    g = net.genotype()
    assert all(op in cnn for n in g.normal for op, _ in n) and all(op in seq for n in g.seq for op, _ in n)


def test_unknown_ops_are_named():
    with pytest.raises(BadInputError, match=r"unknown operations \['lstm_7'\]"):
        SpaceConfig(seq_ops=("lstm_1", "lstm_7"))
    with pytest.raises(BadInputError, match="unknown operations"):
        SpaceConfig(cnn_ops=("conv_7x1_1x7",))


@pytest.mark.parametrize("name", list(CNN_DEFAULT))
def test_cnn_ops_keep_shapes(name):
    for B, (Fq, T), stride in itertools.product((1, 3, 16), ((7, 9), (8, 5)), (1, 2)):
        y = CNN_OPS[name](4, stride, False)(torch.randn(B, 4, Fq, T))
        assert y.shape == (B, 4, -(-Fq // stride), -(-T // stride))


@pytest.mark.parametrize("name", ALL_SEQ)
def test_seq_ops_keep_shapes(name):
    op = SEQ_OPS[name](6)
    for B, T in ((1, 1), (3, 7), (16, 5), (5, 13)):  # attention ops at batch != 16 too
        assert op(torch.randn(B, T, 6)).shape == (B, T, 6)


def test_register_op_extends_the_space():
    register_op("seq", "test_linear", overwrite=True)(lambda d: nn.Linear(d, d))
    try:
        net = SuperNet(tiny(seq_ops=("test_linear", "none")), 3, SHAPE)
        assert net(torch.randn(2, 1, *SHAPE)).shape == (2, 3)
    finally:
        SEQ_OPS.pop("test_linear")


def _count_calls(net):
    calls = {}
    hooks = []
    for cell in [*net.cells, *net.seq_cells]:
        for e, m in enumerate(cell.edges):
            for name, op in m.ops.items():
                hooks.append(op.register_forward_hook(lambda mod, i, o, k=(id(m), name): calls.__setitem__(k, calls.get(k, 0) + 1)))
    return calls, hooks


def test_sample_mode_runs_one_op_per_edge():
    torch.manual_seed(0)
    net = SuperNet(tiny(share_rnn_stack=False, seq_ops=("lstm_1", "lstm_2", "lstm_att_1", "skip_connect")), 3, SHAPE)
    net.set_path_mode("sample")
    calls, hooks = _count_calls(net)
    net(torch.randn(2, 1, *SHAPE))
    n_edges = sum(len(c.edges) for c in [*net.cells, *net.seq_cells])
    n_none = sum(m.names[m.active[0]] == "none" for m in net._mixed_ops())
    assert sum(calls.values()) == n_edges - n_none  # none is never run
    for m in net._mixed_ops():
        ran = [n for n in m.ops if calls.get((id(m), n))]
        assert ran == ([] if m.names[m.active[0]] == "none" else [m.names[m.active[0]]])
    seen = set()
    for _ in range(20):
        net.resample(); seen |= {m.active[0] for m in net._mixed_ops()}
    assert len(seen) > 1
    for h in hooks: h.remove()


def test_sample_mode_with_shared_stack_runs_only_needed_layers():
    torch.manual_seed(0)
    net = SuperNet(tiny(seq_ops=("lstm_1", "lstm_2", "lstm_3", "none")), 3, SHAPE)
    net.set_path_mode("sample")
    runs = []
    for m in net.seq_cells[0].edges:
        for i, layer in enumerate(m.stacks["lstm"].layers):
            layer.register_forward_hook(lambda mod, a, o, m=m, i=i: runs.append((id(m), i)))
    net(torch.randn(2, 1, *SHAPE))
    for m in net.seq_cells[0].edges:
        k = {"lstm_1": 1, "lstm_2": 2, "lstm_3": 3, "none": 0}[m.names[m.active[0]]]
        assert sorted(i for mid, i in runs if mid == id(m)) == list(range(k))


def test_dropout_mode_masks_n_drop_and_rescales():
    torch.manual_seed(0)
    net = SuperNet(tiny(), 3, SHAPE)
    net.set_path_mode("dropout", n_drop=2)
    for m in net._mixed_ops():
        assert len(m.active) == len(m.names) - 2 and len(set(m.active)) == len(m.active)
    m = net.cells[0].edges[0]
    x = torch.randn(2, 4, *SHAPE)
    w = torch.softmax(torch.randn(len(m.names)), 0)
    outs = m._outputs(x, [i for i in m.active if m.names[i] != "none"])
    want = sum(w[i] * outs[i] for i in outs) * len(m.names) / len(m.active)
    assert torch.allclose(m(x, w), want, atol=1e-6)
    before = [list(m.active) for m in net._mixed_ops()]
    net.resample()
    assert before != [list(m.active) for m in net._mixed_ops()]
    with pytest.raises(BadInputError, match="between 1 and"):
        net.set_path_mode("dropout", n_drop=0)


def _saved_numel(net, x):
    total = [0]
    def pack(t): total[0] += t.numel(); return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(x).sum()
    return total[0]


def test_partial_channels_cut_params_and_memory():
    torch.manual_seed(0)
    sp = dict(C=8, cnn_ops=CNN_DEFAULT, seq_cells=0)
    full, pc = SuperNet(tiny(**sp), 3, SHAPE), SuperNet(tiny(**sp, pc_k=4), 3, SHAPE)
    x = torch.randn(2, 1, *SHAPE)
    assert pc(x).shape == (2, 3)
    ops_params = lambda n: sum(p.numel() for c in n.cells for e in c.edges for p in e.ops.parameters())
    assert ops_params(pc) < ops_params(full) / 3     # depthwise ~1/4, pointwise ~1/16
    for m in [*full._mixed_ops(), *pc._mixed_ops()]: m.checkpoint = False  # what the edges themselves keep
    assert _saved_numel(pc, x) < 0.6 * _saved_numel(full, x)
    with pytest.raises(BadInputError, match="partial-channel"):
        Network.from_supernet(pc)


def test_aux_skip_and_edge_norm():
    torch.manual_seed(0)
    net = SuperNet(tiny(edge_norm=True), 3, SHAPE).eval()
    x = torch.randn(2, 1, *SHAPE)
    y0 = net(x)
    net.aux_skip = 1.0
    assert not torch.allclose(net(x), y0)
    net.aux_skip = 0.0
    assert torch.allclose(net(x), y0)
    net(x).sum().backward()
    assert net.arch["normal_edges"].grad is not None
    assert isinstance(net.genotype(), Genotype)


def test_aux_skip_reaches_the_sequential_edges():
    "DARTS-: a sequential edge gets aux * x outside its mixture, as a CNN edge does (its ops fixed to `none`, only that is left)."
    torch.manual_seed(0)
    net = SuperNet(tiny(), 3, SHAPE).eval()
    net.aux_skip = 0.7
    kw = net._cell_kw("seq")
    assert kw["aux"] == 0.7
    edge, none = net.seq_cells[0].edges[0], net.op_names("seq").index("none")
    h = torch.randn(2, 5, net.space.seq_dim)
    assert torch.allclose(edge(h, kw["w"][0], none, kw["aux"]), 0.7 * h)
    cnn_free = SuperNet(tiny(cnn_cells=()), 3, SHAPE).eval()       # no CNN cell: only seq edges can take the aux skip
    x = torch.randn(2, 1, *SHAPE)
    y0 = cnn_free(x)
    cnn_free.aux_skip = 0.7
    assert not torch.allclose(cnn_free(x), y0)


def test_genotype_round_trips(tmp_path):
    for seed in range(5):
        g = random_genotype(get_space("emodarts", seq_ops=ALL_SEQ), generator=torch.Generator().manual_seed(seed))
        assert Genotype.from_json(g.to_json()) == g
        assert parse_genotype(str(g)) == g
        assert Genotype.load(g.save(tmp_path / f"g{seed}.json")) == g
    for ref in (DARTS_V1, DARTS_V2):
        assert parse_genotype(str(ref)) == ref and Genotype.from_json(ref.to_json()) == ref
    torch.manual_seed(0)
    net = SuperNet(tiny(), 3, SHAPE)
    g = net.genotype()
    w = {c: torch.softmax(net.arch[c].detach(), -1) for c in net.cell_types()}
    assert derive_genotype(w, {c: net.op_names(c) for c in w}) == g


@pytest.mark.parametrize("bad", [
    "__import__('os')", "__import__('os').system('true')", "Genotype(normal=__import__('os'))",
    "Genotype(normal=[[('a', 0)]], normal_concat=eval('range(2,3)'))", "Genotype(normal=[[('a', 0.5)]])",
    "Genotype(normal=[[(b'a', 0)]])", "Genotype(normal=[[('a', 0)]], **x)", "Genotype(normal=[[('a', 0)]], x=[])",
    "os.system('x')", "[x for x in ()]", "lambda: 0", "Genotype(normal=[[('a', 0)]]); 1", "Genotype(normal={'a': 0})",
])
def test_parse_rejects_non_whitelisted(bad):
    with pytest.raises(BadInputError):
        parse_genotype(bad)


def test_parse_reads_official_strings():
    pt = ("Genotype(normal=[[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], [('sep_conv_3x3', 1), ('dil_conv_3x3', 2)]], "
          "normal_concat=range(2, 4), reduce=[[('max_pool_3x3', 0), ('max_pool_3x3', 1)], [('max_pool_3x3', 0), ('skip_connect', 2)]], "
          "reduce_concat=range(2, 4), rnn=[[('lstm_att_1', 0), ('rnn_4', 1)], [('skip_connect', 2), ('lstm_2', 0)]], rnn_concat=range(2, 4))")
    g = parse_genotype(pt)
    assert g.seq[0] == (("lstm_att_1", 0), ("rnn_4", 1)) and g.seq_concat == (2, 3)
    assert g.reduce[1] == (("max_pool_3x3", 0), ("skip_connect", 2))


@pytest.mark.parametrize("seed,share", [(0, True), (1, True), (2, False), (3, True)])
def test_one_hot_supernet_equals_network(seed, share):
    torch.manual_seed(seed)
    sp = tiny(cnn_ops=CNN_DEFAULT, seq_ops=ALL_SEQ, share_rnn_stack=share, nodes=3)
    sup = SuperNet(sp, 3, SHAPE)
    g = random_genotype(sp, generator=torch.Generator().manual_seed(seed))
    sup.fix_genotype(g).train()
    for _ in range(2): sup(torch.randn(4, 1, *SHAPE))  # BN running statistics move
    net = Network.from_supernet(sup, g)
    x = torch.randn(3, 1, *SHAPE)
    torch.manual_seed(99); a = sup.train()(x)
    torch.manual_seed(99); b = net.train()(x)
    assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(sup.eval()(x), net.eval()(x), atol=1e-5)
    assert count_params(net) < count_params(sup)
    assert count_macs(net.eval(), x[:1]) > 0


def test_dataclass_space_and_device():
    sp = SpaceConfig(**{**tiny().to_dict(), "cnn_cells": ["normal", "reduce"]})  # lists, as from JSON
    assert sp == tiny()
    with pytest.raises(BadInputError, match="build one with get_space"):
        SuperNet(sp.to_dict(), 3, (1, *SHAPE))                      # a dict of fields is not a space
    net = SuperNet(sp, 3, (1, *SHAPE)).to("cpu")
    assert net(torch.randn(1, 1, *SHAPE)).shape == (1, 3)
    if torch.cuda.is_available():
        net = net.cuda(); net.set_path_mode("sample")
        assert net(torch.randn(2, 1, *SHAPE, device="cuda")).shape == (2, 3)


def test_same_seed_same_supernet():
    outs = []
    for _ in range(2):
        torch.manual_seed(5)
        net = SuperNet(tiny(), 3, SHAPE).eval()
        outs.append((net(torch.ones(1, 1, *SHAPE)), net.genotype()))
    assert torch.equal(outs[0][0], outs[1][0]) and outs[0][1] == outs[1][1]


# ---- speed and memory (issue 13): checkpointed edges, channels_last maps, the same numbers as before

def _plain(net):
    "The same network with the old execution: no checkpointing, contiguous (NCHW) maps."
    import copy
    ref = copy.deepcopy(net)
    ref.checkpoint, ref.memory_format = False, torch.contiguous_format
    return ref


@pytest.mark.parametrize("order", ["first_order", "second_order"])
def test_checkpointed_channels_last_supernet_gives_the_same_gradients(order):
    from emodarts_nb.architect import Architect
    torch.manual_seed(0)
    net = SuperNet(tiny(cnn_ops=CNN_DEFAULT), 3, SHAPE)
    net.checkpoint = True
    ref = _plain(net)
    x, y = torch.randn(4, 1, *SHAPE), torch.randint(0, 3, (4,))
    grads = []
    for n in (net, ref):
        a = Architect(n, order=order)
        g = a.first_order_grads((x, y))[0] if order == "first_order" else a.second_order_grads((x, y), (x, y), 0.1)[0]
        grads.append(torch.cat([t.flatten() for t in g]))
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-7)
    for n in (net, ref): torch.nn.functional.cross_entropy(n(x), y).backward()
    for (k, p), q in zip(net.named_parameters(), ref.parameters()):
        assert torch.allclose(p.grad, q.grad, rtol=1e-4, atol=1e-6), k
    for (k, b), c in zip(net.named_buffers(), ref.buffers()):  # running statistics updated once per forward
        assert torch.allclose(b.float(), c.float(), rtol=1e-4, atol=1e-6), k


def test_checkpointing_cuts_what_autograd_keeps():
    torch.manual_seed(0)
    net = SuperNet(tiny(cnn_ops=CNN_DEFAULT, seq_cells=0), 3, SHAPE)
    x = torch.randn(2, 1, *SHAPE)
    net.checkpoint = False
    kept_plain = _saved_numel(net, x)
    net.checkpoint = True
    assert _saved_numel(net, x) < kept_plain / 3


def test_cnn_maps_are_channels_last():
    torch.manual_seed(0)
    net = SuperNet(tiny(), 3, SHAPE)
    g = random_genotype(net.space, generator=torch.Generator().manual_seed(0))
    seen = []
    for n in (net, Network(g, net.space, 3, SHAPE)):
        cl = lambda m, i, o: seen.append(o.is_contiguous(memory_format=torch.channels_last))
        n.cells[0].register_forward_hook(cl)
        n(torch.randn(2, 1, *SHAPE))
    assert seen == [True, True]


def test_channels_last_network_matches_nchw():
    torch.manual_seed(0)
    sp = tiny(cnn_ops=CNN_DEFAULT)
    net = Network(random_genotype(sp, generator=torch.Generator().manual_seed(3)), sp, 3, SHAPE)
    ref = _plain(net)
    x = torch.randn(4, 1, *SHAPE)
    assert torch.allclose(net(x), ref(x), rtol=1e-4, atol=1e-5)
    net(x).sum().backward()
    ref(x).sum().backward()
    for (k, p), q in zip(net.named_parameters(), ref.parameters()):
        assert torch.allclose(p.grad, q.grad, rtol=1e-4, atol=1e-5), k


class _Gram(nn.Module):
    def forward(self, h): return h @ h.transpose(1, 2)  # (B, T, D) -> (B, T, T): T*T*D MACs, no layer to hook


def test_macs_are_counted_by_torch_with_the_fused_lstm():
    assert count_macs(_Gram(), torch.randn(3, 5, 4)) == 5 * 5 * 4           # what a layer hook cannot see
    assert count_macs(nn.LSTM(4, 6, 2, batch_first=True), torch.randn(2, 7, 4)) == 7 * 4 * 6 * (4 + 6 + 6 + 6)
    assert count_macs(nn.GRU(4, 6, batch_first=True), torch.randn(2, 7, 4)) == 7 * 3 * 6 * (4 + 6)


@pytest.mark.parametrize("k", [1, 3])
def test_fused_tanh_rnn_matches_nn_rnn(k):
    from emodarts_nb.ops import SeqRNN, TanhRNN
    torch.manual_seed(0)
    op, x = SeqRNN("rnn", 8, k), torch.randn(3, 9, 8, requires_grad=True)
    calls = []
    fwd = TanhRNN.forward
    TanhRNN.forward = staticmethod(lambda *a: calls.append(1) or fwd(*a))
    try: y = op(x)
    finally: TanhRNN.forward = staticmethod(fwd)
    assert len(calls) == k                                    # the fused layer ran, once per layer
    y0 = op.rnn(x)[0]
    assert torch.allclose(y, y0, atol=1e-6)
    g = torch.randn_like(y)
    for a, b in zip(torch.autograd.grad(y, [x, *op.parameters()], g), torch.autograd.grad(y0, [x, *op.parameters()], g)):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("k", [1, 2])
def test_fused_bidirectional_tanh_rnn_matches_nn_rnn_with_its_dropout(k):
    from emodarts_nb.ops import SeqAttRNN, TanhRNN, run_rnn
    torch.manual_seed(0)
    op, x = SeqAttRNN("rnn", 8, k), torch.randn(3, 9, 8, requires_grad=True)
    op.train()                                                # dropout 0.3 between the layers when k = 2
    calls, fwd = [], TanhRNN.forward
    TanhRNN.forward = staticmethod(lambda *a: calls.append(1) or fwd(*a))
    try:
        torch.manual_seed(1); y = run_rnn(op.rnn, x)
    finally: TanhRNN.forward = staticmethod(fwd)
    assert len(calls) == 2 * k                                # the fused layer ran, per layer and direction
    torch.manual_seed(1); y0 = op.rnn(x)[0]                   # the same dropout masks from the same seed
    assert torch.allclose(y, y0, atol=1e-6)
    g = torch.randn_like(y)
    for a, b in zip(torch.autograd.grad(y, [x, *op.rnn.parameters()], g), torch.autograd.grad(y0, [x, *op.rnn.parameters()], g)):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["dil_conv_3x3", "dil_conv_5x5"])
def test_dil_conv_at_stride_1_runs_its_fast_backward_with_torchs_values(name):
    "A stride-1 dil_conv's depthwise conv runs as DilatedDepthwise, with torch's own convolution's values and gradients."
    import torch.nn.functional as F
    from emodarts_nb.ops import DilatedDepthwise
    torch.manual_seed(0)
    op = CNN_OPS[name](6, 1, False)
    x = torch.randn(3, 6, 11, 14).contiguous(memory_format=torch.channels_last).requires_grad_()
    calls, fwd = [], DilatedDepthwise.forward
    DilatedDepthwise.forward = staticmethod(lambda *a: calls.append(1) or fwd(*a))
    try: y = op(x)
    finally: DilatedDepthwise.forward = staticmethod(fwd)
    assert len(calls) == 1
    relu, dw, pw, bn = op
    y0 = bn(pw(F.conv2d(F.relu(x), dw.weight, None, 1, dw.padding, dw.dilation, 6)))   # torch's kernels throughout
    assert torch.allclose(y, y0, atol=1e-6)
    g = torch.randn_like(y)
    for a, b in zip(torch.autograd.grad(y, [x, *op.parameters()], g), torch.autograd.grad(y0, [x, *op.parameters()], g)):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("checkpoint", [False, True])
def test_narrow_batch_norm_on_two_threads_gives_torchs_gradients_and_statistics(checkpoint, monkeypatch):
    """On more than one thread the supernet's BatchNorms of C < 16 channels_last maps run as BatchNormRows: the same
    loss, alpha and weight gradients and running statistics as torch's batch norm (checkpointed edges too)."""
    import copy
    import torch.nn.functional as F
    from emodarts_nb import ops
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.manual_seed(0)
        net = SuperNet(tiny(cnn_ops=CNN_DEFAULT), 3, SHAPE)
        net.checkpoint = checkpoint
        ref = copy.deepcopy(net)
        x, y = torch.randn(4, 1, *SHAPE), torch.randint(0, 3, (4,))
        calls, fwd = [], ops.BatchNormRows.forward
        monkeypatch.setattr(ops.BatchNormRows, "forward", staticmethod(lambda *a: calls.append(1) or fwd(*a)))
        grads = []
        for n, rows in ((net, True), (ref, False)):
            if not rows: monkeypatch.setattr(ops, "_narrow_rows", lambda t: False)    # torch's batch norm throughout
            n0 = len(calls)
            loss = F.cross_entropy(n(x), y)
            grads.append((loss, torch.autograd.grad(loss, [*n.alphas(), *n.weights()])))
            assert (len(calls) > n0) == rows, len(calls)
        (l1, g1), (l2, g2) = grads
        assert torch.allclose(l1, l2, rtol=1e-5)
        for a, b in zip(g1, g2): assert torch.allclose(a, b, rtol=1e-3, atol=1e-5)
        for (k, b), c in zip(net.named_buffers(), ref.buffers()): assert torch.allclose(b.float(), c.float(), rtol=1e-4, atol=1e-6), k
    finally: torch.set_num_threads(threads)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("C", [4, 8])  # one thread: batch norm over the map's rows, and torch's kernel (ops.BatchNorm)
def test_mixed_edge_is_the_weighted_sum_of_its_ops_with_one_relu(stride, C, monkeypatch):
    "The edge's output and gradients equal sum_i w_i op_i(x) in float64, as closely as that sum in float32 does, though"
    " each op that ends with a batch norm takes w_i as its scale, and relu(x) is computed once."
    import copy
    import torch.nn.functional as F
    from emodarts_nb.supernet import MixedOp
    torch.manual_seed(0)
    m = MixedOp(CNN_DEFAULT, "cnn", C, stride=stride)
    m64 = copy.deepcopy(m).double()
    x = torch.randn(2, C, 7, 9).contiguous(memory_format=torch.channels_last).requires_grad_()
    w = torch.softmax(torch.randn(len(CNN_DEFAULT)), 0).requires_grad_()
    relus, relu = [], F.relu
    monkeypatch.setattr(F, "relu", lambda t, *a, **k: relus.append(1) or relu(t, *a, **k))
    y = m(x, w)
    monkeypatch.undo()
    assert len(relus) == 3          # relu(x) once for the 4 convolutions (and the reducing skip), + the 2 SepConvs' second
    plain = lambda m, x, w: sum(w[i] * m.ops[n](x) for i, n in enumerate(CNN_DEFAULT) if n != "none")  # op by op
    x64, w64 = x.detach().double().requires_grad_(), w.detach().double().requires_grad_()
    y0, y64 = plain(m, x, w), plain(m64, x64, w64)
    g = torch.randn_like(y)
    ours, f32, f64 = [[out, *torch.autograd.grad(out, [xi, wi, *mod.parameters()], g.to(out.dtype))]
                      for out, xi, wi, mod in ((y, x, w, m), (y0, x, w, m), (y64, x64, w64, m64))]
    for a, b, c in zip(ours, f32, f64):   # sums of up to 1000 products: the error grows with the largest entry
        tol = 1e-6 * (1 + c.abs().max().item())
        assert (b.double() - c).abs().max() < tol                      # the plain sum in float32 passes the same bar
        assert (a.double() - c).abs().max() < tol, (a.double() - c).abs().max()


def test_attention_recomputes_its_score_map_and_gives_the_same_gradients():
    from emodarts_nb.ops import AdditiveAttention, additive_scores
    torch.manual_seed(0)
    att, h = AdditiveAttention(8, 4), torch.randn(2, 6, 8, requires_grad=True)
    kept = [0, 0]
    def pack(i): return lambda t: kept.__setitem__(i, kept[i] + t.numel()) or t
    with torch.autograd.graph.saved_tensors_hooks(pack(0), lambda t: t): y = att(h)
    with torch.autograd.graph.saved_tensors_hooks(pack(1), lambda t: t):  # the same without recomputation
        y0 = torch.softmax(additive_scores(att.q(h), att.k(h), att.v.weight), -1) @ h
    assert kept[0] <= kept[1] - 2 * 6 * 6 * 4                  # the (B, T, T, a) map is not kept
    assert torch.allclose(y, y0)
    g = torch.randn_like(y)
    for a, b in zip(torch.autograd.grad(y, [h, *att.parameters()], g), torch.autograd.grad(y0, [h, *att.parameters()], g)):
        assert torch.allclose(a, b, atol=1e-6)
