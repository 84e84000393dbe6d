"""The command line."""
import re
import subprocess
import sys

import fastmlp
from fastmlp.cli import main


def test_demo_reaches_90_percent_on_held_out_digits(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", out).group(1))
    assert accuracy > 0.9, out


def test_info_names_the_version(capsys):
    assert main(["info"]) == 0
    assert f"fastmlp {fastmlp.__version__}" in capsys.readouterr().out


def test_bad_argument_is_reported_not_raised(capsys):
    assert main(["demo", "--lr", "-1"]) == 2
    assert "lr must be finite, >= 0" in capsys.readouterr().err


def test_python_dash_m():
    result = subprocess.run([sys.executable, "-m", "fastmlp", "info"], capture_output=True,
                            text=True, check=True)
    assert result.stdout.startswith("fastmlp ")
