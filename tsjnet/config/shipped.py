"""Params of the shipped real-data model (`shipped:`): where it lives, the real pairs it is judged on, references.

The model itself is trained by the pipeline under the `msrs` profile, whose data splits are these pairs
(conf/profile/msrs.yaml interpolates them), and `tsjnet ship` copies it here with its model card. The default run
fine-tunes from it (`train.init_from`) and `tsjnet bench` scores it on `val_pairs`/`test_pairs`.
"""

from __future__ import annotations

from tsjnet.config.base import Section
from tsjnet.config.data import PairSource
from tsjnet.config.evaluate import MethodSpec


class ShippedParams(Section):
    """`shipped:` the committed model, its card, the real pairs of each split and the reference methods."""

    train_pairs: PairSource
    val_pairs: PairSource
    test_pairs: PairSource
    references: list[MethodSpec]
    out: str  # the committed checkpoint
    metrics: str  # the card as JSON (every figure the Markdown card shows)
    card: str  # the Markdown model card, rendered from `metrics`
    evaluation: str  # the real run's evaluation report, copied beside the card
