"""Issue 18: the 3-D scene and its views, the rendering quadrature, the NeRF and its run (train, resume, eval)."""
import json
import math

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import Tensor, backend
from tinygan.evaluation import metrics
from tinygan.cli import main
from tinygan.data import scene
from tinygan.models import NeRF
from tinygan.models.nerf import render_rays, stratified_samples
from tinygan.train import make_config
from tinygan.train.config import ConfigError

from resume import assert_same_weights, straight_and_resumed

TINY = dict(epochs=2, steps_per_epoch=2, batch_size=64, width=16, num_samples=8)


# -- the scene -----------------------------------------------------------------------------------------

def test_signed_distances_of_the_solids():
    on_sphere = scene.SPHERE_CENTRE + np.array([0.0, 0.0, scene.SPHERE_RADIUS])
    np.testing.assert_allclose(scene.sphere_sdf(np.stack([scene.SPHERE_CENTRE, on_sphere, on_sphere + [0, 0, 1]])),
                               [-scene.SPHERE_RADIUS, 0.0, 1.0], atol=1e-12)
    corner = scene.BOX_CENTRE + scene.BOX_HALF
    np.testing.assert_allclose(scene.box_sdf(np.stack([scene.BOX_CENTRE, corner, corner + [3, 4, 0],
                                                       scene.BOX_CENTRE + [0.1, 0, 0]])),
                               [-0.3, 0.0, 5.0, -0.2], atol=1e-12)
    ring_point = scene.TORUS_CENTRE + [scene.TORUS_RING, 0, 0]
    np.testing.assert_allclose(scene.torus_sdf(np.stack([ring_point, ring_point + [0, 0, 1], scene.TORUS_CENTRE])),
                               [-scene.TORUS_TUBE, 1 - scene.TORUS_TUBE, scene.TORUS_RING - scene.TORUS_TUBE],
                               atol=1e-12)


def test_sphere_tracing_finds_the_top_of_the_sphere():
    """A ray straight down from (0, 0, 4) meets the sphere's top, z = 1, after 3 units; one to the side misses."""
    origins = np.array([[0.0, 0.0, 4.0], [3.0, 3.0, 4.0]])
    directions = np.array([[0.0, 0.0, -1.0], [0.0, 0.0, -1.0]])
    hit, t, solid = scene.sphere_trace(origins, directions)
    assert hit.tolist() == [True, False]
    assert abs(t[0] - 3.0) < 1e-3 and solid[0] == 0
    colour = scene.shade(np.array([[0.0, 0.0, 1.0]]), np.array([0]))
    np.testing.assert_allclose(colour[0], scene.COLOURS[0] * (scene.AMBIENT + (1 - scene.AMBIENT) * scene.LIGHT[2]),
                               rtol=1e-6)


def test_views_poses_and_split():
    views = scene.load_scene_views()
    assert views.images.shape == (40, 32, 32, 3) and views.poses.shape == (40, 4, 4)
    assert views.train.tolist() == list(range(32)) and views.test.tolist() == list(range(32, 40))
    positions = views.poses[:, :3, 3]
    np.testing.assert_allclose(np.linalg.norm(positions, axis=1), 4.0)
    assert (positions[:, 2] > 0).all()                                          # the upper hemisphere
    np.testing.assert_allclose(views.poses[:, :3, 2], positions / 4.0, atol=1e-12)  # looks at the origin (-z)
    np.testing.assert_array_equal(scene.camera_poses(), views.poses)            # seeded: the same every time
    assert 0.0 <= views.images.min() and views.images.max() <= 1.0
    covered = (views.images.sum(-1) > 0).mean(axis=(1, 2))
    assert (covered > 0.1).all() and (covered < 0.5).all()                      # objects on a black background
    assert views.images[:, 0, 0].sum() == 0                                     # corners see the background
    turntable = scene.turntable_poses(8)[:, :3, 3]
    assert min(np.linalg.norm(views.poses[:, :3, 3] - p, axis=1).min() for p in turntable) > 0.05


def test_camera_rays_project_back_onto_their_pixels():
    """Each ray's direction, taken back into camera coordinates, lands on the centre of its own pixel."""
    pose = scene.camera_poses()[3]
    origins, directions = scene.camera_rays(pose, 4, 6, focal=5.0)
    np.testing.assert_allclose(origins, np.broadcast_to(pose[:3, 3], (24, 3)))
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0)
    d_cam = directions @ pose[:3, :3]                                           # R^T d
    column = 6 / 2 + 5.0 * d_cam[:, 0] / -d_cam[:, 2]
    row = 4 / 2 - 5.0 * d_cam[:, 1] / -d_cam[:, 2]
    i, j = np.meshgrid(np.arange(4), np.arange(6), indexing="ij")
    np.testing.assert_allclose(row, i.ravel() + 0.5, atol=1e-12)
    np.testing.assert_allclose(column, j.ravel() + 0.5, atol=1e-12)


# -- the quadrature ---------------------------------------------------------------------------------

def test_cumsum_matches_numpy_and_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 5, 4))
    for dim in (0, 1, -1):
        inclusive = np.cumsum(x, axis=dim)
        np.testing.assert_allclose(F.cumsum(Tensor(x), dim).array, torch.cumsum(torch.tensor(x), dim).numpy())
        np.testing.assert_allclose(F.cumsum(Tensor(x), dim, exclusive=True).array, inclusive - x, atol=1e-12)
        np.testing.assert_allclose(F.cumsum(Tensor(x), dim, reverse=True).array,
                                   np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim), atol=1e-12)
    with pytest.raises(ValueError, match="cumsum: dim 3 is out of range.*shape \\(3, 5, 4\\)"):
        F.cumsum(Tensor(x), 3)


def _slab(sigma0, a, b, t):
    return np.where((t >= a) & (t < b), sigma0, 0.0)


def test_quadrature_matches_the_closed_form_of_a_constant_density_slab():
    """A slab of density sigma0 and colour c between a and b: C = c (1 - e^{-sigma0 L}), L = b - a, and the
    expected depth a (1 - e^{-sigma0 L}) - L e^{-sigma0 L} + (1 - e^{-sigma0 L}) / sigma0.

    With the slab's edges on segment edges the colour is exact (the product of the segments' transmittances
    telescopes); the depth converges as the samples get denser."""
    sigma0, a, b, near, far = 1.7, 3.0, 5.0, 2.0, 6.0
    c = np.array([0.2, 0.5, 0.9])
    opacity = 1 - math.exp(-sigma0 * (b - a))
    depth = a * opacity - (b - a) * math.exp(-sigma0 * (b - a)) + opacity / sigma0
    for N, depth_tolerance in ((40, 0.06), (4000, 6e-4)):
        t = np.linspace(near, far, N, endpoint=False)[None]                      # segments [t_i, t_i + 4/N)
        sigma = _slab(sigma0, a, b, t)
        colour, d, A = F.volume_render(Tensor(sigma), Tensor(np.broadcast_to(c, (1, N, 3)).copy()), Tensor(t), far)
        np.testing.assert_allclose(colour.array[0], c * opacity, rtol=1e-12)
        np.testing.assert_allclose(A.array[0], opacity, rtol=1e-12)
        assert abs(d.array[0] - depth) < depth_tolerance


def test_transmittance_is_exclusive():
    """T_1 = 1: the first sample's own density does not dim it. An opaque first sample gives its own colour."""
    t = np.array([[2.0, 3.0]])
    sigma = np.array([[50.0, 0.0]])
    rgb = np.array([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    colour, depth, _ = F.volume_render(Tensor(sigma), Tensor(rgb), Tensor(t), 4.0)
    np.testing.assert_allclose(colour.array[0], [1 - math.exp(-50.0), 0, 0], rtol=1e-12)
    assert abs(depth.array[0] - 2.0) < 1e-12
    weights, transmittance = F.render_weights(Tensor(sigma), Tensor(t), 4.0)
    np.testing.assert_allclose(transmittance.array[0], [1.0, math.exp(-50.0)])


def test_volume_render_matches_a_pytorch_transcription():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(2, 6, (4, 7)), axis=1)
    sigma, rgb = rng.uniform(0, 3, (4, 7)), rng.uniform(0, 1, (4, 7, 3))
    colour, depth, opacity = F.volume_render(Tensor(sigma), Tensor(rgb), Tensor(t), 6.0)
    ts, ss, cs = (torch.tensor(a) for a in (t, sigma, rgb))
    delta = torch.cat([ts[:, 1:], torch.full_like(ts[:, :1], 6.0)], 1) - ts
    alpha = 1 - torch.exp(-ss * delta)
    T = torch.exp(-torch.cumsum(ss * delta, 1) + ss * delta)
    w = T * alpha
    np.testing.assert_allclose(colour.array, (w[..., None] * cs).sum(1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(depth.array, (w * ts).sum(1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(opacity.array, w.sum(1).numpy(), rtol=1e-12)


def test_render_errors_name_the_shapes():
    with pytest.raises(ValueError, match="volume_render: expected sigma \\(R, N\\).*rgb \\(2, 3\\)"):
        F.volume_render(Tensor(np.ones((2, 3))), Tensor(np.ones((2, 3))), Tensor(np.ones((2, 3))), 6.0)
    with pytest.raises(ValueError, match="far = 1.0 lies before the last sample"):
        F.volume_render(Tensor(np.ones((1, 2))), Tensor(np.ones((1, 2, 3))), Tensor(np.array([[2.0, 3.0]])), 1.0)


def test_positional_encoding_by_hand():
    p = np.array([[0.1, -0.3, 0.25]])
    encoded = F.positional_encoding(Tensor(p), 2).array
    by_hand = np.concatenate([p, np.sin(np.pi * p), np.cos(np.pi * p), np.sin(2 * np.pi * p), np.cos(2 * np.pi * p)],
                             axis=1)
    np.testing.assert_allclose(encoded, by_hand, rtol=1e-12)
    assert F.positional_encoding(Tensor(np.zeros((5, 3))), 6).shape == (5, 39)


def test_stratified_samples_lie_one_in_each_bin():
    rng = np.random.default_rng(0)
    t = stratified_samples(100, 8, 2.0, 6.0, rng, dtype=np.float64)
    bins = np.floor((t - 2.0) / 0.5)
    np.testing.assert_array_equal(bins, np.broadcast_to(np.arange(8), (100, 8)))
    assert t.std(axis=0).min() > 0.1                                            # jittered
    np.testing.assert_allclose(stratified_samples(2, 4, 2.0, 6.0), [[2.5, 3.5, 4.5, 5.5]] * 2)   # bin centres


def test_psnr_and_mean_absolute_error():
    a, b = np.zeros((2, 4, 4, 3)), np.full((2, 4, 4, 3), 0.1)
    assert abs(metrics.psnr(a, b) - 20.0) < 1e-9                                # MSE 0.01 -> 20 dB
    assert metrics.psnr(a, a) == math.inf
    eight_bit_a, eight_bit_b = np.zeros((2, 4, 4, 3), np.uint8), np.full((2, 4, 4, 3), 51, np.uint8)
    assert metrics.psnr(eight_bit_a, eight_bit_b, peak=255) == pytest.approx(10 * math.log10(25))  # 255^2 / 51^2
    assert metrics.psnr(a * 255, b * 255, peak=255) == pytest.approx(20.0)     # the same images on [0, 255]
    assert abs(metrics.mean_absolute_error(a, b) - 0.1) < 1e-12
    with pytest.raises(ValueError, match="psnr: images"):
        metrics.psnr(a, b[:1])


# -- the model and its run -------------------------------------------------------------------------

def test_field_outputs_and_rendered_rays():
    tinygan.manual_seed(0)
    model = NeRF(width=16)
    sigma, rgb = model(Tensor(np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)))
    assert sigma.shape == (10,) and rgb.shape == (10, 3)
    assert (sigma.array >= 0).all() and ((rgb.array > 0) & (rgb.array < 1)).all()
    views = scene.load_scene_views()
    origins, directions, _ = (a[:5].astype(np.float32) for a in views.rays([0]))
    colour, depth, opacity = render_rays(model, origins, directions, 2.0, 6.0, 8)
    assert colour.shape == (5, 3) and depth.shape == (5,) and ((opacity.array > 0) & (opacity.array <= 1)).all()


def test_renders_train_only_the_nerf_on_views():
    with pytest.raises(ConfigError, match="learns a 3-D scene.*scene3d.*mnist5k"):
        make_config("nerf", data="mnist5k")
    with pytest.raises(ConfigError, match="views of a 3-D scene.*'dcgan' needs images"):
        make_config("dcgan", data="scene3d")
    with pytest.raises(ConfigError, match="--num-samples"):
        make_config("nerf", num_samples=1)
    with pytest.raises(ConfigError, match="--num-samples is a setting of the 'nerf' model; 'vae' has none"):
        make_config("vae", num_samples=8)
    assert main(["train", "dcgan", "--num-samples", "8"]) == 2
    config = make_config("nerf")
    assert (config["epochs"] * config["steps_per_epoch"], config["batch_size"], config["lr"]) == (2000, 1024, 5e-4)


@pytest.mark.skipif(backend.current() != "numpy", reason="exact-resume tests run on the NumPy backend")
def test_resumed_nerf_ends_with_the_same_weights(tmp_path):
    straight, resumed = straight_and_resumed(make_config("nerf", **TINY), tmp_path)
    assert_same_weights(straight, resumed)
    assert straight.history == [dict(row, seconds=s["seconds"]) for row, s in zip(resumed.history, straight.history)]
    for name in ("turntable.png", "depth.png", "curves.png", "metrics.png", "samples/epoch_002.png"):
        assert (tmp_path / "straight" / name).stat().st_size > 0, name


def test_command_line_train_sample_resume_eval(tmp_path, capsys):
    folder = tmp_path / "run"
    args = ["--batch-size", "64", "--steps-per-epoch", "2", "--width", "16", "--threads", "1", "--quiet"]
    assert main(["train", "nerf", "--epochs", "1", "--out", str(folder), *args]) == 0
    assert main(["resume", str(folder), "--epochs", "2", "--quiet"]) == 0
    assert main(["sample", str(folder), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    report = tmp_path / "eval.json"
    assert main(["eval", str(folder), "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["epoch"] == 2 and result["nerf"]["model"]["n"] == 8
    model, floor = result["nerf"]["model"], result["nerf"]["floor"]
    assert 0 < model["test_psnr"] < 40 and 0 < model["test_mae"] < 1
    assert abs(floor["test_psnr"] - 16.4) < 0.5                 # the mean training colour
    log = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    assert log[-1]["test_psnr"] == pytest.approx(model["test_psnr"])
    assert "test PSNR over the held-out views" in capsys.readouterr().out
