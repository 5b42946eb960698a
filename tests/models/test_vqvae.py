"""The VQ-VAE (tinygan/models/vqvae.py) and its quantiser (tinygan/functional/quantize.py): shapes, the nearest code,
what the straight-through estimator passes back and what it does not, the two codebook rules, dead-code restarts,
perplexity, checkpoints, a PyTorch transcription, the errors, and a short training run."""
import numpy as np
import pytest

import tinygan
from tinygan import Tensor, backend, optim
from tinygan.autograd import grad
from tinygan.data import load_embedded_mnist
from tinygan.data.captions import CaptionLoader
from tinygan.functional import mse_loss
from tinygan.functional.quantize import (code_counts, codebook_loss, commitment_loss, ema_update, nearest_code,
                                         perplexity, straight_through)
from tinygan.gradcheck import _numerical_gradient, gradcheck
from tinygan.models.vqvae import VQVAE


def host(t):
    return backend.to_numpy(t.array if isinstance(t, Tensor) else t)


def device(array):
    return backend.xp().asarray(array)


def tensor(array, requires_grad=False):
    return Tensor(device(np.asarray(array, dtype=np.float64)), requires_grad=requires_grad)


def tiny(codebook="ema", seed=0, **sizes):
    """A small float64 VQ-VAE whose codes sit among its encoder's outputs of `images(4)`."""
    tinygan.manual_seed(seed)
    sizes = {"num_codes": 8, "code_dim": 4, "hidden": 6, "width": 5, **sizes}
    model = VQVAE(codebook=codebook, **sizes).double()
    model.init_codebook(model.encode(images(4, seed=seed)), np.random.default_rng(seed))
    return model


def images(n, size=8, seed=0, dtype=np.float64):
    return Tensor(device(np.random.default_rng(seed).random((n, 3, size, size)).astype(dtype)))


# -- shapes and the quantiser ----------------------------------------------------------------------------------

def test_the_default_model_has_the_papers_shapes_and_tokens_for_a_prior():
    tinygan.manual_seed(0)
    model = VQVAE()
    x = images(2, size=28, dtype=np.float32)
    model.init_codebook(model.encode(images(3, size=28, dtype=np.float32)), np.random.default_rng(0))
    out = model(x)
    assert tuple(out.z_e.shape) == tuple(out.z_q.shape) == tuple(out.codes.shape) == (2, 32, 7, 7)
    assert tuple(out.reconstruction.shape) == (2, 3, 28, 28)
    assert 0 <= host(out.reconstruction).min() and host(out.reconstruction).max() <= 1
    assert tuple(out.indices.shape) == (2, 7, 7) and out.indices.dtype == np.int64
    assert tuple(model.codebook.shape) == (128, 32)
    tokens = model.encode_to_indices(x)
    assert tuple(tokens.shape) == (2, 49) and tokens.dtype == np.int64
    np.testing.assert_array_equal(host(tokens), host(out.indices).reshape(2, 49))
    assert 0 <= host(tokens).min() and host(tokens).max() < 128
    model.eval()
    np.testing.assert_allclose(host(model.decode_indices(tokens)), host(model(x).reconstruction), rtol=1e-6)
    np.testing.assert_array_equal(host(model.decode_indices(host(tokens).reshape(2, 7, 7))),
                                  host(model.decode_indices(tokens)))
    assert list(model.state_dict())[:4] == ["codebook", "cluster_size", "code_sum", "epoch_counts"]


def test_nearest_code_equals_a_brute_force_search():
    rng = np.random.default_rng(1)
    z, codebook = rng.normal(size=(60, 5)), rng.normal(size=(9, 5))
    expected = [min(range(9), key=lambda k: sum((z[m, d] - codebook[k, d]) ** 2 for d in range(5)))
                for m in range(60)]
    np.testing.assert_array_equal(host(nearest_code(device(z), device(codebook))), expected)
    model = tiny().eval()                                          # in training the EMA would move the codes after
    out = model(images(3, seed=2))
    flat = host(out.z_e).transpose(0, 2, 3, 1).reshape(-1, 4)
    codes = host(model.codebook)
    brute = [int(np.argmin([np.sum((p - e) ** 2) for e in codes])) for p in flat]
    np.testing.assert_array_equal(host(out.indices).ravel(), brute)
    np.testing.assert_array_equal(host(out.codes).transpose(0, 2, 3, 1).reshape(-1, 4), codes[brute])


def test_the_straight_through_estimator_passes_the_decoders_gradient_to_the_encoder_and_none_to_the_codes():
    rng = np.random.default_rng(3)
    z_e, e, w = tensor(rng.normal(size=(2, 3, 2, 2)), True), tensor(rng.normal(size=(2, 3, 2, 2)), True), \
        tensor(rng.normal(size=(2, 3, 2, 2)))
    z_q = straight_through(z_e, e)
    np.testing.assert_allclose(host(z_q), host(e), rtol=1e-15, atol=1e-15)     # forward: the code
    loss = (w * z_q * z_q).sum()                                                 # a decoder, dL/dz_q = 2 w z_q
    grad_z_q, grad_z_e, grad_e = grad(loss, [z_q, z_e, e], allow_unused=True)
    np.testing.assert_allclose(host(grad_z_q), 2 * host(w) * host(e), rtol=1e-14)
    np.testing.assert_array_equal(host(grad_z_e), host(grad_z_q))                # passed back unchanged
    assert grad_e is None                                                        # nothing reaches the codes
    # What it is not: the true derivative of the loss in z_e is 0 (z_q is e whatever z_e is), and in e it is
    # 2 w e. The estimator swaps the two on purpose.
    weighting = tensor(np.ones(()))
    for index, true_gradient in ((0, np.zeros((2, 3, 2, 2))), (1, 2 * host(w) * host(e))):
        numeric = host(_numerical_gradient(lambda z_e, e: (w * straight_through(z_e, e) ** 2).sum(), [z_e, e],
                                           index, weighting, 1e-6))
        np.testing.assert_allclose(numeric, true_gradient, atol=1e-7)


def test_the_commitment_term_trains_the_encoder_and_the_codebook_term_the_codes():
    rng = np.random.default_rng(4)
    z_e, e = tensor(rng.normal(size=(3, 4, 2, 2)), True), tensor(rng.normal(size=(3, 4, 2, 2)), True)
    size = 3 * 4 * 2 * 2
    assert commitment_loss(z_e, e).item() == pytest.approx(np.mean((host(z_e) - host(e)) ** 2), rel=1e-14)
    assert codebook_loss(z_e, e).item() == pytest.approx(np.mean((host(z_e) - host(e)) ** 2), rel=1e-14)
    to_z_e, to_e = grad(commitment_loss(z_e, e), [z_e, e], allow_unused=True)
    np.testing.assert_allclose(host(to_z_e), 2 * (host(z_e) - host(e)) / size, rtol=1e-13)
    assert to_e is None
    to_z_e, to_e = grad(codebook_loss(z_e, e), [z_e, e], allow_unused=True)
    np.testing.assert_allclose(host(to_e), 2 * (host(e) - host(z_e)) / size, rtol=1e-13)
    assert to_z_e is None
    assert gradcheck(lambda z: commitment_loss(z, e), [tensor(host(z_e), True)])
    assert gradcheck(lambda c: codebook_loss(z_e, c), [tensor(host(e), True)])


def test_the_loss_gradient_in_the_input_is_the_true_gradient_of_the_decoder_reading_z_e_plus_a_fixed_offset():
    """Near x the codes do not change, so the straight-through loss is the loss of a decoder that reads
    z_e + (e - z_e)|_x, a fixed offset: that smooth function passes a float64 gradient check, and its gradient
    is the model's. The commitment term alone is a true gradient of the model's own loss."""
    model = tiny().eval()
    x = tensor(host(images(2, seed=5)), True)
    out = model(x)
    loss, _ = model.loss(x, out)
    (model_gradient,) = grad(loss, [x])
    offset, codes = tensor(host(out.codes) - host(out.z_e)), tensor(host(out.codes))

    def surrogate(x):
        z_e = model.encode(x)
        return mse_loss(model.decode(z_e + offset), x) + 0.25 * mse_loss(z_e, codes)
    (surrogate_gradient,) = grad(surrogate(x), [x])
    np.testing.assert_allclose(host(model_gradient), host(surrogate_gradient), rtol=1e-12, atol=1e-15)
    assert gradcheck(surrogate, [x], atol=1e-8, rtol=1e-5)
    assert gradcheck(lambda x: model.loss(x, model(x))[1]["commitment"], [x], atol=1e-8, rtol=1e-5)


def test_in_loss_mode_only_the_codebook_term_reaches_the_codebook():
    model = tiny(codebook="loss").eval()
    assert any(p is model.codebook for p in model.parameters())
    x = images(2, seed=6)
    out = model(x)
    loss, terms = model.loss(x, out)
    (through_reconstruction,) = grad(terms["reconstruction"] + 0.25 * terms["commitment"], [model.codebook],
                                     allow_unused=True)
    assert through_reconstruction is None
    (total,) = grad(loss, [model.codebook])
    (codebook_only,) = grad(terms["codebook"], [model.codebook])
    np.testing.assert_allclose(host(total), host(codebook_only), rtol=1e-14)
    expected = np.zeros((8, 4))                                    # 2 (e_k - z_m) / size, summed where k_m = k
    flat = host(out.z_e).transpose(0, 2, 3, 1).reshape(-1, 4)
    for m, k in enumerate(host(out.indices).ravel()):
        expected[k] += 2 * (host(model.codebook)[k] - flat[m]) / flat.size
    np.testing.assert_allclose(host(total), expected, rtol=1e-12, atol=1e-16)
    assert terms["codebook"].item() == pytest.approx(np.mean((flat - host(model.codebook)[
        host(out.indices).ravel()]) ** 2), rel=1e-13)
    ema = tiny()
    assert ema.loss(x, ema(x))[1]["codebook"] is None


# -- the moving-average codebook, restarts and use --------------------------------------------------------------

def test_the_moving_average_update_equals_a_hand_computation():
    """K = 3 codes (0, 0), (1, 1), (2, 2), each counted once; outputs (1, 0) and (3, 0) choose code 0, (2, 4) code 2;
    decay 0.5: N = 0.5 (1, 1, 1) + 0.5 (2, 0, 1) = (1.5, 0.5, 1); m = 0.5 e + 0.5 ((4, 0), (0, 0), (2, 4))."""
    z, indices = device(np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 4.0]])), device(np.array([0, 0, 2]))
    for eps, expected_codes in ((0.0, [[4 / 3, 0], [1, 1], [2, 3]]),
                                # n = 3: N <- (N + 0.5) / (3 + 3 * 0.5) * 3 = (4/3, 2/3, 1)
                                (0.5, [[1.5, 0], [0.75, 0.75], [2, 3]])):
        codebook = device(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]))
        cluster_size, code_sum = device(np.ones(3)), codebook.copy()
        ema_update(codebook, cluster_size, code_sum, z, indices, decay=0.5, eps=eps)
        np.testing.assert_allclose(host(cluster_size), [1.5, 0.5, 1.0], rtol=1e-15)
        np.testing.assert_allclose(host(code_sum), [[2, 0], [0.5, 0.5], [2, 3]], rtol=1e-15)
        np.testing.assert_allclose(host(codebook), expected_codes, rtol=1e-14)


def test_training_moves_the_ema_codebook_and_evaluation_does_not():
    model = tiny()
    before = host(model.codebook).copy()
    model.eval()
    model(images(2, seed=7))
    np.testing.assert_array_equal(host(model.codebook), before)
    assert host(model.epoch_counts).sum() == 0
    model.train()
    out = model(images(2, seed=7))
    assert not np.array_equal(host(model.codebook), before)
    np.testing.assert_array_equal(host(model.epoch_counts), np.bincount(host(out.indices).ravel(), minlength=8))


def test_a_code_no_position_chose_in_an_epoch_restarts_at_an_output_of_the_last_batch():
    model = tiny()
    with pytest.raises(RuntimeError, match="no training batch has passed"):
        tiny().restart_dead_codes(np.random.default_rng(0))
    model.codebook.array[5] = 1e3                                # far from everything: never chosen
    model(images(2, seed=8))
    last = model(images(2, seed=9))
    counts = host(model.epoch_counts).copy()
    dead = np.flatnonzero(counts == 0)
    assert 5 in dead and model.code_use()["unused_codes"] == len(dead)
    kept = host(model.codebook)[counts > 0].copy()
    assert model.restart_dead_codes(np.random.default_rng(0)) == len(dead)
    outputs = host(last.z_e).transpose(0, 2, 3, 1).reshape(-1, 4)
    for k in dead:
        assert any(np.array_equal(host(model.codebook)[k], row) for row in outputs)
        assert host(model.cluster_size)[k] == 1
        np.testing.assert_array_equal(host(model.code_sum)[k], host(model.codebook)[k])
    np.testing.assert_array_equal(host(model.codebook)[counts > 0], kept)
    assert host(model.epoch_counts).sum() == 0
    assert model.restart_dead_codes(np.random.default_rng(0)) == 8       # a new epoch: none chosen yet


def test_perplexity_is_k_for_uniform_use_and_1_for_one_code():
    assert perplexity(device(np.full(16, 5))) == pytest.approx(16, rel=1e-12)
    assert perplexity(device(np.array([0, 0, 7, 0]))) == pytest.approx(1, rel=1e-12)
    assert perplexity(device(np.array([3, 3, 0, 0]))) == pytest.approx(2, rel=1e-12)
    counts = code_counts(device(np.array([[0, 2], [2, 2]])), 4)
    np.testing.assert_array_equal(host(counts), [1, 0, 3, 0])
    use = tiny().code_use(counts)
    assert use["unused_codes"] == 2 and use["perplexity"] == pytest.approx(np.exp(-(0.25 * np.log(0.25) +
                                                                                    0.75 * np.log(0.75))))


# -- checkpoints ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("codebook", ["ema", "loss"])
def test_the_state_dict_holds_the_codebook_and_its_statistics_and_resumes_exactly(codebook):
    model = tiny(codebook=codebook)
    opt = optim.Adam(model.parameters(), lr=1e-2)

    def step(model, opt, seed):
        x = images(4, seed=seed)
        loss, _ = model.loss(x, model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
    step(model, opt, 10)
    state, opt_state = model.state_dict(), opt.state_dict()
    expected = {"codebook", "epoch_counts"} | ({"cluster_size", "code_sum"} if codebook == "ema" else set())
    assert expected <= set(state) and "last_z_e" not in state
    resumed = tiny(codebook=codebook, seed=1)
    resumed.load_state_dict(state)
    resumed_opt = optim.Adam(resumed.parameters(), lr=1e-2)
    resumed_opt.load_state_dict(opt_state)
    for key, value in resumed.state_dict().items():
        np.testing.assert_array_equal(host(value), host(state[key]), err_msg=key)
    step(model, opt, 11)
    step(resumed, resumed_opt, 11)
    for key, value in resumed.state_dict().items():
        np.testing.assert_array_equal(host(value), host(model.state_dict()[key]), err_msg=key)


# -- PyTorch ----------------------------------------------------------------------------------------------------

def torch_vqvae(torch, model):
    """The same VQ-VAE written in PyTorch, with the model's weights: (forward of one training batch, its buffers)."""
    nn, F = torch.nn, torch.nn.functional
    K, D = model.num_codes, model.code_dim
    hidden, width = model.encoder[2].weight.shape[0], model.encoder[0].weight.shape[0]
    net = nn.ModuleDict({
        "encoder": nn.Sequential(nn.Conv2d(3, width, 4, 2, 1), nn.ReLU(), nn.Conv2d(width, hidden, 4, 2, 1),
                                 nn.ReLU(), nn.Conv2d(hidden, D, 1)),
        "decoder": nn.Sequential(nn.Conv2d(D, hidden, 3, padding=1), nn.ReLU(),
                                 nn.ConvTranspose2d(hidden, width, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(width, 3, 4, 2, 1), nn.Sigmoid()),
    }).double()
    state = {k: torch.from_numpy(host(v).copy()) for k, v in model.state_dict().items()}
    net.load_state_dict({k: v for k, v in state.items() if k.startswith(("encoder", "decoder"))})
    codebook = state["codebook"].requires_grad_(model.codebook_update == "loss")
    buffers = {k: state[k] for k in ("cluster_size", "code_sum") if k in state}

    def forward(x):
        z_e = net["encoder"](x)
        N, _, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, D)
        distance = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.T + codebook.pow(2).sum(1)
        index = distance.argmin(1)
        codes = F.embedding(index, codebook)
        if model.codebook_update == "ema":
            with torch.no_grad():
                one_hot = F.one_hot(index, K).double()
                buffers["cluster_size"].mul_(model.decay).add_(one_hot.sum(0), alpha=1 - model.decay)
                buffers["code_sum"].mul_(model.decay).add_(one_hot.T @ flat, alpha=1 - model.decay)
                n = buffers["cluster_size"].sum()
                size = (buffers["cluster_size"] + model.eps) / (n + K * model.eps) * n
                codebook.copy_(buffers["code_sum"] / size.unsqueeze(1))
        codes = codes.reshape(N, h, w, D).permute(0, 3, 1, 2)
        x_hat = net["decoder"](z_e + (codes - z_e).detach())
        loss = F.mse_loss(x_hat, x) + model.beta * F.mse_loss(z_e, codes.detach())
        if model.codebook_update == "loss":
            loss = loss + F.mse_loss(z_e.detach(), codes)
        return loss, x_hat
    return net, codebook, buffers, forward


@pytest.mark.parametrize("codebook", ["ema", "loss"])
def test_forward_backward_and_one_moving_average_update_equal_a_pytorch_transcription(codebook):
    torch = pytest.importorskip("torch")
    model = tiny(codebook=codebook)
    net, torch_codebook, buffers, torch_forward = torch_vqvae(torch, model)
    x = host(images(3, seed=12))
    out = model(Tensor(device(x)))
    loss, _ = model.loss(Tensor(device(x)), out)
    loss.backward()
    torch_loss, x_hat = torch_forward(torch.from_numpy(x))
    torch_loss.backward()
    assert loss.item() == pytest.approx(torch_loss.item(), rel=1e-12)
    np.testing.assert_allclose(host(out.reconstruction), x_hat.detach().numpy(), rtol=1e-12, atol=1e-14)
    theirs = dict(net.named_parameters())
    for name, parameter in model.named_parameters():
        if name == "codebook":
            np.testing.assert_allclose(host(parameter.grad), torch_codebook.grad.numpy(), rtol=1e-10, atol=1e-14)
        else:
            np.testing.assert_allclose(host(parameter.grad), theirs[name].grad.numpy(), rtol=1e-10, atol=1e-14,
                                       err_msg=name)
    np.testing.assert_allclose(host(model.codebook), torch_codebook.detach().numpy(), rtol=1e-12, atol=1e-15)
    for name, buffer in buffers.items():
        np.testing.assert_allclose(host(getattr(model, name)), buffer.numpy(), rtol=1e-12, err_msg=name)


# -- errors and training --------------------------------------------------------------------------------------

def test_wrong_shapes_are_refused_naming_the_operation_and_both_shapes():
    model = tiny()
    with pytest.raises(ValueError, match=r"VQVAE.encode: expected images \(N, 3, H, W\).*got shape \(2, 1, 28, 28\)"):
        model(Tensor(device(np.zeros((2, 1, 28, 28)))))
    with pytest.raises(ValueError, match=r"VQVAE.encode: .*divisible by 4.*got shape \(2, 3, 30, 30\)"):
        model.encode_to_indices(Tensor(device(np.zeros((2, 3, 30, 30)))))
    with pytest.raises(ValueError, match=r"VQVAE.decode: expected a latent grid \(N, 4, h, w\), got shape \(1, 3"):
        model.decode(Tensor(device(np.zeros((1, 3, 2, 2)))))
    with pytest.raises(ValueError, match=r"VQVAE.decode_indices: expected code indices \(N, h\*w\).*got shape "
                                         r"\(2, 48\)"):
        model.decode_indices(device(np.zeros((2, 48), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"nearest_code: .*outputs of shape \(5, 3\) and a codebook of shape "
                                         r"\(8, 4\)"):
        nearest_code(device(np.zeros((5, 3))), model.codebook.array)
    with pytest.raises(ValueError, match=r"VQVAE.init_codebook: needs at least 8 encoder outputs.*got 4"):
        model.init_codebook(device(np.zeros((1, 4, 2, 2))), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"codebook must be one of \('ema', 'loss'\), got 'adam'"):
        VQVAE(codebook="adam")


def test_a_few_dozen_training_steps_lower_the_loss():
    tinygan.manual_seed(0)
    model = VQVAE(num_codes=32, code_dim=8, hidden=32, width=16)
    digits, labels = load_embedded_mnist()
    pick = np.random.default_rng(0).permutation(5000)[:480]
    loader = CaptionLoader(batch_size=16, seed=0, digits=digits[pick], labels=labels[pick])
    held, _ = next(iter(CaptionLoader(batch_size=64, seed=99, digits=digits[pick], labels=labels[pick])))
    model.eval()

    def held_loss():
        return model.loss(held, model(held))[0].item()
    batches = list(loader)
    model.init_codebook(model.encode(batches[0][0]), np.random.default_rng(0))
    before = held_loss()
    model.train()
    opt = optim.Adam(model.parameters(), lr=3e-3)
    for x, _ in batches:
        loss, _ = model.loss(x, model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    assert held_loss() < 0.7 * before
    assert model.code_use()["perplexity"] > 2
