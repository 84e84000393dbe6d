"""What the examples that draw share: their options, and saving a figure as a small PNG
(256 colours are plenty for these pictures, and the many thin lines of a network picture
make a full-colour PNG several times larger)."""
import argparse
import io
from pathlib import Path

from PIL import Image  # installed with matplotlib


def parse_args(description, quick):
    """--out FOLDER (a Path, default .) and --quick, whose help is `quick`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("."),
                        help="folder for the pictures (default: .)")
    parser.add_argument("--quick", action="store_true", help=quick)
    return parser.parse_args()


def save(display, path, dpi=80):
    """Write ``display.figure_`` to `path` as a 256-colour PNG; return the path."""
    buffer = io.BytesIO()
    display.figure_.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    image.save(path, optimize=True)
    return path
