"""The Spark engine: the same SQL plans on Apache Spark, in local mode or on a cluster.

PySpark and a Java runtime are an optional extra (``pip install -r requirements-spark.txt``;
Java 17 or 21, e.g. Debian's ``default-jre-headless``): this module imports PySpark only when
an engine is built, so PrivLens starts without it.

Where Spark runs:

- **local mode** (the default): the engine builds a ``SparkSession`` with
  ``master="local[N]"``, the web UI and the console progress bar off, and the driver bound to
  ``127.0.0.1`` (no network beyond loopback);
- **a cluster**: pass ``master="spark://host:7077"`` (or ``"yarn"``, ``"k8s://..."``), or a
  ``SparkSession`` built by the caller (``session=...``), which the engine uses as it is and
  does not stop;
- **Spark Connect**: pass ``remote="sc://host:15002"`` (parameters such as
  ``/;token=...;use_ssl=true`` go in the URL, as PySpark reads them), or
  ``remote="local[N]"``, which starts a Spark Connect server in a local session of this
  process (on loopback, a free port, a random token) and talks to it through the Connect
  client only; this needs the Connect client's packages (``requirements-spark.txt``). Over
  Connect the engine uses only the DataFrame and SQL API, no RDD or JVM handle.

A frame is handed to Spark through Arrow; Parquet files, folders (partition folders
``key=value`` become columns) and globs are read where they are. A path with a URL scheme
(``s3a://``, ``hdfs://``, ``abfss://``, ``gs://``, ``file://``) goes to Spark unchanged: it
need not exist on this machine, only where Spark runs. Each opened table is a
temporary view in which a float ``NaN`` is ``NULL`` (pandas treats ``NaN`` as missing), and the
measures of :mod:`core.engine.plans` run on it through ``spark.sql``. Only their small results
are collected (through Arrow), never rows of the table, except :meth:`SparkEngine.sample`.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import secrets
import socket
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd

from core.engine.base import Engine, Source, Table, check_sample_size, parquet_files
from core.engine.orders import frame_orders, parquet_orders
from core.errors import (
    ColumnError,
    CorruptFileError,
    DataLoadError,
    EngineError,
    InvalidParameterError,
    PrivLensError,
)
from core.frames import check_frame

__all__ = [
    "SPARK_COLLECT_ROWS_MAX",
    "SPARK_MASTER_DEFAULT",
    "SPARK_MASTER_ENV",
    "SPARK_SHUFFLE_PARTITIONS_DEFAULT",
    "SparkEngine",
]

#: Spark master when neither a session nor a master nor a remote URL is given.
SPARK_MASTER_DEFAULT = "local[*]"

#: Environment variable naming the master of an engine built without one (e.g. by
#: ``python -m core analyze --engine spark``); PySpark's own ``SPARK_REMOTE`` names a Spark
#: Connect URL the same way, and wins over it.
SPARK_MASTER_ENV = "PRIVLENS_SPARK_MASTER"

#: ``spark.sql.shuffle.partitions`` of a session the engine builds (Spark's default, 200,
#: is meant for clusters; adaptive execution coalesces further where it can).
SPARK_SHUFFLE_PARTITIONS_DEFAULT = 16

#: A query result with more rows than this is refused instead of collected: the measures
#: return histograms and aggregates, so more rows means a plan is collecting row-level data.
SPARK_COLLECT_ROWS_MAX = 1_000_000

_INSTALL = (
    "Install the Spark extra (pip install -r requirements-spark.txt) and a Java 17 or 21 "
    "runtime (Debian: apt-get install default-jre-headless)."
)
_FLOAT_TYPES = ("float", "double")
_names = itertools.count(1)
#: A path with a URL scheme (``s3a://bucket/x``, ``file:///data``): Spark resolves it.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: Seconds to wait for a Spark Connect server's port to accept a connection.
_CONNECT_TIMEOUT_S = 10.0
#: The plugin that makes a Spark session serve Spark Connect.
_CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"


@contextmanager
def _quiet() -> Iterator[None]:
    """Hide PySpark's notice that it does not yet fully support pandas 3.

    The engine hands data to and from Spark as Arrow tables and converts them with pyarrow,
    so PySpark's own pandas conversion, which the notice is about, is not used.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


def _pyspark_sql() -> Any:
    """``pyspark.sql``, imported on first use, or a clear error when PySpark is missing."""
    try:
        with _quiet():
            import pyspark.sql
    except ImportError:
        raise EngineError(
            f"The Spark engine needs PySpark, which is not installed. {_INSTALL}"
        ) from None
    return pyspark.sql


class SparkEngine(Engine):
    """Run the measures on Apache Spark through ``spark.sql``.

    Parameters
    ----------
    session : pyspark.sql.SparkSession, optional
        A session to use as it is (it is not stopped by :meth:`close`); when omitted the
        engine builds one from ``master`` or ``remote`` and stops it on :meth:`close`.
    master : str, optional
        Spark master of the session the engine builds: ``"local[N]"`` (N worker threads on
        this machine) or a cluster's URL. When neither ``master`` nor ``remote`` is given:
        the ``SPARK_REMOTE`` environment variable (a Spark Connect URL), else
        ``PRIVLENS_SPARK_MASTER``, else ``"local[*]"`` (every core of this machine).
    remote : str, optional
        A Spark Connect URL ``sc://host:port``, or ``"local[N]"`` for a Spark Connect server
        started in this process on loopback; excludes ``master``.
    shuffle_partitions : int
        ``spark.sql.shuffle.partitions`` of a session the engine builds (at least 1).
    config : mapping of str to str, optional
        More Spark settings for a session the engine builds, e.g.
        ``{"spark.driver.memory": "8g"}``.

    Raises
    ------
    EngineError
        PySpark is not installed, the Java runtime cannot start, or the Spark Connect
        server cannot be reached.
    InvalidParameterError
        Both ``master`` and ``remote``, a ``remote`` that is neither ``sc://...`` nor
        ``local[N]``, or a shuffle-partition count below 1.

    Examples
    --------
    A local session with one worker thread (slow to start: it launches a JVM)::

        with SparkEngine(master="local[1]") as eng:
            t = eng.open(pd.DataFrame({"a": [1, 1, 2]}))
            eng.query(f"SELECT COUNT(*) AS n FROM {eng.quote(t.name)}")
    """

    name = "spark"

    def __init__(
        self,
        session: Any | None = None,
        *,
        master: str | None = None,
        remote: str | None = None,
        shuffle_partitions: int = SPARK_SHUFFLE_PARTITIONS_DEFAULT,
        config: Mapping[str, str] | None = None,
    ) -> None:
        self._views: list[str] = []
        self._owned = session is None
        self._server: Any | None = None  # the local session serving Spark Connect
        if session is not None:
            self._spark = session
            return
        if master is not None and remote is not None:
            raise InvalidParameterError(
                "Give either a Spark master or a Spark Connect URL, not both; got master and "
                "remote. Use master='local[N]' for local mode or remote='sc://host:port'."
            )
        if isinstance(shuffle_partitions, bool) or not isinstance(shuffle_partitions, int):
            shuffle_partitions = -1
        if shuffle_partitions < 1:
            raise InvalidParameterError(
                "shuffle_partitions must be a whole number of at least 1; got an invalid "
                "value. Use a small number (4 to 32) in local mode."
            )
        if master is None and remote is None:
            # what the command line uses: PySpark's own SPARK_REMOTE, or a master to use
            remote = os.environ.get("SPARK_REMOTE") or None
            if remote is None:
                master = os.environ.get(SPARK_MASTER_ENV) or None
        sql = _pyspark_sql()
        if remote is not None and str(remote).startswith("local"):
            self._server, url = _connect_server(sql, remote, shuffle_partitions, config)
            try:
                self._spark = _connect(sql, url)
            except PrivLensError:
                self._server.stop()
                raise
        elif remote is not None:
            self._spark = _connect(sql, remote)
        else:
            self._spark = _local(sql, master or SPARK_MASTER_DEFAULT, shuffle_partitions, config)

    # --- Engine ------------------------------------------------------------------------

    def quote(self, identifier: str) -> str:
        """```name``` with embedded backticks doubled.

        >>> SparkEngine.quote(None, "a`b")  # type: ignore[arg-type]
        '`a``b`'
        """
        return "`" + str(identifier).replace("`", "``") + "`"

    def open(self, source: Source, *, name: str | None = None) -> Table:
        """Hand a frame to Spark through Arrow, or read a Parquet file, folder or glob."""
        name = name or f"privlens_t{next(_names)}"
        if isinstance(source, pd.DataFrame):
            df, kind = self._from_frame(source), "frame"
        elif isinstance(source, str | os.PathLike):
            df, kind = self._from_parquet(source)
        else:
            raise InvalidParameterError(
                f"An engine opens a pandas DataFrame or a Parquet path; got "
                f"{type(source).__name__}. Pass a frame, a .parquet file, a folder or a glob."
            )
        raw = f"{name}__raw"
        types = dict(df.dtypes)
        columns = tuple(str(c) for c in df.columns)
        if len(set(columns)) != len(columns):
            raise ColumnError(
                f"The table has {len(columns) - len(set(columns))} repeated column name(s). "
                "Give every column a distinct name."
            )
        with self._errors():
            df.createOrReplaceTempView(raw)
        self._views.append(raw)
        # float NaN is a missing value, as in pandas: map it to NULL for every measure
        select = ", ".join(
            f"CASE WHEN isnan({self.quote(c)}) THEN NULL ELSE {self.quote(c)} END "
            f"AS {self.quote(c)}"
            if types[c] in _FLOAT_TYPES
            else self.quote(c)
            for c in columns
        )
        self._sql(
            f"CREATE OR REPLACE TEMP VIEW {self.quote(name)} AS SELECT {select} "
            f"FROM {self.quote(raw)}"
        )
        self._views.append(name)
        n = int(self.query(f"SELECT COUNT(*) AS n FROM {self.quote(name)}")["n"].iloc[0])
        files = parquet_files(source) if kind.startswith("parquet (") and "URL" not in kind else ()
        # the categories' order, which Spark's string columns do not keep (none for a URL)
        orders = frame_orders(source) if kind == "frame" else parquet_orders(files)
        return Table(
            name=name, columns=columns, n_rows=n, source=kind, files=files, orders=orders
        )

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL and return its (small) result as a frame, collected through Arrow.

        Raises
        ------
        EngineError
            The result has more than :data:`SPARK_COLLECT_ROWS_MAX` rows, or Spark failed.
        ColumnError
            The SQL names a column the table does not have, or a value does not convert.
        """
        df = self._sql(sql)
        return self._collect(df.limit(SPARK_COLLECT_ROWS_MAX + 1), check=True)

    def sample(self, table: Table, n: int, seed: int) -> pd.DataFrame:
        """``min(n, rows)`` rows drawn uniformly without replacement (the ``n`` smallest of a
        seeded random key), reproducible for a seed on the same input files."""
        n = check_sample_size(n)
        df = self._sql(
            f"SELECT * FROM {self.quote(table.name)} ORDER BY rand({int(seed)}) LIMIT {n}"
        )
        return self._collect(df, check=False)

    def close(self) -> None:
        spark = getattr(self, "_spark", None)
        if spark is None:
            return
        self._spark = None
        try:
            if self._owned:
                spark.stop()
            else:
                for view in self._views:
                    spark.catalog.dropTempView(view)
        except Exception:  # noqa: BLE001 - closing never raises; the session may be gone
            pass
        server, self._server = getattr(self, "_server", None), None
        if server is not None:
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - as above
                pass

    # --- helpers -----------------------------------------------------------------------

    @property
    def session(self) -> Any:
        """The engine's ``SparkSession``."""
        if self._spark is None:
            raise InvalidParameterError(
                "The Spark engine is closed; got a query after close(). Open a new engine."
            )
        return self._spark

    def _from_frame(self, frame: pd.DataFrame) -> Any:
        import pyarrow as pa

        frame = check_frame(frame)
        for c in frame.columns:
            s = frame[c]
            if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True).startswith("mixed"):
                raise ColumnError(
                    f"Column '{c}' mixes kinds of values (numbers, text, ...); Spark holds one "
                    "type per column and would merge 1 and '1'. Give the column one kind, or "
                    "use the pandas engine."
                )
        try:
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
            raise ColumnError(
                f"A column of this table has a type Arrow cannot hand to Spark (one of its "
                f"{frame.shape[1]} column(s)). Cast it to text or numbers, or use the pandas "
                "engine."
            ) from None
        # Spark reads no dictionary (categorical) columns: hand over their values
        for i, field in enumerate(arrow.schema):
            if pa.types.is_dictionary(field.type):
                decoded = pa.chunked_array(
                    [c.dictionary_decode() for c in arrow.column(i).chunks],
                    type=field.type.value_type,
                )
                arrow = arrow.set_column(i, field.name, decoded)
        with self._errors():
            return self.session.createDataFrame(arrow)

    def _from_parquet(self, source: str | os.PathLike[str]) -> tuple[Any, str]:
        reader = self.session.read.option("mergeSchema", "true")
        if _URL.match(os.fspath(source)):
            # a cluster path (s3a://, hdfs://, file://...): Spark resolves it, not this machine
            try:
                with _quiet():
                    df = reader.parquet(os.fspath(source))
                    df.schema  # noqa: B018 - lists and reads the footers now
            except Exception as exc:  # noqa: BLE001 - any reader failure
                raise _unreadable_url(exc) from None
            return df, "parquet (URL)"
        files = parquet_files(source)
        try:
            with _quiet():
                if os.path.isdir(source):
                    # partition folders (key=value) become columns; other files are skipped
                    df = reader.option("pathGlobFilter", "*.parquet").parquet(os.fspath(source))
                else:
                    df = reader.parquet(*files)
                df.schema  # noqa: B018 - reads the footers now, so a bad file fails here
        except Exception:  # noqa: BLE001 - any reader failure is an unreadable input
            raise CorruptFileError("Parquet") from None
        return df, f"parquet ({len(files)} file(s))"

    def _sql(self, sql: str) -> Any:
        with self._errors():
            return self.session.sql(sql)

    def _collect(self, df: Any, *, check: bool) -> pd.DataFrame:
        with self._errors():
            arrow = df.toArrow()
        if check and arrow.num_rows > SPARK_COLLECT_ROWS_MAX:
            raise EngineError(
                f"A Spark query returned more than {SPARK_COLLECT_ROWS_MAX:,} rows; the engine "
                "collects only aggregates and samples. Aggregate the query (GROUP BY) or draw "
                "a sample instead."
            )
        return arrow.to_pandas()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Map Spark's exceptions to PrivLens errors that name no value."""
        try:
            with _quiet():
                yield
        except PrivLensError:
            raise
        except Exception as exc:  # noqa: BLE001 - PySpark and Py4J raise many kinds
            raise _translate(exc) from None


def _translate(exc: Exception) -> PrivLensError:
    """A PrivLens error for an exception raised by Spark (names its class, never its text)."""
    condition = str(_condition(exc) or "")
    text = str(exc)
    if condition.startswith(("UNRESOLVED_COLUMN", "FIELD_NOT_FOUND")) or (
        "UNRESOLVED_COLUMN" in text
    ):
        return ColumnError(
            "A column named in the query is not in the table. Check the column names (they "
            "are case-sensitive) against the table's columns."
        )
    if condition.startswith(("CAST_INVALID_INPUT", "CAST_OVERFLOW", "DATATYPE_MISMATCH")):
        return ColumnError(
            "A column could not be converted to the type a measure needs (for example a text "
            "column used as weights). Pick a numeric column."
        )
    if "OutOfMemoryError" in text or "SparkOutOfMemoryError" in text:
        return EngineError(
            "Spark ran out of memory while computing a measure. Give the driver and "
            "executors more memory (spark.driver.memory, spark.executor.memory), raise "
            "shuffle_partitions, or use fewer quasi-identifiers."
        )
    what = condition or type(exc).__name__
    return EngineError(
        f"Spark failed while computing a measure ({what}). Check the input files, the column "
        "types and the engine's settings."
    )


def _condition(exc: Exception) -> str | None:
    getter = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    try:
        return getter() if getter is not None else None
    except Exception:  # noqa: BLE001 - a Py4J error may have lost its JVM side
        return None


def _local(sql: Any, master: str, shuffle_partitions: int, config: Mapping[str, str] | None) -> Any:
    """Build (or reuse) a session on ``master`` that listens on loopback only."""
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    if master.startswith("local"):
        # local mode talks to itself only: bind the driver (and its block manager) to loopback
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings["spark.driver.host"] = "127.0.0.1"
        settings["spark.driver.bindAddress"] = "127.0.0.1"
    settings.update({str(k): str(v) for k, v in (config or {}).items()})
    # PySpark's builder turns into a Spark Connect client while SPARK_REMOTE is set (as for a
    # local Connect server, SPARK_REMOTE=local[N]): hide it while the classic session starts
    remote_env = os.environ.pop("SPARK_REMOTE", None)
    try:
        builder = sql.SparkSession.builder.master(master).appName("privlens")
        for key, value in settings.items():
            builder = builder.config(key, value)
        with _quiet():
            spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - the JVM fails to start in many ways
        raise EngineError(
            f"Spark could not start on master {master!r} ({type(exc).__name__}): its Java "
            f"runtime did not start or the master is unreachable. {_INSTALL} Set JAVA_HOME "
            "when Java is installed elsewhere."
        ) from None
    finally:
        if remote_env is not None:
            os.environ["SPARK_REMOTE"] = remote_env
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _unreadable_url(exc: Exception) -> PrivLensError:
    """The error for a URL Spark could not read: nothing there, or not Parquet."""
    condition = str(_condition(exc) or "")
    if condition.startswith("PATH_NOT_FOUND") or "PATH_NOT_FOUND" in str(exc):
        return DataLoadError(
            "Spark found no file at the URL given (PATH_NOT_FOUND). Check the URL's scheme, "
            "bucket and path, and that Spark's workers can reach that storage."
        )
    what = condition or type(exc).__name__
    return EngineError(
        f"Spark could not read Parquet data at the URL given ({what}). Check the URL, that "
        "Spark has the connector and credentials for its scheme (for example hadoop-aws for "
        "s3a://), and that the files are Parquet."
    )


def _check_connect_client() -> None:
    if importlib.util.find_spec("grpc") is None:
        raise EngineError(
            "Spark Connect needs PySpark's connect extra (gRPC), which is not installed. "
            "Install it with: pip install -r requirements-spark.txt."
        )


def _check_reachable(remote: str) -> None:
    """Fail at once when nothing listens at the URL's host and port (the Connect client
    would retry with back-off for minutes)."""
    from urllib.parse import urlsplit

    where = urlsplit(remote.split("/;", 1)[0])
    try:
        port = where.port or 15002
        host = where.hostname or "localhost"
        with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S):
            pass
    except (OSError, ValueError) as exc:
        raise EngineError(
            f"Could not reach the Spark Connect server ({type(exc).__name__}): nothing "
            "answered at the URL's host and port. Check the URL (sc://host:port), that the "
            "server is running, and the network between them."
        ) from None


def _free_port() -> int:
    """A TCP port of loopback that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _connect_server(
    sql: Any, master: str, shuffle_partitions: int, config: Mapping[str, str] | None
) -> tuple[Any, str]:
    """A local session serving Spark Connect on loopback, and the URL (with its token) to
    reach it; the token is random per server and is neither logged nor shown."""
    _check_connect_client()
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        raise EngineError(
            "A Spark session already runs in this process, so a local Spark Connect server "
            "cannot start in it. Close the other Spark engine first, or give a server's URL "
            "(remote='sc://host:15002')."
        )
    port, token = _free_port(), secrets.token_urlsafe(32)
    settings = {
        **{str(k): str(v) for k, v in (config or {}).items()},
        "spark.plugins": _CONNECT_PLUGIN,
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.connect.authenticate.token": token,
    }
    server = _local(sql, master, shuffle_partitions, settings)
    return server, f"sc://localhost:{port}/;token={token}"


def _connect(sql: Any, remote: str) -> Any:
    """A Spark Connect session on ``remote``, checked with a trivial query."""
    if not str(remote).startswith("sc://"):
        raise InvalidParameterError(
            "A Spark Connect URL starts with 'sc://' (or is 'local[N]' for a local Connect "
            "server); got another scheme. Give it as sc://host:15002."
        )
    _check_connect_client()
    _check_reachable(remote)
    try:
        with _quiet():
            # the Connect client itself: PySpark's generic builder would refuse a Connect
            # session next to a classic one in this process, and marks the process as Connect
            from pyspark.sql.connect.session import SparkSession as ConnectSession

            spark = ConnectSession.builder.remote(remote).create()
            spark.sql("SELECT 1").collect()
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - gRPC raises many kinds
        raise EngineError(
            f"Could not reach the Spark Connect server ({type(exc).__name__}). Check the URL "
            "(sc://host:port), that the server is running, and the network between them."
        ) from None
    return spark
