"""Command line: ``python -m core analyze | harden | anonymize | decrypt | keygen | weights``.

``analyze`` prints the re-identification risk and leakage summary of a table; ``harden``
replays a recipe made on the Masking page and, with ``--encrypt``, writes the hardened table
(or, with ``--bundle``, a zip of table, recipe and privacy report) encrypted exactly as the
Export page does; ``anonymize`` searches the lattice of generalization hierarchies for the
least-loss transformation that meets privacy models (ARX-style) and can write it as a
recipe; ``decrypt`` opens a PrivLens (``.plenc``) or age passphrase file; ``keygen``
writes a fresh pseudonymization key (or, with ``--encryption``, an encryption key file);
``weights inspect | compress | encrypt`` works on model weights (:mod:`core.weights.commands`).
``model-risk`` measures what a model trained on a table leaks (:mod:`core.models.commands`).

Secrets never come from the command line (where ``ps`` and shell history would show
them): a key is read from a file (``--key-file``, ``--encrypt-key-file``), a passphrase from
a file (``--passphrase-file``) or typed at a hidden prompt, and none of them is ever printed.
Progress goes to standard error, results to standard output or the output file. Exit codes:
0 success, 1 a data, recipe, parameter or decryption problem (the message is on standard
error, without a traceback; each decryption failure -- wrong passphrase or key, tampered,
truncated, reordered, unknown format, work factor out of bounds -- has its own message, the
same as the Python API's), 2 a usage error, 128 + the signal number when interrupted: 130
Ctrl-C (SIGINT), 143 SIGTERM (what ``timeout`` and ``docker stop`` send), 129 SIGHUP. The
three are handled alike: what was being written is removed before the exit.

Examples
--------
::

    python -m core keygen --encryption -o export.key
    python -m core harden adult.csv --recipe recipe.json --key-file pseudonym.key \
        --encrypt --encrypt-key-file export.key --bundle -o hardened.zip.plenc
    python -m core decrypt hardened.zip.plenc --key-file export.key -o hardened.zip

New subcommands register in :data:`COMMANDS`.
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
from typing import Any, NoReturn, TextIO

import pandas as pd

from core import __version__
from core.errors import (
    InvalidParameterError,
    PrivLensError,
    RecipeError,
    WrongKeyError,
)
from core.limits import (
    SCRYPT_WORK_FACTOR_DEFAULT,
    SCRYPT_WORK_FACTOR_MAX,
    SCRYPT_WORK_FACTOR_MIN,
)
from core.terminal import PrintableStream

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


def write_table(
    frame: pd.DataFrame, path: str | Path, *, neutralize_formulas: bool = True
) -> None:
    """Write ``frame`` as CSV (UTF-8), Parquet or JSON Lines, by the file's extension.

    CSV and Parquet are written as the Export page writes them (CSV: formula cells and names
    prefixed with ``'`` unless ``neutralize_formulas`` is false, CRLF line ends), JSON Lines
    as its JSON records (ISO 8601 times with every digit); a table a format cannot hold
    unchanged is refused before anything is written.

    Raises
    ------
    InvalidParameterError
        An extension other than .csv, .parquet or .jsonl.
    ColumnError
        Duplicate or non-text column names, or a column the format cannot hold unchanged
        (Parquet: mixed kinds of values or integers past 64 bits; JSON Lines: infinities).
    """
    from core.export import export_table, json_records

    p = Path(path)
    ext = _table_extension(p)
    if ext == ".jsonl":
        p.write_text(json_records(frame, lines=True), encoding="utf-8")
        return
    fmt = ext.lstrip(".")
    p.write_bytes(export_table(frame, fmt, neutralize_formulas_in_csv=neutralize_formulas).data)


def _table_extension(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in (".csv", ".parquet", ".jsonl"):
        raise InvalidParameterError(
            f"the output must end in .csv, .parquet or .jsonl; got '{ext or '(none)'}'."
        )
    return ext


def _check_output_name(output: str) -> None:
    """The output's file name must be plain: it names the file and, in a bundle, the table's
    entry in the zip, where ``..\\..\\evil.csv`` would escape the folder it is unpacked in.
    Folders before it (``out/hardened.zip``) are the user's to choose."""
    from core.export import check_name

    name = Path(output).name
    plain = True
    try:
        check_name(name)
    except InvalidParameterError:
        plain = False
    if not plain:
        raise InvalidParameterError(
            "the output (-o) must end in a plain file name, without \\, :, control "
            "characters or any of * ? \" < > | (separate folders with /); got "
            f"{name[:60]!r}. Use e.g. -o out/hardened.zip."
        )


# --- analyze -------------------------------------------------------------------------------


def _analyze(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    from core import correlation, risk

    qis = _split(args.qi)
    sensitive = _split(args.sensitive)
    engine = _engine_for(args.file, args.engine)
    if engine != "pandas":
        return _write_analysis(
            _analyze_on_engine(args, engine, qis, sensitive, progress), args, out
        )
    df = _load_table(args.file, args.na_values, progress)
    progress(f"Computing re-identification risk over {len(qis)} quasi-identifier(s)")
    summary = risk.risk_summary(df, qis, threshold=args.threshold, missing=args.missing)
    report: dict[str, Any] = {
        "file": Path(args.file).name,
        "engine": "pandas",
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
        _add_leakage(report, correlation.leakage_ranking(df, sensitive=s, top=args.top), args.top)
    if args.suda_sample or args.kendall:
        from core.engine import PandasEngine

        eng = PandasEngine()
        _add_sampled(report, eng, eng.open(df), qis, args, progress)
    return _write_analysis(report, args, out)


def _add_sampled(
    report: dict[str, Any], eng: Any, table: Any, qis: list[str], args: Any, progress: _Progress
) -> None:
    """SUDA2 and Kendall's tau on a uniform sample the engine draws, labelled as sampled."""
    from core import engine as engines

    out: dict[str, Any] = {}
    if args.suda_sample:
        progress(f"SUDA2 on a uniform sample of {args.suda_sample:,} rows")
        su = engines.sampled_suda2(eng, table, qis, sample_rows=args.suda_sample, seed=args.seed)
        report["warnings"].extend(su.warnings)
        out["suda2"] = {
            "sample_rows": su.sample_rows,
            "population_rows": su.population_rows,
            "seed": su.seed,
            "special_unique_share": su.special_unique_share,
            "ci": [su.share_low, su.share_high],
            "mean_dis_score": su.mean_dis_score,
            "max_dis_score": su.max_dis_score,
        }
    cols = _split(args.kendall)
    if cols:
        rows = args.sample_rows
        progress(f"Kendall's tau on a uniform sample of {rows:,} rows")
        kt = engines.sampled_kendall(eng, table, cols, sample_rows=rows, seed=args.seed)
        report["warnings"].extend(kt.warnings)
        out["kendall"] = {
            "sample_rows": kt.sample_rows,
            "population_rows": kt.population_rows,
            "seed": kt.seed,
            "pairs": [
                {
                    "a": kt.columns[i],
                    "b": kt.columns[j],
                    "tau": _finite(kt.tau[i, j]),
                    "ci": [_finite(kt.ci_low[i, j]), _finite(kt.ci_high[i, j])],
                }
                for i in range(len(cols))
                for j in range(i + 1, len(cols))
            ],
        }
    report["sampled"] = out


def _finite(x: Any) -> float | None:
    """A float for the JSON report, None for NaN (JSON has no NaN)."""
    return None if pd.isna(x) else float(x)


def _add_leakage(report: dict[str, Any], rep: Any, top: int) -> None:
    """Append a leakage ranking (any engine's) to the analysis report."""
    report["warnings"].extend(rep.warnings)
    report["leakage"].append(
        {
            "sensitive": rep.sensitive,
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
                for e in rep.entries[:top]
            ],
        }
    )


def _write_analysis(report: dict[str, Any], args: argparse.Namespace, out: TextIO) -> int:
    if args.format == "json":
        json.dump(report, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(_analyze_text(report))
    return 0


def _engine_for(path: str, requested: str) -> str:
    """The engine to use: ``auto`` keeps a single non-Parquet file (CSV, XLSX, ...) on pandas
    and sizes Parquet input with :func:`core.engine.choose_engine`."""
    from core.engine import choose_engine

    if requested == "auto" and not _is_dataset(path) and Path(path).suffix.lower() != ".parquet":
        return "pandas"
    return choose_engine(requested, path)


def _is_dataset(path: str) -> bool:
    """A folder or a glob (read as a Parquet dataset), not a single file."""
    return Path(path).is_dir() or any(ch in path for ch in "*?[")


def _load_table(path: str, na_values: str | None, progress: _Progress) -> pd.DataFrame:
    """A file through the loader; a Parquet folder or glob through the pandas engine."""
    if not _is_dataset(path):
        return _load(path, na_values, progress)
    from core.engine import PandasEngine

    progress(f"Reading the Parquet files of {Path(path).name} into memory")
    eng = PandasEngine()
    table = eng.open(path)
    progress(f"Loaded {table.n_rows:,} rows x {len(table.columns)} columns ({table.source})")
    return eng.frame(table)


def _analyze_on_engine(
    args: argparse.Namespace,
    name: str,
    qis: list[str],
    sensitive: list[str],
    progress: _Progress,
) -> dict[str, Any]:
    """The risk summary and leakage rankings computed where the data is (DuckDB, Spark)."""
    from core import engine as engines

    options: dict[str, Any] = {}
    if name == "duckdb":
        options = {"memory_limit": args.memory_limit, "temp_directory": args.temp_dir}
    progress(f"Opening {Path(args.file).name} with the {name} engine")
    with engines.make_engine(name, **options) as eng:
        table = eng.open(args.file)
        progress(f"Opened {table.n_rows:,} rows x {len(table.columns)} columns ({table.source})")
        progress(f"Computing re-identification risk over {len(qis)} quasi-identifier(s)")
        s = engines.risk_summary(
            eng, table, qis, threshold=args.threshold, missing=args.missing
        )
        rankings = []
        for col in sensitive:
            progress(f"Ranking columns by leakage of '{col}'")
            rankings.append(engines.leakage_ranking(eng, table, col, top=args.top))
        sampled: dict[str, Any] = {"warnings": []}
        if args.suda_sample or args.kendall:
            _add_sampled(sampled, eng, table, qis, args, progress)
    progress("Done")
    report: dict[str, Any] = {
        "file": Path(args.file).name,
        "engine": name,
        "rows": s.n,
        "columns": len(table.columns),
        "quasi_identifiers": qis,
        "risk": {
            "k": s.k,
            "classes": s.n_classes,
            "sample_uniques": s.sample_uniques,
            "records_below_2": s.below_2,
            "records_below_5": s.below_5,
            "threshold": args.threshold,
            "records_at_risk": s.records_at_risk,
            "share_at_risk": s.share_at_risk,
            "highest_risk": s.prosecutor_highest,
            "average_risk": s.prosecutor_average,
            "marketer_risk": s.marketer,
            "expected_reidentifications": s.expected_reidentifications,
        },
        "leakage": [],
        "warnings": list(s.warnings),
    }
    for rep in rankings:
        _add_leakage(report, rep, args.top)
    if "sampled" in sampled:
        report["sampled"] = sampled["sampled"]
        report["warnings"].extend(sampled["warnings"])
    return report


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _analyze_text(r: dict[str, Any]) -> str:
    k = r["risk"]
    lines = [
        f"{r['file']}: {r['rows']:,} rows, {r['columns']} columns ({r['engine']} engine)",
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
    lines += _sampled_text(r.get("sampled", {}))
    if r["warnings"]:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in r["warnings"]]
    return "\n".join(lines) + "\n"


def _sampled_text(sampled: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "suda2" in sampled:
        su = sampled["suda2"]
        lo, hi = su["ci"]
        lines += [
            "",
            f"SUDA2 on a uniform sample of {su['sample_rows']:,} of {su['population_rows']:,} "
            f"rows (seed {su['seed']}; scores of the sample as a file)",
            f"  special uniques        {_pct(su['special_unique_share'])} "
            f"(95% CI {_pct(lo)} to {_pct(hi)}, Wilson)",
            f"  DIS-SUDA score         mean {su['mean_dis_score']:.4f}, "
            f"highest {su['max_dis_score']:.4f}",
        ]
    if "kendall" in sampled:
        kt = sampled["kendall"]
        lines += [
            "",
            f"Kendall's tau on a uniform sample of {kt['sample_rows']:,} of "
            f"{kt['population_rows']:,} rows (seed {kt['seed']}; 95% CI, Fisher z)",
        ]
        for p in kt["pairs"]:
            if p["tau"] is None or None in p["ci"]:
                lines.append(f"  {p['a'][:20]} ~ {p['b'][:20]}  n/a")
                continue
            lo, hi = p["ci"]
            lines.append(
                f"  {p['a'][:20]} ~ {p['b'][:20]}  {p['tau']:+.3f}  ({lo:+.3f} to {hi:+.3f})"
            )
    return lines


# --- pseudonymization keys --------------------------------------------------------------


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


# --- encryption secrets ----------------------------------------------------------------------

#: Suffix of an encrypted output, by container.
ENCRYPTED_SUFFIXES = {"privlens": ".plenc", "age": ".age"}
#: Table formats of ``harden --encrypt`` / ``--bundle`` (those of the Export page).
EXPORT_EXTENSIONS = {".csv": "csv", ".parquet": "parquet", ".xlsx": "xlsx", ".json": "json"}


def _read_passphrase_file(path: str) -> str:
    """A passphrase file's text without its final line break (nothing else is stripped)."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterError(
            f"The passphrase file {Path(path).name} is not UTF-8 text. Save the passphrase "
            "as a plain text file."
        ) from None
    if text.endswith("\n"):
        text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
    if not text:
        raise InvalidParameterError(
            f"The passphrase file {Path(path).name} is empty. Write the passphrase on its "
            "first line."
        )
    if "\n" in text:
        raise InvalidParameterError(
            f"The passphrase file {Path(path).name} has {text.count(chr(10)) + 1} lines; it "
            "must hold the passphrase on one line."
        )
    return text


def _prompt_passphrase(prompt: Callable[[str], str], *, confirm: bool) -> str:
    """Ask at a hidden prompt (twice when ``confirm``); refuse without a terminal."""
    if not sys.stdin.isatty():
        raise InvalidParameterError(
            "A passphrase is needed and there is no terminal to type it at. Give it with "
            "--passphrase-file FILE (the passphrase is never read from the command line)."
        )
    first = prompt("Passphrase: ")
    if not first:
        raise InvalidParameterError("The passphrase is empty. Type a passphrase.")
    if confirm and prompt("Repeat the passphrase: ") != first:
        raise InvalidParameterError(
            "The two passphrases differ. Run the command again and type the same passphrase twice."
        )
    return first


def _encryption_secret(
    args: argparse.Namespace, progress: _Progress, *, needs: str, confirm: bool
) -> dict[str, Any]:
    """``{"passphrase": ...}`` or ``{"key": ...}`` from the files given or the prompt."""
    from core import crypto

    key_file = getattr(args, "encrypt_key_file", None) or getattr(args, "decrypt_key_file", None)
    if needs == "key":
        if key_file is None:
            raise WrongKeyError(
                f"{Path(args.file).name} was encrypted with a key file, not a passphrase. "
                "Give the key file with --key-file FILE."
            )
        return {"key": crypto.key_from_text(Path(key_file).read_bytes())}
    if key_file is not None:
        raise WrongKeyError(
            f"{Path(args.file).name} is protected by a passphrase, not a key file. Give it "
            "with --passphrase-file FILE or type it at the prompt."
        )
    if args.passphrase_file:
        passphrase = _read_passphrase_file(args.passphrase_file)
    else:
        passphrase = _prompt_passphrase(getpass.getpass, confirm=confirm)
    if confirm:
        strength = crypto.passphrase_strength(passphrase)
        if not strength.acceptable:
            progress(
                f"warning: the passphrase is easy to guess (strength {strength.score}/4, about "
                f"{strength.bits:.0f} bits). Prefer four or more random words."
            )
    return {"passphrase": passphrase}


def _write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a private temporary file renamed into place."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- harden --------------------------------------------------------------------------------


def _export_plan(args: argparse.Namespace) -> tuple[str, str]:
    """The table format and the export's base name, checked against the output's name.

    ``hardened.csv.plenc`` -> ("csv", "hardened"); ``out.zip.plenc`` with ``--bundle`` ->
    (``--table-format``, "out").
    """
    name = Path(args.output).name
    inner = name
    if args.encrypt:
        suffix = ENCRYPTED_SUFFIXES["age" if args.age else "privlens"]
        if not name.lower().endswith(suffix) or len(name) == len(suffix):
            raise InvalidParameterError(
                f"With --encrypt{' --age' if args.age else ''} the output name must end in "
                f"{suffix} (e.g. hardened.{'zip' if args.bundle else 'csv'}{suffix}); got "
                f"'{name}'."
            )
        inner = name[: -len(suffix)]
    ext = Path(inner).suffix.lower()
    if args.bundle:
        if ext != ".zip":
            raise InvalidParameterError(
                f"With --bundle the output is a zip: its name must end in .zip"
                f"{' plus the encryption suffix' if args.encrypt else ''}; got '{name}'."
            )
        return args.table_format, Path(inner).stem
    if ext not in EXPORT_EXTENSIONS:
        raise InvalidParameterError(
            f"With --encrypt the table format comes from the name before the encryption "
            f"suffix: .csv, .parquet, .xlsx or .json; got '{ext or '(none)'}' in '{name}'."
        )
    return EXPORT_EXTENSIONS[ext], Path(inner).stem


def _report_roles(args: argparse.Namespace, df: pd.DataFrame) -> dict[str, str]:
    """Roles for the privacy report: suggested as on the Data page, then --qi/--sensitive."""
    from core.profile import profile_frame
    from core.roles import Role, suggest_roles

    roles = {c: str(s.role) for c, s in suggest_roles(profile_frame(df)).items()}
    qis, sensitive = _split(args.qi), _split(args.sensitive)
    missing = [c for c in qis + sensitive if c not in roles]
    if missing:
        from core.errors import ColumnError

        raise ColumnError(
            f"{len(missing)} column(s) given with --qi/--sensitive are not in the table: "
            f"{', '.join(missing)}. Check the spelling (columns are case-sensitive)."
        )
    if qis:
        roles = {
            c: (str(Role.OTHER) if r == str(Role.QUASI_IDENTIFIER) else r) for c, r in roles.items()
        }
    if sensitive:
        roles = {c: (str(Role.OTHER) if r == str(Role.SENSITIVE) else r) for c, r in roles.items()}
    roles.update({c: str(Role.QUASI_IDENTIFIER) for c in qis})
    roles.update({c: str(Role.SENSITIVE) for c in sensitive})
    return roles


def _harden(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    from core.recipe import Recipe, apply, validate

    if args.engine != "pandas":
        return _harden_on_engine(args, out, progress)
    export = args.encrypt or args.bundle
    _check_output_name(args.output)
    fmt, base = _export_plan(args) if export else ("", "")
    if not export:
        _table_extension(Path(args.output))
    recipe = Recipe.from_json(Path(args.recipe).read_bytes())
    budget = _noise_budget(recipe, args.epsilon_budget)  # before any work
    df = _load(args.file, args.na_values, progress)
    validate(df, recipe)  # before asking for a key
    secrets = _collect_secrets(recipe.secrets_needed(), args.key_file or [], getpass.getpass)
    encryption: dict[str, Any] = {}
    if args.encrypt:  # asked for before the work starts, not after it
        needs = "key" if args.encrypt_key_file else "passphrase"
        encryption = _encryption_secret(args, progress, needs=needs, confirm=True)
    result = apply(
        df,
        recipe,
        secrets=secrets,
        progress=lambda i, n, d: progress(f"Step {i}/{n}: {d}"),
    )
    output = Path(args.output)
    if export:
        spent = None if budget is None else (budget["epsilon_spent"], budget["delta_spent"])
        written = _write_export(
            args, df, recipe, result, fmt, base, encryption, progress, dp_spent=spent
        )
    else:
        progress(f"Writing {output.name}")
        write_table(result.frame, output, neutralize_formulas=not args.keep_formulas)
        written = []
    summary = {
        "output": output.name,
        "rows": int(result.frame.shape[0]),
        "columns": int(result.frame.shape[1]),
        "records_removed": result.records_removed,
        "share_changed": result.share_changed,
        "encrypted": (
            None
            if not args.encrypt
            else ("age" if args.age else "privlens") + ("-key" if "key" in encryption else "")
        ),
        "bundle": written,
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
        "privacy_budget": budget,
        "warnings": list(result.warnings),
    }
    if args.format == "json":
        json.dump(summary, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        how = ""
        if args.encrypt:
            how = (
                " (age file, passphrase)"
                if args.age
                else " (encrypted with the key file)"
                if "key" in encryption
                else " (encrypted with the passphrase)"
            )
        lines = [
            f"Wrote {summary['output']}{how}: {summary['rows']:,} rows x {summary['columns']}"
            f" columns ({_pct(result.share_changed)} of cells changed, suppressed or removed)",
        ]
        if written:
            lines.append(f"  bundle: {', '.join(written)}")
        lines.append(f"  {'column':<24}{'changed':>10}{'suppressed':>12}  transforms")
        for c in result.changes:
            what = "dropped" if c.dropped else ", ".join(c.transforms) or "-"
            lines.append(
                f"  {c.column[:23]:<24}{c.cells_changed:>10,}{c.cells_suppressed:>12,}  {what}"
            )
        if result.records_removed:
            lines.append(f"  records removed: {result.records_removed:,}")
        if budget is not None:
            lines.append(
                f"  privacy budget: epsilon {budget['epsilon_spent']:g} of "
                f"{budget['epsilon_budget']:g} spent by {len(budget['steps'])} noisy step(s); "
                "no ledger is kept between runs: subtract it from what is left of the "
                "dataset's budget"
            )
        lines += [f"warning: {w}" for w in result.warnings]
        out.write("\n".join(lines) + "\n")
    return 0


def _harden_on_engine(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    """``harden --engine duckdb|spark``: the recipe runs where the data is and writes a folder
    of Parquet files (each encrypted with ``--encrypt``)."""
    from core import engine as engines
    from core.engine import harden as hardening
    from core.recipe import Recipe, validate

    _check_output_name(args.output)
    recipe = Recipe.from_json(Path(args.recipe).read_bytes())
    options: dict[str, Any] = {}
    if args.engine == "duckdb":
        options = {"memory_limit": args.memory_limit, "temp_directory": args.temp_dir}
    progress(f"Opening {Path(args.file).name} with the {args.engine} engine")
    with engines.make_engine(args.engine, **options) as eng:
        table = eng.open(args.file)
        progress(f"Opened {table.n_rows:,} rows x {len(table.columns)} columns ({table.source})")
        empty = eng.query(f"SELECT * FROM {eng.quote(table.name)} LIMIT 0")
        validate(empty, recipe)  # before asking for a key
        secrets = _collect_secrets(recipe.secrets_needed(), args.key_file or [], getpass.getpass)
        steps = lambda i, n, d: progress(f"Step {i}/{n}: {d}")  # noqa: E731
        if args.encrypt:
            needs = "key" if args.encrypt_key_file else "passphrase"
            encryption = _encryption_secret(args, progress, needs=needs, confirm=True)
            result = hardening.harden_encrypted(
                eng,
                table,
                recipe,
                args.output,
                secrets=secrets,
                work_factor=args.work_factor if "passphrase" in encryption else None,
                progress=steps,
                file_progress=lambda i, n, f: progress(f"Encrypting file {i}/{n}"),
                **encryption,
            )
        else:
            result = hardening.harden(eng, table, recipe, args.output, secrets=secrets,
                                      progress=steps)  # fmt: skip
    summary = {
        "output": Path(args.output).name,
        "engine": args.engine,
        "files": len(result.files),
        "rows": result.n_rows,
        "records_removed": result.records_removed,
        "cells_suppressed": dict(result.cells_suppressed),
        "encrypted": ("privlens" if args.encrypt else None),
        "warnings": list(result.warnings),
    }
    if args.format == "json":
        json.dump(summary, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    how = " (each encrypted)" if args.encrypt else ""
    lines = [f"Wrote {summary['output']}/: {len(result.files)} Parquet file(s){how}, "
             f"{result.n_rows:,} rows"]  # fmt: skip
    if result.records_removed:
        lines.append(f"  records removed: {result.records_removed:,}")
    lines += [
        f"  cells suppressed in {c}: {n:,}" for c, n in result.cells_suppressed.items() if n
    ]
    lines += [f"warning: {w}" for w in result.warnings]
    out.write("\n".join(lines) + "\n")
    return 0


def _noise_budget(recipe: Any, budget: float | None) -> dict[str, Any] | None:
    """What the recipe's noisy steps spend of ``--epsilon-budget``; ``None`` without any.

    PRAM and per-record noise are ε-DP steps: they run only against a budget the user states,
    charged to a ledger all or none, as the Masking page does.

    Raises
    ------
    InvalidParameterError
        If the recipe has noisy steps and no budget was given.
    BudgetExceededError
        If the steps together spend more than the budget.
    """
    from core.dp_budget import Ledger
    from core.recipe import charge_ledger, noise_spends

    spends = noise_spends(recipe)
    if not spends:
        return None
    if budget is None:
        total = sum(e for _, e, _ in spends)
        raise InvalidParameterError(
            f"the recipe adds noise under differential privacy in {len(spends)} step(s) "
            f"(PRAM or per-record noise, epsilon {total:g} in all), which spends the "
            "dataset's privacy budget; got no budget. Add --epsilon-budget E with what is "
            "left of this dataset's budget."
        )
    ledger = charge_ledger(Ledger(total_epsilon=budget), recipe)
    spent = ledger.composition()
    return {
        "epsilon_budget": float(budget),
        "epsilon_spent": float(spent.epsilon),
        "delta_spent": float(spent.delta),
        "steps": [
            {"step": e.label, "epsilon": e.epsilon, "delta": e.delta} for e in ledger.entries
        ],
    }


def _write_export(
    args: argparse.Namespace,
    df: pd.DataFrame,
    recipe: Any,
    result: Any,
    fmt: str,
    base: str,
    encryption: dict[str, Any],
    progress: _Progress,
    *,
    dp_spent: tuple[float, float] | None = None,
) -> list[str]:
    """Build the export as the Export page does, encrypt it, write it; the zip's entries."""
    from core.export import build_download, encrypt_export

    report = None
    if args.bundle:
        from core.report import build_report

        progress("Building the privacy report")
        report = build_report(
            df,
            result.frame,
            roles=_report_roles(args, df),
            recipe=recipe,
            hardening=result,
            dataset_name=Path(args.file).name,
            dp_spent=dp_spent,
        )
    plain = build_download(
        result.frame,
        fmt,
        bundle=args.bundle,
        neutralize_formulas_in_csv=not args.keep_formulas,
        recipe_json=recipe.to_json(),
        report=report,
        name=base,
    )
    if plain.neutralized_cells:
        progress(f"Neutralized {plain.neutralized_cells:,} spreadsheet formula cell(s) (CSV)")
    data = plain.data
    if args.encrypt:
        what = "the key file" if "key" in encryption else f"scrypt 2^{args.work_factor}"
        progress(f"Encrypting {len(data):,} bytes ({what})")
        data = encrypt_export(plain, age=args.age, work_factor=args.work_factor, **encryption).data
    progress(f"Writing {Path(args.output).name}")
    _write_bytes_atomically(Path(args.output), data)
    if not args.bundle:
        return []
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(plain.data)) as zf:
        return zf.namelist()


# --- decrypt -------------------------------------------------------------------------------


def _decrypt(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    from core import crypto

    src, dst = Path(args.file), Path(args.output)
    if dst.exists() and src.resolve() == dst.resolve():
        raise InvalidParameterError(
            f"The output {dst.name} is the encrypted file itself. Choose another output name."
        )
    with src.open("rb") as fh:  # read once, so a pipe works too
        info, stream = crypto.inspect_stream(fh)
        # The checks the API makes, with its messages, before asking for a secret.
        if info.work_factor is not None:
            crypto.check_work_factor(info.work_factor, cap=SCRYPT_WORK_FACTOR_MAX)
        if (info.needs == "key") != (args.decrypt_key_file is not None):
            raise crypto.wrong_secret_kind(info)
        kind = "PrivLens v1" if info.format == crypto.FORMAT_PRIVLENS else "age v1"
        progress(f"{src.name}: {kind} file, needs a {info.needs}")
        secret = _encryption_secret(args, progress, needs=info.needs, confirm=False)
        if info.work_factor is not None:
            progress(f"Deriving the key (scrypt 2^{info.work_factor})")
        result = crypto.decrypt_file(stream, dst, max_work_factor=SCRYPT_WORK_FACTOR_MAX, **secret)
    if args.format == "json":
        json.dump(
            {
                "input": src.name,
                "output": dst.name,
                "format": result.format,
                "plaintext_bytes": result.plaintext_bytes,
                "chunks": result.chunks,
                "work_factor": result.work_factor,
            },
            out,
            indent=2,
        )
        out.write("\n")
    else:
        out.write(
            f"Decrypted and verified {src.name} ({kind}, {result.chunks:,} chunk(s)): wrote "
            f"{result.plaintext_bytes:,} bytes to {dst.name}\n"
        )
    return 0


# --- keygen --------------------------------------------------------------------------------


def _keygen(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    path = Path(args.output)
    if args.encryption:
        from core import crypto

        text, what = crypto.key_to_text(crypto.generate_key()), "encryption key file"
    else:
        from core.masking import generate_key

        text, what = generate_key().hex() + "\n", "pseudonymization key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never overwrite a key
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    out.write(f"Wrote a new 256-bit {what} to {path.name} (readable by you only). Keep it safe.\n")
    return 0


# --- parser --------------------------------------------------------------------------------

Handler = Callable[[argparse.Namespace, TextIO, _Progress], int]


def _add_analyze(sub: Any) -> None:
    p = sub.add_parser("analyze", help="risk and leakage summary of a table")
    p.add_argument(
        "file", help="CSV, TSV, XLSX, Parquet or JSON file, or a Parquet folder or glob"
    )
    p.add_argument("--qi", required=True, help="quasi-identifiers, comma-separated")
    p.add_argument("--sensitive", help="sensitive attribute(s), comma-separated")
    p.add_argument("--threshold", type=float, default=0.2, help="risk threshold (default 0.2)")
    p.add_argument("--top", type=int, default=5, help="leakage columns shown (default 5)")
    p.add_argument(
        "--missing",
        choices=("category", "wildcard"),
        default="category",
        help="a missing QI value is its own category (default) or matches any value",
    )
    p.add_argument(
        "--engine",
        choices=("auto", "pandas", "duckdb", "spark"),
        default="auto",
        help="where the measures run; auto = pandas for files up to 256 MB of Parquet (and "
        "any CSV, XLSX or JSON file), DuckDB above. FILE may then be a Parquet folder or glob",
    )
    p.add_argument(
        "--memory-limit", default="4GB", help="DuckDB's memory limit (default 4GB); it spills "
        "to disk beyond"
    )
    p.add_argument("--temp-dir", help="where DuckDB spills (default: a fresh temporary folder)")
    p.add_argument(
        "--suda-sample", type=int, metavar="ROWS", help="also run SUDA2 on the QIs of a "
        "uniform sample of ROWS rows the engine draws (labelled as sampled, Wilson CI)"
    )
    p.add_argument(
        "--kendall", metavar="COLS", help="Kendall's tau of these numeric columns on a uniform "
        "sample of --sample-rows rows (labelled as sampled, with its CI)"
    )
    p.add_argument(
        "--sample-rows", type=int, default=100_000, help="rows of the Kendall sample "
        "(default 100000)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    p.set_defaults(handler=_analyze)


def _add_harden(sub: Any) -> None:
    p = sub.add_parser(
        "harden",
        help="apply a recipe (from the Masking page) to a table; optionally encrypt it",
        description="Apply a recipe to a table. Without --encrypt/--bundle the output is "
        "a plain .csv, .parquet or .jsonl file. With --encrypt the output is encrypted as on "
        "the Export page: name it TABLE.FMT.plenc (FMT = csv, parquet, xlsx, json), or "
        "TABLE.zip.plenc with --bundle; with --age, .age instead of .plenc.",
    )
    p.add_argument("file", help="CSV, TSV, XLSX, Parquet or JSON file")
    p.add_argument("--recipe", required=True, help="recipe JSON file")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output: .csv, .parquet or .jsonl; with --encrypt e.g. hardened.csv.plenc; with "
        "--bundle a .zip (hardened.zip.plenc when encrypted)",
    )
    p.add_argument(
        "--key-file",
        action="append",
        metavar="[NAME=]FILE",
        help="file holding a pseudonymization key (hex or passphrase); repeat per key name",
    )
    enc = p.add_argument_group("encryption (the secret never goes on the command line)")
    enc.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt the output (AES-256-GCM, PrivLens format); the passphrase is read from "
        "--passphrase-file or typed twice at a hidden prompt",
    )
    how = enc.add_mutually_exclusive_group()
    how.add_argument(
        "--passphrase-file", metavar="FILE", help="file whose first line is the passphrase"
    )
    how.add_argument(
        "--encrypt-key-file",
        metavar="FILE",
        help="encrypt with this key file instead of a passphrase (python -m core keygen "
        "--encryption -o FILE makes one)",
    )
    enc.add_argument(
        "--age",
        action="store_true",
        help="write a standard age v1 file (passphrase only) that any age tool opens",
    )
    enc.add_argument(
        "--work-factor",
        type=int,
        default=SCRYPT_WORK_FACTOR_DEFAULT,
        metavar="N",
        help=f"scrypt log2 N for a passphrase, {SCRYPT_WORK_FACTOR_MIN} to "
        f"{SCRYPT_WORK_FACTOR_MAX} (default {SCRYPT_WORK_FACTOR_DEFAULT})",
    )
    out = p.add_argument_group("export")
    out.add_argument(
        "--bundle",
        action="store_true",
        help="write a zip of the table, the recipe and the privacy report (HTML and JSON)",
    )
    out.add_argument(
        "--table-format",
        choices=tuple(EXPORT_EXTENSIONS.values()),
        default="csv",
        help="format of the table inside the bundle (default csv)",
    )
    out.add_argument(
        "--keep-formulas",
        action="store_true",
        help="do not prefix CSV text cells and column names starting with = + - @ tab or CR "
        "with ' (plain .csv output too)",
    )
    p.add_argument(
        "--epsilon-budget",
        type=float,
        metavar="E",
        help="privacy budget (epsilon) left for this dataset; needed when the recipe has PRAM "
        "or per-record DP noise steps, whose epsilon is charged to it (all or none) and "
        "reported in the summary and the privacy report",
    )
    out.add_argument("--qi", help="report: quasi-identifiers (default: suggested roles)")
    out.add_argument("--sensitive", help="report: sensitive attributes (default: suggested)")
    big = p.add_argument_group("large data")
    big.add_argument(
        "--engine",
        choices=("pandas", "duckdb", "spark"),
        default="pandas",
        help="where the recipe runs (default pandas, in memory). With duckdb or spark, FILE "
        "may be a Parquet file, folder or glob and -o names a new folder that receives "
        "Parquet files (with --encrypt, each as FILE.parquet.plenc)",
    )
    big.add_argument("--memory-limit", default="4GB", help="DuckDB's memory limit (default 4GB)")
    big.add_argument("--temp-dir", help="where DuckDB spills (default: a fresh temporary folder)")
    p.set_defaults(handler=_harden, usage_check=_check_harden_usage, subparser=p)


def _check_harden_usage(args: argparse.Namespace) -> str | None:
    """Option combinations argparse cannot express; a message means a usage error (2)."""
    if not args.encrypt:
        given = [
            flag
            for flag, value in (
                ("--passphrase-file", args.passphrase_file),
                ("--encrypt-key-file", args.encrypt_key_file),
                ("--age", args.age),
            )
            if value
        ]
        if given:
            return f"{', '.join(given)} need(s) --encrypt"
    if args.age and args.encrypt_key_file:
        return "--age encrypts with a passphrase only; drop --encrypt-key-file"
    if not SCRYPT_WORK_FACTOR_MIN <= args.work_factor <= SCRYPT_WORK_FACTOR_MAX:
        return (
            f"--work-factor must be in [{SCRYPT_WORK_FACTOR_MIN}, {SCRYPT_WORK_FACTOR_MAX}]; "
            f"got {args.work_factor}"
        )
    if not args.bundle and (args.qi or args.sensitive):
        return "--qi/--sensitive only shape the privacy report: add --bundle"
    if args.engine != "pandas":
        given = [
            flag
            for flag, value in (
                ("--bundle", args.bundle),
                ("--age", args.age),
                ("--epsilon-budget", args.epsilon_budget is not None),
                ("--keep-formulas", args.keep_formulas),
            )
            if value
        ]
        if given:
            return f"{', '.join(given)} work(s) with --engine pandas only (the default)"
    return None


def _add_decrypt(sub: Any) -> None:
    p = sub.add_parser(
        "decrypt",
        help="decrypt a PrivLens (.plenc) or age passphrase file",
        description="Decrypt a file from the Export page or harden --encrypt (or an age file "
        "protected by a passphrase); FILE may be a pipe. Every chunk is authenticated; OUT is "
        "written only when the whole file verified, and never partially: until then the "
        "plaintext goes to a file without a name (mode 0600) in OUT's folder. Ctrl-C, SIGTERM "
        "and SIGHUP remove it and exit with 130, 143 and 129 (128 + the signal number). "
        "SIGKILL cannot be caught: it leaves no file either, but the blocks already written "
        "are freed without being overwritten, so someone who can read the raw disk may "
        "recover them (see docs/threat-model.md).",
    )
    p.add_argument("file", help="the encrypted file")
    p.add_argument("-o", "--output", required=True, help="where to write the plaintext")
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--key-file",
        dest="decrypt_key_file",
        metavar="FILE",
        help="the key file the data was encrypted with",
    )
    how.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="file whose first line is the passphrase (default: a hidden prompt)",
    )
    p.set_defaults(handler=_decrypt)


def _add_keygen(sub: Any) -> None:
    p = sub.add_parser("keygen", help="write a new random pseudonymization or encryption key")
    p.add_argument("-o", "--output", required=True, help="key file to create (must not exist)")
    p.add_argument(
        "--encryption",
        action="store_true",
        help="an encryption key file (for --encrypt-key-file / decrypt --key-file) instead of "
        "a pseudonymization key",
    )
    p.set_defaults(handler=_keygen)


# --- anonymize -----------------------------------------------------------------------------


def _parse_models(args: argparse.Namespace) -> list[Any]:
    """Privacy models from --k, --l, --t, --max-risk, --avg-risk."""
    from core import anonymize as an

    models: list[Any] = []
    if args.k is not None:
        models.append(an.KAnonymity(args.k))
    for spec in args.l or []:
        kind, _, rest = spec.partition(":")
        parts = rest.rsplit(":", 2 if kind == "recursive" else 1)
        try:
            if kind == "distinct" and len(parts) == 2:
                models.append(an.DistinctLDiversity(parts[0], int(parts[1])))
            elif kind == "entropy" and len(parts) == 2:
                models.append(an.EntropyLDiversity(parts[0], float(parts[1])))
            elif kind == "recursive" and len(parts) == 3:
                models.append(an.RecursiveCLDiversity(parts[0], float(parts[1]), int(parts[2])))
            else:
                raise ValueError
        except ValueError:
            raise InvalidParameterError(
                "--l must be distinct:COLUMN:L, entropy:COLUMN:L or recursive:COLUMN:C:L "
                f"(e.g. distinct:salary-class:2); got a value with {len(parts)} part(s) after "
                "the kind."
            ) from None
    for spec in args.t or []:
        kind, _, rest = spec.partition(":")
        col, _, value = rest.rpartition(":")
        cls = {"equal": an.EqualTCloseness, "ordered": an.OrderedTCloseness}.get(kind)
        try:
            if cls is None or not col:
                raise ValueError
            models.append(cls(col, float(value)))
        except ValueError:
            raise InvalidParameterError(
                "--t must be equal:COLUMN:T or ordered:COLUMN:T with T in [0, 1] (e.g. "
                "equal:salary-class:0.2)."
            ) from None
    if args.max_risk is not None:
        models.append(an.MaxRisk(args.max_risk))
    if args.avg_risk is not None:
        models.append(an.AverageRisk(args.avg_risk))
    if not models:
        raise InvalidParameterError(
            "Give at least one privacy model: --k, --l, --t, --max-risk or --avg-risk."
        )
    return models


def _anonymize(args: argparse.Namespace, out: TextIO, progress: _Progress) -> int:
    from core import anonymize as an
    from core.recipe import Recipe

    df = _load(args.file, args.na_values, progress)
    qis = _split(args.qi)
    files: dict[str, str] = {}
    for spec in args.hierarchy or []:
        col, sep, path = spec.partition("=")
        if not sep or not col or not path:
            raise InvalidParameterError(
                "--hierarchy must be COLUMN=FILE (an ARX hierarchy CSV), e.g. age=age.csv; got "
                "a value without '='."
            )
        files[col.strip()] = path
    hier = {
        c: an.read_hierarchy(path, name=f"the hierarchy of '{c}'")
        for c, path in files.items()
        if c in qis
    }
    models = _parse_models(args)
    progress(f"Searching the lattice of {len(qis)} quasi-identifier(s)")
    res = an.anonymize(
        df,
        qis,
        hier,
        models=models,
        suppression_limit=args.suppression_limit,
        metric=args.metric,
        method=args.method,
        time_limit=args.time_limit,
    )
    for w in res.warnings:
        progress(f"warning: {w}")
    if args.json:  # exactly the fields the issue lists; stdout's JSON adds the label etc.
        Path(args.json).write_text(json.dumps(res.to_json_dict(), indent=2) + "\n", "utf-8")
    if args.recipe_out and res.found:
        steps = an.to_recipe_steps(res, hier, df)
        rec = Recipe(steps=tuple(steps), source_columns=tuple(map(str, df.columns)))
        Path(args.recipe_out).write_text(rec.checked().to_json(), encoding="utf-8")
    if args.format == "json":
        json.dump(res.to_summary_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(_anonymize_text(res))
    return 0 if res.found else 1


def _anonymize_text(res: Any) -> str:
    if not res.found:
        return (
            f"No anonymous transformation ({res.label}); {res.nodes_checked:,} of "
            f"{res.lattice_size:,} transformations checked.\n"
        )
    lines = [
        f"Best transformation ({res.label}), metric {res.metric} = {res.score:.6g}",
        "  levels: " + ", ".join(f"{q}={lv}" for q, lv in res.levels_by_qi().items()),
        f"  models: {'; '.join(res.models)}; suppression limit {res.suppression_limit:g}",
        f"  suppressed records {res.suppressed_records:,}, classes {res.classes:,}, "
        f"smallest class {res.min_class_size:,}",
        f"  highest risk {_pct(res.max_risk)}, average risk {_pct(res.avg_risk)}",
        f"  {res.nodes_checked:,} of {res.lattice_size:,} transformations checked in "
        f"{res.seconds:.2f} s",
    ]
    return "\n".join(lines) + "\n"


def _add_anonymize(sub: Any) -> None:
    p = sub.add_parser(
        "anonymize",
        help="find the generalization with the least information loss (ARX-style search)",
        description="Search the lattice of hierarchy levels for the transformation that meets "
        "the privacy models within the suppression limit with the least information loss.",
    )
    p.add_argument("file", help="CSV, TSV, XLSX, Parquet or JSON file")
    p.add_argument("--qi", required=True, help="quasi-identifiers, comma-separated")
    p.add_argument(
        "--hierarchy",
        action="append",
        metavar="COLUMN=FILE",
        help="ARX hierarchy CSV of a quasi-identifier; repeat for each",
    )
    p.add_argument("--k", type=int, help="k-anonymity")
    p.add_argument(
        "--l",
        action="append",
        metavar="KIND:COLUMN:L",
        help="l-diversity: distinct:COL:L, entropy:COL:L or recursive:COL:C:L",
    )
    p.add_argument(
        "--t",
        action="append",
        metavar="KIND:COLUMN:T",
        help="t-closeness: equal:COL:T or ordered:COL:T",
    )
    p.add_argument("--max-risk", type=float, help="highest re-identification risk allowed")
    p.add_argument("--avg-risk", type=float, help="average re-identification risk allowed")
    p.add_argument(
        "--suppression-limit", type=float, default=0.0, help="share of records (default 0)"
    )
    p.add_argument(
        "--metric",
        default="loss",
        choices=("loss", "discernibility", "dm-star", "height", "entropy", "aecs"),
        help="quality model (default loss)",
    )
    p.add_argument("--method", default="optimal", choices=("optimal", "heuristic"))
    p.add_argument("--time-limit", type=float, help="seconds; then the best found is returned")
    p.add_argument("--json", metavar="OUT", help="write the result summary as JSON")
    p.add_argument("--recipe-out", metavar="FILE", help="write the result as a recipe JSON")
    p.set_defaults(handler=_anonymize)


#: Subcommand registrars, in help order.
COMMANDS: list[Callable[[Any], None]] = [
    _add_analyze,
    _add_harden,
    _add_anonymize,
    _add_decrypt,
    _add_keygen,
]


class _Parser(argparse.ArgumentParser):
    """An argument parser that does not echo unknown arguments (they may be a secret)."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            n = len(message.split(":", 1)[1].split())
            message = (
                f"{n} unrecognized argument(s) (not shown: they may hold a secret). Secrets "
                "are read from files or a prompt, never from the command line; see --help."
            )
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m core`` argument parser."""
    common = _Parser(add_help=False)
    common.add_argument("--format", choices=("text", "json"), default="text")
    common.add_argument(
        "--na-values", metavar="A,B", help="extra strings read as missing (e.g. '?')"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser = _Parser(
        prog="python -m core",
        allow_abbrev=False,
        description="PrivLens: privacy risk analysis and hardening of tabular data.",
    )
    parser.add_argument("--version", action="version", version=f"PrivLens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    original = sub.add_parser

    def add_parser(*a: Any, **kw: Any) -> argparse.ArgumentParser:
        kw.setdefault("parents", [common])
        kw.setdefault("allow_abbrev", False)  # "--passphrase X" must not mean --passphrase-file
        return original(*a, **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign,assignment]
    for register in COMMANDS:
        register(sub)
    from core.weights.commands import add_weights

    add_weights(sub, common)
    from core.models.commands import add_model_risk

    add_model_risk(sub)
    return parser


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, so it unwinds as Ctrl-C does.

    Every ``finally`` and ``except BaseException`` on the way runs: a decryption wipes and
    drops its unnamed output, an export removes its temporary file.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _trap_termination() -> Callable[[], None]:
    """Turn SIGTERM and SIGHUP into :class:`Interrupted`; return what restores the old.

    The first signal ignores later ones, so the clean-up it starts is not cut short. Does
    nothing off the main thread (where Python cannot set handlers).
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    trapped = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s]

    def interrupt(signum: int, frame: object) -> None:
        for s in trapped:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, interrupt) for s in trapped}

    def restore() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)

    return restore


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code (0 ok, 1 data/parameter error, 2 usage)."""
    # Messages name columns and header fields read from files: no control sequence gets through.
    out: TextIO = PrintableStream(stdout or sys.stdout)  # type: ignore[assignment]
    err: TextIO = PrintableStream(stderr or sys.stderr)  # type: ignore[assignment]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (2) and --help/--version (0)
        return int(exc.code or 0)
    check = getattr(args, "usage_check", None)
    problem = check(args) if check is not None else None
    if problem:
        args.subparser.print_usage(err)
        print(f"{args.subparser.prog}: error: {problem}", file=err)
        return 2
    progress = _Progress(err, args.quiet)
    handler: Handler = args.handler
    restore = _trap_termination()
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
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP turned into one
        import signal

        signum = int(getattr(exc, "signum", signal.SIGINT))
        print(f"interrupted ({signal.Signals(signum).name})", file=err)
        return 128 + signum
    finally:
        restore()
