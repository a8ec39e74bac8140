"""The Dockerfile, checked without a Docker engine: its instructions are parsed, and every shared
library the real binary loads (`ldd $ORCHESTRATOR_BINARY`) is mapped to its Debian package on this
machine (Debian 12, the runtime image's release) with `dpkg -S`; each such package must be installed
by the runtime stage. The Swift runtime libraries are left out: the image links them statically
(--static-swift-stdlib), which the debug binary here does not.
"""

import os
import re
import shlex
import subprocess

import pytest

from conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"

# Always in the base image (libc6) or the kernel's.
BASE_LIBRARIES = ("linux-vdso", "ld-linux", "libc.so", "libm.so", "libpthread.so", "libdl.so", "librt.so")
# The Swift runtime and Foundation: statically linked into the release binary.
SWIFT_RUNTIME = re.compile(r"^(libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libXCTest)")
# Other Debian releases name some runtime packages differently (t64 transition); the runtime image
# is bookworm, which uses the names on the right.
PACKAGE_ALIASES = {"libssl3t64": "libssl3", "libsasl2-2t64": "libsasl2-2", "libsqlite3-0t64": "libsqlite3-0"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    result, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, arguments = current.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
        current = ""
    return result


def stages(parsed):
    """The build stages: a list of (FROM arguments, [instructions])."""
    found = []
    for keyword, arguments in parsed:
        if keyword == "FROM":
            found.append((arguments, []))
        elif found:
            found[-1][1].append((keyword, arguments))
    return found


@pytest.fixture(scope="module")
def parsed():
    return instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def runtime(parsed):
    return stages(parsed)[-1]


def args_defaults(parsed) -> dict:
    defaults = {}
    for keyword, arguments in parsed:
        if keyword == "ARG" and "=" in arguments:
            name, _, value = arguments.partition("=")
            defaults[name] = value.strip('"')
    return defaults


def installed_packages(stage_instructions) -> set[str]:
    """Package names given to `apt-get install` in the stage's RUN instructions."""
    packages = set()
    for keyword, arguments in stage_instructions:
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|;|\|\|", arguments):
            words = shlex.split(command)
            if "apt-get" in words and "install" in words:
                for word in words[words.index("install") + 1:]:
                    if not word.startswith("-"):
                        packages.add(word.split("=")[0])
    return packages


def test_two_stages_swift_builder_and_slim_runtime(parsed):
    found = stages(parsed)
    assert len(found) == 2
    defaults = args_defaults(parsed)
    builder, runtime_from = found[0][0], found[1][0]
    assert builder.endswith(" AS build") and runtime_from.endswith(" AS runtime")
    assert defaults["SWIFT_IMAGE"].startswith("swift:6.3-")
    assert re.fullmatch(r"debian:[a-z]+-slim", defaults["RUNTIME_IMAGE"])
    # the builder's Debian release is the runtime's (same librdkafka and SQLite sonames)
    assert defaults["SWIFT_IMAGE"].split("-", 1)[1] == defaults["RUNTIME_IMAGE"].split(":")[1].removesuffix("-slim")
    build_runs = " ".join(a for k, a in found[0][1] if k == "RUN")
    assert "--static-swift-stdlib" in build_runs and "-c release" in build_runs
    assert "--product orchestrator-dynamic" in build_runs
    assert {"librdkafka-dev", "libsqlite3-dev"} <= installed_packages(found[0][1])


def test_runtime_user_is_numeric_and_not_root(runtime):
    users = [a for k, a in runtime[1] if k == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")
    assert all(part.isdigit() for part in user), f"USER {users[-1]} is not numeric"
    assert int(user[0]) != 0 and (len(user) == 1 or int(user[1]) != 0)
    runs = " ".join(a for k, a in runtime[1] if k == "RUN")
    assert f"--uid {user[0]}" in runs, "the user is not created with that uid"


def test_exposed_ports(runtime):
    exposed = set()
    for keyword, arguments in runtime[1]:
        if keyword == "EXPOSE":
            exposed |= {p.split("/")[0] for p in arguments.split()}
    assert {"8000", "9090"} <= exposed


def test_healthcheck_hits_health(runtime):
    checks = [a for k, a in runtime[1] if k == "HEALTHCHECK"]
    assert len(checks) == 1
    check = checks[0]
    assert " CMD " in f" {check} "
    assert re.search(r"https?://127\.0\.0\.1:\$\{ORCHESTRATOR_PORT:-8000\}/health\b", check)
    # whatever fetches it is installed
    tool = check.split(" CMD ", 1)[1].split()[0]
    assert tool in installed_packages(runtime[1])


def test_data_volume_read_only_root_and_labels(parsed, runtime, binary_version):
    runtime_instructions = runtime[1]
    volumes = " ".join(a for k, a in runtime_instructions if k == "VOLUME")
    assert "/var/lib/orchestrator" in volumes
    env = " ".join(a for k, a in runtime_instructions if k == "ENV")
    assert "ORCHESTRATOR_DATA_DIR=/var/lib/orchestrator" in env
    labels = " ".join(a for k, a in runtime_instructions if k == "LABEL")
    for key in ("title", "description", "version", "revision", "created"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert 'org.opencontainers.image.version="${VERSION}"' in labels
    assert args_defaults(parsed)["VERSION"] == binary_version
    entrypoint = [a for k, a in runtime_instructions if k == "ENTRYPOINT"]
    assert entrypoint == ['["/usr/local/bin/orchestrator-dynamic"]']
    copies = [a for k, a in runtime_instructions if k == "COPY"]
    assert any(c.startswith("--from=build ") and c.endswith(" /usr/local/bin/orchestrator-dynamic") for c in copies)


def linked_libraries(binary) -> list[tuple[str, str | None]]:
    """(soname, resolved path or None) of each library `ldd` lists."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=60, check=True).stdout
    libraries = []
    for line in out.splitlines():
        line = line.strip()
        if "=>" in line:
            name, _, rest = line.partition("=>")
            target = rest.strip().split(" (")[0].strip()
            libraries.append((name.strip(), None if target == "not found" else target))
        elif line:
            path = line.split(" (")[0]
            libraries.append((os.path.basename(path), path if path.startswith("/") else None))
    return libraries


def debian_package(path: str) -> str | None:
    """The package owning `path`, trying both sides of the /usr merge."""
    candidates = [path, os.path.realpath(path)]
    for candidate in list(candidates):
        if candidate.startswith("/usr/lib/"):
            candidates.append(candidate.removeprefix("/usr"))
        elif candidate.startswith("/lib/"):
            candidates.append("/usr" + candidate)
    for candidate in candidates:
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, timeout=30)
        if result.returncode == 0:
            return result.stdout.split(":")[0].strip()
    return None


def test_every_linked_library_is_installed_in_the_runtime_stage(binary, runtime):
    installed = installed_packages(runtime[1])
    needed = {}
    for soname, path in linked_libraries(binary):
        if soname.startswith(BASE_LIBRARIES):
            continue
        if SWIFT_RUNTIME.match(soname):
            assert path is None or "/swift/" in path, f"{soname} at {path} is not the toolchain's"
            continue
        assert path, f"ldd cannot resolve {soname}"
        package = debian_package(path)
        assert package, f"no Debian package owns {path} ({soname})"
        needed[soname] = PACKAGE_ALIASES.get(package, package)
    assert {"librdkafka.so.1", "libsqlite3.so.0"} <= set(needed), needed
    missing = {soname: package for soname, package in needed.items() if package not in installed}
    assert not missing, f"libraries the binary loads whose package the runtime stage does not install: {missing}"
    for required in ("librdkafka1", "libsqlite3-0", "ca-certificates"):
        assert required in installed


def test_the_package_check_can_fail(binary):
    """Against a runtime stage installing only ca-certificates, the check above finds missing
    packages (librdkafka1 among them)."""
    stage = ("debian:bookworm-slim AS runtime", [("RUN", "apt-get install -y ca-certificates")])
    installed = installed_packages(stage[1])
    packages = {debian_package(path) for soname, path in linked_libraries(binary)
                if path and not soname.startswith(BASE_LIBRARIES) and not SWIFT_RUNTIME.match(soname)}
    assert "librdkafka1" in packages - installed


def test_dockerignore_keeps_the_context_small_but_buildable():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".build", ".git"} <= ignored
    # SwiftPM needs the directory of every target the manifest names
    for needed in ("Sources", "Tests", "Fuzz", "Package.swift"):
        assert needed not in ignored
    copies = " ".join(a for k, a in instructions(DOCKERFILE.read_text()) if k == "COPY")
    for needed in ("Sources", "Tests", "Fuzz", "Package.swift"):
        assert needed in copies
