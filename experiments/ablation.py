"""The YAML ablation studies (`experiments.ablation_spec`), run as a `Study`: one ablation-run path.

A spec study differs from a study over a model of one's own in three things
only: a variant's config is the stage-aware substitution on the base
(`ablation_spec.substitute`: a stage field in every stage or in stage<n>),
its model is the task's network of the validated Design
(`ablation_spec.make_design`), with its receptive field where the task has
one, and study.json records the resolved spec. Costs, runs, TensorBoard,
resume, a seed plan (`experiments.seed_plan`) and the table are
`experiments.study.Study`'s (its module docstring describes LOGDIR).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from convnas.experiments.ablation_spec import BASELINE, AblationSpec, Design, make_design, substitute
from convnas.experiments.study import Study

if TYPE_CHECKING:
    import keras


class SpecStudy(Study):
    """An `AblationSpec` as a `Study`: its data loads first, so a missing dataset writes nothing."""

    def __init__(self, spec: AblationSpec, logdir: str | os.PathLike):
        from convnas.experiments import tasks  # Keras and TensorFlow load with the data

        self.spec = spec
        super().__init__(
            build=self.build_design, base=spec.base, variants=spec.variants,
            data=tasks.load_data(spec.task, spec.dataset), seeds=spec.seeds, epochs=spec.epochs, logdir=logdir,
            name=spec.name, task=spec.task, metric=spec.metric, batch_size=spec.batch_size,
            learning_rate=spec.learning_rate, schedule=spec.schedule, warmup_epochs=spec.warmup_epochs,
            bn_batches=spec.bn_batches, description=spec.description, paper=spec.paper, claim=spec.claim,
            expect=spec.expect, limits=spec.limits,
        )

    def config(self, variant: str) -> dict:
        """The architecture mapping of `variant`: the base, with the variant's stage-aware substitution."""
        if variant == BASELINE:
            return dict(self.spec.base)
        return substitute(self.spec.base, self.spec.variants[variant], self.spec.task, f"variants.{variant}")

    def design(self, config: dict) -> Design:
        """The validated Design of an architecture mapping (every variant's was checked when the spec loaded)."""
        return make_design(config, self.spec.task, "design")

    def build_design(self, config: dict) -> keras.Model:
        """The (uncompiled) network of a config's Design; the task compiles it."""
        return self.task.build(self.design(config))

    def receptive_field(self, config: dict) -> int | None:
        return self.task.receptive_field(self.design(config))

    def as_dict(self) -> dict:
        return {**self.spec.as_dict(), **self.seed_fields()}  # a seed plan: its settings, and the pilot's seeds


def run_study(
    spec: AblationSpec, logdir: str | os.PathLike, overwrite: bool = False, write: Callable[[str], None] = print,
    command: str = "",
) -> list[dict]:
    """Runs (or resumes) every variant x seed of `spec` in `logdir`; writes and returns the table rows.

    `command` is how the study was launched, kept in study.json for its report.
    """
    return SpecStudy(spec, logdir).run(overwrite=overwrite, write=write, command=command)
