"""Checks that the machine has what the studio needs, each with the fix when it does not."""

import shutil
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    """One requirement: whether it holds, what was found, and how to fix it when it does not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _espeak() -> Check:
    from voicestudio.text import espeak

    if not espeak.is_available():
        return Check("espeak-ng", False, "library not found", "apt-get install espeak-ng libespeak-ng1")
    return Check("espeak-ng", True, f"libespeak-ng {espeak.version()}")


def _japanese_g2p() -> Check:
    from voicestudio.text.g2p import japanese_g2p

    phones = " ".join(japanese_g2p("こんにちは").phonemes)
    return Check("Japanese G2P", True, f"pyopenjtalk: こんにちは → {phones}")


def _english_g2p() -> Check:
    from voicestudio.text.g2p import english_g2p

    phones = " ".join(english_g2p("hello world").phonemes)
    return Check("English G2P", True, f"cmudict/espeak-ng: hello world → {phones}")


def _audio_libraries() -> Check:
    import pyworld
    import soundfile
    import soxr

    versions = (
        f"libsndfile {soundfile.__libsndfile_version__}",
        f"soxr {soxr.__version__}",
        f"pyworld {pyworld.__version__}",
    )
    return Check("audio libraries", True, ", ".join(versions))


def _program(name: str, package: str) -> Callable[[], Check]:
    def check() -> Check:
        path = shutil.which(name)
        if path is None:
            return Check(name, False, "not on PATH", f"apt-get install {package}")
        return Check(name, True, path)

    return check


CHECKS: tuple[Callable[[], Check], ...] = (
    _espeak,
    _japanese_g2p,
    _english_g2p,
    _audio_libraries,
    _program("hts_engine", "htsengine"),
    _program("sox", "sox"),
)


def run_checks() -> list[Check]:
    """Run every check; one that raises becomes a failed check with the error's text."""
    results: list[Check] = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as error:  # a broken library must show up in the table, not stop the doctor
            name = check.__name__.strip("_").replace("_", " ")
            detail = f"{type(error).__name__}: {error}"
            results.append(Check(name, False, detail, "reinstall with `make install`"))
    return results
