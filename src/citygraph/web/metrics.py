"""Prometheus metrics of one server worker, in the text exposition format (no client library).

Each worker process counts its own requests; with ``--workers N`` a scrape sees the worker that
answered it (the ``pid`` in ``citygraph_worker_info`` tells them apart).

Every label comes from a closed set, so no request can add a series (issue 9 §2: one per
invented method grew ``/metrics`` without limit): methods outside :data:`METHODS` count as
``other``, paths are route templates (``/id/{kind}/{key}``, never the raw path) or ``other``,
statuses are three-digit codes.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping

__all__ = ["BUCKETS", "METHODS", "Metrics"]

#: HTTP methods counted under their own name (RFC 9110 §9.3 and PATCH); any other is ``other``.
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"}
)

#: Query duration buckets, in seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Counters and one histogram, safe to update from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.query_buckets = [0] * len(BUCKETS)
        self.query_count = 0
        self.query_sum = 0.0
        self.query_outcomes: Counter[str] = Counter()

    def observe_request(self, method: str, route: str, status: int) -> None:
        """Count one answered HTTP request; ``route`` is the route template or ``other``
        (never a raw path: see the module's docstring)."""
        label = method if method in METHODS else "other"
        code = status if 100 <= status <= 599 else 500
        with self._lock:
            self.requests[(label, route, code)] += 1

    def observe_query(self, seconds: float, outcome: str) -> None:
        """Record one query evaluation (``ok``, ``timeout``, ``error``, ``cached``…)."""
        with self._lock:
            self.query_outcomes[outcome] += 1
            if outcome == "cached":
                return
            self.query_count += 1
            self.query_sum += seconds
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.query_buckets[i] += 1

    def render(
        self,
        gauges: dict[str, tuple[str, float]],
        info: Callable[[], str],
        *,
        counters: Mapping[str, tuple[str, str, Mapping[str, float]]] | None = None,
    ) -> str:
        """The exposition text; ``gauges`` maps a metric name to ``(help, value)``, ``counters``
        a labelled counter's name to ``(help, label, {label value: count})`` (the label values
        must come from a closed set)."""
        lines = [
            "# HELP citygraph_worker_info The server worker answering this scrape.",
            "# TYPE citygraph_worker_info gauge",
            f'citygraph_worker_info{{pid="{os.getpid()}",version="{info()}"}} 1',
            "# HELP citygraph_http_requests_total HTTP requests answered, by method, path "
            "and status.",
            "# TYPE citygraph_http_requests_total counter",
        ]
        with self._lock:
            for (method, path, status), count in sorted(self.requests.items()):
                lines.append(
                    f'citygraph_http_requests_total{{method="{method}",path="{path}",'
                    f'status="{status}"}} {count}'
                )
            lines += [
                "# HELP citygraph_queries_total Queries by outcome.",
                "# TYPE citygraph_queries_total counter",
            ]
            for outcome, count in sorted(self.query_outcomes.items()):
                lines.append(f'citygraph_queries_total{{outcome="{outcome}"}} {count}')
            lines += [
                "# HELP citygraph_query_duration_seconds Time to evaluate and serialise a query.",
                "# TYPE citygraph_query_duration_seconds histogram",
            ]
            for bound, count in zip(BUCKETS, self.query_buckets, strict=True):
                lines.append(f'citygraph_query_duration_seconds_bucket{{le="{bound}"}} {count}')
            lines.append(f'citygraph_query_duration_seconds_bucket{{le="+Inf"}} {self.query_count}')
            lines.append(f"citygraph_query_duration_seconds_sum {self.query_sum}")
            lines.append(f"citygraph_query_duration_seconds_count {self.query_count}")
        for name, (help_text, label, values) in sorted((counters or {}).items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            lines += [f'{name}{{{label}="{key}"}} {count}' for key, count in values.items()]
        for name, (help_text, value) in sorted(gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
        return "\n".join(lines) + "\n"
