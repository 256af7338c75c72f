"""One joint-training step (L_MFF + L_Det + L_Seg, backward, Adam step) of a TSJNet variant, with peak memory,
and one detector training step with our RoI pooling and RPN NMS against torchvision's.

The detector and segmenter are freshly built (random weights, frozen): a step costs the same whatever their
weights, and the benchmark then needs no pretrained checkpoints.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision.models.detection.rpn import RegionProposalNetwork
from torchvision.ops import MultiScaleRoIAlign

from tsjnet.bench.timing import median_seconds, peak_rss_mib
from tsjnet.config import Params
from tsjnet.losses.mff import mff_loss
from tsjnet.models.registry import create_model
from tsjnet.tasks.detector import boxes_to_target, build_detector
from tsjnet.tasks.losses import detection_loss, freeze, segmentation_loss
from tsjnet.tasks.nms import rebuild_rpn
from tsjnet.tasks.segmenter import build_segmenter


def train_step_benchmark(variant: str, params: Params, batch: int, height: int, width: int, device: torch.device,
                         repeats: int, model_kwargs: dict[str, object] | None = None) -> dict[str, object]:
    """Median seconds of one optimisation step on a (batch, 1, height, width) pair with one box per image, with the
    task networks and fusion loss weights of `params` (a profile's) and the model switches `model_kwargs`."""
    model = create_model(variant, **(model_kwargs or {})).to(device).train()
    det = freeze(build_detector(params.detector, (height, width))).to(device)
    seg = freeze(build_segmenter(params.segmenter)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    losses = params.loss.tsjnet
    ir, vi = torch.rand(2, batch, 1, height, width, device=device)
    box = np.array([[0, width * 0.25, height * 0.25, width * 0.6, height * 0.7]], dtype=np.float32)
    targets = [{k: v.to(device) for k, v in boxes_to_target(box, (height, width)).items()} for _ in range(batch)]
    mask = torch.randint(0, 9, (batch, height, width), device=device)
    use_amp = device.type == "cuda"

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, enabled=use_amp, dtype=torch.bfloat16):
            fused, ir_rec, vi_rec = model.fuse_and_reconstruct(ir, vi)
            terms = mff_loss(losses, ir=ir, vi=vi, fused=fused.fused, attention=fused.attn,
                             ir_recon=ir_rec.fused, vi_recon=vi_rec.fused)
            total = terms["total"] + detection_loss(det, fused.fused, targets) + segmentation_loss(seg, fused.fused, mask)
        total.float().backward()
        optimizer.step()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    seconds = median_seconds(step, device, repeats)
    result: dict[str, object] = {"model": variant, "device": device.type, "batch": batch, "size": f"{height}x{width}",
                                 "seconds_per_step": seconds, "pairs_per_second": batch / seconds,
                                 "peak_rss_mib": peak_rss_mib()}
    if device.type == "cuda":
        result["peak_cuda_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
    return result


#: Detector input sizes: SynthScenes' 192x256 (the CPU default) and the msrs profile's half-size 240x320.
DETECTOR_SIZES = ((192, 256), (240, 320))


def detector_step_benchmark(params: Params, repeats: int, batch: int = 4,
                            sizes: tuple[tuple[int, int], ...] = DETECTOR_SIZES) -> dict[str, object]:
    """Median seconds of one detector training step (`params.detector`, `batch` images with three boxes each)
    as `build_detector` makes it (RoI pooling `MatmulMultiScaleRoIAlign`, RPN `TopKRegionProposalNetwork`) and
    with torchvision's pooler and RPN: same weights, proposals and losses."""
    rows = []
    for height, width in sizes:
        row: dict[str, object] = {"size": f"{height}x{width}", "batch": batch}
        for ops in ("ours", "torchvision"):
            torch.manual_seed(0)
            model = build_detector(params.detector, (height, width)).train()
            if ops == "torchvision":  # the same levels, bins and samples; the same RPN settings
                ours = model.roi_heads.box_roi_pool
                model.roi_heads.box_roi_pool = MultiScaleRoIAlign(ours.featmap_names, ours.output_size,
                                                                  ours.sampling_ratio)
                model.rpn = rebuild_rpn(model.rpn, RegionProposalNetwork)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
            images = list(torch.rand(batch, 3, height, width))
            box = np.array([[0, 0.1, 0.2, 0.3, 0.6], [2, 0.4, 0.5, 0.8, 0.9], [1, 0.6, 0.1, 0.7, 0.4]], np.float32)
            box[:, 1:] *= [width, height, width, height]
            targets = [boxes_to_target(box, (height, width))] * batch

            def step() -> None:
                torch.manual_seed(1)  # the same proposal sampling both ways
                optimizer.zero_grad(set_to_none=True)
                sum(model(images, targets).values()).backward()
                optimizer.step()

            row[f"{ops}_s"] = median_seconds(step, torch.device("cpu"), repeats)
        row["speedup"] = row["torchvision_s"] / row["ours_s"]
        rows.append(row)
    return {"rows": rows}
