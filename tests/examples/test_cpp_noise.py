"""The C++ keyed-noise recipe of the README (examples/cpp/turbosim_noise.h) gives Python's numbers, bit for bit."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from turbosim_hep.simulation.noise import STREAMS, event_noise, redraw_keys, row_keys

HEADER = Path(__file__).resolve().parents[2] / "examples" / "cpp" / "turbosim_noise.h"
MAIN = r"""
#include "turbosim_noise.h"
#include <cstdio>
int main() {
  float out[48];
  for (unsigned long long ev : {0ULL, 1ULL, 300ULL, 4000000000ULL}) {
    for (int a = 0; a < 3; ++a) {  // the draws of a truncated decoder
      event_noise(redraw_key(event_key(2026, STREAM, 2027, 7, ev), a), 48, out);
      for (int i = 0; i < 48; ++i) std::printf("%.9g ", out[i]);
    }
    std::printf("\n");
  }
}
"""


@pytest.mark.skipif(shutil.which("g++") is None, reason="no C++ compiler")
@pytest.mark.parametrize("stream", ["simulate", "unfold"])
def test_cpp_noise_equals_python(tmp_path, stream):
    (tmp_path / "main.cpp").write_text(MAIN.replace("STREAM", str(STREAMS[stream])))
    exe = tmp_path / "noise"
    subprocess.run(
        ["g++", "-O2", "-std=c++17", f"-I{HEADER.parent}", str(tmp_path / "main.cpp"), "-o", str(exe)], check=True
    )
    got = np.array(
        [[float(v) for v in line.split()] for line in subprocess.check_output([str(exe)], text=True).splitlines()]
    )
    events = np.array([0, 1, 300, 4_000_000_000], dtype=np.uint64)
    keys = row_keys(2026, STREAMS[stream], np.full(4, 2027), np.full(4, 7), events, 0)
    want = np.concatenate([event_noise(redraw_keys(keys, a), 48) for a in range(3)], axis=1)
    np.testing.assert_array_equal(got.astype(np.float32), want)
