"""Both CSV layouts are read; a malformed file is rejected with its line number."""

from __future__ import annotations

from pathlib import Path

import pytest

from citygraph.worldwide.csvfile import MalformedFileError, read_twin_file


def test_raw_layout_is_detected_from_the_header(data: Path) -> None:
    twin_file = read_twin_file(data / "raw-small.csv")
    assert twin_file.layout == "raw"
    assert len(twin_file.rows) == 13
    first = twin_file.rows[0]
    assert (first.line, first.city1, first.country2) == (2, "Berlin", "England, United Kingdom")
    assert first.point1 is None


def test_geocoded_layout_reads_coordinates(data: Path) -> None:
    twin_file = read_twin_file(data / "geocoded-small.csv")
    assert twin_file.layout == "geocoded"
    assert twin_file.rows[1].point2 == (52.52, 13.405)


def test_the_digest_identifies_the_content(data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.csv"
    copy.write_bytes((data / "raw-small.csv").read_bytes())
    assert read_twin_file(copy).sha256 == read_twin_file(data / "raw-small.csv").sha256
    copy.write_bytes(copy.read_bytes() + b"Rome,Italy,Paris,France\n")
    assert read_twin_file(copy).sha256 != read_twin_file(data / "raw-small.csv").sha256


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("bad-header.csv", 1, "unknown header"),
        ("bad-columns.csv", 3, "3 columns, expected 4"),
        ("bad-number.csv", 4, "not numbers"),
        ("bad-range.csv", 2, "out of range"),
    ],
)
def test_malformed_file_names_file_and_line(data: Path, name: str, line: int, words: str) -> None:
    with pytest.raises(MalformedFileError) as caught:
        read_twin_file(data / name)
    assert caught.value.line == line
    assert caught.value.path == data / name
    assert words in str(caught.value)
    assert f"{name}:{line}:" in str(caught.value)


def test_missing_file_is_malformed_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(MalformedFileError, match="cannot read"):
        read_twin_file(tmp_path / "nowhere.csv")
