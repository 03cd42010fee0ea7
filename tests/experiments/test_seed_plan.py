"""Seed plans (`experiments.seed_plan`): seeds planned from a pilot's spread, checked against the exact test's power."""

import json
import math

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from convnas.cli import main
from convnas.experiments import Study, exact_power, seed_plan, statistics
from convnas.experiments.ablation_spec import build_study, check_seeds
from convnas.experiments.ablation_table import claims
from convnas.experiments.ablation_table.report import plan_statement
from convnas.search.common.spec_files import SpecError

HALF_LINE = (-0.01, math.inf)  # no_worse by 1 point of accuracy
UNIT = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]) / math.sqrt(2.5)  # five values of mean 0 and sample SD 1


def pilot(mean: float, std: float) -> list[float]:
    """Five pilot values of sample SD `std` around `mean`."""
    return list(mean + std * UNIT)


def test_least_seeds_is_the_pilot_for_a_tiny_spread_none_for_a_huge_one_and_the_first_to_reach_between():
    alpha = 0.05
    assert seed_plan.least_seeds(1e-6, 0.01, HALF_LINE, alpha, 5, 10) == 5
    assert exact_power.minimum_detectable_effect(0.5, 10, 10, HALF_LINE, alpha) > 0.01
    assert seed_plan.least_seeds(0.5, 0.01, HALF_LINE, alpha, 5, 10) is None
    # a spread that 7 seeds a side resolve and 6 do not
    q6, q7 = (exact_power.minimum_detectable_effect(1.0, n, n, HALF_LINE, alpha) for n in (6, 7))
    std = 0.01 / ((q6 + q7) / 2)
    assert exact_power.minimum_detectable_effect(std, 6, 6, HALF_LINE, alpha) > 0.01
    assert exact_power.minimum_detectable_effect(std, 7, 7, HALF_LINE, alpha) <= 0.01
    assert seed_plan.least_seeds(std, 0.01, HALF_LINE, alpha, 5, 10) == 7
    assert seed_plan.least_seeds(std, 0.01, HALF_LINE, alpha, 5, 6) is None
    # below 5 runs a side the exact test cannot reach alpha 0.025 at all: whatever the spread
    assert seed_plan.least_seeds(0.0, 0.01, HALF_LINE, 0.025, 2, 4) is None


def expected_needed(std, distance, bounds, alpha, fewest=5, most=10):
    """The least n in fewest..most whose MDE reaches `distance`, straight from exact_power."""
    return next((n for n in range(fewest, most + 1)
                 if exact_power.minimum_detectable_effect(std, n, n, bounds, alpha) <= distance), None)


def test_each_claim_needs_the_seeds_that_resolve_its_distance_at_holms_strictest_level():
    expect = {
        "avg": {"direction": "no_worse", "versus": "baseline", "margin": 0.01},  # resolve the margin
        "wide": {"direction": "higher", "versus": "baseline"},  # the effect past the claim's boundary
        "narrow": {"direction": "same", "versus": "wide"},  # a point: no requirement
        "cheap": {"direction": "lower", "versus": "baseline", "metric": "flops"},  # a cost: exact, not tested
    }
    values = {"baseline": pilot(0.90, 0.004), "avg": pilot(0.89, 0.0042), "wide": pilot(0.93, 0.002),
              "narrow": pilot(0.80, 0.02), "cheap": pilot(0.85, 0.003), "unclaimed": pilot(0.5, 0.1)}
    plan = {"pilot": 5, "most": 10, "effect": 0.006}
    outcome = seed_plan.plan_seeds(plan, expect, "test_accuracy", values)
    alpha = 0.05 / 3  # three tested comparisons: the cost claim is not one
    assert outcome["alpha"] == pytest.approx(alpha)
    comparisons = outcome["comparisons"]
    assert list(comparisons) == ["avg", "wide", "narrow"]
    std_avg = statistics.pooled_std(values["avg"], values["baseline"])
    assert comparisons["avg"]["std"] == pytest.approx(math.sqrt((0.004**2 + 0.0042**2) / 2))
    needed_avg = expected_needed(std_avg, 0.01, HALF_LINE, alpha)
    std_wide = statistics.pooled_std(values["wide"], values["baseline"])
    needed_wide = expected_needed(std_wide, 0.006, (0.0, math.inf), alpha)
    assert comparisons["avg"] == {"versus": "baseline", "direction": "no_worse", "std": pytest.approx(std_avg),
                                  "distance": 0.01, "needed": needed_avg}
    assert comparisons["wide"] == {"versus": "baseline", "direction": "higher", "std": pytest.approx(std_wide),
                                   "distance": 0.006, "needed": needed_wide}
    assert comparisons["narrow"]["distance"] is None and comparisons["narrow"]["needed"] is None
    assert (needed_avg, needed_wide) == (6, 8)  # neither the pilot nor the cap: the spreads decide
    assert outcome["planned"] == needed_wide and outcome["capped"] is False
    assert outcome["variants"] == ["baseline", "avg", "wide", "narrow"]  # claimed variants and their references
    assert outcome["pilot_only"] == ["cheap", "unclaimed"]  # described, not tested
    assert (outcome["pilot"], outcome["most"], outcome["effect"], outcome["metric"]) == (5, 10, 0.006, "test_accuracy")
    json.dumps(outcome)  # what study.json records


def test_a_same_claim_with_a_margin_must_resolve_its_both_ended_region():
    values = {"baseline": pilot(0.90, 0.005), "avg": pilot(0.95, 0.005)}
    claim = {"direction": "same", "versus": "baseline", "margin": 0.01}
    outcome = seed_plan.plan_seeds({"pilot": 5, "most": 10, "effect": None}, {"avg": claim}, "test_accuracy", values)
    expected = expected_needed(0.005, 0.01, claims.region(claim, "test_accuracy"), 0.05)
    assert outcome["comparisons"]["avg"]["needed"] == outcome["planned"] == expected == 7
    # a loss is better lower: no_worse is the region below the margin, resolved the same way
    loss = {"direction": "no_worse", "versus": "baseline", "margin": 0.05}
    outcome = seed_plan.plan_seeds({"pilot": 5, "most": 10, "effect": None}, {"avg": loss}, "test_loss",
                                   {"baseline": pilot(0.3, 0.025), "avg": pilot(0.3, 0.025)})
    assert outcome["planned"] == expected_needed(0.025, 0.05, (-math.inf, 0.05), 0.05) > 5


def test_the_plan_never_looks_at_the_difference_between_a_variant_and_its_reference():
    expect = {"avg": {"direction": "no_worse", "versus": "baseline", "margin": 0.01}}
    plan = {"pilot": 5, "most": 10, "effect": None}
    outcomes = [seed_plan.plan_seeds(plan, expect, "test_accuracy", {"baseline": pilot(0.9, 0.003),
                                                                      "avg": pilot(0.9 + shift, 0.004)})
                for shift in (-0.05, 0.0, 0.001, 0.05)]
    assert all(outcome == outcomes[0] for outcome in outcomes)


def test_no_requirement_keeps_the_pilot_and_an_unreachable_or_unmeasured_spread_hits_the_cap():
    plan = {"pilot": 5, "most": 8, "effect": None}
    values = {"baseline": pilot(0.9, 0.01), "avg": pilot(0.9, 0.01), "wide": pilot(0.9, 0.01)}
    directions = {"avg": {"direction": "higher", "versus": "baseline"},
                  "wide": {"direction": "same", "versus": "baseline"}}
    outcome = seed_plan.plan_seeds(plan, directions, "test_accuracy", values)
    assert (outcome["planned"], outcome["capped"]) == (5, False)
    assert all(c["distance"] is None and c["needed"] is None for c in outcome["comparisons"].values())
    assert "no claim sets a requirement, so every variant ran the pilot's 5 (most 8)." in plan_statement(outcome)
    far = {"avg": {"direction": "no_worse", "versus": "baseline", "margin": 0.001}}
    outcome = seed_plan.plan_seeds(plan, far, "test_accuracy", values)
    assert outcome["comparisons"]["avg"]["needed"] is None and (outcome["planned"], outcome["capped"]) == (8, True)
    assert "more than 8 seeds a side to resolve 0.10 pts" in plan_statement(outcome)
    assert "ran 8, the most (the cap was hit), for the claimed comparisons' variants, 5 for the others" in \
        plan_statement(outcome)
    unmeasured = {**values, "avg": [0.9]}  # a spread needs two values a side
    outcome = seed_plan.plan_seeds(plan, {"avg": {**far["avg"], "margin": 0.5}}, "test_accuracy", unmeasured)
    assert outcome["comparisons"]["avg"]["std"] is None and (outcome["planned"], outcome["capped"]) == (8, True)
    assert "SD unknown (fewer than two values a side), so the most to resolve 50.00 pts" in plan_statement(outcome)
    nothing = seed_plan.plan_seeds(plan, {}, "test_accuracy", values)
    assert (nothing["planned"], nothing["variants"], nothing["alpha"]) == (5, [], 0.05)
    assert plan_statement(nothing) == ("Seeds planned from a 5-seed pilot: no claimed comparison, so every variant "
                                       "ran the pilot's 5 (most 8).")


def test_the_plan_statement_reads_as_one_line():
    outcome = seed_plan.plan_seeds({"pilot": 5, "most": 10, "effect": None},
                                   {"avg": {"direction": "no_worse", "versus": "baseline", "margin": 0.01},
                                    "wide": {"direction": "higher", "versus": "baseline"}},
                                   "test_accuracy", {"baseline": pilot(0.9, 0.0025), "avg": pilot(0.9, 0.0025),
                                                     "wide": pilot(0.9, 0.0025), "deep": pilot(0.9, 0.0025)})
    needed = outcome["planned"]
    assert plan_statement(outcome) == (
        "Seeds planned from a 5-seed pilot: pooled SD of test_accuracy within each variant (no differences looked "
        "at) and the seeds the claims need for 80% power at α 0.025 (exact test): `avg` vs `baseline` SD 0.25 pts, "
        f"{needed} seeds a side to resolve 1.00 pts; `wide` vs `baseline` SD 0.25 pts, no requirement (higher, no "
        f"effect given); ran {needed} for the claimed comparisons' variants, 5 for the others (most 10).")
    assert "\n" not in plan_statement(outcome) and "; runs " in plan_statement(outcome, done=False)


def test_pilot_values_read_the_pilot_seeds_alone_and_leave_out_dead_runs_checkerboard():
    records = [{"variant": "baseline", "seed": seed, "status": "COMPLETED", "checkerboard": 0.1 * seed,
                "dead": seed == 1} for seed in range(4)]
    records.append({"variant": "avg", "seed": 0, "status": "FAILED", "checkerboard": 9.0})
    values = seed_plan.pilot_values(records, ["baseline", "avg"], 3, "checkerboard")
    assert values == {"baseline": [0.0, 0.2], "avg": []}


@pytest.mark.parametrize("value, plan", [
    ("auto", {"pilot": 5, "most": 10, "effect": None}),
    ({}, {"pilot": 5, "most": 10, "effect": None}),
    ({"pilot": 3}, {"pilot": 3, "most": 10, "effect": None}),
    ({"pilot": 2, "most": 3, "effect": 0.01}, {"pilot": 2, "most": 3, "effect": 0.01}),
    ({"pilot": 12, "most": 12, "effect": 1}, {"pilot": 12, "most": 12, "effect": 1.0}),
    ({"pilot": 5, "most": 10, "effect": None}, {"pilot": 5, "most": 10, "effect": None}),  # as study.json holds it
])
def test_a_plan_is_auto_or_a_mapping_of_pilot_most_and_effect(value, plan):
    assert check_seeds(value) == plan == seed_plan.check_plan(plan)
    assert check_seeds(3) == (0, 1, 2) and check_seeds([4, 1]) == (4, 1)  # a count or a list, as ever


@pytest.mark.parametrize("value, message", [
    ("atuo", r"^`seeds` must be a positive integer\. Received: seeds='atuo'; the one word it takes is 'auto' "
             r"\(a seed plan: pilot 5, most 10\)$"),
    ({"pilots": 3}, r"^`seeds` has an unknown key 'pilots'; a seed plan takes pilot, most and effect\. "
                    r"Received: seeds=\{'pilots': 3\}$"),
    ({"pilot": 1}, r"^`seeds.pilot` must be an integer of at least 2 .* Received: seeds.pilot=1$"),
    ({"pilot": 2.5}, r"^`seeds.pilot` must be an integer of at least 2 .* Received: seeds.pilot=2.5$"),
    ({"pilot": True}, r"Received: seeds.pilot=True$"),
    ({"pilot": 5, "most": 4}, r"^`seeds.most` must be an integer from seeds.pilot \(5\) to 1000\. "
                              r"Received: seeds.most=4$"),
    ({"pilot": 12}, r"^`seeds.most` must be .* Received: seeds.most=10 \(its default, 10\)$"),
    ({"most": 1001}, r"Received: seeds.most=1001$"),
    ({"effect": 0}, r"^`seeds.effect` must be a positive number in the main metric's units \(0.01: 1 point of "
                    r"accuracy\)\. Received: seeds.effect=0$"),
    ({"effect": -0.01}, r"Received: seeds.effect=-0.01$"),
    ({"effect": "1pt"}, r"Received: seeds.effect='1pt'$"),
    ({"effect": float("inf")}, r"Received: seeds.effect=inf$"),
])
def test_a_bad_plan_is_one_line_naming_the_field_and_the_value(value, message):
    with pytest.raises(SpecError, match=message):
        check_seeds(value)
    with pytest.raises(SpecError, match=message):
        build_study({**SPEC, "seeds": value})


SPEC = {
    "name": "tiny",
    "epochs": 1,
    "base": {"stem_filters": 8, "stages": [{"filters": 8, "downsampling": "max"}]},
    "variants": {"avg": {"downsampling": "avg"}},
    "expect": {"avg": {"direction": "no_worse", "margin": 0.01}},
}


def test_a_spec_takes_a_plan_and_the_seeds_flag_overrides_it_with_a_count():
    spec = build_study({**SPEC, "seeds": "auto"})
    assert spec.seeds == {"pilot": 5, "most": 10, "effect": None}
    assert build_study({**SPEC, "seeds": {"pilot": 3, "effect": 0.02}}).seeds == {"pilot": 3, "most": 10,
                                                                                 "effect": 0.02}
    assert build_study({**SPEC, "seeds": "auto"}, overrides={"seeds": 3}).seeds == (0, 1, 2)  # convnas ablate --seeds 3
    full = build_study({**SPEC, "seeds": 2, "full": {"seeds": {"pilot": 4, "most": 8}}}, full=True)
    assert full.seeds == {"pilot": 4, "most": 8, "effect": None}


def test_a_spec_study_records_its_plan_and_its_pilot_seeds():
    from convnas.experiments.ablation import SpecStudy

    study = SpecStudy(build_study({**SPEC, "dataset": "digits", "seeds": {"pilot": 3, "most": 4}}), "unused")
    resolved = study.as_dict()
    assert resolved["seeds"] == [0, 1, 2] and resolved["seed_plan"] == {"pilot": 3, "most": 4, "effect": None}
    fixed = SpecStudy(build_study({**SPEC, "dataset": "digits", "seeds": 2}), "unused").as_dict()
    assert fixed["seeds"] == [0, 1] and "seed_plan" not in fixed  # a fixed count resolves as it always has


# A tiny study run for real with a plan: pilot 2, most 3. Below 5 runs a side the exact test cannot reach the
# claims' level, so a claim that sets a requirement needs more than any n up to 3: the cap, whatever the spread.

BUILT = []


def build(config: dict) -> keras.Model:
    BUILT.append(config)
    pooling = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}[config["pooling"]]
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(config["filters"], 3, padding="same",
                                                                          activation="relu"),
                             pooling(2), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])


@pytest.fixture(scope="module")
def arrays():
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., np.newaxis]
    return x[:600], digits.target[:600], x[1400:1600], digits.target[1400:1600]


PLAN = {"pilot": 2, "most": 3}
EXPECT = {"avg_pool": {"direction": "no_worse", "margin": 0.01}}


def make_study(arrays, logdir, **changes) -> Study:
    arguments = dict(build=build, base={"filters": 4, "pooling": "max"},
                     variants={"avg_pool": {"pooling": "avg"}, "wide": {"filters": 8}}, data=arrays, seeds=PLAN,
                     epochs=1, logdir=logdir, name="planned", learning_rate=0.01, bn_batches=0, expect=EXPECT)
    return Study(**{**arguments, **changes})


def unwrapped(lines: list[str]):
    """A `write` that keeps each message on one line, as it reads before wrapping to 100 columns."""
    return lambda text: lines.append(" ".join(text.split()))


@pytest.fixture(scope="module")
def planned(arrays, tmp_path_factory):
    """The planned study, run once: (logdir, rows, printed lines)."""
    logdir = tmp_path_factory.mktemp("planned")
    lines = []
    rows = make_study(arrays, logdir).run(write=unwrapped(lines))
    return logdir, rows, lines


def runs_of(logdir) -> list[dict]:
    return [json.loads(line) for line in (logdir / "runs.jsonl").read_text().splitlines()]


def test_claimed_variants_run_the_planned_seeds_and_the_others_the_pilots(planned):
    logdir, rows, lines = planned
    assert {row["variant"]: row["seeds"] for row in rows} == {"baseline": 3, "avg_pool": 3, "wide": 2}
    assert sorted((r["variant"], r["seed"]) for r in runs_of(logdir)) == sorted(
        [(v, s) for v in ("baseline", "avg_pool") for s in (0, 1, 2)] + [("wide", 0), ("wide", 1)])
    assert lines[0].startswith("ablation planned: 3 variants x 2 pilot seeds = 6 runs of 1 epoch on ")
    assert "(a pilot: then up to 3 seeds for the claimed comparisons' variants); 0 already done;" in lines[0]
    plan_lines = [line for line in lines if line.startswith("seed plan: ")]
    assert all(line.startswith("run ") for line in lines[1:7])
    assert len(plan_lines) == 1 and lines.index(plan_lines[0]) == 7  # after the pilot's six runs
    assert plan_lines[0].startswith("seed plan: Seeds planned from a 2-seed pilot: pooled SD of test_accuracy")
    assert "more than 3 seeds a side to resolve 1.00 pts" in plan_lines[0]
    assert plan_lines[0].endswith("runs 3, the most (the cap was hit), for the claimed comparisons' variants, "
                                  "2 for the others.")
    assert lines[8].startswith("ablation planned: 2 variants x 1 more seed = 2 runs; 0 already done;")
    assert [line.split(":")[0] for line in lines[9:11]] == ["run 1/2 baseline seed 2", "run 2/2 avg_pool seed 2"]


def test_study_json_records_the_plan_and_the_report_states_it(planned):
    logdir, rows, _ = planned
    study = json.loads((logdir / "study.json").read_text())
    assert study["seed_plan"] == {"pilot": 2, "most": 3, "effect": None} and study["seeds"] == [0, 1, 2]
    outcome = study["planned_seeds"]
    pilot = {v: [r["test_accuracy"] for r in runs_of(logdir) if r["variant"] == v and r["seed"] < 2]
             for v in ("baseline", "avg_pool")}
    assert outcome["comparisons"] == {"avg_pool": {
        "versus": "baseline", "direction": "no_worse", "std": pytest.approx(statistics.pooled_std(*pilot.values())),
        "distance": 0.01, "needed": None}}
    assert (outcome["planned"], outcome["capped"], outcome["alpha"]) == (3, True, 0.05)
    assert (outcome["variants"], outcome["pilot_only"]) == (["baseline", "avg_pool"], ["wide"])
    report = (logdir / "report.md").read_text()
    assert "seeds 0, 1, 2 (planned: below); main metric `test_accuracy`." in report
    assert f"\n{plan_statement(outcome)}\n" in report
    assert "ran 3, the most (the cap was hit), for the claimed comparisons' variants, 2 for the others." in report
    avg_pool = next(row for row in rows if row["variant"] == "avg_pool")
    assert avg_pool["verdict"].startswith("inconclusive")  # 3 runs a side: the test cannot decide at all


def test_a_rerun_trains_nothing_and_convnas_table_gives_the_same_table(arrays, planned, capsys):
    logdir, rows, _ = planned
    runs = (logdir / "runs.jsonl").read_text()
    lines = []
    BUILT.clear()
    again = make_study(arrays, logdir).run(write=unwrapped(lines))
    assert len(BUILT) == 3 and (logdir / "runs.jsonl").read_text() == runs  # costed again, trained never
    assert "6 already done" in lines[0] and lines[1].startswith("seed plan: ") and "2 already done" in lines[2]
    assert again == rows
    assert main(["table", str(logdir)]) == 0
    assert capsys.readouterr().out == (logdir / "table.md").read_text()


def test_a_study_killed_during_its_extension_plans_the_same_seeds_and_finishes_them(arrays, planned, tmp_path):
    logdir, rows, _ = planned
    kept = [line for line in (logdir / "runs.jsonl").read_text().splitlines()
            if json.loads(line)["run"] != "avg_pool/seed2"]
    (tmp_path / "runs.jsonl").write_text("\n".join(kept) + "\n")
    study = json.loads((logdir / "study.json").read_text())
    (tmp_path / "study.json").write_text(json.dumps({**study, "seeds": [0, 1]}))  # as the pilot left it
    lines = []
    resumed = make_study(arrays, tmp_path).run(write=unwrapped(lines))
    extension = next(index for index, line in enumerate(lines) if line.startswith("ablation planned: 2 variants"))
    assert "1 already done" in lines[extension] and lines[extension + 1].startswith("run 2/2 avg_pool seed 2:")
    assert json.loads((tmp_path / "study.json").read_text())["planned_seeds"] == study["planned_seeds"]
    tables = [[{k: v for k, v in row.items() if not k.startswith("train_seconds")} for row in table]
              for table in (resumed, rows)]
    assert tables[0] == tables[1]  # deterministic runs, the same plan: the uninterrupted study's table


@pytest.mark.parametrize("seeds", [{"pilot": 2, "most": 4}, {"pilot": 2, "most": 3, "effect": 0.01}, "auto", 3])
def test_a_resumption_under_another_plan_or_a_count_is_refused(arrays, planned, seeds):
    logdir, _, _ = planned
    with pytest.raises(SpecError, match=r"different spec \(changed: seed_plan\)"):
        make_study(arrays, logdir, seeds=seeds).run(write=lambda line: None)


def test_a_study_takes_auto_and_names_a_bad_plan(arrays, tmp_path):
    study = make_study(arrays, tmp_path, seeds="auto")
    assert study.seed_plan == {"pilot": 5, "most": 10, "effect": None} and study.seeds == (0, 1, 2, 3, 4)
    assert study.as_dict()["seeds"] == [0, 1, 2, 3, 4] and study.as_dict()["seed_plan"] == study.seed_plan
    assert "seed_plan" not in make_study(arrays, tmp_path, seeds=2).as_dict()
    with pytest.raises(ValueError, match=r"^`seeds.most` must be an integer from seeds.pilot \(2\) to 1000\. "
                                         r"Received: seeds.most=1$"):
        make_study(arrays, tmp_path, seeds={"pilot": 2, "most": 1})
    assert not any(tmp_path.iterdir())
