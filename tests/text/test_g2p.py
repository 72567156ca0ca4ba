"""Text becomes phonemes without any network: Japanese by pyopenjtalk, English by CMUdict and eSpeak NG."""

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence

import pytest

from voicestudio.domain import Language
from voicestudio.text import espeak
from voicestudio.text.arpabet import PHONEMES, ipa_to_arpabet, strip_stress
from voicestudio.text.errors import G2PError
from voicestudio.text.g2p import english_g2p, english_word_arpabet, g2p, japanese_g2p, japanese_morae
from voicestudio.text.prompts import load_prompt_set

needs_espeak = pytest.mark.skipif(not espeak.is_available(), reason="eSpeak NG is not installed")


def test_japanese_sentence_gives_pyopenjtalk_phones_morae_and_romaji() -> None:
    result = japanese_g2p("曲を聴きます、牛乳も。")
    assert result.language is Language.ja
    assert " ".join(result.phonemes) == "ky o k u o k i k i m a s u pau gy u u ny u u m o"
    assert result.morae == ("きょ", "く", "を", "き", "き", "ま", "す", "ぎゅ", "ー", "にゅ", "ー", "も")
    assert result.reading == "kyo ku wo ki ki ma su , gyu u nyu u mo"
    assert "U" not in result.phonemes  # devoiced vowels are written like the others
    assert japanese_morae("百円") == ["ひゃ", "く", "え", "ん"]
    assert g2p("旅行", Language.ja).morae == ("りょ", "こ", "ー")


def test_english_sentence_gives_cmudict_arpabet_without_stress_and_a_pause_at_the_comma() -> None:
    result = english_g2p("Hello, brave world!")
    assert result.language is Language.en
    assert " ".join(result.phonemes) == "HH AH L OW pau B R EY V W ER L D"
    assert result.words == ("hello", "brave", "world")
    assert result.reading == "HH AH0 L OW1 , B R EY1 V W ER1 L D"
    assert g2p("Don’t", Language.en).phonemes == ("D", "OW", "N", "T")


@needs_espeak
def test_a_word_cmudict_lacks_is_guessed_by_espeak_and_mapped_to_arpabet() -> None:
    assert english_word_arpabet("zhivago") == ("ZH", "IH0", "V", "AA1", "G", "OW0")
    guessed = english_g2p("the voicestudio").phonemes
    assert guessed[:2] == ("DH", "AH") and guessed[2:5] == ("V", "OY", "S")
    assert set(guessed) <= set(PHONEMES)


@needs_espeak
def test_espeak_guesses_agree_with_cmudict_on_nine_phones_in_ten() -> None:
    words = sorted(
        {word for p in load_prompt_set("en-paragraph").prompts for word in english_g2p(p.text).words}
    )
    guessed = [(english_word_arpabet(word), english_word_arpabet(word, _espeak_only)) for word in words]
    errors = sum(_edit_distance(_plain(cmu), _plain(espeak_ipa)) for cmu, espeak_ipa in guessed)
    phones = sum(len(cmu) for cmu, _ in guessed)
    assert len(words) > 150
    assert 1 - errors / phones >= 0.9, f"{errors} of {phones} phones differ"


def _espeak_only(word: str) -> list[str]:
    return espeak.text_to_ipa(word)


def _plain(phones: Sequence[str]) -> list[str]:
    return [strip_stress(phone) for phone in phones]


def _edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[:], i
        for j, y in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x != y))
    return row[-1]


def test_ipa_maps_to_arpabet_with_stress_from_the_marks() -> None:
    assert ipa_to_arpabet("həlˈoʊ") == ("HH", "AH0", "L", "OW1")
    assert ipa_to_arpabet("bˈʌʔn̩") == ("B", "AH1", "T", "AH0", "N")
    assert ipa_to_arpabet("ˌaʊɚɹ") == ("AW2", "ER0")
    assert ipa_to_arpabet("dʒˈʌdʒ") == ("JH", "AH1", "JH")
    assert ipa_to_arpabet("vɔ\u200dɪs") == ("V", "OY0", "S")  # tie marks between diphthong letters


def test_a_word_nobody_can_read_fails_with_the_word_and_what_to_do() -> None:
    with pytest.raises(G2PError, match=r"'qxzt'.*'ʘ'.*ipa_arpabet.tsv"):
        english_word_arpabet("qxzt", lambda word: ["ʘa"])

    def unavailable(word: str) -> list[str]:
        raise espeak.EspeakUnavailable("The eSpeak NG library is missing; install espeak-ng.")

    with pytest.raises(G2PError, match=r"'qxzt' is not in the CMU dictionary.*install espeak-ng"):
        english_g2p("the qxzt", unavailable)
    with pytest.raises(G2PError, match="no text"):
        japanese_g2p("  ")
    with pytest.raises(G2PError, match=r"cannot read '😀'"):
        japanese_g2p("こんにちは😀")
    with pytest.raises(G2PError, match="no English words"):
        english_g2p("…")


OFFLINE_CHILD = """
import json, socket, sys
if sys.argv[1] == "patch":
    def no_network(*args, **kwargs):
        raise OSError("network disabled for this test")
    socket.socket = no_network
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)
    network = "open"
except OSError:
    network = "closed"
from voicestudio.text.g2p import english_g2p, japanese_g2p
print(json.dumps({
    "network": network,
    "ja": japanese_g2p("旅行で曲を聴く").phonemes,
    "en": english_g2p("The zhivago record").phonemes,
}))
"""


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False).returncode == 0


def test_g2p_runs_without_network_and_downloads_nothing() -> None:
    if _unshare_works():  # a network namespace with no interfaces: nothing can be reached
        command = ["unshare", "-rn", sys.executable, "-c", OFFLINE_CHILD, "namespace"]
    else:  # no namespaces here: the child replaces socket.socket before anything is imported
        command = [sys.executable, "-c", OFFLINE_CHILD, "patch"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["network"] == "closed"
    assert " ".join(result["ja"]) == "ry o k o o d e ky o k u o k i k u"
    assert " ".join(result["en"]) == "DH AH ZH IH V AA G OW R AH K AO R D"
    assert re.fullmatch(r"[a-zA-Z ]+", " ".join(result["ja"]))
