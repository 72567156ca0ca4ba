"""bench/oto.py's truth and scoring on three eSpeak CV takes: the ideal oto scores as perfect."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from voicestudio.text import espeak
from voicestudio.text.prompts import load_prompt_set

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="session")
def bench_oto() -> ModuleType:
    if not espeak.is_available():
        pytest.skip("eSpeak NG is not installed")
    sys.path.insert(0, str(BENCH))  # for bench/machine.py
    spec = importlib.util.spec_from_file_location("bench_oto", BENCH / "oto.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_oto"] = module
    spec.loader.exec_module(module)
    return module


def test_benchmark_scores_the_ideal_oto_of_ka_kya_and_a_as_exact(bench_oto: ModuleType) -> None:
    prompts = [p for p in load_prompt_set("ja-cv").prompts if p.wav_name in ("a.wav", "ka.wav", "kya.wav")]
    condition = bench_oto.espeak_voice(prompts)
    assert condition.skipped == 0
    kya = next(take for take in condition.takes if take.wav_name == "kya.wav")
    assert [s.phone for s in kya.truth.segments] == ["sil", "ky", "a", "sil"]
    assert kya.truth.segments[1].start_ms == pytest.approx(500.0 + 49.0, abs=1.0)  # pad + eSpeak's silence

    ideal = [entry for take in condition.takes for entry in bench_oto.ideal_entries(take)[1]]
    errors = bench_oto.score(condition.takes, ideal)
    assert errors.missing == 0
    assert len(errors.offset_ms) == 3
    assert float(np.max(errors.offset_ms)) == 0.0
    assert float(np.max(errors.overlap_ms)) == 0.0
    # ka and kya: preutterance sits on the true vowel; a bare vowel's on where its sound starts.
    assert float(np.max(errors.vowel_onset_ms)) < 20.0
