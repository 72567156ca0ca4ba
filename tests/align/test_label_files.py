"""Alignment label files: HTK .lab and Praat TextGrid round trips, and clear errors for bad files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicestudio.align.labels import (
    LabelFileError,
    format_lab,
    format_textgrid,
    parse_lab,
    parse_textgrid,
    read_lab,
    read_textgrid,
    write_lab,
    write_textgrid,
)
from voicestudio.domain.alignment import Alignment, PhoneSegment

SENTENCE = Alignment(
    (
        PhoneSegment("pau", 0.0, 120.5),
        PhoneSegment("k", 120.5, 180.25),
        PhoneSegment("o", 180.25, 301.1234),
        PhoneSegment("N", 301.1234, 402.0),
        PhoneSegment("n", 402.0, 455.0),
        PhoneSegment("i", 455.0, 530.0),
        PhoneSegment("ch", 530.0, 610.7),
        PhoneSegment("i", 610.7, 700.0),
        PhoneSegment("pau", 700.0, 1000.0),
    )
)
WORDS = Alignment(
    (
        PhoneSegment("", 0.0, 120.5),
        PhoneSegment("こんにちは", 120.5, 700.0),
        PhoneSegment("", 700.0, 1000.0),
    )
)


def times(alignment: Alignment) -> list[tuple[str, float, float]]:
    """Phones with their times in ms, as read (label files keep them to 0.0001 ms)."""
    return [(s.phone, s.start_ms, s.end_ms) for s in alignment.segments]


# --- HTK .lab ----------------------------------------------------------------------------------


def test_a_lab_file_holds_times_in_100_ns_units(tmp_path: Path) -> None:
    path = tmp_path / "konnichiwa.lab"
    write_lab(path, SENTENCE)

    lines = path.read_text().splitlines()

    assert lines[0] == "0 1205000 pau"
    assert lines[2] == "1802500 3011234 o"
    assert lines[-1] == "7000000 10000000 pau"
    assert read_lab(path) == SENTENCE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["konnichiwa.lab"]


def test_a_lab_file_from_another_tool_with_blank_lines_and_crlf_reads() -> None:
    text = "\ufeff0 1205000 pau\r\n\r\n1205000 1802500 k\r\n  1802500   3000000  o  \r\n\n"

    assert times(parse_lab(text)) == [("pau", 0.0, 120.5), ("k", 120.5, 180.25), ("o", 180.25, 300.0)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 100 a\n100 b\n", "line 2: '100 b' has 2 field(s); an HTK .lab line is 'start end phone'"),
        ("0 100 a\n\n100 200 b x\n", "line 3: '100 200 b x' has 4 field(s)"),
        (
            "0.0 0.12 a\n",
            "line 1: times '0.0' '0.12' must be whole numbers of 100 ns. They look like seconds",
        ),
        ("0 100 a\n200 150 b\n", "line 2: 'b' ends (150) before it starts (200)"),
        ("-5 100 a\n", "line 1: times '-5' '100' must be whole numbers"),
    ],
)
def test_a_broken_lab_file_is_refused_with_its_line_number(text: str, message: str) -> None:
    with pytest.raises(LabelFileError) as raised:
        parse_lab(text)

    assert message in raised.value.message


def test_a_lab_read_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.lab"
    path.write_text("0 100 a\n100 x\n")

    with pytest.raises(LabelFileError, match=r"bad\.lab: line 2"):
        read_lab(path)
    with pytest.raises(LabelFileError, match="no such label file"):
        read_lab(tmp_path / "missing.lab")


@pytest.mark.parametrize("phone", ["", "a b"])
def test_a_phone_a_lab_line_cannot_hold_is_refused_and_nothing_written(tmp_path: Path, phone: str) -> None:
    alignment = Alignment((PhoneSegment("a", 0.0, 10.0), PhoneSegment(phone, 10.0, 20.0)))

    with pytest.raises(LabelFileError, match=r"at 10 ms .* Name it"):
        write_lab(tmp_path / "x.lab", alignment)
    assert list(tmp_path.iterdir()) == []


# --- Praat TextGrid ----------------------------------------------------------------------------


def test_a_textgrid_round_trips_phones_and_words(tmp_path: Path) -> None:
    path = tmp_path / "konnichiwa.TextGrid"
    write_textgrid(path, SENTENCE, words=WORDS)

    tiers = read_textgrid(path)

    assert list(tiers) == ["phones", "words"]
    assert tiers["phones"] == SENTENCE
    assert tiers["words"] == WORDS
    assert times(tiers["phones"])[2] == ("o", 180.25, 301.1234)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["konnichiwa.TextGrid"]


def test_a_textgrid_is_written_in_praats_long_format_with_times_in_seconds() -> None:
    text = format_textgrid(Alignment((PhoneSegment("a", 0.0, 250.0), PhoneSegment('"q"', 250.0, 312.5))))

    assert text.splitlines()[:9] == [
        'File type = "ooTextFile"',
        'Object class = "TextGrid"',
        "",
        "xmin = 0 ",
        "xmax = 0.3125 ",
        "tiers? <exists> ",
        "size = 1 ",
        "item []: ",
        "    item [1]:",
    ]
    assert '            text = """q""" ' in text.splitlines()
    assert "        intervals: size = 2 " in text.splitlines()


def test_gaps_become_empty_intervals_so_praat_sees_a_whole_tier() -> None:
    gappy = Alignment((PhoneSegment("a", 100.0, 200.0), PhoneSegment("i", 250.0, 300.0)))
    words = Alignment((PhoneSegment("ai", 100.0, 400.0),))

    tiers = parse_textgrid(format_textgrid(gappy, tier_name="phonemes", words=words))

    assert times(tiers["phonemes"]) == [
        ("", 0.0, 100.0),
        ("a", 100.0, 200.0),
        ("", 200.0, 250.0),
        ("i", 250.0, 300.0),
        ("", 300.0, 400.0),
    ]
    assert times(tiers["words"]) == [("", 0.0, 100.0), ("ai", 100.0, 400.0)]


SHORT_TEXTGRID = """File type = "ooTextFile"
Object class = "TextGrid"

0
0.9
<exists>
2
"IntervalTier"
"phones"
0
0.9
3
0
0.3
"k"
0.3
0.6
"a"
0.6
0.9
""
"TextTier"
"events"
0
0.9
1
0.45
"peak"
"""


def test_a_short_format_textgrid_reads_the_same() -> None:
    tiers = parse_textgrid(SHORT_TEXTGRID)

    assert list(tiers) == ["phones"]  # point tiers are not alignments
    assert times(tiers["phones"]) == [("k", 0.0, 300.0), ("a", 300.0, 600.0), ("", 600.0, 900.0)]


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_a_utf16_textgrid_as_praat_saves_non_ascii_text_reads(tmp_path: Path, bom: bytes) -> None:
    text = format_textgrid(SENTENCE, words=WORDS).replace("\n", "\r\n")
    codec = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
    path = tmp_path / "praat.TextGrid"
    path.write_bytes(bom + text.encode(codec))

    tiers = read_textgrid(path)

    assert tiers["phones"] == SENTENCE
    assert tiers["words"].phones == ("", "こんにちは", "")


# What Praat 6.3 saved with "Save as short text file" from a grid we wrote: UTF-16 BE with a BOM.
PRAAT_SHORT_LINES = (
    'File type = "ooTextFile"|Object class = "TextGrid"||0|0.402|<exists>|2|"IntervalTier"|"phones"|0|'
    '0.402|5|0|0.1205|"pau"|0.1205|0.18025|"k"|0.18025|0.3011234|"o"""|0.3011234|0.35|""|0.35|0.402|"N"|'
    '"IntervalTier"|"words"|0|0.402|2|0|0.1205|""|0.1205|0.402|"こんにちは"|'
)


def test_a_textgrid_praat_saved_reads_as_the_alignment_we_gave_it(tmp_path: Path) -> None:
    phones = Alignment(
        (
            PhoneSegment("pau", 0.0, 120.5),
            PhoneSegment("k", 120.5, 180.25),
            PhoneSegment('o"', 180.25, 301.1234),
            PhoneSegment("N", 350.0, 402.0),
        )
    )
    words = Alignment((PhoneSegment("こんにちは", 120.5, 402.0),))
    path = tmp_path / "praat.TextGrid"
    path.write_bytes(codecs.BOM_UTF16_BE + PRAAT_SHORT_LINES.replace("|", "\n").encode("utf-16-be"))

    tiers = read_textgrid(path)

    assert tiers == parse_textgrid(format_textgrid(phones, words=words))
    assert tiers["phones"].phones == ("pau", "k", 'o"', "", "N")
    assert times(tiers["words"]) == [("", 0.0, 120.5), ("こんにちは", 120.5, 402.0)]


def test_a_utf8_textgrid_with_a_bom_reads(tmp_path: Path) -> None:
    path = tmp_path / "bom.TextGrid"
    path.write_bytes(codecs.BOM_UTF8 + SHORT_TEXTGRID.encode())

    assert read_textgrid(path)["phones"].phones == ("k", "a", "")


def test_tiers_with_the_same_name_are_all_kept() -> None:
    text = format_textgrid(SENTENCE, tier_name="words", words=WORDS)

    assert list(parse_textgrid(text)) == ["words", "words (2)"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SHORT_TEXTGRID.replace('"a"', "0.7"), "line 18: expected the text of interval 2 of tier 'phones'"),
        (SHORT_TEXTGRID.split("0.6\n")[0], "line 16: the TextGrid ends where the xmax of interval 2"),
        (
            SHORT_TEXTGRID.replace("0.6\n0.9", "0.6\n1e999"),
            "line 20: the xmax of interval 3 of tier 'phones' is",
        ),
        (
            SHORT_TEXTGRID.replace("0.6\n0.9", "0.6\n0.5"),
            "line 20: interval 3 of tier 'phones' ends (500 ms) before it starts (600 ms)",
        ),
        ('File type = "ooBinaryFile"\n', "not a TextGrid in text form"),
        ('File type = "ooTextFile"\nObject class = "Pitch 1"\n', "holds a Praat 'Pitch 1'"),
    ],
)
def test_a_broken_textgrid_is_refused_with_its_line_number(text: str, message: str) -> None:
    with pytest.raises(LabelFileError) as raised:
        parse_textgrid(text)

    assert message in raised.value.message


def test_a_textgrid_that_is_not_utf8_or_utf16_gets_advice(tmp_path: Path) -> None:
    path = tmp_path / "latin.TextGrid"
    path.write_bytes(SHORT_TEXTGRID.replace('"k"', '"é"').encode("latin-1"))

    with pytest.raises(LabelFileError, match=r"is not UTF-8\. In Praat, set the text writing preference"):
        read_textgrid(path)


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ((PhoneSegment("a", 0.0, 100.0), PhoneSegment("i", 90.0, 150.0)), "must not overlap"),
        ((PhoneSegment("a", 0.0, 100.0), PhoneSegment("i", 100.0, 100.0)), "lasts 0 ms"),
        ((), "no segments"),
    ],
)
def test_an_alignment_praat_cannot_hold_is_refused_and_nothing_written(
    tmp_path: Path, segments: tuple[PhoneSegment, ...], message: str
) -> None:
    with pytest.raises(LabelFileError, match=message):
        write_textgrid(tmp_path / "x.TextGrid", Alignment(segments))
    assert list(tmp_path.iterdir()) == []


def test_lab_and_textgrid_agree_on_every_time() -> None:
    from_lab = parse_lab(format_lab(SENTENCE))
    from_textgrid = parse_textgrid(format_textgrid(SENTENCE))["phones"]

    assert from_lab == from_textgrid == SENTENCE


PHONES = ("pau", "a", "k", "N", "cl", "ch", "ry", "ア", '"q"')


@st.composite
def alignments(draw: st.DrawFn) -> Alignment:
    """Contiguous segments from 0 ms, each time a whole number of 100 ns (the files' resolution)."""
    durations = draw(st.lists(st.integers(min_value=1, max_value=20_000_000), min_size=1, max_size=30))
    phones = draw(st.lists(st.sampled_from(PHONES), min_size=len(durations), max_size=len(durations)))
    segments, start = [], 0
    for phone, duration in zip(phones, durations, strict=True):
        segments.append(PhoneSegment(phone, start / 10_000, (start + duration) / 10_000))
        start += duration
    return Alignment(tuple(segments))


@settings(deadline=None, max_examples=100)
@given(alignment=alignments())
def test_any_alignment_survives_both_formats_exactly(alignment: Alignment) -> None:
    assert parse_lab(format_lab(alignment)) == alignment
    assert parse_textgrid(format_textgrid(alignment))["phones"] == alignment
