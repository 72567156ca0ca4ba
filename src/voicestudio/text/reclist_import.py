"""Import a reclist someone already uses: a plain `reclist.txt`, or OREMO's with its `OREMO-comment.txt`.

Files come as UTF-8 (with or without BOM) or, from Windows tools, as Shift-JIS, which here always means
Python's cp932 codec (it maps ～ ① and friends as Windows writes them; `shift_jis` does not).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from voicestudio.domain.language import Language
from voicestudio.domain.prompts import Prompt, PromptSet, PromptSetKind
from voicestudio.files import is_windows_device_name, windows_forbidden_chars
from voicestudio.text.errors import KanaError, ReclistError
from voicestudio.text.kana import kana_to_phonemes, kana_to_romaji, lookup_mora, romaji_to_kana, split_morae

UTF8 = "utf-8"
SHIFT_JIS = "cp932"
_BOM = b"\xef\xbb\xbf"
OREMO_COMMENT_FILE = "OREMO-comment.txt"


@dataclass(frozen=True, slots=True)
class DecodedText:
    """A text file's content and the encoding it was read with ("utf-8", "utf-8-sig" or "cp932")."""

    text: str
    encoding: str


@dataclass(frozen=True, slots=True)
class ReclistLine:
    """One recording name and the line of the file it was found on (1-based)."""

    name: str
    line: int


def decode_text(data: bytes, file_name: str) -> DecodedText:
    """UTF-8 (a BOM is dropped) when the bytes decode as UTF-8, else cp932; else the bad line is named."""
    if data.startswith(_BOM):
        try:
            return DecodedText(data[len(_BOM) :].decode(UTF8), "utf-8-sig")
        except UnicodeDecodeError:
            raise _undecodable(data[len(_BOM) :], file_name, (UTF8,)) from None
    try:
        return DecodedText(data.decode(UTF8), UTF8)
    except UnicodeDecodeError:
        pass
    try:
        return DecodedText(data.decode(SHIFT_JIS), SHIFT_JIS)
    except UnicodeDecodeError:
        raise _undecodable(data, file_name, _likelier_encodings(data)) from None


def _likelier_encodings(data: bytes) -> tuple[str, str]:
    """UTF-8 first when more non-ASCII lines read as UTF-8 than as cp932, so the odd line out is blamed."""
    utf8 = cp932 = 0
    for line in data.split(b"\n"):
        if line.isascii():
            continue
        utf8 += _decodes(line, UTF8)
        cp932 += _decodes(line, SHIFT_JIS)
    return (UTF8, SHIFT_JIS) if utf8 > cp932 else (SHIFT_JIS, UTF8)


def _decodes(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _undecodable(data: bytes, file_name: str, encodings: Sequence[str]) -> ReclistError:
    """The error for the first line that the likelier encoding cannot read (line feeds never occur in
    cp932 or UTF-8 multi-byte characters, so splitting the bytes at them is safe)."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode(encodings[0])
        except UnicodeDecodeError as error:
            bad = line[error.start : error.end]
            return ReclistError(
                f"{file_name} line {number}: the bytes {bad!r} are neither UTF-8 nor Shift-JIS (cp932); "
                "save the file as UTF-8 and import it again."
            )
    return ReclistError(f"{file_name}: the file mixes UTF-8 and Shift-JIS (cp932); save it all as UTF-8.")


def read_reclist_lines(text: str, file_name: str) -> list[ReclistLine]:
    """Recording names, one a line or several separated by spaces; `#` starts a comment.

    A trailing .wav is dropped. Names that cannot be Windows file names, duplicates and a file without
    names are ReclistErrors that give the line.
    """
    names: list[ReclistLine] = []
    first_line: dict[str, int] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        for token in line.split():
            if token.startswith("#"):
                break
            name = token[:-4] if token.lower().endswith(".wav") else token
            _check_file_name(name, f"{file_name} line {number}")
            if name in first_line:
                raise ReclistError(
                    f"{file_name} line {number}: {name!r} is listed twice "
                    f"(first on line {first_line[name]}); remove one of them."
                )
            first_line[name] = number
            names.append(ReclistLine(name, number))
    if not names:
        if not lines:
            raise ReclistError(f"{file_name} line 1: the file is empty; write one recording name a line.")
        raise ReclistError(
            f"{file_name} lines 1–{len(lines)}: only comments and blank lines, no recording names; "
            "write one recording name a line."
        )
    return names


def _check_file_name(name: str, where: str) -> None:
    """A reclist name becomes `<name>.wav` on every system a voicebank travels to, Windows included."""
    bad = windows_forbidden_chars(name)
    if bad:
        shown = " ".join(repr(char)[1:-1] for char in bad)
        raise ReclistError(
            f"{where}: {name!r} has a character that cannot be a file name on Windows ({shown}): rename it."
        )
    if name.endswith("."):
        raise ReclistError(
            f"{where}: {name!r} ends with a dot, which Windows drops from file names: rename it."
        )
    if is_windows_device_name(name):
        raise ReclistError(
            f"{where}: {name!r} is a device name on Windows and cannot be a file name: rename it."
        )


def parse_reclist(
    text: str, file_name: str, set_name: str, comments: dict[str, str] | None = None
) -> PromptSet:
    """A PromptSet from a reclist's text; `comments` (name → text to show) replace the shown text."""
    lines = read_reclist_lines(text, file_name)
    shown = comments or {}
    prompts = tuple(_prompt(line.name, shown.get(line.name, line.name)) for line in lines)
    return PromptSet(
        name=set_name,
        title=set_name,
        language=Language.ja,
        kind=guess_kind([line.name for line in lines]),
        prompts=prompts,
        description=f"Imported from {file_name}: {len(prompts)} recordings.",
    )


def guess_kind(names: Sequence[str]) -> PromptSetKind:
    """vcv when most names start with `_` (a rest before legato strings), cv when every name that reads
    as kana is one mora (extras such as R may sit beside them), else cvvc."""
    if sum(name.startswith("_") for name in names) * 2 > len(names):
        return PromptSetKind.vcv
    readable = [kana for kana in map(_as_kana, names) if kana]
    if readable and all(_is_one_mora(kana) for kana in readable):
        return PromptSetKind.cv
    return PromptSetKind.cvvc


def _is_one_mora(kana: str) -> bool:
    if len(split_morae(kana)) != 1:
        return False
    try:
        lookup_mora(kana)
    except KanaError:
        return False
    return True


def _as_kana(name: str) -> str | None:
    """The name in kana: kana as written, romaji converted; None when it is neither."""
    core = name.replace("_", "").replace("-", "")
    try:
        return romaji_to_kana(core) if core.isascii() else core
    except KanaError:
        return None


def _prompt(name: str, text: str) -> Prompt:
    """One recording: its romaji reading and phonemes when the name is kana (or romaji) of the mora table;
    any other name (R, a note) is its own reading, without phonemes."""
    reading, phonemes = _reading(name)
    return Prompt(id=name, text=text, reading=reading, phonemes=phonemes, wav_name=f"{name}.wav")


def _reading(name: str) -> tuple[str, tuple[str, ...]]:
    kana = _as_kana(name)
    if not kana:
        return name, ()
    try:
        return kana_to_romaji(kana, sep=" "), kana_to_phonemes(kana)
    except KanaError:
        return name, ()


def read_oremo_comments(text: str, file_name: str) -> dict[str, str]:
    """OREMO's `name<TAB>comment` lines (a space works too) as name → comment; a name twice is an error."""
    comments: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, _, comment = line.partition("\t") if "\t" in line else line.strip().partition(" ")
        name = name.strip()
        name = name[:-4] if name.lower().endswith(".wav") else name
        if name in first_line:
            raise ReclistError(
                f"{file_name} line {number}: {name!r} has a second comment "
                f"(first on line {first_line[name]}); keep one of them."
            )
        first_line[name] = number
        comments[name] = comment.strip()
    return {name: comment for name, comment in comments.items() if comment}


def _read_file(path: Path) -> DecodedText:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ReclistError(f"{path.name}: cannot be read ({error.strerror}); check the path.") from None
    return decode_text(data, path.name)


def import_reclist(path: Path, set_name: str | None = None) -> PromptSet:
    """A PromptSet from a plain reclist file (named after its folder unless `set_name` is given)."""
    decoded = _read_file(path)
    prompt_set = parse_reclist(decoded.text, path.name, set_name or _default_name(path))
    return _with_encoding(prompt_set, decoded.encoding)


def import_oremo_reclist(
    reclist_path: Path, comment_path: Path | None = None, set_name: str | None = None
) -> PromptSet:
    """A PromptSet from OREMO's reclist and comments; without `comment_path`, the OREMO-comment.txt beside
    the reclist is used when there is one. A comment becomes the prompt's shown text."""
    decoded = _read_file(reclist_path)
    if comment_path is None and (reclist_path.parent / OREMO_COMMENT_FILE).is_file():
        comment_path = reclist_path.parent / OREMO_COMMENT_FILE
    comments = read_oremo_comments(_read_file(comment_path).text, comment_path.name) if comment_path else {}
    prompt_set = parse_reclist(
        decoded.text, reclist_path.name, set_name or _default_name(reclist_path), comments
    )
    return _with_encoding(prompt_set, decoded.encoding)


def _default_name(path: Path) -> str:
    return path.parent.name or path.stem


def _with_encoding(prompt_set: PromptSet, encoding: str) -> PromptSet:
    """The description also says which encoding the file was read with."""
    return replace(prompt_set, description=f"{prompt_set.description.removesuffix('.')} ({encoding}).")
