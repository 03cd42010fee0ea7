"""The x2 upsampling task: (low-resolution, image) pairs from real photos, and its networks.

Data. `photos` cuts seeded square patches out of photos that ship with
scikit-image (`skimage.data`, real and offline): training patches from
astronaut, rocket, immunohistochemistry, chelsea and hubble_deep_field,
validation patches from coffee (an image the network never trains on). Any
classification dataset name (e.g. cifar10 for --full) uses its images
instead, labels ignored. The input is the target downsampled by 2x2
averaging.

Network. A stem (3x3 conv, BN, ReLU) and stages at the input resolution
(cells of the search space), then the upsampler under study - a transposed
conv (kernel F, stride 2, "same") or an upsample-then-conv (nearest or
bilinear, then an F x F conv) - with ReLU, then a linear 1x1 conv to the
image's channels. The last conv is 1x1 on purpose: a wider one would smooth
away the upsampler's own artifacts, which are what the study measures. With
a `skip` the input, upsampled by interpolation, is added to the output, a
global residual as in VDSR (Kim, Lee & Lee 2016, who add the bicubic
upsampled input): the network learns the detail the interpolation misses.
The skip's interpolation matters to what the artifact measure reads.
Nearest upsampling's 2 x 2 blocks are themselves a stride-periodic error
against the targets (`experiments.artifacts`: 0.0044 over the validation
patches, 0.030 at their worst places; 30.55 dB), which a network with that
skip must learn to cancel, so its trained amplitude mixes the skip's blocks
with its own artifacts (with a nearest skip, bilinear + conv once ended at
nearest's own level while the transposed convs cancelled most of it);
without a skip the networks train far worse (the kernel-3 transposed conv,
60 epochs: 27.6 dB, 2.9 dB below nearest upsampling alone). Bicubic
upsampling has no stride-periodic error of its own (0.0 globally, 0.0098 at
the worst places, where texture leaks into the local measure; 32.39 dB),
so the built-in study's skip is bicubic: what the global measure reads on
its outputs is the network's.

Figure. `plot_samples` draws a study's samples.png from the example outputs
each run keeps.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import numpy as np
from skimage.transform import downscale_local_mean

from convnas import blocks
from convnas.search.data import datasets
from convnas.search.space import hypermodel as space

PHOTOS_TRAIN = ("astronaut", "rocket", "immunohistochemistry", "chelsea", "hubble_deep_field")
PHOTOS_VALIDATION = ("coffee",)
FACTOR = 2


@dataclasses.dataclass(frozen=True, eq=False)
class UpsamplingData:
    """Low-resolution inputs and their full-resolution targets, float32 in [0, 1]."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(int(size) for size in self.x_train.shape[1:])


def downsample(images: np.ndarray, factor: int = FACTOR) -> np.ndarray:
    """Averages each factor x factor block of a batch (N, H, W, C); H and W must divide by factor."""
    height, width = images.shape[1:3]
    if height % factor or width % factor:
        raise ValueError(f"`images` height and width must be multiples of {factor}. Received: shape={images.shape}")
    return downscale_local_mean(images, (1, factor, factor, 1)).astype(np.float32)


def photo_patches(names: tuple[str, ...], count: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """`count` random size x size RGB patches, spread evenly over the named skimage.data photos."""
    import skimage.data

    photos = [getattr(skimage.data, name)().astype(np.float32) / 255.0 for name in names]
    patches = []
    for index in range(count):
        photo = photos[index % len(photos)]
        top = rng.integers(0, photo.shape[0] - size + 1)
        left = rng.integers(0, photo.shape[1] - size + 1)
        patches.append(photo[top : top + size, left : left + size, :3])
    return np.stack(patches)


def load_data(
    name: str, patch_size: int = 48, train_patches: int = 1024, validation_patches: int = 128
) -> UpsamplingData:
    """The pairs of dataset `name` ("photos", or a classification dataset's images); the split is fixed (seed 0)."""
    if name == "photos":
        rng = np.random.default_rng(0)
        y_train = photo_patches(PHOTOS_TRAIN, train_patches, patch_size, rng)
        y_val = photo_patches(PHOTOS_VALIDATION, validation_patches, patch_size, rng)
    else:
        data = datasets.load_dataset(name, seed=0)
        y_train, y_val = data.x_train * np.float32(data.scale), data.x_val * np.float32(data.scale)  # in [0, 1]
    return UpsamplingData(name, downsample(y_train), y_train, downsample(y_val), y_val)


def flat_input(input_shape: tuple[int, int, int], count: int = 2, value: float = 0.5) -> np.ndarray:
    """A batch of uniform grey images: any structure in the output is the network's own."""
    return np.full((count, *input_shape), value, np.float32)


def upsampler_layer(upsampler) -> keras.layers.Layer:
    """The x2 upsampling block an `Upsampler` (experiments.ablation_spec) describes."""
    if upsampler.block == "transposed_conv":
        return blocks.get_block("transposed_conv")(upsampler.filters, upsampler.kernel_size, strides=FACTOR)
    return blocks.get_block("upsample_conv")(
        upsampler.filters, upsampler.kernel_size, size=FACTOR, interpolation=upsampler.interpolation
    )


def build_model(design, input_shape: tuple[int, int, int]) -> keras.Model:
    """The (uncompiled) upsampling network of a study Design."""
    inputs = keras.Input(input_shape)
    x = inputs
    for layer in space.conv_bn_relu("conv", filters=design.stem_filters, kernel_size=3):
        x = layer(x)
    for stage in design.stages:
        for layer in space.stage_layers(stage, x.shape[-1]):
            x = layer(x)
    x = keras.layers.Activation("relu")(upsampler_layer(design.upsampler)(x))
    outputs = keras.layers.Conv2D(input_shape[-1], 1)(x)
    if design.upsampler.skip:
        skip = keras.layers.UpSampling2D(FACTOR, interpolation=design.upsampler.skip)(inputs)
        outputs = keras.layers.Add()([outputs, skip])
    return keras.Model(inputs, outputs, name="upsampler")


def plot_samples(study: dict, logdir: Path) -> Path:
    """Draws a study's samples.png: one row per variant, its first seed's input, output, target and flat outputs.

    Read from LOGDIR/samples/<variant>-seed<k>.npz: the input (nearest x2),
    the output, the target, and the output for a flat input at
    initialization and trained. Returns the PNG's path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ("input_nearest", "output", "target", "flat_output_init", "flat_output")
    titles = ("input (nearest x2)", "output", "target", "flat input, at init*", "flat input, trained*")
    first_seed = min(study["seeds"])
    files = {v: logdir / "samples" / f"{v}-seed{first_seed}.npz" for v in ["baseline", *study["variants"]]}
    variants = [v for v, path in files.items() if path.exists()]
    figure, axes = plt.subplots(len(variants), len(names), figsize=(2 * len(names), 2 * len(variants) + 0.4),
                                squeeze=False)
    for row, variant in enumerate(variants):
        samples = np.load(files[variant])
        for column, name in enumerate(names):
            axes[row, column].imshow(samples[name][0], interpolation="nearest")
            axes[row, column].set_xticks([])
            axes[row, column].set_yticks([])
            if row == 0:
                axes[row, column].set_title(titles[column], fontsize=9)
        axes[row, 0].set_ylabel(variant, fontsize=9)
    figure.text(0.01, 0.005, "* contrast-stretched to the full range", fontsize=8)
    figure.tight_layout(rect=(0, 0.02, 1, 1))
    path = logdir / "samples.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
