"""Content negotiation by RFC 9110 §12.5.1 (``Accept``): pure functions, table-tested.

The most specific media range that matches an offered type gives that type its ``q``
(``type/subtype`` beats ``type/*`` beats ``*/*``); ``q=0`` excludes; among the types with the
highest ``q`` the server's order of preference decides. Media type parameters other than ``q``
are ignored when matching (clients send ``charset`` and friends that change nothing here).

>>> negotiate("text/*;q=0.5, text/csv", ["application/sparql-results+json", "text/csv"])
'text/csv'
>>> negotiate("application/xml;q=0", ["application/xml"]) is None
True
>>> negotiate(None, ["text/turtle", "application/n-triples"])
'text/turtle'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["MediaRange", "negotiate", "parse_accept"]


@dataclass(frozen=True)
class MediaRange:
    """One element of an ``Accept`` header."""

    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        """2 for ``type/subtype``, 1 for ``type/*``, 0 for ``*/*``."""
        if self.type == "*":
            return 0
        return 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        """Whether this range covers ``media_type`` (a bare ``type/subtype``)."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*":
            return True
        if self.type != kind:
            return False
        return self.subtype in ("*", sub)


def parse_accept(header: str) -> list[MediaRange]:
    """Parse an ``Accept`` header; malformed elements are skipped, as RFC 9110 allows.

    >>> parse_accept("text/html;level=1;q=0.7, */*")
    [MediaRange(type='text', subtype='html', q=0.7), MediaRange(type='*', subtype='*', q=1.0)]
    """
    ranges = []
    for element in header.split(","):
        media, *params = element.split(";")
        kind, slash, sub = media.strip().lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q = 1.0
        valid = True
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    valid = False
                if not 0.0 <= q <= 1.0:
                    valid = False
        if valid:
            ranges.append(MediaRange(kind, sub, q))
    return ranges


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """Return the offered media type the client prefers, or ``None`` (then answer 406).

    ``offered`` is in the server's order of preference; a missing or empty ``Accept`` (or one
    with no valid element) accepts anything, so the first offered type wins.
    """
    return _negotiate(accept or "", tuple(offered))


@lru_cache(maxsize=512)
def _negotiate(accept: str, offered: tuple[str, ...]) -> str | None:
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0] if offered else None
    best: str | None = None
    best_q = 0.0
    for media_type in offered:
        matching = [r for r in ranges if r.matches(media_type)]
        if not matching:
            continue
        top = max(r.specificity for r in matching)
        # Equally specific ranges for one type (a client error) count with their best q.
        q = max(r.q for r in matching if r.specificity == top)
        if q > best_q:
            best, best_q = media_type, q
    return best
