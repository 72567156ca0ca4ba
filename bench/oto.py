"""How close automatic oto.ini comes to the ideal one on a 100-wav CV bank, and how long it takes.

Run: `python bench/oto.py` (add `--markdown` for a table to paste into bench/RESULTS.md).
The first 100 prompts of `ja-cv` (`a.wav` … `pyu.wav`) spoken by HTS, re-spoken by WORLD slower/lower and
faster/higher with 0.5 s of faint noise around each take (`--pad-ms` to change), sung as CV singers do
(WORLD, +2 st, each vowel held ~1 s), and spoken by eSpeak NG's Japanese voice (another engine than the
aligner's reference). Each folder goes through `oto_for_folder`,
the call the CLI makes; the ideal oto is `generate_oto` on the true alignment of the same wav.
Target: 100 CV wavs in under 5 s on 2 cores.
"""

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.stretch import NOISE_DBFS, PAD_MS, WORLD_RATE_HZ, held_take, stretched_take
from machine import machine, print_table
from voicestudio.align.reference import ReferenceSpeech, synthesize_japanese
from voicestudio.audio.io import read_audio, write_wav_atomic
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.oto import OtoEntry
from voicestudio.domain.prompts import Prompt
from voicestudio.oto.folder import oto_for_folder
from voicestudio.oto.generate import generate_oto
from voicestudio.oto.phones import is_pause, same_phone, vowel_core
from voicestudio.oto.units import UnitRequest, units_for_file
from voicestudio.text.espeak import EspeakUnavailable, synthesize_with_phones
from voicestudio.text.kana import to_katakana
from voicestudio.text.prompts import load_prompt_set

FILES = 100
TARGET_S = 5.0  # for FILES wavs on 2 cores
STRETCHES = ((1.15, -3.0), (0.85, 3.0))  # (tempo factor, semitones): slower/lower, faster/higher
HELD_MS = 1000.0  # a CV singer holds the vowel about a second...
HELD_SEMITONES = 2.0  # ... and sings a little higher than the synthesizer speaks
SYNTH_THREADS = 4  # hts_engine runs as a process: threads overlap them
ESPEAK_VOICE = "ja"
# eSpeak's IPA vowel letters → the Japanese vowel (or ん) a CV mora ends in.
IPA_VOWELS = {"a": "a", "ä": "a", "ɑ": "a", "i": "i", "ɯ": "u", "u": "u", "e": "e", "ɛ": "e", "o": "o"}
IPA_VOWELS |= {"ɔ": "o", "ɴ": "N"}
# A CV singer says the file name's mora; Open JTalk reads は/へ as particles (wa/e) and ヲ as o.
SPOKEN_AS = {"を": "ウォ", "ヲ": "ウォ"}


@dataclass(frozen=True, slots=True, eq=False)
class Take:
    """One wav of a condition and where its phones truly are (ms, in the take, pyopenjtalk names)."""

    wav_name: str
    samples: npt.NDArray[np.float32]
    sample_rate_hz: int
    truth: Alignment


@dataclass(frozen=True, slots=True)
class Condition:
    label: str
    takes: tuple[Take, ...]
    skipped: int = 0  # prompts whose true phones could not be told (eSpeak only)


@dataclass(frozen=True, slots=True)
class FolderRun:
    """What the timed call gave back for one folder, and how long it took (wall, s)."""

    entries: tuple[OtoEntry, ...]
    file_count: int
    flagged: int
    low_confidence: int
    wall_s: float
    cpu_s: float  # this process and the hts_engine processes it ran, all cores together
    load_before: float  # 1-minute load average when the call started
    load_after: float


@dataclass(frozen=True, slots=True)
class Errors:
    """Per matched entry: |found − ideal| offset, |found − true| vowel onset, |found − ideal| overlap (ms)."""

    offset_ms: npt.NDArray[np.float64]
    vowel_onset_ms: npt.NDArray[np.float64]
    overlap_ms: npt.NDArray[np.float64]
    missing: int  # ideal entries the call gave no entry for


# --- the bank ------------------------------------------------------------------------------------


def spoken_text(prompt: Prompt) -> str:
    """What to have the synthesizers say for a prompt: its mora in katakana, so no particle reading."""
    return SPOKEN_AS.get(prompt.text, to_katakana(prompt.text))


def hts_speech(prompts: Sequence[Prompt]) -> list[ReferenceSpeech]:
    """Every prompt spoken by HTS with its true phone times (setup: synthesized once, not timed)."""
    with ThreadPoolExecutor(SYNTH_THREADS) as pool:
        return list(pool.map(synthesize_japanese, [spoken_text(prompt) for prompt in prompts]))


def same_voice(prompts: Sequence[Prompt], speech: Sequence[ReferenceSpeech]) -> Condition:
    takes = tuple(
        Take(p.wav_name, s.samples, s.sample_rate_hz, s.alignment)
        for p, s in zip(prompts, speech, strict=True)
    )
    return Condition("HTS, same voice", takes)


def respoken(
    prompts: Sequence[Prompt],
    speech: Sequence[ReferenceSpeech],
    tempo_factor: float,
    semitones: float,
    pad_ms: float = PAD_MS,
) -> Condition:
    """The HTS takes re-spoken by WORLD with `pad_ms` of faint noise each side (at most PAD_MS); true
    times scale by the tempo and shift by the pad."""
    cut = round((PAD_MS - pad_ms) * WORLD_RATE_HZ / 1000.0)
    takes: list[Take] = []
    for prompt, spoken in zip(prompts, speech, strict=True):
        take = stretched_take(spoken.samples, spoken.sample_rate_hz, tempo_factor, semitones)
        samples = take[cut : len(take) - cut]
        truth = mapped(spoken.alignment, tempo_factor, pad_ms)
        takes.append(Take(prompt.wav_name, samples, WORLD_RATE_HZ, truth))
    pace = "slower" if tempo_factor > 1.0 else "faster"
    label = f"WORLD ×{tempo_factor:g} ({pace}), {semitones:+g} st, {pad_ms / 1000.0:g} s pads"
    return Condition(label, tuple(takes))


def held(prompts: Sequence[Prompt], speech: Sequence[ReferenceSpeech], pad_ms: float = PAD_MS) -> Condition:
    """The HTS takes sung with each vowel (and ん) held `HELD_MS`: WORLD repeats its loudest 30 ms,
    `HELD_SEMITONES` higher, `pad_ms` of faint noise each side; true times move with the hold."""
    takes = []
    for prompt, spoken in zip(prompts, speech, strict=True):
        samples, truth = held_take(
            spoken.samples, spoken.sample_rate_hz, spoken.alignment, HELD_MS, HELD_SEMITONES, pad_ms
        )
        takes.append(Take(prompt.wav_name, samples, WORLD_RATE_HZ, truth))
    label = f"held vowels (~{HELD_MS / 1000.0:g} s), WORLD {HELD_SEMITONES:+g} st, {pad_ms / 1000.0:g} s pads"
    return Condition(label, tuple(takes))


def mapped(alignment: Alignment, scale: float, shift_ms: float) -> Alignment:
    """`alignment` with every time `t` moved to `t * scale + shift_ms`."""
    return Alignment(
        tuple(
            replace(s, start_ms=s.start_ms * scale + shift_ms, end_ms=s.end_ms * scale + shift_ms)
            for s in alignment.segments
        )
    )


def espeak_voice(prompts: Sequence[Prompt], pad_ms: float = PAD_MS) -> Condition:
    """The prompts spoken by eSpeak NG, `pad_ms` of faint noise around each (its vowels start at 0 ms).

    eSpeak's phone events are mapped onto the prompt's phones: its last spoken phone is the vowel, the
    ones before it (`k ʲ` for ky) the consonant; prompts where that does not hold are skipped and counted.
    """
    takes: list[Take] = []
    skipped = 0
    for prompt in prompts:
        speech = synthesize_with_phones(spoken_text(prompt), ESPEAK_VOICE)
        truth = espeak_truth(prompt, speech.alignment)
        if truth is None:
            skipped += 1
            continue
        rate_hz = speech.sample_rate_hz
        pad = np.zeros(round(pad_ms * rate_hz / 1000.0), dtype=np.float32)
        take = np.concatenate([pad, speech.samples, pad])
        noise = np.random.default_rng(0).normal(0.0, 10.0 ** (NOISE_DBFS / 20.0), len(take))
        samples = (take + noise).astype(np.float32)
        takes.append(Take(prompt.wav_name, samples, rate_hz, mapped(truth, 1.0, pad_ms)))
    label = f"eSpeak NG ja (cross-engine), {pad_ms / 1000.0:g} s pads"
    return Condition(label, tuple(takes), skipped)


def espeak_truth(prompt: Prompt, alignment: Alignment) -> Alignment | None:
    """eSpeak's segments renamed to the prompt's phones (consonant phones merged), or None if they differ."""
    spoken = [s for s in alignment.segments if not is_pause(s.phone)]
    wanted = prompt.phonemes
    if not spoken or not wanted or IPA_VOWELS.get(spoken[-1].phone[:1]) != vowel_core(wanted[-1]):
        return None
    consonants, vowel = spoken[:-1], spoken[-1]
    if bool(consonants) != (len(wanted) == 2) or len(wanted) > 2:
        return None
    segments: list[PhoneSegment] = []
    if consonants:
        segments.append(PhoneSegment(wanted[0], consonants[0].start_ms, vowel.start_ms, 1.0))
    segments.append(PhoneSegment(wanted[-1], vowel.start_ms, vowel.end_ms, 1.0))
    first, last = segments[0].start_ms, segments[-1].end_ms
    end_ms = alignment.segments[-1].end_ms
    rests = [PhoneSegment("sil", 0.0, first, 1.0)] if first > 0 else []
    tail = [PhoneSegment("sil", last, end_ms, 1.0)] if end_ms > last else []
    return Alignment((*rests, *segments, *tail))


def write_folder(takes: Iterable[Take], folder: Path) -> list[Take]:
    """Write the takes as 16-bit wavs and return them as read back (the samples the call will see)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Take] = []
    for take in takes:
        path = folder / take.wav_name
        write_wav_atomic(path, take.samples, take.sample_rate_hz)
        clip = read_audio(path)
        written.append(replace(take, samples=clip.samples, sample_rate_hz=clip.sample_rate_hz))
    return written


# --- the timed call ------------------------------------------------------------------------------


def timed(folder: Path, refine: bool = False) -> FolderRun:
    """`oto_for_folder` on `folder` as `voicestudio oto [--refine]` calls it, wall-clock timed."""
    load_before = os.getloadavg()[0]
    cpu_before = _cpu_s()
    started = time.perf_counter()
    result = oto_for_folder(folder, refine=refine)
    wall_s = time.perf_counter() - started
    cpu_s = _cpu_s() - cpu_before
    return FolderRun(
        result.entries,
        result.file_count,
        len(result.flagged),
        result.low_confidence_count,
        wall_s,
        cpu_s,
        load_before,
        os.getloadavg()[0],
    )


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children (hts_engine)."""
    used = os.times()
    return used.user + used.system + used.children_user + used.children_system


# --- scoring -------------------------------------------------------------------------------------


def ideal_entries(take: Take) -> tuple[list[UnitRequest], list[OtoEntry]]:
    """The units of the take and the entries generate_oto makes on its true alignment."""
    units = units_for_file(take.wav_name, "auto")
    return units, generate_oto(take.wav_name, take.samples, take.sample_rate_hz, take.truth, units)


def true_vowel_start_ms(unit: UnitRequest, truth: Alignment) -> float | None:
    """Where the unit's vowel (its last phone) truly starts: where its phones are first spoken in a row."""
    spoken = [s for s in truth.segments if not is_pause(s.phone)]
    size = len(unit.phones)
    for start in range(len(spoken) - size + 1):
        window = spoken[start : start + size]
        if all(same_phone(p, s.phone) for p, s in zip(unit.phones, window, strict=True)):
            return window[-1].start_ms
    return None


def score(takes: Sequence[Take], found: Iterable[OtoEntry]) -> Errors:
    by_key = {(entry.wav_name, entry.alias): entry for entry in found}
    offsets: list[float] = []
    onsets: list[float] = []
    overlaps: list[float] = []
    missing = 0
    for take in takes:
        units, ideal = ideal_entries(take)
        for unit, want in zip(units, ideal, strict=True):
            got = by_key.get((take.wav_name, want.alias))
            vowel_ms = true_vowel_start_ms(unit, take.truth)
            if got is None or vowel_ms is None:
                missing += 1
                continue
            offsets.append(abs(got.offset_ms - want.offset_ms))
            onsets.append(abs(got.offset_ms + got.preutterance_ms - vowel_ms))
            overlaps.append(abs((got.offset_ms + got.overlap_ms) - (want.offset_ms + want.overlap_ms)))
    return Errors(_array(offsets), _array(onsets), _array(overlaps), missing)


def _array(values: list[float]) -> npt.NDArray[np.float64]:
    return np.array(values, dtype=np.float64)


def _mean(values: npt.NDArray[np.float64]) -> str:
    return f"{float(np.mean(values)):.1f} ms" if len(values) else "–"


def _share(values: npt.NDArray[np.float64], limit_ms: float) -> str:
    return f"{100.0 * float(np.mean(values <= limit_ms)):.0f} %" if len(values) else "–"


def row(condition: Condition, run: FolderRun, errors: Errors) -> list[str]:
    files = f"{run.file_count}" + (f" ({condition.skipped} skipped)" if condition.skipped else "")
    entries = f"{len(run.entries)}" + (f" ({errors.missing} unmatched)" if errors.missing else "")
    return [
        condition.label,
        files,
        entries,
        f"{run.wall_s:.2f} s",
        f"{run.wall_s / max(run.file_count, 1):.3f} s",
        f"{run.cpu_s:.1f} s",
        _mean(errors.offset_ms),
        _mean(errors.vowel_onset_ms),
        _mean(errors.overlap_ms),
        _share(errors.vowel_onset_ms, 20.0),
        _share(errors.vowel_onset_ms, 50.0),
        str(run.low_confidence),
        str(run.flagged),
        f"{run.load_before:.1f} → {run.load_after:.1f}",
    ]


HEADER = [
    "condition",
    "files",
    "entries",
    "wall",
    "s / file",
    "CPU",
    "offset MAE",
    "vowel onset MAE",
    "overlap MAE",
    "onset ≤ 20 ms",
    "onset ≤ 50 ms",
    "low-conf. lines",
    "flagged files",
    "load avg",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--files", type=int, default=FILES)
    parser.add_argument("--no-espeak", action="store_true", help="leave out the eSpeak NG condition")
    parser.add_argument(
        "--pad-ms",
        type=float,
        default=PAD_MS,
        help=f"noise before and after each re-spoken take (≤ {PAD_MS:g})",
    )
    args = parser.parse_args()
    if not 0.0 <= args.pad_ms <= PAD_MS:
        parser.error(f"--pad-ms must be between 0 and {PAD_MS:g}")
    prompts = load_prompt_set("ja-cv").prompts[: args.files]
    speech = hts_speech(prompts)
    conditions = [same_voice(prompts, speech)]
    conditions += [respoken(prompts, speech, tempo, st, args.pad_ms) for tempo, st in STRETCHES]
    conditions.append(held(prompts, speech, args.pad_ms))
    notes: list[str] = []
    if not args.no_espeak:
        try:
            conditions.append(espeak_voice(prompts, args.pad_ms))
        except EspeakUnavailable as e:
            notes.append(f"eSpeak NG condition left out: {e}")
    body: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="voicestudio-bench-oto-") as root:
        for number, condition in enumerate(conditions):
            takes = write_folder(condition.takes, Path(root) / f"condition{number}")
            for refine in (True, False):
                run = timed(Path(root) / f"condition{number}", refine)
                label = replace(condition, label=condition.label + ("" if refine else ", --no-refine"))
                body.append(row(label, run, score(takes, run.entries)))

    print(f"{date.today().isoformat()} — {machine()}; first {len(prompts)} prompts of ja-cv")
    print(
        f"timed: one oto_for_folder call per condition; target: {FILES} CV wavs in < {TARGET_S:g} s, 2 cores"
    )
    for note in notes:
        print(note)
    print_table(HEADER, body, args.markdown)


if __name__ == "__main__":
    main()
