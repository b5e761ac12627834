"""The process freezes what it keeps after its first requests (matcher._freeze_after_warm_up): a full garbage
collection then no longer scans the modules, model and caches the requests loaded (about 90 ms every thirty-odd
requests before)."""

from __future__ import annotations

import gc

import pytest

from matcher import create_app


def _app(tmp_path, after):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'warm.db'}",
                       "MODELS_DIR": str(tmp_path), "SECRET_KEY": "test", "GC_FREEZE_AFTER_REQUESTS": after})


@pytest.fixture
def freezes(monkeypatch):
    """The freezes after requests (create_app's own, at its end, is not counted: the app is made first)."""
    made = []
    real = gc.freeze

    def freeze():
        made.append(len(gc.get_objects(generation=2)))
        real()

    return made, lambda: monkeypatch.setattr(gc, "freeze", freeze)


def test_the_process_freezes_once_the_named_requests_are_answered(tmp_path, freezes):
    made, spy = freezes
    app = _app(tmp_path, "2, 4")
    spy()
    client = app.test_client()
    try:
        client.get("/healthz").close()
        answer = client.get("/healthz")
        assert made == []  # not before the response is sent
        answer.close()
        assert len(made) == 1
        assert len(gc.get_objects(generation=2)) < 1000  # what the process keeps is out of the collector's sight
        client.get("/healthz").close()
        client.get("/healthz").close()
        client.get("/healthz").close()
        assert len(made) == 2  # after the 2nd and the 4th request only
    finally:
        gc.unfreeze()  # the rest of the suite as before


@pytest.mark.parametrize("after", [None, ""])
def test_tests_and_an_empty_setting_never_freeze(tmp_path, freezes, after):
    made, spy = freezes
    app = _app(tmp_path, after)
    spy()
    for _ in range(3):
        app.test_client().get("/healthz").close()
    assert made == []
