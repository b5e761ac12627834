"""The README tells the truth about the file formats (a public contract) and the two commands."""

from pathlib import Path

from matcher.transfer.columns import markdown

ROOT = Path(__file__).resolve().parent.parent


def test_readme_carries_the_generated_file_formats():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    body = markdown().split("\n", 1)[1].replace("\n## ", "\n### ").strip()
    assert body in readme, "regenerate the README's 'File formats' section from python -m matcher.transfer.columns"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make test" in ci and "make run" in readme
