"""What an independent reader (Pillow) finds in a JPEG the server stored: its size, its EXIF
tags, its colour profile, the JPEG segments it carries, and the colour at the top and the bottom
of its middle column. Reads the file named on the command line; prints one JSON object."""

import hashlib
import json
import sys

from PIL import Image


def segments(data):
    """The markers of the segments before the first scan, as hex (APP0 is 'e0')."""
    found, i = [], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:
            break
        found.append(format(marker, "02x"))
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return found


def main():
    path = sys.argv[1]
    with open(path, "rb") as f:
        data = f.read()
    image = Image.open(path)
    exif = image.getexif()
    rgb = image.convert("RGB")
    width, height = rgb.size
    icc = image.info.get("icc_profile")
    print(json.dumps({
        "format": image.format,
        "size": [width, height],
        "exif_tags": sorted(exif.keys()),
        "gps": bool(exif.get_ifd(0x8825)),
        "icc_sha256": hashlib.sha256(icc).hexdigest() if icc else None,
        "segments": segments(data),
        "top": list(rgb.getpixel((width // 2, 2))),
        "bottom": list(rgb.getpixel((width // 2, height - 3))),
    }))


if __name__ == "__main__":
    main()
