"""The training protocol: the warmup-cosine schedule, its settings, and the one line that describes it."""

import dataclasses
import subprocess
import sys

import keras
import numpy as np
import pytest

from convnas.search.space.training import LEGACY_PROTOCOL, Protocol, describe_protocol, make_protocol, protocol_of


def rates(schedule, steps: int) -> np.ndarray:
    return np.array([float(keras.ops.convert_to_numpy(schedule(step))) for step in range(steps + 1)])


def test_the_cosine_schedule_warms_up_from_zero_then_decays_to_zero_after_the_last_step():
    values = rates(Protocol().learning_rate(0.01, steps_per_epoch=10, epochs=4), 40)
    assert values[0] == 0 and values[5] == pytest.approx(0.005)  # linear warmup over the first epoch's 10 steps
    assert values[10] == pytest.approx(0.01) and values.max() == pytest.approx(0.01)
    assert np.all(np.diff(values[10:]) < 0)  # then down all the way
    assert values[25] == pytest.approx(0.005, abs=1e-6)  # half-way through the 30 decay steps: half the peak
    assert 0 < values[39] < 0.01 * 0.01 and values[40] == 0  # the last step's rate is tiny; 0 after it


def test_the_warmup_takes_at_most_half_the_steps_and_none_without_warmup_epochs_or_for_a_constant_rate():
    assert Protocol(warmup_epochs=1).warmup_steps(10, 4) == 10
    assert Protocol(warmup_epochs=3).warmup_steps(10, 4) == 20
    assert Protocol(warmup_epochs=1).warmup_steps(10, 1) == 5
    assert Protocol(schedule="constant", warmup_epochs=1).warmup_steps(10, 4) == 0
    values = rates(Protocol(warmup_epochs=0).learning_rate(0.01, 10, 2), 20)
    assert values[0] == pytest.approx(0.01) and values[10] == pytest.approx(0.005) and values[20] == 0
    assert Protocol(schedule="constant").learning_rate(0.01, 10, 2) == 0.01  # a number: Keras's own constant rate


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"schedule": "step"}, r"^`schedule` must be one of 'cosine', 'constant'. Received: schedule='step'$"),
        ({"warmup_epochs": -1}, r"^`warmup_epochs` must be a non-negative integer. Received: warmup_epochs=-1$"),
        ({"bn_batches": 2.5}, r"^`bn_batches` must be a non-negative integer. Received: bn_batches=2.5$"),
    ],
)
def test_bad_protocol_settings_name_the_argument_and_value(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_protocol(**arguments)


def test_settings_without_protocol_fields_read_as_the_legacy_protocol_and_missing_fields_as_the_defaults():
    assert protocol_of({"epochs": 8}) == LEGACY_PROTOCOL == Protocol("constant", 0, 0)
    assert protocol_of({"bn_batches": 20}) == Protocol("cosine", 1, 20)
    assert protocol_of({"schedule": "constant", "warmup_epochs": 0, "bn_batches": 0}) == LEGACY_PROTOCOL


@pytest.mark.parametrize(
    "settings, line",
    [
        ({"learning_rate": 0.001, "epochs": 30, "schedule": "cosine", "warmup_epochs": 1, "bn_batches": 50},
         "Adam 0.001, 1 warmup epoch then cosine to 0 over 30 epochs, BatchNorm statistics re-estimated on 50 "
         "training batches (at most an epoch's) with the final weights before the last validation and the test"),
        ({"learning_rate": 0.01, "epochs": 8, "schedule": "cosine", "warmup_epochs": 2, "bn_batches": 0},
         "Adam 0.01, 2 warmup epochs then cosine to 0 over 8 epochs, BatchNorm on its moving averages of training "
         "(not re-estimated)"),
        ({"learning_rate": 0.001, "epochs": 1, "schedule": "cosine", "warmup_epochs": 1, "bn_batches": 100},
         "Adam 0.001, linear warmup over half the steps then cosine to 0 over 1 epoch, BatchNorm statistics "
         "re-estimated on 100 training batches (at most an epoch's) with the final weights before the last "
         "validation and the test"),
        ({"learning_rate": 0.001, "epochs": 8},  # a study.json written before studies recorded their protocol
         "Adam 0.001 at a constant rate over 8 epochs, BatchNorm on its moving averages of training "
         "(not re-estimated)"),
    ],
)
def test_a_protocol_is_described_in_one_line(settings, line):
    assert describe_protocol(settings) == line


def test_describing_a_protocol_imports_no_tensorflow():
    code = ("import sys; from convnas.search.space.training import describe_protocol; "
            "describe_protocol({'epochs': 3}); print(sorted({'tensorflow', 'keras'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_search_spec_carries_the_trial_protocol_and_refuses_a_bad_one():
    from convnas.search.common.spec_files import SpecError, refuse_changed
    from convnas.search.space.spec import build_spec

    spec = build_spec({}, {})
    assert (spec.schedule, spec.warmup_epochs, spec.bn_batches) == (Protocol.schedule, Protocol.warmup_epochs,
                                                                    Protocol.bn_batches)
    assert build_spec({"schedule": "constant"}, {"bn_batches": 0}).bn_batches == 0
    refused = r"^`schedule` must be one of 'cosine', 'constant'. Received: schedule='linear'$"
    with pytest.raises(SpecError, match=refused):
        build_spec({"schedule": "linear"}, {})
    earlier = dataclasses.asdict(spec)
    resumed = dataclasses.asdict(build_spec({}, {"schedule": "constant"}))
    with pytest.raises(SpecError, match=r"different spec \(changed: schedule\)"):
        refuse_changed("logs/search", "search", earlier, resumed)
    older = {key: value for key, value in earlier.items() if key not in ("schedule", "warmup_epochs", "bn_batches")}
    with pytest.raises(SpecError, match=r"changed: bn_batches, schedule, warmup_epochs"):
        refuse_changed("logs/search", "search", older, earlier)  # a search begun before the protocol was recorded
