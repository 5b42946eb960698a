"""PyTorch training scripts that run on tinygan with only their import lines changed.

Each script below is written for PyTorch: an MNIST-style classifier with CrossEntropyLoss and StepLR,
the VAE and the DCGAN of the pytorch/examples repository (DCGAN's weights_init through apply and
.data.normal_), and a small encoder-decoder with cat, interpolate and GroupNorm. The same text runs
under two headers: PyTorch's imports, and tinygan's. Where torch is installed, both runs start from
the same weights (PyTorch's, copied through state_dict) and the same data, in float64, and their
losses must agree step by step to 1e-8. Without torch, the tinygan run alone must train (its loss
falls), so the scripts are tested everywhere.
"""
import numpy as np
import pytest

from paths import REPO

TORCH_HEADER = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset
"""

TINYGAN_HEADER = """
import tinygan as torch
import tinygan.nn as nn
import tinygan.nn.functional as F
import tinygan.optim as optim
from tinygan.optim.lr_scheduler import StepLR
from tinygan.utils.data import DataLoader, TensorDataset
"""

CLASSIFIER = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout = nn.Dropout(0.0)
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(torch.flatten(x, 1))
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def build():
    return Net().double()


def train(model, images, labels, steps):
    loader = DataLoader(TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)), batch_size=8)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.7)
    criterion = nn.CrossEntropyLoss()
    model.train()
    losses = []
    for epoch in range(steps):
        for data, target in loader:
            optimizer.zero_grad()
            loss = criterion(model(data), target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses
"""

VAE = """
class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc21 = nn.Linear(32, 4)
        self.fc22 = nn.Linear(32, 4)
        self.fc3 = nn.Linear(4, 32)
        self.fc4 = nn.Linear(32, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def build():
    return VAE().double()


def train(model, images, noise, steps):
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    losses = []
    for step in range(steps):
        data, eps = torch.from_numpy(images[step % 4]), torch.from_numpy(noise[step])
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data, eps)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        optimizer.step()
        losses.append(loss.item() / len(data))
    return losses
"""

DCGAN = """
nz, ngf, ndf = 8, 8, 8


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        return self.main(input)


def build():
    netG, netD = Generator().double(), Discriminator().double()
    netG.apply(weights_init)
    netD.apply(weights_init)
    return nn.ModuleDict({"G": netG, "D": netD})


def train(model, images, noise, steps):
    netG, netD = model["G"], model["D"]
    criterion = nn.BCELoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real_label, fake_label = 1., 0.
    losses = []
    for step in range(steps):
        real_cpu = torch.from_numpy(images[step % 4])
        batch_size = real_cpu.size(0)
        netD.zero_grad()
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        fake = netG(torch.from_numpy(noise[step]))
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        optimizerD.step()
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        losses.append((errD.item(), errG.item()))
    return losses
"""

ENCODER_DECODER = """
class EncoderDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.norm = nn.GroupNorm(2, 4)
        self.up = nn.Conv2d(4 + 1, 1, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.norm(self.down(x)))
        h = F.interpolate(h, scale_factor=2, mode='bilinear', align_corners=False)
        return self.up(torch.cat([h, x], dim=1))


def build():
    return EncoderDecoder().double()


def train(model, images, targets, steps):
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(torch.from_numpy(images)), torch.from_numpy(targets))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
"""


CONTINUOUS_BERNOULLI = """
# The loss of the pytorch/examples VAE (vae/main.py): a continuous Bernoulli likelihood, written with
# torch.where, torch.max of two boolean tensors, torch.le/gt, torch.clamp(min=, max=), torch.pow, torch.abs.
def atanh(x):
    return 0.5 * (torch.log(1.0 + x) - torch.log(1.0 - x))


def cont_bern_log_norm(lam, l_lim=0.49, u_lim=0.51):
    cut_lam = torch.where(torch.max(torch.le(lam, l_lim), torch.gt(lam, u_lim)), lam, l_lim * torch.ones_like(lam))
    log_norm = torch.log(torch.abs(2.0 * atanh(1 - 2.0 * cut_lam))) - torch.log(torch.abs(1 - 2.0 * cut_lam))
    taylor = torch.log(torch.tensor(2.0)) + 4.0 / 3.0 * torch.pow(lam - 0.5, 2) + 104.0 / 45.0 * torch.pow(lam - 0.5, 4)
    return torch.where(torch.max(torch.le(lam, l_lim), torch.gt(lam, u_lim)), log_norm, taylor)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 16)

    def forward(self, z):
        return torch.clamp(torch.sigmoid(self.fc(z)), min=1e-4, max=1.0 - 1e-4)


def build():
    return Decoder().double()


def train(model, codes, targets, steps):
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        recon = model(torch.from_numpy(codes))
        loss = F.binary_cross_entropy(recon, torch.from_numpy(targets), reduction='sum') - torch.sum(cont_bern_log_norm(recon))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
"""


def data_for(name):
    """(data arguments of train, steps) for each script, from a fixed NumPy seed."""
    rng = np.random.default_rng(0)
    if name == "classifier":                              # labels a function of the image: learnable
        images = rng.standard_normal((16, 1, 12, 12))
        return (images, images[:, 0, 5:7, 1:11].sum(axis=1).argmax(axis=1)), 6
    if name == "vae":
        return (rng.uniform(0, 1, (4, 8, 64)), rng.standard_normal((6, 8, 4))), 6
    if name == "dcgan":
        return (np.tanh(rng.standard_normal((4, 8, 1, 16, 16))), rng.standard_normal((5, 8, 8, 1, 1))), 5
    if name == "continuous_bernoulli":
        return (rng.standard_normal((8, 4)), rng.uniform(0, 1, (8, 16))), 6
    return (rng.standard_normal((4, 1, 8, 8)), rng.standard_normal((4, 1, 8, 8))), 6


SCRIPTS = {"classifier": CLASSIFIER, "vae": VAE, "dcgan": DCGAN, "encoder_decoder": ENCODER_DECODER,
           "continuous_bernoulli": CONTINUOUS_BERNOULLI}


def run_script(header, name):
    namespace = {}
    exec(compile(header + SCRIPTS[name], f"<{name} script>", "exec"), namespace)
    return namespace


def flat(losses):
    return np.array(losses, dtype=np.float64).ravel()


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_script_trains_on_tinygan_with_only_its_imports_changed(name):
    import tinygan
    ours = run_script(TINYGAN_HEADER, name)
    tinygan.manual_seed(0)
    model = ours["build"]()
    data, steps = data_for(name)
    losses = flat(ours["train"](model, *data, steps))
    assert np.isfinite(losses).all()
    if name != "dcgan":                                   # a GAN's losses need not fall
        quarter = max(1, len(losses) // 4)
        assert losses[-quarter:].mean() < losses[:quarter].mean()


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_script_gives_pytorchs_losses_step_by_step(name):
    torch = pytest.importorskip("torch")
    theirs, ours = run_script(TORCH_HEADER, name), run_script(TINYGAN_HEADER, name)
    torch.manual_seed(0)
    torch_model, tinygan_model = theirs["build"](), ours["build"]()
    tinygan_model.load_state_dict({key: value.detach().numpy() for key, value in torch_model.state_dict().items()})
    data, steps = data_for(name)
    expected = flat(theirs["train"](torch_model, *[a.copy() for a in data], steps))
    got = flat(ours["train"](tinygan_model, *[a.copy() for a in data], steps))
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_the_readmes_move_to_pytorch(tmp_path):
    """The README's "Moving to PyTorch" block, run on a fresh checkpoint: PyTorch draws what tinygan draws."""
    import re
    from pathlib import Path
    torch = pytest.importorskip("torch")
    import tinygan
    from tinygan.train.config import make_config
    from tinygan.train.run import Run
    readme = (REPO / "README.md").read_text()
    block = re.search(r"### Moving to PyTorch.*?```python\n(.*?)```", readme, re.S).group(1)
    run = Run(make_config("dcgan", epochs=1, limit=128, batch_size=64), str(tmp_path / "dcgan"))
    run.train(quiet=True)
    namespace = {}
    exec(block.replace("runs/dcgan/checkpoint.npz", str(tmp_path / "dcgan" / "checkpoint.npz")), namespace)
    z = np.random.default_rng(0).standard_normal((8, 100)).astype(np.float32)
    G = namespace["G"].eval()
    with tinygan.no_grad():
        ours = G(tinygan.tensor(z)).numpy()
    theirs = namespace["twin"].net(torch.from_numpy(z)).detach().numpy()
    assert namespace["digits"].shape == (64, 1, 28, 28)
    np.testing.assert_allclose(theirs, ours, atol=1e-5)


def test_the_device_questions_scripts_ask():
    import tinygan
    from tinygan import backend
    assert tinygan.cuda.is_available() == backend.cupy_available()
    assert tinygan.cuda.device_count() == (0 if not backend.cupy_available() else tinygan.cuda.device_count())
    assert tinygan.backends.mps.is_available() is False
    tinygan.backends.cudnn.benchmark = True                   # accepted, as in a PyTorch script; no effect here
    x = tinygan.tensor([[1.0, 5.0], [3.0, 2.0]])
    values, indices = tinygan.max(x, 1)
    assert values.tolist() == [5.0, 3.0] and indices.tolist() == [1, 0] and float(tinygan.max(x)) == 5.0
    assert tinygan.le(x, 2.0).tolist() == [[True, False], [False, True]]
