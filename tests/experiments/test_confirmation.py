"""Confirmations: claims tested again on fresh seeds, at the count the exact test's power gives, planned before."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from convnas.experiments.ablation_spec import build_study, builtin_names, load_study
from convnas.experiments.ablation_table.rows import metric_values
from convnas.experiments.confirmation import confirm, name_of, plan_count, sections, split_name
from convnas.experiments.study_logs import read_runs, read_study
from convnas.search.common.spec_files import SpecError, load_yaml

STUDIES_DIR = Path(__file__).parents[2] / "experiments" / "studies"
RESULTS = Path(__file__).parents[2] / "experiments" / "results"
YAMLS = {name: load_yaml(STUDIES_DIR / f"{name}.yaml") for name in builtin_names()}
# (study, K): each built-in study's K-th confirmation
CONFIRMED = [(name, which) for name, values in YAMLS.items() if "confirmation" in values
             for which in range(1, len(sections({**values, "name": name})) + 1)]
TINY = {
    "name": "tiny",
    "epochs": 1,
    "seeds": 2,
    "base": {"stem_filters": 8, "stages": [{"filters": 8, "downsampling": "max"}]},
    "variants": {"avg": {"downsampling": "avg"}, "strided": {"downsampling": "strided"}},
    "expect": {"strided": {"direction": "no_worse", "margin": 0.05}, "avg": "higher"},
    "confirmation": {"claims": ["strided"], "seeds": [7, 8], "plan": "2 seeds a side, for the test."},
}


def test_the_built_in_confirmations_are_the_ones_committed():
    assert CONFIRMED == [("depth", 1), ("pooling", 1), ("upsampling", 1), ("upsampling", 2)]
    assert all((RESULTS / name_of(name, which) / "runs.jsonl").exists() for name, which in CONFIRMED)


@pytest.mark.parametrize("name, which", CONFIRMED)
def test_a_confirmation_is_its_study_on_fresh_seeds_with_the_claims_it_names(name, which):
    study, confirmation = load_study(name), load_study(name, confirmation=which)
    listed = sections(YAMLS[name])
    section, earlier = listed[which - 1], listed[:which - 1]
    assert confirmation.name == name_of(name, which) and split_name(confirmation.name) == (name, which)
    assert confirmation.seeds == tuple(section["seeds"])
    assert not set(confirmation.seeds) & set(range(study.seeds["most"]))  # none of the study's own seeds
    assert not {seed for entry in earlier for seed in entry["seeds"]} & set(confirmation.seeds)  # nor earlier ones'
    assert not {claim for entry in earlier for claim in entry["claims"]} & set(section["claims"])  # a claim once
    assert confirmation.expect == {claim: study.expect[claim] for claim in section["claims"]}  # sizes unchanged
    references = {claim["versus"] for claim in confirmation.expect.values()} - {"baseline"}
    assert list(confirmation.variants) == [v for v in study.variants if v in {*section["claims"], *references}]
    for field in ("task", "dataset", "epochs", "batch_size", "learning_rate", "schedule", "warmup_epochs",
                  "bn_batches", "metric", "base", "paper", "claim", "limits"):
        assert getattr(confirmation, field) == getattr(study, field), field
    assert confirmation.description.startswith(f"A confirmation of the {name} study's claims on ")
    assert " ".join(section["plan"].split()) in confirmation.description


@pytest.mark.parametrize("name, which", CONFIRMED)
def test_each_committed_seed_count_is_the_exact_tests_plan_from_the_studys_committed_runs(name, which):
    """The count a confirmation's YAML names is the one the committed runs give: for each confirmed claim the
    fewest seeds a side at which the exact test, at 0.05 over the confirmed claims, decides the runs' Δ with 80%
    power at their pooled SD; the confirmation runs the largest of these."""
    study, confirmation = read_study(RESULTS / name), load_study(name, confirmation=which)
    runs = [run for run in read_runs(RESULTS / name) if run["status"] == "COMPLETED"]
    values = {variant: metric_values([run for run in runs if run["variant"] == variant], study["metric"])
              for variant in ["baseline", *study["variants"]]}
    counts = plan_count(values, confirmation.expect, study["metric"])
    assert None not in counts.values() and max(counts.values()) == len(confirmation.seeds), counts


def test_the_plan_is_decided_more_often_with_more_seeds():
    values = {"baseline": [0.95, 0.955, 0.952, 0.949], "strided": [0.94, 0.941, 0.936, 0.943]}
    claim = {"direction": "no_worse", "margin": 0.01, "versus": "baseline"}
    near = plan_count(values, {"strided": claim}, "test_accuracy")["strided"]
    far = plan_count({**values, "strided": [v - 0.01 for v in values["strided"]]}, {"strided": claim},
                     "test_accuracy")["strided"]
    assert near > far >= 2  # a Δ nearer the margin's edge needs more seeds to decide


@pytest.mark.parametrize(
    "change, message",
    [
        ({"confirmation": None}, r"^study 'tiny' has no `confirmation` section"),
        ({"confirmation": {**TINY["confirmation"], "claims": ["wide"]}},
         r"^`confirmation.claims` must list claims of `expect` \(strided, avg\). Received: claims=\['wide'\]"),
        ({"confirmation": {**TINY["confirmation"], "seeds": [1, 7]}},
         r"^`confirmation.seeds` must be fresh: seed 1 is one the study or an earlier confirmation may run"),
        ({"confirmation": {**TINY["confirmation"], "plan": ""}},
         r"^`confirmation.plan` must say how its seed count was planned"),
        ({"confirmation": {**TINY["confirmation"], "when": "now"}},
         r"^`confirmation` must be a mapping of claims, seeds, plan"),
        ({"confirmation": [TINY["confirmation"], {**TINY["confirmation"], "claims": ["avg", "strided"],
                                                  "seeds": [9]}]},
         r"^`confirmation\[1\]\.claims` must be claims no earlier confirmation tested: 'strided' is confirmation "
         r"1's"),
        ({"confirmation": [TINY["confirmation"], {**TINY["confirmation"], "claims": ["avg"], "seeds": [9, 8]}]},
         r"^`confirmation\[1\]\.seeds` must be fresh: seed 8 is one the study or an earlier confirmation may run"),
        ({"confirmation": [TINY["confirmation"], "avg"]}, r"^`confirmation\[1\]` must be a mapping of claims"),
    ],
)
def test_a_bad_confirmation_is_named(change, message):
    values = {**TINY, **change}
    if values["confirmation"] is None:
        del values["confirmation"]
    with pytest.raises(SpecError, match=message):
        build_study(confirm(values))


def test_a_later_confirmation_is_named_by_its_place():
    values = {**TINY, "confirmation": [TINY["confirmation"],
                                       {"claims": ["avg"], "seeds": [9, 10, 11], "plan": "3 seeds a side."}]}
    first, second = build_study(confirm(values)), build_study(confirm(values, 2))
    assert (first.name, first.seeds, list(first.expect)) == ("tiny-confirmation", (7, 8), ["strided"])
    assert (second.name, second.seeds, list(second.expect)) == ("tiny-confirmation-2", (9, 10, 11), ["avg"])
    assert [split_name(name) for name in ("tiny", "tiny-confirmation", "tiny-confirmation-2", "a-2")] == [
        ("tiny", 0), ("tiny", 1), ("tiny", 2), ("a-2", 0)]
    with pytest.raises(SpecError, match=r"^study 'tiny' has 2 confirmations: --confirmation must be 1 to 2\. "
                                        r"Received: 3$"):
        confirm(values, 3)


def test_a_confirmation_runs_for_real_and_tests_its_claims_alone(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(yaml.safe_dump(TINY))
    logdir = tmp_path / "confirm"
    result = subprocess.run([sys.executable, "-m", "convnas", "ablate", str(spec), "--confirmation", "--logdir",
                             str(logdir)], env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ablation tiny-confirmation: 2 variants x 2 seeds = 4 runs" in result.stdout
    runs = [json.loads(line) for line in (logdir / "runs.jsonl").read_text().splitlines()]
    assert sorted((run["variant"], run["seed"]) for run in runs) == [
        ("baseline", 7), ("baseline", 8), ("strided", 7), ("strided", 8)]
    study = read_study(logdir)
    assert study["name"] == "tiny-confirmation" and list(study["expect"]) == ["strided"]
    table = (logdir / "table.md").read_text()
    assert "| strided |" in table and "avg" not in table
