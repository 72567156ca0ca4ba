"""A singer picks a prompt set and can trust what it covers: every mora, every transition, every phoneme."""

from collections import Counter
from itertools import pairwise

import pytest

from voicestudio.domain import Language, Prompt, PromptSet, PromptSetKind
from voicestudio.text.arpabet import CONSONANTS, PHONEMES, VOWELS
from voicestudio.text.errors import UnknownPromptSet
from voicestudio.text.g2p import english_g2p, japanese_g2p, japanese_morae
from voicestudio.text.kana import MoraGroup, lookup_mora, mora_table, romaji_to_kana, split_morae
from voicestudio.text.prompts import coverage, list_prompt_sets, load_prompt_set, prompt_units

JA_VOWELS = ("あ", "い", "う", "え", "お")


def cv_morae() -> list[str]:
    """The spoken morae of ja-cv (all its prompts but the breath): what the other sets are measured by."""
    return [prompt.text for prompt in load_prompt_set("ja-cv").prompts if prompt.reading != "breath"]


def test_the_studio_ships_six_prompt_sets_sorted_by_name() -> None:
    sets = list_prompt_sets()
    assert [(s.name, s.language, s.kind, len(s)) for s in sets] == [
        ("en-arpasing", Language.en, PromptSetKind.arpasing, 139),
        ("en-paragraph", Language.en, PromptSetKind.paragraph, 15),
        ("ja-cv", Language.ja, PromptSetKind.cv, 131),
        ("ja-cvvc", Language.ja, PromptSetKind.cvvc, 81),
        ("ja-paragraph", Language.ja, PromptSetKind.paragraph, 15),
        ("ja-vcv", Language.ja, PromptSetKind.vcv, 125),
    ]
    for prompt_set in sets:
        assert prompt_set.title and prompt_set.description
        assert all(prompt.wav_name.endswith(".wav") and prompt.phonemes for prompt in prompt_set.prompts)


def test_ja_cv_lists_every_recorded_mora_of_the_table_with_its_romaji() -> None:
    prompt_set = load_prompt_set("ja-cv")
    recorded = [mora for mora in mora_table() if mora.group is not MoraGroup.alias]
    assert len(prompt_set) == len(recorded) == 131
    assert [(p.text, p.reading, p.wav_name) for p in prompt_set.prompts] == [
        (mora.hiragana, mora.romaji, f"{mora.romaji}.wav") for mora in recorded
    ]
    by_text = {prompt.text: prompt for prompt in prompt_set.prompts}
    youon = {mora.hiragana for mora in recorded if mora.group is MoraGroup.youon}
    assert len(youon) == 33 and youon <= set(by_text)
    assert by_text["きょ"].reading == "kyo" and by_text["きょ"].phonemes == ("ky", "o")
    assert by_text["ん"].wav_name == "n.wav" and by_text["ん"].phonemes == ("N",)
    assert by_text["息"].wav_name == "breath.wav"
    assert len(cv_morae()) == 130


def test_ja_paragraph_as_pyopenjtalk_reads_it_covers_95_percent_of_the_cv_morae() -> None:
    prompt_set = load_prompt_set("ja-paragraph")
    result = coverage(prompt_set, cv_morae(), unit_of=lambda prompt: japanese_morae(prompt.text))
    assert result.ratio >= 0.95, f"missing {len(result.missing)}: {' '.join(result.missing)}"
    assert len(result.covered) == 125
    for youon in ("きょ", "ひゃ", "りょ", "ちゃ", "ぎゅ", "にゅ", "ぴょ", "みゃ"):
        assert youon in result.covered
    # the stored readings are pyopenjtalk's, so the data file counts the same without pyopenjtalk
    assert coverage(prompt_set, cv_morae()) == result


def test_stored_sentences_match_what_g2p_says_today() -> None:
    for name, g2p in (("ja-paragraph", japanese_g2p), ("en-paragraph", english_g2p)):
        for prompt in load_prompt_set(name).prompts:
            pronunciation = g2p(prompt.text)
            assert (prompt.phonemes, prompt.reading) == (pronunciation.phonemes, pronunciation.reading)


def test_en_paragraph_covers_every_cmu_phoneme() -> None:
    prompt_set = load_prompt_set("en-paragraph")
    result = coverage(prompt_set, PHONEMES, unit_of=lambda prompt: english_g2p(prompt.text).phonemes)
    assert result.ratio >= 0.95, f"missing: {' '.join(result.missing)}"
    assert len(PHONEMES) == 39 and result.missing == ()


def vcv_units(prompt: Prompt) -> list[str]:
    """Every vowel followed by a mora in a legato string, as "a ka"."""
    morae = split_morae(romaji_to_kana(prompt.reading))
    return [f"{first} {second}" for first, second in pairwise(morae) if first in JA_VOWELS]


def test_ja_vcv_follows_each_vowel_once_with_every_cv_mora() -> None:
    prompt_set = load_prompt_set("ja-vcv")
    units = [f"{vowel} {mora}" for vowel in JA_VOWELS for mora in cv_morae()]
    result = coverage(prompt_set, units, unit_of=vcv_units)
    assert (len(units), len(result.covered), result.ratio) == (650, 650, 1.0)
    found = Counter(unit for prompt in prompt_set.prompts for unit in vcv_units(prompt))
    twice = sorted(unit for unit, count in found.items() if count > 1)
    assert len(twice) == 20  # only vowel pairs, as "_あああい" also has い before the next あ
    assert all(unit.split()[1] in JA_VOWELS for unit in twice)
    assert all(prompt.text.startswith("_") for prompt in prompt_set.prompts)
    first = prompt_set.prompts[1]
    assert (first.text, first.reading, first.wav_name) == (
        "_あかあきあくあけあこ",
        "a ka a ki a ku a ke a ko",
        "_akaakiakuakeako.wav",
    )


def vc_units(prompt: Prompt) -> list[str]:
    """Every vowel-to-consonant (or vowel-to-ん) transition between neighbouring morae, as "a k"."""
    morae = [lookup_mora(kana) for kana in split_morae(romaji_to_kana(prompt.reading))]
    pairs = pairwise(morae)
    return [
        f"{a.vowel} {b.consonant or 'N'}" for a, b in pairs if a.vowel in "aiueo" and b.vowel != b.consonant
    ]


def test_ja_cvvc_has_every_mora_and_every_vowel_to_consonant_transition() -> None:
    prompt_set = load_prompt_set("ja-cvvc")
    assert all(3 <= len(split_morae(prompt.text)) <= 4 for prompt in prompt_set.prompts)
    assert coverage(prompt_set, cv_morae()).ratio == 1.0
    consonants = [*sorted({lookup_mora(kana).consonant for kana in cv_morae()} - {""}), "N"]
    units = [f"{vowel} {consonant}" for vowel in "aiueo" for consonant in consonants]
    result = coverage(prompt_set, units, unit_of=vc_units)
    assert (len(consonants), len(units), result.ratio) == (32, 160, 1.0), result.missing
    endings = {lookup_mora(split_morae(prompt.text)[-1]).vowel for prompt in prompt_set.prompts}
    assert endings == {"a", "i", "u", "e", "o", "N"}  # every vowel and ん before a rest


def diphones(prompt: Prompt) -> list[str]:
    """Neighbouring phonemes of a prompt, with "-" for the rest before and after it."""
    phones = ["-", *prompt.phonemes, "-"]
    return [f"{a} {b}" for a, b in pairwise(phones)]


def test_en_arpasing_covers_every_phoneme_and_every_consonant_vowel_pair_both_ways() -> None:
    prompt_set = load_prompt_set("en-arpasing")
    assert coverage(prompt_set, PHONEMES).ratio == 1.0
    cv = [f"{c} {v}" for c in CONSONANTS for v in VOWELS]
    vc = [f"{v} {c}" for c in CONSONANTS for v in VOWELS]
    edges = [f"- {p}" for p in PHONEMES] + [f"{p} -" for p in PHONEMES]
    clusters = ["S T", "S P", "S K", "P L", "K R", "T R", "N T", "N D", "M P", "NG K", "L D", "K S", "R T"]
    for units, size in ((cv, 360), (vc, 360), (edges, 78), (clusters, 13)):
        result = coverage(prompt_set, units, unit_of=diphones if units is not clusters else _clusters)
        assert (len(units), result.ratio) == (size, 1.0), result.missing
    by_id = {prompt.id: prompt for prompt in prompt_set.prompts}
    assert by_id["b_aa_b_ae_b_ah_b_ao_b"].text == "b aa b ae b ah b ao b"
    assert by_id["b_aa_b_ae_b_ah_b_ao_b"].reading == "B AA B AE B AH B AO B"


def _clusters(prompt: Prompt) -> list[str]:
    return [f"{a} {b}" for a, b in pairwise(prompt.phonemes)]


def test_coverage_reports_what_is_missing_in_the_order_asked() -> None:
    prompt_set = PromptSet(
        "tiny", "tiny", Language.ja, PromptSetKind.cv, (Prompt("ka", "か", "ka", ("k", "a"), "ka.wav"),)
    )
    result = coverage(prompt_set, ["ん", "か", "き", "か"])
    assert (result.covered, result.missing, result.ratio) == (("か",), ("ん", "き"), 1 / 3)
    assert prompt_units(prompt_set.prompts[0], Language.ja) == ["か"]


def test_an_unknown_prompt_set_name_lists_the_ones_there_are() -> None:
    with pytest.raises(UnknownPromptSet) as raised:
        load_prompt_set("ja-nonsense")
    message = raised.value.message
    assert "'ja-nonsense'" in message
    for name in ("en-arpasing", "en-paragraph", "ja-cv", "ja-cvvc", "ja-paragraph", "ja-vcv"):
        assert name in message
