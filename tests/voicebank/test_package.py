"""A singer packages their CV recordings into a zip that UTAU and OpenUTAU install as it is."""

import json
import re
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import utaupy
from PIL import Image

from voicebank.crafted import stored_names
from voicebank.cv_bank import MORAE, QUIET_MORA, cv_bank, romaji_bank
from voicestudio.domain import Language, OtoEntry, Progress, PromptSetKind
from voicestudio.oto import read_oto_ini
from voicestudio.voicebank import (
    ARPASING_PHONEMIZER,
    JAPANESE_PHONEMIZER,
    VoicebankError,
    build_voicebank_zip,
    default_phonemizer,
    format_character_txt,
    format_character_yaml,
)
from voicestudio.voicebank.yaml_text import read_top_level_scalars

UTF8_FLAG = 0x800
WAVS = [f"{kana}.wav" for kana in MORAE]


def unpack_like_openutau(zip_path: Path, dest: Path, archive_codec: str = "cp932") -> Path:
    """Unpack as OpenUTAU's installer does: flagged names as UTF-8, others in the picked encoding."""
    raw = stored_names(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        for stored, info in zip(raw, archive.infolist(), strict=True):
            codec = "utf-8" if stored.central_flags & UTF8_FLAG else archive_codec
            name = stored.central_name.decode(codec).replace("\\", "/")
            if name == "install.txt":
                continue  # UTAU's; OpenUTAU skips it
            target = dest / name
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(info))
    (folder,) = dest.iterdir()
    return folder


def rms_db(path: Path) -> float:
    samples, _ = sf.read(path, dtype="float64")
    return float(20 * np.log10(np.sqrt(np.mean(samples**2))))


@pytest.mark.parametrize(("encoding", "codec"), [("shift_jis", "cp932"), ("utf-8", "utf-8")])
def test_cv_bank_unpacks_to_a_folder_openutau_loads(
    cv_recordings: Path, tmp_path: Path, encoding: str, codec: str
) -> None:
    bank = cv_bank(encoding)
    summary = build_voicebank_zip(cv_recordings, bank, tmp_path / "bank.zip")
    folder = unpack_like_openutau(summary.zip_path, tmp_path / "voice")

    assert folder.name == "テスト歌声_ CV #1"  # ':' is not allowed in Windows folder names
    assert summary.entry_count == 4 and summary.wav_count == 3
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["character.txt", "character.yaml", "readme.txt", "oto.ini", "icon.bmp", *(f"{k}.wav" for k in MORAE)]
    )
    character_txt = (folder / "character.txt").read_bytes().decode(codec)
    assert character_txt.splitlines() == ["name=テスト歌声: CV #1", "image=icon.bmp", "author=山田"]
    assert "山田" in (folder / "readme.txt").read_bytes().decode(codec)
    yaml = read_top_level_scalars((folder / "character.yaml").read_text("utf-8"))
    assert yaml["text_file_encoding"] == encoding
    assert yaml["singer_type"] == "utau"
    assert yaml["name"] == "テスト歌声: CV #1"
    assert yaml["default_phonemizer"] == JAPANESE_PHONEMIZER

    oto_text = (folder / "oto.ini").read_bytes().decode(codec)  # strict: every byte is in `codec`
    assert oto_text.startswith("#Charset:UTF-8\r\n") == (codec == "utf-8")
    assert "か.wav=- か,40,122.25,-430.5,87.125,12\r\n" in oto_text
    oto = read_oto_ini(folder / "oto.ini")
    assert oto.encoding == codec
    assert oto.entries == bank.entries
    assert oto.skipped == ()
    for kana in MORAE:
        info = sf.info(folder / f"{kana}.wav")
        assert (info.samplerate, info.channels, info.format, info.subtype) == (44_100, 1, "WAV", "PCM_16")
    with Image.open(folder / "icon.bmp") as icon:
        assert (icon.format, icon.size) == ("BMP", (100, 100))


def test_utau_reads_the_shift_jis_oto_ini(cv_recordings: Path, tmp_path: Path) -> None:
    summary = build_voicebank_zip(cv_recordings, cv_bank("shift_jis"), tmp_path / "bank.zip")
    folder = unpack_like_openutau(summary.zip_path, tmp_path / "voice")
    oto = utaupy.otoini.load(str(folder / "oto.ini"), encoding="cp932")
    assert [(o.filename, o.alias, o.preutterance) for o in oto] == [
        (e.wav_name, e.alias, e.preutterance_ms) for e in cv_bank().entries
    ]


def test_relative_levels_and_loudness_are_kept_when_resampled(cv_recordings: Path, tmp_path: Path) -> None:
    summary = build_voicebank_zip(cv_recordings, cv_bank(), tmp_path / "bank.zip")
    folder = unpack_like_openutau(summary.zip_path, tmp_path / "voice")
    assert set(summary.resampled_wavs) == {f"{k}.wav" for k in MORAE}
    assert summary.clipped_wavs == ()

    before = rms_db(cv_recordings / "か.wav") - rms_db(cv_recordings / f"{QUIET_MORA}.wav")
    after = rms_db(folder / "か.wav") - rms_db(folder / f"{QUIET_MORA}.wav")
    assert before > 12.0  # さ was recorded with a gain of 0.25 (-12 dB)
    assert after == pytest.approx(before, abs=0.1)
    for kana in MORAE:  # nothing was normalized: each file keeps its own level
        assert rms_db(folder / f"{kana}.wav") == pytest.approx(rms_db(cv_recordings / f"{kana}.wav"), abs=0.1)


def test_names_are_cp932_without_the_utf8_flag_in_a_shift_jis_bank(
    cv_recordings: Path, tmp_path: Path
) -> None:
    summary = build_voicebank_zip(cv_recordings, cv_bank("shift_jis"), tmp_path / "bank.zip")
    names = stored_names(summary.zip_path)
    assert summary.name_encoding == "cp932"
    assert all(n.central_flags & UTF8_FLAG == 0 and n.local_flags & UTF8_FLAG == 0 for n in names)
    assert all(n.central_name == n.local_name for n in names)
    assert "テスト歌声_ CV #1/か.wav".encode("cp932") in {n.central_name for n in names}
    bank_files = ["", "character.txt", "character.yaml", "readme.txt", "oto.ini", "icon.bmp", *WAVS]
    assert sorted(n.central_name.decode("cp932") for n in names) == sorted(
        ["install.txt", *(f"テスト歌声_ CV #1/{name}" for name in bank_files)]
    )
    install_txt = zipfile.ZipFile(summary.zip_path).read("install.txt").decode("cp932").splitlines()
    assert install_txt == [
        "type=voiceset",
        "folder=テスト歌声_ CV #1",
        "contentsdir=テスト歌声_ CV #1",
        "description=テスト歌声: CV #1",
    ]


def test_names_are_flagged_utf8_in_a_utf8_bank(cv_recordings: Path, tmp_path: Path) -> None:
    summary = build_voicebank_zip(cv_recordings, cv_bank("utf-8"), tmp_path / "bank.zip")
    names = stored_names(summary.zip_path)
    assert summary.name_encoding == "utf-8"
    flagged = [n.central_name for n in names if n.central_flags & UTF8_FLAG and n.local_flags & UTF8_FLAG]
    assert flagged == [n.central_name for n in names if not n.central_name.isascii()]
    assert b"install.txt" in {n.central_name for n in names} and len(flagged) == len(names) - 1
    assert "テスト歌声_ CV #1/さ.wav".encode() in {n.central_name for n in names}
    # What OpenUTAU shows whichever archive encoding the user picks: the flag wins.
    for picked in ("cp932", "gb2312", "cp1252"):
        folder = unpack_like_openutau(summary.zip_path, tmp_path / f"as-{picked}", picked)
        assert (folder / "さ.wav").is_file()


def test_ascii_names_carry_no_flag(cv_recordings: Path, tmp_path: Path) -> None:
    for kana, romaji in zip(MORAE, ("ka", "ki", "sa"), strict=True):
        shutil.copy(cv_recordings / f"{kana}.wav", tmp_path / f"{romaji}.wav")
    bank = romaji_bank(cv_bank("shift_jis"))
    summary = build_voicebank_zip(tmp_path, bank, tmp_path / "bank.zip")
    names = stored_names(summary.zip_path)
    assert summary.name_encoding == "ascii"
    assert all(n.central_name.isascii() and n.central_flags & UTF8_FLAG == 0 for n in names)
    oto = read_oto_ini(unpack_like_openutau(summary.zip_path, tmp_path / "voice") / "oto.ini")
    assert [e.alias for e in oto.entries] == ["か", "き", "さ", "- か"]  # aliases stay kana, in cp932


def test_recordings_already_at_44k_are_copied_with_their_frq(cv_recordings: Path, tmp_path: Path) -> None:
    samples, _ = sf.read(cv_recordings / "か.wav", dtype="float32")
    sf.write(tmp_path / "ka.wav", samples[: 44_100 // 2], 44_100, subtype="PCM_16")
    (tmp_path / "ka_wav.frq").write_bytes(b"FREQ0003" + bytes(32))
    shutil.copy(cv_recordings / "き.wav", tmp_path / "ki.wav")
    (tmp_path / "ki_wav.frq").write_bytes(b"FREQ0003" + bytes(32))
    entries = (OtoEntry("ka.wav", "か", 0, 50, -200, 30, 10), OtoEntry("ki.wav", "き", 0, 50, -200, 30, 10))
    bank = replace(cv_bank(), name="frq", entries=entries)

    summary = build_voicebank_zip(tmp_path, bank, tmp_path / "bank.zip")
    folder = unpack_like_openutau(summary.zip_path, tmp_path / "voice")
    assert (folder / "ka.wav").read_bytes() == (tmp_path / "ka.wav").read_bytes()
    assert (folder / "ka_wav.frq").read_bytes() == (tmp_path / "ka_wav.frq").read_bytes()
    # ki.wav was 48 kHz: its pitch map's frames no longer line up, so the resampler makes a new one.
    assert summary.resampled_wavs == ("ki.wav",)
    assert summary.frq_count == 1 and summary.dropped_frq == ("ki_wav.frq",)
    assert not (folder / "ki_wav.frq").exists()


def test_recordings_in_folders_get_an_oto_ini_per_folder(cv_recordings: Path, tmp_path: Path) -> None:
    (tmp_path / "A3").mkdir()
    shutil.copy(cv_recordings / "か.wav", tmp_path / "A3" / "か.wav")
    shutil.copy(cv_recordings / "き.wav", tmp_path / "き.wav")
    entries = (
        OtoEntry("き.wav", "き", 0, 50, -200, 30, 10),
        OtoEntry("A3/か.wav", "かA3", 0, 50, -200, 30, 10),
    )
    bank = replace(cv_bank(), name="pitches", entries=entries)
    folder = unpack_like_openutau(
        build_voicebank_zip(tmp_path, bank, tmp_path / "b.zip").zip_path, tmp_path / "v"
    )
    assert [e.wav_name for e in read_oto_ini(folder / "oto.ini").entries] == ["き.wav"]
    assert [e.wav_name for e in read_oto_ini(folder / "A3" / "oto.ini").entries] == ["か.wav"]
    assert sf.info(folder / "A3" / "か.wav").samplerate == 44_100


def test_progress_is_reported_for_every_recording(cv_recordings: Path, tmp_path: Path) -> None:
    heard: list[Progress] = []
    build_voicebank_zip(cv_recordings, cv_bank(), tmp_path / "bank.zip", on_progress=heard.append)
    assert [(p.done, p.total, p.item) for p in heard] == [
        (1, 3, "か.wav"),
        (2, 3, "き.wav"),
        (3, 3, "さ.wav"),
    ]


def test_a_given_icon_is_cropped_and_scaled_to_100px(cv_recordings: Path, tmp_path: Path) -> None:
    Image.new("RGB", (300, 200), (200, 30, 30)).save(tmp_path / "me.png")
    summary = build_voicebank_zip(
        cv_recordings, cv_bank(), tmp_path / "bank.zip", icon_png=tmp_path / "me.png"
    )
    with Image.open(unpack_like_openutau(summary.zip_path, tmp_path / "v") / "icon.bmp") as icon:
        assert icon.size == (100, 100)
        assert icon.convert("RGB").getpixel((50, 50)) == (200, 30, 30)


# --- what goes wrong, and what the singer is told ---------------------------------------------------


def test_a_missing_recording_is_named_and_no_zip_is_written(cv_recordings: Path, tmp_path: Path) -> None:
    bank = replace(cv_bank(), entries=(*cv_bank().entries, OtoEntry("ん.wav", "ん", 0, 50, -200, 30, 10)))
    with pytest.raises(VoicebankError, match=r"ん\.wav \(alias 'ん'\) is missing .* Record it again"):
        build_voicebank_zip(cv_recordings, bank, tmp_path / "bank.zip")
    assert list(tmp_path.iterdir()) == []


def test_several_missing_recordings_are_listed(tmp_path: Path) -> None:
    with pytest.raises(
        VoicebankError, match=r"3 recordings are missing from .*: か\.wav, き\.wav, さ\.wav\. Record"
    ):
        build_voicebank_zip(tmp_path, cv_bank(), tmp_path / "bank.zip")


def test_an_interrupted_build_leaves_no_zip_and_keeps_the_previous_one(
    cv_recordings: Path, tmp_path: Path
) -> None:
    recordings = tmp_path / "rec"
    shutil.copytree(cv_recordings, recordings)
    out = tmp_path / "bank.zip"
    build_voicebank_zip(recordings, cv_bank(), out)
    previous = out.read_bytes()

    def lose_the_next_recording(progress: Progress) -> None:
        if progress.done == 1:
            (recordings / "き.wav").unlink()  # the disk goes away mid-build

    with pytest.raises(VoicebankError, match=r"き\.wav disappeared .* Put it back"):
        build_voicebank_zip(recordings, cv_bank(), out, on_progress=lose_the_next_recording)
    assert out.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank.zip", "rec"]  # no .part, no scratch folder


def test_a_bank_without_entries_is_refused(cv_recordings: Path, tmp_path: Path) -> None:
    with pytest.raises(VoicebankError, match=r"no oto entries\. Generate the oto\.ini"):
        build_voicebank_zip(cv_recordings, replace(cv_bank(), entries=()), tmp_path / "bank.zip")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"name": "노래 voice"},
            r"name '노래 voice' contains '노' \(U\+B178\).*Shift-JIS.*build the voicebank as UTF-8",
        ),
        ({"author": "A\nB"}, r"author 'A\\nB' contains a line break"),
        ({"name": "  "}, r"has no name"),
        ({"text_file_encoding": "latin-1"}, r"Unknown oto.ini encoding 'latin-1'"),
    ],
)
def test_text_that_cannot_be_stored_is_refused(
    cv_recordings: Path, tmp_path: Path, change: dict[str, str], message: str
) -> None:
    with pytest.raises(VoicebankError, match=message):
        build_voicebank_zip(cv_recordings, replace(cv_bank(), **change), tmp_path / "bank.zip")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_file_name_shift_jis_cannot_store_is_refused_but_utf8_takes_it(
    cv_recordings: Path, tmp_path: Path
) -> None:
    shutil.copy(cv_recordings / "か.wav", tmp_path / "노.wav")
    bank = replace(cv_bank(), entries=(OtoEntry("노.wav", "no", 0, 50, -200, 30, 10),))
    with pytest.raises(VoicebankError, match=r"'노\.wav'.*Shift-JIS \(cp932\) cannot store"):
        build_voicebank_zip(tmp_path, bank, tmp_path / "bank.zip")
    assert not (tmp_path / "bank.zip").exists()
    summary = build_voicebank_zip(tmp_path, replace(bank, text_file_encoding="utf-8"), tmp_path / "bank.zip")
    assert summary.name_encoding == "utf-8"


@pytest.mark.parametrize(
    ("wav_name", "problem"),
    [
        ("../ka.wav", "contains '..'"),
        ("C:/ka.wav", "absolute path"),
        ("k?a.wav", "Windows does not allow"),
        ("ka.flac", "not a .wav file"),
        ("CON.wav", "reserves for devices"),
        ("sub\\ka.wav", "separate folders"),
        ("か.WAV", "only in case"),
    ],
)
def test_file_names_other_systems_cannot_use_are_refused(tmp_path: Path, wav_name: str, problem: str) -> None:
    entries = (OtoEntry("か.wav", "か", 0, 50, -200, 30, 10), OtoEntry(wav_name, "x", 0, 50, -200, 30, 10))
    with pytest.raises(VoicebankError, match=re.escape(problem)):
        build_voicebank_zip(tmp_path, replace(cv_bank(), entries=entries), tmp_path / "bank.zip")
    assert list(tmp_path.iterdir()) == []


# --- the identity files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["歌声: #1", "a # b", "'quoted' \"too\"", "yes", "- item", "tab\there", "~", "@x: {y}"]
)
def test_character_yaml_reads_back_every_name(name: str) -> None:
    bank = replace(cv_bank("utf-8"), name=name.replace("\t", " "))
    text = format_character_yaml(bank, JAPANESE_PHONEMIZER)
    assert read_top_level_scalars(text)["name"] == bank.name
    first_line = text.splitlines()[0]
    assert json.loads(first_line.removeprefix("name: ")) == bank.name  # the quoting is also plain JSON


def test_character_yaml_always_states_the_text_encoding() -> None:
    for encoding, expected in [("shift_jis", "shift_jis"), ("cp932", "shift_jis"), ("UTF-8", "utf-8")]:
        text = format_character_yaml(replace(cv_bank(), text_file_encoding=encoding), None)
        assert read_top_level_scalars(text)["text_file_encoding"] == expected
        assert "default_phonemizer" not in text


def test_character_txt_is_shift_jis_with_crlf_lines() -> None:
    assert format_character_txt(
        cv_bank()
    ) == "name=テスト歌声: CV #1\r\nimage=icon.bmp\r\nauthor=山田\r\n".encode("cp932")


def test_the_default_phonemizer_fits_the_reclist() -> None:
    for kind in (PromptSetKind.cv, PromptSetKind.vcv, PromptSetKind.cvvc, None):
        assert default_phonemizer(Language.ja, kind) == "OpenUtau.Plugin.Builtin.JapanesePresampPhonemizer"
    assert default_phonemizer(Language.en, PromptSetKind.arpasing) == ARPASING_PHONEMIZER
    assert ARPASING_PHONEMIZER == "OpenUtau.Plugin.Builtin.ArpasingPhonemizer"
    assert default_phonemizer(Language.en, PromptSetKind.cv) is None
