"""A singer brings the reclist they already use, in whatever encoding their tools wrote it."""

from pathlib import Path

import pytest

from voicestudio.domain import PromptSetKind
from voicestudio.text.errors import ReclistError
from voicestudio.text.reclist_import import decode_text, import_oremo_reclist, import_reclist


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_a_utf8_cv_reclist_with_comments_becomes_a_cv_prompt_set(tmp_path: Path) -> None:
    path = write(tmp_path / "my-cv" / "reclist.txt", "# CV list\nあ\nか き\r\nきゃ  ん # last row\n\n息\n")
    prompt_set = import_reclist(path)
    assert (prompt_set.name, prompt_set.kind, len(prompt_set)) == ("my-cv", PromptSetKind.cv, 6)
    assert [(p.text, p.reading, p.wav_name) for p in prompt_set.prompts] == [
        ("あ", "a", "あ.wav"),
        ("か", "ka", "か.wav"),
        ("き", "ki", "き.wav"),
        ("きゃ", "kya", "きゃ.wav"),
        ("ん", "n", "ん.wav"),
        ("息", "breath", "息.wav"),
    ]
    assert prompt_set.prompts[3].phonemes == ("ky", "a")
    assert "(utf-8)" in prompt_set.description


def test_a_utf8_vcv_reclist_with_a_bom_keeps_its_first_name_clean(tmp_path: Path) -> None:
    path = write(tmp_path / "reclist.txt", "_あかあきあくあけあこ\n_いかいきいくいけいこ\n", "utf-8-sig")
    prompt_set = import_reclist(path, "vcv")
    assert prompt_set.kind is PromptSetKind.vcv
    assert prompt_set.prompts[0].id == "_あかあきあくあけあこ"
    assert prompt_set.prompts[0].reading == "a ka a ki a ku a ke a ko"
    assert len(prompt_set.prompts[1].phonemes) == 15
    assert "(utf-8-sig)" in prompt_set.description


def test_a_windows_shift_jis_reclist_is_read_as_cp932(tmp_path: Path) -> None:
    # ～ (U+FF5E) and ① exist in cp932 only; shift_jis would read 0x8160 as 〜 (U+301C) and fail on ①
    text = "かきくけこ\nさ～しすせそ\n①たちつてと\n"
    data = text.encode("cp932")
    assert data.decode("shift_jis", errors="replace") != text
    path = write(tmp_path / "reclist.txt", text, "cp932")
    prompt_set = import_reclist(path)
    assert [prompt.id for prompt in prompt_set.prompts] == ["かきくけこ", "さ\uff5eしすせそ", "①たちつてと"]
    assert prompt_set.kind is PromptSetKind.cvvc
    assert "(cp932)" in prompt_set.description
    assert decode_text(data, "reclist.txt").encoding == "cp932"


def test_oremo_comments_become_the_text_the_singer_sees(tmp_path: Path) -> None:
    folder = tmp_path / "oremo"
    reclist = write(
        folder / "reclist.txt",
        "_あかあきあくあけあこ\n_いかいきいくいけいこ\n_うかうきうくうけうこ\n",
        "cp932",
    )
    write(
        folder / "OREMO-comment.txt",
        "_あかあきあくあけあこ\tあ か あ き …\n_うかうきうくうけうこ\tう か ～\n",
        "cp932",
    )
    prompt_set = import_oremo_reclist(reclist)
    assert [prompt.text for prompt in prompt_set.prompts] == [
        "あ か あ き …",
        "_いかいきいくいけいこ",
        "う か ～",
    ]
    assert [prompt.wav_name for prompt in prompt_set.prompts][2] == "_うかうきうくうけうこ.wav"
    assert prompt_set.kind is PromptSetKind.vcv
    without = import_oremo_reclist(reclist, comment_path=write(tmp_path / "empty.txt", "\n"))
    assert without.prompts[0].text == "_あかあきあくあけあこ"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "か\nき\nか?あ\n",
            r"reclist\.txt line 3: 'か\?あ' has a character that cannot be a file name on Windows"
            r" \(\?\): rename it",
        ),
        ("か\nき\nく\nけ\nき\n", r"reclist\.txt line 5: 'き' is listed twice \(first on line 2\)"),
        ("", r"reclist\.txt line 1: the file is empty"),
        ("# nothing yet\n\n", r"reclist\.txt lines 1–2: only comments and blank lines"),
        ("か\nCON\n", r"reclist\.txt line 2: 'CON' is a device name on Windows"),
        ("か\nき.\n", r"reclist\.txt line 2: 'き\.' ends with a dot"),
        ("か\nあ/い\n", r"reclist\.txt line 2: 'あ/い' .* \(/\)"),
    ],
    ids=[
        "forbidden-character",
        "duplicate",
        "empty",
        "only-comments",
        "device-name",
        "trailing-dot",
        "slash",
    ],
)
def test_a_broken_reclist_names_the_line_and_the_fix(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path / "reclist.txt", content)
    with pytest.raises(ReclistError, match=message):
        import_reclist(path)


def test_bytes_that_are_neither_utf8_nor_cp932_name_their_line(tmp_path: Path) -> None:
    shift_jis_file = tmp_path / "sjis" / "reclist.txt"
    shift_jis_file.parent.mkdir()
    shift_jis_file.write_bytes("か\nき\n".encode("cp932") + b"\x82\xa0\x85\x40\n")  # 0x85 leads nothing
    with pytest.raises(ReclistError, match=r"reclist\.txt line 3: the bytes b'\\x85' are neither UTF-8 nor"):
        import_reclist(shift_jis_file)
    utf8_file = tmp_path / "utf8" / "reclist.txt"
    utf8_file.parent.mkdir()
    utf8_file.write_bytes("か\nき\nく\n".encode() + b"\xe3\x81\n")
    with pytest.raises(ReclistError, match=r"reclist\.txt line 4: .*save the file as UTF-8"):
        import_reclist(utf8_file)


def test_a_comment_given_twice_names_both_lines(tmp_path: Path) -> None:
    reclist = write(tmp_path / "reclist.txt", "か\nき\n")
    comments = write(tmp_path / "OREMO-comment.txt", "か\tka\nき\tki\nか\tkaa\n")
    with pytest.raises(
        ReclistError, match=r"OREMO-comment\.txt line 3: 'か' has a second comment \(first on line 1\)"
    ):
        import_oremo_reclist(reclist, comments)


def test_a_missing_file_is_an_error_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(ReclistError, match=r"reclist\.txt: cannot be read"):
        import_reclist(tmp_path / "reclist.txt")
