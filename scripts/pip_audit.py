"""pip-audit over the installed environment (.venv), for scripts/test.sh.

Prints one line, `pip-audit: audited N packages, skipped M, found K vulnerabilities` or
`pip-audit: skipped (advisory service unreachable)`, and writes the result to test-artifacts/pip-audit.json.

* The advisory service (PyPI's JSON API, pip-audit's default) is probed first with a short timeout: when it
  cannot be reached (no network, a mirror without the JSON API) the audit is skipped and CI does not fail.
* Exit 1 when a vulnerability is found in one of our direct dependencies (pyproject.toml [project]
  dependencies and the `test` extra), or when one of them could not be audited although the service
  answered (the `--strict` rule, applied to what we choose to depend on). Vulnerabilities in packages
  that only come with them are listed in the file and the output, without failing.
"""

from __future__ import annotations

import json
import re
import subprocess  # nosec B404
import sys
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = ROOT / "test-artifacts" / "pip-audit.json"
# A versioned release record, as pip-audit asks for it; a mirror or proxy that answers only the simple index
# (or the project page) does not count.
PROBE = "https://pypi.org/pypi/flask/3.1.0/json"
PROBE_TIMEOUT = 5
AUDIT_TIMEOUT = 300


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project.get("dependencies", [])) + list(project.get("optional-dependencies", {}).get("test", []))
    return {_norm(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in specs}


def reachable() -> bool:
    try:
        with urllib.request.urlopen(PROBE, timeout=PROBE_TIMEOUT) as response:  # nosec B310
            return response.status == 200 and "vulnerabilities" in json.loads(response.read())
    except Exception:  # noqa: BLE001 - any failure means: not reachable from here
        return False


def write(result: dict) -> None:
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")


def main() -> int:
    if not reachable():
        write({"status": "skipped", "reason": f"advisory service unreachable ({PROBE})"})
        print("pip-audit: skipped (advisory service unreachable)")
        return 0
    pip_audit = Path(sys.executable).parent / "pip-audit"
    command = [str(pip_audit), "--format", "json", "--progress-spinner", "off", "--skip-editable",
               "--timeout", "15"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=AUDIT_TIMEOUT,  # nosec B603
                              check=False)
        report = json.loads(done.stdout)
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        write({"status": "skipped", "reason": f"pip-audit gave no report: {type(error).__name__}"})
        print("pip-audit: skipped (advisory service unreachable)")
        return 0
    direct = direct_dependencies()
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if "skip_reason" in d]
    if not audited:  # the service answered the probe but nothing else: as good as unreachable
        write({"status": "skipped", "reason": "the advisory service audited no package", "report": report})
        print("pip-audit: skipped (advisory service unreachable)")
        return 0
    found = [(d["name"], d["version"], v["id"], v.get("fix_versions", [])) for d in audited for v in d.get("vulns", [])]
    direct_found = [f for f in found if _norm(f[0]) in direct]
    direct_skipped = [d["name"] for d in skipped if _norm(d["name"]) in direct]
    write({"status": "audited", "audited": len(audited), "skipped": len(skipped), "vulnerabilities": len(found),
           "direct_dependencies_vulnerable": [list(f[:3]) for f in direct_found],
           "direct_dependencies_not_audited": direct_skipped, "report": report})
    print(f"pip-audit: audited {len(audited)} packages, skipped {len(skipped)}, found {len(found)} vulnerabilities")
    for name, version, vuln_id, fixes in found:
        scope = "direct" if (name, version, vuln_id, fixes) in direct_found else "indirect"
        print(f"  {name} {version}: {vuln_id} ({scope}; fixed in {', '.join(fixes) or 'no release yet'})")
    for name in direct_skipped:
        print(f"  {name}: could not be audited")
    return 1 if direct_found or direct_skipped else 0


if __name__ == "__main__":
    sys.exit(main())
