"""A singer starts a project, records takes and hears at once which ones to record again (on each stack)."""

import io
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

from web.audio import TAKE_RATE_HZ, clipped, silent_take, wav_bytes
from web.conftest import UPLOAD_LIMIT_BYTES, StudioUnderTest
from web.stacks import each_stack  # noqa: F401  (every test here runs on each stack)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def new_project(studio: StudioUnderTest, name: str = "Ame", sets: tuple[str, ...] = ("ja-cv",)) -> str:
    response = studio.client.post("/api/projects", json={"name": name, "language": "ja", "prompt_sets": sets})
    assert response.status_code == 201, response.text
    project_id: str = response.json()["id"]
    return project_id


def upload(studio: StudioUnderTest, project_id: str, prompt_id: str, data: bytes) -> Any:
    return studio.client.post(
        f"/api/projects/{project_id}/takes",
        params={"prompt_set": "ja-cv", "prompt_id": prompt_id},
        content=data,
        headers={"Content-Type": "audio/wav"},
    )


def current_take(studio: StudioUnderTest, project_id: str, prompt_id: str) -> dict[str, Any] | None:
    project = studio.client.get(f"/api/projects/{project_id}").json()
    state = next(p for p in project["prompts"] if (p["prompt_set"], p["prompt_id"]) == ("ja-cv", prompt_id))
    take: dict[str, Any] | None = state["take"]
    return take


def test_the_studio_lists_what_there_is_to_record(studio: StudioUnderTest) -> None:
    client = studio.client
    assert client.get("/api/health").json()["ok"] is True
    sets = {s["name"]: s for s in client.get("/api/prompt-sets").json()}
    assert sets["ja-cv"] == {
        "name": "ja-cv",
        "title": sets["ja-cv"]["title"],
        "language": "ja",
        "kind": "cv",
        "prompt_count": 131,
    }
    cv = client.get("/api/prompt-sets/ja-cv").json()
    assert cv["prompts"][5] == {
        "id": "ka",
        "text": "か",
        "reading": "ka",
        "phonemes": ["k", "a"],
        "wav_name": "ka.wav",
    }
    missing = client.get("/api/prompt-sets/ja-nothing")
    assert missing.status_code == 404
    assert "ja-cv" in missing.json()["error"]


def test_each_prompt_can_be_heard_first(studio: StudioUnderTest) -> None:
    url = "/api/prompt-sets/ja-cv/prompts/ka/example.wav"
    first = studio.client.get(url)
    assert first.headers["content-type"] == "audio/wav"
    samples, rate_hz = sf.read(io.BytesIO(first.content))
    assert rate_hz == 48_000 and 0.2 < len(samples) / rate_hz < 2.0
    assert studio.client.get(url).content == first.content
    assert len(list((studio.data_dir / "cache" / "examples" / "ja-cv").glob("*.wav"))) == 1
    breath = studio.client.get("/api/prompt-sets/ja-cv/prompts/breath/example.wav")
    assert breath.status_code == 404 and "no words to speak" in breath.json()["error"]


def test_a_good_take_passes_with_its_numbers(studio: StudioUnderTest, takes: dict[str, bytes]) -> None:
    project_id = new_project(studio)
    response = upload(studio, project_id, "ka", takes["ka"])
    assert response.status_code == 201, response.text
    body = response.json()
    take = body["take"]
    assert body["current"] is True
    assert take["verdict"] == "pass" and take["reasons"] == []
    assert (take["prompt_set"], take["prompt_id"], take["wav_name"]) == ("ja-cv", "ka", "ka.wav")
    assert take["sample_rate_hz"] == TAKE_RATE_HZ
    samples = (len(takes["ka"]) - 44) // 2
    assert abs(take["duration_ms"] - 1000.0 * samples / TAKE_RATE_HZ) < 1.0
    assert take["report"]["snr_db"] > 30.0
    assert take["report"]["clipped_ratio"] == 0.0
    assert 150.0 < take["report"]["f0_median_hz"] < 400.0

    project = studio.client.get(f"/api/projects/{project_id}").json()
    assert (project["recorded"], project["total"]) == (1, 131)
    assert current_take(studio, project_id, "ka") == take
    assert studio.client.get(f"/api/takes/{take['id']}/audio").content == takes["ka"]
    for picture in ("waveform", "spectrogram", "f0"):
        drawn = studio.client.get(f"/api/takes/{take['id']}/{picture}.png")
        assert drawn.headers["content-type"] == "image/png"
        assert drawn.content.startswith(PNG_SIGNATURE)


def test_a_failed_retake_leaves_the_good_take_in_place(
    studio: StudioUnderTest, takes: dict[str, bytes], sung: dict[str, npt.NDArray[np.float32]]
) -> None:
    project_id = new_project(studio)
    first = upload(studio, project_id, "ki", takes["ki"]).json()["take"]

    too_loud = upload(studio, project_id, "ki", wav_bytes(clipped(sung["ki"]), TAKE_RATE_HZ))
    assert too_loud.status_code == 201
    assert too_loud.json()["current"] is False
    assert too_loud.json()["take"]["verdict"] == "fail"
    assert too_loud.json()["take"]["report"]["clipped_ratio"] > 0.001
    assert "clipped" in too_loud.json()["take"]["reasons"][0]
    assert current_take(studio, project_id, "ki")["id"] == first["id"]  # type: ignore[index]

    better = upload(studio, project_id, "ki", wav_bytes(sung["ki"] * 0.9, TAKE_RATE_HZ)).json()
    assert better["current"] is True
    assert current_take(studio, project_id, "ki")["id"] == better["take"]["id"]  # type: ignore[index]
    assert studio.client.get(f"/api/projects/{project_id}").json()["recorded"] == 1


def test_broken_and_silent_wavs_are_refused_with_what_to_do(
    studio: StudioUnderTest, takes: dict[str, bytes]
) -> None:
    project_id = new_project(studio)
    blobs_before = studio.blob_files()

    cut_off = upload(studio, project_id, "sa", takes["sa"][: len(takes["sa"]) // 2])
    assert cut_off.status_code == 422
    assert cut_off.json()["error"].startswith("sa.wav: the file is cut off")
    assert "upload the take again" in cut_off.json()["error"]

    not_audio = upload(studio, project_id, "sa", b"these are not the bytes of a recording" * 10)
    assert not_audio.status_code == 422
    assert "not an audio file" in not_audio.json()["error"]

    silent = upload(studio, project_id, "sa", silent_take())
    assert silent.status_code == 422
    assert "silent" in silent.json()["error"] and "microphone" in silent.json()["error"]

    assert studio.blob_files() == blobs_before
    assert current_take(studio, project_id, "sa") is None


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(studio: StudioUnderTest) -> None:
    project_id = new_project(studio)
    blobs_before = studio.blob_files()
    too_big = b"RIFF" + bytes(UPLOAD_LIMIT_BYTES + 1000)

    declared = upload(studio, project_id, "ta", too_big)
    assert declared.status_code == 413
    assert "limit of 2.0 MB" in declared.json()["error"]

    streamed = studio.client.post(  # no Content-Length: the limit is enforced while the bytes arrive
        f"/api/projects/{project_id}/takes",
        params={"prompt_set": "ja-cv", "prompt_id": "ta"},
        content=iter([too_big[:1_000_000], too_big[1_000_000:]]),
        headers={"Content-Type": "audio/wav"},
    )
    assert streamed.status_code == 413
    assert "limit of 2.0 MB" in streamed.json()["error"]
    assert studio.blob_files() == blobs_before
    assert studio.incoming_files() == []
    assert current_take(studio, project_id, "ta") is None


def test_mistakes_in_a_request_get_a_message(studio: StudioUnderTest, takes: dict[str, bytes]) -> None:
    client = studio.client
    other_language = client.post(
        "/api/projects", json={"name": "x", "language": "en", "prompt_sets": ["ja-cv"]}
    )
    assert other_language.status_code == 422
    assert "ja-cv" in other_language.json()["error"]
    no_name = client.post("/api/projects", json={"name": " ", "language": "ja", "prompt_sets": ["ja-cv"]})
    assert no_name.status_code == 422 and "name" in no_name.json()["error"]
    wrong_type = client.post("/api/projects", json={"name": "x", "language": "fr", "prompt_sets": []})
    assert wrong_type.status_code == 422 and wrong_type.json()["error"].startswith("The request is not valid")

    project_id = new_project(studio)
    blobs_before = studio.blob_files()
    unknown_prompt = upload(studio, project_id, "xyz", takes["ka"])
    assert unknown_prompt.status_code == 404 and "xyz" in unknown_prompt.json()["error"]
    assert studio.blob_files() == blobs_before
    assert client.get("/api/projects/no-such-project").status_code == 404
    assert client.get("/api/takes/no-such-take/audio").json()["error"].startswith("There is no take")
