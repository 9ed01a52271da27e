"""The one ETag rule (web/etags.py): If-None-Match by weak comparison, RFC 9110 §13.1.2."""

from __future__ import annotations

import pytest
from tests.backends import every_backend

from citygraph.web.etags import etag, etag_matches

pytestmark = every_backend

TAG = etag("v1", "doc", "en")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (TAG, True),
        (TAG.removeprefix("W/"), True),  # weak comparison: W/ does not matter
        (f'"other", {TAG}', True),  # a list matches if any member does
        (f' "other" ,  {TAG} ', True),
        ("*", True),  # any current representation
        (" * ", True),
        ('"other"', False),
        (f'{TAG[:-2]}"', False),
        ("", False),
        (None, False),
    ],
)
def test_if_none_match(header: str | None, expected: bool) -> None:
    assert etag_matches(header, TAG) is expected


def test_tags_depend_on_version_and_every_part() -> None:
    assert etag("v1", "doc", "en") == TAG
    assert etag("v2", "doc", "en") != TAG
    assert etag("v1", "doc", "de") != TAG
    assert etag("v1", "doc") != etag("v1", "do", "c")  # parts are separated, not concatenated
    assert TAG.startswith('W/"')
    assert TAG.endswith('"')
