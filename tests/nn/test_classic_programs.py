"""Classic PyTorch programs, written as their tutorials and example collections write them, run on tinygan with
only their import lines changed.

The programs: the MLP GAN, conditional GAN and WGAN (weight clipping and gradient penalty) of the pytorch-gan
collections (`Variable`, `Tensor = torch.FloatTensor`, `.type(Tensor)`, NumPy noise, `.data`); the DCGAN
tutorial (`weights_init` through `apply`, `torch.full`, `torch.randn`, `fake.detach()`); the pytorch/examples
VAE (today's `reduction='sum'` and the older `size_average=False`), MNIST classifier (Dropout2d, Adadelta,
StepLR, the accuracy count) and word-level LSTM language model (`init_hidden`, `repackage_hidden`,
`clip_grad_norm_`, hand-written SGD on `p.data`, generation with `torch.multinomial`); the Annotated
Diffusion Model's DDPM (`torch.cumprod` of the betas, `extract` with gather, a sinusoidal embedding of integer
steps, `F.smooth_l1_loss`, ancestral sampling under `@torch.no_grad()`); CycleGAN's ResnetGenerator (reflection
padding, InstanceNorm2d through functools.partial); and nanoGPT's model and training loop
(weight tying, `scaled_dot_product_attention` or the masked product, AdamW's decay groups, top-k generation). Each
is small enough to run a few steps in a fraction of a second.

Every program runs on tinygan alone, as written (float32, tinygan's random draws), and must give finite losses
that fall where a loss should fall. Where torch is installed, the same text also runs under PyTorch's header and
again under tinygan's, both from PyTorch's starting weights (copied through state_dict) and the same data, in
float64, with the same random draws: the `torch` that each run's program sees is the real library with its
random functions (`randn`, `randn_like`, `randint`, `multinomial`) and dropout masks drawn from one NumPy
generator, float32's spellings (`torch.float`, `torch.FloatTensor`) meaning float64 (`SharedDraws`) and float64 the
default dtype. NumPy's
own draws (`np.random.normal`, `np.random.randint`) are shared by seeding `np.random` before each run. The losses
must agree step by step to 1e-8, and so must the probabilities the language model samples its words from.
"""
import types

import numpy as np
import pytest

from test_pytorch_scripts import TINYGAN_HEADER as SCRIPTS_TINYGAN_HEADER, TORCH_HEADER as SCRIPTS_TORCH_HEADER

TORCH_HEADER = SCRIPTS_TORCH_HEADER + """
from torch.autograd import Variable
"""

TINYGAN_HEADER = SCRIPTS_TINYGAN_HEADER + """
from tinygan.autograd import Variable
"""

HEADERS = {"torch": TORCH_HEADER, "tinygan": TINYGAN_HEADER}

# size_average=False is deprecated in both libraries, and both say so with a UserWarning.
pytestmark = pytest.mark.filterwarnings("ignore:.*size_average and reduce")

MLP_GAN = """
latent_dim = 16
img_size = 28
channels = 1
batch_size = 16
lr = 0.0002
b1, b2 = 0.5, 0.999
img_shape = (channels, img_size, img_size)

cuda = True if torch.cuda.is_available() else False
Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(latent_dim, 32, normalize=False),
            *block(32, 64),
            nn.Linear(64, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, z):
        img = self.model(z)
        img = img.view(img.size(0), *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.model = nn.Sequential(
            nn.Linear(int(np.prod(img_shape)), 64),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(64, 32),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(32, 1),
            nn.Sigmoid(),
        )

    def forward(self, img):
        img_flat = img.view(img.size(0), -1)
        validity = self.model(img_flat)
        return validity


adversarial_loss = torch.nn.BCELoss()


def build():
    generator = Generator()
    discriminator = Discriminator()
    if cuda:
        generator.cuda()
        discriminator.cuda()
        adversarial_loss.cuda()
    return nn.ModuleDict({"generator": generator, "discriminator": discriminator})


def train(models, images, labels, n_batches):
    generator, discriminator = models["generator"], models["discriminator"]
    dataloader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
        batch_size=batch_size, shuffle=False)
    optimizer_G = torch.optim.Adam(generator.parameters(), lr=lr, betas=(b1, b2))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(b1, b2))
    losses = []
    for i, (imgs, _) in enumerate(dataloader):
        if i == n_batches:
            break
        # Adversarial ground truths
        valid = Variable(Tensor(imgs.size(0), 1).fill_(1.0), requires_grad=False)
        fake = Variable(Tensor(imgs.size(0), 1).fill_(0.0), requires_grad=False)

        # Configure input
        real_imgs = Variable(imgs.type(Tensor))

        #  Train Generator
        optimizer_G.zero_grad()
        z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], latent_dim))))
        gen_imgs = generator(z)
        g_loss = adversarial_loss(discriminator(gen_imgs), valid)
        g_loss.backward()
        optimizer_G.step()

        #  Train Discriminator
        optimizer_D.zero_grad()
        real_loss = adversarial_loss(discriminator(real_imgs), valid)
        fake_loss = adversarial_loss(discriminator(gen_imgs.detach()), fake)
        d_loss = (real_loss + fake_loss) / 2
        d_loss.backward()
        optimizer_D.step()

        print("[Batch %d/%d] [D loss: %f] [G loss: %f]" % (i, len(dataloader), d_loss.item(), g_loss.item()))
        losses.append((d_loss.item(), g_loss.item()))
    return losses
"""

DCGAN = """
workers = 0
batch_size = 8
nc = 1
nz = 16
ngf = 8
ndf = 8
lr = 0.0002
beta1 = 0.5
ngpu = 1

device = torch.device("cuda:0" if (torch.cuda.is_available() and ngpu > 0) else "cpu")


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self, ngpu):
        super(Generator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is Z, going into a convolution
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 4 x 4
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 8 x 8
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 16 x 16
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh()
            # state size. (nc) x 32 x 32
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super(Discriminator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            # input is (nc) x 32 x 32
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 16 x 16
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 8 x 8
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 4 x 4
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        return self.main(input)


def build():
    netG = Generator(ngpu).to(device)
    if (device.type == 'cuda') and (ngpu > 1):
        netG = nn.DataParallel(netG, list(range(ngpu)))
    netG.apply(weights_init)
    netD = Discriminator(ngpu).to(device)
    if (device.type == 'cuda') and (ngpu > 1):
        netD = nn.DataParallel(netD, list(range(ngpu)))
    netD.apply(weights_init)
    return nn.ModuleDict({"G": netG, "D": netD})


def train(models, images, labels, n_batches):
    netG, netD = models["G"], models["D"]
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers)
    criterion = nn.BCELoss()
    fixed_noise = torch.randn(16, nz, 1, 1, device=device)
    real_label = 1.
    fake_label = 0.
    optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))

    G_losses = []
    D_losses = []
    for i, data in enumerate(dataloader, 0):
        if i == n_batches:
            break
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        ## Train with all-real batch
        netD.zero_grad()
        real_cpu = data[0].to(device)
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        ## Train with all-fake batch
        noise = torch.randn(b_size, nz, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()

        print('[%d/%d]\\tLoss_D: %.4f\\tLoss_G: %.4f\\tD(x): %.4f\\tD(G(z)): %.4f / %.4f'
              % (i, len(dataloader), errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
        G_losses.append(errG.item())
        D_losses.append(errD.item())

    with torch.no_grad():
        fake = netG(fixed_noise).detach().cpu()
    return list(zip(D_losses, G_losses)) + [float(fake.abs().mean())]
"""

CGAN = """
n_classes = 10
latent_dim = 16
img_size = 28
channels = 1
batch_size = 16
lr = 0.0002
b1, b2 = 0.5, 0.999
img_shape = (channels, img_size, img_size)

cuda = True if torch.cuda.is_available() else False
FloatTensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
LongTensor = torch.cuda.LongTensor if cuda else torch.LongTensor


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()

        self.label_emb = nn.Embedding(n_classes, n_classes)

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(latent_dim + n_classes, 32, normalize=False),
            *block(32, 64),
            nn.Linear(64, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, noise, labels):
        # Concatenate label embedding and image to produce input
        gen_input = torch.cat((self.label_emb(labels), noise), -1)
        img = self.model(gen_input)
        img = img.view(img.size(0), *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()

        self.label_embedding = nn.Embedding(n_classes, n_classes)

        self.model = nn.Sequential(
            nn.Linear(n_classes + int(np.prod(img_shape)), 64),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(64, 64),
            nn.Dropout(0.4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(64, 1),
        )

    def forward(self, img, labels):
        # Concatenate label embedding and image to produce input
        d_in = torch.cat((img.view(img.size(0), -1), self.label_embedding(labels)), -1)
        validity = self.model(d_in)
        return validity


adversarial_loss = torch.nn.MSELoss()


def build():
    generator = Generator()
    discriminator = Discriminator()
    if cuda:
        generator.cuda()
        discriminator.cuda()
        adversarial_loss.cuda()
    return nn.ModuleDict({"generator": generator, "discriminator": discriminator})


def sample_image(generator, n_row):
    # Sample noise
    z = Variable(FloatTensor(np.random.normal(0, 1, (n_row ** 2, latent_dim))))
    # Get labels ranging from 0 to n_classes for n rows
    labels = np.array([num for _ in range(n_row) for num in range(n_row)])
    labels = Variable(LongTensor(labels))
    gen_imgs = generator(z, labels)
    return gen_imgs.data


def make_dataloader(images, labels):
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
        batch_size=batch_size, shuffle=False)


def train(models, images, labels, n_batches):
    generator, discriminator = models["generator"], models["discriminator"]
    dataloader = make_dataloader(images, labels)
    optimizer_G = torch.optim.Adam(generator.parameters(), lr=lr, betas=(b1, b2))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=(b1, b2))
    losses = []
    for i, (imgs, labels) in enumerate(dataloader):
        if i == n_batches:
            break
        batch_size = imgs.shape[0]

        # Adversarial ground truths
        valid = Variable(FloatTensor(batch_size, 1).fill_(1.0), requires_grad=False)
        fake = Variable(FloatTensor(batch_size, 1).fill_(0.0), requires_grad=False)

        # Configure input
        real_imgs = Variable(imgs.type(FloatTensor))
        labels = Variable(labels.type(LongTensor))

        #  Train Generator
        optimizer_G.zero_grad()

        # Sample noise and labels as generator input
        z = Variable(FloatTensor(np.random.normal(0, 1, (batch_size, latent_dim))))
        gen_labels = Variable(LongTensor(np.random.randint(0, n_classes, batch_size)))

        # Generate a batch of images
        gen_imgs = generator(z, gen_labels)

        # Loss measures generator's ability to fool the discriminator
        validity = discriminator(gen_imgs, gen_labels)
        g_loss = adversarial_loss(validity, valid)

        g_loss.backward()
        optimizer_G.step()

        #  Train Discriminator
        optimizer_D.zero_grad()

        # Loss for real images
        validity_real = discriminator(real_imgs, labels)
        d_real_loss = adversarial_loss(validity_real, valid)

        # Loss for fake images
        validity_fake = discriminator(gen_imgs.detach(), gen_labels)
        d_fake_loss = adversarial_loss(validity_fake, fake)

        # Total discriminator loss
        d_loss = (d_real_loss + d_fake_loss) / 2

        d_loss.backward()
        optimizer_D.step()

        losses.append((d_loss.item(), g_loss.item()))
    gen_imgs = sample_image(generator, n_row=3)
    return losses + [float(gen_imgs.mean()), float(gen_imgs.std())]
"""

WGAN = """
latent_dim = 16
img_size = 28
channels = 1
batch_size = 8
n_critic = 5
clip_value = 0.01
lambda_gp = 10
img_shape = (channels, img_size, img_size)

cuda = True if torch.cuda.is_available() else False
Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(
            *block(latent_dim, 32, normalize=False),
            *block(32, 64),
            nn.Linear(64, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, z):
        img = self.model(z)
        img = img.view(img.shape[0], *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()

        self.model = nn.Sequential(
            nn.Linear(int(np.prod(img_shape)), 64),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(64, 32),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(32, 1),
        )

    def forward(self, img):
        img_flat = img.view(img.shape[0], -1)
        validity = self.model(img_flat)
        return validity


def build():
    generator = Generator()
    discriminator = Discriminator()
    if cuda:
        generator.cuda()
        discriminator.cuda()
    return nn.ModuleDict({"generator": generator, "discriminator": discriminator})


def compute_gradient_penalty(D, real_samples, fake_samples):
    \"\"\"Calculates the gradient penalty loss for WGAN GP\"\"\"
    # Random weight term for interpolation between real and fake samples
    alpha = Tensor(np.random.random((real_samples.size(0), 1, 1, 1)))
    # Get random interpolation between real and fake samples
    interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
    d_interpolates = D(interpolates)
    fake = Variable(Tensor(real_samples.shape[0], 1).fill_(1.0), requires_grad=False)
    # Get gradient w.r.t. interpolates
    gradients = torch.autograd.grad(
        outputs=d_interpolates,
        inputs=interpolates,
        grad_outputs=fake,
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    gradient_penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
    return gradient_penalty


def loader(images, labels):
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
        batch_size=batch_size, shuffle=False)


def train_gp(models, images, labels, n_batches):
    generator, discriminator = models["generator"], models["discriminator"]
    optimizer_G = torch.optim.Adam(generator.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=0.0002, betas=(0.5, 0.999))
    losses = []
    for i, (imgs, _) in enumerate(loader(images, labels)):
        if i == n_batches:
            break
        # Configure input
        real_imgs = Variable(imgs.type(Tensor))

        #  Train Discriminator
        optimizer_D.zero_grad()

        # Sample noise as generator input
        z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], latent_dim))))

        # Generate a batch of images
        fake_imgs = generator(z)

        # Real images
        real_validity = discriminator(real_imgs)
        # Fake images
        fake_validity = discriminator(fake_imgs)
        # Gradient penalty
        gradient_penalty = compute_gradient_penalty(discriminator, real_imgs.data, fake_imgs.data)
        # Adversarial loss
        d_loss = -torch.mean(real_validity) + torch.mean(fake_validity) + lambda_gp * gradient_penalty

        d_loss.backward()
        optimizer_D.step()

        optimizer_G.zero_grad()

        # Train the generator every n_critic steps
        if i % n_critic == 0:
            fake_imgs = generator(z)
            fake_validity = discriminator(fake_imgs)
            g_loss = -torch.mean(fake_validity)

            g_loss.backward()
            optimizer_G.step()
            losses.append(g_loss.item())

        losses.append(d_loss.item())
        losses.append(gradient_penalty.item())
    return losses


def train_clip(models, images, labels, n_batches):
    generator, discriminator = models["generator"], models["discriminator"]
    optimizer_G = torch.optim.RMSprop(generator.parameters(), lr=0.00005)
    optimizer_D = torch.optim.RMSprop(discriminator.parameters(), lr=0.00005)
    losses = []
    for i, (imgs, _) in enumerate(loader(images, labels)):
        if i == n_batches:
            break
        # Configure input
        real_imgs = Variable(imgs.type(Tensor))

        #  Train Discriminator
        optimizer_D.zero_grad()

        # Sample noise as generator input
        z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], latent_dim))))

        # Generate a batch of images
        fake_imgs = generator(z).detach()
        # Adversarial loss
        loss_D = -torch.mean(discriminator(real_imgs)) + torch.mean(discriminator(fake_imgs))

        loss_D.backward()
        optimizer_D.step()

        # Clip weights of discriminator
        for p in discriminator.parameters():
            p.data.clamp_(-clip_value, clip_value)

        # Train the generator every n_critic iterations
        if i % n_critic == 0:
            optimizer_G.zero_grad()

            # Generate a batch of images
            gen_imgs = generator(z)
            # Adversarial loss
            loss_G = -torch.mean(discriminator(gen_imgs))

            loss_G.backward()
            optimizer_G.step()
            losses.append(loss_G.item())

        losses.append(loss_D.data.item())
    largest = max(float(p.data.abs().max()) for p in discriminator.parameters())
    return losses + [largest]
"""

VAE = """
batch_size = 16
log_interval = 2


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()

        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5*logvar)
        eps = torch.randn_like(std)
        return mu + eps*std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')

    # see Appendix B from VAE paper:
    # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    # https://arxiv.org/abs/1312.6114
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

    return BCE + KLD


def build():
    return VAE()


def train(model, images, labels, epochs):
    train_loader = DataLoader(TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)),
                              batch_size=batch_size, shuffle=False)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        train_loss = 0
        for batch_idx, (data, _) in enumerate(train_loader):
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            if batch_idx % log_interval == 0:
                print('Train Epoch: {} [{}/{} ({:.0f}%)]\\tLoss: {:.6f}'.format(
                    epoch, batch_idx * len(data), len(train_loader.dataset),
                    100. * batch_idx / len(train_loader),
                    loss.item() / len(data)))
            losses.append(loss.item() / len(data))
        print('====> Epoch: {} Average loss: {:.4f}'.format(epoch, train_loss / len(train_loader.dataset)))
    with torch.no_grad():
        sample = torch.randn(64, 20)
        sample = model.decode(sample).cpu()
    return losses + [float(sample.view(64, 1, 28, 28).mean())]
"""

# The same program with the loss summed by the legacy argument, size_average=False.
VAE_SIZE_AVERAGE = VAE.replace("reduction='sum'", "size_average=False")

# The program as it stood in 2018: size_average=False, and the sample written eps.mul(std).add_(mu), an in-place
# add on a tensor the graph computed. tinygan refuses that on purpose (it records no in-place operation; README,
# "What still differs"), so this one is tested for the refusal.
VAE_2018 = VAE.replace(
    "        std = torch.exp(0.5*logvar)\n        eps = torch.randn_like(std)\n        return mu + eps*std\n",
    "        if self.training:\n            std = torch.exp(0.5*logvar)\n            eps = torch.randn_like(std)\n"
    "            return eps.mul(std).add_(mu)\n        else:\n            return mu\n").replace(
    "reduction='sum'", "size_average=False")

MNIST_CLASSIFIER = """
batch_size = 16
test_batch_size = 32
epochs = 3
lr = 1.0
gamma = 0.7
log_interval = 2


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(1152, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, epoch):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
        losses.append(loss.item())
    return losses


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)

    print('\\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))
    return test_loss, correct


def build():
    return Net()


def main(model, images, labels, epochs):
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    train_kwargs = {'batch_size': batch_size}
    test_kwargs = {'batch_size': test_batch_size}
    dataset1 = TensorDataset(torch.from_numpy(images[:64]), torch.from_numpy(labels[:64]))
    dataset2 = TensorDataset(torch.from_numpy(images[64:]), torch.from_numpy(labels[64:]))
    train_loader = torch.utils.data.DataLoader(dataset1, **train_kwargs)
    test_loader = torch.utils.data.DataLoader(dataset2, **test_kwargs)

    model = model.to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=gamma)
    losses, results = [], []
    for epoch in range(1, epochs + 1):
        losses += train(model, device, train_loader, optimizer, epoch)
        results.append(test(model, device, test_loader))
        scheduler.step()
    return losses, results
"""

WORD_LANGUAGE_MODEL = """
emsize = 16
nhid = 16
nlayers = 2
lr = 20
clip = 0.25
bptt = 6
batch_size = 4
eval_batch_size = 2
dropout = 0.2
temperature = 1.0
words = 8
log_interval = 2

device = torch.device("cpu")


class RNNModel(nn.Module):
    \"\"\"Container module with an encoder, a recurrent module, and a decoder.\"\"\"

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight

        self.init_weights()

        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    # Work out how cleanly we can divide the dataset into bsz parts.
    nbatch = data.size(0) // bsz
    # Trim off any extra elements that wouldn't cleanly fit (remainders).
    data = data.narrow(0, 0, nbatch * bsz)
    # Evenly divide the data across the bsz batches.
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


def repackage_hidden(h):
    \"\"\"Wraps hidden states in new Tensors, to detach them from their history.\"\"\"

    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i+seq_len]
    target = source[i+1:i+1+seq_len].view(-1)
    return data, target


def build(ntokens):
    return RNNModel('LSTM', ntokens, emsize, nhid, nlayers, dropout).to(device)


def evaluate(model, data_source, ntokens):
    # Turn on evaluation mode which disables dropout.
    model.eval()
    total_loss = 0.
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


criterion = nn.NLLLoss()


def train(model, train_data, ntokens, epoch):
    # Turn on training mode which enables dropout.
    model.train()
    total_loss = 0.
    losses = []
    hidden = model.init_hidden(batch_size)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        # Starting each batch, we detach the hidden state from how it was previously produced.
        # If we didn't, the model would try backpropagating all the way to start of the dataset.
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()

        # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)

        total_loss += loss.item()
        if batch % log_interval == 0 and batch > 0:
            cur_loss = total_loss / log_interval
            print('| epoch {:3d} | {:5d}/{:5d} batches | lr {:02.2f} | loss {:5.2f} | ppl {:8.2f}'.format(
                epoch, batch, len(train_data) // bptt, lr, cur_loss, math.exp(cur_loss)))
            total_loss = 0
        losses.append(loss.item())
    return losses


def generate(model, ntokens):
    model.eval()
    hidden = model.init_hidden(1)
    input = torch.randint(ntokens, (1, 1), dtype=torch.long).to(device)
    generated = []
    with torch.no_grad():  # no tracking history
        for i in range(words):
            output, hidden = model(input, hidden)
            word_weights = output.squeeze().div(temperature).exp().cpu()
            word_idx = torch.multinomial(word_weights, 1)[0]
            input.fill_(word_idx)
            generated.append(int(word_idx))
    return generated


def main(model, train_ids, val_ids, epochs):
    ntokens = model.ntoken
    train_data = batchify(torch.from_numpy(train_ids), batch_size)
    val_data = batchify(torch.from_numpy(val_ids), eval_batch_size)
    losses = []
    for epoch in range(1, epochs + 1):
        losses += train(model, train_data, ntokens, epoch)
        val_loss = evaluate(model, val_data, ntokens)
        print('| end of epoch {:3d} | valid loss {:5.2f} | valid ppl {:8.2f}'.format(epoch, val_loss, math.exp(val_loss)))
        losses.append(val_loss)
    return losses, generate(model, ntokens)
"""


# The denoising diffusion model of "The Annotated Diffusion Model" (Hugging Face's blog, after Ho et al. 2020): the
# linear beta schedule and its cumulative products, `extract` with gather, the sinusoidal time embedding of
# integer steps, the noising q_sample, the Huber loss on the noise, and ancestral sampling under no_grad; the
# U-Net shrunk to a convolution, a GroupNorm and the time projection.
DDPM = """
timesteps = 50
image_size = 28
channels = 1
batch_size = 16


def linear_beta_schedule(timesteps):
    beta_start = 0.0001
    beta_end = 0.02
    return torch.linspace(beta_start, beta_end, timesteps)


betas = linear_beta_schedule(timesteps=timesteps)
alphas = 1. - betas
alphas_cumprod = torch.cumprod(alphas, axis=0)
alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
sqrt_alphas_cumprod = torch.sqrt(alphas_cumprod)
sqrt_one_minus_alphas_cumprod = torch.sqrt(1. - alphas_cumprod)
posterior_variance = betas * (1. - alphas_cumprod_prev) / (1. - alphas_cumprod)


def extract(a, t, x_shape):
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu())
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, time):
        device = time.device
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        embeddings = torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)
        return embeddings


class Denoiser(nn.Module):
    def __init__(self, dim=16):
        super().__init__()
        self.time_mlp = nn.Sequential(SinusoidalPositionEmbeddings(dim), nn.Linear(dim, dim * 2), nn.GELU(),
                                      nn.Linear(dim * 2, dim))
        self.init_conv = nn.Conv2d(channels, dim, 3, padding=1)
        self.norm = nn.GroupNorm(4, dim)
        self.act = nn.SiLU()
        self.final_conv = nn.Conv2d(dim, channels, 1)

    def forward(self, x, time):
        t = self.time_mlp(time)
        h = self.act(self.norm(self.init_conv(x))) + rearrange_time(t)
        return self.final_conv(h)


def rearrange_time(t):
    return t[..., None, None]


def q_sample(x_start, t, noise=None):
    if noise is None:
        noise = torch.randn_like(x_start)
    sqrt_alphas_cumprod_t = extract(sqrt_alphas_cumprod, t, x_start.shape)
    sqrt_one_minus_alphas_cumprod_t = extract(sqrt_one_minus_alphas_cumprod, t, x_start.shape)
    return sqrt_alphas_cumprod_t * x_start + sqrt_one_minus_alphas_cumprod_t * noise


def p_losses(denoise_model, x_start, t, noise=None, loss_type="huber"):
    if noise is None:
        noise = torch.randn_like(x_start)
    x_noisy = q_sample(x_start=x_start, t=t, noise=noise)
    predicted_noise = denoise_model(x_noisy, t)
    if loss_type == 'l1':
        loss = F.l1_loss(noise, predicted_noise)
    elif loss_type == 'l2':
        loss = F.mse_loss(noise, predicted_noise)
    elif loss_type == "huber":
        loss = F.smooth_l1_loss(noise, predicted_noise)
    else:
        raise NotImplementedError()
    return loss


@torch.no_grad()
def p_sample(model, x, t, t_index):
    betas_t = extract(betas, t, x.shape)
    sqrt_one_minus_alphas_cumprod_t = extract(sqrt_one_minus_alphas_cumprod, t, x.shape)
    sqrt_recip_alphas_t = extract(sqrt_recip_alphas, t, x.shape)
    model_mean = sqrt_recip_alphas_t * (x - betas_t * model(x, t) / sqrt_one_minus_alphas_cumprod_t)
    if t_index == 0:
        return model_mean
    posterior_variance_t = extract(posterior_variance, t, x.shape)
    noise = torch.randn_like(x)
    return model_mean + torch.sqrt(posterior_variance_t) * noise


@torch.no_grad()
def p_sample_loop(model, shape):
    device = next(model.parameters()).device
    b = shape[0]
    img = torch.randn(shape, device=device)
    imgs = []
    for i in reversed(range(0, timesteps)):
        img = p_sample(model, img, torch.full((b,), i, device=device, dtype=torch.long), i)
        imgs.append(img.cpu().numpy())
    return imgs


def build():
    return Denoiser()


def train(model, images, labels, n_batches):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    dataloader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(images)),
                                             batch_size=batch_size, shuffle=False)
    losses = []
    for step, (batch,) in enumerate(dataloader):
        if step == n_batches:
            break
        optimizer.zero_grad()
        batch = batch.to(device)
        t = torch.randint(0, timesteps, (batch.shape[0],), device=device).long()
        loss = p_losses(model, batch, t, loss_type="huber")
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    samples = p_sample_loop(model, shape=(2, channels, image_size, image_size))
    return losses + [float(np.abs(samples[-1]).mean())]
"""

# nanoGPT (Karpathy): model.py's GPT as written (its own LayerNorm with an optional bias, the causal attention by
# scaled_dot_product_attention or by the masked product, the MLP, weight tying, `apply(_init_weights)`, the scaled
# init of the projections, configure_optimizers' decay groups found by `p.dim()` and its look for AdamW's `fused`
# through `inspect.signature`, generate's top-k cut by `logits[logits < v[:, [-1]]] = -float('Inf')`), trained as
# train.py does (random windows by randint, warm-up then cosine learning rate set in the groups, gradient
# clipping, `zero_grad(set_to_none=True)`); shrunk to two layers of width 16.
NANOGPT = """
import inspect
from dataclasses import dataclass


class LayerNorm(nn.Module):
    \"\"\" LayerNorm but with an optional bias. PyTorch doesn't support simply bias=False \"\"\"

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.flash = hasattr(torch.nn.functional, 'scaled_dot_product_attention') and config.flash
        if not self.flash:
            self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                        .view(1, 1, config.block_size, config.block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v  = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=None,
                                                                 dropout_p=self.dropout if self.training else 0,
                                                                 is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:,:,:T,:T] == 0, float('-inf'))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        y = self.resid_dropout(self.c_proj(y))
        return y


class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc    = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu    = nn.GELU()
        self.c_proj  = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        x = self.c_fc(x)
        x = self.gelu(x)
        x = self.c_proj(x)
        x = self.dropout(x)
        return x


class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


@dataclass
class GPTConfig:
    block_size: int = 12
    vocab_size: int = 10
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 16
    dropout: float = 0.0
    bias: bool = True
    flash: bool = True


class GPT(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.vocab_size is not None
        assert config.block_size is not None
        self.config = config

        self.transformer = nn.ModuleDict(dict(
            wte = nn.Embedding(config.vocab_size, config.n_embd),
            wpe = nn.Embedding(config.block_size, config.n_embd),
            drop = nn.Dropout(config.dropout),
            h = nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f = LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight # https://paperswithcode.com/method/weight-tying

        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith('c_proj.weight'):
                torch.nn.init.normal_(p, mean=0.0, std=0.02/math.sqrt(2 * config.n_layer))

    def get_num_params(self, non_embedding=True):
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        device = idx.device
        b, t = idx.size()
        assert t <= self.config.block_size, f"Cannot forward sequence of length {t}, block size is only {self.config.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=device) # shape (t)

        tok_emb = self.transformer.wte(idx) # token embeddings of shape (b, t, n_embd)
        pos_emb = self.transformer.wpe(pos) # position embeddings of shape (t, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)

        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            logits = self.lm_head(x[:, [-1], :]) # note: using list [-1] to preserve the time dim
            loss = None

        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas, device_type):
        param_dict = {pn: p for pn, p in self.named_parameters()}
        param_dict = {pn: p for pn, p in param_dict.items() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {'params': decay_params, 'weight_decay': weight_decay},
            {'params': nodecay_params, 'weight_decay': 0.0}
        ]
        fused_available = 'fused' in inspect.signature(torch.optim.AdamW).parameters
        use_fused = fused_available and device_type == 'cuda'
        extra_args = dict(fused=True) if use_fused else dict()
        optimizer = torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)
        return optimizer

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float('Inf')
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)

        return idx


batch_size = 8
block_size = 12
learning_rate = 6e-3
warmup_iters = 3
lr_decay_iters = 12
min_lr = 6e-4
grad_clip = 1.0
flash = True


def get_lr(it):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def build():
    return GPT(GPTConfig(flash=flash))


def train(model, train_ids, val_ids, max_iters):
    device = 'cpu'
    train_data, val_data = torch.from_numpy(train_ids), torch.from_numpy(val_ids)

    def get_batch(split):
        data = train_data if split == 'train' else val_data
        ix = torch.randint(len(data) - block_size, (batch_size,))
        x = torch.stack([(data[i:i+block_size]).long() for i in ix])
        y = torch.stack([(data[i+1:i+1+block_size]).long() for i in ix])
        return x, y

    optimizer = model.configure_optimizers(1e-1, learning_rate, (0.9, 0.95), device)
    losses = []
    X, Y = get_batch('train')
    for iter_num in range(max_iters):
        lr = get_lr(iter_num)
        for param_group in optimizer.param_groups:
            param_group['lr'] = lr
        logits, loss = model(X, Y)
        X, Y = get_batch('train')
        loss.backward()
        if grad_clip != 0.0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        _, val_loss = model(*get_batch('val'))
    generated = model.generate(torch.zeros((1, 1), dtype=torch.long, device=device), 6, top_k=5)
    return losses + [val_loss.item()], generated[0].tolist()
"""

# CycleGAN's ResnetGenerator (junyanz/pytorch-CycleGAN-and-pix2pix, networks.py) as written: reflection padding,
# InstanceNorm2d through functools.partial, residual blocks, transposed convolutions with output_padding; trained
# here on an L1 reconstruction of the digits, a few steps.
CYCLEGAN_GENERATOR = """
import functools


class ResnetBlock(nn.Module):
    def __init__(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        super(ResnetBlock, self).__init__()
        self.conv_block = self.build_conv_block(dim, padding_type, norm_layer, use_dropout, use_bias)
    def build_conv_block(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        conv_block = []
        p = 0
        if padding_type == 'reflect':
            conv_block += [nn.ReflectionPad2d(1)]
        elif padding_type == 'replicate':
            conv_block += [nn.ReplicationPad2d(1)]
        elif padding_type == 'zero':
            p = 1
        else:
            raise NotImplementedError('padding [%s] is not implemented' % padding_type)
        conv_block += [nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias), norm_layer(dim), nn.ReLU(True)]
        if use_dropout:
            conv_block += [nn.Dropout(0.5)]
        p = 0
        if padding_type == 'reflect':
            conv_block += [nn.ReflectionPad2d(1)]
        elif padding_type == 'replicate':
            conv_block += [nn.ReplicationPad2d(1)]
        elif padding_type == 'zero':
            p = 1
        conv_block += [nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias), norm_layer(dim)]
        return nn.Sequential(*conv_block)
    def forward(self, x):
        out = x + self.conv_block(x)
        return out

class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, norm_layer=nn.BatchNorm2d, use_dropout=False, n_blocks=6, padding_type='reflect'):
        assert(n_blocks >= 0)
        super(ResnetGenerator, self).__init__()
        if type(norm_layer) == functools.partial:
            use_bias = norm_layer.func == nn.InstanceNorm2d
        else:
            use_bias = norm_layer == nn.InstanceNorm2d
        model = [nn.ReflectionPad2d(3),
                 nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
                 norm_layer(ngf),
                 nn.ReLU(True)]
        n_downsampling = 2
        for i in range(n_downsampling):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=use_bias),
                      norm_layer(ngf * mult * 2),
                      nn.ReLU(True)]
        mult = 2 ** n_downsampling
        for i in range(n_blocks):
            model += [ResnetBlock(ngf * mult, padding_type=padding_type, norm_layer=norm_layer, use_dropout=use_dropout, use_bias=use_bias)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            model += [nn.ConvTranspose2d(ngf * mult, int(ngf * mult / 2),
                                         kernel_size=3, stride=2,
                                         padding=1, output_padding=1,
                                         bias=use_bias),
                      norm_layer(int(ngf * mult / 2)),
                      nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3)]
        model += [nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0)]
        model += [nn.Tanh()]
        self.model = nn.Sequential(*model)
    def forward(self, input):
        return self.model(input)



def build():
    norm_layer = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    return ResnetGenerator(1, 1, 8, norm_layer=norm_layer, use_dropout=False, n_blocks=2)


def train(model, images, labels, n_batches):
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    criterionIdt = torch.nn.L1Loss()
    losses = []
    for i in range(n_batches):
        real = torch.from_numpy(images[8 * i:8 * i + 8])
        optimizer.zero_grad()
        loss = criterionIdt(model(real), real)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
"""

# ---------------------------------------------------------------------------------------------------------------
# The data: real digits from tinygan's MNIST (torchvision's, with the embedded digits standing in), and a small
# corpus for the language model.

_digits = {}


def mnist_digits(n, size=28):
    """The first n training digits as torchvision serves them with ToTensor and Normalize([0.5], [0.5]): float32
    (n, 1, size, size) on [-1, 1] (size 32 pads with the background, -1), and int64 labels."""
    if n not in _digits:
        from tinygan.data import MNIST, transforms
        dataset = MNIST("no-such-folder", train=True, download=True, transform=transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]))
        pairs = [dataset[i] for i in range(n)]
        _digits[n] = (np.stack([image.numpy() for image, _ in pairs]), np.array([label for _, label in pairs]))
    images, labels = _digits[n]
    pad = (size - 28) // 2
    images = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-1.0)
    return images.astype(np.float32), labels.copy()


def corpus(n, seed):
    """Token ids of a small language: each word is the one after the last but one, now and then another one."""
    rng = np.random.default_rng(seed)
    ids = [0, 1]
    for _ in range(n - 2):
        ids.append((ids[-2] + 1) % 10 if rng.random() < 0.9 else int(rng.integers(10)))
    return np.array(ids, dtype=np.int64)


# ---------------------------------------------------------------------------------------------------------------
# Running a program: under a header, with its `torch` optionally the shared-draws one.

class SharedDraws(types.ModuleType):
    """What `torch` is to a program in a comparison run: the library (PyTorch or tinygan) itself, except that its
    random draws come from one NumPy generator and float32's spellings mean float64.

    randn, randn_like, rand, randint and multinomial draw from `rng`; multinomial samples by the inverse of the
    cumulative weights and records the probabilities it samples from in `sampled_from`. `dropout` and `dropout2d`
    (installed into the library's functional modules by `shared_dropout`) draw their masks from `rng` too.
    torch.float, torch.float32 and torch.FloatTensor are float64's, so a program written in float32 runs in float64.
    """

    def __init__(self, lib, seed=0):
        super().__init__(lib.__name__)
        self._lib, self.rng, self.sampled_from = lib, np.random.default_rng(seed), []
        self.float = self.float32 = lib.float64
        self.FloatTensor = lib.DoubleTensor

    def __getattr__(self, name):
        return getattr(self._lib, name)

    def _tensor(self, values, dtype=None, device=None, requires_grad=False):
        dtype = self._lib.float64 if dtype in (None, self._lib.float32) else dtype
        return self._lib.tensor(values, dtype=dtype, requires_grad=requires_grad)

    @staticmethod
    def _shape(size):
        return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)

    def randn(self, *size, dtype=None, device=None, requires_grad=False, **unused):
        return self._tensor(self.rng.standard_normal(self._shape(size)), dtype, device, requires_grad)

    def rand(self, *size, dtype=None, device=None, requires_grad=False, **unused):
        return self._tensor(self.rng.random(self._shape(size)), dtype, device, requires_grad)

    def randn_like(self, input, dtype=None, **unused):
        return self._tensor(self.rng.standard_normal(tuple(input.shape)), dtype or input.dtype)

    def randint(self, low, high=None, size=None, dtype=None, **unused):
        if size is None:
            low, high, size = 0, low, high
        return self._lib.tensor(self.rng.integers(low, high, size), dtype=dtype or self._lib.long)

    def multinomial(self, input, num_samples, replacement=False, **unused):
        assert input.dim() in (1, 2) and (num_samples == 1 or replacement)
        rows = input.detach().cpu().numpy().astype(np.float64).reshape(-1, input.shape[-1])
        picked = []
        for weights in rows:
            probabilities = weights / weights.sum()
            self.sampled_from.append(probabilities)
            cumulative = np.cumsum(probabilities)
            picked.append(np.minimum(np.searchsorted(cumulative, self.rng.random(num_samples), side="right"),
                                     len(weights) - 1))
        indices = np.stack(picked) if input.dim() == 2 else picked[0]
        return self._lib.tensor(indices, dtype=self._lib.long)

    def dropout(self, input, p=0.5, training=True, inplace=False):
        return self._masked(input, p, training, tuple(input.shape))

    def dropout2d(self, input, p=0.5, training=True, inplace=False):
        return self._masked(input, p, training, tuple(input.shape[:-2]) + (1, 1))

    def _masked(self, input, p, training, mask_shape):
        if not training or p == 0:
            return input
        keep = (self.rng.random(mask_shape) >= p) / (1 - p)
        return input * self._lib.tensor(keep, dtype=input.dtype)


def functional_modules(lib):
    """The modules whose `dropout` and `dropout2d` the library's layers and a program's `F.` call."""
    import importlib
    if lib.__name__ == "torch":
        return [importlib.import_module("torch.nn.functional")]
    return [importlib.import_module("tinygan.functional"), importlib.import_module("tinygan.nn.functional")]


def run_program(source, header, draws=None, **options):
    """The program's namespace after running `header` and then `source`; with `draws`, the program's `torch` is that
    SharedDraws. `options` set module-level hyperparameters, as a command line would."""
    namespace = {}
    exec(compile(header, "<header>", "exec"), namespace)
    if draws is not None:
        namespace["torch"] = draws
    exec(compile("import math\nimport numpy as np\n" + source, "<program>", "exec"), namespace)
    namespace.update(options)
    return namespace


# Each program: its text, how to build its model, the data, and how to run it. `run(namespace, model, data)`
# returns its losses (a flat list of numbers) and anything else to compare.

def _gan(train_name, n_batches, n_digits=64):
    def data(float64):
        images, labels = mnist_digits(n_digits)
        return images.astype(np.float64) if float64 else images, labels

    def run(namespace, model, data):
        return namespace[train_name](model, *data, n_batches), None
    return data, run


def _dcgan_data(float64):
    images, labels = mnist_digits(64, size=32)
    return images.astype(np.float64) if float64 else images, labels


def _vae_data(float64):
    images, labels = mnist_digits(48)
    images = (images + 1) / 2                            # ToTensor's [0, 1], as the VAE example reads them
    return images.astype(np.float64) if float64 else images, labels


def _vae_run(namespace, model, data):
    return namespace["train"](model, *data, 2), None


def _classifier_data(float64):
    images, labels = mnist_digits(96)
    return images.astype(np.float64) if float64 else images, labels


def _classifier_run(namespace, model, data):
    losses, results = namespace["main"](model, *data, namespace["epochs"])
    return losses + [value for result in results for value in result], None


def _lm_data(float64):
    return corpus(200, seed=1), corpus(40, seed=2)


def _lm_run(namespace, model, data):
    losses, generated = namespace["main"](model, *data, 2)
    return losses, generated


PROGRAMS = {
    "mlp_gan": (MLP_GAN, lambda ns: ns["build"](), *_gan("train", 4)),
    "dcgan": (DCGAN, lambda ns: ns["build"](), _dcgan_data, _gan("train", 4)[1]),
    "cgan": (CGAN, lambda ns: ns["build"](), *_gan("train", 4)),
    "wgan_gp": (WGAN, lambda ns: ns["build"](), *_gan("train_gp", 6)),
    "wgan_clip": (WGAN, lambda ns: ns["build"](), *_gan("train_clip", 6)),
    "vae": (VAE, lambda ns: ns["build"](), _vae_data, _vae_run),
    "vae_size_average": (VAE_SIZE_AVERAGE, lambda ns: ns["build"](), _vae_data, _vae_run),
    "mnist_classifier": (MNIST_CLASSIFIER, lambda ns: ns["build"](), _classifier_data, _classifier_run),
    "word_language_model": (WORD_LANGUAGE_MODEL, lambda ns: ns["build"](10), _lm_data, _lm_run),
    "ddpm": (DDPM, lambda ns: ns["build"](), _classifier_data, _gan("train", 6)[1]),
    "cyclegan_generator": (CYCLEGAN_GENERATOR, lambda ns: ns["build"](), _classifier_data, _gan("train", 4)[1]),
    "nanogpt": (NANOGPT, lambda ns: ns["build"](), _lm_data, lambda ns, model, data: ns["train"](model, *data, 16)),
    "nanogpt_masked": (NANOGPT.replace("flash = True", "flash = False"), lambda ns: ns["build"](), _lm_data,
                       lambda ns, model, data: ns["train"](model, *data, 16)),
}

# Which programs' training losses must fall: (which of the flat numbers are training losses, every how many).
FALLING = {"vae": slice(0, 6), "vae_size_average": slice(0, 6), "mnist_classifier": slice(0, 12),
           "word_language_model": slice(0, 16), "nanogpt": slice(0, 16), "nanogpt_masked": slice(0, 16)}


def flat(values):
    """Every number in a list of numbers and tuples of numbers, in order, as one float64 array."""
    return np.array([number for value in values for number in np.ravel(value)], dtype=np.float64)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_program_runs_on_tinygan_with_only_its_imports_changed(name):
    import tinygan
    source, build, data, run = PROGRAMS[name]
    tinygan.manual_seed(0)
    np.random.seed(0)
    namespace = run_program(source, TINYGAN_HEADER)
    model = build(namespace)
    values, extra = run(namespace, model, data(float64=False))
    values = flat(values)
    assert np.isfinite(values).all()
    if name in FALLING:
        losses = values[FALLING[name]]
        quarter = max(1, len(losses) // 4)
        assert losses[-quarter:].mean() < losses[:quarter].mean(), losses
    if name == "word_language_model":
        assert len(extra) == namespace["words"] and all(0 <= word < 10 for word in extra)
    if name == "wgan_clip":                                   # the clipped weights stay clipped
        assert values[-1] <= namespace["clip_value"] + 1e-7


def test_the_2018_vae_stops_at_its_in_place_add_with_tinygans_reason():
    import tinygan
    tinygan.manual_seed(0)
    namespace = run_program(VAE_2018, TINYGAN_HEADER)
    with pytest.raises(RuntimeError, match="add_: in-place operations on a tensor computed by a recorded graph"):
        _vae_run(namespace, namespace["build"](), _vae_data(float64=False))


@pytest.fixture
def float64_by_default():
    """float64 as both libraries' default float dtype while the programs run in float64, so that what they make
    in the default dtype (linspace, arange(n) * 0.5) is float64 too; restored afterwards."""
    torch = pytest.importorskip("torch")
    import tinygan
    before = [(lib, lib.get_default_dtype()) for lib in (torch, tinygan)]
    for lib, _ in before:
        lib.set_default_dtype(lib.float64)
    yield
    for lib, dtype in before:
        lib.set_default_dtype(dtype)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_program_gives_pytorchs_numbers_step_by_step(name, monkeypatch, float64_by_default):
    torch = pytest.importorskip("torch")
    import tinygan
    source, build, data, run = PROGRAMS[name]
    options = {"dropout": 0.0} if name == "word_language_model" else {}   # LSTM's inner dropout draws in C++
    results = {}
    torch.manual_seed(0)
    reference = None
    for lib_name, lib in (("torch", torch), ("tinygan", tinygan)):
        draws = SharedDraws(lib, seed=0)
        for module in functional_modules(lib):
            monkeypatch.setattr(module, "dropout", draws.dropout)
            monkeypatch.setattr(module, "dropout2d", draws.dropout2d)
        np.random.seed(0)
        namespace = run_program(source, HEADERS[lib_name], draws, **options)
        model = build(namespace).double()
        if reference is None:
            reference = {key: value.detach().numpy().copy() for key, value in model.state_dict().items()}
        else:
            model.load_state_dict(reference)
        values, extra = run(namespace, model, data(float64=True))
        results[lib_name] = flat(values), extra, draws.sampled_from
    (expected, their_extra, their_probabilities), (got, our_extra, our_probabilities) = results["torch"], results["tinygan"]
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    assert our_extra == their_extra
    sampled = {"word_language_model": namespace.get("words"), "nanogpt": 6, "nanogpt_masked": 6}.get(name, 0)
    assert len(our_probabilities) == len(their_probabilities) == sampled
    for ours, theirs in zip(our_probabilities, their_probabilities):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# What these programs needed that tinygan lacked: Tensor.add/sub/mul/div/neg methods and randint(high, size).

def test_the_arithmetic_methods_give_pytorchs_values_and_gradients():
    torch = pytest.importorskip("torch")
    import tinygan
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.uniform(0.5, 2.0, (4,))
    results = []
    for lib in (torch, tinygan):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = x.mul(y).add(y, alpha=-2.5).sub(x, alpha=0.5).div(y).neg().mul(3).div(2.0).sub(1).add(0.5)
        (out ** 2).sum().backward()
        results.append([t.detach().numpy() for t in (out, x.grad, y.grad)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_the_arithmetic_methods_differentiate_like_their_operators():
    import tinygan
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.uniform(0.5, 2.0, (4,))
    grads = []
    for methods in (True, False):
        x, y = tinygan.tensor(a, requires_grad=True), tinygan.tensor(b, requires_grad=True)
        if methods:
            out = x.mul(y).add(y, alpha=-2.5).sub(x, alpha=0.5).div(y).neg()
        else:
            out = -((x * y + y * -2.5 - x * 0.5) / y)
        (out ** 2).sum().backward()
        grads.append((out.numpy(), x.grad.numpy(), y.grad.numpy()))
    for ours, reference in zip(*grads):
        np.testing.assert_allclose(ours, reference, rtol=1e-12)
    with pytest.raises(ValueError, match="div: rounding_mode must be one of"):
        tinygan.ones(2).div(2, rounding_mode="round")


def test_randint_takes_pytorchs_high_and_size_form():
    import tinygan
    tinygan.manual_seed(0)
    draws = tinygan.randint(10, (2, 3))
    assert draws.shape == (2, 3) and draws.dtype == np.int64 and 0 <= int(draws.min()) and int(draws.max()) < 10
    assert tinygan.randint(3, 5, (4,)).shape == (4,) and set(tinygan.randint(3, 5, (50,)).tolist()) == {3, 4}
    assert tinygan.randint(7, size=(5,)).shape == (5,)
