"""What the operations modules share: their blueprint and the request's id."""

from __future__ import annotations

from flask import Blueprint, g

bp = Blueprint("ops", __name__)


def request_id() -> str | None:
    return g.get("request_id")
