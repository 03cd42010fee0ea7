"""The private names convnas uses: all listed, all present in the installed versions, and used in one place."""

import argparse
import re
from pathlib import Path

import keras_tuner
import pytest

import convnas.search
from convnas.search import private_api

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ("blocks", "search", "experiments", "convnas")
ADAPTER = Path("search/adapter")  # a package
SEAM = {*(path.relative_to(ROOT) for path in (ROOT / ADAPTER).glob("*.py")), Path("search/private_api.py")}
PRIVATE_MODULES = ("keras_tuner.src", "keras.src", "tensorflow.python")
INSTANCE_ATTRIBUTES = (private_api.ORACLE_ATTRIBUTES + private_api.LAYER_ATTRIBUTES + private_api.MODEL_ATTRIBUTES
                       + private_api.SEQUENTIAL_ATTRIBUTES + private_api.SERVICER_ATTRIBUTES)


def library_private_names() -> set[str]:
    """keras-tuner's, Keras's and TensorFlow's private names the list holds: the underscored parts of its
    module-level names, and the instance attributes (private modules are matched by their paths)."""
    names = set(INSTANCE_ATTRIBUTES)
    for module, path, _ in private_api.PRIVATE_NAMES:
        if module != "argparse":
            names.update(part for part in path.split(".") if part.startswith("_"))
    return names


def uses(text: str) -> list[str]:
    """The listed private names and private module paths that `text` mentions."""
    found = [name for name in sorted(library_private_names()) if re.search(rf"\b{re.escape(name)}\b", text)]
    return found + [module for module in PRIVATE_MODULES if re.search(rf"\b{re.escape(module)}\b", text)]


def adapter_text() -> str:
    """The text of every module of the adapter package."""
    return "\n".join(path.read_text() for path in sorted((ROOT / ADAPTER).glob("*.py")))


def test_every_private_hook_exists_in_the_installed_versions():
    assert private_api.missing() == []


def test_a_missing_private_hook_is_named(monkeypatch):
    monkeypatch.delattr(keras_tuner.Tuner, "_configure_tensorboard_dir")
    with pytest.raises(RuntimeError, match=r"lack: keras_tuner\.Tuner\._configure_tensorboard_dir\. Install"):
        convnas.search.RandomSearch(lambda hp: None, "val_accuracy", max_trials=1, directory="unused")
    assert "keras_tuner.Tuner._configure_tensorboard_dir" in private_api.missing()


def test_missing_argparse_and_instance_names_are_named(monkeypatch):
    monkeypatch.delattr(argparse.HelpFormatter, "_get_help_string")
    monkeypatch.setattr(private_api, "ORACLE_ATTRIBUTES", (*private_api.ORACLE_ATTRIBUTES, "_gone"))
    assert private_api.missing() == ["argparse.HelpFormatter._get_help_string", "keras_tuner.Oracle()._gone"]


def test_keras_tuner_keras_and_tensorflow_private_names_appear_only_in_the_adapter_and_its_list():
    found = []
    for folder in LIBRARY:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in SEAM:
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                found += [f"{relative}:{number}: {name}" for name in uses(line)]
    assert found == [], "private names outside search/adapter/:\n" + "\n".join(found)


def test_the_scan_sees_every_listed_name_in_the_adapter():
    # Each listed name is used by the adapter (a stale entry fails), so the scan above looks for real uses.
    used = set(uses(adapter_text()))
    assert library_private_names() - used == set()
    assert set(PRIVATE_MODULES) <= used
    assert uses("oracle._tried_so_far.add(x)  # from keras.src.backend import config") == ["_tried_so_far", "keras.src"]


def test_every_private_name_the_adapter_reaches_is_listed():
    text = adapter_text()
    reached = set(re.findall(r"\.(_[A-Za-z]\w*)", text)) | set(re.findall(r"\bdef (_[A-Za-z]\w*)", text))
    own = {"_hear", "_quietly"}  # the adapter's own helpers (OracleService)
    assert reached - own - library_private_names() == set()
