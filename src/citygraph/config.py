"""Settings of the citygraph server: declared once, as data, each with its help text.

This is the only module that reads the environment, and only when :meth:`Settings.from_env` is
called (never at import time). Every field maps to the variable ``CITYGRAPH_<FIELD NAME>``.

>>> s = Settings.from_env({"CITYGRAPH_QUERY_TIMEOUT": "2.5", "CITYGRAPH_IN_MEMORY": "no"})
>>> s.query_timeout, s.in_memory
(2.5, False)
>>> Settings().writes_enabled
False
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citygraph.errors import CitygraphError
from citygraph.namespaces import BASE

__all__ = [
    "DEFAULT_STORE",
    "ENV_PREFIX",
    "SettingError",
    "SettingInfo",
    "Settings",
    "describe_settings",
    "hand_on_to_child_processes",
    "store_from_env",
]

ENV_PREFIX = "CITYGRAPH_"
#: Where every command looks for the built store unless ``--store`` or ``CITYGRAPH_STORE`` says.
DEFAULT_STORE = Path("var/store")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class SettingError(CitygraphError):
    """An environment variable holds a value its setting cannot take."""


def _doc(text: str, *, secret: bool = False) -> dict[str, Any]:
    return {"help": text, "secret": secret}


@dataclass(frozen=True)
class Settings:
    """Everything an operator can tune; see ``docs/endpoint.md`` for the reasoning."""

    store: Path = field(
        default=DEFAULT_STORE,
        metadata=_doc(
            "Directory of the built store, for every command (`--store` wins), relative to the "
            "working directory."
        ),
    )
    backend: str = field(
        default="",
        metadata=_doc(
            "SPARQL 1.1 query endpoint URL of a remote store to serve instead of the embedded "
            "one (`--backend`); empty: the embedded store in `store` (docs/backends.md)."
        ),
    )
    backend_update: str = field(
        default="",
        metadata=_doc(
            "SPARQL 1.1 Update endpoint URL of the remote store (`--backend-update`), used to "
            "publish builds; empty: the query URL."
        ),
    )
    backend_store: str = field(
        default="",
        metadata=_doc(
            "Graph Store Protocol URL of the remote store (`--backend-store`), used to upload "
            "builds; needed to publish to it."
        ),
    )
    base_iri: str = field(
        default=BASE,
        metadata=_doc(
            "Base IRI of the data; relative IRIs in queries and updates resolve against it, "
            "so <id/city/de-berlin> names a city on every deployment."
        ),
    )
    public_url: str = field(
        default="",
        metadata=_doc(
            "Absolute URL at which clients reach this server (https://example.org/citygraph/); "
            "used in the service description. Empty: taken from each request."
        ),
    )
    query_timeout: float = field(
        default=30.0,
        metadata=_doc(
            "Seconds a query may run (including waiting for a free query process); then its "
            "process is killed and the client gets 503."
        ),
    )
    query_processes: int = field(
        default=2,
        metadata=_doc("Query processes per server worker; each evaluates one query at a time."),
    )
    max_concurrent_queries: int = field(
        default=16,
        metadata=_doc(
            "Queries a server worker accepts at once (running or waiting); beyond that 503 with "
            "Retry-After."
        ),
    )
    max_query_length: int = field(
        default=100_000,
        metadata=_doc("Longest query or update text, in characters; longer ones get 413."),
    )
    max_upload_bytes: int = field(
        default=50_000_000,
        metadata=_doc("Largest request body (update or Graph Store upload), in bytes; else 413."),
    )
    max_result_rows: int = field(
        default=100_000,
        metadata=_doc(
            "Most solutions (SELECT) or triples (CONSTRUCT/DESCRIBE) in one result; else 413."
        ),
    )
    max_response_bytes: int = field(
        default=64_000_000,
        metadata=_doc("Largest serialised result, in bytes; larger results get 413."),
    )
    in_memory: bool = field(
        default=True,
        metadata=_doc(
            "Copy the current build into memory once per machine, shared by the query "
            "processes of every worker (2-4x faster on large queries); false reads the on-disk "
            "build."
        ),
    )
    cache_bytes: int = field(
        default=64_000_000,
        metadata=_doc(
            "Bytes each response cache of a server worker may hold, keys (the query text) "
            "included; 0 disables them."
        ),
    )
    cache_max_age: int = field(
        default=60,
        metadata=_doc("Seconds clients and proxies may reuse a response (Cache-Control max-age)."),
    )
    version_check_interval: float = field(
        default=1.0,
        metadata=_doc("Seconds between checks of the store's `current` pointer for a new build."),
    )
    update_token: str = field(
        default="",
        repr=False,
        metadata=_doc(
            "Bearer token that enables SPARQL Update and Graph Store writes; empty disables them.",
            secret=True,
        ),
    )
    service_allowlist: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Endpoint IRIs that SERVICE may call (comma or space separated); empty forbids SERVICE."
        ),
    )
    write_timeout: float = field(
        default=120.0,
        metadata=_doc("Seconds a write waits for the store's write lock before 503."),
    )
    query_memory: int = field(
        default=0,
        metadata=_doc(
            "Bytes of memory each query process may use for a query, beyond its copy of the "
            "build; a query that needs more gets 503 and its process is replaced. 0: a quarter "
            "of the machine's memory shared by the worker's query processes."
        ),
    )
    query_retire_share: float = field(
        # 0: replacing the processes cost 3-7x on heavy queries (docs/performance.md, memory).
        default=0.0,
        metadata=_doc(
            "Share of the in-memory copy a query process forked from it may hold as its own "
            "(at least 8 MiB) before it is replaced after its reply: reading the copy makes "
            "pages of it the process's own. 0: never replaced (faster, more memory); 1/64 "
            "(0.015625) bounds the memory of the query processes."
        ),
    )
    fast_query_processes: int = field(
        # 3: one client may hold one general-lane process (client_query_processes), so with one
        # fast-lane process its cheap queries ran two at a time per worker (docs/performance.md).
        default=3,
        metadata=_doc(
            "Query processes per server worker reserved for quick queries (the fast lane); 0 "
            "turns the lane off."
        ),
    )
    fast_lane_budget: float = field(
        default=0.25,
        metadata=_doc(
            "CPU seconds a query may spend in the fast lane; then its process is killed and the "
            "query runs again in the general lane (within the rest of the timeout), and its text "
            "is remembered as slow."
        ),
    )
    client_query_processes: int = field(
        default=1,
        metadata=_doc(
            "General-lane query processes the queries of one client may occupy at once; its "
            "further queries wait (a client is an IP address, see trusted_proxies)."
        ),
    )
    client_max_queries: int = field(
        default=8,
        metadata=_doc(
            "Queries one client may have in progress (running or waiting) per server worker; "
            "beyond that 429 with Retry-After."
        ),
    )
    trusted_proxies: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Addresses or networks (10.0.0.0/8) of reverse proxies whose X-Forwarded-For names "
            "the client; empty: the client is the connection's peer and the header is ignored."
        ),
    )
    saturated_queue: int = field(
        default=4,
        metadata=_doc(
            "Queries waiting for a query process beyond which /healthz answers 503 saturated "
            "(while no process is free)."
        ),
    )
    header_timeout: float = field(
        default=10.0,
        metadata=_doc(
            "Seconds a client may take to send a request's headers; then the connection is "
            "closed (slow clients cannot hold connections open)."
        ),
    )

    def __post_init__(self) -> None:
        if not 0 <= self.query_retire_share <= 1:
            raise SettingError("query_retire_share must be between 0 and 1")
        for name in ("query_timeout", "write_timeout", "fast_lane_budget", "header_timeout"):
            if getattr(self, name) <= 0:
                raise SettingError(f"{name} must be more than 0 seconds")
        for name in (
            "query_processes",
            "max_concurrent_queries",
            "max_query_length",
            "client_query_processes",
            "client_max_queries",
        ):
            if getattr(self, name) < 1:
                raise SettingError(f"{name} must be at least 1")
        for name in (
            "max_result_rows",
            "max_response_bytes",
            "max_upload_bytes",
            "cache_bytes",
            "query_memory",
            "fast_query_processes",
            "saturated_queue",
        ):
            if getattr(self, name) < 0:
                raise SettingError(f"{name} must not be negative")
        self.proxy_networks()
        for name in ("backend", "backend_update", "backend_store"):
            url = getattr(self, name)
            if url and not url.startswith(("http://", "https://")):
                raise SettingError(f"{name} must be an http:// or https:// URL, not {url!r}")
        if (self.backend_update or self.backend_store) and not self.backend:
            raise SettingError("backend_update and backend_store need backend (the query URL)")

    @property
    def query_memory_bytes(self) -> int:
        """:attr:`query_memory`, or when 0 its default: a quarter of the physical memory divided
        among the worker's :attr:`query_processes`."""
        if self.query_memory:
            return self.query_memory
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return physical // 4 // self.query_processes

    @property
    def writes_enabled(self) -> bool:
        """Whether SPARQL Update and Graph Store writes are accepted (with the token)."""
        return bool(self.update_token)

    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The :attr:`trusted_proxies` as networks (an address is a network of one).

        Raises:
            SettingError: an entry is neither an IP address nor a network.
        """
        networks = []
        for entry in self.trusted_proxies:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise SettingError(
                    f"trusted_proxies: {entry!r} is not an IP address or network"
                ) from None
        return tuple(networks)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``environ`` (default: ``os.environ``); ``overrides`` win.

        Raises:
            SettingError: a variable cannot be converted to its setting's type.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for info in describe_settings():
            raw = env.get(info.env)
            if raw is not None:
                values[info.name] = _convert(info, raw)
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class SettingInfo:
    """One setting as documented: name, environment variable, type, default and help."""

    name: str
    env: str
    type: str
    default: Any
    help: str
    secret: bool


def describe_settings() -> Iterator[SettingInfo]:
    """Yield every setting in declaration order (for docs, `--help` and tests)."""
    for f in dataclasses.fields(Settings):
        yield SettingInfo(
            name=f.name,
            env=ENV_PREFIX + f.name.upper(),
            type=str(f.type),
            default=f.default,
            help=f.metadata["help"],
            secret=f.metadata["secret"],
        )


def store_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """The store directory every command uses when ``--store`` is not given.

    >>> store_from_env({}), store_from_env({"CITYGRAPH_STORE": "/srv/cg"})
    (PosixPath('var/store'), PosixPath('/srv/cg'))
    """
    value = (os.environ if environ is None else environ).get(ENV_PREFIX + "STORE", "")
    return Path(value) if value.strip() else DEFAULT_STORE


#: The socket of the zygote host (:mod:`citygraph.engine.zygote_host`) that ``citygraph serve``
#: starts before its workers and hands on to them (internal: not a setting).
ZYGOTE_HOST_ENV = ENV_PREFIX + "ZYGOTE_HOST"


def zygote_host_from_env() -> Path | None:
    """The zygote host's socket handed on by ``citygraph serve``, if any."""
    value = os.environ.get(ZYGOTE_HOST_ENV, "")
    return Path(value) if value else None


def hand_on_zygote_host(path: Path) -> None:
    """Hand the zygote host's socket on to the processes this one starts (the workers)."""
    os.environ[ZYGOTE_HOST_ENV] = str(path)


def hand_on_to_child_processes(**values: Any) -> None:
    """Put settings into this process's environment, for the processes it starts to read.

    ``citygraph serve --workers N`` needs this: uvicorn's worker processes build their app with
    :meth:`Settings.from_env`, so options given on the command line travel as variables.

    Raises:
        KeyError: a name is not a setting.
    """
    names = {info.name: info.env for info in describe_settings()}
    for name, value in values.items():
        os.environ[names[name]] = ",".join(value) if isinstance(value, tuple) else str(value)


def _convert(info: SettingInfo, raw: str) -> Any:
    kind = info.type
    try:
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError("expected one of 1/0, true/false, yes/no, on/off")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
        if kind == "tuple[str, ...]":
            return tuple(item for item in raw.replace(",", " ").split() if item)
    except ValueError as error:
        raise SettingError(f"{info.env}={raw!r}: {error}") from None
    return raw
