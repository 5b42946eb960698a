"""How a neural radiance field trains (nerf, Mildenhall et al., 2020): random rays of the training views of a 3-D
scene, rendered and compared with their true colours.

    step = NeRFStep(model, optimizer, training_rays(views), views.near, views.far)
    figures = step()                       # {"loss": MSE, "train_psnr"}: one batch of random rays

A run of this family (NeRFFamily) loads the 40 views once (tinygan/data/scene.py); an epoch is
--steps-per-epoch steps, each drawing its own rays, and every epoch's log row has the held-out views' PSNR.
It samples by rendering the scene from new cameras. What a NeRF run adds to a run folder, beside the common
config.json, log.jsonl, checkpoint.npz:

    samples/epoch_NNN.png   the 8 held-out views: the truth (top row) above the renders (bottom row)
    curves.png              the training loss, and the train and test PSNR, per epoch (of 100 steps)
    turntable.png           8 novel views around the scene, from cameras outside the training set
    depth.png               the expected termination depth of the held-out views, beside the true depth

Every render here uses the bin centres (no randomness), so writing these figures leaves the training's
random stream, and an exact resume, untouched.
"""
import math
import os

import numpy as np

from .. import backend, registry, viz
from .. import functional as F
from ..autograd import Tensor
from ..data.scene import load_scene_views, turntable_poses
from ..evaluation import metrics
from ..models.nerf import render_rays, render_views
from .checks import ConfigError, check_integer
from .family import Family, check_finite


# Its own settings' ranges: samples per ray, and frequencies of the positional encoding.
INTEGER_RANGES = dict(num_samples=(2, 1024), num_frequencies=(0, 16))


class NeRFStep:
    """One step of a NeRF: a batch of random pixels of the training views, their rays rendered with jittered
    samples, the mean squared error against the true colours, Adam.

    rays -- (origins, directions, colours), each (R, 3) on the current device: every pixel of the training views.
    The pixels and the jitter come from tinygan's seeded generator, so a resumed run draws what the
    uninterrupted one would have.
    """

    def __init__(self, model, optimizer, rays, near, far, num_samples=32, batch_size=1024):
        self.model, self.optimizer = model, optimizer
        self.origins, self.directions, self.colours = rays
        self.near, self.far, self.num_samples, self.batch_size = near, far, num_samples, batch_size
        self.steps = 0

    def loss(self, rng):
        """The MSE of one batch of random training rays (and the rendered colours)."""
        pixels = rng.integers(0, len(self.origins), size=self.batch_size)
        colour, _, _ = render_rays(self.model, self.origins[pixels], self.directions[pixels], self.near, self.far,
                                   self.num_samples, rng)
        return F.mse_loss(colour, Tensor(self.colours[pixels]))

    def __call__(self, x=None, labels=None):
        loss = self.loss(backend.rng())
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        value = loss.item()
        check_finite("rendering loss", value, self.steps)
        return {"loss": value, "train_psnr": -10 * math.log10(max(value, 1e-12))}


class NeRFFamily(Family):
    """One network 'nerf': the radiance field of one scene."""

    title = "the 'nerf' model"
    settings = ("num_samples", "num_frequencies")
    own_data = ("views", "views of a 3-D scene")
    draws_from_code = False
    draws_at_random = False    # it renders a fixed turntable
    scored_on_draws = False    # scored on its held-out views
    scored_at_random = False
    scored_on_test_digits = False

    def check_settings(self, config):
        """Views of a 3-D scene to learn, and its samples per ray and frequencies in range."""
        if registry.dataset_of(config).kind != "views":
            raise ConfigError(f"{config['model']!r} learns a 3-D scene from its views; --data must be one of "
                              f"{', '.join(n for n, d in registry.DATASETS.items() if d.kind == 'views')}, "
                              f"got {config['data']!r}")
        for key, (low, high) in INTEGER_RANGES.items():
            check_integer(config, key, low, high)

    def make_step(self, run):
        """The step over every pixel of the training views (loads the views)."""
        c, views = run.config, run.data
        return NeRFStep(run.nets["nerf"], run.optimizers["nerf"], training_rays(views), views.near, views.far,
                        num_samples=c["num_samples"], batch_size=c["batch_size"])

    def load_data(self, run):
        """The views of the 3-D scene."""
        return load_scene_views()

    def batches(self, run, epoch):
        """--steps-per-epoch empty batches: the step draws its own rays."""
        for _ in range(run.config["steps_per_epoch"]):
            yield None, None

    def batches_per_epoch(self, run):
        run.data  # noqa: B018 (loads the data)
        return run.config["steps_per_epoch"]

    def epoch_scores(self, run):
        """The held-out views' PSNR and MAE (rendered at the bin centres: no randomness drawn)."""
        return test_scores(run)

    def sample(self, run, n, label, z):
        """n novel views (n, 3, H, W) in [0, 1] from a turntable of cameras (no noise)."""
        for net in run.nets.values():
            net.eval()
        return Tensor(backend.to_device(turntable(run, n).astype(backend.get_default_dtype()),
                                        backend.current_device()))

    def save_figures(self, run):
        save_figures(run)

    def network_inputs(self, run):
        return {"nerf": ((2, 3),)}

    def draw(self, run, n, label, seed, path):
        """`tinygan sample`: n views from the turntable of cameras around the scene."""
        viz.save_image_grid(run.sample(n).array, path, value_range=(0, 1))
        return f"{n} views of the scene from new cameras around it"

    def evaluate(self, run, n=None, test_data=None, k=50, seed=0):
        """{"nerf": {"model": scores, "floor": the mean-colour baseline's}} over the 8 held-out views, and a note."""
        views = run.data
        return {"reference": f"the {len(views.test)} held-out views of {run.config['data']} (never trained on)",
                "note": "the 'real data' column holds the trivial baseline: every pixel the mean training colour",
                "nerf": {"model": dict(test_scores(run), n=len(views.test)), "floor": mean_colour_baseline(views)}}


def training_rays(views):
    """(origins, directions, colours) of every pixel of the training views, on the current device."""
    dtype = backend.get_default_dtype()
    return tuple(backend.to_device(np.ascontiguousarray(a, dtype=dtype), backend.current_device())
                 for a in views.rays(views.train))


def render_poses(run, poses):
    """(images (V, H, W, 3), depths, opacities) of the run's field from camera poses (V, 4, 4)."""
    c, views = run.config, run.data
    return render_views(run.nets["nerf"], poses, views.near, views.far, c["num_samples"], views.height,
                        views.width, views.focal)


def test_renders(run):
    """The 8 held-out views as the field renders them: (images, depths, opacities)."""
    return render_poses(run, run.data.poses[run.data.test])


def test_scores(run, renders=None):
    """{"test_psnr", "test_mae"} over the 8 held-out views."""
    images = (renders or test_renders(run))[0]
    truth = run.data.images[run.data.test]
    return {"test_psnr": metrics.psnr(images, truth), "test_mae": metrics.mean_absolute_error(images, truth)}


def mean_colour_baseline(views):
    """The trivial model's scores: every held-out pixel painted the mean colour of the training pixels."""
    truth = views.images[views.test]
    guess = np.broadcast_to(views.images[views.train].reshape(-1, 3).mean(axis=0), truth.shape)
    return {"test_psnr": metrics.psnr(guess, truth), "test_mae": metrics.mean_absolute_error(guess, truth)}


def turntable(run, n=8):
    """n novel views (n, 3, H, W) in [0, 1], from cameras evenly spaced around the scene at 35 degrees."""
    images, _, _ = render_poses(run, turntable_poses(n))
    return np.clip(images, 0, 1).transpose(0, 3, 1, 2)


def _channels_first(images):
    return np.clip(images, 0, 1).transpose(0, 3, 1, 2)


def save_figures(run):
    """The held-out views beside the truth, the curves, a turntable strip and a depth map (see the module)."""
    folder, epoch, views = run.folder, run.epoch, run.data
    renders = test_renders(run)
    truth = views.images[views.test]
    os.makedirs(os.path.join(folder, "samples"), exist_ok=True)
    row = run.history[-1] if run.history else {}
    psnr = f", test PSNR {row['test_psnr']:.2f} dB" if "test_psnr" in row else ""
    viz.save_image_grid(np.concatenate([_channels_first(truth), _channels_first(renders[0])]),
                        os.path.join(folder, "samples", f"epoch_{epoch:03d}.png"), ncols=len(truth),
                        value_range=(0, 1), title=f"held-out views: truth (top), NeRF (bottom), epoch {epoch}{psnr}")
    viz.save_image_grid(turntable(run), os.path.join(folder, "turntable.png"), ncols=8, value_range=(0, 1),
                        title=f"novel views around the scene, epoch {epoch}")
    save_depth_figure(renders[1], views.depths[views.test], views, os.path.join(folder, "depth.png"),
                      title=f"expected depth of the held-out views (top) and the true depth (bottom), epoch {epoch}")
    if run.history:
        viz.save_curves(run.history, os.path.join(folder, "curves.png"), keys=["loss"],
                        title=f"{run.config['model']} on {run.config['data']}: MSE per epoch of "
                              f"{run.config['steps_per_epoch']} steps")
        keys = [k for k in ("train_psnr", "test_psnr") if k in run.history[-1]]
        viz.save_curves(run.history, os.path.join(folder, "metrics.png"), keys=keys, title="PSNR (dB)")


def save_depth_figure(depths, true_depths, views, path, title=None):
    """Depth maps as grey images: near (white) to far (black) over [near, far]; the background (no surface,
    expected depth about 0; true depth inf) is drawn black."""
    def grey(d):
        shown = np.where(np.isfinite(d) & (d > views.near), (views.far - d) / (views.far - views.near), 0.0)
        return np.clip(shown, 0, 1)[:, None]
    viz.save_image_grid(np.concatenate([grey(depths), grey(true_depths)]), path, ncols=len(depths),
                        value_range=(0, 1), title=title)
