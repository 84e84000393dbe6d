"""Save a figure as a small PNG: 256 colours are plenty for these pictures, and the
many thin lines of a network picture make a full-colour PNG several times larger."""
import io

from PIL import Image  # installed with matplotlib


def save(display, path, dpi=80):
    """Write ``display.figure_`` to `path` as a 256-colour PNG; return the path."""
    buffer = io.BytesIO()
    display.figure_.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    image.save(path, optimize=True)
    return path
