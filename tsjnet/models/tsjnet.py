"""TSJNet: target- and semantic-aware joint-driven IR/VIS fusion network (encoder, LSM branches, decoder).

Data flow (paper Eq. 5; reference code ``net.py`` / ``TSJNet_train.py``):

* one shared encoder E (3x3 patch embedding, ResNeSt deep stem and split-attention bottlenecks, all at full
  resolution, then 3x3 convs down to ``dim``) maps each source to a feature map;
* the local significant-feature module (LSM) has two parallel branches on that feature: NAT (neighbourhood
  attention transformer, global/base content) and DSM (detail salience). For source n: I_n = NAT(E(I)),
  I_d = DSM(E(I));
* fusion: F_n = NAT_f(I_n + V_n), F_d = DSM_f(I_d + V_d), with NAT_f / DSM_f SEPARATE instances (the reference's
  ``BaseFuseLayer`` / ``DetailFuseLayer``), distinct from the encoder-side branches;
* one decoder D (shared by the fused pass and both single-source reconstruction passes): concat, 8-head spatial
  attention (its maps feed the diversity loss), 1x1 reduction, ResNeSt trunk, two 3x3 convs, sigmoid.
* optionally (``blend_residual``, off in the paper's setting) the decoder's last conv draws a per-pixel IR/VIS
  weight and a bounded residual instead of the image, blending the whole images or only their Laplacian bases
  (``blend_levels``; `Decoder`).

Deviations from the reference code, each deliberate:

* the split-attention unit is timm's ``SplitAttn`` (via ``ResNestBottleneck``): the reference puts BN + ReLU after
  the second attention FC, which zeroes every negative logit before the radix softmax (a bug: attention can then
  only favour, never disfavour, a split); timm feeds the raw logits to the softmax;
* the first bottleneck's projection shortcut is 1x1 conv + BN (standard ResNet); the reference puts a stride-1
  3x3 max-pool in front of it, which only blurs the identity path;
* the bottleneck 1x1 convs carry no bias (each is followed by BN, which makes a bias redundant);
* convolutions start from He (Kaiming) initialisation, as timm's ResNets do, instead of PyTorch's default, which
  shrinks activations layer after layer: through this deep full-resolution stack (several convs without BN) a
  fresh network's output then barely depends on its input;
* both sources (and, in `fuse_and_reconstruct`, all three decoder inputs) go through the shared weights as one
  batch: same weights and maths as the reference's separate calls, faster, and train-mode batch-norm statistics
  cover both modalities together (so train and eval behaviour agree better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from timm.models.resnest import ResNestBottleneck
from torch import nn

from tsjnet.models.classical import laplacian_bands, laplacian_detail
from tsjnet.models.dsm import DSMBranch
from tsjnet.models.fusion import FusionModel, check_pair
from tsjnet.models.registry import register_model

@dataclass
class TSJNetOutput:
    """One decoder pass: the image (B, 1, H, W) in [0, 1] and the spatial-attention maps (B, heads, H, W).

    For `TSJNet.reconstruct` the image is the reconstructed source; the field keeps one name for every pass.
    """

    fused: torch.Tensor
    attn: torch.Tensor

    def crop(self, height: int, width: int) -> TSJNetOutput:
        """Drop the padding added before the network."""
        return TSJNetOutput(self.fused[..., :height, :width], self.attn[..., :height, :width])


@dataclass(frozen=True)
class TSJNetConfig:
    """Widths of every stage; the defaults are the published network (``tsjnet_paper``).

    ``stem_chs`` and ``planes`` describe both ResNeSt trunks (encoder and decoder), as in the reference; a trunk
    outputs ``4 * planes`` channels. ``enc_chs`` are the 3x3 convs between the encoder trunk and ``dim``.
    """

    dim: int = 64
    embed_chs: int = 3
    stem_chs: tuple[int, int, int] = (64, 64, 128)
    planes: int = 128
    depth: int = 2
    radix: int = 2
    enc_chs: tuple[int, ...] = (256, 128)
    dec_dim: int = 32
    dec_hidden: int = 256
    heads: int = 8
    dsm_dropout: float = 0.1
    dsm_reduction: int = 2
    use_dsm: bool = True  # False (ablation): both DSM branches become identity, the detail path goes unprocessed
    nat_kwargs: dict[str, Any] = field(default_factory=dict)
    # NAT's relative position bias; off, the NAT layers run natten's fused kernels on CUDA (tsjnet.models.nat)
    nat_rel_pos_bias: bool = True
    # None: the decoder draws the fused image (the paper). A number s: the decoder draws a per-pixel weight w and a
    # residual r instead, and the image is w IR + (1 - w) VIS + s tanh(r) (see `Decoder`)
    blend_residual: float | None = None
    # With blend_residual: 0 blends the whole images; n > 0 blends only their Laplacian bases (n levels down) and
    # takes the finer levels by the larger magnitude, so an untrained network is the Laplacian rule (see `Decoder`)
    blend_levels: int = 0
    # With blend_residual: the weight's logit is the decoder's plus blend_prior * (a - b), so an untrained network
    # already leans to the brighter source (0: the average; large: the max rule; see `Decoder`)
    blend_prior: float = 0.0
    # With blend_levels n: None takes the finer levels by the larger magnitude and blends only the bases; a number
    # k blends the whole images and moves the blend's n finer levels a fraction k of the way to the larger-magnitude
    # coefficients (k = 1: the blend's base plus those coefficients; see `Decoder`)
    blend_detail: float | None = None


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad bottom/right up to a multiple of `multiple` by mirroring, never resizing (resampling blurs detail).

    Mirroring is reflect padding (no edge repeat) continued as often as needed, which is the periodic
    reflection of each axis (period 2 * (side - 1)); a side of one pixel has nothing to mirror and is
    replicated. Written as one index gather per axis, without shape-dependent Python branches, so an exported
    graph (tsjnet.export) pads any height and width exactly as eager PyTorch does.
    """
    for dim in (-2, -1):
        x = x.index_select(dim, mirror_index(x.shape[dim], multiple, x.device))
    return x


def mirror_index(length: int, multiple: int, device: torch.device) -> torch.Tensor:
    """Source positions of an axis of `length` mirrored up to the next multiple of `multiple`."""
    # floor division of non-negative sizes only: ONNX's integer Div truncates, so a negative one would be wrong there
    position = torch.arange((length + multiple - 1) // multiple * multiple, device=device)
    last = position[length - 1 : length]  # length - 1 as a tensor: the graph keeps it symbolic
    period = last.clamp(min=1)
    index = period - (position % (2 * period) - period).abs()
    return torch.minimum(index, last)


def init_conv(module: nn.Module) -> None:
    """He initialisation (fan-in, ReLU gain) keeps activation variance through the stack; biases start at 0."""
    if isinstance(module, nn.Conv2d):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def prepare(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad for the NAT branch and switch to channels-last memory (no change to the maths).

    Channels-last keeps each pixel's channel vector contiguous: on CPU, oneDNN then runs narrow full-resolution
    convolutions without reordering (1x1 convs up to 5x faster); tsjnet_lite at 480x640 took about 25% less time.
    """
    return pad_to_multiple(x, multiple).contiguous(memory_format=torch.channels_last)


class ResNeStTrunk(nn.Sequential):
    """ResNeSt deep stem (three stride-1 3x3 conv-BN-ReLU) + split-attention bottlenecks, all at full resolution.

    Stride 1 throughout because fusion needs pixel-exact features; outputs ``4 * planes`` channels.
    """

    def __init__(self, in_chs: int, stem_chs: tuple[int, int, int], planes: int, depth: int, radix: int) -> None:
        layers: list[nn.Module] = []
        for chs in stem_chs:
            layers += [nn.Conv2d(in_chs, chs, 3, padding=1, bias=False), nn.BatchNorm2d(chs), nn.ReLU(inplace=True)]
            in_chs = chs
        out_chs = planes * ResNestBottleneck.expansion
        for _ in range(depth):
            shortcut = None
            if in_chs != out_chs:
                shortcut = nn.Sequential(nn.Conv2d(in_chs, out_chs, 1, bias=False), nn.BatchNorm2d(out_chs))
            layers.append(ResNestBottleneck(in_chs, planes, downsample=shortcut, radix=radix))
            in_chs = out_chs
        super().__init__(*layers)
        self.out_chs = out_chs


def conv_relu6(in_chs: int, out_chs: int) -> nn.Sequential:
    """3x3 conv + ReLU6, the reference's channel-reduction unit after the encoder trunk."""
    return nn.Sequential(nn.Conv2d(in_chs, out_chs, 3, padding=1), nn.ReLU6(inplace=True))


class Encoder(nn.Sequential):
    """Shared encoder: (B, 1, H, W) -> (B, dim, H, W) with one set of weights for IR and VIS."""

    def __init__(self, cfg: TSJNetConfig) -> None:
        trunk = ResNeStTrunk(cfg.embed_chs, cfg.stem_chs, cfg.planes, cfg.depth, cfg.radix)
        widths = (trunk.out_chs, *cfg.enc_chs, cfg.dim)
        reduce = [conv_relu6(a, b) for a, b in zip(widths[:-1], widths[1:])]
        super().__init__(nn.Conv2d(1, cfg.embed_chs, 3, padding=1, bias=False), trunk, *reduce)


class HeadSpatialAttention(nn.Module):
    """Multi-head spatial attention: each of `heads` channel groups gets its own sigmoid map from a 1x1 conv.

    The maps are returned too: the diversity loss pushes each pixel to be claimed by some head.
    One grouped conv computes all heads at once (same maths as the reference's per-head convs), and each map
    scales its group through a broadcast view, never a repeated copy of the maps.
    """

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"spatial attention: {channels} channels do not split into {heads} heads")
        self.heads = heads
        self.score = nn.Conv2d(channels, heads, 1, groups=heads)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attn = torch.sigmoid(self.score(x))
        return (x.unflatten(1, (self.heads, -1)) * attn.unsqueeze(2)).flatten(1, 2), attn


class Decoder(nn.Module):
    """Shared decoder: (base, detail) features and the sources they came from -> image in [0, 1], attention maps.

    The paper's decoder draws the image itself (sigmoid output). With ``blend_residual = s`` it draws two maps
    instead, a weight logit and a residual, and the image is ``w a + (1 - w) b + s tanh(r)`` clamped to [0, 1],
    where (a, b) are the sources (IR, VIS for the fused pass; the source twice for a reconstruction, which is then
    that source plus the residual). Both maps start at 0, so an untrained network is the average rule, and every
    pixel the network learns is a choice between the sources' own pixels plus a bounded detail correction: a small
    network trained for minutes keeps the sources' contrast and edges instead of redrawing them. With
    ``blend_levels = n`` the weight mixes only the sources' Laplacian bases (n levels down) and the finer levels
    keep the larger-magnitude coefficient of the two, so the untrained network is the Laplacian rule and the
    weight decides brightness, not which source's edges survive. With ``blend_detail = k`` the weight blends the
    whole images instead, ``m = w a + (1 - w) b``, and the image is ``m + k (d - d_m)``, where d are the sources'
    larger-magnitude coefficients and d_m the blend's own finer levels: the blend keeps its own pixels and takes a
    fraction k of the detail it lacks. ``blend_prior = g`` adds ``g (a - b)`` to the weight's logit, so the
    untrained network starts from a soft max rule instead of the average. Measured on ivf-dev dev_val (tsjnet_lite
    from scratch, 600 steps of L_MFF on ivf-train MSRS crops; conf/profile/msrs.yaml, README 'Real data'). The
    weight is a sigmoid: trained far enough to one side it saturates and stops learning there.
    """

    def __init__(self, cfg: TSJNetConfig) -> None:
        super().__init__()
        self.attn = HeadSpatialAttention(2 * cfg.dim, cfg.heads)
        self.reduce = nn.Conv2d(2 * cfg.dim, cfg.dec_dim, 1, bias=False)
        self.trunk = ResNeStTrunk(cfg.dec_dim, cfg.stem_chs, cfg.planes, cfg.depth, cfg.radix)
        self.blend_residual = cfg.blend_residual
        self.blend_levels = cfg.blend_levels
        self.blend_prior = cfg.blend_prior
        self.blend_detail = cfg.blend_detail
        blend = cfg.blend_residual is not None
        self.head = nn.Sequential(
            nn.Conv2d(self.trunk.out_chs, cfg.dec_hidden, 3, padding=1, bias=False),
            nn.LeakyReLU(inplace=True),
            nn.Conv2d(cfg.dec_hidden, 2 if blend else 1, 3, padding=1, bias=blend),
            nn.Identity() if blend else nn.Sigmoid(),
        )

    def init_weights(self) -> None:
        """He initialisation; a blend head starts at 0 (w = 1/2, r = 0: the average rule)."""
        self.apply(init_conv)
        if self.blend_residual is not None:
            nn.init.zeros_(self.head[2].weight)

    def forward(self, base: torch.Tensor, detail: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> TSJNetOutput:
        """(base, detail) features of padded sources (a, b) -> image and attention maps at the padded size."""
        x, attn = self.attn(torch.cat([base, detail], dim=1))
        out = self.head(self.trunk(self.reduce(x)))
        if self.blend_residual is None:
            return TSJNetOutput(out, attn)
        weight, residual = torch.sigmoid(out[:, :1] + self.blend_prior * (a - b)), torch.tanh(out[:, 1:])
        if self.blend_detail is not None:
            blend = weight * a + (1 - weight) * b
            detail = laplacian_bands(a, b, self.blend_levels, min_side=0)[2]  # sides: multiples of 2^(levels+1)
            fused = blend + self.blend_detail * (detail - laplacian_detail(blend, self.blend_levels, min_side=0))
            return TSJNetOutput((fused + self.blend_residual * residual).clamp(0, 1), attn)
        detail = 0.0
        if self.blend_levels:
            a, b, detail = laplacian_bands(a, b, self.blend_levels, min_side=0)  # sides: multiples of 2^(levels+1)
        fused = weight * a + (1 - weight) * b + detail + self.blend_residual * residual
        return TSJNetOutput(fused.clamp(0, 1), attn)


class TSJNet(FusionModel):
    """TSJNet fusion network; any input size (mirror-padded inside to a multiple of the NAT stride, cropped back)."""

    channels_last = True  # see `prepare`

    def __init__(self, cfg: TSJNetConfig | None = None) -> None:
        # Imported here so this module (and the registry) load even where the NAT module cannot be imported.
        from tsjnet.models.nat import NATBranch

        super().__init__()
        cfg = cfg or TSJNetConfig()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.nat = NATBranch(cfg.dim, rel_pos_bias=cfg.nat_rel_pos_bias, **cfg.nat_kwargs)
        self.dsm = self._dsm_branch(cfg)
        self.fuse_nat = NATBranch(cfg.dim, rel_pos_bias=cfg.nat_rel_pos_bias, **cfg.nat_kwargs)
        self.fuse_dsm = self._dsm_branch(cfg)
        self.decoder = Decoder(cfg)
        #: inputs are padded to this: the NAT branch downsamples by it (32 for NAT-Mini); DSM needs even sizes
        self.pad_multiple: int = self.nat.stride
        if cfg.blend_levels and self.pad_multiple % 2 ** (cfg.blend_levels + 1):
            raise ValueError(f"blend_levels={cfg.blend_levels} needs inputs padded to a multiple of "
                             f"{2 ** (cfg.blend_levels + 1)} (each Laplacian level halves them, down to 4 px); this "
                             f"network pads to {self.pad_multiple}: use at most {self.pad_multiple.bit_length() - 2}")
        if cfg.blend_detail is not None and not cfg.blend_levels:
            raise ValueError("blend_detail moves the blend's finer Laplacian levels: set blend_levels >= 1")
        for module in (self.encoder, self.dsm, self.fuse_dsm):
            module.apply(init_conv)
        self.decoder.init_weights()

    @staticmethod
    def _dsm_branch(cfg: TSJNetConfig) -> nn.Module:
        """A DSM branch, or identity for the no-DSM ablation (the decoder still gets a detail input)."""
        return DSMBranch(cfg.dim, cfg.dsm_dropout, cfg.dsm_reduction) if cfg.use_dsm else nn.Identity()

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded sources -> (base, detail) features through the encoder-side LSM branches."""
        feat = self.encoder(x)
        return self.nat(feat), self.dsm(feat)

    def _fuse_features(self, base: torch.Tensor, detail: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoded [IR; VIS] batch -> fused (base, detail) features (paper Eq. 5)."""
        base_ir, base_vi = base.chunk(2)
        detail_ir, detail_vi = detail.chunk(2)
        return self.fuse_nat(base_ir + base_vi), self.fuse_dsm(detail_ir + detail_vi)

    def forward(self, ir: torch.Tensor, vi: torch.Tensor) -> TSJNetOutput:  # type: ignore[override]
        """Fuse a pair: (B, 1, H, W) IR and VIS luminance in [0, 1] -> fused image and attention maps."""
        check_pair(ir, vi)
        height, width = ir.shape[-2:]
        sources = prepare(torch.cat([ir, vi]), self.pad_multiple)
        base, detail = self._encode(sources)
        return self.decoder(*self._fuse_features(base, detail), *sources.chunk(2)).crop(height, width)

    def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
        return self.forward(ir, vi).fused

    def reconstruct(self, x: torch.Tensor) -> TSJNetOutput:
        """One source through encoder, its LSM branches and the decoder (for the reconstruction losses)."""
        check_pair(x, x)
        height, width = x.shape[-2:]
        source = prepare(x, self.pad_multiple)
        return self.decoder(*self._encode(source), source, source).crop(height, width)

    def fuse_and_reconstruct(self, ir: torch.Tensor, vi: torch.Tensor) -> tuple[TSJNetOutput, TSJNetOutput, TSJNetOutput]:
        """The training step's three decoder passes (fused, IR reconstruction, VIS reconstruction).

        Same results as `forward` + two `reconstruct` calls, but each source is encoded once (as the reference
        training loop does) and the decoder runs once on the stacked batch.
        """
        check_pair(ir, vi)
        height, width = ir.shape[-2:]
        sources = prepare(torch.cat([ir, vi]), self.pad_multiple)
        base, detail = self._encode(sources)
        fused_base, fused_detail = self._fuse_features(base, detail)
        ir_pad, vi_pad = sources.chunk(2)
        # blend sources of the three passes: (IR, VIS) for the fused image, each source twice for its reconstruction
        a, b = torch.cat([ir_pad, sources]), torch.cat([vi_pad, sources])
        out = self.decoder(torch.cat([fused_base, base]), torch.cat([fused_detail, detail]), a, b).crop(height, width)
        images, maps = out.fused.chunk(3), out.attn.chunk(3)
        fused, ir_rec, vi_rec = (TSJNetOutput(image, attn) for image, attn in zip(images, maps))
        return fused, ir_rec, vi_rec


@register_model
def tsjnet_paper(**overrides: Any) -> TSJNet:
    """The published widths: 45.11 M parameters (paper: 45.1 M), 2.13 TMAC per fused 480x640 pair; GPU training."""
    return TSJNet(TSJNetConfig(**overrides))


@register_model
def tsjnet_lite(**overrides: Any) -> TSJNet:
    """Same topology, narrow widths: the CPU default, trainable in minutes (0.72 M parameters, 8.2 GMAC per fused
    480x640 pair, about 1.2 CPU-seconds single-threaded; most of it in the full-resolution convolutions)."""
    widths: dict[str, Any] = dict(
        dim=8,
        embed_chs=3,
        stem_chs=(8, 8, 16),
        planes=4,
        enc_chs=(16,),
        dec_dim=8,
        dec_hidden=8,
        nat_kwargs=dict(embed_dim=16, depths=(1, 1, 2, 1), num_heads=(1, 2, 4, 8), mlp_ratio=2.0, drop_path_rate=0.1),
    )
    return TSJNet(TSJNetConfig(**(widths | overrides)))


@register_model
def tsjnet_lite_detail(**overrides: Any) -> TSJNet:
    """`tsjnet_lite` whose decoder starts from a soft max rule with half the missing detail (the `msrs` profile's,
    shipped): the weight blends the whole images from ``sigmoid(30 (IR - VIS))`` and the blend takes half the way
    to the sources' larger Laplacian coefficients, 4 levels down (`Decoder`; chosen on dev_val, README 'Real data')."""
    return tsjnet_lite(**(dict(blend_residual=0.25, blend_levels=4, blend_prior=30.0, blend_detail=0.5) | overrides))


@register_model
def tsjnet_tiny(**overrides: Any) -> TSJNet:
    """A very small instance for tests: every code path (0.14 M parameters, nearly all in the two NAT branches)."""
    widths: dict[str, Any] = dict(
        dim=4,
        embed_chs=2,
        stem_chs=(4, 4, 4),
        planes=2,
        depth=1,
        enc_chs=(),
        dec_dim=4,
        dec_hidden=4,
        nat_kwargs=dict(embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), mlp_ratio=1.0, drop_path_rate=0.0),
    )
    return TSJNet(TSJNetConfig(**(widths | overrides)))
