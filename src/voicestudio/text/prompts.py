"""The prompt sets the studio ships (a JSON file each in `data/`), and how much of a unit list they cover."""

import json
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from voicestudio.domain.language import Language
from voicestudio.domain.prompts import Prompt, PromptSet, PromptSetKind
from voicestudio.text.errors import PromptSetFileError, UnknownPromptSet
from voicestudio.text.kana import romaji_to_kana, split_morae

_PAUSES = frozenset({"pau", "sil", "sp"})
_SET_FIELDS = ("name", "title", "language", "kind", "description", "prompts")
_PROMPT_FIELDS = ("id", "text", "reading", "phonemes", "wav_name")


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which of the asked-for units a prompt set contains, in the order they were asked for."""

    covered: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def ratio(self) -> float:
        """Covered units over all distinct asked-for units (1.0 when none were asked for)."""
        total = len(self.covered) + len(self.missing)
        return len(self.covered) / total if total else 1.0


@cache
def _data_files() -> dict[str, str]:
    """Prompt set name → JSON text of every `data/<name>.json`."""
    folder = resources.files("voicestudio.text").joinpath("data")
    return {
        entry.name.removesuffix(".json"): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


def prompt_set_names() -> list[str]:
    """Names of the shipped prompt sets, sorted."""
    return sorted(_data_files())


def list_prompt_sets() -> list[PromptSet]:
    """Every shipped prompt set, sorted by name."""
    return [load_prompt_set(name) for name in prompt_set_names()]


@cache
def load_prompt_set(name: str) -> PromptSet:
    """The shipped prompt set called `name` (e.g. "ja-cv"); UnknownPromptSet lists the names there are."""
    files = _data_files()
    if name not in files:
        raise UnknownPromptSet(
            f"There is no prompt set called {name!r}; choose one of: {', '.join(prompt_set_names())}."
        )
    return parse_prompt_set(json.loads(files[name]), f"{name}.json")


def parse_prompt_set(data: Any, source: str) -> PromptSet:
    """A PromptSet from the JSON structure of a prompt set file; `source` names the file in errors."""
    if not isinstance(data, dict):
        raise PromptSetFileError(
            f"{source}: the file must hold one JSON object with {', '.join(_SET_FIELDS)}."
        )
    _require_fields(data, _SET_FIELDS, source)
    try:
        language = Language(data["language"])
        kind = PromptSetKind(data["kind"])
    except ValueError as error:
        raise PromptSetFileError(f"{source}: {error}; use a language and kind the studio knows.") from None
    prompts = tuple(
        _parse_prompt(entry, f"{source} prompt {number}") for number, entry in enumerate(data["prompts"], 1)
    )
    if source.endswith(".json") and data["name"] != source.removesuffix(".json").rsplit("/", 1)[-1]:
        raise PromptSetFileError(
            f"{source}: name {data['name']!r} differs from the file name; make them equal."
        )
    _require_unique([prompt.wav_name for prompt in prompts], "wav_name", source)
    _require_unique([prompt.id for prompt in prompts], "id", source)
    return PromptSet(
        name=str(data["name"]),
        title=str(data["title"]),
        language=language,
        kind=kind,
        prompts=prompts,
        description=str(data["description"]),
    )


def _parse_prompt(entry: Any, where: str) -> Prompt:
    if not isinstance(entry, dict):
        raise PromptSetFileError(f"{where}: a prompt is an object with {', '.join(_PROMPT_FIELDS)}.")
    _require_fields(entry, _PROMPT_FIELDS, where)
    return Prompt(
        id=str(entry["id"]),
        text=str(entry["text"]),
        reading=str(entry["reading"]),
        phonemes=tuple(str(entry["phonemes"]).split()),
        wav_name=str(entry["wav_name"]),
    )


def _require_fields(data: dict[str, Any], fields: Sequence[str], where: str) -> None:
    missing = [field for field in fields if field not in data]
    if missing:
        raise PromptSetFileError(f"{where}: {', '.join(missing)} missing; add them.")


def _require_unique(values: Sequence[str], field: str, source: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PromptSetFileError(
                f"{source}: {field} {value!r} appears twice; every prompt needs its own."
            )
        seen.add(value)


def prompt_units(prompt: Prompt, language: Language) -> list[str]:
    """The units a prompt records: hiragana morae of its romaji reading (ja) or its ARPAbet phonemes (en)."""
    if language is Language.ja:
        kana = romaji_to_kana(prompt.reading)
        return [mora for mora in split_morae(kana) if not (mora.isascii() or _is_punctuation(mora))]
    return [phoneme for phoneme in prompt.phonemes if phoneme not in _PAUSES]


def _is_punctuation(text: str) -> bool:
    return unicodedata.category(text[0]).startswith("P")


def coverage(
    prompt_set: PromptSet,
    units: Sequence[str],
    unit_of: Callable[[Prompt], Iterable[str]] | None = None,
) -> Coverage:
    """How many of `units` the prompts of `prompt_set` contain.

    A prompt's units come from `unit_of`, by default `prompt_units` (Japanese morae, English phonemes).
    """
    extract = unit_of or (lambda prompt: prompt_units(prompt, prompt_set.language))
    found: set[str] = set()
    for prompt in prompt_set.prompts:
        found.update(extract(prompt))
    wanted = list(dict.fromkeys(units))
    return Coverage(
        covered=tuple(unit for unit in wanted if unit in found),
        missing=tuple(unit for unit in wanted if unit not in found),
    )


def prompt_set_to_json(prompt_set: PromptSet) -> str:
    """A prompt set as its data file: one prompt a line, so a person can edit it and read a diff."""
    head = {
        "name": prompt_set.name,
        "title": prompt_set.title,
        "language": str(prompt_set.language),
        "kind": str(prompt_set.kind),
        "description": prompt_set.description,
    }
    lines = [
        f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)},"
        for key, value in head.items()
    ]
    prompts = [
        "    "
        + json.dumps(
            {
                "id": prompt.id,
                "text": prompt.text,
                "reading": prompt.reading,
                "phonemes": " ".join(prompt.phonemes),
                "wav_name": prompt.wav_name,
            },
            ensure_ascii=False,
        )
        for prompt in prompt_set.prompts
    ]
    return "{\n" + "\n".join(lines) + '\n  "prompts": [\n' + ",\n".join(prompts) + "\n  ]\n}\n"
