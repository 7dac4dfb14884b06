"""Lone UTF-16 surrogates in every input the API takes: a JSON body's "\\ud800" escape
decodes to one, and UTF-8 (a tokenizer, an encoder's C library, a JSON answer) cannot
encode it. Each answer is a correct 200 (the surrogate stripped, as every input's are)
or a 4xx, never a 5xx and never a traceback in the log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    status_code_conformance,
)

from papersearch.api import create_app

# High, low, a reversed pair (low then high: no character), each at the start, the
# middle and the end of a text.
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800"]
PLACES = ["start", "middle", "end"]
PAPER = "2509.02544"  # in the sample corpus


def _with(text: str, s: str, place: str) -> str:
    if place == "start":
        return s + text
    if place == "end":
        return text + s
    half = len(text) // 2
    return text[:half] + s + text[half:]


def _post(client: TestClient, path: str, body: object):
    # json.dumps escapes a surrogate as \\uXXXX (ensure_ascii), as a real client's JSON does.
    return client.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})


@pytest.fixture(scope="module")
def client(dense_index: Path):
    # The stripping happens before any encoder (tests/test_encoders.py feeds the bundled
    # ones a lone surrogate directly): the tiny model's index serves here.
    with TestClient(create_app(dense_index), client=("127.0.0.1", 50000)) as c:
        yield c


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.ERROR)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("s", SURROGATES, ids=ascii)
def test_similar_by_text_strips_surrogates(client: TestClient, no_tracebacks: None, s: str, place: str) -> None:
    text = "다중 턴 강화학습 에이전트"
    r = _post(client, "/api/similar", {"text": _with(text, s, place), "k": 5})
    assert r.status_code == 200, r.text
    clean = _post(client, "/api/similar", {"text": text, "k": 5}).json()
    body = r.json()
    assert body["query"] == text  # nothing of the surrogate is left
    assert [h["id"] for h in body["results"]] == [h["id"] for h in clean["results"]]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("s", SURROGATES, ids=ascii)
def test_similar_by_ids_and_mode_strip_surrogates(client: TestClient, no_tracebacks: None, s: str, place: str) -> None:
    r = _post(client, "/api/similar", {"ids": [_with(PAPER, s, place)], "k": 3, "mode": _with("bm25", s, place)})
    assert r.status_code == 200, r.text
    assert r.json()["query"] == PAPER and r.json()["mode"] == "bm25"
    # Nothing but a surrogate: nothing left, a 422 that names the field.
    r = _post(client, "/api/similar", {"ids": [s]})
    assert r.status_code == 422 and "paper id" in r.json()["detail"]
    r = _post(client, "/api/similar", {"text": "강화학습", "mode": s})
    assert r.status_code == 422 and r.json()["detail"].startswith("mode:")


@pytest.mark.parametrize("s", SURROGATES, ids=ascii)
def test_a_body_of_surrogates_and_bad_values_is_a_4xx_that_echoes_them_safely(client: TestClient, no_tracebacks: None, s: str) -> None:
    # A validation error echoes the input back: the echo must be writable as UTF-8.
    for body in ({"text": s, "k": 0}, {"text": s}, {"text": "a", "k": s}, {"text": ["a", s]}, {s: s}, {"ids": s}):
        r = _post(client, "/api/similar", body)
        assert 400 <= r.status_code < 500, (body, r.text)
        assert r.json()["detail"]
    # /api/reload takes no body: one is ignored, whatever it holds.
    assert _post(client, "/api/reload", {"x": s}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        # A surrogate's UTF-8 form (ED A0 80) is invalid UTF-8: decoded to U+FFFD, not a surrogate.
        "/api/search?q=%ED%A0%80%EA%B0%95%ED%99%94%ED%95%99%EC%8A%B5",
        "/api/search?q=a&mode=%ED%A0%80",
        "/api/search?q=a&date_from=%ED%B0%80",
        f"/api/papers/{PAPER}%ED%A0%80",
        f"/api/papers/%ED%B0%80{PAPER}/similar",
        "/?q=%ED%A0%80",
        "/paper/%ED%A0%80",
    ],
)
def test_query_and_path_parameters_never_carry_a_surrogate_to_a_5xx(client: TestClient, no_tracebacks: None, url: str) -> None:
    r = client.get(url)
    assert r.status_code < 500, r.text


@pytest.fixture(scope="module")
def api_schema(dense_index: Path) -> schemathesis.BaseSchema:
    app = create_app(dense_index)
    app.state.holder.load_if_present()  # the ASGI transport runs no lifespan
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _inject(value: object, s: str) -> object:
    """Every string of a JSON value (keys too) with ``s`` in its middle."""
    if isinstance(value, str):
        return _with(value, s, "middle")
    if isinstance(value, dict):
        return {_inject(k, s): _inject(v, s) for k, v in value.items()}
    if isinstance(value, list):
        return [_inject(v, s) for v in value]
    return value


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_schemathesis_bodies_with_surrogates(api_schema: schemathesis.BaseSchema, mode: GenerationMode) -> None:
    # Schemathesis never generates a lone surrogate (its strings must encode as UTF-8):
    # its generated bodies get one in every string here, sent as JSON's \uXXXX escape.
    operations = [r.ok() for r in api_schema.get_all_operations()]
    with_body = [op for op in operations if op.body]
    assert {op.label for op in with_body} >= {"POST /api/similar"}
    for op in with_body:

        @given(case=op.as_strategy(generation_mode=mode), s=st.sampled_from(SURROGATES))
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case, s: str) -> None:
            if isinstance(case.body, (dict, list, str)):
                case.body = json.dumps(_inject(case.body, s)).encode()
                case.media_type = "application/json"
            case.call_and_validate(checks=[not_a_server_error, status_code_conformance, content_type_conformance])

        check()
