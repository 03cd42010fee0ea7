"""Property-based fuzzing of the spec loaders and the command line: bad input is one line and exit 2, no traceback."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convnas.cli import main
from convnas.experiments import ablation_spec
from convnas.search.common import spec_files
from convnas.search.space import spec as search_spec
from convnas.search.space.stages import STAGE_FIELDS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 300), st.floats(allow_nan=True), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4)),
    max_leaves=10,
)


def search_mappings():
    keys = st.one_of(st.sampled_from(sorted(search_spec.FIELDS)), st.text(max_size=10), st.integers(), st.booleans())
    space_keys = st.sampled_from(["stages", "cell", "stage1_block", "filters", "learning_rate", "optimizer",
                                  "head_units", "stage9_kernel_size"])
    space = st.dictionaries(st.one_of(space_keys, st.text(max_size=8)), values, max_size=4)
    return st.dictionaries(keys, st.one_of(values, space), max_size=6)


def study_mappings():
    stage = st.dictionaries(st.sampled_from([*STAGE_FIELDS, "colour"]), values, max_size=5)
    base = st.fixed_dictionaries({"stages": st.one_of(st.lists(stage, max_size=3), values)},
                                 optional={"stem_filters": values, "head": values, "upsampler": values})
    variant_keys = st.one_of(st.sampled_from([*STAGE_FIELDS, "stage1_filters", "stage2_cell", "head"]),
                             st.text(max_size=6))
    variant = st.dictionaries(variant_keys, values, max_size=3)
    variants = st.one_of(st.dictionaries(st.text(max_size=6), variant, max_size=3), values)
    optional = ("task", "dataset", "epochs", "batch_size", "seeds", "learning_rate", "metric", "full", "name")
    return st.fixed_dictionaries(
        {"base": st.one_of(base, values), "variants": variants},
        optional={key: values for key in optional},
    )


def one_line(error: Exception) -> bool:
    return "\n" not in str(error) and str(error).strip() != ""


@SETTINGS
@given(search_mappings())
def test_search_spec_is_valid_or_one_clear_line(values):
    try:
        spec = search_spec.build_spec(values, {})
    except spec_files.SpecError as error:
        assert one_line(error), str(error)
    else:
        assert spec.epochs >= 1 and spec.max_trials >= 1 and spec.batch_size >= 1


@SETTINGS
@given(study_mappings())
def test_ablation_spec_is_valid_or_one_clear_line(values):
    try:
        study = ablation_spec.build_study(values)
    except spec_files.SpecError as error:
        assert one_line(error), str(error)
    else:
        assert study.seeds and all(study.design(name).stages for name in study.variant_names())


@SETTINGS
@given(st.text(max_size=200))
def test_any_yaml_text_loads_or_is_one_clear_line(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("yaml") / "spec.yaml"
    path.write_text(text)
    try:
        loaded = spec_files.load_yaml(path)
    except spec_files.SpecError as error:
        assert one_line(error), str(error)
    else:
        assert isinstance(loaded, dict)


bad_integers = st.one_of(st.integers(max_value=0).map(str), st.text(alphabet="abc.-e", min_size=1, max_size=5))
FLAG_VALUES = {
    "--epochs": bad_integers,
    "--max-trials": bad_integers,
    "--batch-size": bad_integers,
    "--seed": st.one_of(st.integers(max_value=-1).map(str), st.text(alphabet="xyz", min_size=1, max_size=3)),
    "--tuner": st.text(alphabet="abcdxyz", min_size=1, max_size=8),
    "--objective": st.text(alphabet="abcdxyz_", min_size=1, max_size=8),
    "--dataset": st.text(alphabet="abcdxyz", min_size=1, max_size=8),
    "--proxy": st.text(alphabet="abcdxyz", min_size=1, max_size=8),
    "--pareto-cost": st.text(alphabet="abcdxyz", min_size=1, max_size=8),
    "--max-flops": st.one_of(st.floats(max_value=0).map(str), st.just("lots")),
    "--max-params": st.one_of(st.floats(max_value=0).map(str), st.just("-")),
}


@SETTINGS
@given(st.sampled_from(sorted(FLAG_VALUES)).flatmap(lambda flag: st.tuples(st.just(flag), FLAG_VALUES[flag])))
def test_malformed_search_flags_exit_2_with_one_line(tmp_path_factory, capsys, monkeypatch, flag_value):
    from convnas.search import runner

    monkeypatch.setattr(runner, "run_search", lambda *a, **k: pytest.fail("a malformed command started a search"))
    flag, value = flag_value
    logdir = tmp_path_factory.mktemp("search") / "logs"
    assert main(["search", f"{flag}={value}", "--logdir", str(logdir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: convnas search"), err
    assert not logdir.exists()


@SETTINGS
@given(st.sampled_from(["--seeds", "--epochs"]), bad_integers, st.sampled_from(["pooling", "depth", "nonexistent"]))
def test_malformed_ablate_flags_exit_2_with_one_line(tmp_path_factory, capsys, flag, value, study):
    logdir = tmp_path_factory.mktemp("ablate") / "logs"
    assert main(["ablate", study, f"{flag}={value}", "--logdir", str(logdir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.match(r"error: convnas ablate", err), err
    assert not logdir.exists()
