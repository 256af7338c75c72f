"""2-D neighborhood attention (NA) with natten's semantics and a fast pure-PyTorch fallback.

NA lets every query attend to the k x k keys around it; at the borders the window is shifted (clamped)
inside the map instead of truncated, so every query sees exactly k*k keys (Hassani et al., NAT).
With dilation d the map splits into d x d interleaved sub-grids (position mod d) and NA runs inside each.

Why our own implementation: NAT (and TSJNet) add a relative position bias (rpb), which natten >= 0.20
dropped, and natten without its compiled library (our CPU build) falls back to an unfused flex-attention
path that materialises the full (HW)^2 score matrix. natten is used only where it has fused kernels
(libnatten, CUDA) and the call needs no rpb.

The fallback tiles the query map into t x t tiles. The windows of one tile all lie inside a (t+k-1)^2 key
span (clamped like the windows), so each tile is dense attention over its span under an additive table
(rpb inside the windows, -inf outside). Interior tiles share one table and border tiles a few more, so tiles
are grouped into rectangular blocks with one table each and every block is a single fused
`scaled_dot_product_attention` call with the table broadcast over its tiles: no per-tile table and no score
matrix is ever materialised in the forward pass. Without autograd on the CPU (`_tiled_inference`) the tiles'
scores are small enough to materialise: all tiles go through one batched matmul and each block's table is added
to its run of tiles.

The tiling plan is built in Python per map shape, which a graph with symbolic height and width cannot hold.
Under `torch.export` (the ONNX export, tsjnet.export) the same tiles run as `_traced_tiled_attention`: spans
and per-tile tables built with tensor index arithmetic only, so one exported graph serves every size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import natten
import torch
import torch.nn.functional as F
from torch import Tensor

#: query tile side of the fallback. 4 and 8 ran within noise on the shared 2-core CPU; 4 wastes less on masked
#: keys (100 scores per query instead of 196 for k=7), which matters most in the rpb backward.
TILE = 4


def neighborhood_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    kernel_size: int,
    dilation: int = 1,
    rpb: Tensor | None = None,
    scale: float | None = None,
) -> Tensor:
    """Neighborhood attention on (B, H, W, heads, dim) tensors (natten's layout); returns (B, H, W, heads, dim_v).

    `rpb` (heads, 2k-1, 2k-1) is NAT's relative position bias, indexed by (key - query) + k - 1 in sub-grid
    units. A window larger than a (dilated) axis is clamped to the whole axis, so tiny maps still work
    (natten would refuse them); the rpb keeps its kernel_size indexing.
    """
    _check_inputs(q, k, v, kernel_size, dilation, rpb)
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    if _natten_fused_can_run(q, kernel_size, dilation, rpb):
        return natten.na2d(q, k, v, kernel_size=kernel_size, dilation=dilation, scale=scale)
    attend = _traced_tiled_attention if torch.compiler.is_exporting() else _tiled_attention
    if dilation == 1:
        return attend(q, k, v, kernel_size, rpb, scale)
    out = q.new_empty(q.shape[:-1] + v.shape[-1:])
    for gh in range(dilation):
        for gw in range(dilation):
            sub = (slice(None), slice(gh, None, dilation), slice(gw, None, dilation))
            out[sub] = attend(q[sub], k[sub], v[sub], kernel_size, rpb, scale)
    return out


def _check_inputs(q: Tensor, k: Tensor, v: Tensor, kernel_size: int, dilation: int, rpb: Tensor | None) -> None:
    """Fail with the offending shapes instead of an obscure indexing error deep inside."""
    if q.dim() != 5 or q.shape != k.shape or v.shape[:-1] != q.shape[:-1]:
        raise ValueError(
            f"expected q, k (B,H,W,heads,dim) of equal shape and v (B,H,W,heads,dim_v), "
            f"got q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)}"
        )
    if kernel_size < 3 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and >= 3 (a centred window), got {kernel_size}")
    if dilation < 1:
        raise ValueError(f"dilation must be >= 1, got {dilation}")
    side = 2 * kernel_size - 1
    if rpb is not None and rpb.shape != (q.shape[3], side, side):
        expected = (q.shape[3], side, side)
        raise ValueError(f"rpb must have shape (heads, 2k-1, 2k-1) = {expected}, got {tuple(rpb.shape)}")


def _natten_fused_can_run(q: Tensor, kernel_size: int, dilation: int, rpb: Tensor | None) -> bool:
    """natten only where it is fast and exact for the call: fused CUDA kernels, no rpb, window fits the map."""
    return bool(
        natten.HAS_LIBNATTEN and q.is_cuda and rpb is None and kernel_size * dilation <= min(q.shape[1], q.shape[2])
    )


@dataclass(frozen=True)
class _AxisTiles:
    """Tiling of one axis: query and key positions of each tile and which tiles share a bias table."""

    tile: int  # queries per tile
    span: int  # keys per tile
    queries: Tensor  # (n_tiles, tile) query positions; the last tile may run past the axis
    keys: Tensor  # (n_tiles, span) key positions
    bias_index: Tensor  # (n_classes, tile, span) rpb index (key - query + k - 1); 2k-1 = outside the window
    runs: tuple[tuple[int, int, int], ...]  # (first tile, end tile, class) of each run of equal classes


def _axis_tiles(length: int, kernel_size: int, tile: int, device: torch.device) -> _AxisTiles:
    window = min(kernel_size, length)
    tile = min(tile, length)
    span = min(tile + window - 1, length)
    starts = torch.arange(0, length, tile, device=device)
    queries = starts[:, None] + torch.arange(tile, device=device)
    keys = (starts - kernel_size // 2).clamp(0, length - span)[:, None] + torch.arange(span, device=device)
    # padding queries past the axis behave like the last query; their outputs are dropped
    real = queries.clamp(max=length - 1)
    offsets = keys[:, None, :] - (real - kernel_size // 2).clamp(0, length - window)[:, :, None]
    inside = (offsets >= 0) & (offsets < window)
    bias_index = torch.where(inside, keys[:, None, :] - real[:, :, None] + kernel_size - 1, 2 * kernel_size - 1)
    classes, tile_class = torch.unique(bias_index, dim=0, return_inverse=True)
    runs, first = [], 0
    for i in range(1, len(tile_class) + 1):
        if i == len(tile_class) or tile_class[i] != tile_class[first]:
            runs.append((first, i, int(tile_class[first])))
            first = i
    return _AxisTiles(tile, span, queries, keys, classes, tuple(runs))


@dataclass(frozen=True)
class _Block:
    """Rectangle of tiles sharing one bias table."""

    row_class: int
    col_class: int
    n_tiles: int


@dataclass(frozen=True)
class _Plan:
    """Everything index-like the tiled attention needs for one map shape, built once and cached."""

    rows: _AxisTiles
    cols: _AxisTiles
    blocks: tuple[_Block, ...]
    query_index: Tensor  # (all tiles * tile_h * tile_w,) flat map position of each tiled query, block by block
    key_index: Tensor  # (all tiles * span_h * span_w,) flat map position of each tiled key, block by block
    output_index: Tensor  # (H * W,) position of each map query in the blocks' concatenated outputs


@lru_cache(maxsize=64)
def _plan(height: int, width: int, kernel_size: int, tile: int, device: torch.device) -> _Plan:
    """The plan on `device`; built on the CPU (it needs data-dependent ops the meta device lacks) and moved.

    Built outside inference mode: the plan is cached, and an inference tensor in it would break a later
    autograd call.
    """
    with torch.inference_mode(False):
        plan = _cpu_plan(height, width, kernel_size, tile)
        if device.type == "cpu":
            return plan
        axes = [replace(a, queries=a.queries.to(device), keys=a.keys.to(device), bias_index=a.bias_index.to(device))
                for a in (plan.rows, plan.cols)]
        return replace(plan, rows=axes[0], cols=axes[1], query_index=plan.query_index.to(device),
                       key_index=plan.key_index.to(device), output_index=plan.output_index.to(device))


@lru_cache(maxsize=64)
def _cpu_plan(height: int, width: int, kernel_size: int, tile: int) -> _Plan:
    device = torch.device("cpu")
    rows = _axis_tiles(height, kernel_size, tile, device)
    cols = _axis_tiles(width, kernel_size, tile, device)

    def flat(r: Tensor, c: Tensor) -> Tensor:  # (tiles_r, n_r), (tiles_c, n_c) -> flat positions, tile-major
        return (r[:, None, :, None] * width + c[None, :, None, :]).flatten()

    blocks, query_positions, query_index, key_index = [], [], [], []
    for r0, r1, row_class in rows.runs:
        for c0, c1, col_class in cols.runs:
            r, c = rows.queries[r0:r1], cols.queries[c0:c1]
            real = (r < height)[:, None, :, None] & (c < width)[None, :, None, :]
            query_positions.append(flat(r, c).masked_fill(~real.flatten(), -1))
            query_index.append(flat(r.clamp(max=height - 1), c.clamp(max=width - 1)))
            key_index.append(flat(rows.keys[r0:r1], cols.keys[c0:c1]))
            blocks.append(_Block(row_class, col_class, (r1 - r0) * (c1 - c0)))
    positions = torch.cat(query_positions)
    real = positions >= 0
    output_index = torch.empty(height * width, dtype=torch.long, device=device)
    output_index[positions[real]] = torch.arange(positions.numel(), device=device)[real]
    return _Plan(rows, cols, tuple(blocks), torch.cat(query_index), torch.cat(key_index), output_index)


def _padded_bias_table(rpb: Tensor | None, heads: int, kernel_size: int, like: Tensor) -> Tensor:
    """(heads, 2k, 2k): the rpb (zeros without one) plus a -inf row and column at index 2k-1, "outside the window"."""
    side = 2 * kernel_size - 1
    table = rpb.to(like.dtype) if rpb is not None else like.new_zeros(heads, side, side)
    return F.pad(table, (0, 1, 0, 1), value=-math.inf)


def _class_biases(plan: _Plan, rpb: Tensor | None, heads: int, kernel_size: int, like: Tensor) -> Tensor:
    """(row classes, col classes, heads, tile_h*tile_w, span_h*span_w) tables: rpb in the window, -inf outside."""
    table = _padded_bias_table(rpb, heads, kernel_size, like)
    rows, cols = plan.rows, plan.cols
    biases = table.index_select(1, rows.bias_index.flatten()).index_select(2, cols.bias_index.flatten())
    biases = biases.view(heads, -1, rows.tile, rows.span, cols.bias_index.shape[0], cols.tile, cols.span)
    return biases.permute(1, 4, 0, 2, 5, 3, 6).flatten(5, 6).flatten(3, 4)


def _tiled_attention(q: Tensor, k: Tensor, v: Tensor, kernel_size: int, rpb: Tensor | None, scale: float) -> Tensor:
    """Dilation-1 NA as one fused dense attention per block of tiles (see the module docstring)."""
    if q.device.type == "cpu" and not torch.is_grad_enabled():
        return _tiled_inference(q, k, v, kernel_size, rpb, scale)
    batch, height, width, heads, _ = q.shape
    plan = _plan(height, width, kernel_size, TILE, q.device)
    biases = _class_biases(plan, rpb, heads, kernel_size, q)
    q, k, v = (x.flatten(1, 2) for x in (q, k, v))  # (B, H*W, heads, d)

    def tiled(x: Tensor, index: Tensor, per_tile: int) -> list[Tensor]:  # (B*n_tiles, heads, n, d) per block
        # one gather for all blocks, then split: autograd backward is then one index_add and one cat
        parts = x.index_select(1, index).split([b.n_tiles * per_tile for b in plan.blocks], dim=1)
        return [p.reshape(-1, per_tile, heads, x.shape[-1]).transpose(1, 2) for p in parts]

    n_queries, n_keys = plan.rows.tile * plan.cols.tile, plan.rows.span * plan.cols.span
    q_blocks = tiled(q, plan.query_index, n_queries)
    k_blocks, v_blocks = tiled(k, plan.key_index, n_keys), tiled(v, plan.key_index, n_keys)
    outputs = []
    for block, qb, kb, vb in zip(plan.blocks, q_blocks, k_blocks, v_blocks):
        out = _attention(qb, kb, vb, biases[block.row_class, block.col_class][None], scale)
        outputs.append(out.transpose(1, 2).reshape(batch, -1, heads, v.shape[-1]))
    out = torch.cat(outputs, dim=1).index_select(1, plan.output_index)
    return out.view(batch, height, width, heads, v.shape[-1])


@dataclass(frozen=True)
class _BatchLayout:
    """A `_Plan` laid out over the rows of a flattened (B*H*W, heads, d) batch, for `_tiled_inference`."""

    query_index: Tensor  # (B * tiles * tile_h*tile_w,) map row of each tiled query, image by image, block by block
    key_index: Tensor  # (B * tiles * span_h*span_w,) map row of each tiled key, in the same order
    output_index: Tensor  # (B*H*W,) row of each map query in the tiled output
    runs: tuple[tuple[int, int, _Block], ...]  # (first tile, end tile, block): the tiles of each block


@lru_cache(maxsize=64)
def _batch_layout(height: int, width: int, kernel_size: int, tile: int, batch: int, device: torch.device) -> _BatchLayout:
    """The plan's indices offset per image of the batch, built once per shape: gathering from the flattened batch
    puts every tile where one batched matmul reads it, with no copy between the gather and the matmul."""
    plan = _plan(height, width, kernel_size, tile, device)
    tiles = sum(block.n_tiles for block in plan.blocks)
    image_rows = torch.arange(batch, device=device)[:, None] * (height * width)
    ends = torch.tensor([block.n_tiles for block in plan.blocks]).cumsum(0).tolist()
    return _BatchLayout(
        query_index=(plan.query_index.view(1, -1) + image_rows).flatten(),
        key_index=(plan.key_index.view(1, -1) + image_rows).flatten(),
        output_index=(plan.output_index.view(1, -1) + torch.arange(batch, device=device)[:, None]
                      * (tiles * plan.rows.tile * plan.cols.tile)).flatten(),
        runs=tuple((end - block.n_tiles, end, block) for end, block in zip(ends, plan.blocks)),
    )


def _tiled_inference(q: Tensor, k: Tensor, v: Tensor, kernel_size: int, rpb: Tensor | None, scale: float) -> Tensor:
    """`_tiled_attention` without autograd on the CPU: the same tiles and tables, every tile in one batched matmul.

    The scores of a tile are small (16 x 100 for tile 4, k 7), so here two plain matmuls beat the flash kernel
    (whose per-block overhead made the lite network about 4% slower), and gathering straight into one
    (B, tiles, ...) layout, with each block's table added to its run of tiles in place, replaces a gather, a copy
    and five ops per block: NA in `tsjnet_lite` at 480x640 took about a quarter less time.
    """
    batch, height, width, heads, _ = q.shape
    plan = _plan(height, width, kernel_size, TILE, q.device)
    layout = _batch_layout(height, width, kernel_size, TILE, batch, q.device)
    biases = _class_biases(plan, rpb, heads, kernel_size, q)

    def tiled(x: Tensor, index: Tensor, per_tile: int) -> Tensor:  # (B, H, W, heads, d) -> (B, tiles, heads, n, d)
        rows = x.reshape(-1, heads, x.shape[-1]).index_select(0, index)
        return rows.view(batch, -1, per_tile, heads, x.shape[-1]).transpose(2, 3)

    n_queries, n_keys = plan.rows.tile * plan.cols.tile, plan.rows.span * plan.cols.span
    scores = torch.matmul(tiled(q, layout.query_index, n_queries) * scale,
                          tiled(k, layout.key_index, n_keys).transpose(-1, -2))  # (B, tiles, heads, queries, keys)
    for first, end, block in layout.runs:
        scores[:, first:end].add_(biases[block.row_class, block.col_class])
    out = scores.softmax(-1) @ tiled(v, layout.key_index, n_keys)
    out = out.transpose(2, 3).reshape(-1, heads, v.shape[-1]).index_select(0, layout.output_index)
    return out.view(batch, height, width, heads, v.shape[-1])


def _attention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, scale: float) -> Tensor:
    """Fused attention with an additive bias broadcast over the batch; the bias gets a gradient on CPU too."""
    if bias.requires_grad and q.device.type == "cpu":
        return _CpuFlashWithBiasGrad.apply(q, k, v, bias, scale)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=scale)


class _CpuFlashWithBiasGrad(torch.autograd.Function):
    """PyTorch's CPU flash kernel gives the mask no gradient, so SDPA falls back to its unfused math path
    (about 5x slower here) whenever the mask needs one. This keeps the fused forward/backward for q, k, v
    and recomputes the probabilities once in the backward for the bias gradient."""

    @staticmethod
    def forward(ctx, q: Tensor, k: Tensor, v: Tensor, bias: Tensor, scale: float) -> Tensor:  # noqa: D102
        out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v, attn_mask=bias, scale=scale)
        ctx.save_for_backward(q, k, v, bias, out, lse)
        ctx.scale = scale
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, None]:  # noqa: D102
        q, k, v, bias, out, lse = ctx.saved_tensors
        grad_q, grad_k, grad_v = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward(
            grad_out, q, k, v, out, lse, 0.0, False, attn_mask=bias, scale=ctx.scale
        )
        probs = torch.matmul(q, k.transpose(-1, -2)).mul_(ctx.scale).add_(bias).sub_(lse[..., None]).exp_()
        grad_probs = torch.matmul(grad_out, v.transpose(-1, -2)).sub_((grad_out * out).sum(-1, keepdim=True))
        grad_bias = probs.mul_(grad_probs).sum(0, keepdim=True)
        return grad_q, grad_k, grad_v, grad_bias, None


def _axis_spans(length: int, kernel_size: int, tile: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """One axis cut into tiles of `tile` queries: query positions (tiles, tile), key positions (tiles, span) and
    the rpb index of each (query, key) (tiles, tile, span), 2k-1 where the key is outside the query's window.

    The same clamped windows and spans as `_axis_tiles`, by tensor arithmetic only (no Python branch on
    `length`), so it traces with a symbolic length. Slots past the axis (a short axis, the last tile) repeat the
    last position: repeated queries are cropped by the caller, repeated keys are outside every window.
    """
    span = tile + kernel_size - 1
    last = torch.arange(length, device=device)[length - 1 : length]
    window = (last + 1).clamp(max=kernel_size)
    starts = torch.arange(0, length, tile, device=device)
    queries = torch.minimum(starts[:, None] + torch.arange(tile, device=device), last)
    first_key = torch.minimum((starts - kernel_size // 2).clamp(min=0), (last + 1 - span).clamp(min=0))
    keys = first_key[:, None] + torch.arange(span, device=device)
    window_start = torch.minimum((queries - kernel_size // 2).clamp(min=0), last + 1 - window)
    offsets = keys[:, None, :] - window_start[:, :, None]
    inside = (offsets >= 0) & (offsets < window) & (keys <= last)[:, None, :]
    index = torch.where(inside, keys[:, None, :] - queries[:, :, None] + kernel_size - 1, 2 * kernel_size - 1)
    return queries, torch.minimum(keys, last), index


def _traced_tiled_attention(q: Tensor, k: Tensor, v: Tensor, kernel_size: int, rpb: Tensor | None,
                            scale: float) -> Tensor:
    """Dilation-1 NA for export: the tiles of `_tiled_attention` built from the traced shape (same maths).

    Each tile's queries attend to its (t+k-1)^2 key span under a per-tile bias table, all tiles in one batched
    matmul; one exported graph serves every size. It copies k and v about 6x (tile 4, k 7), where gathering each
    query's own k x k window would copy them k*k times.
    """
    _, height, width, heads, _ = q.shape
    rows, row_keys, row_index = _axis_spans(height, kernel_size, TILE, q.device)
    cols, col_keys, col_index = _axis_spans(width, kernel_size, TILE, q.device)

    def tiles(x: Tensor, row: Tensor, col: Tensor) -> Tensor:  # (B, H, W, heads, d) -> (B, Tr, Tc, heads, n, d)
        x = x.index_select(1, row.flatten()).index_select(2, col.flatten())
        x = x.unflatten(1, (-1, row.shape[1])).unflatten(3, (-1, col.shape[1]))  # (B, Tr, r, Tc, c, heads, d)
        return x.permute(0, 1, 3, 5, 2, 4, 6).flatten(4, 5)

    table = _padded_bias_table(rpb, heads, kernel_size, q)
    bias = table.index_select(1, row_index.flatten()).index_select(2, col_index.flatten())
    bias = bias.unflatten(1, (-1, TILE, row_index.shape[2])).unflatten(4, (-1, TILE, col_index.shape[2]))
    bias = bias.permute(1, 4, 0, 2, 5, 3, 6).flatten(5, 6).flatten(3, 4)  # (Tr, Tc, heads, t*t, span*span)
    scores = tiles(q, rows, cols) @ tiles(k, row_keys, col_keys).transpose(-1, -2) * scale + bias
    out = scores.softmax(-1) @ tiles(v, row_keys, col_keys)  # (B, Tr, Tc, heads, t*t, d)
    out = out.unflatten(4, (TILE, TILE)).permute(0, 1, 4, 2, 5, 3, 6).flatten(3, 4).flatten(1, 2)
    return out[:, :height, :width]
