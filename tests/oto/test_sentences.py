"""A singer who read the paragraph prompts gets a voicebank: the best instance of each unit, each in a wav."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from scipy.signal import correlate

import voicestudio.oto.sentences as sentences
from fixtures.morae import true_morae
from voicestudio.align.reference import ReferenceUnavailable, synthesize_japanese
from voicestudio.audio.io import resample, write_wav_atomic
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.oto import OtoEntry
from voicestudio.domain.progress import Progress
from voicestudio.files import windows_forbidden_chars
from voicestudio.oto.ini import read_oto_ini
from voicestudio.oto.sentences import (
    OUTPUT_RATE_HZ,
    SentenceBank,
    SentenceTake,
    SentenceUnitError,
    UnitCandidate,
    pick_best,
    sentence_bank_from_folder,
    units_from_sentences,
    write_sentence_units,
)
from voicestudio.text.kana import phonemes_to_morae
from voicestudio.text.prompts import load_prompt_set

SENTENCES = ("ja_sentence_01", "ja_sentence_02", "ja_sentence_03")  # を, ゔぁ/でゅ/つぁ, rests and っ
NOTE_ERROR_MAX_MS = 20.0  # offset + preutterance against the true vowel start, in the cut file
WO_SENTENCE = "ja_sentence_01"  # …ミルクティーを飲みました
VA_SENTENCE = "ja_sentence_02.wav"  # holds ゔぁ and ゔぃ
SILENT_TAKE = "ja_sentence_04.wav"  # a prompt recorded with the microphone muted
STRAY_WAV = "warmup.wav"  # a take that is no prompt of the set
VOWEL_ONSET_MAX_ERROR_MS = 25.0  # the bank's notes against the true vowel starts (dtw alignment)
CV_MORAE_TOTAL = 130  # the morae of ja-cv, its breath left out


@dataclass(frozen=True, slots=True, eq=False)
class Written:
    """Units chosen from the takes, written to `folder`, with the entries that came back."""

    folder: Path
    chosen: tuple[UnitCandidate, ...]
    entries: tuple[OtoEntry, ...]
    progress: tuple[Progress, ...]


@pytest.fixture(scope="session")
def takes() -> tuple[SentenceTake, ...]:
    """Three ja-paragraph sentences spoken by the reference voice, with its true phone times."""
    prompts = {prompt.id: prompt for prompt in load_prompt_set("ja-paragraph").prompts}
    spoken = []
    for name in SENTENCES:
        prompt = prompts[name]
        try:
            speech = synthesize_japanese(prompt.text)
        except ReferenceUnavailable as e:
            pytest.skip(str(e))
        spoken.append(
            SentenceTake(
                prompt.wav_name, speech.samples, speech.sample_rate_hz, prompt.phonemes, speech.alignment
            )
        )
    return tuple(spoken)


def write(takes: Sequence[SentenceTake], candidates: list[UnitCandidate], folder: Path) -> Written:
    chosen = tuple(pick_best(candidates))
    progress: list[Progress] = []
    entries = write_sentence_units(takes, chosen, folder, on_progress=progress.append)
    return Written(folder, chosen, entries, tuple(progress))


@pytest.fixture(scope="session")
def cv_units(takes: tuple[SentenceTake, ...], tmp_path_factory: pytest.TempPathFactory) -> Written:
    return write(takes, units_from_sentences(takes), tmp_path_factory.mktemp("cv_units"))


@dataclass(frozen=True, slots=True, eq=False)
class FolderBank:
    """A folder of paragraph takes, the bank cut from it by the dtw aligner, and the progress heard."""

    takes_folder: Path
    bank: SentenceBank
    progress: tuple[Progress, ...]


@pytest.fixture(scope="session")
def takes_folder(takes: tuple[SentenceTake, ...], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three takes under their prompts' names, a muted take of a fourth prompt and a stray warm-up."""
    folder = tmp_path_factory.mktemp("paragraph_takes")
    for take in takes:
        write_wav_atomic(folder / take.wav_name, take.samples, take.sample_rate_hz)
    rate = takes[0].sample_rate_hz
    write_wav_atomic(folder / SILENT_TAKE, np.zeros(2 * rate, dtype=np.float32), rate)
    write_wav_atomic(folder / STRAY_WAV, takes[0].samples[:rate], rate)
    (folder / "notes.txt").write_text("take 2 was the good one\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def folder_bank(takes_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> FolderBank:
    progress: list[Progress] = []
    out = tmp_path_factory.mktemp("sentence_bank") / "bank"
    paragraphs = load_prompt_set("ja-paragraph")
    bank = sentence_bank_from_folder(takes_folder, paragraphs, out, on_progress=progress.append)
    return FolderBank(takes_folder, bank, tuple(progress))


@pytest.fixture(scope="session")
def cvvc_units(takes: tuple[SentenceTake, ...], tmp_path_factory: pytest.TempPathFactory) -> Written:
    candidates = units_from_sentences(takes, "cvvc", head=True)
    return write(takes, candidates, tmp_path_factory.mktemp("cvvc_units"))


# --- the truth ----------------------------------------------------------------------------------


def spoken_morae(take: SentenceTake) -> list[str]:
    return phonemes_to_morae(take.phonemes)


@functools.cache
def at_output_rate(take: SentenceTake) -> npt.NDArray[np.float64]:
    return np.asarray(resample(take.samples, take.sample_rate_hz, OUTPUT_RATE_HZ), dtype=np.float64)


def cut_start_ms(take: SentenceTake, wav: npt.NDArray[np.float32]) -> float:
    """Where a cut file came from in its take, found by matching its sound (normalized correlation)."""
    source = at_output_rate(take)
    raw = correlate(source, wav.astype(np.float64), mode="valid", method="fft")
    power = np.concatenate([[0.0], np.cumsum(np.square(source))])
    energy = power[len(wav) :] - power[: len(power) - len(wav)]
    lag = int(np.argmax(raw / np.sqrt(np.maximum(energy, 1e-12))))
    return 1000.0 * lag / OUTPUT_RATE_HZ


def read_wav(path: Path) -> npt.NDArray[np.float32]:
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (OUTPUT_RATE_HZ, 1, "PCM_16")
    samples, _ = sf.read(str(path), dtype="float32")
    return np.asarray(samples, dtype=np.float32)


# --- stories ------------------------------------------------------------------------------------


def test_every_mora_of_the_sentences_becomes_exactly_one_cv_unit(
    takes: tuple[SentenceTake, ...], cv_units: Written
) -> None:
    morae = {mora for take in takes for mora in spoken_morae(take) if mora != "っ"}
    aliases = [candidate.alias for candidate in cv_units.chosen]
    assert Counter(aliases) == Counter(morae)  # each mora once, nothing else
    assert {"ゔぁ", "でゅ", "つぁ", "ん", "てぃ"} <= set(aliases)
    assert [entry.alias for entry in cv_units.entries] == aliases
    assert sorted(path.name for path in cv_units.folder.iterdir()) == sorted(
        e.wav_name for e in cv_units.entries
    )
    assert [p.done for p in cv_units.progress] == list(range(1, len(aliases) + 1))


def test_each_cut_file_puts_the_note_on_the_true_vowel_start(
    takes: tuple[SentenceTake, ...], cv_units: Written
) -> None:
    by_name = {take.wav_name: take for take in takes}
    errors_ms = []
    for candidate, entry in zip(cv_units.chosen, cv_units.entries, strict=True):
        take = by_name[candidate.wav_name]
        vowel = true_morae(take.alignment)[candidate.mora_index][-1]
        wav = read_wav(cv_units.folder / entry.wav_name)
        true_note_ms = vowel.start_ms - cut_start_ms(take, wav)
        errors_ms.append(abs(entry.offset_ms + entry.preutterance_ms - true_note_ms))
    assert len(errors_ms) == len(cv_units.entries) > 40
    assert max(errors_ms) <= NOTE_ERROR_MAX_MS
    assert float(np.median(errors_ms)) <= 1.0


def test_every_written_entry_keeps_utau_order_inside_its_file(cv_units: Written, cvvc_units: Written) -> None:
    for written in (cv_units, cvvc_units):
        for entry in written.entries:
            duration_ms = 1000.0 * sf.info(str(written.folder / entry.wav_name)).frames / OUTPUT_RATE_HZ
            cutoff_end_ms = entry.offset_ms - entry.cutoff_ms
            assert entry.cutoff_ms < 0, entry
            assert 0.0 <= entry.offset_ms <= sentences.CONTEXT_MS + 0.05, entry
            assert entry.overlap_ms < entry.preutterance_ms <= entry.consonant_ms, entry
            assert entry.offset_ms + entry.consonant_ms < cutoff_end_ms <= duration_ms, entry


def test_cvvc_units_come_with_vc_tails_and_heads_under_windows_safe_names(cvvc_units: Written) -> None:
    kinds = Counter(candidate.kind for candidate in cvvc_units.chosen)
    assert kinds["cv"] > 40 and kinds["vc"] > 30 and kinds["tail"] >= 1 and kinds["head"] >= 3
    names = {
        candidate.alias: entry.wav_name
        for candidate, entry in zip(cvvc_units.chosen, cvvc_units.entries, strict=True)
    }
    assert names["か"] == "か.wav"
    assert names["a k"] == "a_k.wav"
    assert names["- ひゃ"] == "_ひゃ.wav"
    assert names["a R"] == "a_end.wav"  # `a_R` would be `a_r` (the VC) to Windows
    assert names["ゔぁ"] == "ヴァ.wav"  # ゔ is not in Shift-JIS
    for name in names.values():
        assert windows_forbidden_chars(name) == [] and " " not in name
        name.encode("cp932")
    assert len({name.casefold() for name in names.values()}) == len(names)


def test_the_clean_instance_wins_when_the_best_one_is_drowned_in_noise(
    takes: tuple[SentenceTake, ...],
) -> None:
    take = next(take for take in takes if take.wav_name == f"{WO_SENTENCE}.wav")
    before = [c for c in units_from_sentences([take]) if c.alias == "の"]
    assert len(before) == 3
    winner = pick_best(before)[0]
    start_ms = winner.entry.offset_ms + winner.entry.preutterance_ms
    end_ms = winner.entry.offset_ms - winner.entry.cutoff_ms
    first, last = (round(ms * take.sample_rate_hz / 1000.0) for ms in (start_ms, end_ms))
    noisy = take.samples.copy()
    vowel_rms = float(np.sqrt(np.mean(np.square(noisy[first:last]))))
    noisy[first:last] += (
        np.random.default_rng(7).normal(0.0, 2.0 * vowel_rms, last - first).astype(np.float32)
    )
    after = [c for c in units_from_sentences([dataclasses.replace(take, samples=noisy)]) if c.alias == "の"]
    assert pick_best(after)[0].mora_index != winner.mora_index
    damaged = [c.score for c in after if c.mora_index == winner.mora_index]  # gone if it lost its pitch
    assert max(damaged, default=0.0) < 0.5 * winner.score


def test_wo_is_cut_as_the_o_it_is_spoken(takes: tuple[SentenceTake, ...]) -> None:
    prompt = next(p for p in load_prompt_set("ja-paragraph").prompts if p.id == WO_SENTENCE)
    wo_index = [word for word in prompt.reading.split() if word != ","].index("wo")
    take = next(take for take in takes if take.wav_name == prompt.wav_name)
    candidates = units_from_sentences([take])
    wo = next(c for c in candidates if c.mora_index == wo_index)
    assert wo.alias == "お" and wo.alignment_score == 1.0 and wo.entry.note == ""
    assert not any(c.alias in ("を", "wo") for c in candidates)


def test_devoiced_vowels_are_used_only_when_no_voiced_one_exists(takes: tuple[SentenceTake, ...]) -> None:
    take = takes[0]
    ta = [c for c in units_from_sentences([take]) if c.alias == "た"]
    assert len(ta) == 4 and all(c.voiced for c in ta)
    # Mark one た's vowel as devoiced, as pyopenjtalk writes it (A): the other three remain.
    vowel = true_morae(take.alignment)[ta[0].mora_index][-1]
    segments = tuple(dataclasses.replace(s, phone="A") if s == vowel else s for s in take.alignment.segments)
    whispered = dataclasses.replace(take, alignment=Alignment(segments))
    kept = [c for c in units_from_sentences([whispered]) if c.alias == "た"]
    assert sorted(c.mora_index for c in kept) == sorted(c.mora_index for c in ta[1:])
    # し is devoiced in every take (ました, した): its instances stay, marked.
    shi = [c for c in units_from_sentences(takes) if c.alias == "し"]
    assert len(shi) == 2 and not any(c.voiced for c in shi)


def test_a_failed_write_leaves_the_folder_as_it_was(
    takes: tuple[SentenceTake, ...], cv_units: Written, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    def fail_on_third(path: Path, samples: npt.NDArray[np.floating], sample_rate_hz: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(28, "No space left on device")
        write_wav_atomic(path, samples, sample_rate_hz)

    monkeypatch.setattr(sentences, "write_wav_atomic", fail_on_third)
    with pytest.raises(SentenceUnitError, match=r"No space left on device.*try again"):
        write_sentence_units(takes, cv_units.chosen[:5], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_input_gets_a_message_that_says_what_to_do(
    takes: tuple[SentenceTake, ...], tmp_path: Path
) -> None:
    take = takes[0]
    with pytest.raises(SentenceUnitError, match="not Japanese morae"):
        units_from_sentences([dataclasses.replace(take, phonemes=("k", "x", "a"))])
    with pytest.raises(SentenceUnitError, match="two takes are named"):
        units_from_sentences([take, take])
    stranger = dataclasses.replace(take, wav_name="other.wav")
    chosen = pick_best(units_from_sentences([stranger]))[:1]
    with pytest.raises(SentenceUnitError, match=r"other\.wav, which are not among the takes"):
        write_sentence_units([take], chosen, tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- a bank from a folder of takes --------------------------------------------------------------


def utau_spelling(alias: str) -> str:
    return alias.replace("ゔ", "ヴ")


def test_a_folder_of_sentence_takes_becomes_a_bank_that_utau_reads(
    takes: tuple[SentenceTake, ...], folder_bank: FolderBank
) -> None:
    bank = folder_bank.bank
    oto = read_oto_ini(bank.oto_path)
    assert oto.encoding == "cp932" and oto.skipped == () and oto.duplicates == ()
    assert [(e.wav_name, e.alias) for e in oto.entries] == [(e.wav_name, e.alias) for e in bank.entries]
    assert sorted(path.name for path in bank.folder.iterdir()) == sorted(
        [e.wav_name for e in bank.entries] + ["oto.ini"]
    )
    morae = {mora for take in takes for mora in spoken_morae(take) if mora != "っ"}
    assert Counter(e.alias for e in bank.entries) == Counter(utau_spelling(mora) for mora in morae)
    by_alias = {e.alias: e for e in bank.entries}
    assert by_alias["ヴぁ"].wav_name == "ヴァ.wav" and not any("ゔ" in e.alias for e in bank.entries)
    assert set(bank.covered_morae) == morae and len(morae) == 50
    assert bank.morae_total == CV_MORAE_TOTAL and "を" in bank.missing_morae  # を is spoken お: no を unit
    assert bank.low_confidence_count == sum(e.confidence < 0.5 for e in bank.entries)
    stages = [(p.stage, p.done, p.total) for p in folder_bank.progress]
    units = len(bank.entries)
    assert stages == [("align", n, 4) for n in range(1, 5)] + [("cut", n, units) for n in range(1, units + 1)]


def test_each_unit_of_the_bank_starts_its_note_on_the_true_vowel_onset(
    takes: tuple[SentenceTake, ...], folder_bank: FolderBank
) -> None:
    bank = folder_bank.bank
    by_name = {take.wav_name: take for take in takes}
    errors_ms = []
    for candidate, entry in zip(bank.chosen, bank.entries, strict=True):
        take = by_name[candidate.wav_name]
        vowel = true_morae(take.alignment)[candidate.mora_index][-1]
        wav = read_wav(bank.folder / entry.wav_name)
        true_note_ms = vowel.start_ms - cut_start_ms(take, wav)
        errors_ms.append(abs(entry.offset_ms + entry.preutterance_ms - true_note_ms))
    assert len(errors_ms) == 50
    assert max(errors_ms) <= VOWEL_ONSET_MAX_ERROR_MS
    assert float(np.median(errors_ms)) <= 5.0


def test_a_muted_take_is_skipped_and_a_stray_wav_ignored_each_by_name(
    takes: tuple[SentenceTake, ...], folder_bank: FolderBank
) -> None:
    bank = folder_bank.bank
    assert bank.takes_used == tuple(take.wav_name for take in takes)
    assert [skip.wav_name for skip in bank.skipped] == [SILENT_TAKE]
    assert "silent" in bank.skipped[0].reason and "record it again" in bank.skipped[0].reason
    assert bank.ignored == (STRAY_WAV,)


def test_a_bank_for_openutau_is_utf8_with_the_same_aliases_and_cvvc_units(
    takes_folder: Path, folder_bank: FolderBank, tmp_path: Path
) -> None:
    only_va = tmp_path / "takes"
    only_va.mkdir()
    (only_va / VA_SENTENCE).write_bytes((takes_folder / VA_SENTENCE).read_bytes())
    paragraphs = load_prompt_set("ja-paragraph")
    bank = sentence_bank_from_folder(
        only_va, paragraphs, tmp_path / "bank", "cvvc", head=True, encoding="utf-8"
    )
    assert (tmp_path / "bank" / "oto.ini").read_bytes().startswith(b"#Charset:UTF-8\r\n")
    oto = read_oto_ini(bank.oto_path)
    assert oto.encoding == "utf-8" and len(oto.entries) == len(bank.entries)
    aliases = {e.alias for e in oto.entries}
    assert {"ヴぁ", "ヴぃ", "- しゅ", "- も", "a r", "a R"} <= aliases, sorted(aliases)
    cv_written = {e.alias for e in folder_bank.bank.entries}
    assert {c.alias for c in bank.chosen if c.kind == "cv"} <= {a.replace("ヴ", "ゔ") for a in cv_written}


def test_a_folder_without_takes_gets_a_clear_error_and_nothing_is_written(
    takes_folder: Path, tmp_path: Path
) -> None:
    paragraphs = load_prompt_set("ja-paragraph")
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "bank"
    expected = (
        r"expected files named ja_sentence_01\.wav, ja_sentence_02\.wav, ja_sentence_03\.wav, … \(15 in all\)"
    )
    with pytest.raises(SentenceUnitError, match=expected):
        sentence_bank_from_folder(empty, paragraphs, out)
    (empty / STRAY_WAV).write_bytes((takes_folder / STRAY_WAV).read_bytes())
    with pytest.raises(SentenceUnitError, match=r"its \.wav files have other names: warmup\.wav"):
        sentence_bank_from_folder(empty, paragraphs, out)
    (empty / SILENT_TAKE).write_bytes((takes_folder / SILENT_TAKE).read_bytes())
    with pytest.raises(SentenceUnitError, match=r"No take .* can be used, so no bank was written\. .*silent"):
        sentence_bank_from_folder(empty, paragraphs, out)
    with pytest.raises(SentenceUnitError, match="folder of their own"):
        sentence_bank_from_folder(takes_folder, paragraphs, takes_folder)
    with pytest.raises(SentenceUnitError, match="does not exist"):
        sentence_bank_from_folder(tmp_path / "nowhere", paragraphs, out)
    assert not out.exists()


def test_english_paragraphs_and_reclists_are_refused_with_what_to_use_instead(tmp_path: Path) -> None:
    with pytest.raises(SentenceUnitError, match="ARPAsing reclist"):
        sentence_bank_from_folder(tmp_path, load_prompt_set("en-paragraph"), tmp_path / "bank")
    with pytest.raises(SentenceUnitError, match=r"ja-cv is a cv reclist.*voicestudio oto"):
        sentence_bank_from_folder(tmp_path, load_prompt_set("ja-cv"), tmp_path / "bank")
    assert list(tmp_path.iterdir()) == []
