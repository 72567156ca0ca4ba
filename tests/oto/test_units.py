"""A reclist's file names say which oto.ini units each recording holds, as UTAU singers name them."""

import pytest

from voicestudio.errors import VoicestudioError
from voicestudio.oto.units import UnitNameError, UnitRequest, file_style, morae_to_units, units_for_file


def aliases(units: list[UnitRequest]) -> list[str]:
    return [unit.alias for unit in units]


def described(units: list[UnitRequest]) -> list[tuple[str, str, str, int]]:
    return [(u.alias, u.kind, " ".join(u.phones), u.mora_index) for u in units]


# --- CV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wav_name", "alias", "phones"),
    [
        ("ka.wav", "ka", ("k", "a")),
        ("か.wav", "か", ("k", "a")),
        ("カ.wav", "カ", ("k", "a")),
        ("kya.wav", "kya", ("ky", "a")),
        ("きゃ.wav", "きゃ", ("ky", "a")),
        ("shi.wav", "shi", ("sh", "i")),
        ("a.wav", "a", ("a",)),
        ("あ.wav", "あ", ("a",)),
        ("n.wav", "n", ("N",)),
        ("ん.wav", "ん", ("N",)),
        ("ヴぁ.wav", "ヴぁ", ("v", "a")),
        ("voice/sub/tsu.WAV", "tsu", ("ts", "u")),
    ],
)
def test_a_cv_file_holds_one_unit_named_as_the_file_is(
    wav_name: str, alias: str, phones: tuple[str, ...]
) -> None:
    assert units_for_file(wav_name, "auto") == [UnitRequest(alias, "cv", phones, 0)]


@pytest.mark.parametrize(("wav_name", "alias"), [("ka.wav", "- ka"), ("か.wav", "- か"), ("あ.wav", "- あ")])
def test_the_head_option_gives_a_cv_bank_its_rest_to_note_aliases(wav_name: str, alias: str) -> None:
    (unit,) = units_for_file(wav_name, "cv", head=True)

    assert (unit.alias, unit.kind) == (alias, "head")


# --- VCV -----------------------------------------------------------------------------------------


def test_a_kana_vcv_string_gives_a_head_then_the_vowel_before_each_mora() -> None:
    units = units_for_file("_あかさ.wav", "auto")

    assert described(units) == [
        ("- あ", "head", "a", 0),
        ("a か", "vcv", "a k a", 0),
        ("a さ", "vcv", "a s a", 1),
    ]


def test_a_romaji_vcv_string_gives_romaji_aliases() -> None:
    units = units_for_file("_akaakiaku.wav", "auto")

    assert aliases(units) == ["- a", "a ka", "a a", "a ki", "i a", "a ku"]
    assert units[3].phones == ("a", "k", "i")
    assert [u.mora_index for u in units] == [0, 0, 1, 2, 3, 4]


def test_vcv_aliases_keep_katakana_and_write_the_vowel_of_n_as_n() -> None:
    units = units_for_file("_アンカキャ.wav", "vcv")

    assert aliases(units) == ["- ア", "a ン", "n カ", "a キャ"]
    assert units[2].phones == ("N", "k", "a")


# --- CVVC ----------------------------------------------------------------------------------------


def test_a_kana_cvvc_string_gives_cv_vc_and_a_tail_each_once() -> None:
    units = units_for_file("_かかきかくか.wav", "cvvc")

    assert described(units) == [
        ("- か", "head", "k a", 0),
        ("a k", "vc", "a k", 0),
        ("か", "cv", "k a", 1),
        ("き", "cv", "k i", 2),
        ("i k", "vc", "i k", 2),
        ("く", "cv", "k u", 4),
        ("u k", "vc", "u k", 4),
        ("a R", "tail", "a", 5),
    ]


@pytest.mark.parametrize("wav_name", ["ka_ki_ku.wav", "kakiku.wav"])
def test_a_romaji_cvvc_string_gives_romaji_cv_and_vc_aliases(wav_name: str) -> None:
    units = units_for_file(wav_name, "auto")

    assert aliases(units) == ["- ka", "a k", "ki", "i k", "ku", "u R"]
    assert [u.kind for u in units] == ["head", "vc", "cv", "vc", "cv", "tail"]


def test_cvvc_vc_aliases_name_the_consonant_as_pyopenjtalk_does_and_n_as_n() -> None:
    units = units_for_file("sha_chi_n_tsu.wav", "cvvc")

    assert aliases(units) == ["- sha", "a ch", "chi", "i n", "n", "n ts", "tsu", "u R"]
    assert units[3].phones == ("i", "N")


def test_cvvc_has_no_vc_before_a_bare_vowel() -> None:
    assert aliases(units_for_file("ka_a_ki.wav", "cvvc")) == ["- ka", "a", "a k", "ki", "i R"]


# --- styles --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wav_name", "style"),
    [
        ("ka.wav", "cv"),
        ("か.wav", "cv"),
        ("_あかさ.wav", "vcv"),
        ("_akasa.wav", "vcv"),
        ("ka_ki_ku.wav", "cvvc"),
        ("かきく.wav", "cvvc"),
    ],
)
def test_auto_reads_the_style_from_the_name(wav_name: str, style: str) -> None:
    assert file_style(wav_name) == style


def test_auto_uses_the_style_it_reads() -> None:
    assert units_for_file("_あかさ.wav", "auto") == units_for_file("_あかさ.wav", "vcv")
    assert units_for_file("かきく.wav", "auto") == units_for_file("かきく.wav", "cvvc")


def test_a_string_can_be_cut_in_any_style_the_singer_asks_for() -> None:
    assert aliases(units_for_file("_あかさ.wav", "cvvc")) == ["- あ", "a k", "か", "a s", "さ", "a R"]
    assert aliases(units_for_file("_あかさ.wav", "cv")) == ["あ", "か", "さ"]


@pytest.mark.parametrize("wav_name", ["ka2.wav", "xyz.wav", "カq.wav", "ー.wav"])
def test_a_name_that_is_not_morae_is_refused_with_a_message_for_the_singer(wav_name: str) -> None:
    with pytest.raises(UnitNameError) as caught:
        units_for_file(wav_name, "auto")

    assert isinstance(caught.value, VoicestudioError)
    assert wav_name.rsplit(".", 1)[0] in caught.value.message


@pytest.mark.parametrize("wav_name", ["breath.wav", "息.wav"])
def test_a_breath_recording_holds_no_unit(wav_name: str) -> None:
    assert units_for_file(wav_name, "auto") == []


# --- readings of prompt sets ---------------------------------------------------------------------


def test_a_paragraph_reading_gives_every_unit_instance_with_heads_after_pauses() -> None:
    units = morae_to_units("kyo o wa , a me ga fu t te", "cvvc")

    assert described(units) == [
        ("- kyo", "head", "ky o", 0),
        ("o", "cv", "o", 1),
        ("o w", "vc", "o w", 1),
        ("wa", "cv", "w a", 2),
        ("a R", "tail", "a", 2),
        ("- a", "head", "a", 3),
        ("a m", "vc", "a m", 3),
        ("me", "cv", "m e", 4),
        ("e g", "vc", "e g", 4),
        ("ga", "cv", "g a", 5),
        ("a f", "vc", "a f", 5),
        ("fu", "cv", "f u", 6),  # っ (mora 7) cuts the phrase without a release
        ("- te", "head", "t e", 8),
        ("e R", "tail", "e", 8),
    ]


def test_a_reading_as_a_list_of_morae_keeps_repeats_for_choosing_the_best() -> None:
    units = morae_to_units(["ka", "ka", "pau", "ka"], "vcv")

    assert described(units) == [
        ("- ka", "head", "k a", 0),
        ("a ka", "vcv", "a k a", 0),
        ("- ka", "head", "k a", 2),
    ]


def test_a_kana_reading_gives_kana_aliases() -> None:
    assert aliases(morae_to_units(["きょ", "う", "は"], "cv")) == ["きょ", "う", "は"]
    assert aliases(morae_to_units("きょうは", "cv", head=True)) == ["- きょ", "- う", "- は"]
    assert aliases(morae_to_units("かー", "vcv")) == ["- か", "a ー"]
