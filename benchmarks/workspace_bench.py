#!/usr/bin/env python3
"""Benchmark: restoring a stored workspace after a reload against loading the same table from
Parquet, side by side.

A generated 1,000,000-row mixed table (integers, floats, categories as text, dates, IDs, ZIP
codes with leading zeros) is read by PrivLens's loader and put in a new workspace of a
database file (as the Data page does: ``WorkspaceSession.start``, encrypted, Arrow IPC +
zstd). Then, alternately and several times:

- **restore**: what the app does when a tab is reloaded (``ui.state._resume`` without
  Streamlit): read the server secret, open the store and the budget book on a new connection
  to the database, and ``WorkspaceSession.resume`` with the link's token, which finds the
  workspace by the token's keyed hash, decrypts and checks its state and its table, and
  rebuilds the frame;
- **parquet (pandas)**: ``pandas.read_parquet`` of the same table written to a local file;
- **parquet (PrivLens)**: ``core.data.load`` of that file (the app's own Parquet intake).

Prints the median of each and the ratio of restore to each baseline (target <= 1.5), the
stored size, and the time of the table fingerprint (computed once per load, not on restore).

Run: ``benchmarks/workspace_bench.py [--rows 1000000] [--runs 5]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DB_ENV, SECRET_ENV = "PRIVLENS_DB", "PRIVLENS_SECRET_FILE"  # as in core.workspace.db


def make_table(rows: int) -> pd.DataFrame:
    """A mixed table as the loader makes it (CSV written, then read by ``core.data.load``)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from core.data import load

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows) + 10_000_000,
            "age": rng.integers(17, 91, rows),
            "income": np.round(rng.lognormal(10, 1, rows), 2),
            "sex": rng.choice(["Female", "Male"], rows),
            "city": rng.choice([f"City {i}" for i in range(300)], rows),
            "visit": (
                pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D")
            ).strftime("%Y-%m-%d"),
            "score": np.where(rng.random(rows) < 0.02, np.nan, rng.normal(0, 1, rows)),
            "zip": pd.Series(rng.integers(0, 100_000, rows)).map("{:05d}".format),
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)
        return load(path).frame


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from core.data import load
    from core.workspace import (
        BudgetBook,
        WorkspaceSession,
        WorkspaceStore,
        default_db_path,
        load_or_create_secret,
        table_fingerprint,
    )

    table = make_table(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[DB_ENV] = str(Path(tmp) / "privlens.sqlite3")
        os.environ.pop(SECRET_ENV, None)
        db, parquet = default_db_path(), Path(tmp) / "t.parquet"
        secret = load_or_create_secret()
        t0 = time.perf_counter()
        fingerprint = table_fingerprint(table, secret=secret)
        fp_s = time.perf_counter() - t0
        table.to_parquet(parquet, index=False)
        first = WorkspaceSession.start(
            WorkspaceStore.open(str(db), secret=secret), BudgetBook.open(str(db)), table,
            name="bench.csv", secret=secret,
        )  # fmt: skip

        def restore() -> WorkspaceSession:
            # ui.state._connections() on the reloaded session's thread, then _resume(token)
            key = load_or_create_secret()
            store, book = WorkspaceStore.open(str(db), secret=key), BudgetBook.open(str(db))
            return WorkspaceSession.resume(store, book, first.token)

        times: dict[str, list[float]] = {"restore": [], "pandas": [], "privlens": []}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            back = restore()
            times["restore"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            pd.read_parquet(parquet)
            times["pandas"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            load(parquet)
            times["privlens"].append(time.perf_counter() - t0)
        assert back.table is not None and back.workspace == first.workspace
        assert table_fingerprint(back.table, secret=secret) == fingerprint
        db_mb, pq_mb = db.stat().st_size / 2**20, parquet.stat().st_size / 2**20
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"rows: {args.rows:,}  columns: {table.shape[1]}  runs: {args.runs} (medians)")
    print(f"restore after reload   {med['restore']:.3f} s   (database {db_mb:.1f} MiB)")
    print(f"parquet, pandas        {med['pandas']:.3f} s   (file {pq_mb:.1f} MiB)")
    print(f"parquet, core.data     {med['privlens']:.3f} s")
    print(f"ratio restore / pandas parquet:    {med['restore'] / med['pandas']:.2f} (<= 1.5)")
    print(f"ratio restore / core.data parquet: {med['restore'] / med['privlens']:.2f} (<= 1.5)")
    print(f"table fingerprint (once per load): {fp_s:.3f} s")
    print("restored workspace equal, table has the same fingerprint: yes")


if __name__ == "__main__":
    main()
