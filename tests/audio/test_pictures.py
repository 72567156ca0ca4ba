"""A singer sees the take: waveform, spectrogram and pitch as PNGs of the size the page asks for."""

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from voicestudio.audio.io import AudioClip, read_audio
from voicestudio.audio.pictures import draw_take_pictures, f0_png, note_name, spectrogram_png, waveform_png


def decoded(png: bytes) -> Image.Image:
    """The PNG decoded, after checking its signature and checksums."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(png)).verify()
    return Image.open(io.BytesIO(png))


def ink_ratio(image: Image.Image) -> float:
    """Fraction of pixels that are not white: something was drawn."""
    pixels = np.asarray(image.convert("L"))
    return float(np.mean(pixels < 250))


@pytest.mark.parametrize("draw", [waveform_png, spectrogram_png, f0_png])
@pytest.mark.parametrize(("width_px", "height_px"), [(1200, 240), (480, 160)])
def test_each_picture_is_a_png_of_the_asked_size(
    clean_clip: AudioClip, draw: Callable[..., bytes], width_px: int, height_px: int
) -> None:
    image = decoded(draw(clean_clip, width_px=width_px, height_px=height_px))
    assert image.size == (width_px, height_px)
    assert ink_ratio(image) > 0.02


def test_markers_are_drawn_on_the_waveform(clean_clip: AudioClip) -> None:
    plain = np.asarray(decoded(waveform_png(clean_clip)).convert("RGB")).astype(int)
    marked = np.asarray(
        decoded(waveform_png(clean_clip, markers_ms=[("offset", 250.0), ("preutterance", 400.0)])).convert(
            "RGB"
        )
    ).astype(int)
    reddish = (marked[..., 0] > 180) & (marked[..., 1] < 100) & (marked[..., 2] < 100)
    assert marked.shape == plain.shape
    assert int(reddish.sum()) > 2 * 150  # two vertical lines, each most of the plot's height


def test_the_spectrogram_shows_levels_as_shades(clean_clip: AudioClip) -> None:
    image = decoded(spectrogram_png(clean_clip, width_px=800, height_px=300))
    assert image.size == (800, 300)
    assert len(set(np.asarray(image.convert("L")).ravel().tolist())) > 50  # a real range of shades


def test_a_take_without_a_voice_still_gets_a_pitch_picture(silent_take: Path) -> None:
    image = decoded(f0_png(read_audio(silent_take)))
    assert image.size == (1200, 240)


def test_take_pictures_are_written_side_by_side_without_part_files(
    clean_clip: AudioClip, tmp_path: Path
) -> None:
    out_dir = tmp_path / "pictures"

    written = draw_take_pictures(clean_clip, out_dir, "ka")

    assert [p.name for p in written] == ["ka.waveform.png", "ka.spectrogram.png", "ka.f0.png"]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(p.name for p in written)
    for path in written:
        assert decoded(path.read_bytes()).size[0] == 1200


def test_pictures_drawn_on_several_threads_equal_those_drawn_one_by_one(clean_clip: AudioClip) -> None:
    drawings: list[Callable[..., bytes]] = [waveform_png, spectrogram_png, waveform_png, spectrogram_png]
    one_by_one = [draw(clean_clip, 400, 150) for draw in drawings]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda draw: draw(clean_clip, 400, 150), drawings))
    assert together == one_by_one


@pytest.mark.parametrize(("freq_hz", "name"), [(440.0, "A4"), (261.63, "C4"), (82.41, "E2"), (1046.5, "C6")])
def test_notes_are_named_as_a_singer_names_them(freq_hz: float, name: str) -> None:
    assert note_name(freq_hz) == name


def test_a_picture_too_small_to_read_is_refused(clean_clip: AudioClip) -> None:
    with pytest.raises(ValueError, match="at least 400"):
        waveform_png(clean_clip, width_px=40, height_px=20)
