"""Exported graphs: dynamic height and width at the stated opset, parity with PyTorch at sizes the trace never saw
in ONNX Runtime and OpenVINO, and clear errors for what cannot be exported or loaded."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

from tests.export.conftest import SIZES
from tsjnet.errors import DataError
from tsjnet.export.onnx import INPUTS, OPSET, OUTPUT, ExportError, export_onnx
from tsjnet.export.runtime import OnnxRuntimeFuser, OpenVinoFuser, runtime_fuser
from tsjnet.models.fusion import FusionModel


def test_graph_has_symbolic_height_and_width_and_the_stated_opset(exported: tuple[torch.nn.Module, Path]) -> None:
    graph = onnx.load(str(exported[1]))
    assert {entry.version for entry in graph.opset_import if entry.domain in ("", "ai.onnx")} == {OPSET}
    assert [value.name for value in graph.graph.input] == list(INPUTS)
    assert [value.name for value in graph.graph.output] == [OUTPUT]
    for value in graph.graph.input:
        dims = value.type.tensor_type.shape.dim
        assert [d.dim_value for d in dims[:2]] == [1, 1]
        assert all(d.dim_param and not d.dim_value for d in dims[2:])  # symbolic, not fixed to the trace size


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_runtimes_match_pytorch_at_unseen_sizes(exported: tuple[torch.nn.Module, Path], runtime: str) -> None:
    model, path = exported
    fuser = runtime_fuser(runtime, path, threads=1)
    generator = torch.Generator().manual_seed(1)
    for height, width in SIZES:
        ir, vi = (torch.rand(1, 1, height, width, generator=generator) for _ in range(2))
        with torch.inference_mode():
            expected = model.fuse(ir, vi)
        fused = fuser.fuse(ir, vi)
        assert fused.shape == (1, 1, height, width)
        assert (fused - expected).abs().max() < 1e-4, (runtime, height, width)


def test_a_model_that_does_not_trace_fails_naming_it(tmp_path: Path) -> None:
    class DataDependent(FusionModel):
        def fuse(self, ir: torch.Tensor, vi: torch.Tensor) -> torch.Tensor:
            return ir if bool(ir.mean() > 0.5) else vi  # branches on pixel values: no static graph

    with pytest.raises(ExportError, match="DataDependent cannot be exported"):
        export_onnx(DataDependent(), tmp_path / "bad.onnx")


@pytest.mark.parametrize("fuser", [OnnxRuntimeFuser, OpenVinoFuser])
def test_missing_or_corrupt_graph_files_fail_clearly(fuser: type, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="absent.onnx not found; write one with `tsjnet export"):
        fuser(tmp_path / "absent.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    with pytest.raises(DataError, match="junk.onnx cannot be"):
        fuser(tmp_path / "junk.onnx")


def test_unknown_runtime_is_refused(exported: tuple[torch.nn.Module, Path]) -> None:
    with pytest.raises(DataError, match="runtime 'tensorrt' does not run ONNX graphs"):
        runtime_fuser("tensorrt", exported[1])
