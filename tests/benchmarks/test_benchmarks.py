"""The benchmark suite keeps working: every workload runs a step on tiny shapes, tinygan and PyTorch
compute the same numbers, and the CLI writes its table, JSON and chart. No timing is asserted."""
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from tinygan import backend

from paths import REPO

from benchmarks import specs  # importable through pyproject's pytest pythonpath = ["."]
OPS = [n for n in specs.ORDER if n.startswith("O")]
TORCH_INSTALLED = importlib.util.find_spec("torch") is not None

# Against a hang only: the benchmark commands below take seconds on tiny shapes, but a loaded machine may
# take many times that, and a slow run must never fail on this limit.
HANG_LIMIT_S = 30 * 60


@pytest.fixture
def tinygan_side():
    """benchmarks.tinygan_workloads on the current backend in float32, the dtype restored afterwards."""
    from benchmarks import tinygan_workloads
    dtype = backend.get_default_dtype()
    backend.set_default_dtype("float32")
    yield tinygan_workloads
    backend.set_default_dtype(dtype)


@pytest.fixture
def torch_side():
    """benchmarks.torch_workloads on the CPU with one thread (tiny shapes gain nothing from more)."""
    torch = pytest.importorskip("torch")
    from benchmarks import torch_workloads
    threads = torch.get_num_threads()
    torch_workloads.setup("cpu", 1)
    yield torch_workloads
    torch.set_num_threads(threads)


def losses(side, output):
    outputs = output if isinstance(output, tuple) else (output,)
    return [side.to_numpy(t) for t in outputs]


def check_one_step(side, name):
    """One step of `name`: finite losses, and every weight moved (training) or got a gradient (ops)."""
    bench = side.build(name, quick=True, seed=0)
    before = [side.to_numpy(p).copy() for p in bench.parameters]
    output = bench.step()
    for value in losses(side, output):
        assert np.all(np.isfinite(value)), f"{name}: non-finite loss/output {value}"
    if bench.updates:
        for i, (old, p) in enumerate(zip(before, bench.parameters)):
            new = side.to_numpy(p)
            assert np.all(np.isfinite(new)), f"{name}: parameter {i} became non-finite"
            if old.ndim >= 2:  # weights always get a gradient; a bias before BatchNorm may get exactly 0
                assert not np.array_equal(old, new), f"{name}: weight {i} {old.shape} did not change"
    else:
        for i, p in enumerate(bench.parameters):
            g = side.grad_of(p)
            assert g is not None and g.shape == p.shape, f"{name}: leaf {i} got no gradient of its shape"
            assert np.all(np.isfinite(g)) and np.any(g != 0), f"{name}: leaf {i} has a bad gradient"
    return bench, output


@pytest.mark.parametrize("name", specs.ORDER)
def test_tinygan_workload_runs_one_step(tinygan_side, name):
    check_one_step(tinygan_side, name)


@pytest.mark.parametrize("name", specs.ORDER)
def test_torch_workload_runs_one_step(torch_side, name):
    check_one_step(torch_side, name)


@pytest.mark.parametrize("name", specs.ORDER)
def test_both_sides_compute_the_same_workload(tinygan_side, torch_side, name):
    """Same layers in the same order, same initial weights, data and noise: the same first numbers."""
    ours, theirs = tinygan_side.build(name, quick=True), torch_side.build(name, quick=True)
    assert [tuple(p.shape) for p in ours.parameters] == [tuple(p.shape) for p in theirs.parameters]
    for p, q in zip(ours.parameters, theirs.parameters):
        np.testing.assert_array_equal(tinygan_side.to_numpy(p), torch_side.to_numpy(q))
    a, b = losses(tinygan_side, ours.step()), losses(torch_side, theirs.step())
    # D's loss and the VAE's loss come before any update; G's loss after D's first Adam step.
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-3, atol=1e-5)
    if not ours.updates:
        for p, q in zip(ours.parameters, theirs.parameters):
            np.testing.assert_allclose(tinygan_side.grad_of(p), torch_side.grad_of(q), rtol=1e-4, atol=1e-5)


def test_workload_table_is_consistent():
    assert set(specs.ORDER) == set(specs.WORKLOADS)
    for kind, goals in specs.GOALS.items():
        assert set(goals) <= set(specs.WORKLOADS) and kind in specs.PAIRS
    for name in OPS:
        for shapes in (specs.WORKLOADS[name].full, specs.WORKLOADS[name].quick):
            assert set(shapes) == {"x", "w", "b", "y"}


def test_cli_quick_run_writes_table_json_and_chart(tmp_path):
    frameworks = "tinygan-numpy,tinygan-numpy-reference" + (",torch-cpu" if TORCH_INSTALLED else "")
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--threads", "1", "--frameworks", frameworks,
         "--workloads", "W1,O1", "--rounds", "2", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=HANG_LIMIT_S)
    assert completed.returncode == 0, completed.stderr[-3000:]
    for suffix in ("md", "json", "png"):
        assert (out / f"cpu.{suffix}").stat().st_size > 0
    assert not (out / "gpu.json").exists()
    data = json.loads((out / "cpu.json").read_text())
    assert [row["workload"] for row in data["rows"]] == ["W1", "O1"]
    tinygan_rows = [row["tinygan-numpy"] for row in data["rows"]]
    assert all(r["median_ms"] > 0 and r["min_ms"] <= r["median_ms"] for r in tinygan_rows)
    assert data["run"]["steps"] == 2 and data["run"]["threads"] == 1 and data["run"]["rounds"] == 2
    pooled = data["frameworks"]["tinygan-numpy"]["workloads"]["W1"]
    assert pooled["rounds"] == 2 and len(pooled["times_ms"]) == 4 and pooled["min_ms"] == min(pooled["times_ms"])
    assert data["frameworks"]["tinygan-numpy"]["threads"]["env"]["OMP_NUM_THREADS"] == "1"
    assert data["memory"]["tinygan-numpy"]["peak_run"] > 0
    table = (out / "cpu.md").read_text()
    assert "| W1 MLP GAN step" in table and "QUICK MODE" in table and "in 2 rounds" in table
    assert data["run"]["machine"]["vector_instructions"] in ("AVX-512", "AVX2", "AVX", "SSE4.2", "unknown")
    assert "kernels)" in table                                        # the BLAS kernel tinygan ran, by name
    assert data["frameworks"]["tinygan-numpy-reference"]["versions"]["tinygan kernels"] == "reference"
    assert data["frameworks"]["tinygan-numpy"]["versions"]["tinygan kernels"] == "fast"
    assert all(row["reference"]["median_ms"] > 0 and row["reference_over_fast"] > 0 for row in data["rows"])
    assert "## The reference code" in table
    probes = pooled["cache_probe_ms"]                       # before and after the timed steps, in each round
    assert len(probes) == 4 and all(set(probe) == {"same_core", "other_core"} for probe in probes)
    assert data["rows"][0]["tinygan-numpy"]["cache_probe_ms"] == probes and "## The cache probe (ms)" in table
    if "torch-cpu" in frameworks:
        assert all(row["ratio"] is not None for row in data["rows"])
        assert data["frameworks"]["torch-cpu"]["threads"]["torch.get_num_threads"] == 1


def test_merge_rounds_pools_steps_and_keeps_failures():
    from benchmarks.run import merge_rounds

    def report(times, rss, error=None):
        workloads = {"W1": {"error": error} if error else {"median_ms": 0.0, "min_ms": 0.0, "times_ms": times,
                                                           "rss_peak_mib": rss}}
        return {"framework": "tinygan-numpy", "workloads": workloads,
                "memory": {"after_import_mib": rss / 2, "rss_peak_mib": rss, "per_workload": True}}

    first, second = report([3.0, 1.0], 10.0), report([2.0, 5.0], 20.0)
    first["workloads"]["W1"]["cache_probe_ms"] = [{"same_core": 0.1, "other_core": 0.2}]
    second["workloads"]["W1"]["cache_probe_ms"] = [{"same_core": 0.3, "other_core": None}]
    merged = merge_rounds([first, second])
    w1 = merged["workloads"]["W1"]
    assert w1["times_ms"] == [3.0, 1.0, 2.0, 5.0] and w1["median_ms"] == 2.5 and w1["min_ms"] == 1.0
    assert w1["cache_probe_ms"] == [{"same_core": 0.1, "other_core": 0.2}, {"same_core": 0.3, "other_core": None}]
    assert w1["rss_peak_mib"] == 20.0 and merged["memory"]["rss_peak_mib"] == 20.0
    assert merged["memory"]["per_workload"] is True
    failed = merge_rounds([report([3.0], 10.0), report([], 10.0, error="ValueError: boom")])
    assert failed["workloads"]["W1"] == {"error": "ValueError: boom"}


def test_cache_probe_reads_on_both_cores_or_says_why_not(monkeypatch):
    """benchmarks/probe.py: positive read times where threads can be pinned to two cores; None for the other core
    with one core, and None for both where pinning is impossible or refused; no probe for a GPU workload."""
    import os
    from benchmarks import probe
    from benchmarks.worker import _cache_probes
    assert _cache_probes(gpu=True) == []                                 # a GPU workload is not probed
    if not hasattr(os, "sched_setaffinity"):
        assert probe.cache_probe_ms(repeats=1, settle_s=0) == {"same_core": None, "other_core": None}
        return
    cores = sorted(os.sched_getaffinity(0))
    reading = probe.cache_probe_ms(repeats=2, settle_s=0)
    assert reading["same_core"] > 0 and (reading["other_core"] > 0 if len(cores) > 1 else reading["other_core"] is None)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {cores[0]})
    one_core = probe.cache_probe_ms(repeats=2, settle_s=0)
    assert one_core["same_core"] > 0 and one_core["other_core"] is None

    def refuse(pid, cpus):
        raise PermissionError("not allowed here")
    monkeypatch.setattr(os, "sched_setaffinity", refuse)
    assert probe.cache_probe_ms(repeats=2, settle_s=0) == {"same_core": None, "other_core": None}


def test_the_cache_probe_table_shows_each_frameworks_range():
    from benchmarks import report
    probes = [{"same_core": 0.071, "other_core": 0.2}, {"same_core": 0.168, "other_core": None}]
    assert report._probe_range(probes, "same_core") == "0.07–0.17"
    assert report._probe_range(probes, "other_core") == "0.20"
    assert report._probe_range(None, "same_core") == "—" and report._probe_range([], "other_core") == "—"
    rows = [{"workload": "U1", "tinygan-numpy": {"cache_probe_ms": probes}, "torch-cpu": {"cache_probe_ms": None}}]
    lines = report._cache_probe_section(rows, "tinygan-numpy", "torch-cpu")
    assert "| U1 | 0.07–0.17 | 0.20 | — | — |" in lines


def test_v1_sides_agree_after_their_updates(tinygan_side, torch_side):
    """V1's second step: its losses depend on where each objective's gradient went in the first."""
    ours, theirs = tinygan_side.build("V1", quick=True), torch_side.build("V1", quick=True)
    ours.step(), theirs.step()
    for x, y in zip(losses(tinygan_side, ours.step()), losses(torch_side, theirs.step())):
        np.testing.assert_allclose(x, y, rtol=1e-3, atol=1e-5)
    for p, q in zip(ours.parameters, theirs.parameters):
        if p.ndim >= 2:   # a conv bias before BatchNorm has a gradient of rounding noise, which Adam makes a full step
            np.testing.assert_allclose(tinygan_side.to_numpy(p), torch_side.to_numpy(q), rtol=1e-3, atol=1e-4)


def test_n1_sides_agree_after_their_updates(tinygan_side, torch_side):
    """N1's later steps: after two Adam steps both fields, and the third step's losses, still agree."""
    ours, theirs = tinygan_side.build("N1", quick=True), torch_side.build("N1", quick=True)
    for _ in range(2):
        ours.step(), theirs.step()
    np.testing.assert_allclose(losses(tinygan_side, ours.step()), losses(torch_side, theirs.step()), rtol=1e-3,
                               atol=1e-6)
    for p, q in zip(ours.parameters, theirs.parameters):
        np.testing.assert_allclose(tinygan_side.to_numpy(p), torch_side.to_numpy(q), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("name", ["T1", "Q1"])
def test_dalle_sides_agree_after_their_updates(tinygan_side, torch_side, name):
    """T1's and Q1's third step: after two AdamW (clipped) or Adam steps, with Q1's codebook moved twice by its
    moving averages, both sides still compute the same loss and weights."""
    ours, theirs = tinygan_side.build(name, quick=True), torch_side.build(name, quick=True)
    for _ in range(2):
        ours.step(), theirs.step()
    np.testing.assert_allclose(losses(tinygan_side, ours.step()), losses(torch_side, theirs.step()), rtol=1e-3,
                               atol=1e-6)
    # Adam divides each gradient by its own scale, so a weight whose gradient is rounding noise (float32 GELU's erf
    # is not PyTorch's to the last bit) can move by a good part of lr (3e-4) either way: atol 1e-4.
    for p, q in zip(ours.parameters, theirs.parameters):
        np.testing.assert_allclose(tinygan_side.to_numpy(p), torch_side.to_numpy(q), rtol=1e-3, atol=1e-4)


def test_dalle_twins_hold_tinygans_parameters_and_compute_the_same(tinygan_side, torch_side):
    """The twins of VQVAE and DallePrior have tinygan's state_dict names and shapes; given tinygan's weights,
    the prior's logits, the VQ-VAE's codes and its reconstructions are the same."""
    import torch
    from benchmarks.twins import dalle as twin
    from tinygan.models import VQVAE
    from tinygan.models.dalle import DallePrior
    ours_vq, theirs_vq = VQVAE(num_codes=8, code_dim=4, hidden=8, width=4), twin.VQVAE(num_codes=8, code_dim=4,
                                                                                      hidden=8, width=4)
    ours_prior, theirs_prior = (DallePrior(num_codes=8, width=8, num_layers=2, num_heads=2, feedforward=16),
                                twin.DallePrior(num_codes=8, width=8, num_layers=2, num_heads=2, feedforward=16))
    for ours, theirs in ((ours_vq, theirs_vq), (ours_prior, theirs_prior)):
        mine = {k: backend.to_numpy(v) for k, v in ours.state_dict().items() if v is not None}
        their_state = theirs.state_dict()
        assert {k: v.shape for k, v in mine.items()} == {k: tuple(v.shape) for k, v in their_state.items()}
        theirs.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in mine.items()})
    ours_prior.eval(), theirs_prior.eval()
    rng = np.random.default_rng(0)
    tokens = np.concatenate([np.full((3, 1), 20), rng.integers(0, 20, (3, 4)), 21 + rng.integers(0, 8, (3, 10))], 1)
    with torch.no_grad():
        expected = theirs_prior(torch.from_numpy(tokens)).numpy()
    np.testing.assert_allclose(tinygan_side.to_numpy(ours_prior(tokens)), expected, rtol=1e-4, atol=1e-5)
    images = rng.uniform(size=(2, 3, 28, 28)).astype(np.float32)
    theirs_vq.eval(), ours_vq.eval()
    recon, codes = twin.reconstruct(theirs_vq, images)
    ours_codes = tinygan_side.to_numpy(ours_vq.encode_to_indices(tinygan_side.tensor(images)))
    np.testing.assert_array_equal(ours_codes, codes)
    np.testing.assert_allclose(tinygan_side.to_numpy(ours_vq.decode_indices(ours_codes)), recon, rtol=1e-4,
                               atol=1e-6)


def test_u1_sides_agree_after_their_updates(tinygan_side, torch_side):
    """U1's second step: the same loss after one Adam step of the whole U-Net on both sides."""
    ours, theirs = tinygan_side.build("U1", quick=True), torch_side.build("U1", quick=True)
    first = losses(tinygan_side, ours.step()), losses(torch_side, theirs.step())
    np.testing.assert_allclose(*first, rtol=1e-4)
    np.testing.assert_allclose(losses(tinygan_side, ours.step()), losses(torch_side, theirs.step()), rtol=1e-3)
    for p, q in zip(ours.parameters, theirs.parameters):
        if p.ndim >= 2:   # a conv bias before BatchNorm has a gradient of rounding noise, which Adam makes a full step
            np.testing.assert_allclose(tinygan_side.to_numpy(p), torch_side.to_numpy(q), rtol=1e-3, atol=1e-4)


def test_the_memory_goal_row_covers_the_core_workloads_only():
    """'peak of W1–O4' is the largest of W1..O4 (specs.CORE_WORKLOADS), not of the larger models (U1, V1, ...)."""
    from benchmarks import report
    sizes = {"W1": 60.0, "W2": 150.0, "O4": 120.0, "W2-512": 900.0, "V1": 800.0, "U1": 880.0}
    reports = {"tinygan-numpy": {"workloads": {n: {"rss_peak_mib": v} for n, v in sizes.items()}, "memory": {}}}
    memory = report._memory("cpu", list(sizes), reports, ("tinygan-numpy",))
    assert memory["tinygan-numpy"]["peak_W1_O4"] == 150.0
    only_later = {"tinygan-numpy": {"workloads": {"R1": {"rss_peak_mib": 90.0}}, "memory": {}}}
    assert report._memory("cpu", ["R1"], only_later, ("tinygan-numpy",))["tinygan-numpy"]["peak_W1_O4"] is None


def test_products_records_the_shapes_the_convolution_kernel_multiplies(rand, fast_kernels):
    """benchmarks/products.py times the products of the shapes the fast kernel makes: here its kept rows and its
    wide weight matrix (p = 4 outputs a row for 8 output channels), dL/dw's (p*O, rows) times the rows, and a
    forward that keeps no rows (as dL/dx's convolution is), counted apart."""
    from benchmarks import products
    from tinygan.functional.conv import ConvGeometry
    from tinygan.kernels import conv
    x, w = rand.randn(2, 3, 6, 8).numpy(), rand.randn(8, 3, 3, 3).numpy()
    geometry = ConvGeometry("conv2d", 3, 1, 1, 1)
    recorded, originals = products._record_products(conv)
    try:
        y, rows = conv.conv2d_forward(x, w, None, geometry)
        conv.conv2d_weight_grad(x, y, geometry, w.shape, rows)
        conv.conv2d_forward(x, w, None, geometry, keep_columns=False)
    finally:
        for name, function in originals.items():
            setattr(conv, name, function)
    assert conv.conv2d_forward is originals["conv2d_forward"]
    p = conv.outputs_per_row(x.shape, geometry, 8, np)
    assert p == 4
    wide = conv._wide_weight_matrix(w, geometry, p)
    assert recorded == [("conv forward, rows kept", rows.shape, wide.shape),
                        ("dL/dw", (p * 8, rows.shape[0]), rows.shape),
                        ("dL/dx, and forwards without rows", rows.shape, wide.shape)]


def test_products_records_every_convolution_layer_of_the_step(tinygan_side):
    """The layers PyTorch is timed on are the step's own: a U-Net's 11 convolutions and 2 transposed ones, in the
    order they ran, with the first one's input (the scenes) needing no dL/dx; the layers' forwards are put back."""
    from benchmarks import products
    from tinygan import nn
    bench = tinygan_side.build("U1", quick=True)
    layers, originals = products._record_layers(nn)
    try:
        bench.step()
    finally:
        for cls, forward in originals.items():
            cls.forward = forward
    assert nn.Conv2d.forward is originals[nn.Conv2d] and nn.ConvTranspose2d.forward is originals[nn.ConvTranspose2d]
    kinds = [type(module).__name__ for module, _, _ in layers]
    assert kinds.count("Conv2d") == 11 and kinds.count("ConvTranspose2d") == 2
    assert layers[0][1] == (2, 1, 64, 64) and [needs for _, _, needs in layers] == [False] + [True] * 12
    assert layers[-1][0].kernel_size == (1, 1)                          # the head comes last


def test_products_times_pytorch_on_the_recorded_layers(torch_side):
    """One conv layer's forward and backward in PyTorch: a positive time, the gradients written afresh each run."""
    import torch
    from benchmarks import products
    from tinygan import nn
    layer = nn.Conv2d(3, 4, 3, padding=1)
    assert products._torch_layers_ms([(layer, (2, 3, 5, 5), True)], repeats=2) > 0
    x, weight = torch.randn(2, 3, 5, 5, requires_grad=True), torch.randn(4, 3, 3, 3, requires_grad=True)
    grad_y = torch.ones(2, 4, 5, 5)
    geometry = {"stride": (1, 1), "padding": (1, 1), "dilation": (1, 1), "groups": 1}
    for _ in range(2):
        products._forward_backward(torch.nn.functional.conv2d, x, weight, None, geometry, grad_y)
    once = torch.nn.grad.conv2d_weight(x.detach(), weight.shape, grad_y, padding=1)
    assert torch.allclose(weight.grad, once, atol=1e-5)               # not twice: no accumulation


def test_products_cli_prints_the_step_and_its_products():
    """In a process of its own: the tool sets the thread variables and malloc's setting, as a worker does."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.products", "--workload", "U1", "--quick",
                           "--threads", "1", "--repeats", "1"], cwd=REPO, capture_output=True, text=True, timeout=HANG_LIMIT_S)
    assert done.returncode == 0, done.stderr
    assert "U1, 1 threads: the whole step" in done.stdout and "convolution products alone" in done.stdout
    assert "dL/dw:" in done.stdout and "conv forward, rows kept:" in done.stdout
    assert "dL/dx, and forwards without rows:" in done.stdout
    assert "13 convolution layers alone" in done.stdout if TORCH_INSTALLED else "PyTorch" not in done.stdout


class _Started(Exception):
    """Raised by a stand-in experiment: main() got as far as running it."""


def test_quality_asks_for_the_official_test_set_and_names_every_way_to_give_it(tmp_path, monkeypatch, capsys):
    """No default folder beside the checkout: without --test-data, TINYGAN_TEST_DATA or --download, an experiment
    that measures on the test set stops with one message naming all three; the variable is used when set."""
    from benchmarks.quality import run as quality
    seen = []

    def experiment(args, folder):
        seen.append(args.test_data)
        raise _Started
    monkeypatch.setitem(quality.EXPERIMENTS, "vae", quality.Experiment(experiment, markdown=None))
    monkeypatch.delenv("TINYGAN_TEST_DATA", raising=False)
    with pytest.raises(SystemExit) as stop:
        quality.main(["--only", "vae", "--results", str(tmp_path)])
    message = capsys.readouterr().err
    assert stop.value.code == 2 and not seen
    assert "--test-data FOLDER" in message and "TINYGAN_TEST_DATA=FOLDER" in message and "--download" in message
    monkeypatch.setenv("TINYGAN_TEST_DATA", str(tmp_path))
    with pytest.raises(_Started):
        quality.main(["--only", "vae", "--results", str(tmp_path)])
    assert seen == [str(tmp_path)]
