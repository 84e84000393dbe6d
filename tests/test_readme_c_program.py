"""The README's C program, compiled against exported headers and run."""
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fastmlp
from fastmlp import datasets

from helpers import compile_c, needs_cc

README = Path(__file__).parent.parent / "README.md"


@needs_cc
@pytest.mark.skipif(not README.exists(), reason="needs the source tree's README.md")
@pytest.mark.parametrize("fixed_point", [False, True])
def test_readme_c_program_prints_the_networks_prediction(fixed_point, tmp_path):
    section = README.read_text().split("## Wheels and exporting", 1)[1].split("\n## ", 1)[0]
    [program] = re.findall(r"```c\n(.*?)```", section, flags=re.S)
    assert len(program.strip().splitlines()) == 5
    X, y = datasets.load_digits()
    net = fastmlp.Network([64, 30, 10], seed=0)
    net.fit(X, y, epochs=3, batch_size=10, lr=3.0)
    net.export_c(tmp_path / "digits.h", fixed_point=fixed_point)
    exe = compile_c(program, tmp_path, "main")
    printed = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert int(printed) == net.predict(np.zeros(64))
