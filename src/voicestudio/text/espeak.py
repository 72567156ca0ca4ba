"""eSpeak NG through its C library: IPA for text, and speech that knows when each of its phones starts.

The library keeps one global state (voice, callback) and is not re-entrant, so every call into it
holds one lock. It is loaded and initialised once, on first use.
"""

import ctypes
import ctypes.util
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.errors import VoicestudioError

SILENCE = "sil"  # before the first and after the last phone
PAUSE = "pau"  # a pause between clauses
_GAPS = (SILENCE, PAUSE)

_LIBRARY_FALLBACK = "libespeak-ng.so.1"
_INSTALL_HINT = "install espeak-ng (apt-get install espeak-ng)"

# speak_lib.h: espeak_AUDIO_OUTPUT, espeak_Initialize options, espeak_EVENT_TYPE, text and phoneme flags.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_INITIALIZE_DONT_EXIT = 0x8000  # report a missing espeak-ng-data instead of exiting the process
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
_PHONEME_INPUT = 0x100  # espeakPHONEMES: [[...]] in the text holds phoneme mnemonics
_EE_OK = 0


class EspeakUnavailable(VoicestudioError):
    """eSpeak NG (the library or the asked-for voice) is not installed on this machine."""


class _EventId(ctypes.Union):
    _fields_ = (
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),  # phoneme name, UTF-8, NUL-terminated unless it fills all 8 bytes
    )


class _Event(ctypes.Structure):
    """espeak_EVENT; on x86-64 it is 40 bytes, `user_data` at 24 and `id` at 32."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms from the start of the message
        ("sample", ctypes.c_int),  # samples from the start of the message
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    )


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: arrays do not compare to a single bool
class EspeakSpeech:
    """Speech eSpeak NG synthesized and the start of every phone it spoke (IPA names, ms)."""

    samples: npt.NDArray[np.float32]
    sample_rate_hz: int
    phones: tuple[tuple[str, float], ...]  # (phone, start_ms); "sil" at the ends, "pau" between clauses

    @property
    def duration_ms(self) -> float:
        return 1000.0 * len(self.samples) / self.sample_rate_hz

    @property
    def alignment(self) -> Alignment:
        """Each phone ends where the next starts; the last one ends with the speech."""
        ends = [start_ms for _, start_ms in self.phones[1:]] + [self.duration_ms]
        return Alignment(
            tuple(
                PhoneSegment(phone, start_ms, end_ms)
                for (phone, start_ms), end_ms in zip(self.phones, ends, strict=True)
            )
        )


@dataclass(slots=True)
class _Collector:
    """Samples and phone events of one message, filled by the synth callback."""

    chunks: list[npt.NDArray[np.int16]] = field(default_factory=list)
    phone_samples: list[tuple[str, int]] = field(default_factory=list)  # (IPA name, sample)
    error: BaseException | None = None


class _Engine:
    """The loaded, initialised library with the argument types of the functions we call."""

    def __init__(self, library: ctypes.CDLL) -> None:
        self.library = library
        self._declare(library)
        self.sample_rate_hz = int(
            library.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                None,
                _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT,
            )
        )
        if self.sample_rate_hz <= 0:
            raise EspeakUnavailable(f"eSpeak NG could not find its data (espeak-ng-data); {_INSTALL_HINT}.")
        self.collector = _Collector()
        self._callback = _SynthCallback(self._on_synth)  # kept here so it outlives every call
        library.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    @staticmethod
    def _declare(library: ctypes.CDLL) -> None:
        library.espeak_Initialize.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int)
        library.espeak_Initialize.restype = ctypes.c_int
        library.espeak_SetSynthCallback.argtypes = (_SynthCallback,)
        library.espeak_SetSynthCallback.restype = None
        library.espeak_SetVoiceByName.argtypes = (ctypes.c_char_p,)
        library.espeak_SetVoiceByName.restype = ctypes.c_int
        library.espeak_Synth.argtypes = (
            ctypes.c_void_p,  # text
            ctypes.c_size_t,  # size
            ctypes.c_uint,  # position
            ctypes.c_int,  # position_type
            ctypes.c_uint,  # end_position
            ctypes.c_uint,  # flags
            ctypes.POINTER(ctypes.c_uint),  # unique_identifier
            ctypes.c_void_p,  # user_data
        )
        library.espeak_Synth.restype = ctypes.c_int
        library.espeak_Synchronize.argtypes = ()
        library.espeak_Synchronize.restype = ctypes.c_int
        library.espeak_TextToPhonemes.argtypes = (ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int)
        library.espeak_TextToPhonemes.restype = ctypes.c_char_p
        library.espeak_Info.argtypes = (ctypes.c_void_p,)
        library.espeak_Info.restype = ctypes.c_char_p

    def _on_synth(self, wav: Any, sample_count: int, events: Any) -> int:
        """Called by espeak_Synth with the next block of audio and the events that fall in it."""
        collector = self.collector
        try:
            if sample_count > 0 and wav:
                collector.chunks.append(np.ctypeslib.as_array(wav, shape=(sample_count,)).copy())
            index = 0
            while events[index].type != _EVENT_LIST_TERMINATED:
                event = events[index]
                if event.type == _EVENT_PHONEME:
                    name = bytes(event.id.string).decode("utf-8", errors="replace")
                    collector.phone_samples.append((name, int(event.sample)))
                index += 1
        except BaseException as error:  # an exception must not cross the C frame; re-raised after the call
            collector.error = error
            return 1  # abort the message
        return 0

    def select_voice(self, voice: str) -> None:
        if voice == self._voice:
            return
        if self.library.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise EspeakUnavailable(f"eSpeak NG has no voice {voice!r}; list them with `espeak-ng --voices`.")
        self._voice = voice

    def synthesize(self, text: str, flags: int = _CHARS_UTF8) -> _Collector:
        encoded = text.encode() + b"\0"
        self.collector = collector = _Collector()
        status = self.library.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0, flags, None, None)
        self.library.espeak_Synchronize()
        if collector.error is not None:
            raise collector.error
        if status != _EE_OK:
            raise RuntimeError(f"espeak_Synth failed with status {status}")
        return collector

    def text_to_phonemes(self, text: str, phoneme_mode: int) -> list[str]:
        buffer = ctypes.create_string_buffer(text.encode())
        cursor = ctypes.c_void_p(ctypes.addressof(buffer))
        clauses: list[str] = []
        while cursor.value:
            phonemes = self.library.espeak_TextToPhonemes(ctypes.byref(cursor), _CHARS_UTF8, phoneme_mode)
            clauses.append((phonemes or b"").decode("utf-8", errors="replace"))
        return clauses


_lock = threading.Lock()
_engine_instance: _Engine | None = None


def _load_library() -> ctypes.CDLL:
    name = ctypes.util.find_library("espeak-ng") or _LIBRARY_FALLBACK
    try:
        return ctypes.CDLL(name)
    except OSError as error:
        raise EspeakUnavailable(f"The eSpeak NG library ({name}) is missing; {_INSTALL_HINT}.") from error


def _engine() -> _Engine:
    """The initialised library; the caller holds `_lock`."""
    global _engine_instance
    if _engine_instance is None:
        _engine_instance = _Engine(_load_library())
    return _engine_instance


def is_available() -> bool:
    """Whether the library loads and finds its data."""
    try:
        with _lock:
            _engine()
    except EspeakUnavailable:
        return False
    return True


def version() -> str:
    """The library's version, e.g. "1.51"."""
    with _lock:
        info = _engine().library.espeak_Info(None)
    return (info or b"").decode()


def text_to_ipa(text: str, voice: str = "en-us") -> list[str]:
    """IPA of `text` as `voice` reads it, one string per clause (with stress marks, words split by spaces)."""
    if not text.strip():
        return []
    with _lock:
        engine = _engine()
        engine.select_voice(voice)
        return engine.text_to_phonemes(text, _PHONEMES_IPA)


def synthesize_with_phones(text: str, voice: str = "en-us", *, phoneme_input: bool = False) -> EspeakSpeech:
    """Speak `text` and return the audio with the true start of every phone (from espeak's phoneme events).

    With `phoneme_input`, eSpeak phoneme mnemonics inside `[[...]]` are spoken as written ("[[h@l'oU]]")."""
    if not text.strip():
        raise ValueError("there is no text to speak")
    with _lock:
        engine = _engine()
        engine.select_voice(voice)
        collector = engine.synthesize(text, _CHARS_UTF8 | (_PHONEME_INPUT if phoneme_input else 0))
        sample_rate_hz = engine.sample_rate_hz
    pcm = np.concatenate(collector.chunks) if collector.chunks else np.zeros(0, dtype=np.int16)
    samples = (pcm.astype(np.float32) / 32768.0).astype(np.float32)
    phones = _phone_starts(collector.phone_samples, pcm, sample_rate_hz)
    return EspeakSpeech(samples=samples, sample_rate_hz=sample_rate_hz, phones=phones)


@dataclass(slots=True)
class _Span:
    """A phone being laid out, [start_sample, end_sample)."""

    phone: str
    start_sample: int
    end_sample: int

    @property
    def is_gap(self) -> bool:
        return self.phone in _GAPS


def _phone_starts(
    phone_samples: list[tuple[str, int]], pcm: npt.NDArray[np.int16], sample_rate_hz: int
) -> tuple[tuple[str, float], ...]:
    """Phone events as (phone, start_ms): unnamed events are pauses, adjacent pauses merge, the silence at
    either end is "sil", and every phone keeps some time (see `_share_time_with_silent_phones`)."""
    sample_count = len(pcm)
    spans = [_Span(SILENCE, 0, 0)]
    for name, event_sample in phone_samples:
        sample = min(max(event_sample, spans[-1].start_sample), sample_count)
        phone = name.strip() or PAUSE
        if phone == PAUSE and spans[-1].is_gap:
            continue  # the gap goes on
        if sample == spans[-1].start_sample and spans[-1].is_gap:
            spans.pop()  # a gap that lasted no time
        spans.append(_Span(phone, sample, sample))
    for span, following in itertools.pairwise(spans):
        span.end_sample = following.start_sample
    spans[-1].end_sample = sample_count
    _start_gaps_where_the_sound_stops(spans, pcm)
    spans = [span for span in spans if not span.is_gap or span.end_sample > span.start_sample]
    _share_time_with_silent_phones(spans)
    for span in (spans[0], spans[-1]) if spans else ():
        if span.is_gap:
            span.phone = SILENCE
    return tuple((span.phone, 1000.0 * span.start_sample / sample_rate_hz) for span in spans)


def _start_gaps_where_the_sound_stops(spans: list[_Span], pcm: npt.NDArray[np.int16]) -> None:
    """Move each pause's start back over the digital silence that ends the phone before it.

    eSpeak writes silence as exact zeros but may report a pause up to ~40 ms after the sound stops
    ("Hello, world.": 12 ms; a final /l/ rendered inside its vowel can be nothing but zeros)."""
    for previous, span in itertools.pairwise(spans):
        if span.is_gap and not previous.is_gap:
            sounding = np.flatnonzero(pcm[previous.start_sample : previous.end_sample])
            last_sound = int(sounding[-1]) + 1 if sounding.size else 0
            previous.end_sample = span.start_sample = previous.start_sample + last_sound


def _share_time_with_silent_phones(spans: list[_Span]) -> None:
    """Give phones that sound for no time an equal share of the phone before them.

    eSpeak renders some phones inside a neighbour (a final /l/ inside the vowel's glide: "Bill." has
    events `ɪ` at 59 ms and `l` at 347 ms, where the sound stops). The phone string stays complete and
    the neighbour's time is split evenly: the one boundary here that eSpeak does not state."""
    index = 0
    while index < len(spans):
        run_end = index
        while (
            run_end < len(spans)
            and not spans[run_end].is_gap
            and spans[run_end].end_sample == spans[run_end].start_sample
        ):
            run_end += 1
        if run_end == index:
            index += 1
            continue
        if index > 0 and not spans[index - 1].is_gap:
            group = spans[index - 1 : run_end]  # the phone before donates
        elif run_end < len(spans):
            group = spans[index : run_end + 1]  # at the start, or after a pause: the span after donates
        else:
            break
        start, end = group[0].start_sample, group[-1].end_sample
        for position, span in enumerate(group):
            span.start_sample = start + (end - start) * position // len(group)
            span.end_sample = start + (end - start) * (position + 1) // len(group)
        index = run_end + 1
