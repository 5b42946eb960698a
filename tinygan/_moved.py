"""Modules that moved: importing an old path fails with a ModuleNotFoundError naming the new one.

    >>> import tinygan.init
    ModuleNotFoundError: tinygan.init moved to tinygan.nn.init

MOVED maps each old path to its new one, one line a module. The finder sits last on sys.meta_path
(tinygan/__init__.py installs it), so it is asked only about a path no file answers.
"""
import sys

MOVED = {
    "tinygan.optim_lr_scheduler": "tinygan.optim.lr_scheduler",
    "tinygan.init": "tinygan.nn.init",
    "tinygan.threads": "tinygan.runtime.threads",
    "tinygan._malloc": "tinygan.runtime.malloc",
    "tinygan._files": "tinygan.runtime.files",
    "tinygan.nn.layers": "tinygan.nn",
    "tinygan.nn.activations": "tinygan.nn.activation",
    "tinygan.nn.recurrent": "tinygan.nn.rnn",
    "tinygan.nn.losses": "tinygan.nn.loss",
    "tinygan.nn.containers": "tinygan.nn.container",
    "tinygan.metrics": "tinygan.evaluation.metrics",
    "tinygan.classifier": "tinygan.evaluation.classifier",
    "tinygan.segmentation": "tinygan.evaluation.segmentation",
    "tinygan.restoration": "tinygan.evaluation.restoration",
    "tinygan.data.datasets": "tinygan.registry",
    "tinygan.evaluate": "tinygan.train.evaluate",
    "tinygan.train.steps": "tinygan.train",
}


class MovedModuleFinder:
    """A sys.meta_path finder that answers an old path of MOVED with an error naming the new path."""

    def find_spec(self, fullname, path=None, target=None):
        new = MOVED.get(fullname)
        if new is None:
            return None
        # No `name=`: `from tinygan import init` would otherwise swallow this error for its own vaguer one.
        raise ModuleNotFoundError(f"{fullname} moved to {new}")


def install():
    """Put the finder at the end of sys.meta_path, once."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
