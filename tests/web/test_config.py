"""Settings: declared once, read from the environment only on request, all documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from citygraph.config import SettingError, Settings, describe_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "endpoint.md"


def test_defaults_are_safe() -> None:
    settings = Settings()
    assert settings.query_timeout == 30.0
    assert settings.service_allowlist == ()
    assert not settings.writes_enabled


@pytest.mark.parametrize(
    ("env", "field", "value"),
    [
        pytest.param({"CITYGRAPH_QUERY_TIMEOUT": "1.5"}, "query_timeout", 1.5, id="float"),
        pytest.param({"CITYGRAPH_MAX_RESULT_ROWS": "10"}, "max_result_rows", 10, id="int"),
        pytest.param({"CITYGRAPH_IN_MEMORY": "off"}, "in_memory", False, id="bool"),
        pytest.param({"CITYGRAPH_STORE": "/data"}, "store", Path("/data"), id="path"),
        pytest.param(
            {"CITYGRAPH_SERVICE_ALLOWLIST": "http://a/sparql, http://b/sparql"},
            "service_allowlist",
            ("http://a/sparql", "http://b/sparql"),
            id="list",
        ),
    ],
)
def test_from_env(env: dict[str, str], field: str, value: object) -> None:
    assert getattr(Settings.from_env(env), field) == value


@pytest.mark.parametrize(
    "env",
    [{"CITYGRAPH_QUERY_TIMEOUT": "soon"}, {"CITYGRAPH_IN_MEMORY": "maybe"}],
    ids=["float", "bool"],
)
def test_bad_values_are_reported(env: dict[str, str]) -> None:
    with pytest.raises(SettingError, match=next(iter(env))):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "values",
    [{"query_timeout": 0}, {"query_processes": 0}, {"max_result_rows": -1}],
    ids=["timeout", "processes", "rows"],
)
def test_impossible_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(SettingError, match=next(iter(values))):
        Settings(**values)  # type: ignore[arg-type]


def test_token_is_not_in_repr() -> None:
    assert "hunter2" not in repr(Settings(update_token="hunter2"))


def test_every_setting_has_help_and_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for info in describe_settings():
        assert info.help.endswith("."), info.name
        assert f"`{info.env}`" in docs, f"{info.env} is not in docs/endpoint.md"
