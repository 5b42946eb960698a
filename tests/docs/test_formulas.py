"""The formula map: docs/formulas.md and the `# [formula: <id>]` markers in tinygan/ stay in step.

Part 1 parses docs/formulas.md and fails when
- an id is listed twice in the docs, or a marker id sits on two lines of code (one formula, one place);
- an id in the docs has no `# [formula: <id>]` marker in the file the docs name;
- a marker anywhere in tinygan/ has no entry in the docs;
- the test an entry names does not exist (`tests/<file>.py::<name>` or `::<Class>::<name>`);
- a formula that ../shared/DESIGN.md requires ("Formulas that must be visible code") is missing.
A mention `[formula: <id>]` without the `#` (in a docstring, say) is a reference: it must name a
documented id, and does not count as the formula's place.

Part 2 checks, against independent NumPy computations, the formulas that no other test file checks
numerically; docs/formulas.md points at these tests.
"""
import math
import re

import numpy as np
import pytest

import tinygan
import tinygan.functional as F
from tinygan import backend
from tinygan.autograd import Tensor
from tinygan.train import losses

from paths import REPO as ROOT
DOCS = ROOT / "docs" / "formulas.md"
PACKAGE = ROOT / "tinygan"

# Every formula of DESIGN.md's "Formulas that must be visible code", by the id the docs give it.
REQUIRED_IDS = {
    # conv output size; im2col; conv2d forward and its two gradients; transposed conv as the adjoint
    "conv-output-size", "im2col", "conv2d", "conv2d-grad-input", "conv2d-grad-weight", "conv-transpose2d",
    # BatchNorm forward, running statistics, closed-form backward
    "batchnorm-mean", "batchnorm-var", "batchnorm-normalize", "batchnorm-affine",
    "batchnorm-running-mean", "batchnorm-running-var",
    "batchnorm-grad-input", "batchnorm-grad-gamma", "batchnorm-grad-beta",
    # linear layer and its gradients
    "linear", "linear-grad-input", "linear-grad-weight", "linear-grad-bias",
    # activations and their derivatives
    "relu", "relu-derivative", "leaky-relu", "leaky-relu-derivative",
    "sigmoid", "sigmoid-derivative", "tanh", "tanh-derivative",
    # softplus and the stable BCE-with-logits; MSE
    "softplus", "bce-with-logits", "mse",
    # SGD with momentum; Adam with bias correction
    "sgd-momentum", "sgd-update", "adam-moments", "adam-bias-correction", "adam-update",
    # the GAN value function, D's loss, minimax and non-saturating G losses, LSGAN, WGAN-GP
    "gan-value-function", "gan-discriminator-loss", "gan-generator-minimax", "gan-generator-nonsaturating",
    "lsgan-discriminator", "lsgan-generator", "wgan-critic", "wgan-generator", "wgan-gradient-penalty",
    # the VAE ELBO, reparameterisation, closed-form Gaussian KL, Bernoulli and Gaussian reconstruction
    "negative-elbo", "reparameterization", "gaussian-kl", "bernoulli-reconstruction", "gaussian-reconstruction",
    # the importance-weighted bound; the Fréchet distance between two Gaussians
    "iwae-bound", "frechet-distance",
    # weight initialisers
    "fan-in-fan-out", "xavier-uniform", "xavier-normal", "kaiming-uniform", "kaiming-normal", "default-linear-init",
}

ID = r"[a-z0-9][a-z0-9-]*"
MENTION = re.compile(r"\[formula:\s*([^\]]*)\]")
HEADING = re.compile(r"^###\s+`(" + ID + r")`\s*$")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::([\w:\[\]\-.]+)`")


# -- part 1: the map ---------------------------------------------------------------------------------

def parse_docs(text):
    """Entries of docs/formulas.md: [(id, line, {"file": [...], "test": [...]}, body)], in order.

    An entry starts at a heading `### `<id>`` and runs to the next heading; its `- file:` and
    `- test:` lines hold the paths, in backticks.
    """
    entries, current = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            current = None
            match = HEADING.match(line)
            if match:
                current = (match.group(1), number, {"file": [], "test": []}, [])
                entries.append(current)
            continue
        if current is None:
            continue
        current[3].append(line)
        field = re.match(r"^-\s+(file|test):\s*(.*)$", line)
        if field:
            kind, value = field.groups()
            if kind == "file":
                current[2]["file"] += re.findall(r"`([^`]+)`", value)
            else:
                current[2]["test"] += ["::".join(ref) for ref in TEST_REF.findall(value)]
    return entries


def named_tests(text):
    """Every `tests/x.py::name` written anywhere in the docs (entries and the common-mistakes section)."""
    return ["::".join(ref) for ref in TEST_REF.findall(text)]


@pytest.fixture(scope="module")
def docs_text():
    assert DOCS.is_file(), f"{DOCS.relative_to(ROOT)} is missing"
    return DOCS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def entries(docs_text):
    return parse_docs(docs_text)


@pytest.fixture(scope="module")
def documented(entries):
    return {entry_id: fields for entry_id, _, fields, _ in entries}


@pytest.fixture(scope="module")
def source_lines():
    """[(path relative to the root, line number, text)] of every .py file under tinygan/."""
    lines = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            lines.append((rel, number, text))
    return lines


def split_markers(line):
    """(markers, mentions) of one source line: `[formula: <id>]` after a `#` is a marker (the comment may
    say more before it, as in `# (N, O)  [formula: conv2d]`); before any `#` (a docstring) it is a mention."""
    code, hash_, comment = line.partition("#")
    markers = [m.strip() for m in MENTION.findall(comment)] if hash_ else []
    return markers, [m.strip() for m in MENTION.findall(code)]


@pytest.fixture(scope="module")
def markers(source_lines):
    """{id: [(file, line)]} of every `# [formula: <id>]` in tinygan/."""
    found = {}
    for rel, number, text in source_lines:
        for marker_id in split_markers(text)[0]:
            found.setdefault(marker_id, []).append((rel, number))
    return found


def test_every_entry_has_an_id_formula_meaning_file_and_test(entries):
    assert len(entries) >= len(REQUIRED_IDS)
    problems = []
    for entry_id, line, fields, body in entries:
        text = "\n".join(body)
        if len(fields["file"]) != 1:
            problems.append(f"{entry_id} (line {line}): needs exactly one '- file:' path, got {fields['file']}")
        if not fields["test"]:
            problems.append(f"{entry_id} (line {line}): needs a '- test: `tests/<file>.py::<name>`' line")
        if "$" not in text:
            problems.append(f"{entry_id} (line {line}): no LaTeX formula ($...$)")
        prose = [ln for ln in body if ln.strip() and not ln.startswith(("-", "$", "|", ">"))]
        if not any(re.search(r"[A-Za-z].*\.\s*$", ln) for ln in prose):
            problems.append(f"{entry_id} (line {line}): no sentence of meaning")
    assert not problems, "\n".join(problems)


def test_no_id_is_listed_twice_in_the_docs(entries):
    seen, duplicates = {}, []
    for entry_id, line, _, _ in entries:
        if entry_id in seen:
            duplicates.append(f"{entry_id}: lines {seen[entry_id]} and {line}")
        seen.setdefault(entry_id, line)
    assert not duplicates, "ids listed twice in docs/formulas.md:\n" + "\n".join(duplicates)


def test_no_marker_is_used_on_two_lines(markers):
    duplicates = {marker_id: places for marker_id, places in markers.items() if len(places) > 1}
    assert not duplicates, "one formula, one place -- these markers appear on several lines: " + "; ".join(
        f"{marker_id} at " + ", ".join(f"{f}:{n}" for f, n in places) for marker_id, places in duplicates.items())


def test_every_documented_id_has_its_marker_in_the_named_file(documented, markers):
    problems = []
    for entry_id, fields in documented.items():
        for path in fields["file"]:
            if not (ROOT / path).is_file():
                problems.append(f"{entry_id}: file {path} does not exist")
            elif path not in [f for f, _ in markers.get(entry_id, [])]:
                elsewhere = ", ".join(f"{f}:{n}" for f, n in markers.get(entry_id, [])) or "nowhere"
                problems.append(f"{entry_id}: no '# [formula: {entry_id}]' in {path} (marker found {elsewhere})")
    assert not problems, "\n".join(problems)


def test_every_marker_has_an_entry_in_the_docs(documented, markers):
    missing = {marker_id: places for marker_id, places in markers.items() if marker_id not in documented}
    assert not missing, "markers without an entry in docs/formulas.md: " + "; ".join(
        f"{marker_id} ({places[0][0]}:{places[0][1]})" for marker_id, places in sorted(missing.items()))


def test_every_formula_mention_names_a_documented_id(documented, source_lines):
    """`[formula: x]` without the `#` (a docstring pointing at a formula) must still name a real id."""
    problems = []
    for rel, number, text in source_lines:
        markers, mentions = split_markers(text)
        for mention in markers + mentions:
            if not re.fullmatch(ID, mention) or mention not in documented:
                problems.append(f"{rel}:{number}: [formula: {mention}] is not an id of docs/formulas.md")
    assert not problems, "\n".join(problems)


def _test_exists(reference):
    """Whether `tests/x.py::name` or `tests/x.py::Class::name` names a test defined in that file."""
    path, _, name = reference.partition("::")
    file = ROOT / path
    if not file.is_file():
        return False
    source = file.read_text(encoding="utf-8")
    parts = [re.sub(r"\[.*\]$", "", part) for part in name.split("::")]   # drop a parametrize id
    if len(parts) == 1:
        return re.search(rf"^def {re.escape(parts[0])}\(", source, re.M) is not None
    cls, method = parts
    match = re.search(rf"^class {re.escape(cls)}\b.*?(?=^\S|\Z)", source, re.M | re.S)
    return match is not None and re.search(rf"^\s+def {re.escape(method)}\(", match.group(0), re.M) is not None


def test_every_named_test_exists(docs_text, documented):
    references = set(named_tests(docs_text))
    for fields in documented.values():
        references.update(fields["test"])
    missing = sorted(ref for ref in references if not _test_exists(ref))
    assert not missing, "docs/formulas.md names tests that do not exist: " + ", ".join(missing)


def test_every_design_formula_is_documented(documented):
    missing = sorted(REQUIRED_IDS - set(documented))
    assert not missing, "DESIGN.md formulas without an entry in docs/formulas.md: " + ", ".join(missing)


def test_each_common_mistake_has_a_demonstration(docs_text):
    section = docs_text.partition("## Common mistakes")[2]
    assert section, "docs/formulas.md has no '## Common mistakes' section"
    mistakes = re.split(r"^### ", section, flags=re.M)[1:]
    assert len(mistakes) >= 8
    for mistake in mistakes:
        title = mistake.splitlines()[0]
        assert "tests/docs/test_common_mistakes.py::" in mistake, f"mistake '{title}' names no demonstration test"
        assert mistake.count("$") >= 4, f"mistake '{title}' should show the wrong and the right formula"


def test_parametrized_cases_are_documented(documented):
    """The cases of the table-driven checks below are keyed by formula id, and the docs point at them."""
    for cases, test in ((FORWARD_CASES, "test_forward_matches_numpy"), (GAN_LOSS_CASES, "test_gan_losses_match_numpy")):
        for case_id in cases:
            assert case_id in documented, f"{test} checks {case_id}, which docs/formulas.md does not list"
            assert f"tests/docs/test_formulas.py::{test}" in documented[case_id]["test"], case_id
        for entry_id, fields in documented.items():
            if f"tests/docs/test_formulas.py::{test}" in fields["test"]:
                assert entry_id in cases, f"docs say {test} checks {entry_id}, but it has no case for it"


def test_parser_on_a_small_example():
    text = ("# t\n\n## s\n\n### `a-b`\n\n$$x$$\n\nIt means x.\n\n- file: [`tinygan/x.py`](../tinygan/x.py)\n"
            "- test: `tests/test_x.py::test_y`, `tests/test_z.py::C::test_w[1-2]`\n\n### Not an entry\n- file: `q`\n")
    [(entry_id, line, fields, _)] = parse_docs(text)
    assert (entry_id, line) == ("a-b", 5)
    assert fields == {"file": ["tinygan/x.py"], "test": ["tests/test_x.py::test_y", "tests/test_z.py::C::test_w[1-2]"]}
    assert split_markers("y = 1  # [formula: a-b]") == (["a-b"], [])
    assert split_markers("y = x @ w  # (N, O)  [formula: c]") == (["c"], [])
    assert split_markers("    numeric: (f(x + h) - f(x - h)) / (2 h)   [formula: d]") == ([], ["d"])


# -- part 2: numerical checks of formulas that no other test covers -----------------------------------

def tensor(values, dtype=np.float64, requires_grad=False):
    return Tensor(backend.xp().asarray(np.asarray(values, dtype=dtype)), requires_grad=requires_grad)


def host(t):
    return backend.to_numpy(t.array if isinstance(t, Tensor) else t)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _real(rng, shape=(4, 5)):
    return rng.normal(0.0, 2.0, shape)


def _prob(rng, shape=(4, 5)):
    return rng.uniform(0.05, 0.95, shape)


# id: (tinygan, NumPy reference written from the formula, input makers)
FORWARD_CASES = {
    "relu": (F.relu, lambda x: np.maximum(x, 0), (_real,)),
    "leaky-relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), (_real,)),
    "sigmoid": (F.sigmoid, np_sigmoid, (_real,)),
    "tanh": (F.tanh, lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)), (_real,)),
    "softplus": (F.softplus, lambda x: np.log(1 + np.exp(x)), (_real,)),
    "linear": (F.linear, lambda x, w, b: x @ w.T + b,
               (lambda r: _real(r, (4, 3)), lambda r: _real(r, (2, 3)), lambda r: _real(r, (2,)))),
    "bce": (F.binary_cross_entropy, lambda p, y: np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))), (_prob, _prob)),
    "mse": (F.mse_loss, lambda x, y: np.mean((x - y) ** 2), (_real, _real)),
    "log-sum-exp": (lambda x: F.logsumexp(x, axis=1), lambda x: np.log(np.exp(x).sum(axis=1)), (_real,)),
}


@pytest.mark.parametrize("formula_id", sorted(FORWARD_CASES))
def test_forward_matches_numpy(formula_id):
    fn, reference, makers = FORWARD_CASES[formula_id]
    rng = np.random.default_rng(len(formula_id))
    inputs = [make(rng) for make in makers]
    np.testing.assert_allclose(host(fn(*[tensor(a) for a in inputs])), reference(*inputs), rtol=1e-12, atol=1e-14)


def test_im2col_matches_its_formula():
    """cols[n, (c, kh, kw), (oh, ow)] = x_pad[n, c, oh SH + kh DH, ow SW + kw DW] (torch's unfold layout)."""
    rng = np.random.default_rng(0)
    N, C, H, W, (KH, KW), (SH, SW), (PH, PW), (DH, DW) = 2, 3, 7, 6, (3, 2), (2, 1), (1, 2), (2, 1)
    x = rng.standard_normal((N, C, H, W))
    cols = host(F.im2col(tensor(x), (KH, KW), (SH, SW), (PH, PW), (DH, DW)))
    OH, OW = F.conv_output_size(H, KH, SH, PH, DH), F.conv_output_size(W, KW, SW, PW, DW)
    padded = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    expected = np.zeros((N, C * KH * KW, OH * OW))
    for n, c, kh, kw, oh, ow in np.ndindex(N, C, KH, KW, OH, OW):
        expected[n, (c * KH + kh) * KW + kw, oh * OW + ow] = padded[n, c, oh * SH + kh * DH, ow * SW + kw * DW]
    np.testing.assert_array_equal(cols, expected)


def test_batchnorm_matches_numpy():
    """Training: batch mean, biased variance, x_hat, gamma x_hat + beta, running stats with the unbiased
    variance; evaluation: the same affine map with the running statistics."""
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 2.0, (5, 3, 2, 2))
    gamma, beta = rng.uniform(0.5, 2.0, 3), rng.normal(size=3)
    running_mean, running_var = rng.normal(size=3), rng.uniform(0.5, 2.0, 3)
    rm, rv = backend.xp().asarray(running_mean.copy()), backend.xp().asarray(running_var.copy())
    y = F.batch_norm(tensor(x), rm, rv, tensor(gamma), tensor(beta), training=True, momentum=0.3, eps=1e-5)
    mean = x.mean(axis=(0, 2, 3))
    var = ((x - mean[None, :, None, None]) ** 2).mean(axis=(0, 2, 3))
    m = x.size // 3
    x_hat = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(host(y), gamma[None, :, None, None] * x_hat + beta[None, :, None, None], rtol=1e-12)
    np.testing.assert_allclose(host(rm), 0.7 * running_mean + 0.3 * mean, rtol=1e-12)
    np.testing.assert_allclose(host(rv), 0.7 * running_var + 0.3 * var * m / (m - 1), rtol=1e-12)
    y = F.batch_norm(tensor(x), rm, rv, tensor(gamma), tensor(beta), training=False, eps=1e-5)
    expected = ((x - host(rm)[None, :, None, None]) / np.sqrt(host(rv)[None, :, None, None] + 1e-5)
                * gamma[None, :, None, None] + beta[None, :, None, None])
    np.testing.assert_allclose(host(y), expected, rtol=1e-12)


def test_central_difference_is_exact_to_second_order():
    """((x + h)^3 - (x - h)^3) / (2h) = 3x^2 + h^2: the error of the central difference is O(h^2)."""
    from tinygan.gradcheck import _numerical_gradient
    x = tensor([0.5, -2.0, 3.0], requires_grad=True)
    weighting = tensor(np.ones(3))
    h = 1e-2
    numeric = backend.to_numpy(_numerical_gradient(lambda x: x * x * x, [x], 0, weighting, h))
    np.testing.assert_allclose(numeric, 3 * host(x) ** 2 + h ** 2, rtol=1e-9)


def np_log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


# id: (tinygan loss of (real scores, fake scores), NumPy reference written from the formula)
GAN_LOSS_CASES = {
    "gan-value-function": (losses.gan_value,
                           lambda r, f: np.mean(np.log(np_sigmoid(r))) + np.mean(np.log(1 - np_sigmoid(f)))),
    "gan-discriminator-loss": (losses.discriminator_loss,
                               lambda r, f: -np.mean(np.log(np_sigmoid(r))) - np.mean(np.log(1 - np_sigmoid(f)))),
    "gan-generator-minimax": (lambda r, f: losses.generator_loss_minimax(f),
                              lambda r, f: np.mean(np.log(1 - np_sigmoid(f)))),
    "gan-generator-nonsaturating": (lambda r, f: losses.generator_loss_nonsaturating(f),
                                    lambda r, f: -np.mean(np.log(np_sigmoid(f)))),
    "lsgan-discriminator": (losses.lsgan_discriminator_loss,
                            lambda r, f: 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2)),
    "lsgan-generator": (lambda r, f: losses.lsgan_generator_loss(f), lambda r, f: 0.5 * np.mean((f - 1) ** 2)),
    "wgan-critic": (losses.wasserstein_critic_loss, lambda r, f: np.mean(f) - np.mean(r)),
    "wgan-generator": (lambda r, f: losses.wasserstein_generator_loss(f), lambda r, f: -np.mean(f)),
    "hinge-discriminator": (losses.hinge_discriminator_loss,
                            lambda r, f: np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f))),
    "hinge-generator": (lambda r, f: losses.hinge_generator_loss(f), lambda r, f: -np.mean(f)),
}


@pytest.mark.parametrize("formula_id", sorted(GAN_LOSS_CASES))
def test_gan_losses_match_numpy(formula_id):
    fn, reference = GAN_LOSS_CASES[formula_id]
    rng = np.random.default_rng(len(formula_id))
    real, fake = rng.normal(0.5, 1.5, (16, 1)), rng.normal(-0.5, 1.5, (16, 1))
    assert fn(tensor(real), tensor(fake)).item() == pytest.approx(reference(real, fake), rel=1e-12, abs=1e-14)


def test_minimax_generator_loss_saturates_and_nonsaturating_does_not():
    """At the start D rejects fakes (logit -8): d/dl log(1 - sigmoid(l)) = -sigmoid(l) is ~3e-4, while
    d/dl -log sigmoid(l) = sigmoid(l) - 1 is ~-1 -- the reason for the non-saturating loss."""
    for fn, expected in ((losses.generator_loss_minimax, -np_sigmoid(-8.0)),
                         (losses.generator_loss_nonsaturating, np_sigmoid(-8.0) - 1)):
        logit = tensor([-8.0], requires_grad=True)
        fn(logit).backward()
        assert host(logit.grad)[0] == pytest.approx(expected, rel=1e-10)


def test_gradient_penalty_matches_numpy():
    """E[(||grad D(x_hat)||_2 - 1)^2] at x_hat = e x + (1 - e) G(z): for D(x) = 1/2 ||x||^2 the gradient is x_hat."""
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(6, 1, 3, 3)), rng.normal(size=(6, 1, 3, 3))
    tinygan.manual_seed(11)
    e = backend.to_numpy(backend.rng().random((6, 1, 1, 1), dtype=np.float64))   # the draw the penalty makes
    tinygan.manual_seed(11)
    penalty = losses.gradient_penalty(lambda x: (x * x).sum(axis=(1, 2, 3)) * 0.5, tensor(real), tensor(fake),
                                      backend.rng())
    x_hat = e * real + (1 - e) * fake
    expected = np.mean((np.sqrt((x_hat ** 2).sum(axis=(1, 2, 3))) - 1) ** 2)
    assert penalty.item() == pytest.approx(expected, rel=1e-12)
    # a linear critic D(x) = <w, x> has gradient w everywhere: the penalty is (||w|| - 1)^2 for any mixing
    w = rng.normal(size=(1, 1, 3, 3))
    penalty = losses.gradient_penalty(lambda x: (x * tensor(w)).sum(axis=(1, 2, 3)), tensor(real), tensor(fake),
                                      backend.rng())
    assert penalty.item() == pytest.approx((np.linalg.norm(w) - 1) ** 2, rel=1e-12)


def test_gradient_penalty_mixes_each_sample_with_its_own_weight():
    """x_hat_n = e_n x_n + (1 - e_n) G(z)_n: one e_n in [0, 1] for all of sample n's pixels, another for each n.

    Read back from the points the critic is called at, so this holds whatever generator draws e.
    """
    rng = np.random.default_rng(5)
    real = rng.normal(size=(6, 2, 3, 3))
    fake = real + rng.uniform(1.0, 2.0, size=real.shape)  # real - fake at least 1 in size: e is read back exactly
    critic_inputs = []

    def critic(x):
        critic_inputs.append(host(x))
        return (x * x).sum(axis=(1, 2, 3))
    losses.gradient_penalty(critic, tensor(real), tensor(fake), np.random.default_rng(0))
    (x_hat,) = critic_inputs
    e = ((x_hat - fake) / (real - fake)).reshape(6, -1)  # per pixel
    np.testing.assert_allclose(e, np.repeat(e[:, :1], e.shape[1], axis=1), rtol=0, atol=1e-12)
    assert ((e >= 0) & (e <= 1)).all()
    assert len(np.unique(e[:, 0])) == 6


def test_bernoulli_reconstruction_is_the_negative_bernoulli_log_likelihood():
    rng = np.random.default_rng(3)
    logits = rng.normal(0.0, 3.0, (4, 1, 3, 3))
    pixels = (rng.random((4, 1, 3, 3)) < 0.5).astype(np.float64)
    got = host(losses.bernoulli_reconstruction(tensor(logits), tensor(pixels)))
    p = np_sigmoid(logits)
    likelihood = np.where(pixels == 1, p, 1 - p)                  # p(x | z) = prod p^x (1 - p)^(1 - x)
    np.testing.assert_allclose(got, -np.log(likelihood).reshape(4, -1).sum(axis=1), rtol=1e-12)


def test_gaussian_reconstruction_is_the_negative_gaussian_log_likelihood_up_to_a_constant():
    rng = np.random.default_rng(4)
    means, targets = rng.random((3, 10)), rng.random((3, 10))
    got = host(losses.gaussian_reconstruction(tensor(means), tensor(targets)))
    density = np.exp(-0.5 * (targets - means) ** 2) / np.sqrt(2 * np.pi)   # N(x; mu, 1) per pixel
    constant = 0.5 * 10 * math.log(2 * math.pi)                            # D/2 log(2 pi), D = 10 pixels
    np.testing.assert_allclose(got, -np.log(density).sum(axis=1) - constant, rtol=1e-12)


@pytest.mark.parametrize("beta", [1.0, 4.0])
def test_negative_elbo_is_reconstruction_plus_beta_kl(beta):
    rng = np.random.default_rng(5)
    reconstruction, mu, logvar = rng.random(6) * 100, rng.normal(size=(6, 2)), rng.normal(0, 0.5, (6, 2))
    loss, rec, kl = losses.vae_loss(tensor(reconstruction), tensor(mu), tensor(logvar), beta=beta)
    kl_per_image = -0.5 * (1 + logvar - mu ** 2 - np.exp(logvar)).sum(axis=1)
    assert rec.item() == pytest.approx(reconstruction.mean(), rel=1e-12)
    assert kl.item() == pytest.approx(kl_per_image.mean(), rel=1e-12)
    assert loss.item() == pytest.approx(reconstruction.mean() + beta * kl_per_image.mean(), rel=1e-12)


def test_classifier_cross_entropy_matches_numpy():
    from tinygan.evaluation.classifier import cross_entropy
    rng = np.random.default_rng(6)
    logits, labels = rng.normal(0.0, 5.0, (8, 10)), rng.integers(0, 10, 8)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(8), labels].mean()
    assert cross_entropy(tensor(logits), backend.xp().asarray(labels)).item() == pytest.approx(expected, rel=1e-12)
