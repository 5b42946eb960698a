"""The exact-resume check that every model's tests share: a run trained straight through, and one stopped after
its first epoch, reloaded from its checkpoint and finished, must end with the same weights, bit for bit."""
import numpy as np

from tinygan.train import Run


def straight_and_resumed(config, folder):
    """(straight, resumed): the two runs of `config`, in folder/straight and folder/interrupted, both trained."""
    straight = Run(config, str(folder / "straight"))
    straight.train(quiet=True)
    interrupted = Run(config, str(folder / "interrupted"))
    interrupted.train(epochs=1, quiet=True)
    resumed = Run.from_checkpoint(str(folder / "interrupted"))
    assert resumed.epoch == 1
    resumed.train(quiet=True)
    return straight, resumed


def saved_weights(run):
    """Every array a checkpoint of `run` holds, as {"network.parameter": copy}."""
    return {f"{name}.{key}": value.copy() for name, net in run.saved_networks().items()
            for key, value in net.state_dict().items()}


def assert_same_weights(a, b):
    """Two runs' saved weights: the same names, every array bit for bit equal."""
    weights_a, weights_b = saved_weights(a), saved_weights(b)
    assert weights_a.keys() == weights_b.keys()
    for key in weights_a:
        np.testing.assert_array_equal(weights_a[key], weights_b[key], err_msg=key)
