"""Command line: ``python -m core analyze | harden | keygen``.

``analyze`` prints the re-identification risk and leakage summary of a table; ``harden``
replays a recipe made on the Masking page; ``keygen`` writes a fresh pseudonymization key.

Secrets never come from the command line (where ``ps`` and shell history would show
them): a key is read from a file (``--key-file``) or typed at a hidden prompt. Progress goes
to standard error, results to standard output or the output file. Exit codes: 0 success,
1 a data, recipe or parameter problem (the message is on standard error, without a
traceback), 2 a usage error, 130 interrupted.

New subcommands (``decrypt``, ...) register in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from core import __version__
from core.errors import InvalidParameterError, PrivLensError, RecipeError

__all__ = ["COMMANDS", "build_parser", "main", "write_table"]


class _Progress:
    """Short progress lines on standard error, with the elapsed time."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream, self.quiet, self.t0 = stream, quiet, time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.t0:6.1f}s] {message}", file=self.stream)
            self.stream.flush()


def _split(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _load(path: str, na_values: str | None, progress: _Progress) -> pd.DataFrame:
    from core.data import load

    progress(f"Loading {Path(path).name}")
    result = load(path, na_values=tuple(_split(na_values)))
    for w in result.warnings:
        progress(f"warning: {w}")
    progress(f"Loaded {result.frame.shape[0]:,} rows x {result.frame.shape[1]} columns")
    return result.frame


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as CSV (UTF-8), Parquet or JSON Lines, by the file's extension.

    Raises
    ------
    InvalidParameterError
        An extension other than .csv, .parquet or .jsonl.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".csv", ".parquet", ".jsonl"):
        raise InvalidParameterError(
            f"the output must end in .csv, .parquet or .jsonl; got '{ext or '(none)'}'."
        )
    if ext == ".parquet":
        frame.to_parquet(p, index=False)
    elif ext == ".jsonl":
        frame.to_json(p, orient="records", lines=True, force_ascii=False)
    else:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pcsv.write_csv(table.replace_schema_metadata(None), p)


# --- analyze -------------------------------------------------------------------------------


def _analyze(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    from core import correlation, risk

    df = _load(args.file, args.na_values, progress)
    qis = _split(args.qi)
    sensitive = _split(args.sensitive)
    progress(f"Computing re-identification risk over {len(qis)} quasi-identifier(s)")
    summary = risk.risk_summary(df, qis, threshold=args.threshold)
    report: dict[str, Any] = {
        "file": Path(args.file).name,
        "rows": summary.n,
        "columns": int(df.shape[1]),
        "quasi_identifiers": qis,
        "risk": {
            "k": summary.k,
            "classes": summary.n_classes,
            "sample_uniques": summary.sample_uniques,
            "records_below_2": summary.below_2,
            "records_below_5": summary.below_5,
            "threshold": args.threshold,
            "records_at_risk": summary.prosecutor.records_at_risk,
            "share_at_risk": summary.prosecutor.share_at_risk,
            "highest_risk": summary.prosecutor.highest,
            "average_risk": summary.prosecutor.average,
            "marketer_risk": summary.marketer,
            "expected_reidentifications": summary.individual.expected_reidentifications,
        },
        "leakage": [],
        "warnings": list(summary.warnings),
    }
    for s in sensitive:
        progress(f"Ranking columns by leakage of '{s}'")
        rep = correlation.leakage_ranking(df, sensitive=s, top=args.top)
        report["warnings"].extend(rep.warnings)
        report["leakage"].append(
            {
                "sensitive": s,
                "baseline_accuracy": rep.baseline_accuracy,
                "proxies": list(rep.proxies),
                "top": [
                    {
                        "column": e.column,
                        "measure": e.measure,
                        "score": e.score,
                        "association": e.association,
                        "nmi": e.nmi,
                        "guess_accuracy": e.guess_accuracy,
                        "lift": e.lift,
                        "proxy": e.proxy,
                    }
                    for e in rep.entries[: args.top]
                ],
            }
        )
    if args.format == "json":
        json.dump(report, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(_analyze_text(report))
    return 0


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _analyze_text(r: dict[str, Any]) -> str:
    k = r["risk"]
    lines = [
        f"{r['file']}: {r['rows']:,} rows, {r['columns']} columns",
        f"Quasi-identifiers: {', '.join(r['quasi_identifiers'])}",
        "",
        "Re-identification risk (prosecutor model)",
        f"  k-anonymity            {k['k']}",
        f"  equivalence classes    {k['classes']:,}",
        f"  sample uniques         {k['sample_uniques']:,} "
        f"({_pct(k['sample_uniques'] / r['rows'])})",
        f"  records at risk > {k['threshold']:g}  {k['records_at_risk']:,} "
        f"({_pct(k['share_at_risk'])})",
        f"  highest risk           {_pct(k['highest_risk'])}",
        f"  average risk           {_pct(k['average_risk'])}",
        f"  marketer risk          {_pct(k['marketer_risk'])}",
        f"  expected re-identifications (sdcMicro)  {k['expected_reidentifications']:,.1f}",
    ]
    for leak in r["leakage"]:
        lines += [
            "",
            f"Leakage of '{leak['sensitive']}' (majority guess: {_pct(leak['baseline_accuracy'])})",
            f"  {'column':<24}{'measure':<12}{'score':>7}{'guess':>9}{'lift':>7}",
        ]
        for e in leak["top"]:
            guess = "" if e["guess_accuracy"] is None else _pct(e["guess_accuracy"])
            lift = "" if e["lift"] is None else f"{e['lift']:.2f}"
            flag = "  proxy" if e["proxy"] else ""
            lines.append(
                f"  {e['column'][:23]:<24}{e['measure'][:11]:<12}{e['score']:>7.3f}"
                f"{guess:>9}{lift:>7}{flag}"
            )
    if r["warnings"]:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in r["warnings"]]
    return "\n".join(lines) + "\n"


# --- harden --------------------------------------------------------------------------------


def _read_key_file(path: str) -> bytes:
    from core.masking import _check_key, key_from_text

    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _check_key(raw)  # a binary key file
    return key_from_text(text)


def _collect_secrets(
    needed: Sequence[str], key_files: Sequence[str], prompt: Callable[[str], str]
) -> dict[str, bytes]:
    from core.masking import key_from_text

    secrets: dict[str, bytes] = {}
    for spec in key_files:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = "", spec
        key = _read_key_file(path)
        targets = [name] if name else list(needed) or ["pseudonym_key"]
        for t in targets:
            secrets[t] = key
    for name in needed:
        if name not in secrets:
            if not sys.stdin.isatty():
                raise RecipeError(
                    f"The recipe needs the key '{name}'. Give it with --key-file {name}=FILE "
                    "(the key is never read from the command line)."
                )
            secrets[name] = key_from_text(prompt(f"Key '{name}' (hex or passphrase): "))
    return secrets


def _harden(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    from core.recipe import Recipe, apply, validate

    recipe = Recipe.from_json(Path(args.recipe).read_bytes())
    df = _load(args.file, args.na_values, progress)
    validate(df, recipe)  # before asking for a key
    secrets = _collect_secrets(recipe.secrets_needed(), args.key_file or [], getpass.getpass)
    result = apply(
        df,
        recipe,
        secrets=secrets,
        progress=lambda i, n, d: progress(f"Step {i}/{n}: {d}"),
    )
    progress(f"Writing {Path(args.output).name}")
    write_table(result.frame, args.output)
    summary = {
        "output": Path(args.output).name,
        "rows": int(result.frame.shape[0]),
        "columns": int(result.frame.shape[1]),
        "records_removed": result.records_removed,
        "share_changed": result.share_changed,
        "changes": [
            {
                "column": c.column,
                "transforms": list(c.transforms),
                "cells_changed": c.cells_changed,
                "cells_suppressed": c.cells_suppressed,
                "dropped": c.dropped,
            }
            for c in result.changes
        ],
        "warnings": list(result.warnings),
    }
    if args.format == "json":
        json.dump(summary, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        lines = [
            f"Wrote {summary['output']}: {summary['rows']:,} rows x {summary['columns']} columns"
            f" ({_pct(result.share_changed)} of cells changed, suppressed or removed)",
            f"  {'column':<24}{'changed':>10}{'suppressed':>12}  transforms",
        ]
        for c in result.changes:
            what = "dropped" if c.dropped else ", ".join(c.transforms) or "-"
            lines.append(
                f"  {c.column[:23]:<24}{c.cells_changed:>10,}{c.cells_suppressed:>12,}  {what}"
            )
        if result.records_removed:
            lines.append(f"  records removed: {result.records_removed:,}")
        lines += [f"warning: {w}" for w in result.warnings]
        out.write("\n".join(lines) + "\n")
    return 0


# --- keygen --------------------------------------------------------------------------------


def _keygen(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    from core.masking import generate_key

    path = Path(args.output)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never overwrite a key
    with os.fdopen(fd, "w") as fh:
        fh.write(generate_key().hex() + "\n")
    out.write(f"Wrote a new 256-bit key to {path.name} (readable by you only). Keep it safe.\n")
    return 0


# --- parser --------------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, TextIO, _Progress], int]


def _add_analyze(sub: Any) -> None:
    p = sub.add_parser("analyze", help="risk and leakage summary of a table")
    p.add_argument("file", help="CSV, TSV, XLSX, Parquet or JSON file")
    p.add_argument("--qi", required=True, help="quasi-identifiers, comma-separated")
    p.add_argument("--sensitive", help="sensitive attribute(s), comma-separated")
    p.add_argument("--threshold", type=float, default=0.2, help="risk threshold (default 0.2)")
    p.add_argument("--top", type=int, default=5, help="leakage columns shown (default 5)")
    p.set_defaults(handler=_analyze)


def _add_harden(sub: Any) -> None:
    p = sub.add_parser("harden", help="apply a recipe (from the Masking page) to a table")
    p.add_argument("file", help="CSV, TSV, XLSX, Parquet or JSON file")
    p.add_argument("--recipe", required=True, help="recipe JSON file")
    p.add_argument("-o", "--output", required=True, help="output .csv, .parquet or .jsonl")
    p.add_argument(
        "--key-file",
        action="append",
        metavar="[NAME=]FILE",
        help="file holding a pseudonymization key (hex or passphrase); repeat per key name",
    )
    p.set_defaults(handler=_harden)


def _add_keygen(sub: Any) -> None:
    p = sub.add_parser("keygen", help="write a new random pseudonymization key file")
    p.add_argument("-o", "--output", required=True, help="key file to create (must not exist)")
    p.set_defaults(handler=_keygen)


#: Subcommand registrars, in help order. Add ``decrypt`` etc. here.
COMMANDS: list[Callable[[Any], None]] = [_add_analyze, _add_harden, _add_keygen]


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m core`` argument parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--format", choices=("text", "json"), default="text")
    common.add_argument(
        "--na-values", metavar="A,B", help="extra strings read as missing (e.g. '?')"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="PrivLens: privacy risk analysis and hardening of tabular data.",
    )
    parser.add_argument("--version", action="version", version=f"PrivLens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    original = sub.add_parser

    def add_parser(*a: Any, **kw: Any) -> argparse.ArgumentParser:
        kw.setdefault("parents", [common])
        return original(*a, **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign]
    for register in COMMANDS:
        register(sub)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data/parameter error, 2 usage)."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help/--version (0)
        return int(exc.code or 0)
    progress = _Progress(err, args.quiet)
    handler: Handler = args.handler
    try:
        return handler(args, out, progress)
    except PrivLensError as exc:
        print(f"error: {exc}", file=err)
        return 1
    except FileExistsError as exc:
        print(f"error: {Path(str(exc.filename)).name} already exists; choose a new name.", file=err)
        return 1
    except OSError as exc:
        name = Path(str(exc.filename)).name if exc.filename else "a file"
        print(f"error: cannot use {name}: {exc.strerror or exc}.", file=err)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130
