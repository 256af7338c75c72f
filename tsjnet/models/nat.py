"""NAT-Mini (Hassani et al., Neighborhood Attention Transformer) and the NAT branch of TSJNet.

TSJNet's reference code (XylonXu01/TSJNet, net.py: `BaseFeatureExtraction` + `NAT`) computes
x + NAT(LayerNorm(x)): NAT-Mini on the feature map, then from the last level only (H/32, 8*embed channels)
conv3x3 -> 128 + ReLU6, conv3x3 -> 64 + ReLU6, and three transposed convs (stride 4, 4, 2, no bias) back to
full size, then ReLU6. We follow that design; deviations, all for generality or clarity:
- the reference hard-codes 512/128/64 channels; here they are 8*embed_dim, 8*embed_dim // 4 and `dim`;
- the reference builds modules it never uses (avgpool, conv_head, final norm); they are left out;
- natten (and the old NAT code, which zero-padded) cannot run a window larger than the map; our
  `neighborhood_attention` clamps the window to the map (full attention there), so H/32 < kernel works;
- `NATMini` returns all four level maps (each level before its downsampler) so it is reusable as a backbone;
  the branch reads only the last one, as the reference does;
- NAT's relative position bias is a switch (`rel_pos_bias`, on as in NAT): natten's fused CUDA kernels take no
  bias, so with it off the layers run natten's kernels on CUDA (the `paper` profile for GPU workers) and our
  tiled kernel elsewhere, the same attention either way.
"""

from __future__ import annotations

import torch
from timm.layers import DropPath, Mlp, trunc_normal_
from torch import Tensor, nn

from tsjnet.models.attention import neighborhood_attention


class NeighborhoodAttention2D(nn.Module):
    """NAT's attention layer on channels-last (B, H, W, C) maps: qkv projection, NA with rpb, output projection."""

    def __init__(self, dim: int, num_heads: int, kernel_size: int = 7, dilation: int = 1, qkv_bias: bool = True,
                 rel_pos_bias: bool = True):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads, self.kernel_size, self.dilation = num_heads, kernel_size, dilation
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.rpb = nn.Parameter(torch.zeros(num_heads, 2 * kernel_size - 1, 2 * kernel_size - 1)) if rel_pos_bias else None
        if self.rpb is not None:
            trunc_normal_(self.rpb, std=0.02)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:  # noqa: D102
        b, h, w, c = x.shape
        q, k, v = self.qkv(x).view(b, h, w, 3, self.num_heads, c // self.num_heads).unbind(3)
        out = neighborhood_attention(q, k, v, self.kernel_size, self.dilation, rpb=self.rpb)
        return self.proj(out.reshape(b, h, w, c))


class NATLayer(nn.Module):
    """Pre-norm transformer layer: x + DropPath(NA(LN(x))), then x + DropPath(MLP(LN(x)))."""

    def __init__(self, dim: int, num_heads: int, kernel_size: int, mlp_ratio: float, drop_path: float,
                 rel_pos_bias: bool = True):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = NeighborhoodAttention2D(dim, num_heads, kernel_size, rel_pos_bias=rel_pos_bias)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(in_features=dim, hidden_features=int(dim * mlp_ratio), act_layer=nn.GELU)

    def forward(self, x: Tensor) -> Tensor:  # noqa: D102
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class _ConvDown(nn.Module):
    """3x3 stride-2 conv + LayerNorm on channels-last maps: NAT's tokenizer stage and downsampler."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool, norm: bool):
        super().__init__()
        self.conv = nn.Conv2d(in_dim, out_dim, kernel_size=3, stride=2, padding=1, bias=bias)
        self.norm = nn.LayerNorm(out_dim) if norm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:  # noqa: D102
        return self.norm(self.conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))


class NATMini(nn.Module):
    """NAT backbone (defaults: NAT-Mini). Input (B, in_chans, H, W); returns the level maps at H/4 ... H/2^(L+1),
    NCHW, with embed_dim * 2^i channels."""

    def __init__(
        self,
        in_chans: int,
        embed_dim: int = 64,
        depths: tuple[int, ...] = (3, 4, 6, 5),
        num_heads: tuple[int, ...] = (2, 4, 8, 16),
        kernel_size: int = 7,
        mlp_ratio: float = 3.0,
        drop_path_rate: float = 0.2,
        rel_pos_bias: bool = True,
    ):
        super().__init__()
        if len(depths) != len(num_heads):
            raise ValueError(f"depths {depths} and num_heads {num_heads} need one entry per level")
        self.dims = [embed_dim * 2**i for i in range(len(depths))]
        # conv tokenizer: two 3x3 stride-2 convs (H/4), LayerNorm after the second, as in NAT
        self.tokenizer = nn.Sequential(
            _ConvDown(in_chans, embed_dim // 2, bias=True, norm=False),
            _ConvDown(embed_dim // 2, embed_dim, bias=True, norm=True),
        )
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()  # stochastic depth grows with depth
        self.levels = nn.ModuleList()
        self.downsamplers = nn.ModuleList()
        for i, (dim, depth, heads) in enumerate(zip(self.dims, depths, num_heads)):
            level_rates = rates[sum(depths[:i]) : sum(depths[: i + 1])]
            self.levels.append(nn.Sequential(*(NATLayer(dim, heads, kernel_size, mlp_ratio, r, rel_pos_bias)
                                               for r in level_rates)))
            if i < len(depths) - 1:
                self.downsamplers.append(_ConvDown(dim, 2 * dim, bias=False, norm=True))
        self.apply(_init_weights)

    def forward(self, x: Tensor) -> list[Tensor]:  # noqa: D102
        x = self.tokenizer(x.permute(0, 2, 3, 1))
        features = []
        for i, level in enumerate(self.levels):
            x = level(x)
            features.append(x.permute(0, 3, 1, 2))
            if i < len(self.downsamplers):
                x = self.downsamplers[i](x)
        return features


def _init_weights(module: nn.Module) -> None:
    """NAT's initialisation: truncated-normal linears with zero bias (LayerNorm keeps its 1/0 defaults)."""
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor (TSJNet's 'WithBias' LayerNorm)."""

    def forward(self, x: Tensor) -> Tensor:  # noqa: D102
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class NATBranch(nn.Module):
    """TSJNet's NAT branch: (B, dim, H, W) -> x + Decoder(NATMini(LN(x))), H and W multiples of 2^(levels+1)
    (32 for NAT-Mini). See the module docstring for the decoder and the deviations from the reference."""

    def __init__(self, dim: int, **nat_kwargs: object):
        super().__init__()
        self.norm = ChannelLayerNorm(dim)
        self.nat = NATMini(in_chans=dim, **nat_kwargs)  # type: ignore[arg-type]
        last = self.nat.dims[-1]
        self.stride = 2 ** (len(self.nat.dims) + 1)
        self.head = nn.Sequential(
            nn.Conv2d(last, last // 4, 3, padding=1),
            nn.ReLU6(inplace=True),
            nn.Conv2d(last // 4, dim, 3, padding=1),
            nn.ReLU6(inplace=True),
            *(nn.ConvTranspose2d(dim, dim, s, stride=s, bias=False) for s in _upsampling_strides(self.stride)),
            nn.ReLU6(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:  # noqa: D102
        if x.dim() != 4 or x.shape[2] % self.stride or x.shape[3] % self.stride:
            raise ValueError(
                f"NATBranch needs (B, C, H, W) with H and W multiples of {self.stride}, got {tuple(x.shape)}; "
                "pad or crop the input first"
            )
        return x + self.head(self.nat(self.norm(x))[-1])


def _upsampling_strides(total: int) -> list[int]:
    """Transposed-conv strides whose product is `total`: 4s then a 2, i.e. the reference's (4, 4, 2) for 32."""
    strides = []
    while total > 2:
        strides.append(4)
        total //= 4
    return strides + ([2] if total == 2 else [])
