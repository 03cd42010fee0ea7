"""The command line's help says what the commands do, and a mistyped flag, command or name gets a suggestion."""

import dataclasses
import re

import pytest

from convnas.arguments import spec_flag_values
from convnas.cli import build_parser, main
from convnas.experiments.ablation_spec import AblationSpec, load_study
from convnas.search.space.spec import FIELDS, SearchSpec, build_spec

SEARCH_FLAGS = {"--dataset": "dataset", "--tuner": "tuner", "--max-trials": "max_trials", "--epochs": "epochs",
                "--batch-size": "batch_size", "--objective": "objective", "--pareto-cost": "pareto_cost",
                "--prescreen": "prescreen", "--proxy": "proxy", "--max-redraws": "max_redraws",
                "--cost-weight": "cost_weight", "--logdir": "logdir", "--seed": "seed", "--schedule": "schedule",
                "--warmup-epochs": "warmup_epochs", "--bn-batches": "bn_batches", "--eta": "eta"}


def help_text(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def entries(text: str) -> dict[str, str]:
    """Each option's entry in a help text, by its first flag: the flag, its metavar and its help, on one line."""
    found, flag = {}, None
    for line in text.splitlines():
        if re.match(r"  -", line):
            flag = line.split()[0].rstrip(",")
            found[flag] = " ".join(line.split())
        elif flag and line.startswith("   "):
            found[flag] += " " + " ".join(line.split())
        else:
            flag = None
    return found


def test_search_help_shows_the_spec_defaults_while_the_flags_stay_unset(capsys, tmp_path):
    options = entries(help_text(capsys, "search"))
    defaults = {field.name: field.default for field in dataclasses.fields(SearchSpec)}
    for flag, field in SEARCH_FLAGS.items():
        assert options[flag].endswith(f"(default: {defaults[field]})"), options[flag]
    with_default = sorted(flag for flag, entry in options.items() if "(default: " in entry)
    assert with_default == sorted([*SEARCH_FLAGS, "--lost-worker-timeout"])
    args = build_parser().parse_args(["search"])
    assert all(getattr(args, field) is None for field in SEARCH_FLAGS.values())
    spec_file_values = {"max_trials": 3, "epochs": 2, "batch_size": 16}
    flags = {field: getattr(args, field) for field in SEARCH_FLAGS.values()}
    assert dataclasses.asdict(build_spec(spec_file_values, flags)).items() >= spec_file_values.items()


def test_every_search_spec_field_but_the_space_is_a_flag_that_sets_it():
    values = {"dataset": "cluttered_digits", "tuner": "evolution", "max_trials": 3, "epochs": 2, "batch_size": 16,
              "objective": "pareto", "cost_weight": 0.2, "max_flops": 1e6, "max_params": 5000.0,
              "max_latency_ms": 2.5, "pareto_cost": "params", "prescreen": 4, "proxy": "snip", "max_redraws": 50,
              "seed": 7, "deterministic": True, "logdir": "runs/a", "overwrite": True, "schedule": "constant",
              "warmup_epochs": 2, "bn_batches": 0, "eta": 4}
    assert set(values) == FIELDS - {"space"}
    argv = ["search"]
    for name, value in values.items():
        flag = "--" + name.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    spec = build_spec({}, spec_flag_values(build_parser().parse_args(argv), SearchSpec))
    assert {name: getattr(spec, name) for name in values} == values


def test_the_ablate_flags_set_the_study_fields_they_name(capsys):
    args = build_parser().parse_args(["ablate", "pooling", "--seeds", "2", "--epochs", "3", "--dataset", "digits"])
    assert set(spec_flag_values(args, AblationSpec)) == {"dataset", "epochs", "seeds"}
    study = load_study("pooling", overrides=spec_flag_values(args, AblationSpec))
    assert (study.seeds, study.epochs, study.dataset) == ((0, 1), 3, "digits")
    text = " ".join(help_text(capsys, "ablate").split())
    assert "--dataset DATASET digits, cluttered_digits, " in text and "dir:PATH, photos (upsampling)" in text


def test_ablate_help_describes_the_tests_the_table_makes(capsys):
    text = " ".join(help_text(capsys, "ablate").split())
    assert "95% CI" in text and "%%" not in text
    assert "exact permutation test" in text and "Holm-adjusted" in text and "Welch" not in text


def test_board_help_covers_searches_and_ablation_studies(capsys):
    text = help_text(capsys, "board")
    assert "a search's or an ablation study's --logdir" in " ".join(text.split()) and "SIGTERM" in text
    assert entries(text)["--port"].endswith("(default: 6006)")
    assert entries(text)["--host"].endswith("(default: 127.0.0.1)")
    assert "TensorBoard on a search's or an ablation study's logs" in " ".join(help_text(capsys).split())


@pytest.mark.parametrize(
    "command, flag, default",
    [
        ("trials", "--format", "text, or md with --all"),
        ("table", "--format", "md"),
        ("ablate", "--epochs", "the study's"),
        ("ablate", "--seeds", "the study's"),
        ("ablate", "--dataset", "the study's"),
        ("cost", "--input-shape", "the model's own, e.g. 224,224,3"),
        ("cost", "--batch-size", "1"),
        ("blocks", "--input-shape", "32,32,16"),
    ],
)
def test_an_option_with_a_default_says_it(capsys, command, flag, default):
    assert entries(help_text(capsys, command))[flag].endswith(f"(default: {default})")


def test_version_and_a_bare_command_line(capsys):
    from convnas import __version__

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out == f"convnas {__version__}\n"
    assert main([]) == 2
    commands = ", ".join(build_parser()._subparsers._group_actions[0].choices)
    assert capsys.readouterr().err == (f"error: convnas: the following arguments are required: COMMAND, one of "
                                       f"{commands} (convnas --help says what each does)\n")


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", "--max-trail", "3"],
         "convnas search: unrecognized arguments: --max-trail; did you mean --max-trials?"),
        (["search", "--epohcs=2"], "convnas search: unrecognized arguments: --epohcs=2; did you mean --epochs?"),
        (["board", "logs", "--prot", "7000"],
         "convnas board: unrecognized arguments: --prot 7000; did you mean --port?"),
        (["serach"], "argument COMMAND: invalid choice: 'serach' (choose from 'blocks', 'cost', 'search', 'trials', "
                     "'ablate', 'table', 'board'); did you mean search?"),
        (["table", "logs", "--format", "latx"], "invalid choice: 'latx' (choose from 'md', 'text', 'csv', 'latex', "
                                                "'report', 'summary'); did you mean latex?"),
        (["cost", "ResNet5O"], "Received: MODEL='ResNet5O'; did you mean ResNet50?"),
        (["ablate", "polling"], "built-in studies: conv_type, depth, dilation, inception, pooling, upsampling (or a "
                                "SPEC.yaml file); did you mean pooling?"),
        (["trials", "logs", "--xyz"], "convnas trials: unrecognized arguments: --xyz"),  # nothing close: no suggestion
        # The mistyped flag took the place of a required argument: both are said, with the closest flag.
        (["trials", "--formt"], "convnas trials: the following arguments are required: LOGDIR; unrecognized arguments: "
                                 "--formt; did you mean --format?"),
        (["cost", "--batch-szie=4"], "convnas cost: the following arguments are required: MODEL; unrecognized "
                                     "arguments: --batch-szie; did you mean --batch-size?"),
    ],
)
def test_a_mistyped_flag_command_or_name_is_one_line_with_the_closest_valid_one(capsys, args, message):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert captured.err.rstrip("\n").endswith(message), captured.err
    if "did you mean" not in message:
        assert "did you mean" not in captured.err
