"""An operator's nightly `voicestudio gc` finds what no row uses any more and says what it freed."""

from pathlib import Path

import pytest

from voicestudio.cli.gc import GRACE_S, gc
from voicestudio.db import upgrade_database
from voicestudio.storage import LocalBlobStore
from voicestudio.studio.gc import DEFAULT_GRACE_S


def test_the_nightly_sweep_deletes_a_file_no_row_uses_and_prints_what_it_freed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VOICESTUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    upgrade_database(f"sqlite:///{tmp_path / 'voicestudio.db'}")
    blobs = LocalBlobStore(tmp_path / "blobs")
    stray = blobs.put_stream([b"a take whose row was never written" * 100], 10_000)
    leftover = tmp_path / "blobs" / ".incoming" / "killed.part"
    leftover.write_bytes(b"half an upload")

    gc(grace_s=3600.0)  # too young yet
    assert blobs.exists(stray.key)
    assert "0 files deleted" in capsys.readouterr().out

    gc(grace_s=0.0)
    assert not blobs.exists(stray.key)
    printed = capsys.readouterr().out
    assert "1 files deleted (3.4 kB freed)" in printed
    assert leftover.exists()  # a temporary may be an upload under way: only hour-old ones go


def test_the_command_spares_what_the_studio_spares() -> None:
    assert GRACE_S == DEFAULT_GRACE_S
