"""Finding landed files and reading them into Arrow tables, or saying why they cannot be read."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc


class UnreadableFile(Exception):
    """The file cannot be read as its source: the reason is meant for a person."""


@dataclass(frozen=True)
class LandedFile:
    path: Path
    name: str  # relative to the landing folder, with forward slashes
    size: int
    mtime_ns: int

    @property
    def modified_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime_ns / 1e9, dt.UTC).replace(tzinfo=None)

    @property
    def signature(self) -> tuple[str, int, int]:
        """What identifies a file we have already read, without reading it again."""
        return (self.name, self.size, self.mtime_ns)


def discover(landing: Path) -> list[LandedFile]:
    """Every file in or below `landing`, sorted by name.

    Names starting with a dot are writes in progress (written as `.name.tmp`, then renamed) and
    are left until they are renamed; so are dot-folders.
    """
    found: list[LandedFile] = []
    if not landing.is_dir():
        return found
    for folder, subfolders, files in os.walk(landing):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = Path(folder) / name
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed while we looked
                continue
            found.append(
                LandedFile(
                    path, path.relative_to(landing).as_posix(), stat.st_size, stat.st_mtime_ns
                )
            )
    found.sort(key=lambda f: f.name)
    return found


def fingerprint(files: list[LandedFile]) -> str:
    """A short digest of a listing: it changes whenever a file lands, changes or goes."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.name}\0{f.size}\0{f.mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_text(data: bytes, compressed: bool) -> str:
    """The file's text: gunzipped if need be, strictly UTF-8 (a leading BOM is allowed)."""
    if compressed:
        try:
            data = gzip.decompress(data)
        except EOFError:
            raise UnreadableFile("truncated gzip: the compressed stream ends early") from None
        except (gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise UnreadableFile(f"not a valid gzip file ({exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} is invalid"
        ) from None


def json_lines(text: str) -> pa.Table:
    """(record_number, line) per non-blank line; record_number is the line number from 1."""
    lines = pc.list_flatten(pc.split_pattern(pa.array([text]), "\n"))
    numbers = pa.array(np.arange(1, len(lines) + 1, dtype=np.int64))
    stripped = pc.utf8_trim_whitespace(lines)
    keep = pc.greater(pc.utf8_length(stripped), 0)
    return pa.table({"record_number": numbers, "line": stripped}).filter(keep)


def table_file(data: bytes, file_name: str) -> pl.DataFrame:
    """A CSV (with header) or Parquet file as text columns, plus record_number and payload."""
    try:
        if file_name.lower().endswith(".parquet"):
            frame = pl.read_parquet(io.BytesIO(data))
            frame = frame.with_columns(pl.all().cast(pl.String))
        else:
            decode_text(data, compressed=False)  # the encoding error names its byte
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except UnreadableFile:
        raise
    except Exception as exc:  # polars' own errors say what is wrong with the file
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFile(f"cannot be read as a table: {first_line}") from None
    columns = frame.columns
    return frame.with_columns(
        pl.struct(columns).struct.json_encode().alias("payload") if columns else pl.lit("{}"),
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("record_number"),
    )
