"""Genotypes built from bad values, JSON and strings: each gives a BadInputError naming the field and the value.
Derivation: the defaults keep the plain DARTS rule; the caps on parameter-free operations hold on every cell type."""
import json, re, time, warnings

import pytest
import torch

from emodarts_nb.core import BadInputError
from emodarts_nb.genotypes import (DARTS_V2, Genotype, cap_gene, cell_edges, derive_gene, derive_genotype,
                                   is_param_free, parse_genotype)

NORMAL = [[["sep_conv_3x3", 0], ["skip_connect", 1]], [["dil_conv_3x3", 2], ["max_pool_3x3", 0]]]   # states 0..3


def test_huge_range_concat_is_refused_at_once():
    t0 = time.perf_counter()
    with pytest.raises(BadInputError, match=r"genotype.normal_concat: more entries than the cell has states \(4\)"):
        Genotype(normal=NORMAL, normal_concat=range(0, 10**11))
    with pytest.raises(BadInputError, match="more entries than the cell has states"):
        parse_genotype(f"Genotype(normal={NORMAL}, normal_concat=range(0, 100000000000))")
    assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("concat,why", [
    ([2, "3"], "state '3' is not a whole number"), ([2, 3.0], "state 3.0 is not a whole number"),
    ([2, [3]], r"state \[3\] is not a whole number"), ([2, -1], "state -1 does not exist"),
    ([2, 4], "state 4 does not exist"), ([2, 2, 3], r"repeats a state: \[2, 2, 3\]"),
    ([2, None], "None is not a whole"),
    ([True, 2], "state True is not a whole number"), ("23", "not a list of state indices"), (7, "not a list"),
    ({"a": 1}, "state 'a' is not a whole number")])
def test_genotype_json_with_bad_concat_lists(tmp_path, concat, why):
    f = tmp_path / "genotype.json"
    f.write_text(json.dumps({"normal": NORMAL, "normal_concat": concat}))
    with pytest.raises(BadInputError, match=why) as e:
        Genotype.load(f)
    assert "genotype.normal_concat" in str(e.value)


@pytest.mark.parametrize("pair,why", [(["sep_conv_3x3", 1.9], "input index 1.9 is not a whole number"),
                                      (["sep_conv_3x3", "1"], "input index '1' is not a whole number"),
                                      ([3, 1], "operation 3 is not a name"),
                                      (["sep_conv_3x3"], "is not an .operation, input. pair"),
                                      ("sep_conv_3x3", "is not an .operation, input. pair")])
def test_genotype_input_index_is_never_rounded(pair, why):
    with pytest.raises(BadInputError, match=why):
        Genotype.from_json(json.dumps({"normal": [[["skip_connect", 0], pair]], "normal_concat": [2]}))


def test_string_with_float_index_is_refused_and_good_ones_round_trip():
    with pytest.raises(BadInputError, match="int literal"):
        parse_genotype("Genotype(normal=[('sep_conv_3x3', 1.9), ('skip_connect', 0)], normal_concat=range(2, 3))")
    assert Genotype.from_json(DARTS_V2.to_json()) == DARTS_V2 == parse_genotype(str(DARTS_V2))
    assert DARTS_V2.normal_concat == (2, 3, 4, 5)


# ---- caps on parameter-free operations at derivation (max_skip, min_param) ----
CNN = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "dil_conv_3x3", "none"]
SEQ = ["lstm_1", "gru_1", "lstm_att_1", "skip_connect", "none"]
OPS = {"normal": CNN, "reduce": CNN, "seq": SEQ}


def _plain_gene(w, op_names, k):
    "The DARTS rule as it stood before the caps (frozen here): per node the k strongest edges, best non-none op."
    keep = [i for i, n in enumerate(op_names) if n != "none"]
    best, arg = w[:, keep].max(dim=1)
    gene, e, i = [], 0, 0
    while e < len(w):
        edges = list(range(e, e + i + 2))
        top = sorted(edges, key=lambda r: -best[r].item())[:k]
        gene.append(tuple((op_names[keep[arg[r]]], r - edges[0]) for r in top))
        e, i = e + i + 2, i + 1
    return tuple(gene)


def _weights(seed, n_nodes, skew=0.0):
    "Per cell type, softmax probabilities of random alphas; `skew` pushes skip_connect up (a collapsing search)."
    g = torch.Generator().manual_seed(seed)
    out = {}
    for c, ops in OPS.items():
        a = torch.randn(len(cell_edges(n_nodes)), len(ops), generator=g)
        a[:, ops.index("skip_connect")] += skew
        out[c] = a.softmax(-1)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_defaults_keep_the_plain_darts_rule(seed):
    n_nodes, k = 1 + seed % 4, 1 + seed % 3
    w = _weights(seed, n_nodes, skew=seed % 3)
    gt = derive_genotype(w, OPS, k)
    for c in OPS:
        assert getattr(gt, c) == _plain_gene(w[c], OPS[c], k)
    assert derive_genotype(w, OPS, k, max_skip=None, min_param=None) == gt
    n_kept = sum(min(k, i + 2) for i in range(n_nodes))
    assert derive_genotype(w, OPS, k, max_skip=n_kept, min_param=0) == gt   # caps that every cell obeys


def _count(gene, pred): return sum(pred(op) for node in gene for op, _ in node)
def _param(op): return op != "none" and not is_param_free(op)


@pytest.mark.parametrize("seed", range(60))
def test_caps_hold_on_every_cell_type_with_fewest_changes(seed):
    n_nodes, k = 1 + seed % 4, 1 + (seed // 4) % 3
    n_kept = sum(min(k, i + 2) for i in range(n_nodes))
    gen = torch.Generator().manual_seed(1000 + seed)
    max_skip, min_param, max_param = (int(torch.randint(0, n_kept + 1, (), generator=gen)) for _ in range(3))
    min_param, max_param = sorted((min_param, max_param))
    max_param = max(max_param, n_kept - max_skip)     # the sequential cell's only parameter-free op is the skip
    if seed % 3 == 0: max_param = None                # the two caps of before alone
    w = _weights(seed, n_nodes, skew=(2.0 + seed % 3) * (-1) ** (seed // 2))  # skips pushed up or down
    gt = derive_genotype(w, OPS, k, max_skip=max_skip, min_param=min_param, max_param=max_param)
    skips = lambda gene: _count(gene, lambda op: op == "skip_connect")
    for c in OPS:
        plain, capped = _plain_gene(w[c], OPS[c], k), getattr(gt, c)
        assert skips(capped) <= max_skip
        assert min_param <= _count(capped, _param) <= (n_kept if max_param is None else max_param)
        assert [len(n) for n in capped] == [len(n) for n in plain]
        assert all(len({j for _, j in n}) == len(n) for n in capped)       # k distinct inputs per node
        excess = skips(plain) - max_skip
        deficit = min_param - _count(plain, _param)
        too_many = 0 if max_param is None else _count(plain, _param) - max_param   # never with a deficit
        changed = [(a[0], b[0]) for n0, n1 in zip(plain, capped) for a, b in zip(n0, n1) if a != b]
        assert len(changed) == max(0, excess, deficit) + max(0, too_many), (c, plain, capped)
        # each change swaps a kept choice for one of the other side: parameterised for parameter-free, or back;
        # a skip for a pooling where no more parameterised ops are allowed
        assert all(_param(a) != _param(b) or (a == "skip_connect" and is_param_free(b) and b != a) for a, b in changed)


def test_a_collapsed_sequential_cell_keeps_two_skips_and_two_recurrent_ops():
    w = torch.tensor([[0.1, 0.05, 0.05, 0.6, 0.2], [0.05, 0.05, 0.2, 0.4, 0.3], [0.05, 0.05, 0.05, 0.55, 0.3],
                      [0.1, 0.05, 0.05, 0.5, 0.3], [0.1, 0.3, 0.05, 0.35, 0.2]])
    ops = ["lstm_1", "lstm_2", "lstm_att_1", "skip_connect", "none"]
    assert derive_genotype({"seq": w}, {"seq": ops}).seq == ((("skip_connect", 0), ("skip_connect", 1)),) * 2
    assert derive_genotype({"seq": w}, {"seq": ops}, max_skip=2, min_param=1).seq == (
        (("skip_connect", 0), ("lstm_att_1", 1)), (("skip_connect", 0), ("lstm_2", 2)))


@pytest.mark.parametrize("name", ["max_skip", "min_param", "max_param"])
@pytest.mark.parametrize("bad", [-1, 5, 2.0, 1.5, "2", True, [2]])
def test_bad_caps_are_refused_naming_the_value(name, bad):
    w = _weights(0, 2)   # 2 nodes, k=2: 4 kept edges per cell
    with pytest.raises(BadInputError, match=re.escape(f"normal cell: {name}={bad!r} is not a whole number in 0..4")):
        derive_genotype(w, OPS, **{name: bad})
    with pytest.raises(BadInputError, match=rf"{name}=\{{'rnn': 1\}}: unknown cell types \['rnn'\]"):
        derive_genotype(w, OPS, **{name: {"rnn": 1}})


def test_a_cap_that_cannot_apply_warns_and_keeps_the_cell():
    ops = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "none"]
    w = torch.tensor([[0.2, 0.1, 0.6, 0.1]] * 5)                         # every edge prefers skip_connect
    why = r"reduce cell keeps 4 skip_connect, more than max_skip=0, but none of its ops"
    with pytest.warns(UserWarning, match=why):
        gt = derive_genotype({"reduce": w}, {"reduce": ops}, max_skip=0, min_param=1)
    assert gt.reduce == _plain_gene(w, ops, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cap_gene(derive_gene(w, ops), w, ops, min_param=0)                 # a cap already met: no warning


def test_skips_give_way_to_pooling_once_no_more_parameterised_ops_are_allowed():
    ops = ["max_pool_3x3", "skip_connect", "sep_conv_3x3", "none"]
    w = torch.tensor([[0.1, 0.6, 0.2, 0.1], [0.1, 0.5, 0.3, 0.1], [0.1, 0.7, 0.15, 0.05], [0.1, 0.55, 0.25, 0.1],
                      [0.1, 0.65, 0.2, 0.05]])                            # every edge prefers skip_connect, then sep_conv
    plain = derive_gene(w, ops)
    assert plain == [[("skip_connect", 0), ("skip_connect", 1)], [("skip_connect", 0), ("skip_connect", 2)]]
    # the weakest skips give way first (0.5, 0.6, 0.65), each to the best sep_conv over the node's free inputs
    assert derive_genotype({"normal": w}, {"normal": ops}, max_skip=1).normal == (
        (("sep_conv_3x3", 0), ("sep_conv_3x3", 1)), (("skip_connect", 0), ("sep_conv_3x3", 1)))
    # the first to a sep_conv, the next two to max_pool: no second parameterised op is allowed (ties: lower input)
    got = derive_genotype({"normal": w}, {"normal": ops}, max_skip=1, max_param=1).normal
    assert got == ((("max_pool_3x3", 0), ("sep_conv_3x3", 1)), (("skip_connect", 0), ("max_pool_3x3", 1))), got
    with pytest.raises(BadInputError, match=r"normal cell: min_param=2 exceeds max_param=1"):
        derive_genotype({"normal": w}, {"normal": ops}, min_param=2, max_param=1)
