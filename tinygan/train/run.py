"""A training run: build the models from a configuration, train epoch by epoch, and leave in the run folder

    config.json        the full configuration (what `tinygan resume` rebuilds from)
    log.jsonl          one line of figures per epoch
    samples/epoch_NNN.png   the picture of each epoch (samples from fixed noise, networks in eval mode)
    curves.png         the losses over epochs
    checkpoint.npz     models, optimizers, random state, epoch: written atomically after every epoch
    .lock              held by the process training in the folder (see folder.py)

What differs between kinds of model (the step, the data and its batches, the samples, the pictures, the
evaluation) is asked of the run's family: FAMILIES[registry family name], one file each in train/ (family.py
says what a family answers).

Resuming loads checkpoint.npz and continues with the next epoch. All randomness
comes from tinygan's seeded generator (saved in the checkpoint) and from the
data loader's order, which depends only on (seed, epoch); so on the NumPy backend
a resumed run ends with exactly the weights of a run that was never interrupted.
"""
import contextlib
import json
import numbers
import os
import sys
import time

import numpy as np
from tqdm import tqdm

from .. import backend, nn, optim, registry
from ..autograd import Tensor, detect_anomaly
from ..runtime.files import output_temporary
from ..runtime.malloc import keep_freed_memory
from . import checkpoint
from .checkpoint import MAX_META_BYTES, CheckpointError, load_checkpoint, load_checkpoint_meta, save_checkpoint
from .config import ADDED_LATER, ConfigError, check_config
from .ema import WeightAverage
from .families import FAMILIES
from .folder import CHECKPOINT, lock_run_folder

SAMPLE_COUNT = 64


def build_models(config):
    """The networks of a run by name, as the configuration's `arch` builds them (registry.ARCHITECTURES)."""
    return registry.build_networks(config)


def epoch_line(row, epochs):
    """One line for an epoch's log row: 'epoch 3/20  6.1 s  loss_D 0.52  loss_G 1.31 ...'."""
    figures = "  ".join(f"{key} {value:.4g}" for key, value in row.items() if key not in ("epoch", "step", "seconds"))
    return f"epoch {row['epoch']}/{epochs}  {row['seconds']:.1f} s  {figures}"


def build_optimizers(config, nets):
    betas = (config["beta1"], config["beta2"])
    return {name: optim.Adam(net.parameters(), lr=config["lr"], betas=betas) for name, net in nets.items()}


class Run:
    """A run folder and everything needed to train, sample from, and resume it."""

    def __init__(self, config, folder):
        self.config, self.folder = config, folder
        self.family = FAMILIES[registry.model_of(config).family]
        backend.use(config["backend"])
        backend.manual_seed(config["seed"])
        self.nets = build_models(config)
        for net in self.nets.values():
            net.to(backend.current_device())
        self.optimizers = build_optimizers(config, self.nets)
        ema = config.get("ema") or 0.0
        self.ema = WeightAverage(self.nets["G"], ema) if ema and "G" in self.nets else None
        self.epoch = 0
        self.history = []
        self._data = None
        self.step = self.family.make_step(self)

    # -- data ----------------------------------------------------------------
    @property
    def data(self):
        """The family's training data (a loader, a toy distribution, the views of a scene), loaded once."""
        if self._data is None:
            self._data = self.family.load_data(self)
        return self._data

    def batches_per_epoch(self):
        return self.family.batches_per_epoch(self)

    # -- training ------------------------------------------------------------
    def train_epoch(self, progress=None):
        """One epoch of steps; returns the epoch's mean figures."""
        for net in self.nets.values():
            net.train()
        totals, count, started = {}, 0, time.perf_counter()
        for x, y in self.family.batches(self, self.epoch):
            figures = self.step(x, y)
            for key, value in figures.items():
                totals[key] = totals.get(key, 0.0) + value
            count += 1
            if progress is not None:
                progress.set_postfix({k: f"{v:.3f}" for k, v in figures.items()}, refresh=False)
                progress.update(1)
        self.epoch += 1
        row = {"epoch": self.epoch, "step": self.step.steps, "seconds": round(time.perf_counter() - started, 3)}
        row.update({key: value / max(count, 1) for key, value in totals.items()})
        row.update(self.family.epoch_scores(self))
        self.history.append(row)
        return row

    def train(self, epochs=None, quiet=False, save_every_epoch=True, evaluate=None):
        """Train until `epochs` (default: the configuration's) epochs are done; save after each.

        evaluate -- optional function run -> {name: number}, called every config['eval_every'] epochs;
                    its figures join the epoch's log line and are drawn in metrics.png
        """
        keep_freed_memory()   # each step's arrays are reused, not page-faulted anew (tinygan/runtime/malloc.py)
        epochs = epochs or self.config["epochs"]
        with lock_run_folder(self.folder):
            self.batches_per_epoch()  # loads the data: a set too small for one batch is refused before any write
            self.write_config()
            self._rewrite_log()
            self._train_until(epochs, quiet, save_every_epoch, evaluate)
        return self.history

    def _train_until(self, epochs, quiet, save_every_epoch, evaluate):
        """The epoch loop of `train`, run while holding the folder's lock."""
        bar = not quiet and sys.stderr.isatty()    # in a log file a bar is thousands of carriage returns
        while self.epoch < epochs:
            checking = detect_anomaly() if self.config.get("detect_anomaly") else contextlib.nullcontext()
            with checking, tqdm(total=self.batches_per_epoch(), desc=f"epoch {self.epoch + 1}/{epochs}",
                                disable=not bar, leave=True, dynamic_ncols=True) as progress:
                row = self.train_epoch(progress if bar else None)
            every = self.config.get("eval_every") or 0
            if evaluate is not None and every and self.epoch % every == 0:
                row.update(evaluate(self))
            if not quiet and not bar:
                print(epoch_line(row, epochs), flush=True)
            self._append_log(row)
            self.save_figures()
            if save_every_epoch or self.epoch == epochs:
                self.save()

    def describe(self):
        """Every network's layers with their output shapes (N = batch) and parameter counts."""
        inputs = self.family.network_inputs(self)
        return "\n".join(f"{name}:\n{nn.summary(net, *inputs[name])}" for name, net in self.nets.items())

    # -- outputs -------------------------------------------------------------
    def write_config(self):
        with open(os.path.join(self.folder, "config.json"), "w") as file:
            json.dump(self.config, file, indent=2)

    def _rewrite_log(self):
        """log.jsonl as the checkpoint's history says, replaced atomically.

        A run killed after logging an epoch but before saving it resumes from the epoch
        before; rewriting the log from the history keeps each epoch in it once, in order.
        """
        handle, temporary = output_temporary(self.folder, prefix=".log-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w") as file:
                file.writelines(json.dumps(row) + "\n" for row in self.history)
            os.replace(temporary, os.path.join(self.folder, "log.jsonl"))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)
            raise

    def _append_log(self, row):
        with open(os.path.join(self.folder, "log.jsonl"), "a") as file:
            file.write(json.dumps(row) + "\n")

    def fixed_noise(self, n=SAMPLE_COUNT):
        """The same z every epoch (its own generator, so the training noise is untouched)."""
        z = np.random.default_rng([self.config["seed"], 12345]).standard_normal(
            (n, self.config["latent_dim"])).astype(backend.get_default_dtype())
        return Tensor(backend.to_device(z, backend.current_device()))

    def sample(self, n=SAMPLE_COUNT, label=None, z=None):
        """n samples with every network in eval mode (BatchNorm uses its running statistics).

        A GAN trained with --ema samples from the average of its generator's weights.
        """
        self._check_label(label)
        return self.family.sample(self, n, label, z)

    def _check_label(self, label):
        """ConfigError unless `label` is None, or a class of a conditional model."""
        if label is None:
            return
        if not registry.model_of(self.config).conditional:
            raise ConfigError(f"--label is for conditional models (cgan); this run is a {self.config['model']}, "
                              f"which cannot be asked for a digit")
        classes = registry.dataset_of(self.config).num_classes
        if not isinstance(label, numbers.Integral) or not 0 <= label < classes:
            raise ConfigError(f"--label must be a class from 0 to {classes - 1}, got {label!r}")

    def save_figures(self):
        """The pictures of this epoch and the curves so far (the family's)."""
        self.family.save_figures(self)

    # -- checkpoints ---------------------------------------------------------
    def saved_networks(self):
        """The networks a checkpoint holds: the trained ones and, with --ema, G's weight average as 'G_ema'."""
        return dict(self.nets, G_ema=self.ema.model) if self.ema is not None else dict(self.nets)

    def state(self):
        return {
            "format": checkpoint.FORMAT,
            "config": self.config,
            "epoch": self.epoch,
            "steps": self.step.steps,
            "history": self.history,
            "rng": backend.get_rng_state(),
            "models": {name: net.state_dict() for name, net in self.saved_networks().items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
        }

    def save(self):
        save_checkpoint(os.path.join(self.folder, CHECKPOINT), self.state())

    def load_state(self, state, path="checkpoint"):
        """Restore everything `state()` saved; a CheckpointError naming the entry that is missing or does not fit.

        The optimizers take the configuration's learning rate, not the saved one: `resume --lr`
        changes the configuration, and must change the steps too.
        """
        checkpoint.check_format(state, path)
        models = checkpoint.entry(state, "models", dict, path)
        for name, net in self.saved_networks().items():
            if name not in models:
                raise CheckpointError(f"{path}: entry 'models/{name}' is missing (it holds {sorted(models)})")
            checkpoint.check_finite_weights(models[name], name, path)
            with checkpoint.damaged_entry(path, f"models/{name}", "does not fit"):
                net.load_state_dict(models[name])
        optimizers = checkpoint.entry(state, "optimizers", dict, path)
        for name, opt in self.optimizers.items():
            if name not in optimizers:
                raise CheckpointError(f"{path}: entry 'optimizers/{name}' is missing (it holds {sorted(optimizers)})")
            with checkpoint.damaged_entry(path, f"optimizers/{name}", "does not fit"):
                opt.load_state_dict(optimizers[name])
            for group in opt.param_groups:
                group["lr"] = self.config["lr"]
        with checkpoint.damaged_entry(path, "rng", "is not a random generator state"):
            backend.set_rng_state(checkpoint.entry(state, "rng", dict, path))
        self.epoch = checkpoint.count(state, "epoch", path)
        self.step.steps = checkpoint.count(state, "steps", path)
        self.history = list(checkpoint.entry(state, "history", list, path))

    @classmethod
    def from_checkpoint(cls, path, folder=None, **overrides):
        """Rebuild a run from its checkpoint (file, or run folder) and restore its state.

        overrides -- settings to change (e.g. lr=1e-4), checked like a new run's; None keeps the saved one
        """
        path = checkpoint_path(path)
        outline = load_checkpoint_meta(path)  # the models are built before their arrays are read
        checkpoint.check_format(outline, path)
        config = {**ADDED_LATER, **checkpoint.entry(outline, "config", dict, path)}
        with checkpoint.damaged_entry(path, "config", "is not a valid configuration"):
            check_config(config)
        config.update({k: v for k, v in overrides.items() if v is not None})
        check_config(config)
        run = cls(config, folder or os.path.dirname(os.path.abspath(path)))
        run.load_state(load_checkpoint(path, max_bytes=run.checkpoint_budget()), path)
        return run

    def checkpoint_budget(self):
        """The most bytes this run's checkpoint can hold: each weight with Adam's two moments, and the JSON part."""
        weights = sum(value.nbytes for net in self.saved_networks().values() for value in net.state_dict().values())
        return 3 * weights + MAX_META_BYTES


def checkpoint_path(path):
    """The checkpoint file of a run folder, or `path` itself when it names a file."""
    return os.path.join(path, CHECKPOINT) if os.path.isdir(path) else path
