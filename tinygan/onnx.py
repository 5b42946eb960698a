"""`tinygan.onnx`, so that a PyTorch script that imports torch.onnx runs; tinygan cannot export to ONNX.

ONNX export traces a model into a graph of ONNX operators; tinygan has no such exporter. A model trained here
can be exported by loading its `state_dict()` into the PyTorch twin of its layers (tinygan's layers share
PyTorch's parameter names and shapes) and calling `torch.onnx.export` there.
"""


def export(*args, **kwargs):
    """Refused: tinygan has no ONNX exporter (see the module's docstring for the way through PyTorch)."""
    raise NotImplementedError(
        "tinygan.onnx.export: tinygan cannot export to ONNX. Save the weights with "
        "tinygan.save(model.state_dict(), path), load them into the same network built with torch.nn "
        "(the parameter names and shapes are PyTorch's), and call torch.onnx.export there")


def is_in_onnx_export():
    """False: tinygan never exports to ONNX."""
    return False
