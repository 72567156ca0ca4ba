"""oto.ini entries generated from a recording and its alignment land where the phones truly are."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.morae import true_morae
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.oto import OtoEntry
from voicestudio.oto import OtoEncoding, format_oto_ini, parse_oto_ini
from voicestudio.oto.generate import (
    CONTINUANT_OVERLAP_SHARE,
    LOW_CONFIDENCE,
    PLOSIVE_OVERLAP_MS,
    OtoResult,
    generate_oto,
)
from voicestudio.oto.phones import is_plosive
from voicestudio.oto.units import UnitRequest, morae_to_units

if TYPE_CHECKING:
    from conftest import Bank, BankFile

PREUTTERANCE_MAE_MS = 10.0  # the alignment is the truth, so preutterance sits on the true boundary
OFFSET_LEAD_MAX_MS = 60.0  # offset comes before the consonant onset, by less than this
JITTER_MS = 30.0


# --- the truth, read from the synthesizer's alignment --------------------------------------------


@dataclasses.dataclass(frozen=True)
class Truth:
    """Where a unit truly is: its onset (offset must precede it), its note start (preutterance),
    and the phone the offset must lie in, for units that start inside a vowel."""

    onset_ms: float
    boundary_ms: float
    start_phone: PhoneSegment | None


def truth_of(unit: UnitRequest, alignment: Alignment) -> Truth:
    morae = true_morae(alignment)
    mora = morae[unit.mora_index]
    following = morae[unit.mora_index + 1] if unit.mora_index + 1 < len(morae) else []
    if unit.kind in ("cv", "head"):
        return Truth(mora[0].start_ms, mora[-1].start_ms, None)
    if unit.kind == "vcv":
        return Truth(following[0].start_ms, following[-1].start_ms, mora[-1])
    if unit.kind == "vc":
        return Truth(following[0].start_ms, following[0].start_ms, mora[-1])
    return Truth(mora[-1].end_ms, mora[-1].end_ms, mora[-1])  # tail: the vowel's release


def placed(bank: Bank) -> list[tuple[BankFile, UnitRequest, OtoEntry]]:
    return [
        (file, unit, entry)
        for file, entries in zip(bank.files, bank.entries, strict=True)
        for unit, entry in zip(file.units, entries, strict=True)
    ]


def preutterance_errors_ms(bank: Bank, kinds: Sequence[str]) -> list[float]:
    return [
        abs(entry.offset_ms + entry.preutterance_ms - truth_of(unit, file.alignment).boundary_ms)
        for file, unit, entry in placed(bank)
        if unit.kind in kinds
    ]


def assert_utau_order(entry: OtoEntry, duration_ms: float) -> None:
    """The invariants every generated entry keeps."""
    cutoff_end_ms = entry.offset_ms - entry.cutoff_ms
    assert entry.offset_ms >= 0, entry
    assert entry.overlap_ms < entry.preutterance_ms <= entry.consonant_ms, entry
    assert entry.cutoff_ms < 0, entry
    assert cutoff_end_ms > entry.offset_ms + entry.consonant_ms, entry
    assert cutoff_end_ms <= duration_ms, entry
    assert 0.0 <= entry.confidence <= 1.0, entry


# --- CV ------------------------------------------------------------------------------------------


def test_cv_preutterance_lands_on_the_true_consonant_to_vowel_boundary(cv_bank: Bank) -> None:
    errors = preutterance_errors_ms(cv_bank, ["cv"])

    assert len(errors) == len(cv_bank.files)
    assert float(np.mean(errors)) < PREUTTERANCE_MAE_MS
    assert max(errors) < 2 * PREUTTERANCE_MAE_MS


def test_cv_offset_comes_a_little_before_the_consonant(cv_bank: Bank) -> None:
    for file, unit, entry in placed(cv_bank):
        onset_ms = truth_of(unit, file.alignment).onset_ms
        assert 0 < onset_ms - entry.offset_ms < OFFSET_LEAD_MAX_MS, (unit.alias, entry)


def test_cv_overlap_is_short_for_plosives_and_reaches_into_continuants(cv_bank: Bank) -> None:
    for file, unit, entry in placed(cv_bank):
        mora = true_morae(file.alignment)[unit.mora_index]
        if len(mora) < 2:
            continue
        consonant = mora[0]
        overlap_at_ms = entry.offset_ms + entry.overlap_ms
        if is_plosive(consonant.phone):
            assert entry.overlap_ms <= PLOSIVE_OVERLAP_MS, (unit.alias, entry)
        else:
            into_consonant = (overlap_at_ms - consonant.start_ms) / consonant.duration_ms
            assert into_consonant == pytest.approx(CONTINUANT_OVERLAP_SHARE, abs=0.01), (unit.alias, entry)


def test_cv_fixed_region_ends_in_the_steady_middle_of_the_vowel_and_cutoff_before_it_fades(
    cv_bank: Bank,
) -> None:
    for file, unit, entry in placed(cv_bank):
        vowel = true_morae(file.alignment)[unit.mora_index][-1]
        fixed_end_ms = entry.offset_ms + entry.consonant_ms
        cutoff_end_ms = entry.offset_ms - entry.cutoff_ms
        assert vowel.start_ms + 0.25 * vowel.duration_ms <= fixed_end_ms, (unit.alias, entry)
        assert fixed_end_ms <= vowel.start_ms + 0.65 * vowel.duration_ms, (unit.alias, entry)
        assert cutoff_end_ms <= vowel.end_ms + 0.1, (unit.alias, entry)


def test_cv_entries_are_named_as_their_files_and_trusted(cv_bank: Bank) -> None:
    entries = [entry for per_file in cv_bank.entries for entry in per_file]

    assert [e.alias for e in entries[:3]] == ["a", "ka", "ki"]
    assert {"しゃ", "チュ", "ん"} <= {e.alias for e in entries}
    for file, per_file in zip(cv_bank.files, cv_bank.entries, strict=True):
        assert [e.wav_name for e in per_file] == [file.wav_name]
    assert all(e.confidence >= LOW_CONFIDENCE for e in entries)
    assert all(e.note for e in entries if e.confidence < 1.0)  # every doubt says why


# --- VCV -----------------------------------------------------------------------------------------


def test_vcv_preutterance_lands_on_the_true_boundary_of_each_mora(vcv_bank: Bank) -> None:
    errors = preutterance_errors_ms(vcv_bank, ["vcv", "head"])

    assert len(errors) == sum(len(f.units) for f in vcv_bank.files)
    assert float(np.mean(errors)) < PREUTTERANCE_MAE_MS


def test_vcv_offset_lies_in_the_vowel_before_the_mora(vcv_bank: Bank) -> None:
    for file, unit, entry in placed(vcv_bank):
        truth = truth_of(unit, file.alignment)
        if unit.kind == "head":
            assert 0 < truth.onset_ms - entry.offset_ms < OFFSET_LEAD_MAX_MS
            continue
        assert truth.start_phone is not None
        assert truth.start_phone.start_ms <= entry.offset_ms < truth.onset_ms, (unit.alias, entry)
        assert entry.offset_ms + entry.overlap_ms < truth.boundary_ms


# --- CVVC ----------------------------------------------------------------------------------------


def test_cvvc_cv_vc_and_tail_preutterances_land_on_their_true_boundaries(cvvc_bank: Bank) -> None:
    for kinds in (["cv", "head"], ["vc"], ["tail"]):
        errors = preutterance_errors_ms(cvvc_bank, kinds)
        assert errors, kinds
        assert float(np.mean(errors)) < PREUTTERANCE_MAE_MS, kinds


def test_cvvc_vc_units_start_in_the_vowel_and_fix_part_of_the_consonant(cvvc_bank: Bank) -> None:
    for file, unit, entry in placed(cvvc_bank):
        if unit.kind != "vc":
            continue
        truth = truth_of(unit, file.alignment)
        consonant = true_morae(file.alignment)[unit.mora_index + 1][0]
        assert truth.start_phone is not None
        assert truth.start_phone.start_ms <= entry.offset_ms < truth.boundary_ms, (unit.alias, entry)
        fixed_end_ms = entry.offset_ms + entry.consonant_ms
        assert consonant.start_ms < fixed_end_ms < consonant.end_ms, (unit.alias, entry)


def test_cvvc_devoiced_vowels_are_flagged_for_review(cvvc_bank: Bank) -> None:
    devoiced = [
        entry
        for file, unit, entry in placed(cvvc_bank)
        if unit.kind in ("cv", "vc") and true_morae(file.alignment)[unit.mora_index][-1].phone in ("I", "U")
    ]

    assert len(devoiced) == 4  # き く i k u k of _かかきかくか.wav, as the synthesizer whispers them
    assert all(e.confidence < LOW_CONFIDENCE and "devoiced" in e.note for e in devoiced)


# --- continuous speech ---------------------------------------------------------------------------


def test_units_cut_from_a_sentence_reading_land_on_its_true_boundaries(sentence: BankFile) -> None:
    units = morae_to_units("kyo o wa i i te n ki de su ne", "cvvc")

    entries = generate_oto(
        "sentence.wav", sentence.samples, sentence.sample_rate_hz, sentence.alignment, units
    )

    errors = [
        abs(e.offset_ms + e.preutterance_ms - truth_of(u, sentence.alignment).boundary_ms)
        for u, e in zip(units, entries, strict=True)
    ]
    assert float(np.mean(errors)) < PREUTTERANCE_MAE_MS
    assert all(e.confidence > 0 for e in entries)
    for entry in entries:
        assert_utau_order(entry, sentence.duration_ms)


# --- what goes wrong -----------------------------------------------------------------------------


def test_a_unit_missing_from_the_alignment_gives_an_entry_to_fix_not_an_error(cv_bank: Bank) -> None:
    file = cv_bank.files[1]  # ka.wav
    missing = UnitRequest("ぴょ", "cv", ("py", "o"), 0)

    (entry,) = generate_oto(file.wav_name, file.samples, file.sample_rate_hz, file.alignment, [missing])

    assert entry.confidence == 0.0
    assert "py o" in entry.note and "not in the alignment" in entry.note
    assert_utau_order(entry, file.duration_ms)


def test_a_silent_recording_is_flagged(cv_bank: Bank) -> None:
    file = cv_bank.files[1]
    silence = np.zeros_like(file.samples)

    entries = generate_oto(file.wav_name, silence, file.sample_rate_hz, file.alignment, file.units)

    assert [e.confidence for e in entries] == [0.0]
    assert "no voice" in entries[0].note
    assert_utau_order(entries[0], file.duration_ms)


def test_a_low_alignment_score_lowers_confidence_and_says_so(cv_bank: Bank) -> None:
    file = cv_bank.files[1]
    unsure = Alignment(tuple(dataclasses.replace(s, score=0.3) for s in file.alignment.segments))

    (entry,) = file.entries(unsure)

    assert entry.confidence <= 0.3
    assert "alignment score (0.30)" in entry.note


def test_a_unit_the_aligner_heard_differently_is_placed_on_its_mora_for_review(vcv_bank: Bank) -> None:
    file = vcv_bank.files[3]  # _おがおごおん.wav: を sung as "w o" where the aligner heard "o"
    wo = UnitRequest("を", "cv", ("w", "o"), 0)
    vowel = true_morae(file.alignment)[0][0]

    (entry,) = generate_oto(file.wav_name, file.samples, file.sample_rate_hz, file.alignment, [wo])

    assert 0 < entry.confidence < LOW_CONFIDENCE
    assert "'o' where 'w o' was expected" in entry.note
    assert entry.offset_ms + entry.preutterance_ms == pytest.approx(vowel.start_ms, abs=0.1)


def test_a_unit_at_a_shifted_mora_is_found_at_the_nearest_one(vcv_bank: Bank) -> None:
    file = vcv_bank.files[0]  # _akaakiaku.wav: a k a a k i a k u
    shifted = [dataclasses.replace(u, mora_index=u.mora_index + 1) for u in file.units]

    moved = generate_oto(file.wav_name, file.samples, file.sample_rate_hz, file.alignment, shifted)

    for original, entry in zip(vcv_bank.entries[0], moved, strict=True):
        assert (entry.offset_ms, entry.preutterance_ms) == (original.offset_ms, original.preutterance_ms)
    assert "found at mora" in moved[1].note


def test_the_summary_counts_entries_that_want_a_look(cvvc_bank: Bank) -> None:
    entries = [entry for per_file in cvvc_bank.entries for entry in per_file]

    result = OtoResult.from_entries(entries)

    assert result.entries == tuple(entries)
    assert result.low_confidence_count == sum(e.confidence < LOW_CONFIDENCE for e in entries) > 0


# --- UTAU's order holds, however rough the alignment ---------------------------------------------


def jittered(alignment: Alignment, shifts_ms: Sequence[float], scores: Sequence[float]) -> Alignment:
    """The same phones with every inner boundary moved by its shift, kept in order (≥ 1 ms a phone)."""
    starts = [s.start_ms for s in alignment.segments]
    end_ms = alignment.end_ms
    bounds = [0.0] + [start + shift for start, shift in zip(starts[1:], shifts_ms, strict=False)] + [end_ms]
    for i in range(1, len(bounds) - 1):
        bounds[i] = max(bounds[i], bounds[i - 1] + 1.0)
    for i in range(len(bounds) - 2, 0, -1):
        bounds[i] = min(bounds[i], bounds[i + 1] - 1.0)
    return Alignment(
        tuple(
            PhoneSegment(s.phone, bounds[i], bounds[i + 1], score)
            for i, (s, score) in enumerate(zip(alignment.segments, scores, strict=False))
        )
    )


@settings(deadline=None, max_examples=120)
@given(data=st.data())
def test_every_entry_keeps_utau_order_on_a_jittered_alignment(
    banks: dict[str, Bank], data: st.DataObject
) -> None:
    bank = banks[data.draw(st.sampled_from(sorted(banks)), label="bank")]
    file = data.draw(st.sampled_from(bank.files), label="file")
    count = len(file.alignment.segments)
    shifts = data.draw(st.lists(st.floats(-JITTER_MS, JITTER_MS), min_size=count, max_size=count))
    scores = data.draw(st.lists(st.floats(0.0, 1.0), min_size=count, max_size=count))
    stranger = data.draw(st.sampled_from([u for other in bank.files for u in other.units]), label="stranger")
    alignment = jittered(file.alignment, shifts, scores)

    entries = generate_oto(
        file.wav_name, file.samples, file.sample_rate_hz, alignment, [*file.units, stranger]
    )

    assert len(entries) == len(file.units) + 1
    for entry in entries:
        assert_utau_order(entry, file.duration_ms)


# --- oto.ini -------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_generated_entries_read_back_from_oto_ini_with_the_same_numbers(
    banks: dict[str, Bank], encoding: OtoEncoding
) -> None:
    entries = [entry for bank in banks.values() for per_file in bank.entries for entry in per_file]

    read_back = parse_oto_ini(format_oto_ini(entries, encoding)).entries

    assert [(e.wav_name, e.alias) for e in read_back] == [(e.wav_name, e.alias) for e in entries]
    for ours, theirs in zip(entries, read_back, strict=True):
        for field in ("offset_ms", "consonant_ms", "cutoff_ms", "preutterance_ms", "overlap_ms"):
            assert getattr(theirs, field) == pytest.approx(getattr(ours, field), abs=0.001)
