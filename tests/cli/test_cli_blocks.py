"""`convnas --help` and `convnas blocks`, run as real processes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from convnas import blocks

CONVNAS = [sys.executable, "-m", "convnas"]


def run(*args):
    return subprocess.run([*CONVNAS, *args], capture_output=True, text=True, timeout=120)


def test_console_script_is_installed_and_helps():
    script = Path(sys.executable).parent / "convnas"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "blocks" in result.stdout


def test_blocks_json_lists_every_block_with_its_cost():
    result = run("blocks", "--input-shape", "16,12,8", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = {row["block"]: row for row in json.loads(result.stdout)}
    assert sorted(rows) == blocks.list_blocks()
    conv = rows["conv"]  # 3x3, "same", filters = C = 8
    assert conv["output_shape"] == [16, 12, 8]
    assert conv["params"] == 3 * 3 * 8 * 8 + 8
    assert conv["macs"] == 16 * 12 * 3 * 3 * 8 * 8
    assert rows["pool"]["output_shape"] == [8, 6, 8] and rows["pool"]["params"] == 0
    assert rows["transposed_conv"]["macs"] == 16 * 12 * 3 * 3 * 8 * 8  # counted on the input grid
    assert rows["upsample_conv"]["macs"] == 32 * 24 * 3 * 3 * 8 * 8
    assert rows["conv1d"]["input_shape"] == [16, 8]
    depthwise = rows["depthwise_separable_conv"]
    assert depthwise["macs"] == 16 * 12 * (9 * 8 + 8 * 8)
    assert all("error" not in row for row in rows.values())


def test_blocks_table_and_filters():
    result = run("blocks", "--input-shape", "8,8,4", "--filters", "12")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["block", "input", "output", "params", "MACs"]
    conv = next(line.split() for line in lines if line.startswith("conv "))
    assert conv == ["conv", "8x8x4", "8x8x12", f"{9 * 4 * 12 + 12:,}", f"{64 * 9 * 4 * 12:,}"]
    # A block that cannot take this input says why instead of aborting the listing.
    shuffle = next(line for line in lines if line.startswith("shuffle_unit"))
    assert "error: `filters` must equal the input channels" in shuffle


@pytest.mark.parametrize(
    "args, message",
    [
        (["blocks", "--input-shape", "8,8"], "--input-shape: must be three positive integers H,W,C. Received: '8,8'"),
        (["blocks", "--input-shape", "8,0,3"], "Received: '8,0,3'"),
        (["blocks", "--filters", "-2"], "--filters: must be a positive integer. Received: '-2'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND, one of blocks, cost, search, trials, ablate, table, "
             "board (convnas --help says what each does)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
