"""One installed package, convnas: its wheel, its layers, and what `import convnas` does."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = [sys.executable, "-c"]


def run(code: str, cwd: Path) -> str:
    result = subprocess.run([*PYTHON, code], cwd=cwd, capture_output=True, text=True, timeout=300,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_wheel_has_convnas_as_its_only_top_level_package(tmp_path):
    source = tmp_path / "source"
    ignored = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "logs", "__pycache__",
                                     ".pytest_cache")
    shutil.copytree(ROOT, source, ignore=ignored)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "wheel"), "."], cwd=source, check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "wheel").glob("convnas-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"convnas"}
    for layer in ("blocks", "search", "experiments"):
        assert f"convnas/{layer}/__init__.py" in names
    assert "convnas/blocks/conv.py" in names and "convnas/search/tuners/tuner.py" in names and "convnas/cli.py" in names
    assert "convnas/experiments/studies/pooling.yaml" in names  # package data travels
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/"))]


def test_import_convnas_is_free_of_tensorflow_and_registers_every_block_when_keras_loads(tmp_path):
    checks = (
        "import sys, convnas; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules;"
        "import keras; from convnas.blocks import list_blocks;"
        "names = [keras.saving.get_registered_object('convnas>' + name) for name in list_blocks()];"
        "assert len(names) >= 21 and all(names), names; print('ok')"
    )
    assert run(checks, tmp_path).strip() == "ok"
    keras_first = "import keras, convnas; assert keras.saving.get_registered_object('convnas>residual'); print('ok')"
    assert run(keras_first, tmp_path).strip() == "ok"


def test_a_saved_model_loads_after_import_convnas_alone(tmp_path):
    save = (
        "import keras, convnas; from convnas.blocks import get_block;"
        "x = keras.Input((8, 8, 3));"
        "model = keras.Model(x, get_block('residual')(4)(get_block('conv')(4, kernel_size=3)(x)));"
        "model.save('m.keras'); print(model.count_params())"
    )
    params = run(save, tmp_path).strip()
    load = "import convnas, keras; print(keras.saving.load_model('m.keras').count_params())"
    assert run(load, tmp_path).strip() == params


def test_a_folder_named_like_a_layer_in_the_working_directory_is_never_imported(tmp_path):
    for name in ("blocks", "search", "experiments"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise SystemExit('imported the wrong package')\n")
    result = subprocess.run([sys.executable, "-m", "convnas", "blocks", "--input-shape", "8,8,4", "--json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"residual"' in result.stdout
