"""A voicebank's identity files: `character.txt` (UTAU), `character.yaml` (OpenUTAU) and `readme.txt`.

Facts from OpenUTAU (OpenUtau.Core/Classic/VoicebankLoader.cs, VoicebankConfig.cs):
- `character.txt` holds `key=value` lines (`name`, `image`, `author`, `web`, ...); OpenUTAU also
  accepts ':' and '：' as separators and `名前` for the name.
- `character.yaml` sits beside it, UTF-8, snake_case keys: `name`, `image`, `author`, `web`,
  `singer_type` ("utau" for a classic bank), `text_file_encoding`, `default_phonemizer`, `portrait`,
  `voice`, `subbanks`, ... Its `name`, `author`, ... override those of `character.txt`.
- `text_file_encoding` (a .NET encoding name: "shift_jis", "utf-8") is the encoding OpenUTAU reads
  `character.txt`, `oto.ini` and `prefix.map` with; without it, Shift-JIS. An oto.ini may still
  declare its own with a `#Charset:` line in its first ten lines.
- `default_phonemizer` is the full .NET class name of the phonemizer a new track gets.
- A zip dropped onto UTAU installs itself when its top holds `install.txt` (`type=voiceset`,
  `folder=` the folder to create in UTAU's voice folder, `contentsdir=` the folder of the zip to copy
  there); OpenUTAU's installer (VoicebankInstaller.cs) skips that file.

Shift-JIS here always means Python's cp932; .NET's "shift_jis" is the same code page (932).
"""

from dataclasses import dataclass, fields
from typing import Final

from voicestudio.domain import Language, PromptSetKind, Voicebank
from voicestudio.oto import OtoEncoding, OtoEncodingError, normalize_encoding
from voicestudio.voicebank.errors import VoicebankError
from voicestudio.voicebank.yaml_text import quote_yaml_string, read_top_level_scalars

ICON_NAME: Final = "icon.bmp"
SINGER_TYPE: Final = "utau"

# Handles CV, VCV and CVVC banks: for a lone kana it looks up "- か", then "か"
# (OpenUtau.Plugin.Builtin/JapanesePresampPhonemizer.cs).
# The older JapaneseVCVPhonemizer and JapaneseCVVCPhonemizer are marked "legacy" in OpenUTAU.
JAPANESE_PHONEMIZER: Final = "OpenUtau.Plugin.Builtin.JapanesePresampPhonemizer"
ARPASING_PHONEMIZER: Final = "OpenUtau.Plugin.Builtin.ArpasingPhonemizer"

_LANGUAGE_NAMES: Final = {Language.ja: "Japanese", Language.en: "English"}


def text_codec(bank: Voicebank) -> OtoEncoding:
    """The Python codec of the bank's text files: "cp932" for any Shift-JIS spelling, or "utf-8"."""
    try:
        return normalize_encoding(bank.text_file_encoding)
    except OtoEncodingError as e:
        raise VoicebankError(e.message) from None


def yaml_encoding_name(codec: OtoEncoding) -> str:
    """The `text_file_encoding` value OpenUTAU understands for a codec: "shift_jis" or "utf-8"."""
    return "shift_jis" if codec == "cp932" else "utf-8"


def default_phonemizer(language: Language, kind: PromptSetKind | None = None) -> str | None:
    """The OpenUTAU phonemizer that suits a bank recorded from a reclist of `kind`; None when none fits."""
    if language is Language.ja:
        return JAPANESE_PHONEMIZER
    if language is Language.en and kind in (None, PromptSetKind.arpasing, PromptSetKind.paragraph):
        return ARPASING_PHONEMIZER
    return None


def format_character_txt(bank: Voicebank) -> bytes:
    """`character.txt` in the bank's text encoding, CRLF lines: name, icon and author."""
    codec = text_codec(bank)
    lines = [f"name={_checked(bank.name, 'name', codec)}", f"image={ICON_NAME}"]
    if bank.author:
        lines.append(f"author={_checked(bank.author, 'author', codec)}")
    return "".join(f"{line}\r\n" for line in lines).encode(codec)


def format_character_yaml(bank: Voicebank, default_phonemizer: str | None) -> str:
    """`character.yaml` for OpenUTAU: identity, `singer_type: utau` and the text encoding, always."""
    codec = text_codec(bank)
    fields = [
        ("name", _checked(bank.name, "name", "utf-8")),
        ("image", ICON_NAME),
        ("author", _checked(bank.author, "author", "utf-8")),
        ("singer_type", SINGER_TYPE),
        ("text_file_encoding", yaml_encoding_name(codec)),
        ("default_phonemizer", default_phonemizer or ""),
    ]
    return "".join(f"{key}: {quote_yaml_string(value)}\n" for key, value in fields if value)


def format_install_txt(bank: Voicebank, folder: str) -> bytes:
    """UTAU's `install.txt`, which lets a zip dropped onto UTAU install the bank folder `folder`."""
    codec = text_codec(bank)
    lines = ["type=voiceset", f"folder={folder}", f"contentsdir={folder}"]
    lines.append(f"description={_checked(bank.name, 'name', codec)}")
    return "".join(f"{line}\r\n" for line in lines).encode(codec)


def format_readme(bank: Voicebank) -> bytes:
    """`readme.txt` in the bank's text encoding, CRLF lines: what the bank is and how it was made."""
    codec = text_codec(bank)
    name = _checked(bank.name, "name", codec)
    wav_count = len({entry.wav_name for entry in bank.entries})
    language = _LANGUAGE_NAMES.get(bank.language, bank.language.value)
    lines = [name, ""]
    if bank.author:
        lines.append(f"Voice and voicebank: {_checked(bank.author, 'author', codec)}")
    lines += [
        f"Language: {language}",
        f"Contents: {len(bank.entries)} oto entries over {wav_count} recordings (44.1 kHz, 16-bit, mono).",
        f"Text files: {yaml_encoding_name(codec)}.",
        "",
        "Install: drop the zip onto UTAU or OpenUTAU, or unpack it into their voice folder.",
        "Recorded and packaged with voicestudio.",
    ]
    return "".join(f"{line}\r\n" for line in lines).encode(codec)


def _checked(text: str, what: str, codec: str) -> str:
    """`text` when it fits on one line of a `codec` file; else a `VoicebankError` that says what to change."""
    if what == "name" and not text.strip():
        raise VoicebankError("The voicebank has no name. Give it a name, then build it again.")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise VoicebankError(
            f"The voicebank {what} {text!r} contains a line break or control character. "
            f"Type the {what} on one line, then build it again."
        )
    try:
        text.encode(codec)
    except UnicodeEncodeError as e:
        chars = e.object[e.start : e.end]
        points = " ".join(f"U+{ord(c):04X}" for c in chars)
        if codec == "cp932":
            advice = f"Change the {what}, or build the voicebank as UTF-8 (read by OpenUTAU)."
        else:
            advice = f"Change the {what}."
        raise VoicebankError(
            f"The voicebank {what} {text!r} contains {chars!r} ({points}), which "
            f"{'Shift-JIS (cp932)' if codec == 'cp932' else codec} cannot store. {advice}"
        ) from None
    return text


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CharacterInfo:
    """What `character.txt` and `character.yaml` say about a bank; empty strings where they say nothing."""

    name: str = ""
    author: str = ""
    image: str = ""
    web: str = ""
    voice: str = ""
    singer_type: str = ""
    text_file_encoding: str = ""
    default_phonemizer: str = ""


def parse_character_txt(text: str) -> CharacterInfo:
    """The fields of a decoded `character.txt`, read as OpenUTAU reads them ('=', ':' or '：')."""
    fields: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        for separator in ("=", ":", "："):
            key, found, value = line.partition(separator)
            if found:
                break
        else:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "名前":
            fields.setdefault("name", value)
        elif key == "created by":
            fields["author"] = value
        elif key.startswith("voice") or key == "cv":
            fields["voice"] = value
        elif key in ("name", "image", "author", "web"):
            fields[key] = value
    return CharacterInfo(**fields)


def parse_character_yaml(text: str) -> CharacterInfo:
    """The top-level fields of a decoded `character.yaml` that the studio uses."""
    scalars = read_top_level_scalars(text)
    known = {field.name for field in fields(CharacterInfo)}
    return CharacterInfo(**{key: value for key, value in scalars.items() if key in known})


def merge_character(txt: CharacterInfo, yaml: CharacterInfo) -> CharacterInfo:
    """`character.yaml` over `character.txt`, field by field, as OpenUTAU applies them."""
    names = [field.name for field in fields(CharacterInfo)]
    return CharacterInfo(**{name: getattr(yaml, name).strip() or getattr(txt, name) for name in names})
