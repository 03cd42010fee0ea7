"""`convnas cost`, run as a real process."""

import json
import re
import subprocess
import sys
import zipfile

import keras
import pytest

from convnas import blocks

CONVNAS = [sys.executable, "-m", "convnas"]


def run(*args):
    return subprocess.run([*CONVNAS, *args], capture_output=True, text=True, timeout=300)


def test_mobilenet_json_and_profiler_check():
    result = run("cost", "MobileNet", "--input-shape", "224,224,3", "--json", "--check")
    assert result.returncode == 0, result.stderr
    counted = json.loads(result.stdout)
    assert set(counted) == {"params", "trainable_params", "macs", "flops", "weight_bytes", "activation_bytes", "layers",
                            "uncounted"}
    assert counted["params"] == 4_253_864  # keras.applications.MobileNet count_params()
    assert round(counted["macs"] / 1e6) == 569  # Howard et al. 2017, Table 4
    assert counted["weight_bytes"] == 4 * counted["params"]
    assert {"name", "type", "output_shape", "params", "macs", "flops"} == set(counted["layers"][0])
    assert sum(layer["flops"] for layer in counted["layers"]) == counted["flops"]
    check = result.stderr.strip().splitlines()[-1]
    assert check.startswith("check: cost model") and check.endswith("ratio 1.0000")


def test_saved_model_of_blocks_per_layer_table(tmp_path):
    inputs = keras.Input((16, 16, 3))
    x = blocks.get_block("inception")(8, 4, 8, 2, 4, 4)(inputs)
    x = blocks.get_block("shuffle_unit")(24, groups=2)(x)
    path = tmp_path / "cells.keras"
    keras.Model(inputs, x).save(path)
    result = run("cost", str(path), "--per-layer", "--batch-size", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"model             {path} (batch 2)"
    table = lines[lines.index("") + 1 :]
    assert table[0].split() == ["layer", "type", "output", "params", "MACs", "FLOPs"]
    assert any(re.match(r"inception(_\d+)?/conv2d", line) for line in table)
    assert any(line.split()[1] == "ChannelShuffle" for line in table[2:])


@pytest.mark.parametrize(
    "args, message",
    [
        (["cost", "NoSuchNet"], "MODEL must be a .keras file or a keras.applications name"),
        (["cost", "missing.keras"], "MODEL file not found. Received: MODEL='missing.keras'"),
        (["cost", "MobileNet", "--input-shape", "8,8,3"],
         "MobileNet cannot be built: Input size must be at least 32x32"),
        (["cost", "MobileNet", "--input-shape", "224,224"], "--input-shape: must be three positive integers H,W,C"),
        (["cost", "MobileNet", "--batch-size", "0"], "--batch-size: must be a positive integer. Received: '0'"),
        (["cost"], "the following arguments are required: MODEL"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


@pytest.mark.parametrize("kind", ["text", "zip", "weights"])
def test_a_file_that_is_not_a_keras_model_is_one_line_and_exit_2(tmp_path, capsys, kind):
    from convnas.cli import main

    path = tmp_path / ("model.weights.h5" if kind == "weights" else "broken.keras")
    if kind == "text":
        path.write_text("not a zip archive")
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "a zip, but no config.json")
    else:
        path.write_text("not HDF5 either")
    assert main(["cost", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: convnas cost: ") and ".." not in err, err
    if kind == "weights":  # HDF5's own reason, without Keras's doubled full stop
        assert "MODEL could not be loaded as a Keras model: " in err, err
    else:  # not Keras's "File not found" for a file that is there
        assert "not found" not in err.lower()
        assert err.endswith("MODEL is not a Keras archive (a .keras file is a zip archive holding config.json; "
                            f"this file is not one). Received: MODEL={str(path)!r}\n"), err
