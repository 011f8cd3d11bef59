"""Landing-zone files: reference snapshots and one file per source per UTC day.

Files are written atomically (a hidden temporary name, then a rename), so a watcher never reads a
half-written file, and never rewritten once they exist: a landed file is immutable.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
from collections import defaultdict
from pathlib import Path

import polars as pl

DAY_MS = 86_400_000
EVENT_SOURCES = ("mission_progress", "assessment_attempts", "xapi")
EPOCH = dt.date(1970, 1, 1)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write unless the file already holds exactly ``data``. Returns whether it wrote."""
    if path.exists() and path.read_bytes() == data:
        return False
    write_atomic(path, data)
    return True


def csv_bytes(df: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.write_csv(buffer, datetime_format="%Y-%m-%dT%H:%M:%S%.3fZ")
    return buffer.getvalue()


def parquet_bytes(df: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.write_parquet(buffer, compression="zstd", statistics=False)
    return buffer.getvalue()


class DayWriter:
    """Buffers (ts, line) frames per source and writes whole UTC days once they are complete."""

    def __init__(self, out: Path, compress: bool):
        self.out = out
        self.compress = compress
        self.pending: dict[str, list[pl.DataFrame]] = defaultdict(list)
        self.files_written: dict[str, int] = defaultdict(int)
        self.files_kept: dict[str, int] = defaultdict(int)
        self.records: dict[str, int] = defaultdict(int)

    def add(self, source: str, frame: pl.DataFrame | None) -> None:
        if frame is not None and frame.height:
            self.pending[source].append(frame)

    def path_for(self, source: str, day: dt.date) -> Path:
        suffix = ".jsonl.gz" if self.compress and source == "xapi" else ".jsonl"
        return self.out / source / f"{source}_{day.isoformat()}{suffix}"

    def flush_through(self, day: dt.date) -> None:
        """Write the files of every day up to ``day``, which must be complete (no later event
        can still land on them). Days without events get no file."""
        end = int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp() * 1000) + DAY_MS
        for source in EVENT_SOURCES:
            parts = self.pending.get(source)
            if not parts:
                continue
            buf = pl.concat(parts) if len(parts) > 1 else parts[0]
            ready = buf.filter(pl.col("ts") < end)
            self.pending[source] = [buf.filter(pl.col("ts") >= end)]
            if not ready.height:
                continue
            ready = ready.with_columns(day=pl.col("ts") // DAY_MS).sort("ts", "line")
            for (day_number,), part in ready.partition_by("day", as_dict=True).items():
                self._write_day(source, EPOCH + dt.timedelta(days=day_number), part)

    def _write_day(self, source: str, day: dt.date, part: pl.DataFrame) -> None:
        path = self.path_for(source, day)
        self.records[source] += part.height
        if path.exists():  # written by an earlier, shorter horizon: identical by design
            self.files_kept[source] += 1
            return
        buffer = io.BytesIO()
        # One JSON document a line; "never" quoting writes each line exactly as built.
        part.select("line").write_csv(buffer, include_header=False, quote_style="never")
        data = buffer.getvalue()
        if path.name.endswith(".gz"):
            # mtime=0 and no file name in the header keep the bytes reproducible.
            packed = io.BytesIO()
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=3
            ) as gz:
                gz.write(data)
            data = packed.getvalue()
        write_atomic(path, data)
        self.files_written[source] += 1
