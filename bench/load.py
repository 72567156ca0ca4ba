"""How a scaled-out studio holds up when many singers use it at once, from sign-up to a downloaded voicebank.

Run: `python bench/load.py [--users 50] [--takes 10] [--workers 2] [--s3] [--markdown]`.
Starts on loopback a throw-away PostgreSQL database, a Redis database, one `voicestudio serve` (accounts on,
Celery backend) and `--workers` Celery workers (`voicestudio worker --queues cpu`), all sharing one blob
store (a folder, or SeaweedFS S3 with `--s3`); see bench/cluster.py. Then `--users` singers start at once,
each with a browser of their own (cookie and CSRF token, httpx's async client): sign up, sign in again,
create a ja-cv project, upload `--takes` takes of 5 s one after another (held CV morae synthesized once;
each singer's bytes differ in their last 0.1 s of noise, so no upload is a stored blob again), queue the
oto, build a voicebank (each job followed by polling GET /api/jobs/{id} every 0.5 s, as the page does
without its WebSocket), and download the zip. Latency is from sending a request to its whole response;
"per s" is that kind's count over the whole run's wall time. A job's time is from its POST's answer to
the poll that first sees it finished. Every unexpected answer is printed with its status and body.

Rows: sign up / sign in (POST /api/account/sign-up, sign-in), new project (POST /api/projects), upload
take (POST /api/projects/{id}/takes), queue oto (POST .../oto), poll job (GET /api/jobs/{id}), queue
voicebank (POST .../voicebanks), download zip (GET /api/voicebanks/{id}/download, following a redirect to
S3), oto job / voicebank job (wait), and each singer's whole journey.
"""

import argparse
import asyncio
import io
import os
import signal
import sys
import tempfile
import time
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import httpx
import numpy as np
import numpy.typing as npt
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cluster import Cluster, running_cluster
from machine import machine, print_table
from web.audio import TAKE_RATE_HZ, held_mora

TAKE_S: Final = 5.0
NOISE_DBFS: Final = -60.0
TAIL_S: Final = 0.1  # what differs between singers' takes
POLL_S: Final = 0.5
REQUEST_TIMEOUT_S: Final = 600.0  # a slow answer is a latency to report, not an error
PASSWORD: Final = "load bench password"
PROMPTS: Final = {  # ja-cv prompt id → kana; voiced or plosive morae that Open JTalk does not devoice
    "ka": "か",
    "ki": "き",
    "ke": "け",
    "ko": "こ",
    "sa": "さ",
    "se": "せ",
    "so": "そ",
    "ta": "た",
    "na": "な",
    "ma": "ま",
    "mi": "み",
    "mo": "も",
    "ra": "ら",
    "ri": "り",
    "ro": "ろ",
}
FINISHED: Final = frozenset({"succeeded", "failed", "cancelled"})
HEADER: Final = ("request", "count", "per s", "p50", "p99", "max", "errors")


class UserStopped(Exception):
    """A singer's journey cannot go on: an answer was not the one expected (already recorded)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One unexpected answer: which request, which singer, its status and body."""

    kind: str
    user: int
    status: int | None
    body: str


@dataclass
class Tally:
    """Latencies by request kind, job times, every failure, each finished singer's end-to-end time."""

    latencies_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: list[Failure] = field(default_factory=list)
    journeys_s: list[float] = field(default_factory=list)

    def fail(self, kind: str, user: int, status: int | None, body: str) -> UserStopped:
        self.errors[kind] += 1
        self.failures.append(Failure(kind, user, status, body))
        return UserStopped(f"{kind}: {status}")


@dataclass
class Singer:
    """One user with their own browser (cookie jar and CSRF token)."""

    number: int
    client: httpx.AsyncClient
    tally: Tally

    async def call(self, kind: str, method: str, url: str, expected: int, **options: Any) -> httpx.Response:
        """Send one request, record its latency under `kind`; UserStopped when the status is unexpected."""
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **options)
        except httpx.HTTPError as error:
            raise self.tally.fail(kind, self.number, None, f"{type(error).__name__}: {error}") from None
        self.tally.latencies_s[kind].append(time.perf_counter() - started)
        if response.status_code != expected:
            raise self.tally.fail(kind, self.number, response.status_code, response.text)
        return response

    async def job(self, kind: str, job_id: str) -> dict[str, Any]:
        """Poll the job until it finishes; record the wait under `kind`; UserStopped unless it succeeded."""
        started = time.perf_counter()
        while True:
            await asyncio.sleep(POLL_S)
            job: dict[str, Any] = (await self.call("poll job", "GET", f"/api/jobs/{job_id}", 200)).json()
            if job["state"] in FINISHED:
                break
        self.tally.latencies_s[kind].append(time.perf_counter() - started)
        if job["state"] != "succeeded":
            raise self.tally.fail(kind, self.number, None, f"job {job_id} {job['state']}: {job['error']}")
        return job


async def journey(singer: Singer, takes: Sequence[tuple[str, bytes]], run: str) -> None:
    """Sign up, sign in, record, generate the oto, build and download the voicebank."""
    started = time.perf_counter()
    account = {"email": f"singer{singer.number}-{run}@example.org", "password": PASSWORD}
    await singer.call("sign up", "POST", "/api/account/sign-up", 201, json=account)
    signed_in = await singer.call("sign in", "POST", "/api/account/sign-in", 200, json=account)
    singer.client.headers["X-CSRF-Token"] = signed_in.json()["csrf_token"]
    body = {"name": f"Singer {singer.number}", "language": "ja", "prompt_sets": ["ja-cv"]}
    project_id = (await singer.call("new project", "POST", "/api/projects", 201, json=body)).json()["id"]
    for prompt_id, data in takes:
        await singer.call(
            "upload take",
            "POST",
            f"/api/projects/{project_id}/takes",
            201,
            params={"prompt_set": "ja-cv", "prompt_id": prompt_id},
            content=data,
            headers={"Content-Type": "audio/wav"},
        )
    oto = await singer.call("queue oto", "POST", f"/api/projects/{project_id}/oto", 202)
    await singer.job("oto job (wait)", oto.json()["job"]["id"])
    build = await singer.call(
        "queue voicebank",
        "POST",
        f"/api/projects/{project_id}/voicebanks",
        202,
        json={"name": f"Singer {singer.number} CV"},
    )
    built = await singer.job("voicebank job (wait)", build.json()["job"]["id"])
    voicebank_id = built["result"]["voicebank_id"]
    download = await singer.call("download zip", "GET", f"/api/voicebanks/{voicebank_id}/download", 200)
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    wavs = [name for name in names if name.endswith(".wav")]
    if len(wavs) != len(takes) or not any(name.endswith("/oto.ini") for name in names):
        raise singer.tally.fail("voicebank zip", singer.number, 200, f"{len(wavs)} wavs in {names}")
    singer.tally.journeys_s.append(time.perf_counter() - started)


async def crowd(url: str, users: int, takes_by_user: list[list[tuple[str, bytes]]]) -> tuple[Tally, float]:
    """Every singer's journey at once; the tally and the wall time of the whole crowd."""
    tally, run = Tally(), uuid.uuid4().hex[:8]
    clients = [
        httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, follow_redirects=True)
        for _ in range(users)
    ]
    started = time.perf_counter()
    try:
        outcomes = await asyncio.gather(
            *(journey(Singer(n, clients[n], tally), takes_by_user[n], run) for n in range(users)),
            return_exceptions=True,
        )
    finally:
        wall_s = time.perf_counter() - started
        for client in clients:
            await client.aclose()
    for number, outcome in enumerate(outcomes):
        if isinstance(outcome, BaseException) and not isinstance(outcome, UserStopped):
            tally.failures.append(Failure("journey", number, None, f"{type(outcome).__name__}: {outcome}"))
    return tally, wall_s


def base_takes(count: int) -> list[tuple[str, npt.NDArray[np.float32]]]:
    """`count` held morae, each centred in 5 s of faint noise at 44.1 kHz (synthesized once per run)."""
    total = round(TAKE_S * TAKE_RATE_HZ)
    chosen = list(PROMPTS.items())[:count]
    takes = []
    for index, (prompt_id, kana) in enumerate(chosen):
        sung = held_mora(kana)[: total - TAKE_RATE_HZ // 2]
        noise = np.random.default_rng(index).normal(0.0, 10 ** (NOISE_DBFS / 20), total).astype(np.float32)
        start = (total - len(sung)) // 2
        noise[start : start + len(sung)] += sung
        takes.append((prompt_id, np.clip(noise, -1.0, 1.0)))
    return takes


def wav_bytes(samples: npt.NDArray[np.float32]) -> bytes:
    out = io.BytesIO()
    sf.write(out, samples, TAKE_RATE_HZ, subtype="PCM_16", format="WAV")
    return out.getvalue()


def singers_takes(
    takes: list[tuple[str, npt.NDArray[np.float32]]], users: int
) -> list[list[tuple[str, bytes]]]:
    """Each singer's WAV bytes: the same takes with a tail of noise of their own (16-bit PCM at the end)."""
    encoded = [(prompt_id, wav_bytes(samples)) for prompt_id, samples in takes]
    tail_samples = round(TAIL_S * TAKE_RATE_HZ)
    scale = 32767 * 10 ** (NOISE_DBFS / 20)
    by_user = []
    for user in range(users):
        tail = (np.random.default_rng(10_000 + user).normal(0.0, scale, tail_samples)).astype("<i2").tobytes()
        by_user.append([(prompt_id, data[: -len(tail)] + tail) for prompt_id, data in encoded])
    return by_user


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def rows(tally: Tally, wall_s: float) -> list[list[str]]:
    """One row per request kind (in the order a singer sends them), then jobs, then whole journeys."""
    body = []
    for kind, latencies in tally.latencies_s.items():
        body.append(
            [
                kind,
                str(len(latencies)),
                "" if kind.endswith("(wait)") else f"{len(latencies) / wall_s:.2f}",
                f"{percentile(latencies, 50):.3f} s",
                f"{percentile(latencies, 99):.3f} s",
                f"{max(latencies):.3f} s",
                str(tally.errors.get(kind, 0)),
            ]
        )
    requests = [
        s for kind, values in tally.latencies_s.items() if not kind.endswith("(wait)") for s in values
    ]
    request_errors = sum(n for kind, n in tally.errors.items() if not kind.endswith("(wait)"))
    body.append(
        [
            "all requests",
            str(len(requests)),
            f"{len(requests) / wall_s:.2f}",
            f"{percentile(requests, 50):.3f} s",
            f"{percentile(requests, 99):.3f} s",
            f"{max(requests):.3f} s",
            str(request_errors),
        ]
    )
    if tally.journeys_s:
        journeys = tally.journeys_s
        body.append(
            [
                "singer end to end",
                str(len(journeys)),
                "",
                f"{percentile(journeys, 50):.1f} s",
                f"{percentile(journeys, 99):.1f} s",
                f"{max(journeys):.1f} s",
                str(len({f.user for f in tally.failures})),
            ]
        )
    return body


def report(tally: Tally, wall_s: float, args: argparse.Namespace, cluster: Cluster, load: str) -> None:
    print(f"{date.today().isoformat()} — {machine()}; load average {load} before the bench started")
    print(
        f"{args.users} singers at once, {args.takes} takes of {TAKE_S:g} s each; one `voicestudio serve` "
        f"(accounts, PostgreSQL, Celery on Redis) and {cluster.workers} cpu workers on loopback, blobs in "
        f"{cluster.blob_location}; {len(tally.journeys_s)} of {args.users} got their voicebank; "
        f"wall {wall_s:.1f} s"
    )
    print_table(HEADER, rows(tally, wall_s), args.markdown)
    for failure in tally.failures:
        print(f"ERROR {failure.kind} (singer {failure.user}): {failure.status} {failure.body[:2000]}")


def stop_on_signals() -> None:
    """Ctrl-C and SIGTERM end the bench the same way, so that every started process is stopped on the way
    out (also where the bench was started with SIGINT ignored, as a shell's background job is)."""

    def interrupt(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50, help="singers at once")
    parser.add_argument("--takes", type=int, default=10, choices=range(1, len(PROMPTS) + 1), metavar="N")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers on the cpu queue")
    parser.add_argument(
        "--s3", action="store_true", help="blobs on a SeaweedFS S3 server instead of a folder"
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--keep-logs", action="store_true", help="print every process's log tail at the end")
    args = parser.parse_args()
    stop_on_signals()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    takes_by_user = singers_takes(base_takes(args.takes), args.users)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="voicestudio-bench-load-") as root,
            running_cluster(Path(root), args.workers, args.s3) as cluster,
        ):
            tally, wall_s = asyncio.run(crowd(cluster.url, args.users, takes_by_user))
            if tally.failures or args.keep_logs:
                print(cluster.log_tails(), file=sys.stderr)
    except KeyboardInterrupt:
        raise SystemExit(
            "interrupted: the server and workers are stopped, the database and Redis emptied"
        ) from None
    report(tally, wall_s, args, cluster, load)
    if tally.failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
