"""Audit the locked versions (requirements-test.lock) against known advisories; fail on any found.

pip-audit asks PyPI's advisory data about each locked version. Where PyPI answers only for a project's
newest release (its per-version pages unreachable), a package locked at the newest release is checked
against the advisories PyPI lists for that release instead. What neither way can check is listed as
not audited; that fails the run only with TUMORBOARD_AUDIT_STRICT=1. Usage: python3 .ci/audit.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements-test.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.MULTILINE)


def pip_audit() -> dict[str, dict]:
    """pip-audit's verdict per locked package: its vulnerabilities, or why it was skipped."""
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "pip_audit", "-r", str(LOCK), "--require-hashes", "--disable-pip",
         "--progress-spinner", "off", "-f", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit gave no report:\n{done.stderr.strip()}", file=sys.stderr)
        return {}
    return {dep["name"].lower(): dep for dep in report["dependencies"]}


def newest_release_advisories(name: str, version: str) -> list[dict] | None:
    """PyPI's advisories for the project's newest release, when that is the locked version; else None."""
    try:
        with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=15) as answer:
            project = json.load(answer)
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError):
        return None
    if project["info"]["version"] != version:
        return None
    return [vuln for vuln in project.get("vulnerabilities", []) if not vuln.get("withdrawn")]


def main() -> int:
    """Print the advisories found and what could not be audited; the exit status says whether to fail."""
    locked = {name.lower(): version for name, version in PIN.findall(LOCK.read_text())}
    verdicts = pip_audit()
    found: list[str] = []
    unaudited: list[str] = []
    missing = [(name, version) for name, version in locked.items() if "vulns" not in verdicts.get(name, {})]
    with ThreadPoolExecutor(max_workers=8) as pool:
        fallback = dict(
            zip(missing, pool.map(lambda pin: newest_release_advisories(*pin), missing), strict=True)
        )
    for name, version in sorted(locked.items()):
        vulns = verdicts.get(name, {}).get("vulns")
        if vulns is None:
            vulns = fallback[(name, version)]
        if vulns is None:
            unaudited.append(f"{name}=={version}")
            continue
        for vuln in vulns:
            fixed = ", ".join(vuln.get("fix_versions") or vuln.get("fixed_in") or []) or "no fix yet"
            found.append(f"{name}=={version}: {vuln['id']} (fixed in {fixed})")
    audited = len(locked) - len(unaudited)
    print(f"audited {audited} of {len(locked)} locked packages against PyPI's advisory data")
    if unaudited:
        print(f"not audited (no advisory data for these versions here): {', '.join(unaudited)}")
    for line in found:
        print(f"VULNERABLE {line}")
    if found:
        return 1
    if unaudited and os.environ.get("TUMORBOARD_AUDIT_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
