"""oto.ini files: what we write, UTAU tools read back, and what they wrote, we read."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import utaupy
from hypothesis import given, settings
from hypothesis import strategies as st

from voicestudio.domain.oto import OtoEntry
from voicestudio.oto import (
    OtoEncoding,
    OtoEncodingError,
    OtoEntryError,
    OtoFileError,
    format_oto_ini,
    normalize_encoding,
    parse_oto_ini,
    read_oto_ini,
    write_oto_ini,
)

VOICEBANK = (
    OtoEntry("_ああいあうえ.wav", "- あ", 500.0, 120.0, -400.0, 80.0, 20.0),
    OtoEntry("_ああいあうえ.wav", "a い", 1012.345, 95.5, -380.25, 75.125, -12.5),
    OtoEntry("_ヴぁヴぃ.wav", "ヴぁ", 250.0, 110.0, 35.0, 60.0, 15.0),  # positive cutoff: from the end
    OtoEntry("_ヴぁヴぃ.wav", "u ～", 900.5, 0.0, -1.0, 0.0, -30.0),
    OtoEntry("ka.wav", "ka", 0.0, 0.001, -0.001, 0.0, 0.0),
)


def numbers(entry: OtoEntry) -> tuple[str, str, float, float, float, float, float]:
    return (
        entry.wav_name,
        entry.alias,
        entry.offset_ms,
        entry.consonant_ms,
        entry.cutoff_ms,
        entry.preutterance_ms,
        entry.overlap_ms,
    )


def utaupy_numbers(oto: utaupy.otoini.Oto) -> tuple[str, str, float, float, float, float, float]:
    return (oto.filename, oto.alias, oto.offset, oto.consonant, oto.cutoff, oto.preutterance, oto.overlap)


# --- what UTAU tools read ----------------------------------------------------------------------


def test_utaupy_reads_every_number_of_a_shift_jis_oto_ini_we_write(tmp_path: Path) -> None:
    path = tmp_path / "oto.ini"
    write_oto_ini(path, VOICEBANK)

    theirs = utaupy.otoini.load(path)

    assert [utaupy_numbers(oto) for oto in theirs] == [numbers(e) for e in VOICEBANK]


def test_utaupy_reads_a_declared_utf8_oto_ini_once_the_charset_line_is_dropped(tmp_path: Path) -> None:
    entries = (*VOICEBANK, OtoEntry("𠮷.wav", "𠮷 🎤", 10.5, 20.0, -30.0, 5.0, 2.0))
    path = tmp_path / "oto.ini"
    write_oto_ini(path, entries, encoding="utf-8")
    charset_line, rest = path.read_bytes().split(b"\r\n", 1)
    assert charset_line == b"#Charset:UTF-8"
    without_charset = tmp_path / "oto-utaupy.ini"
    without_charset.write_bytes(rest)

    theirs = utaupy.otoini.load(without_charset, encoding="utf-8")

    assert [utaupy_numbers(oto) for oto in theirs] == [numbers(e) for e in entries]


def test_we_read_what_utaupy_writes(tmp_path: Path) -> None:
    theirs = utaupy.otoini.OtoIni()
    for wav, alias, *times in [
        ("_ああいあうえ.wav", "- あ", 500, 120, -400, 80, 20),
        ("_ヴぁヴぃ.wav", "u ～", 900.5, 0, 35, 60.25, -30),
        ("ka.wav", "ka", 12.3456, 1.5, -0.5, 0, 0),
    ]:
        oto = utaupy.otoini.Oto()
        oto.filename, oto.alias = wav, alias
        oto.offset, oto.consonant, oto.cutoff, oto.preutterance, oto.overlap = times
        theirs.append(oto)
    path = tmp_path / "oto.ini"
    theirs.write(path)  # cp932, LF line ends, "500.0" and up to 4 decimals

    ours = read_oto_ini(path)

    assert ours.encoding == "cp932"
    assert ours.skipped == ()
    assert [numbers(e) for e in ours.entries] == [utaupy_numbers(oto) for oto in theirs]
    assert ours.entries[2].offset_ms == 12.3456


# --- byte-exact round trips --------------------------------------------------------------------


def test_the_file_we_write_has_crlf_lines_and_compact_numbers() -> None:
    data = format_oto_ini(VOICEBANK[:2] + VOICEBANK[-1:])

    assert data.decode("cp932").split("\r\n") == [
        "_ああいあうえ.wav=- あ,500,120,-400,80,20",
        "_ああいあうえ.wav=a い,1012.345,95.5,-380.25,75.125,-12.5",
        "ka.wav=ka,0,0.001,-0.001,0,0",
        "",
    ]


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_a_file_we_wrote_reads_back_and_writes_again_byte_for_byte(encoding: OtoEncoding) -> None:
    data = format_oto_ini(VOICEBANK, encoding)

    read_back = parse_oto_ini(data)

    assert read_back.encoding == encoding
    assert read_back.entries == VOICEBANK
    assert format_oto_ini(read_back.entries, encoding) == data


ALIASES = ("あ", "か", "- か", "a か", "ヴ", "ヴぁ", "～", "u ～", "ka", "- ka", "k a", "R", "息", "ん", "①")
WAV_NAMES = ("_あかさ.wav", "ka.wav", "_ヴぁ～.wav", "息.wav", "sub/ra.wav")
ms_3_decimals = st.integers(min_value=-5_000_000, max_value=5_000_000).map(lambda n: n / 1000)
oto_entries = st.builds(
    OtoEntry,
    wav_name=st.sampled_from(WAV_NAMES),
    alias=st.sampled_from(ALIASES),
    offset_ms=ms_3_decimals.map(abs),
    consonant_ms=ms_3_decimals.map(abs),
    cutoff_ms=ms_3_decimals,  # negative: from offset; positive: from the file's end
    preutterance_ms=ms_3_decimals.map(abs),
    overlap_ms=ms_3_decimals,
)


@settings(deadline=None, max_examples=150)
@given(entries=st.lists(oto_entries, max_size=12), encoding=st.sampled_from(["cp932", "utf-8"]))
def test_any_voicebank_round_trips(entries: list[OtoEntry], encoding: OtoEncoding) -> None:
    data = format_oto_ini(entries, encoding)

    read_back = parse_oto_ini(data)

    assert read_back.entries == tuple(entries)
    assert read_back.skipped == ()
    assert format_oto_ini(read_back.entries, encoding) == data


@settings(deadline=None, max_examples=60)
@given(entries=st.lists(oto_entries, min_size=1, max_size=12), encoding=st.sampled_from(["cp932", "utf-8"]))
def test_utaupy_reads_any_voicebank_we_write(
    tmp_path_factory: pytest.TempPathFactory, entries: list[OtoEntry], encoding: OtoEncoding
) -> None:
    data = format_oto_ini(entries, encoding)
    if encoding == "utf-8":
        data = data.removeprefix(b"#Charset:UTF-8\r\n")  # utaupy does not know the charset line
    path = tmp_path_factory.mktemp("utaupy") / "oto.ini"
    path.write_bytes(data)

    theirs = utaupy.otoini.load(path, encoding=encoding)

    assert [utaupy_numbers(oto) for oto in theirs] == [numbers(e) for e in entries]


# --- real-world files --------------------------------------------------------------------------


def test_a_messy_oto_ini_yields_its_good_entries_and_names_each_bad_line() -> None:
    lines_and_ends = [
        ("# oto by 作者さん", "\r\n"),
        ("", "\r\n"),
        ("  _ああいあうえ.wav = - あ , 500, 120 ,-400,  80,20  ", "\n"),
        ("_ああいあうえ.wav=あ い,600.5,100,-350,90,30", "\r"),
        ("かきくけこ.wav=か,1.25", "\r\n"),
        ("かきくけこ.wav=き,10,abc,-300,60,10", "\n"),
        ("this line has no equals sign", "\n"),
        ("\t", "\n"),
        ("かきくけこ.wav=- あ,700,100,-300,60,10", "\r"),
        ("かきくけこ.wav=く,700,100,-300,60,10,extra,5", "\r\n"),
        ("さ.wav=,1,2,3,4,5", "\r\n"),
        ("さ.wav=か,1e2,2,,4,-5", ""),
    ]
    data = b"\xef\xbb\xbf" + "".join(line + end for line, end in lines_and_ends).encode("utf-8")

    oto = parse_oto_ini(data)

    assert oto.encoding == "utf-8-sig"
    assert [numbers(e) for e in oto.entries] == [
        ("_ああいあうえ.wav", "- あ", 500, 120, -400, 80, 20),
        ("_ああいあうえ.wav", "あ い", 600.5, 100, -350, 90, 30),
        ("かきくけこ.wav", "か", 1.25, 0, 0, 0, 0),
        ("かきくけこ.wav", "- あ", 700, 100, -300, 60, 10),
        ("かきくけこ.wav", "く", 700, 100, -300, 60, 10),
        ("さ.wav", "さ", 1, 2, 3, 4, 5),
        ("さ.wav", "か", 100, 2, 0, 4, -5),
    ]
    assert [(s.line_number, s.reason) for s in oto.skipped] == [
        (6, "line 6: consonant is 'abc', not a number of ms"),
        (7, "line 7: no '=' between the file name and the alias"),
    ]
    assert oto.skipped[1].text == "this line has no equals sign"
    assert oto.duplicates == ("- あ", "か")
    assert oto.entries[2].note == "line 5: consonant, cutoff, preutterance, overlap missing, read as 0"
    assert oto.entries[4].note == "line 10: 2 extra field(s) ignored: 'extra,5'"


def test_a_line_in_no_known_encoding_is_skipped_and_the_rest_still_read() -> None:
    data = b"\r\n".join(
        [
            "_あ.wav=あ,1,2,-3,4,5".encode("cp932"),
            b"_\x85\x40.wav=x,1,2,3,4,5",  # neither cp932 nor UTF-8
            "_い.wav=い,6,7,-8,9,10".encode("cp932"),
            "_う.wav=う,1,1,1,1,1".encode(),  # a UTF-8 line pasted into a Shift-JIS file
        ]
    )

    oto = parse_oto_ini(data)

    assert oto.encoding == "cp932"
    assert [e.alias for e in oto.entries] == ["あ", "い", "う"]
    assert [(s.line_number, s.reason) for s in oto.skipped] == [
        (2, "line 2: bytes that are neither Shift-JIS nor UTF-8")
    ]


def test_a_shift_jis_line_in_a_declared_utf8_file_is_reported() -> None:
    data = "#Charset:UTF-8\r\n_あ.wav=あ,1,2,3,4,5\r\n".encode() + "_い.wav=い,1,2,3,4,5".encode("cp932")

    oto = parse_oto_ini(data)

    assert [e.alias for e in oto.entries] == ["あ"]
    assert [(s.line_number, s.reason) for s in oto.skipped] == [(3, "line 3: bytes that are not valid utf-8")]


oto_ish_bytes = st.lists(
    st.one_of(
        st.binary(max_size=40),
        st.sampled_from(
            [b"=", b",", b"\r\n", b"\r", b"\n", b"#", b"\xef\xbb\xbf", b"#Charset:", b"\x81", b"1.5"]
        ),
        st.text(max_size=10).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
    ),
    max_size=40,
).map(b"".join)


@settings(deadline=None, max_examples=300)
@given(data=oto_ish_bytes)
def test_any_bytes_read_without_an_exception(data: bytes) -> None:
    oto = parse_oto_ini(data)

    line_numbers = [s.line_number for s in oto.skipped]
    assert line_numbers == sorted(set(line_numbers))
    assert len(oto.entries) + len(oto.skipped) <= data.count(b"\n") + data.count(b"\r") + 1


@pytest.mark.parametrize(
    ("data", "encoding", "alias"),
    [
        ("_あ.wav=あ,1,2,3,4,5\r\n".encode("cp932"), "cp932", "あ"),
        ("_あ.wav=あ,1,2,3,4,5\r\n".encode(), "utf-8", "あ"),  # undeclared, but only valid as UTF-8
        (b"\xef\xbb\xbf" + "_あ.wav=あ,1,2,3,4,5".encode(), "utf-8-sig", "あ"),
        ("#Charset:Shift_JIS\r\n_あ.wav=あ,1,2,3,4,5".encode("cp932"), "cp932", "あ"),
        ("#charset: utf-8\n_あ.wav=あ,1,2,3,4,5".encode(), "utf-8", "あ"),
        ("#Charset:GBK\r\n_啊.wav=啊,1,2,3,4,5".encode("gbk"), "gbk", "啊"),
        ("_あ.wav=あ,1,2,3,4,5\r\n".encode("utf-16"), "utf-16", "あ"),  # Notepad's "Unicode"
        (b"ka.wav=ka,1,2,3,4,5", "cp932", "ka"),  # plain ASCII: UTAU's own encoding
    ],
)
def test_the_encoding_is_found_from_the_charset_line_the_bom_or_the_bytes(
    data: bytes, encoding: str, alias: str
) -> None:
    oto = parse_oto_ini(data)

    assert oto.encoding == encoding
    assert [e.alias for e in oto.entries] == [alias]
    assert oto.skipped == ()


def test_an_unknown_charset_is_reported_and_the_file_still_read() -> None:
    oto = parse_oto_ini("#Charset:klingon\r\n_あ.wav=あ,1,2,3,4,5".encode("cp932"))

    assert oto.encoding == "cp932"
    assert [e.alias for e in oto.entries] == ["あ"]
    assert oto.skipped[0].line_number == 1
    assert "unknown charset 'klingon'" in oto.skipped[0].reason


def test_an_empty_alias_is_the_file_name_and_is_written_out_in_full() -> None:
    oto = parse_oto_ini(b"sub\\ka.wav=,1,2,3,4,5\r\nta.WAV=\r\n")

    assert [e.alias for e in oto.entries] == ["sub\\ka", "ta"]
    unnamed = dataclasses.replace(oto.entries[0], alias="")
    assert format_oto_ini([unnamed]) == b"sub\\ka.wav=sub\\ka,1,2,3,4,5\r\n"


def test_an_empty_file_has_no_entries(tmp_path: Path) -> None:
    (tmp_path / "oto.ini").write_bytes(b"")

    oto = read_oto_ini(tmp_path / "oto.ini")

    assert oto.entries == ()
    assert oto.skipped == ()
    assert format_oto_ini(oto.entries) == b""


def test_a_missing_oto_ini_or_a_folder_gets_a_message_that_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(OtoFileError, match=r"no such file\. Check the path"):
        read_oto_ini(tmp_path / "oto.ini")
    with pytest.raises(OtoFileError, match=r"is a folder\. Pass the oto\.ini file inside it"):
        read_oto_ini(tmp_path)


# --- encodings ---------------------------------------------------------------------------------


def test_cp932_only_characters_survive_where_the_shift_jis_codec_would_fail(tmp_path: Path) -> None:
    entries = (
        OtoEntry("_あ～.wav", "a ～", 100.0, 50.0, -200.0, 30.0, 10.0),
        OtoEntry("①.wav", "①", 1.0, 2.0, -3.0, 4.0, 5.0),
    )
    for entry in entries:
        with pytest.raises(UnicodeEncodeError):
            entry.alias.encode("shift_jis")  # why Shift-JIS always means cp932 here

    path = tmp_path / "oto.ini"
    write_oto_ini(path, entries, encoding=normalize_encoding("Shift_JIS"))

    assert "～".encode("cp932") in path.read_bytes()
    assert read_oto_ini(path).entries == entries
    assert [utaupy_numbers(o) for o in utaupy.otoini.load(path)] == [numbers(e) for e in entries]


@pytest.mark.parametrize("alias", ["あ 🎤", "𠮷"])
def test_an_alias_shift_jis_cannot_store_stops_the_write_and_leaves_no_file(
    tmp_path: Path, alias: str
) -> None:
    path = tmp_path / "oto.ini"
    entries = (*VOICEBANK, OtoEntry("_x.wav", alias, 1.0, 2.0, -3.0, 4.0, 5.0))

    with pytest.raises(OtoEncodingError) as raised:
        write_oto_ini(path, entries)

    assert repr(alias) in raised.value.message
    assert "--encoding utf-8" in raised.value.message
    assert list(tmp_path.iterdir()) == []  # neither oto.ini nor oto.ini.part


def test_a_failed_write_leaves_the_previous_oto_ini_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "oto.ini"
    write_oto_ini(path, VOICEBANK)
    before = path.read_bytes()

    with pytest.raises(OtoEncodingError):
        write_oto_ini(path, [OtoEntry("_x.wav", "🎤", 1.0, 2.0, -3.0, 4.0, 5.0)])

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oto.ini"]


@pytest.mark.parametrize(
    ("alias", "wav_name", "problem"),
    [
        ("a,b", "x.wav", "',' in its alias"),
        ("a=b", "x.wav", "'='"),
        (" a", "x.wav", "spaces at the start or end"),
        ("a", "#x.wav", "reads as a comment"),
        ("a", "", "no wav file name"),
    ],
)
def test_an_entry_that_would_read_back_differently_is_refused(
    tmp_path: Path, alias: str, wav_name: str, problem: str
) -> None:
    with pytest.raises(OtoEntryError, match=problem):
        write_oto_ini(tmp_path / "oto.ini", [OtoEntry(wav_name, alias, 1.0, 2.0, -3.0, 4.0, 5.0)])
    assert list(tmp_path.iterdir()) == []


def test_a_time_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(OtoEntryError, match="no finite cutoff"):
        format_oto_ini([OtoEntry("a.wav", "a", 1.0, 2.0, float("nan"), 4.0, 5.0)])


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("shift_jis", "cp932"),
        ("Shift-JIS", "cp932"),
        ("sjis", "cp932"),
        ("cp932", "cp932"),
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
    ],
)
def test_users_may_name_the_encoding_as_they_know_it(name: str, codec: str) -> None:
    assert normalize_encoding(name) == codec


def test_an_unknown_encoding_name_says_which_ones_work() -> None:
    with pytest.raises(OtoEncodingError, match=r"Use 'shift_jis' .* or 'utf-8'"):
        normalize_encoding("latin-1")


def test_writing_over_an_oto_ini_replaces_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "oto.ini"
    write_oto_ini(path, VOICEBANK)

    write_oto_ini(path, VOICEBANK[:1], encoding="utf-8")

    assert path.read_bytes() == "#Charset:UTF-8\r\n_ああいあうえ.wav=- あ,500,120,-400,80,20\r\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oto.ini"]
