"""`summary(model, input_shape)`: every layer's output shape and parameter count, from one forward pass."""
from .. import backend
from ..autograd import Tensor, no_grad


def _format_shape(shape, batch):
    dims = [str(n) for n in shape]
    if dims and batch is not None and shape[0] == batch:
        dims[0] = "N"
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _describe(output, batch):
    if isinstance(output, Tensor):
        return _format_shape(output.shape, batch)
    if isinstance(output, (tuple, list)):
        return ", ".join(_describe(o, batch) for o in output)
    if hasattr(output, "shape"):
        return _format_shape(output.shape, batch)
    return type(output).__name__


def _example_input(module, spec):
    """A zero input of shape `spec` in the module's dtype and on its device (Tensors and arrays pass through)."""
    if isinstance(spec, Tensor):
        return spec
    if hasattr(spec, "shape") and hasattr(spec, "dtype"):
        return Tensor(spec)
    params = [p for p in module.parameters() if p.dtype.kind == "f"]
    dtype = params[0].dtype if params else backend.get_default_dtype()
    xp = backend.get_array_module(params[0].array) if params else backend.xp()
    return Tensor(xp.zeros(tuple(spec), dtype=dtype))


def summary(module, *inputs):
    """A table of the output shape and parameter count of every leaf layer, in the order they run.

    Each of `inputs` is a shape such as (1, 100) (a zero input in the model's
    dtype and device is made) or a Tensor/array (e.g. integer labels for an
    Embedding). The model runs once in eval mode without a graph (BatchNorm's
    running statistics are not touched) and its train/eval flags are restored.
    The batch dimension is shown as N. Returns the table as a string:

        layer  type             output shape      params
        0      ConvTranspose2d  (N, 64, 7, 7)     ...
    """
    if not inputs:
        raise TypeError("summary: give the input shape, e.g. summary(model, (1, 100))")
    examples = [_example_input(module, spec) for spec in inputs]
    batch = examples[0].shape[0] if examples[0].ndim else None
    modes = {id(m): m.training for m in module.modules()}
    rows, handles = [], []
    for name, sub in module.named_modules():
        if any(True for _ in sub.children()):
            continue  # containers: their leaves are listed instead

        def record(m, _inputs, output, _name=name):
            n_params = sum(p.numel() for p in m.parameters())
            rows.append((_name or "(model)", type(m).__name__, _describe(output, batch), n_params))

        handles.append(sub.register_forward_hook(record))
    try:
        module.eval()
        with no_grad():
            module(*examples)
    finally:
        for handle in handles:
            handle.remove()
        for m in module.modules():
            m.training = modes[id(m)]
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    header = ("layer", "type", "output shape", "params")
    table = [header] + [(r[0], r[1], r[2], f"{r[3]:,}") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = ["  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].ljust(widths[2]),
                        row[3].rjust(widths[3])]).rstrip() for row in table]
    lines.append(f"total parameters: {total:,} (trainable: {trainable:,})")
    return "\n".join(lines)
