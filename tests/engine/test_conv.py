"""Convolution checked against independent computations.

- the output-size formula against counting the positions of the kernel by brute force;
- conv2d and conv_transpose2d against naive loops in NumPy (tiny shapes);
- im2col/col2im and conv2d/conv_transpose2d as adjoint pairs: <A x, y> = <x, A^T y>;
- conv2d, conv_transpose2d, pooling, unfold/fold against torch.nn.functional when torch is installed.
"""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import tinygan.functional as F
from tinygan import Tensor, backend

FAST = settings(max_examples=15, deadline=None)


def host(t):
    return t.numpy()


# --- output sizes -----------------------------------------------------------------------------

def brute_force_output_size(size, kernel, stride, padding, dilation):
    """Count the start positions where the dilated kernel lies inside the padded input."""
    padded, span = size + 2 * padding, dilation * (kernel - 1) + 1
    return sum(1 for start in range(0, padded, stride) if start + span <= padded)


@FAST
@given(size=st.integers(1, 20), kernel=st.integers(1, 6), stride=st.integers(1, 4),
       padding=st.integers(0, 3), dilation=st.integers(1, 3))
def test_conv_output_size_formula(size, kernel, stride, padding, dilation):
    expected = brute_force_output_size(size, kernel, stride, padding, dilation)
    formula = F.conv_output_size(size, kernel, stride, padding, dilation)
    assert max(formula, 0) == expected


@FAST
@given(size=st.integers(1, 12), kernel=st.integers(1, 5), stride=st.integers(1, 4),
       padding=st.integers(0, 2), dilation=st.integers(1, 3), data=st.data())
def test_conv_transpose_output_size_inverts_conv(size, kernel, stride, padding, dilation, data):
    output_padding = data.draw(st.integers(0, stride - 1))
    out = F.conv_transpose_output_size(size, kernel, stride, padding, output_padding, dilation)
    if out >= 1:
        # every one of the `stride` transposed sizes convolves back to the original size
        assert brute_force_output_size(out, kernel, stride, padding, dilation) == size


# --- naive reference implementations ----------------------------------------------------------

def naive_conv2d(x, w, b, stride, padding, dilation):
    """y[n, o, oh, ow] = sum_{c, kh, kw} w[o, c, kh, kw] x_pad[n, c, oh SH + kh DH, ow SW + kw DW] + b[o]."""
    (SH, SW), (PH, PW), (DH, DW) = stride, padding, dilation
    N, C, H, W = x.shape
    O, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    OH = (H + 2 * PH - DH * (KH - 1) - 1) // SH + 1
    OW = (W + 2 * PW - DW * (KW - 1) - 1) // SW + 1
    y = np.zeros((N, O, OH, OW))
    for n in range(N):
        for o in range(O):
            for oh in range(OH):
                for ow in range(OW):
                    total = 0.0
                    for c in range(C):
                        for kh in range(KH):
                            for kw in range(KW):
                                total += w[o, c, kh, kw] * xp[n, c, oh * SH + kh * DH, ow * SW + kw * DW]
                    y[n, o, oh, ow] = total + (b[o] if b is not None else 0.0)
    return y


def naive_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation):
    """Each input pixel adds x[n, c, h, w] * w[c, o, :, :] at (h SH + kh DH, w SW + kw DW); then crop the padding."""
    (SH, SW), (PH, PW), (OPH, OPW), (DH, DW) = stride, padding, output_padding, dilation
    N, C, H, W = x.shape
    _, O, KH, KW = w.shape
    full = np.zeros((N, O, (H - 1) * SH + DH * (KH - 1) + 1 + OPH, (W - 1) * SW + DW * (KW - 1) + 1 + OPW))
    for n in range(N):
        for c in range(C):
            for h in range(H):
                for ww in range(W):
                    for o in range(O):
                        for kh in range(KH):
                            for kw in range(KW):
                                full[n, o, h * SH + kh * DH, ww * SW + kw * DW] += x[n, c, h, ww] * w[c, o, kh, kw]
    y = full[:, :, PH:full.shape[2] - PH, PW:full.shape[3] - PW]
    return y + (b.reshape(1, -1, 1, 1) if b is not None else 0.0)


@st.composite
def conv_case(draw):
    K = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    S = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    P = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    D = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    H = draw(st.integers(max(1, D[0] * (K[0] - 1) + 1 - 2 * P[0]), D[0] * (K[0] - 1) + 4))
    W = draw(st.integers(max(1, D[1] * (K[1] - 1) + 1 - 2 * P[1]), D[1] * (K[1] - 1) + 4))
    return dict(N=draw(st.integers(1, 2)), C=draw(st.integers(1, 2)), O=draw(st.integers(1, 3)), H=H, W=W,
                kernel=K, stride=S, padding=P, dilation=D, bias=draw(st.booleans()), seed=draw(st.integers(0, 999)))


@st.composite
def conv_transpose_case(draw):
    K = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    S = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    D = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    OP = (draw(st.integers(0, S[0] - 1)), draw(st.integers(0, S[1] - 1)))
    H, W = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    P = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    sizes = [F.conv_transpose_output_size(n, k, s, p, op, d) for n, k, s, p, op, d in zip((H, W), K, S, P, OP, D)]
    if min(sizes) < 1:
        P = (0, 0)
    return dict(N=draw(st.integers(1, 2)), C=draw(st.integers(1, 2)), O=draw(st.integers(1, 3)), H=H, W=W,
                kernel=K, stride=S, padding=P, output_padding=OP, dilation=D, bias=draw(st.booleans()),
                seed=draw(st.integers(0, 999)))


@FAST
@given(case=conv_case())
def test_conv2d_matches_naive_loops(case, make_rand):
    rand = make_rand(case["seed"])
    x = rand.randn(case["N"], case["C"], case["H"], case["W"], requires_grad=False)
    w = rand.randn(case["O"], case["C"], *case["kernel"], requires_grad=False)
    b = rand.randn(case["O"], requires_grad=False) if case["bias"] else None
    y = F.conv2d(x, w, b, stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
    expected = naive_conv2d(host(x), host(w), None if b is None else host(b),
                            case["stride"], case["padding"], case["dilation"])
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-12)


@FAST
@given(case=conv_transpose_case())
def test_conv_transpose2d_matches_naive_loops(case, make_rand):
    rand = make_rand(case["seed"])
    x = rand.randn(case["N"], case["C"], case["H"], case["W"], requires_grad=False)
    w = rand.randn(case["C"], case["O"], *case["kernel"], requires_grad=False)
    b = rand.randn(case["O"], requires_grad=False) if case["bias"] else None
    y = F.conv_transpose2d(x, w, b, stride=case["stride"], padding=case["padding"],
                           output_padding=case["output_padding"], dilation=case["dilation"])
    expected = naive_conv_transpose2d(host(x), host(w), None if b is None else host(b), case["stride"],
                                      case["padding"], case["output_padding"], case["dilation"])
    assert y.shape == expected.shape
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("N, slab_images", [(5, 1), (5, 2), (6, 3)])
def test_convolutions_in_slabs_match_naive_loops(N, slab_images, rand, monkeypatch, fast_kernels):
    """The fast kernels run im2col and the transposed product over slabs of images; uneven slabs must add up the same."""
    from tinygan.kernels import conv
    x = rand.randn(N, 3, 6, 4, requires_grad=False)
    w_conv, w = rand.randn(2, 3, 4, 4, requires_grad=False), rand.randn(3, 2, 4, 4, requires_grad=False)
    rows_bytes_per_image = 3 * 2 * (4 * 4 * 3) * 8          # conv2d: 3 x 2 windows of 4 x 4 x 3 (k4 s2 p1 on 6 x 4)
    monkeypatch.setattr(conv, "_SLAB_BYTES", slab_images * rows_bytes_per_image)
    assert [last - first for first, last in conv._slabs(N, rows_bytes_per_image, np)][0] == slab_images
    y = F.conv2d(x, w_conv, stride=2, padding=1)
    expected = naive_conv2d(host(x), host(w_conv), None, (2, 2), (1, 1), (1, 1))
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-12)
    rows_bytes_per_image = 6 * 4 * (2 * 4 * 4) * 8           # conv_transpose2d: 6 x 4 rows of 4 x 4 x 2
    monkeypatch.setattr(conv, "_SLAB_BYTES", slab_images * rows_bytes_per_image)
    z = F.conv_transpose2d(x, w, stride=2, padding=1)
    expected = naive_conv_transpose2d(host(x), host(w), None, (2, 2), (1, 1), (0, 0), (1, 1))
    np.testing.assert_allclose(host(z), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("N, slab_images", [(5, 1), (5, 2), (6, 3)])
def test_conv2d_without_kept_columns_matches_with_them(N, slab_images, rand, monkeypatch, fast_kernels):
    """Where no dL/dw wants them, the im2col rows are made slab by slab and never kept; dL/dw without kept rows
    makes them again, slab by slab. Uneven slabs must give the numbers of the kept rows."""
    from tinygan.kernels import conv
    from tinygan.functional.conv import ConvGeometry
    x, w, b = (host(t) for t in (rand.randn(N, 3, 6, 4), rand.randn(2, 3, 3, 3), rand.randn(2)))
    grad_y = host(rand.randn(N, 2, 6, 4))
    geometry = ConvGeometry("conv2d", 3, 1, 1, 1)
    y_kept, rows = conv.conv2d_forward(x, w, b, geometry)
    grad_w_kept = conv.conv2d_weight_grad(x, grad_y, geometry, w.shape, rows)
    assert conv.outputs_per_row(x.shape, geometry, 2, np) == 4               # so one row holds 4 windows
    rows_bytes_per_image = 6 * 1 * (3 * 6 * 3) * 8            # 6 x 1 rows of 3 x (3 + 3) x 3
    monkeypatch.setattr(conv, "_SLAB_BYTES", slab_images * rows_bytes_per_image)
    assert [last - first for first, last in conv._slabs(N, rows_bytes_per_image, np)][0] == slab_images
    y, no_rows = conv.conv2d_forward(x, w, b, geometry, keep_columns=False)
    assert no_rows is None
    np.testing.assert_allclose(y, y_kept, rtol=1e-12, atol=1e-12)
    grad_w = conv.conv2d_weight_grad(x, grad_y, geometry, w.shape)            # no rows given: made again, by slabs
    np.testing.assert_allclose(grad_w, grad_w_kept, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("channels_in, channels_out, as_convolution", [(8, 2, False), (4, 2, True), (2, 4, True)])
def test_stride_one_transposed_convolutions_run_the_cheaper_way(channels_in, channels_out, as_convolution, rand,
                                                                monkeypatch, fast_kernels):
    """A stride-1 transposed convolution runs as a convolution with the flipped kernel unless it narrows the
    channels fourfold or more (then the product and col2im); either way it equals the naive loops, and so does
    the dL/dx of the convolution it is the backward of."""
    from tinygan.kernels import conv
    calls = []
    as_a_convolution = conv._as_convolution
    monkeypatch.setattr(conv, "_as_convolution", lambda *args: calls.append(1) or as_a_convolution(*args))
    x = rand.randn(2, channels_in, 5, 4, requires_grad=False)
    w = rand.randn(channels_in, channels_out, 3, 3, requires_grad=False)
    y = F.conv_transpose2d(x, w, padding=1)
    assert bool(calls) == as_convolution
    expected = naive_conv_transpose2d(host(x), host(w), None, (1, 1), (1, 1), (0, 0), (1, 1))
    np.testing.assert_allclose(host(y), expected, rtol=1e-10, atol=1e-12)

    image = rand.randn(2, channels_out, 5, 4)                       # a convolution from Cout to Cin channels
    w_conv = rand.randn(channels_in, channels_out, 3, 3, requires_grad=False)
    grad_y = host(rand.randn(2, channels_in, 5, 4, requires_grad=False))
    F.conv2d(image, w_conv, padding=1).backward(Tensor(backend.xp().asarray(grad_y)))
    np.testing.assert_allclose(host(image.grad), naive_conv_transpose2d(grad_y, host(w_conv), None, (1, 1), (1, 1),
                                                                        (0, 0), (1, 1)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("channels_last", [True, False])
def test_a_pointwise_convolution_reads_its_pixels_as_rows(channels_last, rand, fast_kernels):
    """A 1x1 convolution (stride 1, no padding) of a channels-last image takes its pixels as the rows, a view, not
    an im2col copy; stored the other way the image is copied. Outputs and every gradient match the naive loops."""
    from tinygan.kernels import conv
    from tinygan.functional.conv import ConvGeometry
    array = host(rand.randn(2, 4, 3, 5))
    if channels_last:
        array = np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    rows = conv.conv_columns(array, ConvGeometry("conv2d", 1, 1, 0, 1))
    assert np.shares_memory(rows, array) == channels_last
    np.testing.assert_array_equal(rows, array.transpose(0, 2, 3, 1).reshape(-1, 4))

    x, w, b = Tensor(backend.xp().asarray(array), requires_grad=True), rand.randn(3, 4, 1, 1), rand.randn(3)
    y = F.conv2d(x, w, b)
    np.testing.assert_allclose(host(y), naive_conv2d(array, host(w), host(b), (1, 1), (0, 0), (1, 1)), rtol=1e-12)
    grad_y = host(rand.randn(*y.shape, requires_grad=False))
    y.backward(Tensor(backend.xp().asarray(grad_y)))
    np.testing.assert_allclose(host(w.grad), naive_conv2d_weight_grad(array, grad_y, (1, 1), (1, 1), (0, 0), (1, 1)),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(x.grad), np.einsum("nohw,oc->nchw", grad_y, host(w)[:, :, 0, 0]), rtol=1e-12)
    np.testing.assert_allclose(host(b.grad), grad_y.sum(axis=(0, 2, 3)), rtol=1e-12)


def naive_conv2d_weight_grad(x, grad_y, kernel, stride, padding, dilation):
    """dL/dw[o, c, kh, kw] = sum over (n, oh, ow) of dL/dy[n, o, oh, ow] x_pad[n, c, oh SH + kh DH, ow SW + kw DW]."""
    (KH, KW), (SH, SW), (PH, PW), (DH, DW) = kernel, stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    N, O, OH, OW = grad_y.shape
    grad_w = np.zeros((O, x.shape[1], KH, KW))
    for kh in range(KH):
        for kw in range(KW):
            window = xp[:, :, kh * DH:kh * DH + SH * (OH - 1) + 1:SH, kw * DW:kw * DW + SW * (OW - 1) + 1:SW]
            grad_w[:, :, kh, kw] = np.einsum("nohw,nchw->oc", grad_y, window)
    return grad_w


@st.composite
def wide_rows_case(draw):
    """A convolution whose windows overlap along W (KW > SW, DW = 1), with OW a multiple of p."""
    p = draw(st.sampled_from([1, 2, 4]))
    SW = draw(st.integers(1, 2))
    KW = draw(st.integers(SW + 1, 4))
    OW = p * draw(st.integers(1, 2))
    PW = draw(st.integers(0, min(2, ((OW - 1) * SW + KW - 1) // 2)))
    KH, SH, DH, PH = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
    H = draw(st.integers(max(1, DH * (KH - 1) + 1 - 2 * PH), DH * (KH - 1) + 3))
    return dict(p=p, N=draw(st.integers(1, 3)), C=draw(st.integers(1, 3)), O=draw(st.integers(1, 3)),
                H=H, W=(OW - 1) * SW + KW - 2 * PW, kernel=(KH, KW), stride=(SH, SW), padding=(PH, PW),
                dilation=(DH, 1), seed=draw(st.integers(0, 999)))


@FAST
@given(case=wide_rows_case())
def test_rows_of_neighbouring_windows_match_naive_loops(case, make_rand):
    """Rows that each hold the windows of p neighbouring outputs (the fast kernel's outputs_per_row), times the
    wide weight matrix, give the naive conv2d; folded back, their dL/dw is the naive one."""
    from tinygan.kernels import conv
    from tinygan.functional.conv import ConvGeometry
    rand = make_rand(case["seed"])
    x = host(rand.randn(case["N"], case["C"], case["H"], case["W"]))
    w, b = host(rand.randn(case["O"], case["C"], *case["kernel"])), host(rand.randn(case["O"]))
    geometry = ConvGeometry("conv2d", case["kernel"], case["stride"], case["padding"], case["dilation"])
    rows = conv.conv_columns(x, geometry, case["p"])
    y, _ = conv.conv2d_forward(x, w, b, geometry, columns=rows)
    expected = naive_conv2d(x, w, b, case["stride"], case["padding"], case["dilation"])
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    grad_y = host(rand.randn(*expected.shape))
    grad_w = conv.conv2d_weight_grad(x, grad_y, geometry, w.shape, columns=rows)
    np.testing.assert_allclose(grad_w, naive_conv2d_weight_grad(x, grad_y, case["kernel"], case["stride"],
                                                                case["padding"], case["dilation"]), rtol=1e-10, atol=1e-12)


def test_few_output_channels_take_neighbouring_windows_in_one_row():
    """The choice of p: 4 or 2 side by side while p*O stays within a product of 64 columns and p divides OW;
    one window a row where neighbouring windows do not overlap, with dilation along W, or for an empty batch."""
    from tinygan.kernels import conv
    from tinygan.functional.conv import ConvGeometry
    three = ConvGeometry("conv2d", 3, 1, 1, 1)
    assert conv.outputs_per_row((32, 16, 64, 64), three, 16, np) == 4
    assert conv.outputs_per_row((32, 16, 64, 64), three, 32, np) == 2
    assert conv.outputs_per_row((32, 16, 64, 64), three, 64, np) == 1
    assert conv.outputs_per_row((32, 16, 64, 6), three, 16, np) == 2                       # 4 does not divide OW = 6
    assert conv.outputs_per_row((32, 16, 64, 64), ConvGeometry("conv2d", 2, 2, 0, 1), 16, np) == 1   # tiles
    assert conv.outputs_per_row((32, 16, 64, 64), ConvGeometry("conv2d", 3, 1, 2, (1, 2)), 16, np) == 1
    assert conv.outputs_per_row((0, 16, 64, 64), three, 16, np) == 1


def test_conv2d_with_a_frozen_weight_keeps_no_columns(rand, fast_kernels):
    """A weight that needs no gradient (a frozen discriminator) leaves no rows behind; dL/dx is unchanged."""
    x, w = rand.randn(2, 3, 6, 5), rand.randn(4, 3, 3, 3)
    frozen = Tensor(host(w))
    y_frozen = F.conv2d(x, frozen, padding=1)
    assert y_frozen.creator.columns is None
    y = F.conv2d(x, w, padding=1)
    assert y.creator.columns is not None
    grad_y = rand.randn(*y.shape, requires_grad=False)
    (y_frozen * grad_y).sum().backward()
    frozen_grad_x, x.grad = host(x.grad), None
    (y * grad_y).sum().backward()
    np.testing.assert_allclose(frozen_grad_x, host(x.grad), rtol=1e-12, atol=1e-12)


def test_a_backward_pass_without_dw_leaves_the_columns_for_one_with_it(rand, fast_kernels):
    """grad(loss, x) needs no dL/dw: the rows kept for dL/dw stay for a later grad(loss, w), which uses them once."""
    from tinygan.autograd import grad
    x, w = rand.randn(2, 3, 6, 5), rand.randn(4, 3, 3, 3)
    y = F.conv2d(x, w, padding=1)
    loss = (y * y).sum()
    grad(loss, x)
    assert y.creator.columns is not None
    (grad_w,) = grad(loss, w)
    assert y.creator.columns is None
    expected = F.conv2d(x, w, padding=1)              # a fresh graph, whose rows were never freed before dL/dw
    (grad_w_fresh,) = grad((expected * expected).sum(), w)
    np.testing.assert_allclose(host(grad_w), host(grad_w_fresh), rtol=1e-12, atol=1e-12)


def test_conv2d_float32_matches_naive(rand):
    x = rand.randn(2, 3, 6, 5, requires_grad=False, dtype=np.float32)
    w = rand.randn(4, 3, 3, 2, requires_grad=False, dtype=np.float32)
    y = F.conv2d(x, w, stride=(2, 1), padding=(1, 0))
    assert y.dtype == np.float32
    expected = naive_conv2d(host(x).astype(np.float64), host(w).astype(np.float64), None, (2, 1), (1, 0), (1, 1))
    np.testing.assert_allclose(host(y), expected, rtol=1e-4, atol=1e-5)


# --- adjoint pairs ----------------------------------------------------------------------------

def inner(a, b):
    return float((host(a) * host(b)).sum())


@FAST
@given(case=conv_case())
def test_im2col_col2im_are_adjoint(case, make_rand):
    """<im2col(x), y> = <x, col2im(y)> for every x and y."""
    rand = make_rand(case["seed"])
    geometry = (case["kernel"], case["stride"], case["padding"], case["dilation"])
    x = rand.randn(case["N"], case["C"], case["H"], case["W"], requires_grad=False)
    cols = F.im2col(x, *geometry)
    y = rand.randn(*cols.shape, requires_grad=False)
    back = F.col2im(y, (case["H"], case["W"]), *geometry)
    assert back.shape == x.shape
    assert inner(cols, y) == pytest.approx(inner(x, back), rel=1e-10, abs=1e-10)


@settings(max_examples=40, deadline=None)
@given(K=st.tuples(st.integers(1, 5), st.integers(1, 5)), S=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       P=st.tuples(st.integers(0, 2), st.integers(0, 2)), D=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       extra=st.tuples(st.integers(0, 4), st.integers(0, 4)), C=st.sampled_from([1, 3]), seed=st.integers(0, 999))
@example(K=(4, 4), S=(2, 2), P=(1, 1), D=(1, 1), extra=(4, 4), C=3, seed=0)   # first class tiles 8 x 8: copied, not added
@example(K=(4, 4), S=(2, 2), P=(1, 1), D=(1, 1), extra=(3, 4), C=3, seed=1)   # 7 x 8: tiles the width only
@example(K=(4, 4), S=(2, 2), P=(1, 1), D=(1, 1), extra=(4, 4), C=1, seed=2)   # one channel: tap by tap
@example(K=(3, 2), S=(1, 2), P=(2, 0), D=(2, 1), extra=(2, 3), C=1, seed=3)
def test_col2im_adds_every_window_back_where_it_was_read(K, S, P, D, extra, C, seed):
    """col2im against a loop over (n, c, oh, ow, kh, kw): the windows it adds (by class, or by tap for one channel) must each land once."""
    H, W = (max(1, d * (k - 1) + 1 - 2 * p) + e for d, k, p, e in zip(D, K, P, extra))
    N = 2
    OH, OW = (F.conv_output_size(n, k, s, p, d) for n, k, s, p, d in zip((H, W), K, S, P, D))
    cols = np.random.default_rng(seed).standard_normal((N, C * K[0] * K[1], OH * OW))
    expected = np.zeros((N, C, H + 2 * P[0], W + 2 * P[1]))
    per_window = cols.reshape(N, C, K[0], K[1], OH, OW)
    for kh in range(K[0]):
        for kw in range(K[1]):
            for oh in range(OH):
                for ow in range(OW):
                    expected[:, :, oh * S[0] + kh * D[0], ow * S[1] + kw * D[1]] += per_window[:, :, kh, kw, oh, ow]
    expected = expected[:, :, P[0]:P[0] + H, P[1]:P[1] + W]
    got = F.col2im(Tensor(backend.to_device(cols, backend.current_device())), (H, W), K, S, P, D)
    np.testing.assert_allclose(host(got), expected, rtol=1e-12, atol=1e-12)


@FAST
@given(case=conv_case())
def test_conv_transpose2d_is_the_adjoint_of_conv2d(case, make_rand):
    """<conv2d(z, w), x> = <z, conv_transpose2d(x, w)> with the same weight and geometry."""
    rand = make_rand(case["seed"])
    geometry = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
    z = rand.randn(case["N"], case["C"], case["H"], case["W"], requires_grad=False)
    w = rand.randn(case["O"], case["C"], *case["kernel"], requires_grad=False)
    y = F.conv2d(z, w, **geometry)
    # conv2d drops the last rows/columns that no window reaches; output_padding puts them back
    SH, SW = case["stride"]
    output_padding = tuple(size - F.conv_transpose_output_size(out, k, s, p, 0, d)
                           for size, out, k, s, p, d in zip((case["H"], case["W"]), y.shape[2:], case["kernel"],
                                                            case["stride"], case["padding"], case["dilation"]))
    assert all(0 <= op < s for op, s in zip(output_padding, (SH, SW)))
    x = rand.randn(*y.shape, requires_grad=False)
    back = F.conv_transpose2d(x, w, output_padding=output_padding, **geometry)
    assert back.shape == z.shape
    assert inner(y, x) == pytest.approx(inner(z, back), rel=1e-10, abs=1e-10)


# --- torch.nn.functional as the reference (optional) ------------------------------------------

def _torch(array):
    torch = pytest.importorskip("torch")
    return torch.tensor(np.asarray(array), dtype=torch.float64, requires_grad=True)


def _agrees_with_torch(rand, y, ty, pairs):
    """y equals torch's ty, and after backward with one random weighting each (tinygan, torch) leaf's gradient agrees."""
    import torch
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rand.randn(*y.shape, requires_grad=False)
    y.backward(g)
    ty.backward(torch.tensor(host(g)))
    for ours, theirs in pairs:
        np.testing.assert_allclose(host(ours.grad), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@FAST
@given(case=conv_case())
def test_conv2d_matches_torch_forward_and_backward(case, make_rand):
    torch = pytest.importorskip("torch")
    rand = make_rand(case["seed"])
    x = rand.randn(case["N"], case["C"], case["H"], case["W"])
    w = rand.randn(case["O"], case["C"], *case["kernel"])
    b = rand.randn(case["O"]) if case["bias"] else None
    geometry = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"])
    y = F.conv2d(x, w, b, **geometry)
    tx, tw = _torch(host(x)), _torch(host(w))
    tb = _torch(host(b)) if b is not None else None
    ty = torch.nn.functional.conv2d(tx, tw, tb, **geometry)
    _agrees_with_torch(rand, y, ty, [(x, tx), (w, tw)] + ([(b, tb)] if b is not None else []))


@FAST
@given(case=conv_transpose_case())
def test_conv_transpose2d_matches_torch_forward_and_backward(case, make_rand):
    torch = pytest.importorskip("torch")
    rand = make_rand(case["seed"])
    x = rand.randn(case["N"], case["C"], case["H"], case["W"])
    w = rand.randn(case["C"], case["O"], *case["kernel"])
    b = rand.randn(case["O"]) if case["bias"] else None
    geometry = dict(stride=case["stride"], padding=case["padding"], output_padding=case["output_padding"],
                    dilation=case["dilation"])
    y = F.conv_transpose2d(x, w, b, **geometry)
    tx, tw = _torch(host(x)), _torch(host(w))
    tb = _torch(host(b)) if b is not None else None
    ty = torch.nn.functional.conv_transpose2d(tx, tw, tb, **geometry)
    _agrees_with_torch(rand, y, ty, [(x, tx), (w, tw)] + ([(b, tb)] if b is not None else []))


POOLS = [(2, None, 0), (3, 1, 1), (2, 1, 0), ((2, 3), (1, 2), (1, 1)), (3, 2, 1), (3, 3, 0)]


@pytest.mark.parametrize("kernel, stride, padding", POOLS, ids=str)
@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_pooling_matches_torch(pool, kernel, stride, padding, rand):
    torch = pytest.importorskip("torch")
    x = rand.separated(2, 3, 7, 6, gap=0.01)  # distinct values: max pooling's arg-max is unambiguous
    y = getattr(F, pool)(x, kernel, stride, padding)
    tx = _torch(host(x))
    ty = getattr(torch.nn.functional, pool)(tx, kernel, stride, padding)
    np.testing.assert_allclose(host(y), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rand.randn(*y.shape, requires_grad=False)
    y.backward(g)
    ty.backward(torch.tensor(host(g)))
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_upsample_nearest_matches_torch(rand):
    torch = pytest.importorskip("torch")
    x = rand.randn(2, 3, 3, 4, requires_grad=False)
    y = F.upsample_nearest2d(x, 2)
    ty = torch.nn.functional.interpolate(torch.tensor(host(x)), scale_factor=2, mode="nearest")
    np.testing.assert_allclose(host(y), ty.numpy())


@FAST
@given(case=conv_case())
def test_im2col_col2im_match_torch_unfold_fold(case, make_rand):
    torch = pytest.importorskip("torch")
    rand = make_rand(case["seed"])
    geometry = dict(kernel_size=case["kernel"], stride=case["stride"], padding=case["padding"],
                    dilation=case["dilation"])
    x = rand.randn(case["N"], case["C"], case["H"], case["W"], requires_grad=False)
    cols = F.im2col(x, **geometry)
    np.testing.assert_allclose(host(cols), torch.nn.functional.unfold(torch.tensor(host(x)), **geometry).numpy())
    y = rand.randn(*cols.shape, requires_grad=False)
    folded = F.col2im(y, (case["H"], case["W"]), **geometry)
    expected = torch.nn.functional.fold(torch.tensor(host(y)), (case["H"], case["W"]), **geometry).numpy()
    np.testing.assert_allclose(host(folded), expected, rtol=1e-12, atol=1e-12)


def test_backend_is_the_current_one(rand):
    """The conv ops return arrays of the backend their input lives on."""
    x = rand.randn(1, 1, 3, 3, requires_grad=False)
    w = rand.randn(1, 1, 2, 2, requires_grad=False)
    assert backend.get_array_module(F.conv2d(x, w).array) is backend.xp()


def test_convolution_outputs_are_channels_last_in_memory(make_rand, fast_kernels):
    """The fast conv2d and conv_transpose2d return (N, C, H, W) views of (N, H, W, C) memory, which the
    next convolution reads without a transposing copy (their values are checked by the tests above)."""
    rand = make_rand(0)
    x = rand.randn(2, 3, 6, 6, requires_grad=False)
    y = F.conv2d(x, rand.randn(4, 3, 3, 3, requires_grad=False), padding=1)
    z = F.conv_transpose2d(y, rand.randn(4, 2, 4, 4, requires_grad=False), stride=2, padding=1)
    for out in (y, z):
        assert out.array.transpose(0, 2, 3, 1).flags.c_contiguous


@pytest.mark.parametrize("channels_last", [False, True])
def test_batchnorm_channel_sums_read_either_memory_order(channels_last):
    from tinygan.kernels.layout import channel_sum as _channel_sum
    a = np.random.default_rng(1).standard_normal((3, 4, 5, 6))
    if channels_last:
        a = np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    a = backend.to_device(a, backend.current_device())
    np.testing.assert_allclose(backend.to_numpy(_channel_sum(a)), backend.to_numpy(a).sum(axis=(0, 2, 3)),
                               rtol=1e-12)


def test_channels_last_copies_once_and_passes_the_gradient_through(rand):
    """The fast kernels' ChannelsLast op: same values, channels-last memory, identity gradient (float64 check)."""
    from tinygan.gradcheck import gradcheck
    from tinygan.kernels import conv
    x = rand.randn(2, 3, 4, 5)
    y = conv.layout_for_products(x)
    assert y is not x and np.array_equal(host(y), host(x))
    assert y.array.transpose(0, 2, 3, 1).flags.c_contiguous
    assert conv.layout_for_products(y) is y                           # already channels-last: no second copy
    assert gradcheck(lambda t: conv.ChannelsLast.apply(t) * 2.0, [x])


def test_convolutions_of_an_empty_batch(rand):
    """N = 0 gives empty outputs and gradients of the right shapes (the slab loops must not trip on it)."""
    x = rand.randn(0, 3, 8, 8)
    w, wt = rand.randn(4, 3, 4, 4), rand.randn(3, 4, 4, 4)
    y, z = F.conv2d(x, w, stride=2, padding=1), F.conv_transpose2d(x, wt, stride=2, padding=1)
    assert y.shape == (0, 4, 4, 4) and z.shape == (0, 4, 16, 16)
    (y.sum() + z.sum()).backward()
    assert x.grad.shape == x.shape and not np.any(host(w.grad)) and not np.any(host(wt.grad))


def test_functional_convolutions_take_numpy_integers_and_arrays_like_the_layers():
    """One _pair for F.conv2d and nn.Conv2d: np.int64(2) is an int; and conv_transpose2d takes an ndarray as conv2d does."""
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    w = np.random.default_rng(1).standard_normal((2, 3, 2, 2))
    y = F.conv2d(x, w.transpose(1, 0, 2, 3), stride=np.int64(2), padding=np.int32(0))
    assert y.shape == (1, 3, 2, 2)
    z = F.conv_transpose2d(x, w, stride=np.int64(2))
    assert z.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(host(z), naive_conv_transpose2d(x, w, None, (2, 2), (0, 0), (0, 0), (1, 1)),
                               rtol=1e-12)
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints, got True"):
        F.conv2d(x, w.transpose(1, 0, 2, 3), stride=True)
