"""Fast float CPU paths and ONNX Runtime: the baselines the INT8 generator is measured against.

Introduced in ``notebooks/07_quantized_cpu_inference.ipynb`` (with :mod:`animegan_edu.int8.quantize`
and :mod:`animegan_edu.bench.run`):

* fp32 in channels-last memory (:func:`fp32_channels_last`), compiled by Inductor
  (:func:`fp32_compiled`) or traced and frozen TorchScript (:func:`fp32_torchscript`);
  bfloat16 autocast (:func:`bf16_channels_last`);
* ONNX export with dynamic sizes (:func:`export_onnx`), ONNX Runtime sessions used like the
  generator (:class:`OnnxRuntimeGenerator`) and ONNX Runtime's own static INT8
  quantization (:func:`quantize_onnx`).

Tensor conventions: generator inputs and outputs are ``(N, 3, H, W)`` RGB in ``[-1, 1]``.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from animegan_edu.files import MAX_RECORD_BYTES, atomic_write, read_regular
from animegan_edu.machine import cpu_class
from animegan_edu.models import Generator
from animegan_edu.resources import data_dir

__all__ = [
    "ChannelsLast",
    "fp32_channels_last",
    "fp32_compiled",
    "fp32_torchscript",
    "bf16_channels_last",
    "export_onnx",
    "OnnxRuntimeGenerator",
    "quantize_onnx",
    "DEFAULT_TOLERANCE",
    "FAST_PATHS_FILE",
    "measured_paths",
    "MIN_FAST_PIXELS",
    "MIN_INT8_PIXELS",
    "PathChoice",
    "choose_path",
    "int8_is_faster",
]


# --------------------------------------------------------------------------------------
# fp32 paths
# --------------------------------------------------------------------------------------
class ChannelsLast(nn.Module):
    """Run a float model with channels-last (NHWC) memory: weights and input converted.

    oneDNN's convolutions are fastest on NHWC; output is returned NCHW-contiguous.

    Example:
        >>> ChannelsLast(Generator())(torch.zeros(1, 3, 16, 16)).is_contiguous()
        True
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.contiguous(memory_format=torch.channels_last)).contiguous()

    def units(self, out_layer: bool = False) -> list[tuple[str, nn.Module]]:
        """The wrapped generator's units (:meth:`animegan_edu.models.Generator.units`); [] for others."""
        units = getattr(self.model, "units", None)
        return units(out_layer) if callable(units) else []


def fp32_channels_last(generator: nn.Module) -> nn.Module:
    """The eager fp32 generator in channels-last memory format (no compilation).

    Input and output: ``(N, 3, H, W)`` RGB in ``[-1, 1]``, as the generator.

    Example:
        >>> g, x = Generator().eval(), torch.rand(1, 3, 32, 32) * 2 - 1
        >>> with torch.no_grad():
        ...     torch.allclose(fp32_channels_last(g)(x), g(x), atol=1e-4)
        True
    """
    return ChannelsLast(generator).eval()


def fp32_compiled(generator: nn.Module) -> nn.Module:
    """``torch.compile`` (Inductor) of the channels-last fp32 generator.

    Compiles on the first call for each input size (tens of seconds: a cost per image size).

    Example (not run by the test suite: importing the compiler alone takes seconds):
        >>> model = fp32_compiled(Generator().eval())  # doctest: +SKIP
        >>> model(torch.zeros(1, 3, 64, 64)).shape  # compiles here  # doctest: +SKIP
        torch.Size([1, 3, 64, 64])
    """
    return torch.compile(ChannelsLast(generator).eval(), dynamic=False)


def fp32_torchscript(generator: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """Traced, frozen and ``optimize_for_inference`` TorchScript of the channels-last model.

    Tracing fixes the input size to ``example``'s (the decoder's resize sizes become
    constants). Seconds to build, no compiler needed.

    Example:
        >>> g, x = Generator().eval(), torch.rand(1, 3, 32, 32) * 2 - 1
        >>> with torch.no_grad():
        ...     torch.allclose(fp32_torchscript(g, x)(x), g(x), atol=1e-4)
        True
    """
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(ChannelsLast(generator).eval(), example, check_trace=False)
        return torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))


def bf16_channels_last(generator: nn.Module) -> nn.Module:
    """Channels-last generator under bfloat16 autocast (fast only on CPUs with AVX-512 BF16 or AMX).

    Example:
        >>> bf16_channels_last(Generator())(torch.zeros(1, 3, 16, 16)).dtype  # float32 out
        torch.float32
    """

    class _Bf16(ChannelsLast):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return super().forward(x).float()

    return _Bf16(generator).eval()


# --------------------------------------------------------------------------------------
# ONNX and ONNX Runtime
# --------------------------------------------------------------------------------------
class _OnnxGenerator(nn.Module):
    """The generator's forward written with traced sizes, so the ONNX graph takes any H, W."""

    def __init__(self, generator: Generator) -> None:
        super().__init__()
        if generator.upsample not in ("align_corners", "half_pixel"):
            raise ValueError(
                f"ONNX export supports upsample 'align_corners' or 'half_pixel', not {generator.upsample!r}"
            )
        self.g = generator
        self.align = generator.upsample == "align_corners"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.g
        full = x.shape[-2:]
        out = g.block_a(x)
        half = out.shape[-2:]
        out = g.block_c(g.block_b(out))
        out = g.block_d(F.interpolate(out, size=half, mode="bilinear", align_corners=self.align))
        out = g.block_e(F.interpolate(out, size=full, mode="bilinear", align_corners=self.align))
        return g.out_layer(out)


def export_onnx(generator: Generator, path: str | Path, opset: int = 17) -> Path:
    """Export ``generator`` to ONNX with dynamic batch, height and width.

    Input ``"image"`` and output ``"anime"``, both ``(N, 3, H, W)`` float32 in ``[-1, 1]``.
    Uses the TorchScript-based exporter (no compiler needed); written atomically
    (:func:`animegan_edu.files.atomic_write`).

    Example:
        >>> import tempfile
        >>> path = export_onnx(Generator(), Path(tempfile.mkdtemp()) / "g.onnx")
        >>> OnnxRuntimeGenerator(path, threads=1)(torch.zeros(1, 3, 40, 24)).shape  # any size
        torch.Size([1, 3, 40, 24])
    """
    path = Path(path)
    model = _OnnxGenerator(copy.deepcopy(generator).float().eval()).eval()
    axes = {0: "n", 2: "h", 3: "w"}

    def write(tmp: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (torch.zeros(1, 3, 64, 64),),
                str(tmp),
                input_names=["image"],
                output_names=["anime"],
                dynamic_axes={"image": axes, "anime": axes},
                opset_version=opset,
                dynamo=False,
            )

    return atomic_write(path, write)


class OnnxRuntimeGenerator:
    """An ONNX Runtime CPU session used like the generator: tensor in, tensor out.

    Args:
        path: an ``.onnx`` file from :func:`export_onnx` or :func:`quantize_onnx`.
        threads: intra-op threads (default: ``torch.get_num_threads()``).

    Call with ``(N, 3, H, W)`` float in ``[-1, 1]``; returns a float tensor, same shape.

    Example:
        >>> OnnxRuntimeGenerator("missing.onnx")
        Traceback (most recent call last):
        ...
        FileNotFoundError: missing.onnx: no such ONNX file; create it with export_onnx()
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such ONNX file; create it with export_onnx()")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"expects (N, 3, H, W) RGB in [-1, 1], got shape {tuple(x.shape)}")
        y = self.session.run(None, {self.input_name: x.detach().float().contiguous().numpy()})[0]
        return torch.from_numpy(y)


def quantize_onnx(
    fp32_path: str | Path,
    int8_path: str | Path,
    photos: torch.Tensor,
    per_channel: bool = True,
    reduce_range: bool | None = None,
) -> Path:
    """ONNX Runtime's own static INT8 quantization (QDQ format), calibrated on ``photos``.

    ``uint8`` activations (min/max calibration), per-channel symmetric ``int8`` weights;
    ``reduce_range`` (7-bit weights, for CPUs without VNNI) defaults from the CPU.
    ``photos``: ``(N, 3, H, W)`` in ``[-1, 1]``. Returns ``int8_path``.

    Example:
        >>> import tempfile
        >>> fp32 = export_onnx(Generator(), Path(tempfile.mkdtemp()) / "g.onnx")
        >>> int8 = quantize_onnx(fp32, fp32.with_name("g8.onnx"), torch.rand(1, 3, 32, 32) * 2 - 1)
        >>> int8.stat().st_size < fp32.stat().st_size / 2
        True
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if reduce_range is None:
        reduce_range = not torch.cpu._is_vnni_supported()
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter([{"image": photos[i : i + 1].float().numpy()} for i in range(photos.shape[0])])

        def get_next(self):  # type: ignore[no-untyped-def]
            return next(self._it, None)

    pre = int8_path.with_name(int8_path.name + ".pre.onnx")
    root = logging.getLogger()
    level = root.level

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
            quantize_static(
                str(pre),
                str(tmp),
                _Reader(),
                quant_format=QuantFormat.QDQ,
                per_channel=per_channel,
                reduce_range=reduce_range,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
            )

    try:
        # ORT's per-channel pass logs one warning per GroupNorm constant it leaves alone
        root.setLevel(logging.ERROR)
        return atomic_write(int8_path, write)
    finally:
        root.setLevel(level)
        pre.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------
# The default inference path: chosen by CPU capability and by what was measured
# --------------------------------------------------------------------------------------
#: Largest max-abs difference from fp32 eager (generator range ``[-1, 1]``) a path may
#: have and still be the default.
DEFAULT_TOLERANCE = 1e-3

#: The table of measured figures (in :func:`animegan_edu.resources.data_dir` ``("benchmarks")``):
#: per CPU class (:func:`animegan_edu.machine.cpu_class`), each path's time relative to fp32
#: eager and its largest difference from fp32 eager, with the machine, date and command that
#: measured them. Only classes measured in this project are in it.
FAST_PATHS_FILE = "fast_paths.json"
_TABLE_KEYS = ("seconds_vs_fp32_eager", "max_abs_diff_vs_fp32_eager", "date")


@functools.lru_cache(maxsize=None)
def measured_paths() -> dict[str, dict[str, object]]:
    """The measured path figures per CPU class, read from ``benchmarks/fast_paths.json`` (once).

    Each class has ``seconds_vs_fp32_eager`` and ``max_abs_diff_vs_fp32_eager`` (path name to
    number) and where they came from (``machine``, ``source``, ``command``, ``date``). A missing
    or unreadable file gives an empty table (and a warning): then no class counts as measured,
    and :func:`choose_path` keeps the fp32 eager reference.

    Example:
        >>> table = measured_paths()
        >>> sorted(table["avx2"]["seconds_vs_fp32_eager"])[:2], table["avx2"]["source"]
        (['bf16_channels_last', 'fp32_channels_last'], 'benchmarks/int8_variants_avx2.json')
    """
    path = data_dir("benchmarks") / FAST_PATHS_FILE
    try:
        table = json.loads(read_regular(path, MAX_RECORD_BYTES, "path table").decode("utf-8"))["classes"]
        bad = [f"{c}.{k}" for c, e in table.items() for k in _TABLE_KEYS if k not in e]
        if bad:
            raise KeyError(f"missing {', '.join(bad)}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        warnings.warn(f"{path}: cannot read the measured path table ({e}); keeping fp32 eager", stacklevel=2)
        return {}
    return table


#: Below this many pixels per image the forward pass takes milliseconds on any path, so
#: the reference path runs (its output is the fp32 eager output bit for bit).
MIN_FAST_PIXELS = 128 * 128

#: INT8 is a default candidate only for images of at least this many pixels: its quality
#: check (:func:`animegan_edu.int8.files.quality_check`) runs at 256 x 256 px, the size
#: where its error was largest in the bench (smaller images were not checked).
MIN_INT8_PIXELS = 256 * 256


@dataclass(frozen=True)
class PathChoice:
    """The default inference path for a CPU, and why.

    Attributes:
        path: ``"fp32_eager"``, ``"fp32_channels_last"`` or ``"int8"``.
        cpu_class: see :func:`animegan_edu.machine.cpu_class`.
        measured: whether paths were measured on this CPU class in this project.
        reason: one line saying what decided it.
    """

    path: str
    cpu_class: str
    measured: bool
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


def choose_path(
    info: dict[str, object] | None = None, int8_ok: bool = False, tolerance: float = DEFAULT_TOLERANCE
) -> PathChoice:
    """The default inference path: the fastest measured one within ``tolerance`` of fp32 eager's output.

    The figures are :func:`measured_paths` (``benchmarks/fast_paths.json``). INT8 is a
    candidate only when ``int8_ok`` (its quality check,
    :func:`animegan_edu.int8.files.quality_check`, passed for the weights in use) and it was
    measured on this CPU class. On a CPU class nothing was measured on the answer is fp32
    eager, the reference, and :attr:`PathChoice.reason` says that nothing was measured
    there: no guess about speed.

    Args:
        info: a :func:`animegan_edu.machine.cpu_info` dict; default this machine's.
        int8_ok: INT8 met the quality target for these weights.
        tolerance: largest max-abs difference from fp32 eager (``[-1, 1]`` range).

    Example:
        >>> choose_path({"avx2": True, "avx512": False, "vnni": False, "amx": False}).path
        'fp32_channels_last'
        >>> choose_path({"avx2": True, "avx512": False, "vnni": True, "amx": False}).path  # not measured
        'fp32_eager'
        >>> vnni_bf16 = {"avx2": True, "avx512": True, "vnni": True, "amx": False, "avx512_bf16": True}
        >>> choose_path(vnni_bf16).path
        'fp32_channels_last'
    """
    cls = cpu_class(info)
    m = measured_paths().get(cls)
    if m is None:
        return PathChoice(
            "fp32_eager", cls, False,
            f"no path was measured on a CPU of class {cls} in this project: keeping the fp32 eager reference "
            "(measure with `animegan-edu bench` to change that)",
        )  # fmt: skip
    speed: dict[str, float] = m["seconds_vs_fp32_eager"]  # type: ignore[assignment]
    diff: dict[str, float] = m["max_abs_diff_vs_fp32_eager"]  # type: ignore[assignment]
    ok = {p for p, d in diff.items() if d <= tolerance and p in speed}
    if int8_ok and "int8" in speed:
        ok.add("int8")
    best = min(ok, key=speed.__getitem__)
    left_out = sorted(p for p in speed if p not in ok)
    why = f"fastest of {sorted(ok)} measured on {cls} ({m['date']}): {speed[best]:.2f}x fp32 eager's time"
    if left_out:
        why += (
            f"; not default: {', '.join(left_out)} (differs from fp32 by more than {tolerance:g}, "
            "or INT8 below its quality target)"
        )
    return PathChoice(best, cls, True, why)


def int8_is_faster(choice: PathChoice) -> bool:
    """Whether INT8 was measured faster than ``choice`` on ``choice``'s CPU class.

    Only then is INT8's quality worth checking for the default path.

    Example:
        >>> amx = {"avx2": True, "avx512": True, "vnni": True, "amx": True, "avx512_bf16": True}
        >>> int8_is_faster(choose_path(amx)), int8_is_faster(choose_path({"avx2": True, "vnni": True}))
        (True, False)
    """
    m = measured_paths().get(choice.cpu_class) if choice.measured else None
    speed: dict[str, float] = m["seconds_vs_fp32_eager"] if m else {}  # type: ignore[assignment]
    return "int8" in speed and choice.path in speed and speed["int8"] < speed[choice.path]
