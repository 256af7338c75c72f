"""The released SeAFusion: strict loading of the authors' file, parity with their forward pass, clear errors.

The parity reference below is written from the release's FusionNet with `F.conv2d` on the state-dict tensors
only, not with the module, so a naming or wiring mistake in the port cannot hide in both. Tests that read the
released file are marked realdata: like ivf-dev it lives in ../shared, and without it they fail saying where.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tsjnet.colour import to_tensor_y
from tsjnet.errors import DataError
from tsjnet.models.info import model_info
from tsjnet.models.registry import create_model
from tests.models.release import load_seafusion_release
from tsjnet.models.seafusion_release import ATTRIBUTION, DEFAULT_WEIGHTS, SeAFusionRelease

RELEASE = Path(__file__).resolve().parents[2] / DEFAULT_WEIGHTS
PAIRS = ("00556D", "00881N")  # one day, one night MSRS pair of ivf-dev (480 x 640)
CROP = (slice(120, 359), slice(160, 481))  # an odd-sized centre (239 x 321): a quarter of the time of a full pair

State = dict[str, torch.Tensor]


@pytest.fixture(scope="module")
def release_weights() -> Path:
    if not RELEASE.is_file():
        pytest.fail(f"this test needs the released SeAFusion weights at {RELEASE.resolve()} (see "
                    "../shared/peers/README.md), or deselect it with -m 'not realdata'", pytrace=False)
    return RELEASE


def reference_fuse(state: State, vis_y: torch.Tensor, ir: torch.Tensor) -> torch.Tensor:
    """The release's FusionNet.forward(vis_y, ir), conv by conv from the state dict."""

    def conv(x: torch.Tensor, key: str, groups: int = 1) -> torch.Tensor:
        weight = state[f"{key}.weight"]
        return F.conv2d(x, weight, state.get(f"{key}.bias"), padding=weight.shape[-1] // 2, groups=groups)

    def lrelu(x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, 0.2)

    def rgbd(x: torch.Tensor, block: str) -> torch.Tensor:
        dense = torch.cat([x, lrelu(conv(x, f"{block}.dense.conv1.conv"))], dim=1)
        dense = torch.cat([dense, lrelu(conv(dense, f"{block}.dense.conv2.conv"))], dim=1)
        sobel = (conv(x, f"{block}.sobelconv.convx", groups=x.shape[1]).abs()
                 + conv(x, f"{block}.sobelconv.convy", groups=x.shape[1]).abs())
        return F.leaky_relu(conv(dense, f"{block}.convdown.conv") + conv(sobel, f"{block}.convup.conv"), 0.1)

    def stream(x: torch.Tensor, prefix: str) -> torch.Tensor:
        return rgbd(rgbd(lrelu(conv(x, f"{prefix}_conv.conv")), f"{prefix}_rgbd1"), f"{prefix}_rgbd2")

    x = torch.cat([stream(vis_y, "vis"), stream(ir, "inf")], dim=1)
    for layer in ("decode4", "decode3", "decode2"):  # their `bn` is not applied in the release
        x = lrelu(conv(x, f"{layer}.conv"))
    return torch.tanh(conv(x, "decode1.conv")) / 2 + 0.5


def real_pairs(ivf_dev: Path) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """(IR, VIS Y = 0.299 R + 0.587 G + 0.114 B) of `PAIRS` cropped, (2, 1, H, W) in [0, 1], and the VIS RGB uint8."""
    root = ivf_dev / "MSRS" / "train"
    ir = np.stack([np.asarray(Image.open(root / "ir" / f"{stem}.png").convert("L"))[CROP] for stem in PAIRS])
    rgb = np.stack([np.asarray(Image.open(root / "vi" / f"{stem}.png").convert("RGB"))[CROP] for stem in PAIRS])
    vis_y = (rgb / 255.0) @ np.array([0.299, 0.587, 0.114])
    return torch.from_numpy(ir / 255.0).float()[:, None], torch.from_numpy(vis_y).float()[:, None], rgb


def random_state(tmp_path: Path) -> tuple[SeAFusionRelease, Path]:
    torch.manual_seed(0)
    model = SeAFusionRelease().eval()
    path = tmp_path / "release.pth"
    torch.save(model.state_dict(), path)
    return model, path


@pytest.mark.realdata
def test_release_loads_strictly_under_its_own_names(release_weights: Path) -> None:
    state = torch.load(release_weights, weights_only=True)
    model = load_seafusion_release(release_weights, "cpu")
    assert isinstance(model, SeAFusionRelease) and not model.training and model.attribution == ATTRIBUTION
    assert list(model.state_dict()) == list(state)
    assert all(torch.equal(model.state_dict()[key], value) for key, value in state.items())
    fresh = torch.nn.BatchNorm2d(1).state_dict()  # never trained: consistent with a forward that skips them
    assert all(torch.all(value == fresh[key.rsplit(".", 1)[1]]) for key, value in state.items() if ".bn." in key)


@pytest.mark.realdata
def test_parity_with_the_release_forward_on_real_pairs(ivf_dev: Path, release_weights: Path) -> None:
    ir, vis_y, rgb = real_pairs(ivf_dev)
    for image, y in zip(rgb, vis_y):  # the serving path (tsjnet.colour) feeds the network the release's Y
        torch.testing.assert_close(to_tensor_y(image), y, atol=1e-6, rtol=0)
    with torch.inference_mode():
        ours = load_seafusion_release(release_weights, "cpu").fuse(ir, vis_y)
        reference = reference_fuse(torch.load(release_weights, weights_only=True), vis_y, ir)
    assert ours.shape == (2, 1, 239, 321)
    # the same convolutions in the same order: equal to rounding; 1e-6 still sees the released bn applied in eval mode
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=0)
    assert 0.1 < ours.std() and ours.min() >= 0 and ours.max() <= 1  # an image, not a constant


def test_registered_with_the_releases_size_and_cost() -> None:
    assert isinstance(create_model("seafusion_release"), SeAFusionRelease)
    info = model_info("seafusion_release", 480, 640)
    assert info["params"] == 166_883 and abs(info["macs"] / 51e9 - 1) < 0.01


def test_batchnorm_is_stored_but_never_applied() -> None:
    torch.manual_seed(0)
    model = SeAFusionRelease().eval()
    ir, vi = torch.rand(2, 1, 1, 20, 28).unbind(0)
    with torch.no_grad():
        before = model.fuse(ir, vi)
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                for tensor in (module.weight, module.bias, module.running_mean, module.running_var):
                    tensor.uniform_(0.5, 2.0)
        stats = {key: value.clone() for key, value in model.state_dict().items() if ".bn." in key}
        assert torch.equal(model.fuse(ir, vi), before)
        assert torch.equal(model.train().fuse(ir, vi), before)  # a used bn would switch to batch statistics
    assert all(torch.equal(model.state_dict()[key], value) for key, value in stats.items())  # nor update them


def test_odd_size_keeps_the_size_and_the_unit_range() -> None:
    torch.manual_seed(0)
    ir, vi = torch.rand(2, 1, 1, 97, 131).unbind(0)
    with torch.no_grad():
        fused = SeAFusionRelease().eval().fuse(ir, vi)
    assert fused.shape == (1, 1, 97, 131) and fused.min() >= 0 and fused.max() <= 1


def test_loader_round_trip_and_tampered_state_dicts(tmp_path: Path) -> None:
    model, path = random_state(tmp_path)
    loaded = load_seafusion_release(path, "cpu")
    ir, vi = torch.rand(2, 1, 1, 16, 24).unbind(0)
    with torch.no_grad():
        assert torch.equal(loaded.fuse(ir, vi), model.fuse(ir, vi))
    state = model.state_dict()
    state["decode1.conv.kernel"] = state.pop("decode1.conv.weight")
    torch.save(state, path)
    with pytest.raises(DataError, match=r"(?s)release.pth: .*decode1\.conv\.weight.*decode1\.conv\.kernel"):
        load_seafusion_release(path, "cpu")
    torch.save([torch.zeros(1)], path)
    with pytest.raises(DataError, match="holds a list, not a state dict"):
        load_seafusion_release(path, "cpu")


def test_missing_file_names_the_path_and_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"absent\.pth for model 'seafusion_release' not found; get .*VIF-Benchmark"):
        load_seafusion_release(tmp_path / "absent.pth", "cpu")
