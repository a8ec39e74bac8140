"""Shared fixtures of the deployment-file tests: the repository, the chart, the real binary."""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "orchestrator-dynamic"


@pytest.fixture(scope="session")
def binary() -> pathlib.Path:
    """The orchestrator-dynamic binary named by ORCHESTRATOR_BINARY: required, never skipped."""
    value = os.environ.get("ORCHESTRATOR_BINARY")
    if not value:
        pytest.fail("ORCHESTRATOR_BINARY is not set: point it at the orchestrator-dynamic binary")
    path = pathlib.Path(value)
    if not os.access(path, os.X_OK):
        pytest.fail(f"ORCHESTRATOR_BINARY={value} is not an executable file")
    return path


@pytest.fixture(scope="session")
def binary_version(binary) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()
