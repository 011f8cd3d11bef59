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


BOM = b"\xef\xbb\xbf"


def decode_bytes(data: bytes, compressed: bool) -> bytes:
    """The file's bytes, gunzipped if need be and checked to be strictly UTF-8 (a leading BOM
    is allowed and dropped)."""
    if compressed:
        try:
            data = gzip.decompress(data)
        except EOFError:
            raise UnreadableFile("truncated gzip: the compressed stream ends early") from None
        except (gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise UnreadableFile(f"not a valid gzip file ({exc})") from None
    if not _is_utf8(data):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:  # names the first bad byte
            raise UnreadableFile(
                f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} is invalid"
            ) from None
    return data[len(BOM) :] if data.startswith(BOM) else data


def _is_utf8(data: bytes) -> bool:
    """Arrow's validation of the bytes in place: a quarter of the cost of decoding them into a
    str that is thrown away."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


# JSON's whitespace, trimmed from both ends of a line; a line of nothing else is not a record.
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 13, 32]] = True
_INLINE = 12  # Arrow keeps a string of up to 12 bytes inside its view


def json_lines(data: bytes) -> pa.Table:
    """(record_number, line) per non-blank line; record_number is the line number from 1.

    The lines are Arrow string views into `data` itself: finding them is one scan for newlines,
    with no copy of the text.
    """
    if len(data) >= 2**31:  # beyond what a view's 32-bit offset reaches
        return _json_lines_copied(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    if not len(buf):
        return pa.table(
            {"record_number": pa.array([], pa.int64()), "line": pa.array([], pa.string_view())}
        )
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(buf)]))
    numbers = np.arange(1, len(starts) + 1, dtype=np.int64)
    _trim(buf, starts, ends)
    keep = ends > starts
    starts, ends, numbers = starts[keep], ends[keep], numbers[keep]
    lengths = (ends - starts).astype(np.int32)

    views = np.zeros((len(starts), 4), dtype=np.int32)  # length, prefix, buffer, offset
    views[:, 0] = lengths
    head = buf[np.minimum(starts[:, None] + np.arange(4), len(buf) - 1)]  # 4 bytes a line
    views[:, 1] = np.ascontiguousarray(head).view(np.int32)[:, 0]
    views[:, 3] = starts
    raw = views.view(np.uint8).reshape(-1, 16)
    for i in np.flatnonzero(lengths <= _INLINE):  # short lines live inside their view
        raw[i, 4:] = 0
        raw[i, 4 : 4 + lengths[i]] = buf[starts[i] : ends[i]]
    lines = pa.Array.from_buffers(
        pa.string_view(), len(starts), [None, pa.py_buffer(views), pa.py_buffer(data)]
    )
    return pa.table({"record_number": pa.array(numbers), "line": lines})


def _trim(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Move each line's bounds past whitespace at either end, in place."""
    todo = np.flatnonzero((starts < ends) & _WHITESPACE[buf[np.minimum(starts, len(buf) - 1)]])
    while len(todo):
        starts[todo] += 1
        todo = todo[(starts[todo] < ends[todo]) & _WHITESPACE[buf[starts[todo]]]]
    todo = np.flatnonzero((ends > starts) & _WHITESPACE[buf[np.maximum(ends - 1, 0)]])
    while len(todo):
        ends[todo] -= 1
        todo = todo[(ends[todo] > starts[todo]) & _WHITESPACE[buf[ends[todo] - 1]]]


def _json_lines_copied(data: bytes) -> pa.Table:
    lines = pc.list_flatten(pc.split_pattern(pa.array([data], pa.large_binary()), b"\n"))
    numbers = pa.array(np.arange(1, len(lines) + 1, dtype=np.int64))
    stripped = pc.utf8_trim(lines.cast(pa.large_string()), " \t\r\n")
    keep = pc.greater(pc.binary_length(stripped), 0)
    return pa.table({"record_number": numbers, "line": stripped}).filter(keep)


def table_file(data: bytes, file_name: str) -> pl.DataFrame:
    """A CSV (with header) or Parquet file as text columns, plus record_number and payload."""
    try:
        if file_name.lower().endswith(".parquet"):
            frame = pl.read_parquet(io.BytesIO(data))
            frame = frame.with_columns(pl.all().cast(pl.String))
        else:
            decode_bytes(data, compressed=False)  # the encoding error names its byte
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
