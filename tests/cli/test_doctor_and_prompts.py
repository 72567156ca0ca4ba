"""A new user checks the machine and looks at what there is to record."""

from cli_runner import run_cli

from voicestudio.text.prompts import load_prompt_set


def test_doctor_finds_everything_the_studio_needs() -> None:
    result = run_cli("doctor")
    assert result.exit_code == 0, result.output
    for name in ("espeak-ng", "Japanese G2P", "English G2P", "audio libraries", "hts_engine", "sox"):
        assert name in result.stdout
    assert "missing" not in result.stdout


def test_prompt_sets_are_listed_with_their_sizes() -> None:
    result = run_cli("prompts", "list")
    assert result.exit_code == 0, result.output
    for name in ("ja-cv", "ja-vcv", "ja-cvvc", "en-arpasing", "ja-paragraph", "en-paragraph"):
        assert name in result.stdout
        assert str(len(load_prompt_set(name))) in result.stdout


def test_singer_sees_every_cv_mora_with_its_romaji() -> None:
    result = run_cli("prompts", "show", "ja-cv")
    assert result.exit_code == 0, result.output
    prompt_set = load_prompt_set("ja-cv")
    assert len(prompt_set) >= 100
    for mora, romaji in (("か", "ka"), ("しゃ", "sha"), ("きょ", "kyo"), ("ん", "n"), ("ぴゅ", "pyu")):
        line = next(line for line in result.stdout.splitlines() if f" {mora} " in line)
        assert f" {romaji} " in line


def test_unknown_prompt_set_gets_a_message_with_the_choices_not_a_traceback() -> None:
    result = run_cli("prompts", "show", "ja-nonsense")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "ja-nonsense" in result.output
    assert "ja-cv" in result.output
