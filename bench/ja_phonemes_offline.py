"""Could a Japanese voice phonemize in the browser? OpenJTalk alone against piper's own path.

piper phonemizes Japanese with pyopenjtalk-plus's `run_frontend`, which runs OpenJTalk's C frontend
and then Python rules of its own (Sudachi reading fixes, an ONNX model for 何, accent rules). Only the
C frontend could run in a browser (compiled to WASM), so this compares piper's phonemes with those of
the same dictionary and frontend without the rules (`use_vanilla=True`), sentence by sentence: the
fraction that stay identical is the most a browser OpenJTalk could match. English voices meet the
same yardstick on ≥ 27 of 30 sentences. Run: `python bench/ja_phonemes_offline.py [--markdown]`.
"""

import argparse
import functools
import json
from pathlib import Path

from machine import machine, print_table

PROMPTS = Path(__file__).parents[1] / "src" / "voicestudio" / "text" / "data" / "ja-paragraph.json"
EVERYDAY = (
    "今日は良い天気ですね。",
    "東京都に住んでいます。",
    "何を食べたいですか？",
    "私の名前は田中です。",
    "明日の会議は午後三時からです。",
    "この本はとても面白かった。",
    "駅まで歩いて十分くらいかかります。",
    "日本語を勉強しています。",
    "彼は昨日、大阪へ行きました。",
    "音声合成の研究をしています。",
    "ありがとうございました。",
    "お元気ですか？",
    "電車が遅れています。",
    "雨が降りそうなので傘を持って行きます。",
    "この料理はとても美味しいです。",
)


def sentences() -> list[str]:
    """The 15 ja-paragraph prompts and 15 everyday sentences."""
    prompts = json.loads(PROMPTS.read_text(encoding="utf-8"))["prompts"]
    return [prompt["text"] for prompt in prompts] + list(EVERYDAY)


def phonemes_both_ways(texts: list[str]) -> list[tuple[str, str, str]]:
    """(text, piper's phonemes, OpenJTalk-only phonemes) for each text, phonemes space-separated."""
    from piper.phonemize_japanese import JapanesePhonemizer

    phonemizer = JapanesePhonemizer()
    with_rules = [phonemizer.phonemize(text) for text in texts]
    frontend = phonemizer.pyopenjtalk.run_frontend
    phonemizer.pyopenjtalk.run_frontend = functools.partial(frontend, use_vanilla=True)
    try:
        without_rules = [phonemizer.phonemize(text) for text in texts]
    finally:
        phonemizer.pyopenjtalk.run_frontend = frontend
    return [
        (text, _joined(piper), _joined(bare))
        for text, piper, bare in zip(texts, with_rules, without_rules, strict=True)
    ]


def _joined(sentence_phonemes: list[list[str]]) -> str:
    return " ".join(phoneme for sentence in sentence_phonemes for phoneme in sentence)


def first_difference(piper: str, bare: str) -> str:
    """The first differing phoneme and a little context on each side."""
    ours, theirs = piper.split(), bare.split()
    pairs = zip(ours, theirs, strict=False)  # one may be longer
    at = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(ours), len(theirs)))
    start = max(0, at - 3)
    return f"piper: {' '.join(ours[start : at + 4])} / OpenJTalk: {' '.join(theirs[start : at + 4])}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    compared = phonemes_both_ways(sentences())
    differing = [(text, piper, bare) for text, piper, bare in compared if piper != bare]
    print(machine())
    print(f"identical phonemes: {len(compared) - len(differing)} of {len(compared)} sentences\n")
    rows = [[text[:24], first_difference(piper, bare)] for text, piper, bare in differing]
    print_table(["sentence (start)", "first difference"], rows, args.markdown, text_columns=2)


if __name__ == "__main__":
    main()
