"""The one ETag rule of the web layer: how a validator is made and how ``If-None-Match`` is read.

Every response with a validator (query results, graph reads, linked-data documents, pages,
dumps, the fast path's cached answers) gets its tag from :func:`etag` and its 304 from
:func:`etag_matches`, so the same request gets the same tag and the same 304 decision
whichever route answers it.

>>> tag = etag("v1", "doc", "en")
>>> tag.startswith('W/"') and etag("v1", "doc", "en") == tag and etag("v2", "doc", "en") != tag
True
>>> etag_matches(tag.removeprefix("W/"), tag), etag_matches('"other", ' + tag, tag)
(True, True)
>>> etag_matches("*", tag), etag_matches(None, tag), etag_matches('"other"', tag)
(True, False, False)
"""

from __future__ import annotations

import hashlib

__all__ = ["etag", "etag_matches"]


def etag(version: str, *parts: str) -> str:
    """A weak ETag for one representation (``parts``) of one resource in one data ``version``.

    Weak (``W/``) because the same representation may be serialised with different bytes
    (prefix order, whitespace) by another server process.
    """
    text = "\x00".join((version, *parts))
    return 'W/"' + hashlib.blake2b(text.encode(), digest_size=12).hexdigest() + '"'


def etag_matches(header: str | None, tag: str) -> bool:
    """Whether ``If-None-Match: header`` matches ``tag``: weak comparison (RFC 9110 §13.1.2).

    ``W/`` prefixes do not matter for ``If-None-Match``; ``*`` matches any current
    representation; an absent or empty header matches nothing.
    """
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = tag.removeprefix("W/")
    return any(item.strip().removeprefix("W/") == bare for item in header.split(","))
