"""Who a request's client is (``engine/clients.py``): the peer, or a trusted proxy's
``X-Forwarded-For`` read from the right."""

from __future__ import annotations

import ipaddress

import pytest

from citygraph.config import SettingError, Settings
from citygraph.engine.clients import identify

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        pytest.param("198.51.100.4", None, "198.51.100.4", id="no-header"),
        pytest.param("198.51.100.4", "203.0.113.9", "198.51.100.4", id="untrusted-peer-ignored"),
        pytest.param("10.1.2.3", "203.0.113.9", "203.0.113.9", id="trusted-proxy"),
        pytest.param("::1", "203.0.113.9", "203.0.113.9", id="trusted-ipv6-proxy"),
        pytest.param(
            "10.1.2.3", "1.2.3.4, 203.0.113.9, 10.0.0.7", "203.0.113.9", id="rightmost-untrusted"
        ),
        pytest.param("10.1.2.3", "10.0.0.5, 10.0.0.7", "10.0.0.5", id="all-hops-trusted"),
        pytest.param("10.1.2.3", " , ", "10.1.2.3", id="empty-hops"),
        pytest.param("10.1.2.3", "not-an-ip", "not-an-ip", id="garbage-is-a-name-too"),
    ],
)
def test_identify(peer: str, forwarded: str | None, client: str) -> None:
    assert identify(peer, forwarded, PROXIES) == client


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert identify("127.0.0.1", "203.0.113.9", ()) == "127.0.0.1"


def test_trusted_proxies_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"CITYGRAPH_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert settings.proxy_networks() == (
        ipaddress.ip_network("127.0.0.1"),
        ipaddress.ip_network("10.0.0.0/8"),
    )


def test_a_trusted_proxy_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(SettingError, match=r"'proxy\.example' is not an IP address"):
        Settings.from_env({"CITYGRAPH_TRUSTED_PROXIES": "proxy.example"})
