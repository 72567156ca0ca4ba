"""The bank's icon: a 100×100 24-bit BMP, the size and format UTAU shows, which OpenUTAU shows too."""

import hashlib
import io
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, UnidentifiedImageError

from voicestudio.voicebank.errors import VoicebankError

ICON_SIZE_PX: Final = 100
_BAR_HEIGHTS: Final = (0.25, 0.5, 0.8, 0.55, 0.9, 0.45, 0.3)


def generated_icon_bmp(name: str) -> bytes:
    """A simple icon for a bank without one: a waveform on a colour drawn from the bank's name."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    background = (64 + digest[0] % 128, 64 + digest[1] % 128, 64 + digest[2] % 128)
    image = Image.new("RGB", (ICON_SIZE_PX, ICON_SIZE_PX), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, ICON_SIZE_PX - 8, ICON_SIZE_PX - 8), fill=(250, 250, 250))
    bar_width = 8
    left = (ICON_SIZE_PX - len(_BAR_HEIGHTS) * bar_width * 3 // 2) // 2
    for index, height in enumerate(_BAR_HEIGHTS):
        half = int(height * 28)
        x = left + index * bar_width * 3 // 2
        draw.rectangle((x, 50 - half, x + bar_width - 1, 50 + half), fill=background)
    return _bmp_bytes(image)


def icon_bmp_from_image(path: Path) -> bytes:
    """`path` (PNG, JPEG, BMP, ...) cropped to a centred square and scaled to 100×100 BMP."""
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except FileNotFoundError:
        raise VoicebankError(
            f"{path.name}: there is no icon at {path}. Check the path, or leave it out."
        ) from None
    except (UnidentifiedImageError, OSError) as e:
        raise VoicebankError(
            f"{path.name}: the icon cannot be read as an image ({e}). Use a PNG or JPEG file."
        ) from None
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return _bmp_bytes(square.resize((ICON_SIZE_PX, ICON_SIZE_PX), Image.Resampling.LANCZOS))


def _bmp_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="BMP")
    return buffer.getvalue()
