"""Security: safe YAML, no eval/exec/pickle of user input, Keras safe mode, servers on loopback by default."""

import re
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

from convnas.cli import build_parser, main
from convnas.search.tuners.distributed import Supervisor

SOURCES = [path for folder in ("blocks", "search", "experiments") for path in Path(folder).rglob("*.py")]
FORBIDDEN = {
    r"yaml\.(load|unsafe_load|full_load)\(": "YAML must be read with yaml.safe_load",
    r"(?<![\w.])(eval|exec)\(": "no eval or exec",
    r"pickle\.(load|loads|Unpickler)\b|\bmarshal\b|\bshelve\b": "no unpickling",
    r"safe_mode\s*=\s*False": "Keras models are loaded in safe mode",
    r"allow_pickle\s*=\s*True": "numpy arrays are loaded without pickle",
}


def test_no_unsafe_loading_anywhere_in_the_package():
    assert len(SOURCES) > 40
    for path in SOURCES:
        text = path.read_text()
        for pattern, rule in FORBIDDEN.items():
            assert not re.search(pattern, text), f"{path}: {rule}"


def test_spec_files_are_read_by_a_safe_loader(tmp_path):
    from convnas.search.common import spec_files as spec

    assert issubclass(spec.SpecLoader, yaml.SafeLoader)
    path = tmp_path / "unsafe.yaml"
    path.write_text("!!python/object/apply:os.system ['echo unsafe']\n")
    with pytest.raises(spec.SpecError, match="could not determine a constructor for the tag"):
        spec.load_yaml(path)
    path.write_text("epochs: 3\x1f\n")
    with pytest.raises(spec.SpecError, match="spec file is not valid YAML: unacceptable character #x001f"):
        spec.load_yaml(path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(spec.SpecError, match="spec file is not UTF-8 text"):
        spec.load_yaml(path)


def test_a_keras_file_with_code_in_it_is_refused(tmp_path, capsys):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = tmp_path / "lambda.keras"
    model.save(path)
    assert main(["cost", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not be loaded" in err and "safe_mode" in err


def test_an_npz_with_pickled_objects_is_refused(tmp_path):
    from convnas.search.data import datasets

    path = tmp_path / "objects.npz"
    np.savez(path, x_train=np.array([{"a": 1}, {"b": 2}], dtype=object), y_train=np.array([0, 1]))
    try:
        datasets.load_dataset(f"npz:{path}")
    except datasets.DatasetError as error:
        assert "\n" not in str(error)
    else:
        raise AssertionError("an object array was loaded")


def test_servers_bind_to_loopback_unless_told_otherwise():
    board = build_parser().parse_args(["board", "logs"])
    assert board.host == "127.0.0.1"
    assert Supervisor(["convnas"], workers=1, threads=1, write=print, logdir="logs").host == "127.0.0.1"
