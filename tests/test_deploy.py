"""The deployment files: linted with the registries' linters, and saying what they must."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]'")
    return path


def test_the_dockerfile_passes_hadolint() -> None:
    linted = subprocess.run(
        [tool("hadolint"), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_compose_file_follows_the_compose_specification() -> None:
    checked = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_image_runs_as_a_user_without_torch_and_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "torch" not in dockerfile
    assert "RUN pip install -r requirements.lock \\\n    && pip install --no-deps .\n" in dockerfile
    assert "build-index --source sample" in dockerfile
    assert "\nUSER 10001\n" in final_stage and "HEALTHCHECK" in final_stage
    assert "/healthz" in final_stage


def test_the_bot_waits_for_healthy_services_and_the_index() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    waits = services["bot"]["depends_on"]
    assert waits["redis"] == {"condition": "service_healthy"}
    assert waits["ollama"] == {"condition": "service_healthy"}
    assert waits["index"] == {"condition": "service_completed_successfully"}
    assert "./deploy/redis.conf:/usr/local/etc/redis/redis.conf:ro" in services["redis"]["volumes"]
    model = "${MOVIEBOT_OLLAMA_MODEL:-nomic-embed-text}"  # bge-m3 for non-English users
    assert services["ollama-pull"]["entrypoint"] == ["ollama", "pull", model]
    assert services["index"]["environment"]["MOVIEBOT_OLLAMA_MODEL"] == model
    for name in ("redis", "ollama", "bot"):
        assert services[name]["restart"] == "unless-stopped"


def test_the_lock_pins_every_dependency_of_the_default_install() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    locked = {_normalized(line.split("==")[0]) for line in lines if line and line[0] != "#"}
    wanted = {_normalized(re.split(r"[\[<>=,]", needed)[0]) for needed in project["dependencies"]}
    assert wanted <= locked and all("==" in line for line in lines if line and line[0] != "#")


def _normalized(name: str) -> str:
    """A package name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_image_of_compose_is_pinned() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    images = {service["image"] for service in services.values()} - {"moviebot:latest"}
    assert images and all(re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+", image) for image in images)


def test_redis_has_a_password_protected_mode_and_a_memory_limit() -> None:
    redis = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--protected-mode") + 1] == "yes"
    assert "MOVIEBOT_REDIS_PASSWORD" in command[command.index("--requirepass") + 1]
    settings = dict(
        line.split(maxsplit=1)
        for line in (ROOT / "deploy" / "redis.conf").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert settings["maxmemory"] == "2gb" and settings["maxmemory-policy"] == "noeviction"
