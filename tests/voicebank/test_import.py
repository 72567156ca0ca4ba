"""A singer imports someone's voicebank zip: it arrives whole and readable, or is refused, leaving nothing."""

import re
import zipfile
from pathlib import Path

import pytest

from voicebank.crafted import UNIX_SYMLINK, RawEntry, unicode_path_extra, write_raw_zip
from voicebank.cv_bank import cv_bank
from voicestudio.domain import Language, Progress
from voicestudio.voicebank import (
    ImportLimits,
    UnsafeArchive,
    VoicebankError,
    build_voicebank_zip,
    import_voicebank_zip,
)

TINY_WAV = (
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00D\xac\x00\x00\x88X\x01\x00\x02\x00\x10\x00"
)
TINY_WAV += b"data\x00\x00\x00\x00"
OTO_CP932 = "か.wav=か,50,100,-300,60,20\r\nソ.wav=ソ,40,90,-280,55,15\r\n".encode("cp932")


def benign_entries(codec: str = "cp932", flags: int = 0) -> list[RawEntry]:
    """A classic CV bank folder "歌声" with names stored in `codec`: character.txt, oto.ini and two wavs."""

    def name(text: str) -> bytes:
        return text.encode(codec)

    return [
        RawEntry(name("歌声/"), flags=flags, external_attr=0o40755 << 16 | 0x10),
        RawEntry(
            name("歌声/character.txt"), "name=歌声テスト\r\nauthor=作者\r\n".encode("cp932"), flags=flags
        ),
        RawEntry(name("歌声/oto.ini"), OTO_CP932, flags=flags, deflate=True),
        RawEntry(name("歌声/か.wav"), TINY_WAV, flags=flags),
        RawEntry(name("歌声/ソ.wav"), TINY_WAV, flags=flags),  # ソ is 0x83 0x5C in cp932: a '\' byte inside
    ]


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture(scope="session")
def zero_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """256 MiB of zeros streamed into one deflated entry beside a real-looking bank: about 1 MiB on disk."""
    path = tmp_path_factory.mktemp("bomb") / "bank.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("bank/character.txt", "name=bomb\r\n")
        archive.writestr("bank/oto.ini", "zeros.wav=a,0,0,0,0,0\r\n")
        with archive.open("bank/zeros.wav", "w") as entry:
            zeros = bytes(1 << 20)
            for _ in range(256):
                entry.write(zeros)
    return path


# --- round trip -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["shift_jis", "utf-8"])
def test_a_built_bank_imports_with_the_same_entries(
    cv_recordings: Path, tmp_path: Path, encoding: str
) -> None:
    bank = cv_bank(encoding)
    summary = build_voicebank_zip(cv_recordings, bank, tmp_path / "bank.zip")
    imported = import_voicebank_zip(summary.zip_path, tmp_path / "imported")

    assert imported.root == tmp_path / "imported" / summary.folder_name
    assert (imported.name, imported.author, imported.text_file_encoding) == (bank.name, bank.author, encoding)
    assert imported.entries == bank.entries
    assert imported.skipped == () and imported.missing_wavs == () and imported.notes == ()
    assert imported.name_encoding == (
        "cp932" if encoding == "shift_jis" else "ascii"
    )  # flagged UTF-8 is ASCII
    assert imported.character.default_phonemizer == "OpenUtau.Plugin.Builtin.JapanesePresampPhonemizer"
    assert imported.voicebank(Language.ja) == bank
    assert sorted(p.name for p in imported.root.glob("*.wav")) == ["か.wav", "き.wav", "さ.wav"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_progress_is_reported_for_every_entry(cv_recordings: Path, tmp_path: Path) -> None:
    summary = build_voicebank_zip(cv_recordings, cv_bank(), tmp_path / "bank.zip")
    heard: list[Progress] = []
    import_voicebank_zip(summary.zip_path, tmp_path / "imported", on_progress=heard.append)
    assert [p.done for p in heard] == list(range(1, 11)) and {p.total for p in heard} == {10}


# --- names from other tools -----------------------------------------------------------------------


def test_a_classic_zip_with_shift_jis_names_imports_with_kana_names(tmp_path: Path) -> None:
    zip_path = write_raw_zip(tmp_path / "classic.zip", benign_entries("cp932"))
    imported = import_voicebank_zip(zip_path, tmp_path / "voices" / "new")

    assert imported.name_encoding == "cp932"
    assert imported.root == tmp_path / "voices" / "new" / "歌声"
    assert tree(imported.root) == ["character.txt", "oto.ini", "か.wav", "ソ.wav"]
    assert (imported.name, imported.author, imported.text_file_encoding) == (
        "歌声テスト",
        "作者",
        "shift_jis",
    )
    assert [(e.wav_name, e.alias) for e in imported.entries] == [("か.wav", "か"), ("ソ.wav", "ソ")]
    assert imported.missing_wavs == ()


@pytest.mark.parametrize("flags", [0, 0x800], ids=["macOS-style unflagged", "flagged"])
def test_utf8_names_import_with_or_without_the_flag(tmp_path: Path, flags: int) -> None:
    zip_path = write_raw_zip(tmp_path / "utf8.zip", benign_entries("utf-8", flags))
    imported = import_voicebank_zip(zip_path, tmp_path / "new")
    assert tree(imported.root) == ["character.txt", "oto.ini", "か.wav", "ソ.wav"]
    assert imported.name_encoding == ("utf-8" if flags == 0 else "ascii")


def test_an_info_zip_unicode_path_field_names_the_file(tmp_path: Path) -> None:
    entries = benign_entries("cp932")
    stored = "歌声/か.wav".encode("cp1252", errors="replace")  # a tool that could not write kana
    entries[3] = RawEntry(stored, TINY_WAV, extra=unicode_path_extra("歌声/か.wav", stored))
    imported = import_voicebank_zip(write_raw_zip(tmp_path / "z.zip", entries), tmp_path / "new")
    assert (imported.root / "か.wav").is_file()


def test_an_oto_ini_in_each_pitch_folder_is_read_with_its_folder(tmp_path: Path) -> None:
    entries = [
        RawEntry(b"bank/character.txt", b"name=multi\r\n"),
        RawEntry(b"bank/oto.ini", b"ka.wav=ka,0,10,-100,5,2\r\n"),
        RawEntry(b"bank/ka.wav", TINY_WAV),
        RawEntry(
            b"bank/C4/oto.ini",
            b"ka.wav=ka_C4,0,10,-100,5,2\r\nmissing.wav=m,0,10,-100,5,2\r\nbroken line\r\n",
        ),
        RawEntry(b"bank/C4/ka.wav", TINY_WAV),
        RawEntry(b"__MACOSX/bank/._ka.wav", b"resource fork"),
    ]
    imported = import_voicebank_zip(write_raw_zip(tmp_path / "z.zip", entries), tmp_path / "new")
    assert [(e.wav_name, e.alias) for e in imported.entries] == [
        ("ka.wav", "ka"),
        ("C4/ka.wav", "ka_C4"),
        ("C4/missing.wav", "m"),
    ]
    assert imported.missing_wavs == ("C4/missing.wav",)
    assert [(s.oto_path, s.line.line_number) for s in imported.skipped] == [("C4/oto.ini", 3)]
    assert not (tmp_path / "new" / "__MACOSX").exists()


def test_character_yaml_overrides_character_txt_and_sets_the_encoding(tmp_path: Path) -> None:
    yaml = 'name: "歌声 v2: 強"   # the display name\ntext_file_encoding: utf-8\nsubbanks:\n- color: power\n'
    entries = [
        RawEntry(
            "歌声/character.txt".encode(), "name=歌声\r\nweb=https://example.org\r\n".encode(), flags=0x800
        ),
        RawEntry("歌声/character.yaml".encode(), yaml.encode(), flags=0x800),
        RawEntry("歌声/oto.ini".encode(), "か.wav=か,0,10,-100,5,2\r\n".encode(), flags=0x800),
    ]
    imported = import_voicebank_zip(write_raw_zip(tmp_path / "z.zip", entries), tmp_path / "new")
    assert (imported.name, imported.text_file_encoding) == ("歌声 v2: 強", "utf-8")
    assert imported.character.web == "https://example.org"
    assert imported.oto_files[0].encoding == "utf-8" and imported.notes == ()


# --- refused, with nothing written ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("evil", "problem"),
    [
        (RawEntry(b"../evil", b"x"), "climbs out of its folder"),
        (RawEntry(b"\xe6\xad\x8c\xe5\xa3\xb0/../../evil", b"x"), "climbs out of its folder"),
        (RawEntry(b"bank\\..\\..\\evil.wav", b"x"), "climbs out of its folder"),
        (RawEntry(b"/etc/passwd", b"root:x:0:0"), "is an absolute path"),
        (RawEntry(b"C:\\x", b"x"), "starts with a drive letter"),
        (RawEntry(b"evil\x00.txt", b"x"), "NUL character"),
        (
            RawEntry("歌声/link.wav".encode("cp932"), b"/etc/passwd", external_attr=UNIX_SYMLINK),
            "symbolic link",
        ),
        (RawEntry("歌声/か.wav".encode("cp932"), b"again"), "appears twice"),
        (RawEntry("歌声/oto.ini/x".encode("cp932"), b"x"), "both a file and a folder"),
    ],
)
def test_a_malicious_zip_is_refused_before_anything_is_written(
    tmp_path: Path, evil: RawEntry, problem: str
) -> None:
    zip_path = write_raw_zip(tmp_path / "evil.zip", [*benign_entries(), evil])
    with pytest.raises(UnsafeArchive, match=re.escape(problem)) as refused:
        import_voicebank_zip(zip_path, tmp_path / "new")
    assert "evil.zip" in refused.value.message
    assert tree(tmp_path) == ["evil.zip"]


def test_a_zip_bomb_is_refused_from_its_headers(zero_bomb: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsafeArchive, match=r"'bank/zeros\.wav' would unpack \d+ times larger .* zip bomb"):
        import_voicebank_zip(zero_bomb, tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_a_zip_over_the_size_limit_is_refused(zero_bomb: Path, tmp_path: Path) -> None:
    limits = ImportLimits(max_total_bytes=64 << 20, max_ratio=1e9, max_total_ratio=1e9)
    with pytest.raises(UnsafeArchive, match=r"unpacks to more than 64\.0 MiB"):
        import_voicebank_zip(zero_bomb, tmp_path / "new", limits)
    assert list(tmp_path.iterdir()) == []


def test_many_small_bombs_are_caught_by_the_archive_ratio(tmp_path: Path) -> None:
    zeros = bytes(900_000)  # each entry stays under the per-entry ratio floor
    entries = [
        *benign_entries(),
        *(RawEntry(f"歌声/{i}.wav".encode(), zeros, deflate=True) for i in range(4)),
    ]
    with pytest.raises(UnsafeArchive, match=r"evil\.zip would unpack \d+ times larger"):
        import_voicebank_zip(write_raw_zip(tmp_path / "evil.zip", entries), tmp_path / "new")
    assert tree(tmp_path) == ["evil.zip"]


def test_a_header_that_understates_the_size_is_caught_while_extracting(tmp_path: Path) -> None:
    lying = RawEntry("歌声/big.wav".encode("cp932"), bytes(200_000), deflate=True, declared_size=1000)
    zip_path = write_raw_zip(tmp_path / "evil.zip", [*benign_entries(), lying])
    with pytest.raises(VoicebankError, match=r"'歌声/big\.wav' is damaged"):
        import_voicebank_zip(zip_path, tmp_path / "new")
    assert tree(tmp_path) == ["evil.zip"]  # the half-extracted staging folder is gone too


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    zip_path = write_raw_zip(tmp_path / "evil.zip", benign_entries())
    data = bytearray(zip_path.read_bytes())
    central = data.rindex(b"PK\x01\x02")  # claim the last entry's compressed data is 1 MB long
    data[central + 20 : central + 24] = (1_000_000).to_bytes(4, "little")
    zip_path.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive, match="overlap"):
        import_voicebank_zip(zip_path, tmp_path / "new")
    assert tree(tmp_path) == ["evil.zip"]


def test_too_many_files_are_refused(tmp_path: Path) -> None:
    zip_path = write_raw_zip(tmp_path / "big.zip", benign_entries())
    with pytest.raises(UnsafeArchive, match=r"holds 5 files; a voicebank import takes at most 4"):
        import_voicebank_zip(zip_path, tmp_path / "new", ImportLimits(max_files=4))


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([RawEntry(b"readme.txt", b"hello")], "holds no character.txt and no oto.ini"),
        (
            [RawEntry(b"a/character.txt", b"name=a"), RawEntry(b"b/character.txt", b"name=b")],
            r"holds 2 voicebanks side by side \(a, b\)",
        ),
        ([RawEntry(b"x/character.txt", b"x", flags=0x1)], "password-protected"),
    ],
)
def test_a_zip_that_is_no_single_voicebank_is_refused(
    tmp_path: Path, entries: list[RawEntry], message: str
) -> None:
    with pytest.raises(VoicebankError, match=message):
        import_voicebank_zip(write_raw_zip(tmp_path / "z.zip", entries), tmp_path / "new")
    assert tree(tmp_path) == ["z.zip"]


def test_not_a_zip_and_an_existing_folder_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bank.rar").write_bytes(b"Rar!\x1a\x07\x00" + bytes(100))
    with pytest.raises(VoicebankError, match=r"not a zip file .* unpack it and zip the voicebank folder"):
        import_voicebank_zip(tmp_path / "bank.rar", tmp_path / "new")
    zip_path = write_raw_zip(tmp_path / "ok.zip", benign_entries())
    (tmp_path / "taken").mkdir()
    with pytest.raises(VoicebankError, match=r"already exists\. Choose a new folder"):
        import_voicebank_zip(zip_path, tmp_path / "taken")
    assert tree(tmp_path) == ["bank.rar", "ok.zip", "taken"]


def test_an_oto_ini_in_another_encoding_than_declared_is_noted(tmp_path: Path) -> None:
    entries = [
        RawEntry(b"bank/character.txt", b"name=bank\r\n"),
        RawEntry(b"bank/character.yaml", b"text_file_encoding: shift_jis\n"),
        RawEntry(b"bank/oto.ini", "か.wav=か,0,10,-100,5,2\r\n".encode()),  # UTF-8, no #Charset line
    ]
    imported = import_voicebank_zip(write_raw_zip(tmp_path / "z.zip", entries), tmp_path / "new")
    assert imported.text_file_encoding == "shift_jis"
    assert [e.alias for e in imported.entries] == ["か"]
    assert imported.notes == (
        "oto.ini reads as utf-8 but character.yaml declares shift_jis; OpenUTAU will read it as "
        "shift_jis unless the file starts with a #Charset: line.",
    )
