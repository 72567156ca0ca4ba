"""PNG pictures of a take (waveform, spectrogram, f0) for the CLI's `check --png` and the web page.

Each picture is drawn on its own `matplotlib.figure.Figure` with the Agg canvas, never through
pyplot, so pictures can be drawn from several threads at once.
"""

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from voicestudio.audio import analysis
from voicestudio.audio.io import AudioClip
from voicestudio.files import write_bytes_atomic

DPI = 100
MIN_WIDTH_PX, MIN_HEIGHT_PX = 400, 150
MARGIN_LEFT_PX, MARGIN_RIGHT_PX, MARGIN_BOTTOM_PX, MARGIN_TOP_PX = 76, 76, 44, 10
COLORBAR_GAP_PX, COLORBAR_WIDTH_PX = 8, 12
TICK_FONT_PT, LABEL_FONT_PT = 8, 9
SPECTROGRAM_WINDOW_MS = 25.0
SPECTROGRAM_RANGE_DB = 80.0  # quieter bins than this below the loudest are drawn black
WAVE_COLOUR = "#1f77b4"
MARKER_COLOUR = "#d62728"
F0_COLOUR = "#2ca02c"
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def waveform_png(
    clip: AudioClip,
    width_px: int = 1200,
    height_px: int = 240,
    markers_ms: Sequence[tuple[str, float]] = (),
) -> bytes:
    """The waveform (min/max per pixel column) against time in s, with labelled vertical markers."""
    fig, ax = _figure(width_px, height_px)
    times_s, lows, highs = _envelope(clip, columns=max(1, width_px))
    ax.fill_between(times_s, lows, highs, color=WAVE_COLOUR, linewidth=0.6, step="mid")
    ax.set_xlim(0.0, max(clip.duration_s, 1e-3))
    ax.set_ylim(-1.0, 1.0)
    ax.set_ylabel("amplitude", fontsize=LABEL_FONT_PT)
    ax.axhline(0.0, color="0.6", linewidth=0.5)
    for label, at_ms in markers_ms:
        ax.axvline(at_ms / 1000.0, color=MARKER_COLOUR, linewidth=1.0)
        ax.annotate(
            label,
            xy=(at_ms / 1000.0, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -2),
            textcoords="offset points",
            va="top",
            fontsize=8,
            color=MARKER_COLOUR,
        )
    return _finish(fig, ax)


def spectrogram_png(
    clip: AudioClip,
    width_px: int = 1200,
    height_px: int = 320,
    max_freq_hz: float | None = None,
) -> bytes:
    """Log-magnitude STFT in dB (0 dB = loudest bin) against time in s and frequency in Hz."""
    fig, ax = _figure(width_px, height_px)
    levels_db, top_hz = _stft_db(clip, columns=max(1, width_px))
    top_hz = min(top_hz, max_freq_hz) if max_freq_hz else top_hz
    image = ax.imshow(
        levels_db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        vmin=-SPECTROGRAM_RANGE_DB,
        vmax=0.0,
        extent=(0.0, max(clip.duration_s, 1e-3), 0.0, clip.sample_rate_hz / 2.0),
        interpolation="nearest",
    )
    ax.set_ylim(0.0, top_hz)
    ax.set_ylabel("frequency (Hz)", fontsize=LABEL_FONT_PT)
    colorbar = fig.colorbar(image, cax=_colorbar_axes(fig, ax))
    colorbar.set_label("dB", fontsize=LABEL_FONT_PT, labelpad=2)
    return _finish(fig, ax)


def f0_png(
    clip: AudioClip,
    width_px: int = 1200,
    height_px: int = 240,
    f0_hz: npt.NDArray[np.float64] | None = None,
) -> bytes:
    """The f0 curve in Hz against time in s, blank where unvoiced, with the median note marked.

    Pass `f0_hz` (from `analysis.f0_track_hz`) when it is already known, to skip computing it again.
    """
    track_hz = analysis.f0_track_hz(clip.samples, clip.sample_rate_hz) if f0_hz is None else f0_hz
    fig, ax = _figure(width_px, height_px)
    times_s = np.arange(len(track_hz)) * analysis.F0_FRAME_PERIOD_MS / 1000.0
    curve_hz = np.where(track_hz > 0, track_hz, np.nan)
    ax.plot(times_s, curve_hz, color=F0_COLOUR, linewidth=1.2)
    voiced = track_hz[track_hz > 0]
    if len(voiced):
        median_hz = float(np.median(voiced))
        ax.axhline(median_hz, color="0.5", linestyle="--", linewidth=0.8)
        ax.annotate(
            f"median {median_hz:.0f} Hz ({note_name(median_hz)})",
            xy=(0.0, median_hz),
            xycoords=("axes fraction", "data"),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=8,
            color="0.3",
        )
        ax.set_ylim(max(0.0, float(voiced.min()) * 0.8), float(voiced.max()) * 1.15)
    else:
        ax.set_ylim(analysis.F0_FLOOR_HZ, analysis.F0_CEIL_HZ)
        ax.text(0.5, 0.5, "no voiced frames", transform=ax.transAxes, ha="center", va="center")
    ax.set_xlim(0.0, max(clip.duration_s, 1e-3))
    ax.set_ylabel("f0 (Hz)", fontsize=LABEL_FONT_PT)
    return _finish(fig, ax)


def draw_take_pictures(clip: AudioClip, out_dir: Path, stem: str) -> list[Path]:
    """Write `{stem}.waveform.png`, `.spectrogram.png` and `.f0.png` into `out_dir`, each atomically."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = {
        "waveform": waveform_png(clip),
        "spectrogram": spectrogram_png(clip),
        "f0": f0_png(clip),
    }
    written = []
    for kind, png in pictures.items():
        path = out_dir / f"{stem}.{kind}.png"
        write_bytes_atomic(path, png)
        written.append(path)
    return written


def note_name(freq_hz: float) -> str:
    """The nearest equal-tempered note (A4 = 440 Hz), e.g. 261.6 Hz → "C4"."""
    midi = round(69 + 12 * np.log2(freq_hz / 440.0))
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def _figure(width_px: int, height_px: int) -> tuple[Figure, Axes]:
    """A figure of exactly `width_px` × `height_px` on its own Agg canvas, with one set of axes.

    The margins are fixed in pixels, so pictures of one width stack with their time axes aligned.
    """
    if width_px < MIN_WIDTH_PX or height_px < MIN_HEIGHT_PX:
        raise ValueError(
            f"a picture needs at least {MIN_WIDTH_PX} × {MIN_HEIGHT_PX} px, got {width_px} × {height_px}"
        )
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes(
        (
            MARGIN_LEFT_PX / width_px,
            MARGIN_BOTTOM_PX / height_px,
            (width_px - MARGIN_LEFT_PX - MARGIN_RIGHT_PX) / width_px,
            (height_px - MARGIN_BOTTOM_PX - MARGIN_TOP_PX) / height_px,
        )
    )
    ax.tick_params(labelsize=TICK_FONT_PT)
    return fig, ax


def _colorbar_axes(fig: Figure, ax: Axes) -> Axes:
    """A narrow strip in the right margin, as tall as the plot, for a colour scale."""
    left, bottom, _width, height = ax.get_position().bounds
    width_px = fig.get_figwidth() * DPI
    strip_left = left + ax.get_position().width + COLORBAR_GAP_PX / width_px
    strip = fig.add_axes((strip_left, bottom, COLORBAR_WIDTH_PX / width_px, height))
    strip.tick_params(labelsize=TICK_FONT_PT)
    return strip


def _finish(fig: Figure, ax: Axes) -> bytes:
    """Label the time axis and render the figure to PNG bytes."""
    ax.set_xlabel("time (s)", fontsize=LABEL_FONT_PT)
    ax.margins(x=0)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _envelope(
    clip: AudioClip, columns: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Column times in s and the lowest and highest sample in each of `columns` equal slices."""
    x = clip.samples
    if len(x) == 0:
        zeros = np.zeros(1, dtype=np.float32)
        return np.zeros(1), zeros, zeros
    columns = min(columns, len(x))
    edges = np.linspace(0, len(x), columns + 1).astype(np.int64)
    lows = np.minimum.reduceat(x, edges[:-1])
    highs = np.maximum.reduceat(x, edges[:-1])
    centres_s = (edges[:-1] + edges[1:]) / 2.0 / clip.sample_rate_hz
    return centres_s, lows, highs


def _stft_db(clip: AudioClip, columns: int) -> tuple[npt.NDArray[np.float64], float]:
    """STFT magnitudes in dB relative to the loudest bin, (freq bins, frames), at most ~2 frames a column."""
    window_len = max(16, round(clip.sample_rate_hz * SPECTROGRAM_WINDOW_MS / 1000.0))
    n_fft = 1 << (window_len - 1).bit_length()
    x = clip.samples.astype(np.float64)
    if len(x) < window_len:
        x = np.pad(x, (0, window_len - len(x)))
    hop = max(window_len // 4, (len(x) - window_len) // (2 * columns) + 1)
    starts = np.arange(0, len(x) - window_len + 1, hop)
    frames = np.lib.stride_tricks.sliding_window_view(x, window_len)[starts] * np.hanning(window_len)
    magnitude = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)).T
    levels_db = 20.0 * np.log10(np.maximum(magnitude, 1e-10))
    return levels_db - levels_db.max(), clip.sample_rate_hz / 2.0
