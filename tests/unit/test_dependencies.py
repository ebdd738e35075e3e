"""Every third-party module the shipped packages import is a runtime dependency.

README's first command installs ``pip install -e .`` without the ``test`` extra; a module
only the extra brings (httpx was one) makes ``switchboard worker`` crash on that install.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("realtime", "queueing", "dispatch", "clients", "loadtest")
# Imported only inside ``try: ... except ImportError`` or by a comparison peer of the load
# test that its own docs tell to install; each listed with where and why.
OPTIONAL = {
    "matplotlib": "loadtest/report.py plots, skipped when missing",
    "socketio": "loadtest/peers/socketio_server.py, the python-socketio comparison peer",
    "playwright": "loadtest/screens_soak.py, the browser measurement; the test extra has it",
}


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


def _installed_with(specs: list[str]) -> set[str]:
    """The distributions ``specs`` bring, with their extras (redis[hiredis] brings hiredis,
    uvicorn[standard] uvloop), transitively."""
    seen: set[str] = set()
    todo = [Requirement(spec) for spec in specs]
    while todo:
        req = todo.pop()
        name = _norm(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        try:
            subs = requires(req.name) or []
        except PackageNotFoundError:
            continue
        for sub in map(Requirement, subs):
            extras = req.extras or {""}
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in extras):
                todo.append(sub)
    return {key.split("[")[0] for key in seen}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_shipped_code_imports_only_runtime_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _installed_with(project["dependencies"])
    dists = packages_distributions()
    local = set(PACKAGES) | {"tests"}
    missing: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _imports(path):
                if name in local or name in sys.stdlib_module_names or name in OPTIONAL:
                    continue
                owners = {_norm(d) for d in dists.get(name, [name])}
                if not owners & runtime:
                    missing.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not missing, f"imported by shipped code but not in [project.dependencies]: {missing}"

