"""The README's command synopses and lists are the parser's flags and the registries' names.

Each `convnas COMMAND [...]` synopsis in the README's code blocks names
exactly the command's flags (a line with "[flags]" refers to another
synopsis; an example, without brackets, names some of them), and a flag
shown with its choices (`--tuner random|grid|...`) shows exactly the names
it takes, in order. The dataset list names `search.choices`'
datasets in order, the tuner paragraph every tuner, and the blocks table
every registered block.
"""

import argparse
import re
from pathlib import Path

import pytest

from convnas.cli import build_parser
from convnas.experiments.ablation_spec import AblationSpec
from convnas.search import choices
from convnas.search.space.spec import SearchSpec, flags

README = (Path(__file__).parents[2] / "README.md").read_text()
FLAG = re.compile(r"(--[a-z][a-z-]*)(?: ([^\s\[\]|]+(?:\|[^\s\[\]|]+)*))?")


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (subcommands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return dict(subcommands.choices)


def allowed_choices(command: str, parser: argparse.ArgumentParser) -> dict[str, tuple[str, ...]]:
    """Each flag of `command` that takes named choices: the names, in order."""
    found = {option: tuple(action.choices) for action in parser._actions if action.choices
             for option in action.option_strings}
    spec_class = {"search": SearchSpec, "ablate": AblationSpec}.get(command)
    if spec_class is not None:
        found.update({"--" + name.replace("_", "-"): flag.choices() for name, flag in flags(spec_class).items()
                      if flag.choices})
    return found


def synopses() -> list[str]:
    """Every `convnas COMMAND ...` line of the README's code blocks, its continuation lines joined, comments cut."""
    found, in_block = [], False
    for line in README.splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif in_block and line.startswith("convnas ") and not line.startswith("convnas --help"):
            found.append(line.split("  #")[0])
        elif in_block and found and line.startswith(" ") and line.strip().startswith("["):
            found[-1] += " " + line.strip()
    return found


def section(title: str) -> str:
    return README.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_has_a_synopsis_of_every_command():
    assert {line.split()[1] for line in synopses()} == set(command_parsers())


@pytest.mark.parametrize("line", synopses(), ids=lambda line: " ".join(line.split()[:2]) + f"...{len(line)}")
def test_each_synopsis_names_exactly_the_flags_and_choices_of_its_command(line):
    command = line.split()[1]
    parser = command_parsers()[command]
    shown = dict(FLAG.findall(line))
    if "[flags]" in line:
        assert not shown, line
        return
    options = {option for action in parser._actions for option in action.option_strings} - {"-h", "--help"}
    if "[" in line:
        assert set(shown) == options, f"README's `convnas {command}` synopsis differs from its flags"
    else:
        assert set(shown) <= options, f"README's `convnas {command}` example has flags the command lacks"
    for option, names in allowed_choices(command, parser).items():
        if "|" in shown.get(option, ""):
            assert tuple(shown[option].split("|")) == names, (option, shown[option], names)


def test_the_dataset_list_names_every_registered_dataset_in_order():
    listing = README.split("\nDatasets (`--dataset`):\n\n", 1)[1].split("\n\n", 1)[0]
    named = [name for bullet in re.findall(r"^- ((?:`[^`]+`(?:, )?)+)", listing, flags=re.M)
             for name in re.findall(r"`([^`]+)`", bullet)]
    assert tuple(named) == choices.dataset_names()


def test_the_tuner_paragraph_names_every_tuner():
    paragraph = section("## Architecture search").split("\nThe tuners are ", 1)[1].split("\n\n", 1)[0]
    assert set(choices.TUNERS) <= set(re.findall(r"`([^`]+)`", paragraph))


def test_the_blocks_table_lists_every_registered_block():
    from convnas import blocks

    rows = re.findall(r"^\| `([a-z0-9_]+)` \|", section("## Blocks"), flags=re.M)
    assert sorted(rows) == blocks.list_blocks()
