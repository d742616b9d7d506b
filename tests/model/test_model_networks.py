import pytest
import torch

from turbosim_hep.model.networks import StochasticMLP

torch.set_num_threads(1)


@pytest.fixture(params=[False, True], ids=["input-noise", "layer-noise"])
def decoder(request):
    torch.manual_seed(0)
    return StochasticMLP(24, 24, hidden=(64, 128, 256), layer_noise=request.param)


def test_noise_dim_counts_input_and_hidden_noise():
    assert StochasticMLP(24, 24, hidden=(64, 128, 256)).noise_dim == 24
    assert StochasticMLP(24, 24, hidden=(64, 128, 256), layer_noise=True).noise_dim == 24 + 64 + 128 + 256


def test_paper_sized_networks_have_about_49k_parameters():
    n_enc = sum(p.numel() for p in StochasticMLP(24, 24, hidden=(256, 128, 64)).parameters())
    n_dec = sum(p.numel() for p in StochasticMLP(24, 24, hidden=(64, 128, 256)).parameters())
    assert n_enc == n_dec == 24 * 256 + 256 + 256 * 128 + 128 + 128 * 64 + 64 + 64 * 24 + 24
    assert 45_000 < n_enc < 52_000


def test_explicit_noise_gives_deterministic_output(decoder):
    z = torch.randn(50, 24)
    noise = torch.randn(50, decoder.noise_dim)
    assert torch.equal(decoder(z, noise), decoder(z, noise.clone()))
    assert not torch.equal(decoder(z, noise), decoder(z, torch.randn(50, decoder.noise_dim)))


def test_input_noise_is_added_out_of_place_with_scale_0_05():
    net = StochasticMLP(24, 24, hidden=(16,))
    z = torch.randn(20, 24)
    before = z.clone()
    noise = torch.randn(20, 24)
    out = net(z, noise)
    assert torch.equal(z, before)
    assert torch.allclose(out, net(z + 0.05 * noise, torch.zeros(20, 24)), atol=1e-6)


def test_without_noise_argument_the_output_is_random(decoder):
    z = torch.randn(10, 24)
    assert not torch.equal(decoder(z), decoder(z))


def test_layer_noise_scales_are_learned_and_receive_gradients():
    net = StochasticMLP(24, 24, hidden=(8, 8), layer_noise=True)
    scales = [p for n, p in net.named_parameters() if n.endswith("scale")]
    assert len(scales) == 2
    net(torch.randn(5, 24), torch.randn(5, net.noise_dim)).square().sum().backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in scales)


def test_decoder_exports_with_torch_export_for_any_batch_size(decoder):
    decoder.eval()
    z, noise = torch.randn(7, 24), torch.randn(7, decoder.noise_dim)
    batch = torch.export.Dim("batch")
    exported = torch.export.export(decoder, (z, noise), dynamic_shapes=({0: batch}, {0: batch})).module()
    z2, noise2 = torch.randn(13, 24), torch.randn(13, decoder.noise_dim)
    assert torch.allclose(exported(z2, noise2), decoder(z2, noise2), atol=1e-6)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_decoder_compiles_with_torchscript(decoder):
    z, noise = torch.randn(7, 24), torch.randn(7, decoder.noise_dim)
    scripted = torch.jit.script(decoder)
    assert torch.allclose(scripted(z, noise), decoder(z, noise), atol=1e-6)
