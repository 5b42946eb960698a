"""A training run: build the models from a configuration, train epoch by epoch, and leave in the run folder

    config.json        the full configuration (what `tinygan resume` rebuilds from)
    log.jsonl          one line of figures per epoch
    samples/epoch_NNN.png   samples from fixed noise (generator in eval mode)
    curves.png         the losses over epochs
    checkpoint.npz     models, optimizers, random state, epoch: written atomically after every epoch
    .lock              held by the process training in the folder (see folder.py)

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

from .. import backend, nn, optim, registry, viz
from ..runtime.files import output_temporary
from ..runtime.malloc import keep_freed_memory
from ..autograd import Tensor, detect_anomaly, no_grad
from ..data import ImageLoader, balanced_subset
from ..data.damage import PairLoader
from ..data.scenes import SceneLoader, make_scenes
from . import checkpoint
from .checkpoint import MAX_META_BYTES, CheckpointError, load_checkpoint, load_checkpoint_meta, save_checkpoint
from .config import ADDED_LATER, ConfigError, check_config, is_pix2pix, is_rnn, is_segmentation, is_toy, is_vae
from .ema import WeightAverage
from .folder import CHECKPOINT, lock_run_folder
from .steps import GANStep, RNNStep, SegmentationStep, VAEGANStep, VAEStep
from .config import is_nerf
from .steps import NeRFStep
from .pix2pix import Pix2PixStep

METRIC_KEYS = ("fid", "classifier_score", "label_accuracy", "modes_covered", "high_quality_fraction", "elbo_loss",
               "test_nll")
METRIC_KEYS += ("miou", "miou_digits", "pixel_accuracy")   # segmentation
SAMPLE_COUNT = 64


def build_models(config):
    """The networks of a run, by the configuration's `arch`: {'G': ..., 'D': ...}, {'vae': ...} or {'rnn': ...}."""
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
        self.step = self._make_step()

    # -- building ------------------------------------------------------------
    def _make_step(self):
        c = self.config
        if is_nerf(c):
            from .nerf import training_rays
            return NeRFStep(self.nets["nerf"], self.optimizers["nerf"], training_rays(self.data), self.data.near,
                            self.data.far, num_samples=c["num_samples"], batch_size=c["batch_size"])
        if is_rnn(c):
            return RNNStep(self.nets["rnn"], self.optimizers["rnn"])
        if is_pix2pix(c):
            return Pix2PixStep(self.nets["G"], self.nets["D"], self.optimizers["G"], self.optimizers["D"],
                               l1_weight=c["l1_weight"], gan_weight=c["gan_weight"])
        if is_segmentation(c):
            return SegmentationStep(self.nets["unet"], self.optimizers["unet"])
        if registry.model_of(c).family == "vaegan":
            opts = self.optimizers
            return VAEGANStep(self.nets["E"], self.nets["G"], self.nets["D"], opts["E"], opts["G"], opts["D"],
                              gamma=c["gamma"])
        if is_vae(c):
            return VAEStep(self.nets["vae"], self.optimizers["vae"], beta=c["beta"], likelihood=c["likelihood"])
        return GANStep(self.nets["G"], self.nets["D"], self.optimizers["G"], self.optimizers["D"], loss=c["loss"],
                       n_critic=c["n_critic"], gp_weight=c["gp_weight"], latent_dim=c["latent_dim"],
                       num_classes=registry.dataset_of(c).num_classes if registry.model_of(c).conditional else None,
                       ema=self.ema)

    @property
    def data(self):
        """The loader (image sets) or the distribution (toy sets), loaded once."""
        if self._data is None:
            c = self.config
            if is_nerf(c):  # the views of the 3-D scene
                from ..data.scene import load_scene_views
                self._data = load_scene_views()
                return self._data
            source = None if is_segmentation(c) else registry.load_dataset(c["data"])
            if is_toy(c):
                self._data = source
            elif is_segmentation(c):   # fresh scenes every epoch, drawn from (seed + epoch)
                self._data = SceneLoader(batch_size=c["batch_size"], seed=c["seed"])
            else:
                images, labels = source
                check_channels(c, images, c["data"])
                if c["limit"] is not None:                      # every class, not the first (sorted) ones
                    keep = balanced_subset(labels, c["limit"], c["seed"])
                    images, labels = images[keep], labels[keep]
                if is_pix2pix(c):   # (damaged, original) pairs, damaged afresh each epoch
                    loader = PairLoader(images, labels, task=c["task"], batch_size=c["batch_size"], seed=c["seed"])
                else:
                    loader = ImageLoader(images, labels, batch_size=c["batch_size"], seed=c["seed"], drop_last=True,
                                        value_range=registry.model_of(c).value_range, flatten=is_vae(c))
                if len(loader) == 0:
                    raise ConfigError(f"--batch-size {c['batch_size']} is larger than the {len(images)} training "
                                      f"images of {c['data']}" + (" (--limit)" if c["limit"] is not None else "")
                                      + "; an epoch (which drops an incomplete last batch) would train nothing")
                self._data = loader
        return self._data

    def _batches(self, epoch):
        """The batches of one epoch: from the loader, or fresh samples of a toy distribution."""
        c = self.config
        if is_nerf(c):  # NeRFStep draws its own rays
            for _ in range(c["steps_per_epoch"]):
                yield None, None
            return
        if is_toy(c):
            rng = np.random.default_rng([c["seed"], epoch])
            for _ in range(c["steps_per_epoch"]):
                points = self.data.sample(c["batch_size"], rng)
                yield Tensor(backend.to_device(points, backend.current_device())), None
            return
        self.data.set_epoch(epoch)
        for i, (x, y) in enumerate(self.data):
            if c["steps_per_epoch"] and i >= c["steps_per_epoch"]:
                break
            yield x, y

    def batches_per_epoch(self):
        c = self.config
        if is_toy(c) or is_nerf(c):
            self.data  # noqa: B018 (loads the data)
            return c["steps_per_epoch"]
        return min(len(self.data), c["steps_per_epoch"] or len(self.data))

    # -- training ------------------------------------------------------------
    def train_epoch(self, progress=None):
        """One epoch of steps; returns the epoch's mean figures."""
        for net in self.nets.values():
            net.train()
        totals, count, started = {}, 0, time.perf_counter()
        for x, y in self._batches(self.epoch):
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
        if is_nerf(self.config):  # the held-out views' PSNR every epoch (no randomness drawn)
            from .nerf import test_scores
            row.update(test_scores(self))
        self.history.append(row)
        return row

    def train(self, epochs=None, quiet=False, save_every_epoch=True, evaluate=None):
        """Train until `epochs` (default: the configuration's) epochs are done; save after each.

        evaluate -- optional function run -> {name: number}, called every config['eval_every'] epochs;
                    its figures join the epoch's log line and are drawn in metrics.png
        """
        keep_freed_memory()   # each step's arrays are reused, not page-faulted anew (tinygan/_malloc.py)
        epochs = epochs or self.config["epochs"]
        with lock_run_folder(self.folder):
            self.batches_per_epoch()  # loads the data: a set too small for one batch is refused before any write
            self.write_config()
            self._rewrite_log()
            self._train_until(epochs, quiet, save_every_epoch, evaluate)
        return self.history

    def _train_until(self, epochs, quiet, save_every_epoch, evaluate):
        """The epoch loop of `train`, run while holding the folder's lock."""
        from tqdm import tqdm
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
        c = self.config
        labels = Tensor(backend.xp().zeros(2, dtype=np.int64))
        extra = (labels,) if registry.model_of(c).conditional else ()
        sample_shape = registry.dataset_of(c).sample_shape
        inputs = {"G": ((2, c["latent_dim"]),) + extra, "D": ((2,) + sample_shape,) + extra, "E": ((2,) + sample_shape,),
                  "vae": ((2, int(np.prod(sample_shape))),), "rnn": ((2,) + sample_shape,),
                  "nerf": ((2, 3),), "unet": ((2,) + sample_shape,)}
        if is_pix2pix(c):   # G maps an image to an image; D judges (input, output) pairs
            inputs.update(G=((2,) + sample_shape,), D=((2,) + sample_shape, (2,) + sample_shape))
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
        if is_pix2pix(self.config):
            raise ConfigError("pix2pix restores damaged digits instead of drawing from noise: use "
                              "tinygan.evaluation.restoration.restore (tinygan.train.pix2pix.save_restorations draws "
                              "them), or `tinygan sample` which draws damaged | restored | original digits")
        if is_segmentation(self.config):
            raise ConfigError(f"{self.config['model']!r} maps scenes to label maps and draws no samples; "
                              f"run.segment(scenes) labels scenes (tinygan sample draws scenes and their maps)")
        z = self.fixed_noise(n) if z is None else z
        for net in self.nets.values():
            net.eval()
        if is_nerf(self.config):  # novel views from a turntable of cameras (no noise)
            from .nerf import turntable
            return Tensor(backend.to_device(turntable(self, n).astype(backend.get_default_dtype()),
                                            backend.current_device()))
        with no_grad():
            if is_vae(self.config):
                return self.nets["vae"].decode(z).sigmoid().reshape((n,) + registry.dataset_of(self.config).sample_shape)
            if is_rnn(self.config):
                return self.nets["rnn"].sample(z)
            generator = self.nets["G"] if self.ema is None else self.ema.model
            if registry.model_of(self.config).conditional:
                labels = np.arange(n) % 10 if label is None else np.full(n, int(label))
                return generator(z, Tensor(backend.to_device(labels, backend.current_device())))
            return generator(z)

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
        """Samples of this epoch and the curves so far."""
        if is_nerf(self.config):
            from . import nerf
            return nerf.save_figures(self)
        samples_dir = os.path.join(self.folder, "samples")
        os.makedirs(samples_dir, exist_ok=True)
        path = os.path.join(samples_dir, f"epoch_{self.epoch:03d}.png")
        if is_pix2pix(self.config):   # two of each digit under the fixed test damage, restored
            from ..data.damage import fixed_test_damage
            from ..evaluation.restoration import restore
            from .pix2pix import save_restorations
            images = self.data.images[viz.each_class_in_turn(self.data.labels, 2)]
            damaged, mask = fixed_test_damage(images, self.config["task"])
            save_restorations(damaged, restore(self.nets["G"], damaged), images, path, per_row=10, mask=mask,
                              title=f"epoch {self.epoch}")
        elif is_segmentation(self.config):
            self.save_label_maps(path)
        elif is_toy(self.config):
            modes = getattr(self.data, "modes", None)
            viz.save_points(self.sample(2500).data, path, modes=modes, title=f"epoch {self.epoch}", limit=None)
        else:
            value_range = registry.model_of(self.config).value_range
            viz.save_image_grid(self.sample().data, path, value_range=value_range, title=f"epoch {self.epoch}")
            if registry.model_of(self.config).family == "vaegan":
                self.save_reconstructions(os.path.join(self.folder, "reconstructions.png"))
        loss_keys = [k for k in self.history[-1] if k.startswith("loss") or k in ("reconstruction", "kl", "l1", "gan_g")]
        viz.save_curves(self.history, os.path.join(self.folder, "curves.png"), keys=loss_keys,
                        title=f"{self.config['model']} on {self.config['data']}")
        evaluated = [row for row in self.history if any(k in row for k in METRIC_KEYS)]
        if evaluated:
            viz.save_curves(evaluated, os.path.join(self.folder, "metrics.png"),
                            keys=[k for k in METRIC_KEYS if k in evaluated[-1]], title="evaluation over epochs")

    def save_reconstructions(self, path, per_class=3):
        """Originals beside their mean reconstructions, in rows of one pair per class: `per_class` of each class."""
        from ..evaluate import reconstruct
        images = self.data.images[viz.each_class_in_turn(self.data.labels, per_class)]
        pairs = np.stack([images / 255.0, reconstruct(self, images)], axis=1).reshape((-1,) + images.shape[1:])
        viz.save_image_grid(pairs, path, ncols=20, value_range=(0, 1),
                            title=f"original | reconstruction, every digit in each row, epoch {self.epoch}")

    def fixed_scenes(self, n=6):
        """The same n scenes every epoch: from the embedded digits with their own generator."""
        images, labels = self.data.digits
        return make_scenes(images, labels, n, np.random.default_rng([self.config["seed"], 12345]))

    def segment(self, scenes):
        """Predicted label maps uint8 (N, 64, 64) of uint8 scenes (N, 64, 64), the U-Net in eval mode."""
        from ..evaluation.segmentation import predict
        return predict(self.nets["unet"], scenes)

    def save_label_maps(self, path):
        """Fixed scenes with their true and predicted label maps: the segmentation run's picture of an epoch."""
        from .segmentation import save_label_maps
        scenes, true = self.fixed_scenes()
        save_label_maps(scenes, true, self.segment(scenes), path, title=f"epoch {self.epoch}")

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


def image_channels(images):
    """The channel count of uint8 images (N, H, W) (grey: 1) or (N, C, H, W)."""
    return 1 if images.ndim == 3 else images.shape[1]


def check_channels(config, images, source):
    """ConfigError unless `images` (from `source`) have the channel count the run's model was built for."""
    built, given = registry.dataset_of(config).channels, image_channels(images)
    if built != given:
        kinds = {1: "1-channel (grey)", 3: "3-channel (colour)"}
        raise ConfigError(f"the {config['model']} model of this run was built for {kinds.get(built, built)} images "
                          f"({config['data']!r}), but {source} holds {kinds.get(given, given)} images "
                          f"{tuple(images.shape[1:])}; train a model on that data instead")


def checkpoint_path(path):
    """The checkpoint file of a run folder, or `path` itself when it names a file."""
    return os.path.join(path, CHECKPOINT) if os.path.isdir(path) else path
