"""A workload's convolution products alone: the floor under its step for an engine built on im2col and GEMMs.

    python -m benchmarks.products --workload U1 --threads 2

Runs one tinygan step of the workload and records every matrix product its convolutions hand to the BLAS
(forward, dL/dx and dL/dw, in the fast kernels' layouts: wide rows, transposed products), then times each
product again on its own, with operands of the same shapes made beforehand: no im2col copy, no col2im,
no BatchNorm, nothing else of the step. It prints their sum beside the whole step's time in the same
process. Whatever else tinygan does faster, its step cannot take less than that sum on this machine's
BLAS.

Where torch is installed (and unless --no-reference), the same process then times PyTorch on the same
layers: each convolution layer the tinygan step ran, forward and backward as whole PyTorch ops (the
convolutions alone), and PyTorch's whole step of the workload. So one run shows how the step divides
into convolutions and everything else in both frameworks (docs/performance.md, "U1").
"""
import argparse
import importlib.util
import os
import statistics
import sys
import time


def _record_products(conv):
    """Wrap the fast conv kernel's product-making functions; returns the list they append (kind, A, B) to."""
    products = []
    originals = {name: getattr(conv, name) for name in ("conv2d_forward", "conv2d_weight_grad", "conv_transpose2d_forward")}

    def conv2d_forward(x, weight, bias, geometry, columns=None, keep_columns=True):
        N, O = x.shape[0], weight.shape[0]
        OH, OW = geometry.output_hw(*x.shape[2:])
        p = conv._outputs_per_row_for(columns, x, geometry, O, N * OH * OW)
        matrix = conv._wide_weight_matrix(weight, geometry, p)
        kind = "conv forward, rows kept" if columns is not None or keep_columns else "dL/dx, and forwards without rows"
        products.append((kind, (N * OH * OW // p, matrix.shape[0]), matrix.shape))
        return originals["conv2d_forward"](x, weight, bias, geometry, columns, keep_columns)

    def conv2d_weight_grad(x, grad_y, geometry, weight_shape, columns=None):
        N, _, OH, OW = grad_y.shape
        O = weight_shape[0]
        p = conv._outputs_per_row_for(columns, x, geometry, O, N * OH * OW)
        width = geometry.KH * conv._window_width(geometry, p) * x.shape[1]
        products.append(("dL/dw", (p * O, N * OH * OW // p), (N * OH * OW // p, width)))
        return originals["conv2d_weight_grad"](x, grad_y, geometry, weight_shape, columns)

    def conv_transpose2d_forward(x, weight, bias, geometry, output_hw):
        if not conv._is_a_convolution(geometry, output_hw, x.shape[2:]):  # else conv2d_forward records it
            N, Cin, H, W = x.shape
            products.append(("transposed conv forward", (N * H * W, Cin), (Cin, weight[0].size)))
        return originals["conv_transpose2d_forward"](x, weight, bias, geometry, output_hw)

    conv.conv2d_forward, conv.conv2d_weight_grad = conv2d_forward, conv2d_weight_grad
    conv.conv_transpose2d_forward = conv_transpose2d_forward
    return products, originals


def _record_layers(nn):
    """Wrap tinygan.nn's Conv2d and ConvTranspose2d forward; returns the list each call appends (module, input
    shape, whether the input needs dL/dx) to, and the original forwards to put back."""
    layers, originals = [], {cls: cls.forward for cls in (nn.Conv2d, nn.ConvTranspose2d)}

    def recorded(original):
        def forward(module, x):
            layers.append((module, tuple(x.shape), x.requires_grad))
            return original(module, x)
        return forward

    for cls, original in originals.items():
        cls.forward = recorded(original)
    return layers, originals


def _torch_layers_ms(layers, repeats):
    """PyTorch's forward and backward (dL/dx where the input needed it, dL/dw, dL/db) of each layer, with random
    float32 operands of the same shapes and the layer's geometry: the sum of the medians, in ms."""
    import torch
    import torch.nn.functional as F
    torch.manual_seed(0)
    total = 0.0
    for module, x_shape, needs_input_grad in layers:
        x = torch.randn(x_shape, requires_grad=needs_input_grad)
        weight = torch.randn(module.weight.shape, requires_grad=True)
        bias = torch.randn(module.bias.shape, requires_grad=True) if module.bias is not None else None
        geometry = {"stride": module.stride, "padding": module.padding, "dilation": module.dilation,
                    "groups": module.groups}
        if type(module).__name__ == "ConvTranspose2d":
            convolution, geometry["output_padding"] = F.conv_transpose2d, module.output_padding
        else:
            convolution = F.conv2d
        grad_y = torch.randn_like(convolution(x, weight, bias, **geometry))
        total += _median_ms(lambda: _forward_backward(convolution, x, weight, bias, geometry, grad_y), repeats)
    return total


def _forward_backward(convolution, x, weight, bias, geometry, grad_y):
    """One forward and backward, the gradients written afresh as after the step's zero_grad() (not accumulated)."""
    for tensor in (x, weight, bias):
        if tensor is not None:
            tensor.grad = None
    convolution(x, weight, bias, **geometry).backward(grad_y)


def _torch_reference_ms(layers, workload, quick, threads, repeats):
    """(PyTorch's whole step of the workload, its convolution layers alone), median ms, with the threads and
    malloc setting of the suite's PyTorch worker (benchmarks/torch_workloads.py)."""
    from . import torch_workloads
    torch_workloads.setup("cpu", threads)
    return _median_ms(torch_workloads.build(workload, quick).step, repeats), _torch_layers_ms(layers, repeats)


def _median_ms(run, repeats):
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _product_ms(a_shape, b_shape, repeats):
    """The median time of one product of random float32 operands of these shapes, C-contiguous as the kernels'."""
    import numpy
    rng = numpy.random.default_rng(0)
    a = rng.standard_normal(a_shape, dtype=numpy.float32)
    b = rng.standard_normal(b_shape, dtype=numpy.float32)
    return _median_ms(lambda: a @ b, repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="U1")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeats", type=int, default=9, help="timings per product and of the step (median)")
    parser.add_argument("--quick", action="store_true", help="tiny shapes (for tests)")
    parser.add_argument("--no-reference", action="store_true", help="skip PyTorch even where it is installed")
    args = parser.parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)                     # before NumPy loads its BLAS
    from . import tinygan_workloads
    from tinygan import nn
    from tinygan.kernels import conv
    tinygan_workloads.setup("cpu", args.threads)
    bench = tinygan_workloads.build(args.workload, args.quick)
    bench.step()
    step_ms = _median_ms(bench.step, args.repeats)
    products, originals = _record_products(conv)
    layers, forwards = _record_layers(nn)
    try:
        bench.step()
    finally:
        for name, function in originals.items():
            setattr(conv, name, function)
        for cls, forward in forwards.items():
            cls.forward = forward
    by_kind = {}
    for kind, a_shape, b_shape in products:
        by_kind.setdefault(kind, []).append(_product_ms(a_shape, b_shape, args.repeats))
    total = sum(sum(times) for times in by_kind.values())
    print(f"{args.workload}, {args.threads} threads: the whole step {step_ms:.1f} ms; "
          f"its {len(products)} convolution products alone {total:.1f} ms")
    for kind, times in by_kind.items():
        print(f"  {kind}: {len(times)} products, {sum(times):.1f} ms")
    if importlib.util.find_spec("torch") is not None and not args.no_reference:
        torch_step_ms, layers_ms = _torch_reference_ms(layers, args.workload, args.quick, args.threads, args.repeats)
        print(f"PyTorch, {args.threads} threads: the whole step {torch_step_ms:.1f} ms; the same {len(layers)} "
              f"convolution layers alone, forward and backward, {layers_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
