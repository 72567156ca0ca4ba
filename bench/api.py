"""How fast the studio server takes in recordings: concurrent take uploads over loopback.

Run: `python bench/api.py` (add `--markdown` for a table to paste into bench/RESULTS.md).
Starts `voicestudio serve` on a free port with a fresh data folder, creates a ja-cv project, then sends
`--concurrency` uploads of 5 s takes (44.1 kHz 16-bit mono WAV, ~441 kB; HTS speech with faint noise,
different bytes each) at once through httpx's async client, `--rounds` times. Each upload is streamed to the
blob store, validated, quality-checked (f0, loudness, SNR) and recorded; latency is from the first byte
sent to the response. Throughput is uploads (and upload MB) per second of wall time over each round.
"""

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import numpy as np
import numpy.typing as npt
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from machine import machine, print_table
from voicestudio.align.reference import synthesize_japanese
from voicestudio.audio.io import resample
from voicestudio.text.prompts import load_prompt_set
from web.server import served_studio

TAKE_S = 5.0
TAKE_RATE_HZ = 44_100
NOISE_DBFS = -60.0
SENTENCE = "今日は朝から雨が降っていたので、駅前のカフェで休みました"
HEADER = ("round", "uploads", "MB", "wall", "uploads/s", "MB/s", "p50 latency", "p99 latency")


@dataclass(frozen=True, slots=True)
class Round:
    """One burst of concurrent uploads: wall time and each upload's latency."""

    number: int
    sizes_bytes: tuple[int, ...]
    wall_s: float
    latencies_s: tuple[float, ...]


def take_bytes(speech: npt.NDArray[np.float32], seed: int) -> bytes:
    """A 5 s take: the sentence, then faint noise (seeded, so every upload is new content)."""
    total = round(TAKE_S * TAKE_RATE_HZ)
    samples = np.zeros(total, dtype=np.float32)
    voiced = speech[: total - TAKE_RATE_HZ // 2]
    samples[TAKE_RATE_HZ // 4 : TAKE_RATE_HZ // 4 + len(voiced)] = voiced
    samples += np.random.default_rng(seed).normal(0.0, 10 ** (NOISE_DBFS / 20), total).astype(np.float32)
    out = io.BytesIO()
    sf.write(out, np.clip(samples, -1.0, 1.0), TAKE_RATE_HZ, subtype="PCM_16", format="WAV")
    return out.getvalue()


async def upload(client: httpx.AsyncClient, project_id: str, prompt_id: str, data: bytes) -> float:
    started = time.perf_counter()
    response = await client.post(
        f"/api/projects/{project_id}/takes",
        params={"prompt_set": "ja-cv", "prompt_id": prompt_id},
        content=data,
        headers={"Content-Type": "audio/wav"},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise SystemExit(f"upload of {prompt_id} answered {response.status_code}: {response.text}")
    return elapsed


async def burst(url: str, project_id: str, takes: list[tuple[str, bytes]], number: int) -> Round:
    limits = httpx.Limits(max_connections=len(takes), max_keepalive_connections=len(takes))
    async with httpx.AsyncClient(base_url=url, timeout=300.0, limits=limits) as client:
        started = time.perf_counter()
        latencies = await asyncio.gather(*(upload(client, project_id, p, data) for p, data in takes))
        wall_s = time.perf_counter() - started
    return Round(number, tuple(len(data) for _, data in takes), wall_s, tuple(latencies))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def cells(name: str, sizes: list[int], wall_s: float, latencies: list[float]) -> list[str]:
    megabytes = sum(sizes) / 1e6
    return [
        name,
        str(len(sizes)),
        f"{megabytes:.1f}",
        f"{wall_s:.2f} s",
        f"{len(sizes) / wall_s:.1f}",
        f"{megabytes / wall_s:.2f}",
        f"{percentile(latencies, 50):.2f} s",
        f"{percentile(latencies, 99):.2f} s",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--concurrency", type=int, default=20, help="uploads sent at once")
    parser.add_argument("--rounds", type=int, default=3, help="bursts of uploads, one after another")
    args = parser.parse_args()
    reference = synthesize_japanese(SENTENCE)
    speech = resample(reference.samples, reference.sample_rate_hz, TAKE_RATE_HZ)
    prompt_ids = [prompt.id for prompt in load_prompt_set("ja-cv").prompts]
    rounds: list[Round] = []
    with (
        tempfile.TemporaryDirectory(prefix="voicestudio-bench-api-") as root,
        served_studio(Path(root) / "data", Path(root) / "serve.log") as server,
    ):
        project = httpx.post(
            f"{server.url}/api/projects",
            json={"name": "bench", "language": "ja", "prompt_sets": ["ja-cv"]},
        ).json()
        for number in range(1, args.rounds + 1):
            takes = [
                (prompt_ids[i % len(prompt_ids)], take_bytes(speech, number * 1000 + i))
                for i in range(args.concurrency)
            ]
            rounds.append(asyncio.run(burst(server.url, project["id"], takes, number)))

    body = [cells(str(r.number), list(r.sizes_bytes), r.wall_s, list(r.latencies_s)) for r in rounds]
    body.append(
        cells(
            "all",
            [size for r in rounds for size in r.sizes_bytes],
            sum(r.wall_s for r in rounds),
            [latency for r in rounds for latency in r.latencies_s],
        )
    )
    print(f"{date.today().isoformat()} — {machine()}")
    print(
        f"{args.rounds} rounds of {args.concurrency} concurrent {TAKE_S:g} s take uploads to "
        "`voicestudio serve` on loopback (1 worker process, idle); median wall per round "
        f"{statistics.median(r.wall_s for r in rounds):.2f} s"
    )
    print_table(HEADER, body, args.markdown)


if __name__ == "__main__":
    main()
