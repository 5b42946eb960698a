"""All parameters as one flat vector and back, as torch.nn.utils.parameters_to_vector / vector_to_parameters."""
from ... import functional as F
from ...autograd import Tensor


def parameters_to_vector(parameters):
    """One 1-D Tensor: every parameter flattened, in order, joined (differentiable, as in PyTorch)."""
    parameters = list(parameters)
    if not parameters:
        raise ValueError("parameters_to_vector: got no parameters")
    return F.concat([F.reshape(p, (-1,)) for p in parameters], axis=0)


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D `vec` into the parameters' arrays, in place."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{type(vec).__name__}{' of shape ' + str(tuple(vec.shape)) if isinstance(vec, Tensor) else ''}")
    parameters = list(parameters)
    sizes = [p.array.size for p in parameters]
    if sum(sizes) != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: the vector has {vec.shape[0]} elements, the parameters "
                         f"{sum(sizes)} (shapes {[tuple(p.shape) for p in parameters]})")
    start = 0
    for p, n in zip(parameters, sizes):
        p.array[...] = vec.array[start:start + n].reshape(p.shape)
        start += n
