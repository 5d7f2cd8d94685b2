"Architect: the second-order architecture gradient against exact autograd, and what each optimiser holds."
import pytest, torch, torch.nn.functional as F

from emodarts_nb.architect import Architect, ToySupernet, check_second_order, rel_err, fd_hvp
from emodarts_nb.core import seed_everything


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_second_order_matches_double_backward(seed):
    assert check_second_order(seed=seed) < 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_official_hessian_formula_fails_the_same_check(seed):
    # emoDARTS computes (p - n) / 2. * eps: eps/2 times the difference instead of dividing by 2 eps
    assert check_second_order(official_bug=True, seed=seed) > 1e-2


def test_fd_hvp_divides_by_two_eps():
    p, n = [torch.tensor([3.0])], [torch.tensor([1.0])]
    assert fd_hvp(p, n, 0.01)[0].item() == pytest.approx(100.0)
    assert fd_hvp(p, n, 0.01, official_bug=True)[0].item() == pytest.approx(0.01)


def test_first_order_is_autograd_of_val_loss():
    seed_everything(0); m = ToySupernet()
    x, y = torch.randn(6, 4), torch.randint(0, 3, (6,))
    g, _ = Architect(m).first_order_grads((x, y))
    assert rel_err(g, list(torch.autograd.grad(F.cross_entropy(m(x), y), m.alphas()))) < 1e-6


def test_first_order_on_the_real_supernet_does_no_work_for_the_weights():
    """Every operation of the `cpu` space (the custom recurrent and convolution kernels included): the first-order
    gradient equals autograd's of the validation loss, and the weights enter it as constants (no kernel works on
    their gradients)."""
    from emodarts_nb.config import get_config
    from emodarts_nb.supernet import SuperNet
    seed_everything(0); m = SuperNet(get_config("cpu").space, 4, (3, 40, 24))
    x, y = torch.randn(4, 3, 40, 24), torch.arange(4)
    arch, seen = Architect(m), []
    loss = arch.loss
    arch.loss = lambda ws, batch: seen.append(any(w.requires_grad for w in ws)) or loss(ws, batch)
    g, _ = arch.first_order_grads((x, y))
    assert seen == [False]  # every kernel sees weights that need no gradient (custom ones included)
    assert rel_err(g, list(torch.autograd.grad(F.cross_entropy(m(x), y), m.alphas()))) < 1e-6


def _tiny_supernet(dtype=torch.float32):
    from emodarts_nb.supernet import SpaceConfig, SuperNet
    space = SpaceConfig(C=2, cnn_cells=("normal", "reduce"), nodes=2, seq_cells=1, seq_dim=4,
                        cnn_ops=("max_pool_3x3", "skip_connect", "sep_conv_3x3", "none"), seq_ops=("gru_1", "skip_connect", "none"))
    return SuperNet(space, 3, (8, 6)).to(dtype)


@pytest.mark.parametrize("fd_eps", [1e-5, 1e-6])
def test_second_order_on_the_real_supernet(fd_eps):
    """The same check on a tiny real supernet (float64, no dropout ops): CNN cells, sequential cells, batch norm.
    Its loss is too curved for DARTS's step 0.01 to be accurate here; the difference converges as the step shrinks."""
    seed_everything(0); m = _tiny_supernet(torch.float64)
    with torch.no_grad():
        for a in m.alphas(): a.normal_(0, 1)
    trn, val = [(torch.randn(4, 1, 8, 6, dtype=torch.float64), torch.randint(0, 3, (4,))) for _ in range(2)]
    arch = Architect(m, order="second_order", fd_eps=fd_eps)
    fd, _ = arch.second_order_grads(trn, val, 0.5)
    exact = arch.exact_unrolled_grads(trn, val, 0.5)
    assert rel_err(fd, exact) < 1e-4
    arch.official_bug = True
    bug, _ = arch.second_order_grads(trn, val, 0.5)
    assert rel_err(bug, exact) > rel_err(fd, exact) * 10


def test_architect_moves_only_alphas_and_holds_only_alphas():
    seed_everything(0); m = _tiny_supernet()
    arch = Architect(m, order="second_order", lr=0.1)
    held = {id(p) for g in arch.optimizer.param_groups for p in g["params"]}
    assert held == {id(a) for a in m.alphas()}
    w0 = [w.detach().clone() for w in m.weights()]; a0 = [a.detach().clone() for a in m.alphas()]
    b = (torch.randn(4, 1, 8, 6), torch.randint(0, 3, (4,)))
    w_optim = torch.optim.SGD(m.weights(), lr=0.025, momentum=0.9)
    arch.step(b, b, xi=0.025, w_optim=w_optim, reg_weight=1.0)
    assert all(torch.equal(w, v) for w, v in zip(m.weights(), w0))
    assert any(not torch.equal(a, v) for a, v in zip(m.alphas(), a0))
    buf0 = [b_.clone() for b_ in m.buffers()]
    arch.step(b, b, xi=0.025, w_optim=w_optim)
    assert all(torch.equal(x, y) for x, y in zip(m.buffers(), buf0))  # BN running stats untouched by the architecture step
