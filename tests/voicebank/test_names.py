"""Names and text that travel between systems: folder names, zip entry names, and character.yaml values."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicestudio.voicebank.paths import archive_member_problem, bank_file_problem, bank_folder_name
from voicestudio.voicebank.yaml_text import quote_yaml_string, read_top_level_scalars
from voicestudio.voicebank.zipnames import (
    RawName,
    choose_name_encoding,
    decode_entry_names,
    encode_entry_name,
)


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("テスト歌声: CV", "テスト歌声_ CV"),
        ('a/b\\c*?"<>|', "a_b_c______"),
        ("v1..2...", "v1.2"),
        ("  CON ", "CON_"),
        ("aux.voice", "aux_.voice"),
        ("...", "voicebank"),
        ("", "voicebank"),
    ],
)
def test_a_bank_name_becomes_a_folder_every_system_accepts(name: str, folder: str) -> None:
    assert bank_folder_name(name) == folder
    assert bank_file_problem(folder) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../x", "climbs out"),
        ("a/../../x", "climbs out"),
        ("a\\..\\x", "climbs out"),
        ("/etc/passwd", "absolute"),
        ("\\\\server\\share", "absolute"),
        ("C:x", "drive letter"),
        ("c:/x", "drive letter"),
        ("a\x00b", "NUL"),
    ],
)
def test_entry_names_that_escape_the_folder_are_named(name: str, problem: str) -> None:
    found = archive_member_problem(name)
    assert found is not None and problem in found


@pytest.mark.parametrize("name", ["a..b.wav", "歌声/か.wav", "./a/./b.wav", "a//b", "..hidden", "C.wav"])
def test_ordinary_entry_names_pass(name: str) -> None:
    assert archive_member_problem(name) is None


def test_names_follow_the_banks_text_encoding() -> None:
    assert choose_name_encoding(["bank/ka.wav"], "cp932") == "ascii"
    assert choose_name_encoding(["bank/ka.wav"], "utf-8") == "ascii"
    assert choose_name_encoding(["歌声/か.wav"], "cp932") == "cp932"
    assert choose_name_encoding(["歌声/か.wav"], "utf-8") == "utf-8"
    assert encode_entry_name("歌声/ソ.wav", "cp932") == (b"\x89\xcc\x90\xba/\x83\\.wav", 0)
    assert encode_entry_name("歌声/ソ.wav", "utf-8") == ("歌声/ソ.wav".encode(), 0x800)
    assert encode_entry_name("install.txt", "utf-8") == (b"install.txt", 0)


def test_utf8_bytes_that_cp932_would_misread_are_taken_as_utf8() -> None:
    utf8 = "bank/あか.wav".encode()
    assert utf8.decode("cp932") == "bank/縺ゅ°.wav"  # cp932 reads it without failing: mojibake
    decoded = decode_entry_names([RawName(utf8, utf8_flag=False)])
    assert decoded.names == ("bank/あか.wav",) and decoded.unflagged_encoding == "utf-8"


def test_shift_jis_names_are_judged_together() -> None:
    names = ["歌声/あ.wav", "歌声/ソ.wav", "歌声/表.frq", "歌声/ｱｲｳ.wav"]
    decoded = decode_entry_names([RawName(n.encode("cp932"), utf8_flag=False) for n in names])
    assert decoded.names == tuple(names) and decoded.unflagged_encoding == "cp932"


def test_a_name_in_neither_encoding_is_refused() -> None:
    from voicestudio.voicebank import VoicebankError

    with pytest.raises(VoicebankError, match="neither UTF-8 nor Shift-JIS"):
        decode_entry_names([RawName(b"bank/\x81\xff.wav", utf8_flag=False)])


@given(st.text())
def test_every_string_reads_back_from_character_yaml(text: str) -> None:
    quoted = quote_yaml_string(text)
    assert read_top_level_scalars(f"name: {quoted}\n") == {"name": text}
    assert json.loads(quoted) == text
    assert "\n" not in quoted and "\r" not in quoted and "\u2028" not in quoted


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("name: plain text  # comment", "plain text"),
        ("name: 'it''s'", "it's"),
        ('name: "a\\x41\\u3042\\U0001F600\\ud83d\\ude00"', "aAあ😀😀"),
        ("name: a#b", "a#b"),
        ("name: ~", None),
        ("name:", None),
        ("name: |", None),
        ("name: [a, b]", None),
        ('name: "unterminated', None),
        ("  name: nested", None),
    ],
)
def test_top_level_scalars_are_read_as_yaml_reads_them(line: str, value: str | None) -> None:
    assert read_top_level_scalars(line).get("name") == value
