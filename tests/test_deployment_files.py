"""docker-compose.yml, deploy/nginx.conf and the Dockerfile wire what docs/deployment.md says.

The compose file is read as YAML (anchors and merge keys resolved); ``docker compose config``
and ``nginx -t`` check the files themselves where those tools are installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from aica.config import Settings
from aica.jobs.worker import HAND_BACK_SECONDS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
NGINX = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"

AICA_PROCESSES = ("migrate", "api1", "api2", "worker")
"""The services that run the aica image: they must read the same settings."""
OBJECT_STORE = {"AICA_STORAGE_URL", "AICA_S3_ENDPOINT_URL", "AICA_S3_AUDIO_REDIRECT"}
"""Issue 20's object storage settings (the storage branch adds them to Settings)."""
NOT_OURS = {
    "FORWARDED_ALLOW_IPS": "uvicorn: whose X-Forwarded-* headers to trust",
    "AWS_ACCESS_KEY_ID": "the S3 client's standard credentials",
    "AWS_SECRET_ACCESS_KEY": "the S3 client's standard credentials",
    "AWS_DEFAULT_REGION": "the S3 client's standard region",
}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return compose["services"]


@pytest.fixture(scope="module")
def nginx() -> str:
    return NGINX.read_text()


def is_setting(variable: str) -> bool:
    return variable.startswith("AICA_") and variable[5:].lower() in Settings.model_fields


def depends(service: dict[str, Any]) -> dict[str, str]:
    return {name: rule["condition"] for name, rule in service.get("depends_on", {}).items()}


def directive(conf: str, name: str) -> list[str]:
    """The values of every ``name value;`` in the configuration, comments left out."""
    text = re.sub(r"#[^\n]*", "", conf)
    return [v.strip() for v in re.findall(rf"(?m)^\s*{name}\s+([^;{{}}]+);", text)]


def test_every_aica_variable_the_services_set_is_a_setting_with_a_valid_value(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in AICA_PROCESSES:
        environment = services[name]["environment"]
        unknown = {v for v in environment if not is_setting(v) and v not in NOT_OURS}
        assert unknown - OBJECT_STORE == set(), f"{name} sets {unknown - OBJECT_STORE}"
        for variable, value in environment.items():
            monkeypatch.setenv(variable, str(value))
        settings = Settings()  # a bad value fails here, naming its variable
        assert (settings.run_workers, settings.search_backend) == (False, "elasticsearch")


def test_the_object_store_variables_are_settings(services: dict[str, dict[str, Any]]) -> None:
    environment = services["api1"]["environment"]
    assert set(environment) >= OBJECT_STORE
    assert all(is_setting(v) for v in OBJECT_STORE)


def test_every_aica_process_reads_the_same_settings(services: dict[str, dict[str, Any]]) -> None:
    def aica(name: str) -> dict[str, str]:
        environment = services[name]["environment"]
        return {k: v for k, v in environment.items() if k.startswith(("AICA_", "AWS_"))}

    first, *others = AICA_PROCESSES
    for name in others:
        assert aica(name) == aica(first), name
    assert {services[name]["image"] for name in AICA_PROCESSES} == {"aica:latest"}


def test_api_processes_and_workers_start_once_migrations_and_the_bucket_are_done(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("api1", "api2", "worker"):
        assert depends(services[name]) == {
            "migrate": "service_completed_successfully",
            "minio-init": "service_completed_successfully",
            "redis": "service_healthy",
            "elasticsearch": "service_healthy",
        }, name
    assert services["migrate"]["command"] == ["migrate"]
    assert depends(services["migrate"]) == {"postgres": "service_healthy"}
    assert depends(services["minio-init"]) == {"minio": "service_healthy"}
    assert "mc mb --ignore-existing local/aica" in services["minio-init"]["command"][0]
    assert services["api1"]["environment"]["AICA_STORAGE_URL"].startswith("s3://aica/")
    for one_shot in ("migrate", "minio-init"):
        assert services[one_shot]["restart"] == "no", one_shot


def test_long_running_services_are_health_checked_and_apis_on_readyz(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("postgres", "redis", "elasticsearch", "minio", "api1", "api2", "nginx"):
        check = services[name]["healthcheck"]
        assert check.get("test") and not check.get("disable"), name
    for name in ("api1", "api2"):
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"]), name
        assert services[name]["command"][:1] == ["serve"]
        assert services[name]["environment"]["AICA_RUN_WORKERS"] == "0"
    assert depends(services["nginx"]) == {"api1": "service_healthy", "api2": "service_healthy"}


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    elasticsearch = services["elasticsearch"]["image"]
    assert re.fullmatch(
        r"docker\.elastic\.co/elasticsearch/elasticsearch:9\.\d+\.\d+", elasticsearch
    )
    assert re.fullmatch(r"minio/minio:RELEASE\.[\dT-]+Z", services["minio"]["image"])
    assert re.fullmatch(r"minio/mc:RELEASE\.[\dT-]+Z", services["minio-init"]["image"])
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-alpine", services["nginx"]["image"])


def test_two_workers_stop_within_their_grace_period(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert worker["command"][0] == "worker"
    assert worker["deploy"]["replicas"] == 2
    grace = float(worker["command"][worker["command"].index("--grace-seconds") + 1])
    # compose's SIGKILL must come after the jobs have been handed back
    assert grace + HAND_BACK_SECONDS <= float(worker["stop_grace_period"].removesuffix("s"))


def test_nginx_balances_both_api_processes_on_the_port_they_serve(
    services: dict[str, dict[str, Any]], nginx: str
) -> None:
    upstreams = {server.split()[0] for server in directive(nginx, "server")}
    ports = {services[name]["command"][-1] for name in ("api1", "api2")}
    assert upstreams == {f"{name}:{port}" for name in ("api1", "api2") for port in ports}
    assert services["nginx"]["volumes"] == ["./deploy/nginx.conf:/etc/nginx/nginx.conf:ro"]


def test_nginx_upgrades_websockets_on_graphql_and_forwards_the_client(
    services: dict[str, dict[str, Any]], nginx: str
) -> None:
    headers = dict(h.split(None, 1) for h in directive(nginx, "proxy_set_header"))
    assert headers["Upgrade"] == "$http_upgrade"
    assert headers["Connection"] == "$connection_upgrade"
    assert re.search(r"map \$http_upgrade \$connection_upgrade \{\s*default\s+upgrade;", nginx)
    assert headers["Host"] == "$http_host"  # with its port: WebSocket same-origin checks
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Request-Id"] == "$aica_request_id"
    assert directive(nginx, "proxy_http_version") == ["1.1"]
    assert re.search(r"location = /graphql \{[^}]*proxy_pass http://aica_api;", nginx)
    # a location that sets any header would silently drop all of the server's
    locations = re.findall(r"location [^{]+\{([^}]*)\}", nginx)
    assert locations and not any("proxy_set_header" in body for body in locations)
    assert services["api1"]["environment"]["FORWARDED_ALLOW_IPS"]


def test_nginx_streams_uploads_and_audio_and_lets_the_api_refuse_large_bodies(
    services: dict[str, dict[str, Any]], nginx: str
) -> None:
    assert directive(nginx, "proxy_request_buffering") == ["off"]
    assert directive(nginx, "proxy_buffering") == ["off"]
    [size] = directive(nginx, "client_max_body_size")
    limit = int(size.removesuffix("m")) * 1024 * 1024
    default = Settings.model_fields["max_upload_bytes"].default
    upload_limit = int(services["api1"]["environment"].get("AICA_MAX_UPLOAD_BYTES", default))
    assert upload_limit <= limit <= upload_limit + 1024 * 1024


def test_the_image_bakes_models_where_the_compose_processes_look_for_them(
    services: dict[str, dict[str, Any]],
) -> None:
    dockerfile = DOCKERFILE.read_text()
    assert 'ARG MODELS=""' in dockerfile
    assert re.search(r"AICA_DATA_DIR=/var/lib/aica .*\n?.*aica models install", dockerfile)
    assert services["api1"]["build"]["args"] == {"MODELS": "${MODELS:-}"}
    assert services["worker"]["environment"]["AICA_DATA_DIR"] == "/var/lib/aica"
    ignored = (ROOT / ".dockerignore").read_text().split()
    for source in re.findall(r"(?m)^COPY (?!--from)(.+) \S+$", dockerfile):
        for path in source.split():
            assert (ROOT / path).exists() and path not in ignored, path


def test_nginx_accepts_the_configuration(nginx: str, tmp_path: Path) -> None:
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed here (apt-get install nginx-light)")
    # the compose service names resolve only on the compose network
    (tmp_path / "nginx.conf").write_text(re.sub(r"\bapi[12]:", "127.0.0.1:", nginx))
    checked = subprocess.run(
        ["nginx", "-t", "-q", "-e", "stderr", "-p", str(tmp_path), "-c", "nginx.conf"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    plugin = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    if not plugin or plugin.returncode != 0:
        pytest.skip("the docker compose plugin is not installed here")
    checked = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
