"""Config-time checks: configured metrics obey the same rules as declared ones."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

import sitroom_http_json
from sitroom.testing import kinds_of
from sitroom_http_json.config import HttpJsonConfig


def config(**metric: Any) -> dict[str, Any]:
    base = {"name": "sitroom_x_speed_meters_per_second", "help": "h",
            "unit": "meters_per_second", "path": "$.a[*]", "value": "v"}
    return {"kind": "http_json", "name": "t", "url": "http://127.0.0.1:1/x",
            "metrics": [{**base, **metric}]}


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ({"name": "speed_kmh"}, "must match"),
        ({"name": "sitroom_x_speed"}, "must contain its unit"),
        ({"type": "counter"}, "must end in _total"),
        ({"name": "sitroom_x_info", "type": "info", "unit": ""}, "takes no value path"),
        ({"labels": {"source": "id"}}, "reserved label"),
        ({"labels": {"Bad-Label": "id"}}, "invalid or reserved label"),
        ({"name": "sitroom_http_json_response_size_bytes", "unit": "bytes"}, "prefix"),
        ({"path": "a[*]"}, "must start at the document root"),
        ({"path": "$.a[?x]"}, "unexpected"),
        ({"value": "a..b"}, "expected a key"),
        ({"labels": {"segment": "id["}}, "unexpected"),
        ({"help": " "}, "help"),
    ],
)
def test_bad_metric_declarations_are_config_errors(metric: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HttpJsonConfig.model_validate(config(**metric))


def test_duplicate_names_and_missing_metrics() -> None:
    data = config()
    data["metrics"] *= 2
    with pytest.raises(ValidationError, match="declared twice"):
        HttpJsonConfig.model_validate(data)
    data["metrics"] = []
    with pytest.raises(ValidationError, match="metrics"):
        HttpJsonConfig.model_validate(data)


def test_kind_extends_declared_metrics_per_source() -> None:
    kind = kinds_of(sitroom_http_json)["http_json"]
    parsed = HttpJsonConfig.model_validate(config(labels={"segment": "id"}))
    names = [spec.name for spec in kind.metrics_of(parsed)]
    assert names[: len(kind.metrics)] == [spec.name for spec in kind.metrics]
    assert names[-1] == "sitroom_x_speed_meters_per_second"
    assert kind.metrics_of(parsed)[-1].labels == ("segment",)


def test_header_values_are_secrets_from_files(tmp_path: Any) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cr3t-key\n")
    data = config()
    data["headers"] = [{"name": "X-API-Key", "value_file": str(secret)}]
    parsed = HttpJsonConfig.model_validate(data)
    assert parsed.headers[0].value.get_secret_value() == "s3cr3t-key"
    assert "s3cr3t" not in repr(parsed) and "s3cr3t" not in str(parsed.model_dump())
    data["headers"] = [{"name": "Bad Header", "value": "x"}]
    with pytest.raises(ValidationError, match="headers"):
        HttpJsonConfig.model_validate(data)
