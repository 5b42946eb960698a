"""The U-Net: its shapes with and without skip connections, its bad-input error, and its forward pass
against PyTorch's same layers with the same weights."""
import numpy as np
import pytest

import tinygan
from tinygan import models


@pytest.mark.parametrize("skips", [True, False])
@pytest.mark.parametrize("size,in_channels,out_channels", [(64, 1, 11), (28, 2, 1)])
def test_unet_keeps_the_image_size(skips, size, in_channels, out_channels):
    net = models.UNet(in_channels, out_channels, skips=skips)
    x = tinygan.tensor(np.random.default_rng(0).random((2, in_channels, size, size), dtype=np.float32))
    assert net(x).shape == (2, out_channels, size, size)


def test_unet_without_skips_has_narrower_decoder_inputs():
    with_skips, without = models.UNet(skips=True), models.UNet(skips=False)
    assert with_skips.dec2[0].weight.shape == (32, 64, 3, 3)
    assert without.dec2[0].weight.shape == (32, 32, 3, 3)


def test_unet_tanh_output_is_on_minus_one_to_one():
    net = models.UNet(1, 1, output="tanh")
    x = tinygan.tensor(np.random.default_rng(1).normal(size=(2, 1, 28, 28)).astype(np.float32) * 10)
    out = net(x).numpy()
    assert out.min() >= -1 and out.max() <= 1


def test_unet_names_a_size_it_cannot_halve_twice():
    with pytest.raises(ValueError, match=r"UNet.*divisible by 4.*\(1, 1, 30, 30\)"):
        models.UNet()(tinygan.zeros((1, 1, 30, 30)))


def test_unet_matches_pytorch_layers_with_the_same_weights():
    torch = pytest.importorskip("torch")
    from benchmarks.twins.unet import UNet as TorchUNet

    ours, theirs = models.UNet().double(), TorchUNet().double()
    theirs.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(2).random((2, 1, 16, 16))
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(tinygan.tensor(x)).numpy(), expected, rtol=1e-9, atol=1e-9)
