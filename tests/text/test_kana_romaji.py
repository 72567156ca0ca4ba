"""A singer's kana, romaji file names and pyopenjtalk's phones are the same morae, whichever way round."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicestudio.text.errors import KanaError
from voicestudio.text.kana import (
    Mora,
    MoraGroup,
    kana_to_phonemes,
    kana_to_romaji,
    mora_from_phonemes,
    mora_table,
    phonemes_to_morae,
    romaji_to_kana,
    split_morae,
    to_katakana,
)

TABLE = mora_table()
SPOKEN = [mora for mora in TABLE if mora.group is not MoraGroup.breath]


def test_the_table_has_every_mora_a_reclist_needs() -> None:
    counts = {group: sum(mora.group is group for mora in TABLE) for group in MoraGroup}
    assert counts == {
        MoraGroup.vowel: 5,
        MoraGroup.cv: 63,  # k s t n h m r g z b p rows of five, や ゆ よ, わ を, だ で ど
        MoraGroup.youon: 33,  # 11 rows of ゃ ゅ ょ
        MoraGroup.extended: 28,
        MoraGroup.n: 1,
        MoraGroup.alias: 3,  # ぢ づ うぉ
        MoraGroup.breath: 1,
    }
    romaji = {mora.hiragana: mora.romaji for mora in TABLE}
    for kana, expected in {
        "し": "shi", "ち": "chi", "つ": "tsu", "ふ": "fu", "じ": "ji", "を": "wo", "ん": "n",
        "きゃ": "kya", "しゃ": "sha", "ちゃ": "cha", "じゃ": "ja", "りゃ": "rya", "ぴょ": "pyo",
        "ふぁ": "fa", "てぃ": "ti", "でぃ": "di", "とぅ": "tu", "どぅ": "du", "ゔ": "vu",
        "うぃ": "wi", "うぇ": "we", "いぇ": "ye", "つぁ": "tsa",
    }.items():  # fmt: skip
        assert romaji[kana] == expected, kana
    assert len({mora.romaji for mora in TABLE}) == len(TABLE)  # every romaji names one mora
    assert len({mora.hiragana for mora in TABLE} | {mora.katakana for mora in TABLE}) == 2 * len(TABLE) - 1


def test_every_mora_of_the_table_round_trips_through_romaji_in_hiragana_and_katakana() -> None:
    failures = [mora for mora in TABLE if not _round_trips(mora)]
    assert len(TABLE) == 134
    assert failures == []


def _round_trips(mora: Mora) -> bool:
    return (
        kana_to_romaji(mora.hiragana) == mora.romaji
        and kana_to_romaji(mora.katakana) == mora.romaji
        and romaji_to_kana(mora.romaji) == mora.hiragana
        and romaji_to_kana(mora.romaji, hiragana=False) == mora.katakana
        and split_morae(mora.hiragana) == [mora.hiragana]
    )


def test_phonemes_name_one_mora_each_and_aliases_come_back_as_the_mora_they_sound_like() -> None:
    back = {mora.hiragana: mora_from_phonemes(kana_to_phonemes(mora.hiragana)) for mora in TABLE}
    changed = {kana: again for kana, again in back.items() if kana != again}
    assert changed == {"ぢ": "じ", "づ": "ず", "うぉ": "を"}
    assert mora_from_phonemes(["ky", "a"], hiragana=False) == "キャ"
    assert mora_from_phonemes(["s", "U"]) == "す"  # pyopenjtalk's devoiced u


morae_strings = st.lists(st.sampled_from([*SPOKEN, None]), min_size=1, max_size=8).map(
    lambda morae: "".join("っ" if mora is None else mora.hiragana for mora in morae)
)


@settings(deadline=None, max_examples=300, database=None)
@given(morae_strings)
def test_any_string_of_morae_and_sokuon_round_trips_joined_or_spaced(kana: str) -> None:
    assert romaji_to_kana(kana_to_romaji(kana)) == kana
    assert romaji_to_kana(kana_to_romaji(kana, sep=" ")) == kana
    assert romaji_to_kana(kana_to_romaji(to_katakana(kana)), hiragana=False) == to_katakana(kana)
    assert phonemes_to_morae(kana_to_phonemes(kana)) == [
        {"ぢ": "じ", "づ": "ず", "うぉ": "を"}.get(mora, mora) for mora in split_morae(kana)
    ]


def test_small_kana_sokuon_and_long_vowels_split_as_a_singer_counts_morae() -> None:
    assert split_morae("きょうはっぴょうかい") == ["きょ", "う", "は", "っ", "ぴょ", "う", "か", "い"]
    assert split_morae("ヴァイオリン") == ["ヴァ", "イ", "オ", "リ", "ン"]
    assert split_morae("キョー") == ["キョ", "ー"]
    assert kana_to_phonemes("キョー") == ("ky", "o", "o")
    assert kana_to_phonemes("がっこう") == ("g", "a", "cl", "k", "o", "u")
    assert kana_to_romaji("がっこう") == "gakkou"
    assert kana_to_romaji("まっちゃ", sep=" ") == "ma t cha"
    assert kana_to_romaji("こんや") == "kon'ya"
    assert romaji_to_kana("konnichiha") == "こんにちは"
    assert romaji_to_kana("matcha") == "まっちゃ"
    assert kana_to_romaji("_あかあき") == "_akaaki"


def test_text_that_is_not_a_mora_is_an_error_that_says_which_part() -> None:
    with pytest.raises(KanaError, match="'きぇ'"):
        kana_to_phonemes("きぇ")
    with pytest.raises(KanaError, match="'qa'"):
        romaji_to_kana("kaqa")
    with pytest.raises(KanaError, match="ー"):
        kana_to_phonemes("ーあ")
    with pytest.raises(KanaError, match="two consonants"):
        phonemes_to_morae(["k", "s", "a"])
