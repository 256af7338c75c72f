import pytest
import torch
from torch.utils.data import DataLoader

from tests.tasks.samples import OBJECTS, MemoryPairs, make_sample
from tsjnet.data.types import IGNORE_INDEX
from tsjnet.tasks.inputs import sample_image
from tsjnet.training.task_data import TaskImages, collate_detection


def test_masks_keep_integer_class_ids_through_the_pipeline() -> None:
    pairs = MemoryPairs([make_sample("a"), make_sample("b", seed=1)])
    dataset = TaskImages(pairs, ("infrared", "visible"), "segmentation", hflip=True)
    images, masks = next(iter(DataLoader(dataset, batch_size=4)))
    assert images.shape == (4, 3, 64, 64) and images.dtype == torch.float32 and images.max() <= 1
    assert masks.dtype == torch.int64
    assert set(masks.unique().tolist()) == set(range(9)) | {255}  # classes 1..8 survive, nothing scaled by 1/255


def test_detection_items_use_each_modalitys_boxes_and_flip_with_the_image() -> None:
    dataset = TaskImages(MemoryPairs([make_sample()]), ("infrared", "visible"), "detection", hflip=True)
    assert len(dataset) == 2
    torch.manual_seed(0)
    seen_flipped = seen_plain = False
    for _ in range(12):
        images, targets = collate_detection([dataset[0]])
        image, boxes = images[0], targets[0]["boxes"]
        assert targets[0]["labels"].tolist() == [1, 3]
        x1, y1, x2, y2 = boxes[0].int().tolist()
        assert image[0, y1:y2, x1:x2].min() > 0.85  # the bright IR object sits inside its box either way
        flipped = not torch.equal(boxes, torch.from_numpy(OBJECTS[:, 1:]))
        seen_flipped, seen_plain = seen_flipped or flipped, seen_plain or not flipped
    assert seen_flipped and seen_plain
    assert collate_detection([dataset[1]])[1][0]["labels"].tolist() == [3]


def test_blend_items_are_fresh_in_training_and_fixed_in_evaluation() -> None:
    pairs = MemoryPairs([make_sample("a"), make_sample("b", seed=1)])
    evaluation = TaskImages(pairs, ("blend",), "detection")
    assert torch.equal(evaluation[1][0], evaluation[1][0])
    assert evaluation[1][1]["labels"].tolist() == [1, 3]  # the fusion boxes
    training = TaskImages(pairs, ("blend",), "detection", train=True)
    torch.manual_seed(0)
    assert len({training[0][0].sum().item() for _ in range(12)}) > 1  # a new rule / weight each time


def test_a_mixed_detector_draws_each_training_image_with_its_own_boxes() -> None:
    pairs = MemoryPairs([make_sample("a")])
    sample = pairs.load(pairs.records[0])
    kinds = {"infrared": (sample_image(sample, "infrared"), [1, 3]), "visible": (sample_image(sample, "visible"), [3])}
    mixed = TaskImages(pairs, ("blend",), "detection", train=True, mix=("infrared", "visible"))
    assert len(mixed) == 1  # steps per epoch are those of one kind
    torch.manual_seed(0)
    drawn = []
    for _ in range(20):
        image, target = mixed[0]
        kind = next(kind for kind, (expected, _) in kinds.items() if torch.equal(image, expected))
        assert target["labels"].tolist() == kinds[kind][1]
        drawn.append(kind)
    assert set(drawn) == set(kinds)
    with pytest.raises(ValueError, match="for training"):
        TaskImages(pairs, ("blend",), "detection", mix=("infrared",))


def test_segmentation_crops_cut_image_and_mask_together_and_pad_with_ignore() -> None:
    pairs = MemoryPairs([make_sample("a")])
    height, width = pairs.load(pairs.records[0]).mask.shape
    full_image, full_mask = TaskImages(pairs, ["visible"], "segmentation")[0]
    torch.manual_seed(0)
    image, mask = TaskImages(pairs, ["visible"], "segmentation", train=True, crop=(height // 2, width // 2))[0]
    assert image.shape[-2:] == mask.shape == (height // 2, width // 2)
    hits = [(top, left) for top in range(height - height // 2 + 1) for left in range(width - width // 2 + 1)
            if torch.equal(full_mask[top:top + height // 2, left:left + width // 2], mask)
            and torch.equal(full_image[:, top:top + height // 2, left:left + width // 2], image)]
    assert hits, "the crop is not one window of both the image and its mask"
    _, padded = TaskImages(pairs, ["visible"], "segmentation", train=True, crop=(height + 4, width))[0]
    assert padded.shape == (height + 4, width)
    assert (padded == IGNORE_INDEX).sum() == 4 * width + (full_mask == IGNORE_INDEX).sum()  # the padding is ignored
    with pytest.raises(ValueError, match="random crops are for segmentation"):
        TaskImages(pairs, ["visible"], "detection", crop=(8, 8))
