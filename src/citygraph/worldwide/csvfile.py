"""Reading the twin-town CSV files: both layouts, strictly.

A file is read completely before anything else happens; a malformed file (unknown header, a row
with the wrong number of columns, a coordinate that is not a number in range) raises
:class:`MalformedFileError` with its line number, so an import writes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from citygraph.errors import InputSyntaxError

__all__ = ["LAYOUTS", "MalformedFileError", "Row", "TwinFile", "read_twin_file"]

#: The two layouts, recognised by their exact header.
LAYOUTS: dict[tuple[str, ...], str] = {
    ("city1", "country1", "city2", "country2"): "raw",
    ("city1", "country1", "lat1", "lng1", "city2", "country2", "lat2", "lng2"): "geocoded",
}


class MalformedFileError(InputSyntaxError):
    """A twin-town CSV file cannot be read as either layout (file and line in the message)."""


@dataclass(frozen=True)
class Row:
    """One pair; ``point1``/``point2`` are (latitude, longitude) in the geocoded layout."""

    line: int
    city1: str
    country1: str
    city2: str
    country2: str
    point1: tuple[float, float] | None = None
    point2: tuple[float, float] | None = None


@dataclass(frozen=True)
class TwinFile:
    """A file read completely: its layout, rows and SHA-256 digest."""

    path: Path
    layout: str
    rows: tuple[Row, ...]
    sha256: str


def read_twin_file(path: Path) -> TwinFile:
    r"""Read and check one CSV file of either layout.

    >>> from tempfile import TemporaryDirectory
    >>> folder = TemporaryDirectory()
    >>> path = Path(folder.name, "twins.csv")
    >>> _ = path.write_text(
    ...     "city1,country1,lat1,lng1,city2,country2,lat2,lng2\n"
    ...     "Berlin,Germany,52.52,13.405,Paris,France,48.8534,2.3488\n",
    ...     encoding="utf-8",
    ... )
    >>> twins = read_twin_file(path)
    >>> twins.layout, len(twins.rows)
    ('geocoded', 1)
    >>> row = twins.rows[0]
    >>> row.line, row.city1, row.country1, row.point1
    (2, 'Berlin', 'Germany', (52.52, 13.405))

    A malformed row stops the reading, with its line:

    >>> _ = path.write_text("city1,country1,city2,country2\nBerlin,Germany,Paris\n")
    >>> try:
    ...     read_twin_file(path)
    ... except MalformedFileError as error:
    ...     print(error.line, error.message)
    2 3 columns, expected 4 (raw layout)
    >>> folder.cleanup()

    Raises:
        MalformedFileError: unreadable file, unknown header, wrong column count or bad number.
    """
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as error:
        raise MalformedFileError(f"cannot read: {error.strerror or error}", path=path) from None
    except UnicodeDecodeError as error:
        raise MalformedFileError(f"not UTF-8 ({error.reason})", path=path) from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise MalformedFileError("empty file: expected a header", path=path, line=1)
    layout = LAYOUTS.get(tuple(cell.strip().lower() for cell in header))
    if layout is None:
        expected = " or ".join(",".join(h) for h in LAYOUTS)
        raise MalformedFileError(
            f"unknown header {','.join(header)!r}: expected {expected}", path=path, line=1
        )
    width = 4 if layout == "raw" else 8
    rows: list[Row] = []
    for cells in reader:
        line = reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            raise MalformedFileError(
                f"{len(cells)} columns, expected {width} ({layout} layout)", path=path, line=line
            )
        if layout == "raw":
            rows.append(Row(line, cells[0], cells[1], cells[2], cells[3]))
            continue
        point1 = _point(cells[2], cells[3], path, line)
        point2 = _point(cells[6], cells[7], path, line)
        rows.append(Row(line, cells[0], cells[1], cells[4], cells[5], point1, point2))
    return TwinFile(path, layout, tuple(rows), hashlib.sha256(data).hexdigest())


def _point(lat: str, lng: str, path: Path, line: int) -> tuple[float, float] | None:
    if not lat.strip() and not lng.strip():
        return None
    try:
        latitude, longitude = float(lat), float(lng)
    except ValueError:
        raise MalformedFileError(
            f"bad coordinates {lat!r}, {lng!r}: not numbers", path=path, line=line
        ) from None
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise MalformedFileError(f"bad coordinates {lat!r}, {lng!r}", path=path, line=line)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise MalformedFileError(f"coordinates out of range: {lat}, {lng}", path=path, line=line)
    return latitude, longitude
