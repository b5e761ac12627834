"""The figures' definitions are one table: consistent in itself, and what the README says."""

from __future__ import annotations

from pathlib import Path

from matcher.reports.definitions import BY_KEY, COUNTS, FIGURES, MONTHLY, RATE, markdown

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_readme_carries_the_definitions():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown() in readme, "regenerate the README's Reports definitions: python -m matcher.reports.definitions"


def test_every_rate_is_worked_out_from_two_counts_of_the_period():
    assert len(BY_KEY) == len(FIGURES)
    for figure in FIGURES:
        if figure.when == RATE:
            assert figure.of and all(key in COUNTS and key in MONTHLY for key in figure.of), figure.key
        else:
            assert figure.of is None
