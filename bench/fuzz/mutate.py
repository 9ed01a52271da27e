"""Mutations of valid input: bytes flipped, cut, repeated, re-encoded; odd numbers and escapes."""

from __future__ import annotations

import random
from urllib.parse import quote

__all__ = ["mutate_bytes", "odd_number", "odd_path_segment"]

#: Strings that are "numbers" to one reader and not to another (``"²".isdigit()`` is true).
ODD_NUMBERS = (
    "%C2%B2",
    "²",
    "\uff11",
    "٣",
    "-1",
    "0",
    "+1",
    "1.5",
    "1e3",
    "0x10",
    " 1",
    "1%00",
    "",
    "NaN",
    "99999999999999999999",
)


def odd_number(rng: random.Random) -> str:
    """A page number a careless parser fails on: odd digits, signs, or 5,000 digits."""
    if rng.random() < 0.25:
        return "9" * rng.choice((4301, 5000, 20000))
    return rng.choice(ODD_NUMBERS)


def odd_path_segment(rng: random.Random, valid: str) -> str:
    """``valid`` with a control character, an escape, a dot segment or a huge length."""
    return rng.choice(
        (
            valid + "%0A",
            valid + "%00",
            valid + "%0D%0A",
            valid + "/",
            valid + "%2F..%2F..",
            "..%2F" + valid,
            valid.upper(),
            valid + "%C3%28",
            valid + "%",
            valid + "%zz",
            quote(valid + "é", safe=""),
            valid * 2000,
            "%FF" * 50,
            "",
        )
    )


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """One random mutation of ``data`` (which may make it invalid in any way)."""
    if not data:
        return rng.choice((b"\xff", b"\x00", b"{" * 5000))
    choice = rng.randrange(9)
    if choice == 0:  # flip a few bits
        out = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(out))
            out[i] ^= 1 << rng.randrange(8)
        return bytes(out)
    if choice == 1:  # truncate
        return data[: rng.randrange(len(data))]
    if choice == 2:  # not UTF-8
        i = rng.randrange(len(data) + 1)
        return (
            data[:i] + rng.choice((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82")) + data[i:]
        )
    if choice == 3:  # huge: repeat a slice
        i = rng.randrange(len(data))
        return data[:i] + data[i : i + 16] * rng.choice((1000, 20000)) + data[i:]
    if choice == 4:  # insert a structural byte
        i = rng.randrange(len(data) + 1)
        return (
            data[:i] + rng.choice((b"#", b"\r", b"{", b"}", b"\\", b"'", b'"', b"\x00")) + data[i:]
        )
    if choice == 5:  # delete a slice
        i = rng.randrange(len(data))
        return data[:i] + data[i + rng.randint(1, 20) :]
    if choice == 6:  # UTF-16 instead of UTF-8
        return data.decode("utf-8", "replace").encode("utf-16")
    if choice == 7:  # duplicate the whole
        return data + data
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
