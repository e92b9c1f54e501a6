"""The ``python -m core weights`` verbs: ``inspect``, ``compress`` and ``encrypt``.

Registered by :mod:`core.cli`, whose passphrase and key-file handling ``encrypt`` reuses:
the secret comes from ``--passphrase-file``, ``--encrypt-key-file`` or a hidden prompt, never
from the command line.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any, TextIO

from core.errors import WeightsError
from core.limits import (
    SCRYPT_WORK_FACTOR_DEFAULT,
    SCRYPT_WORK_FACTOR_MAX,
    SCRYPT_WORK_FACTOR_MIN,
)


def _num(x: float) -> float | None:
    """JSON has no NaN or infinity: ``None`` stands for them."""
    return x if math.isfinite(x) else None


def _inspect(args: argparse.Namespace, out: TextIO, progress: Any) -> int:
    from core.weights import inspect_weights, open_weights

    summary = inspect_weights(open_weights(args.file))
    if args.format == "json" or args.json:
        rows = [
            {
                "name": t.name,
                "shape": list(t.shape),
                "dtype": t.dtype,
                "parameters": t.parameters,
                "bytes": t.bytes,
                "min": _num(t.min),
                "max": _num(t.max),
                "mean": _num(t.mean),
                "std": _num(t.std),
                "zero_share": t.zero_share,
                "non_finite": t.non_finite,
            }
            for t in summary.tensors
        ]
        json.dump(
            {
                "file": summary.file,
                "format": summary.format,
                "file_bytes": summary.file_bytes,
                "total_parameters": summary.total_parameters,
                "total_bytes": summary.total_bytes,
                "zero_share": summary.zero_share,
                "tensors": rows,
            },
            out,
            indent=2,
        )
        out.write("\n")
        return 0
    lines = [
        f"{summary.file}: {summary.format}, {len(summary.tensors)} tensor(s), "
        f"{summary.total_parameters:,} parameters, {summary.total_bytes:,} bytes of tensors "
        f"({summary.file_bytes:,} bytes on disk), {summary.zero_share:.1%} zeros",
        f"  {'tensor':<32}{'shape':<18}{'dtype':<9}{'params':>12}{'min':>11}{'max':>11}"
        f"{'mean':>11}{'std':>11}{'zeros':>8}",
    ]
    for t in summary.tensors:
        shape = "x".join(map(str, t.shape)) or "scalar"
        lines.append(
            f"  {t.name[:31]:<32}{shape[:17]:<18}{t.dtype:<9}{t.parameters:>12,}"
            f"{t.min:>11.4g}{t.max:>11.4g}{t.mean:>11.4g}{t.std:>11.4g}{t.zero_share:>8.1%}"
        )
    out.write("\n".join(lines) + "\n")
    return 0


def recipe_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~core.weights.WeightsRecipe` of ``--recipe`` or of the step options."""
    from core.weights import Cast, Prune, Quantize, Sparsify, WeightsRecipe

    if args.recipe:
        return WeightsRecipe.from_json(Path(args.recipe).read_bytes())
    steps: list[Any] = []
    if args.prune is not None or args.prune_threshold is not None:
        steps.append(
            Prune(
                sparsity=args.prune,
                threshold=args.prune_threshold,
                scope="global" if args.global_prune else "tensor",
            )
        )
    if args.quantize in ("int8", "int4"):
        steps.append(
            Quantize(
                bits=int(args.quantize[3:]),
                symmetric=not args.asymmetric,
                per_channel=args.per_channel,
            )
        )
    elif args.quantize in ("float16", "bfloat16"):
        steps.append(Cast(dtype=args.quantize))
    if args.sparse:
        steps.append(Sparsify(layout=args.sparse))
    if not steps:
        raise WeightsError(
            "Nothing to do: give --quantize, --prune, --prune-threshold or --sparse, or a "
            "--recipe file."
        )
    return WeightsRecipe(steps=tuple(steps))


def _compress(args: argparse.Namespace, out: TextIO, progress: Any) -> int:
    from core.weights import compress_file

    recipe = recipe_from_args(args)
    progress(f"Compressing {Path(args.file).name}")
    report = compress_file(args.file, args.output, recipe)
    if args.recipe_out:
        Path(args.recipe_out).write_text(recipe.to_json() + "\n", encoding="utf-8")
    if args.format == "json" or args.json:
        json.dump(
            {
                "input": Path(args.file).name,
                "output": Path(args.output).name,
                "original_bytes": report.original_bytes,
                "written_bytes": report.written_bytes,
                "ratio": report.ratio,
                "recipe": json.loads(recipe.to_json()),
                "tensors": [
                    {
                        "name": t.name,
                        "parameters": t.parameters,
                        "storage": t.storage,
                        "layout": t.layout,
                        "sparsity": t.sparsity,
                        "relative_error": _num(t.relative_error),
                        "max_abs_error": _num(t.max_abs_error),
                        "snr_db": _num(t.snr_db),
                    }
                    for t in report.tensors
                ],
            },
            out,
            indent=2,
        )
        out.write("\n")
        return 0
    lines = [
        f"Wrote {Path(args.output).name}: {report.written_bytes:,} bytes, from "
        f"{report.original_bytes:,} ("
        + (
            f"{report.ratio:.2f}x smaller)"
            if report.ratio >= 1
            else f"{1 / report.ratio:.2f}x larger: the metadata outweighs the savings)"
        ),
        f"  {'tensor':<32}{'storage':<10}{'layout':<9}{'sparsity':>9}{'rel. error':>12}"
        f"{'max abs':>11}{'SNR dB':>9}",
    ]
    for t in report.tensors:
        lines.append(
            f"  {t.name[:31]:<32}{t.storage:<10}{t.layout:<9}{t.sparsity:>9.1%}"
            f"{t.relative_error:>12.3g}{t.max_abs_error:>11.3g}{t.snr_db:>9.1f}"
        )
    out.write("\n".join(lines) + "\n")
    return 0


def _encrypt(args: argparse.Namespace, out: TextIO, progress: Any) -> int:
    from core.cli import _encryption_secret
    from core.weights import encrypt_weights, open_weights

    open_weights(args.file)  # a pickle or a damaged file is refused before the prompt
    needs = "key" if args.encrypt_key_file else "passphrase"
    secret = _encryption_secret(args, progress, needs=needs, confirm=True)
    progress(f"Encrypting {Path(args.file).name}")
    written = encrypt_weights(
        args.file, args.output, age=args.age, work_factor=args.work_factor, **secret
    )
    kind = "age v1" if args.age else "PrivLens v1, AES-256-GCM"
    if args.format == "json" or args.json:
        json.dump(
            {
                "input": Path(args.file).name,
                "output": Path(args.output).name,
                "format": "age" if args.age else "privlens",
                "secret": needs,
                "bytes": written,
            },
            out,
            indent=2,
        )
        out.write("\n")
    else:
        out.write(
            f"Encrypted {Path(args.file).name} ({kind}, with the {needs}): wrote {written:,} "
            f"bytes to {Path(args.output).name}. Open it with python -m core decrypt.\n"
        )
    return 0


def _check_encrypt_usage(args: argparse.Namespace) -> str | None:
    if args.age and args.encrypt_key_file:
        return "--age encrypts with a passphrase only; drop --encrypt-key-file"
    if not SCRYPT_WORK_FACTOR_MIN <= args.work_factor <= SCRYPT_WORK_FACTOR_MAX:
        return (
            f"--work-factor must be in [{SCRYPT_WORK_FACTOR_MIN}, {SCRYPT_WORK_FACTOR_MAX}]; "
            f"got {args.work_factor}"
        )
    return None


def _check_compress_usage(args: argparse.Namespace) -> str | None:
    if args.recipe and (
        args.quantize or args.prune is not None or args.prune_threshold is not None or args.sparse
    ):
        return "--recipe replaces the step options; give one or the other"
    if args.prune is not None and args.prune_threshold is not None:
        return "--prune and --prune-threshold exclude each other"
    return None


def add_weights(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``weights inspect|compress|encrypt`` on the top-level subparsers ``sub``."""
    p = sub.add_parser(
        "weights",
        parents=[],
        help="inspect, compress or encrypt model weights (safetensors, .npz, ONNX)",
        description="Model weights: pickle formats (.pt, .pth, .bin, .pkl, .joblib) are "
        "refused because loading them runs code; convert them to safetensors first.",
    )
    verbs = p.add_subparsers(dest="weights_command", required=True, metavar="VERB")

    def verb(name: str, **kw: Any) -> argparse.ArgumentParser:
        v: argparse.ArgumentParser = verbs.add_parser(
            name, parents=[common], allow_abbrev=False, **kw
        )
        v.add_argument("file", help="a .safetensors, .npz or .onnx weights file")
        v.add_argument("--json", action="store_true", help="print JSON (same as --format json)")
        return v

    i = verb("inspect", help="table of tensors: shape, dtype, parameters, statistics")
    i.set_defaults(handler=_inspect)

    c = verb(
        "compress",
        help="prune, quantize or cast, and store sparse; prints size and error per tensor",
        description="Steps run in the order prune, quantize (or cast), sparsify. The output "
        "is safetensors with the quantization parameters as metadata "
        "(docs/weights-format.md).",
    )
    c.add_argument("-o", "--output", required=True, help="output .safetensors file")
    c.add_argument("--quantize", choices=("int8", "int4", "float16", "bfloat16"))
    c.add_argument("--asymmetric", action="store_true", help="quantize with a zero point")
    c.add_argument(
        "--per-channel",
        action="store_true",
        help="one scale per output channel (axis 0) instead of one per tensor",
    )
    c.add_argument("--prune", type=float, metavar="S", help="zero this share (0-1) by magnitude")
    c.add_argument("--prune-threshold", type=float, metavar="T", help="zero every |w| < T")
    c.add_argument(
        "--global",
        dest="global_prune",
        action="store_true",
        help="--prune ranks magnitudes over all tensors together",
    )
    c.add_argument("--sparse", choices=("csr", "bitmask"), help="store without the zeros")
    c.add_argument("--recipe", metavar="FILE", help="weights recipe JSON (replaces the options)")
    c.add_argument("--recipe-out", metavar="FILE", help="write the recipe used as JSON")
    c.set_defaults(handler=_compress, usage_check=_check_compress_usage, subparser=c)

    e = verb(
        "encrypt",
        help="encrypt a weights file (AES-256-GCM PrivLens format, or age)",
        description="Encrypt a weights file, original or compressed; python -m core decrypt "
        "opens it. The passphrase is read from --passphrase-file or typed twice at a hidden "
        "prompt.",
    )
    e.add_argument("-o", "--output", required=True, help="output, e.g. model.safetensors.plenc")
    how = e.add_mutually_exclusive_group()
    how.add_argument(
        "--passphrase-file", metavar="FILE", help="file whose first line is the passphrase"
    )
    how.add_argument(
        "--encrypt-key-file",
        metavar="FILE",
        help="encrypt with this key file (python -m core keygen --encryption -o FILE)",
    )
    e.add_argument("--age", action="store_true", help="write a standard age v1 file")
    e.add_argument(
        "--work-factor",
        type=int,
        default=SCRYPT_WORK_FACTOR_DEFAULT,
        metavar="N",
        help=f"scrypt log2 N for a passphrase, {SCRYPT_WORK_FACTOR_MIN} to "
        f"{SCRYPT_WORK_FACTOR_MAX} (default {SCRYPT_WORK_FACTOR_DEFAULT})",
    )
    e.set_defaults(handler=_encrypt, usage_check=_check_encrypt_usage, subparser=e)
