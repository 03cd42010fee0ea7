"""`convnas cost MODEL`: the cost of a saved model or a keras.applications architecture."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras

from convnas.search import cost
from convnas.search.common import tables
from convnas.search.common.tables import human
from convnas.suggestions import did_you_mean


class ModelError(ValueError):
    """The MODEL argument names nothing that can be loaded or built."""


def application_names() -> list[str]:
    """The architectures of keras.applications (MobileNet, ResNet50, VGG16, ...)."""
    return sorted(
        name for name in dir(keras.applications) if name[0].isupper() and callable(getattr(keras.applications, name))
    )


def load_model(model: str, input_shape: tuple[int, int, int] | None = None) -> keras.Model:
    """A `.keras` file (loaded in safe mode) or a keras.applications model built with weights=None.

    A file's convnas blocks load because `import convnas` registers them once Keras is imported.
    """
    if model.endswith(".keras") or Path(model).exists():
        if input_shape is not None:
            raise ModelError(f"--input-shape applies to keras.applications models only. Received: MODEL={model!r}")
        path = Path(model)
        if not path.is_file():
            raise ModelError(f"MODEL file not found. Received: MODEL={model!r}")
        if path.suffix == ".keras" and not _keras_archive(path):  # Keras would say "File not found"
            raise ModelError(f"MODEL is not a Keras archive (a .keras file is a zip archive holding config.json; "
                             f"this file is not one). Received: MODEL={model!r}")
        try:
            return keras.saving.load_model(path, safe_mode=True)
        except (ValueError, OSError, zipfile.BadZipFile, KeyError, TypeError) as error:
            first_line = str(error).strip().splitlines()[0].rstrip(".") if str(error).strip() else type(error).__name__
            raise ModelError(
                f"MODEL could not be loaded as a Keras model: {first_line}. Received: MODEL={model!r}"
            ) from None
    names = application_names()
    if model not in names:
        raise ModelError(
            f"MODEL must be a .keras file or a keras.applications name ({', '.join(names)}). Received: MODEL={model!r}"
            + did_you_mean(model, names)
        )
    kwargs = {"weights": None}
    if input_shape is not None:
        kwargs["input_shape"] = tuple(input_shape)
    try:
        return getattr(keras.applications, model)(**kwargs)
    except ValueError as error:
        raise ModelError(f"{model} cannot be built: {str(error).strip().splitlines()[0]}") from None


def _keras_archive(path: Path) -> bool:
    """Whether `path` is a zip archive with the config.json that every .keras file holds."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "config.json" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def format_summary(name: str, counted: cost.Cost, batch_size: int) -> str:
    lines = [
        f"model             {name} (batch {batch_size})",
        f"params            {counted.params:,} ({human(counted.params)}), trainable {counted.trainable_params:,}",
        f"MACs              {counted.macs:,} ({human(counted.macs)})",
        f"FLOPs             {counted.flops:,} ({human(counted.flops)})",
        f"weight memory     {human(counted.weight_bytes, 'B')}",
        f"activation memory {human(counted.activation_bytes, 'B')}",
    ]
    if counted.uncounted:
        lines.append(f"uncounted layers  {', '.join(counted.uncounted)}")
    return "\n".join(lines)


def format_layers(counted: cost.Cost) -> str:
    """One row per counted layer."""
    rows = [
        (
            row.name, row.type, "x".join(map(str, row.output_shape[1:])),
            f"{row.params:,}", f"{row.macs:,}", f"{row.flops:,}",
        )
        for row in counted.layers
    ]
    return tables.to_text(("layer", "type", "output", "params", "MACs", "FLOPs"), rows, left_columns=3)


def format_json(counted: cost.Cost) -> str:
    return json.dumps(counted.as_dict(), indent=2)
