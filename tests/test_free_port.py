"""helpers.free_port: two pytest processes on one machine (two engineers' runs, or xdist
workers) never hand out the same port, because each holds its own block of ports."""

from __future__ import annotations

import subprocess
import sys

from helpers import _PORT_BLOCK, REPO_ROOT, _port_block, free_port

OTHER_PROCESS = "import helpers; print(helpers.free_port(), helpers._port_block().start)"


def test_another_process_is_handed_ports_from_another_block() -> None:
    ours = free_port()
    block = _port_block()
    assert block.start <= ours < block.start + _PORT_BLOCK
    answer = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS],
        cwd=REPO_ROOT / "tests",
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    theirs, their_start = map(int, answer.stdout.split())
    assert their_start != block.start, answer.stdout
    assert their_start <= theirs < their_start + _PORT_BLOCK
