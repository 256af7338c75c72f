"""Data for fusion training: train/val loaders over the prepared root, sharded across ranks, and a digest of
every input file so a checkpoint trained on other data (or other task networks) is never resumed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import torch
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler

from tsjnet.data import open_dataset
from tsjnet.data.paired import PairDataset
from tsjnet.data.torch_dataset import FusionDataset, collate
from tsjnet.data.types import MODALITIES
from tsjnet.errors import DataError
from tsjnet.training.distributed import World

TRAIN_SPLIT, VAL_SPLIT = "train", "val"


def open_splits(root: str | Path) -> tuple[PairDataset, PairDataset]:
    """The train and val splits of an MSRS-layout root; an empty split is an error naming the stage to run."""
    splits = open_dataset("msrs", root, TRAIN_SPLIT), open_dataset("msrs", root, VAL_SPLIT)
    for name, split in zip((TRAIN_SPLIT, VAL_SPLIT), splits):
        if not split.records:
            raise DataError(f"{root}/{name} holds no image pairs; run the pseudolabel stage (dvc repro) first")
    return splits


def make_loader(pairs: PairDataset, *, batch_size: int, crop: tuple[int, int] | None, train: bool,
                world: World, seed: int, num_workers: int = 0, with_boxes: bool = True) -> DataLoader:
    """Shuffled random crops for training, whole images in order for validation; one shard per rank.

    Boxes of every modality are loaded only when the detection loss needs them.
    """
    dataset = FusionDataset(pairs, MODALITIES if with_boxes else (), crop_size=crop if train else None)
    if world.size > 1:
        sampler = DistributedSampler(dataset, world.size, world.rank, shuffle=train, seed=seed, drop_last=train)
    elif train:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    else:
        sampler = SequentialSampler(dataset)
    loader = DataLoader(dataset, batch_size=batch_size if train else 1, sampler=sampler, collate_fn=collate,
                        num_workers=num_workers, drop_last=train)
    if train and len(loader) == 0:
        raise DataError(f"{len(dataset)} training pairs on {world.size} process(es) are fewer than one batch of "
                        f"{batch_size}; lower train.batch_size in params.yaml or add data")
    return loader


def record_files(pairs: PairDataset) -> list[Path]:
    """Every file the pairs are read from (images, masks, box labels)."""
    files = []
    for record in pairs.records:
        files += [record.ir_path, record.vi_path, *filter(None, [record.mask_path]), *record.box_paths.values()]
    return files


def file_digest(paths: Iterable[str | Path]) -> str:
    """md5 over the contents of `paths` in the given order."""
    digest = hashlib.md5()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()
