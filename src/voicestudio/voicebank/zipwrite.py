"""Adding files to a zip with their names stored in a chosen encoding (see `zipnames` for which)."""

import shutil
import stat
import time
import zipfile
from pathlib import Path
from typing import Final

from voicestudio.voicebank.zipnames import UTF8_NAME_FLAG, NameEncoding, encode_entry_name

_FILE_MODE: Final = stat.S_IFREG | 0o644
_FOLDER_MODE: Final = stat.S_IFDIR | 0o755
_MSDOS_DIRECTORY: Final = 0x10
_ZIP64_FROM_BYTES: Final = 0x7FFF_0000
_COPY_CHUNK_BYTES: Final = 1 << 20


class _EncodedNameInfo(zipfile.ZipInfo):
    """A ZipInfo whose name goes into both headers as the given bytes, with bit 11 set only for UTF-8.

    Python's zipfile asks each ZipInfo for its name bytes and flags when it writes the local and the
    central header; left alone it would store every non-ASCII name as flagged UTF-8.
    """

    __slots__ = ("_name_flag", "_stored_name")

    def __init__(self, name: str, encoding: NameEncoding) -> None:
        super().__init__(name, time.localtime()[:6])
        self._stored_name, self._name_flag = encode_entry_name(name, encoding)

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # the name zipfile calls
        return self._stored_name, (self.flag_bits & ~UTF8_NAME_FLAG) | self._name_flag


class EncodedNameZip:
    """Writes folders, bytes and files into an open zip, every name in one encoding, content deflated."""

    def __init__(self, archive: zipfile.ZipFile, encoding: NameEncoding) -> None:
        self._archive = archive
        self._encoding = encoding

    def add_folder(self, name: str) -> None:
        """An explicit folder entry (`name/`), as zip tools write for each folder."""
        info = _EncodedNameInfo(name.rstrip("/") + "/", self._encoding)
        info.external_attr = (_FOLDER_MODE << 16) | _MSDOS_DIRECTORY
        self._archive.writestr(info, b"")

    def add_bytes(self, name: str, data: bytes) -> None:
        """A file entry holding `data`."""
        self._archive.writestr(self._file_info(name), data)

    def add_file(self, name: str, source: Path) -> None:
        """A file entry holding the bytes of `source`, streamed."""
        info = self._file_info(name)
        size_bytes = source.stat().st_size
        with (
            source.open("rb") as src,
            self._archive.open(info, "w", force_zip64=size_bytes > _ZIP64_FROM_BYTES) as dst,
        ):
            shutil.copyfileobj(src, dst, _COPY_CHUNK_BYTES)

    def _file_info(self, name: str) -> zipfile.ZipInfo:
        info = _EncodedNameInfo(name, self._encoding)
        info.external_attr = _FILE_MODE << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        return info
