"""A singer's first journey in the browser: create a project, record a CV reclist through the microphone,
read each take's verdict, review and edit the oto, build the voicebank and download it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
import soxr
import yaml
from scipy.signal import correlate

from voicestudio.align.reference import synthesize_japanese
from voicestudio.domain.prompts import Prompt
from voicestudio.oto.ini import parse_oto_ini
from voicestudio.text.prompts import load_prompt_set

pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright: pip install '.[test]'")

from playwright.sync_api import Page, Playwright

from web.browser.driver import CHROMIUM, MicFile, Studio, mic_file, record_prompts, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"install Debian's chromium at {CHROMIUM} (make test does)"
    ),
]

RECLIST = "ja-cv"
RECORDED = 10  # あ い う え お か き く け こ
HELD = "ーー"  # each mora is held, as a singer records a CV reclist (a bare HTS mora has < 150 ms of pitch)
LOSSLESS_CORRELATION = 0.9
DRAG_MS = 10.0  # how far the test drags the preutterance marker
JOB_TIMEOUT_MS = 180_000  # oto and voicebank jobs on 2 shared CPU cores


def _prompts() -> list[Prompt]:
    return list(load_prompt_set(RECLIST).prompts[:RECORDED])


@pytest.fixture(scope="session")
def cv_voice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, MicFile]:
    """The first prompts of ja-cv sung by the reference synthesizer, as the fake microphone plays them."""
    folder = tmp_path_factory.mktemp("cv-voice")
    voice: dict[str, MicFile] = {}
    for prompt in _prompts():
        speech = synthesize_japanese(prompt.text + HELD)
        voice[prompt.id] = mic_file(speech.samples, speech.sample_rate_hz, folder / prompt.wav_name)
    return voice


def _create_project(tab: Page, studio: Studio, name: str) -> str:
    """Create a ja-cv project on the projects page; the id of the row that appears at the top."""
    tab.goto(f"{studio.url}/")
    tab.locator("[data-testid=projects-page]").wait_for()
    before = tab.locator("[data-testid=project-row]").count()
    tab.fill("[data-testid=project-name]", name)
    tab.select_option("[data-testid=project-language]", "ja")
    tab.check(f"[data-testid=prompt-set-{RECLIST}]")
    tab.click("[data-testid=create-submit]")
    tab.locator("[data-testid=project-row]").nth(before).wait_for()
    row = tab.locator("[data-testid=project-row]").first
    assert row.locator("[data-testid=project-row-name]").inner_text() == name
    project_id = row.get_attribute("data-project-id")
    assert project_id
    return project_id


def _correlation_after_alignment(take: npt.NDArray[np.float32], source: npt.NDArray[np.float32]) -> float:
    """Pearson correlation of `take` and `source` once the take is shifted to where they match best."""
    lag = int(np.argmax(correlate(take, source, mode="full", method="fft"))) - (len(source) - 1)
    start_take, start_source = max(lag, 0), max(-lag, 0)
    length = min(len(take) - start_take, len(source) - start_source)
    a = take[start_take : start_take + length]
    b = source[start_source : start_source + length]
    return float(np.corrcoef(a, b)[0, 1])


def _stored_take_correlation(studio: Studio, take_id: str, source: MicFile, rate_hz: int) -> float:
    """How well the take the server stored matches the file the microphone played (1.0: sample for sample)."""
    response = studio.api.get(f"/api/takes/{take_id}/audio")
    assert response.status_code == 200, response.text
    samples, stored_rate_hz = sf.read(io.BytesIO(response.content), dtype="float32")
    assert stored_rate_hz == rate_hz
    expected = source.samples
    if rate_hz != source.sample_rate_hz:
        expected = soxr.resample(expected, source.sample_rate_hz, rate_hz).astype(np.float32)
    return _correlation_after_alignment(samples, expected)


def _marker_times_ms(line: dict[str, Any]) -> dict[str, float]:
    """Where UTAU puts each marker of an oto line, in ms from the file's start."""
    offset, cutoff = line["offset_ms"], line["cutoff_ms"]
    return {
        "offset": offset,
        "consonant": offset + line["consonant_ms"],
        "preutterance": offset + line["preutterance_ms"],
        "overlap": offset + line["overlap_ms"],
        "cutoff": offset - cutoff if cutoff < 0 else line["duration_ms"] - cutoff,
    }


def _oto_line(studio: Studio, project_id: str, line_id: str) -> dict[str, Any]:
    lines = studio.api.get(f"/api/projects/{project_id}/oto").json()["lines"]
    return next(line for line in lines if line["id"] == line_id)


def _drag_marker(tab: Page, marker: str, by_px: float) -> None:
    """Press on a marker of the oto canvas and drag it sideways by `by_px` CSS pixels."""
    canvas = tab.locator("[data-testid=oto-canvas]")
    box = canvas.bounding_box()
    assert box is not None
    x = box["x"] + float(canvas.get_attribute(f"data-{marker}-x") or "nan")
    y = box["y"] + 0.75 * box["height"]
    tab.mouse.move(x, y)
    tab.mouse.down()
    tab.mouse.move(x + by_px / 2, y, steps=3)
    tab.mouse.move(x + by_px, y, steps=3)
    tab.mouse.up()


def _review_oto(tab: Page, studio: Studio, project_id: str, shots: Path) -> dict[str, Any]:
    """Generate the oto on the review page, check what it shows, drag the first line's preutterance and
    save it; the saved line."""
    tab.goto(f"{studio.url}/#/projects/{project_id}/oto")
    tab.click("[data-testid=run-oto]")
    tab.locator("[data-testid=oto-progress][data-state=succeeded]").wait_for(timeout=JOB_TIMEOUT_MS)
    tab.locator("[data-testid=oto-editor][data-ready=true]").wait_for()
    lines = studio.api.get(f"/api/projects/{project_id}/oto").json()["lines"]
    rows = tab.locator("[data-testid=oto-line]")
    assert rows.count() == len(lines) >= RECORDED
    confidences = [float(c) for c in rows.evaluate_all("rows => rows.map(r => r.dataset.confidence)")]
    assert confidences == sorted(confidences)

    # The least confident line is open, its markers drawn where UTAU's coordinates put them.
    line_id = tab.get_attribute("[data-testid=oto-editor]", "data-line-id")
    assert line_id == lines[0]["id"]
    line = lines[0]
    canvas = tab.locator("[data-testid=oto-canvas]")
    view_start_ms = float(canvas.get_attribute("data-view-start-ms") or "nan")
    ms_per_px = float(canvas.get_attribute("data-ms-per-px") or "nan")
    times = _marker_times_ms(line)
    for marker, time_ms in times.items():
        x = float(canvas.get_attribute(f"data-{marker}-x") or "nan")
        assert view_start_ms + x * ms_per_px == pytest.approx(time_ms, abs=0.5), marker
    screenshot(tab, shots, "oto")

    # Drag the preutterance 10 ms towards whichever of overlap and consonant is farther, then save.
    toward_consonant = times["consonant"] - times["preutterance"] >= times["preutterance"] - times["overlap"]
    by_px = (1 if toward_consonant else -1) * max(3, round(DRAG_MS / ms_per_px))
    _drag_marker(tab, "preutterance", by_px)
    tab.click("[data-testid=oto-save]")
    tab.locator(f"[data-testid=oto-line][data-line-id='{line_id}'] [data-testid=edited-badge]").wait_for()
    saved = _oto_line(studio, project_id, line_id)
    assert saved["edited"] is True
    assert saved["preutterance_ms"] - line["preutterance_ms"] == pytest.approx(by_px * ms_per_px, abs=5.0)
    for field in ("offset_ms", "consonant_ms", "cutoff_ms", "overlap_ms"):
        assert saved[field] == pytest.approx(line[field], abs=0.1), field

    # Play plays the region from the offset to the cutoff.
    tab.click("[data-testid=oto-play]")
    start_ms, end_ms = (
        float(t) for t in (tab.get_attribute("[data-testid=oto-play]", "data-region-ms") or "").split("-")
    )
    saved_times = _marker_times_ms(saved)
    assert (start_ms, end_ms) == (
        pytest.approx(saved_times["offset"], abs=0.1),
        pytest.approx(saved_times["cutoff"], abs=0.1),
    )
    return saved


def _build_and_download(tab: Page, studio: Studio, project_id: str, shots: Path, zip_path: Path) -> None:
    """Start the build, wait for the live progress to finish, and download the zip to `zip_path`."""
    tab.goto(f"{studio.url}/#/projects/{project_id}/build")
    tab.click("[data-testid=build-start]")
    link = tab.locator("[data-testid=download-link]")
    link.wait_for(timeout=JOB_TIMEOUT_MS)
    assert tab.get_attribute("[data-testid=build-progress]", "data-state") == "succeeded"
    assert tab.get_attribute("[data-testid=build-progress]", "data-fraction") == "1"
    # The bar heard the job start and finish over the WebSocket, not just the answer to the POST.
    assert int(tab.get_attribute("[data-testid=build-progress]", "data-updates") or 0) >= 2
    screenshot(tab, shots, "build")
    with tab.expect_download() as download:
        link.click()
    download.value.save_as(zip_path)


def test_singer_records_a_cv_reclist_reviews_the_oto_and_downloads_the_voicebank(
    pw: Playwright,
    studio: Studio,
    tab: Page,
    cv_voice: dict[str, MicFile],
    screenshot_dir: Path,
    tmp_path: Path,
) -> None:
    prompts = _prompts()
    total = len(load_prompt_set(RECLIST).prompts)

    # A new project starts at 0 of the whole reclist.
    project_id = _create_project(tab, studio, "Browser CV")
    progress = tab.locator(f"[data-project-id='{project_id}'] [data-testid=project-progress]")
    assert progress.get_attribute("data-recorded") == "0"
    assert progress.get_attribute("data-total") == str(total)
    screenshot(tab, screenshot_dir, "projects")

    # Each prompt is recorded through the microphone and judged at once, on the page.
    shown = record_prompts(
        pw, studio, project_id, RECLIST, [(p.id, cv_voice[p.id]) for p in prompts], shots=screenshot_dir
    )
    for prompt in prompts:
        seen = shown[prompt.id]
        assert seen["prompt_text"] == prompt.text
        assert seen["verdict"] in ("pass", "warn"), (prompt.text, seen)
        assert seen["words"].startswith("This take:")
        assert not seen["kept_previous"] and not seen["not_kept"]

    # The server holds each take sample for sample as the microphone delivered it.
    project = studio.api.get(f"/api/projects/{project_id}").json()
    assert project["recorded"] == RECORDED
    takes = {state["prompt_id"]: state["take"] for state in project["prompts"] if state["take"]}
    assert sorted(takes) == sorted(prompt.id for prompt in prompts)
    for prompt in prompts:
        seen = shown[prompt.id]
        assert takes[prompt.id]["id"] == seen["take_id"]
        correlation = _stored_take_correlation(
            studio, seen["take_id"], cv_voice[prompt.id], seen["sample_rate_hz"]
        )
        assert correlation >= LOSSLESS_CORRELATION, (prompt.text, correlation)
    tab.goto(f"{studio.url}/")
    assert progress.inner_text() == f"{RECORDED} / {total} recorded"

    saved = _review_oto(tab, studio, project_id, screenshot_dir)
    zip_path = tmp_path / "voicebank.zip"
    _build_and_download(tab, studio, project_id, screenshot_dir, zip_path)

    # The zip holds every take, the oto lines (the edited one as saved) and both character files.
    with zipfile.ZipFile(zip_path) as bank:
        by_name = {Path(name).name: name for name in bank.namelist()}
        oto = parse_oto_ini(bank.read(by_name["oto.ini"]))
        character_txt = bank.read(by_name["character.txt"]).decode("cp932")
        character = yaml.safe_load(bank.read(by_name["character.yaml"]).decode("utf-8"))
    lines = studio.api.get(f"/api/projects/{project_id}/oto").json()["lines"]
    assert not oto.skipped and not oto.duplicates
    assert len(oto.entries) == len(lines)
    assert {prompt.wav_name for prompt in prompts} <= set(by_name)
    edited = next(e for e in oto.entries if (e.wav_name, e.alias) == (saved["wav_name"], saved["alias"]))
    assert edited.preutterance_ms == pytest.approx(saved["preutterance_ms"], abs=1.0)
    assert edited.offset_ms == pytest.approx(saved["offset_ms"], abs=1.0)
    assert "name=Browser CV" in character_txt.splitlines()
    assert (character["name"], character["singer_type"]) == ("Browser CV", "utau")
    assert character["text_file_encoding"] == "shift_jis"


def test_a_clipped_retake_fails_and_the_previous_take_is_kept(
    pw: Playwright, studio: Studio, tab: Page, cv_voice: dict[str, MicFile], tmp_path: Path
) -> None:
    prompt = _prompts()[0]
    project_id = _create_project(tab, studio, "Browser clip")
    clean = cv_voice[prompt.id]
    first = record_prompts(pw, studio, project_id, RECLIST, [(prompt.id, clean)])[prompt.id]
    assert first["verdict"] in ("pass", "warn")

    # The same voice 20 times louder: its vowel sits flat on full scale.
    loud = np.clip(20.0 * clean.samples, -1.0, 1.0)
    clipped = mic_file(loud, clean.sample_rate_hz, tmp_path / "clipped.wav")
    assert np.mean(np.abs(clipped.samples) >= 0.999) > 0.01
    retake = record_prompts(pw, studio, project_id, RECLIST, [(prompt.id, clipped)])[prompt.id]

    assert retake["clip_light_seen"]
    assert retake["verdict"] == "fail"
    assert any("clipped" in reason for reason in retake["reasons"]), retake["reasons"]
    assert retake["kept_previous"]
    states = studio.api.get(f"/api/projects/{project_id}").json()["prompts"]
    current = next(state for state in states if state["prompt_id"] == prompt.id)
    assert current["take"]["id"] == first["take_id"]


@pytest.fixture(scope="module")
def one_take_project(studio: Studio, cv_voice: dict[str, MicFile]) -> str:
    """A ja-cv project whose first prompt (あ) has a take, uploaded straight through the API."""
    created = studio.api.post(
        "/api/projects", json={"name": "Keys", "language": "ja", "prompt_sets": [RECLIST]}
    )
    assert created.status_code == 201, created.text
    project_id = str(created.json()["id"])
    first = _prompts()[0]
    uploaded = studio.api.post(
        f"/api/projects/{project_id}/takes",
        params={"prompt_set": RECLIST, "prompt_id": first.id},
        content=cv_voice[first.id].wav_bytes(),
        headers={"Content-Type": "audio/wav"},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["current"] is True, uploaded.json()
    return project_id


def _prompt_on_screen(tab: Page) -> str:
    return tab.get_attribute("[data-testid=recorder-page]", "data-prompt-id") or ""


def test_the_recorder_resumes_at_the_first_missing_prompt_and_moves_by_keys(
    tab: Page, studio: Studio, one_take_project: str
) -> None:
    ids = [prompt.id for prompt in _prompts()]
    tab.goto(f"{studio.url}/#/projects/{one_take_project}/record")
    tab.locator(f"[data-testid=recorder-page][data-prompt-id='{ids[1]}']").wait_for()
    assert tab.get_attribute("[data-testid=recorder-progress]", "data-recorded") == "1"
    keys_on_screen = tab.inner_text("[data-testid=shortcuts]")
    for key in ("R", "S", "T", "N / →", "P / ←"):
        assert key in keys_on_screen

    steps = [
        ("p", ids[0]),
        ("ArrowRight", ids[1]),
        ("n", ids[2]),
        ("ArrowLeft", ids[1]),
        ("ArrowLeft", ids[0]),
    ]
    for key, expected in steps:
        tab.keyboard.press(key)
        tab.locator(f"[data-testid=recorder-page][data-prompt-id='{expected}']").wait_for()
    # あ has a take: its verdict is shown as the current one.
    assert tab.inner_text("[data-testid=verdict-words]").startswith("Current take:")
    assert tab.get_attribute("[data-testid=verdict]", "data-verdict") in ("pass", "warn")

    tab.click("[data-testid=example-play]")
    tab.locator("[data-testid=example-play]:is([data-state=playing], [data-state=done])").wait_for()
    assert tab.locator("[data-testid=error-banner]").is_hidden()


def test_refused_edits_and_missing_projects_are_explained_in_words(
    tab: Page, studio: Studio, one_take_project: str
) -> None:
    tab.goto(f"{studio.url}/#/projects/{one_take_project}/oto")
    tab.click("[data-testid=run-oto]")
    tab.locator("[data-testid=oto-progress][data-state=succeeded]").wait_for(timeout=JOB_TIMEOUT_MS)
    tab.locator("[data-testid=oto-editor][data-ready=true]").wait_for()
    line_id = tab.get_attribute("[data-testid=oto-editor]", "data-line-id") or ""
    line = _oto_line(studio, one_take_project, line_id)

    # An overlap after the preutterance breaks UTAU's order: the server's reason is shown, nothing is saved.
    tab.fill("[data-testid=oto-field-overlap]", str(line["preutterance_ms"] + 50))
    tab.click("[data-testid=oto-save]")
    banner = tab.locator("[data-testid=error-banner]")
    banner.wait_for()
    assert "overlap" in banner.inner_text() and "preutterance" in banner.inner_text()
    assert tab.inner_text("[data-testid=oto-status]").startswith("Not saved")
    assert _oto_line(studio, one_take_project, line_id) == line

    tab.goto(f"{studio.url}/#/projects/no-such-project/record")
    banner.wait_for()
    assert "no-such-project" in banner.inner_text() or "project" in banner.inner_text().lower()
