"""A tiny `pretrain_fusion:` configuration on SynthScenes pairs, for the shipped-model and bench tests."""

from pathlib import Path

from tests.params import make_params, section
from tests.training.fusion_env import SIZE
from tsjnet.config import Params
from tsjnet.data.synthscenes import write_synthscenes


def _names(root: Path, split: str, stem: str) -> str:
    names = sorted(p.stem for p in (root / split / "ir").glob("*.png"))
    (root / "splits").mkdir(exist_ok=True)
    (root / "splits" / f"{stem}.txt").write_text("\n".join(names) + "\n")
    return f"splits/{stem}.txt"


def shipped_params(tmp_path: Path, **override: object) -> Params:
    data = tmp_path / "synth"
    write_synthscenes(data, section("data.synth", n_train=4, n_val=2, n_test=2, height=SIZE, width=SIZE),
                      progress=False)
    pairs = {role: {"root": str(data), "names": _names(data, split, role)}
             for role, split in (("train", "train"), ("val", "val"), ("test", "test"))}
    out = tmp_path / "shipped"
    settings = {"model": "tsjnet_tiny", "epochs": 1, "crop": [SIZE, SIZE], "log_images_every": 0,
                **{f"{role}_pairs": value for role, value in pairs.items()},
                "references": [{"name": "average", "model": "classical_average"},
                               {"name": "gone", "model": "seafusion_release", "optional": True,
                                "weights": str(tmp_path / "absent.pth")}],
                "checkpoint": str(tmp_path / "ckpt.pt"), "out": str(out / "model.pt"),
                "metrics": str(out / "model.json"), "card": str(out / "README.md")} | override
    return make_params({"pretrain_fusion": settings})
