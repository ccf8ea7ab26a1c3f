"""The layout's rules, checked on every run (issue 12): imports run one way
(core ← accounts ← forms ← inbox ← workflows ← evidence ← procedures ← api ← config), procedures
reach each other only through their entry.py / signals.py, no module cycles inside a package.
The contracts themselves live in pyproject.toml ([tool.importlinter])."""
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _config():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_the_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_every_procedure_package_is_under_the_independence_contract():
    packages = sorted(f"procedures.{p.name}" for p in (ROOT / "procedures").iterdir()
                      if (p / "__init__.py").exists() and (p / "apps.py").exists())  # a procedure app, with or without a flow
    independence = next(c for c in _config()["contracts"] if c["type"] == "independence")
    assert sorted(independence["modules"]) == packages


def test_every_root_package_is_in_a_layer():
    config = _config()
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    assert sorted(layers) == sorted(config["root_packages"])
    on_disk = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests")
    assert sorted(config["root_packages"]) == on_disk


def test_core_imports_no_procedure_nor_app_above_it():
    """The same rule as the layers contract, said the way the brief says it, by reading the sources:
    a failure names the file."""
    above = ("procedures", "workflows", "evidence", "inbox", "forms", "api", "config", "accounts")
    offenders = []
    for path in (ROOT / "core").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("from ", "import ")) and any(
                    stripped.startswith((f"from {name}", f"import {name}")) for name in above):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    assert offenders == []
