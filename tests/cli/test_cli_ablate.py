"""`convnas ablate`, `table` and `trials`: bad input is one line on stderr and exit status 2, nothing written; a
folder given to the other command of the two says which command reads it."""

import pytest

from convnas.cli import main

BAD_SPEC = "epochs: 1\nbase: {stages: [{filters: 8}]}\nvariants: {v: {block: fancy_conv}}\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["ablate", "polling"],
         r"unknown study 'polling'; built-in studies: conv_type, depth, dilation, inception, pooling, upsampling"),
        (["ablate", "pooling", "--seeds", "0"], r"argument --seeds: must be a positive integer. Received: '0'"),
        (["ablate", "pooling", "--epochs", "-2"], r"argument --epochs: must be a positive integer. Received: '-2'"),
        (["ablate", "pooling", "--dataset", "imagenet"],
         r"`dataset` must be one of digits, .* Received: dataset='imagenet'"),
        (["ablate", "pooling", "--colour"], r"unrecognized arguments: --colour"),
        (["ablate", "{spec}"], r"`variants\.v\.stages\[0\]\.block` is an unknown block: 'fancy_conv'; allowed: conv, "),
        (["ablate", "missing.yaml"], r"spec file cannot be read: No such file or directory"),
        (["ablate", "inception", "--confirmation"], r"convnas ablate: study 'inception' has no `confirmation` "
                                                    r"section \(its claims, fresh seeds and plan\)$"),
        (["ablate", "pooling", "--confirmation", "2"], r"convnas ablate: study 'pooling' has 1 confirmation: "
                                                       r"--confirmation must be 1 to 1\. Received: 2$"),
        (["ablate", "upsampling", "--confirmation", "0"],
         r"argument --confirmation: must be a positive integer. Received: '0'"),
        (["ablate", "pooling", "--full", "--confirmation"],
         r"argument --confirmation: not allowed with argument --full"),
        (["table", "{logdir}"], r"convnas table: LOGDIR does not exist\. Received: LOGDIR='.*logs'$"),
        (["table", "{tmp}"], r"LOGDIR holds no ablation study \(no study.json\)"),
        (["table", "{search}"], r"LOGDIR holds a search, not an ablation study: `convnas trials LOGDIR` lists its "
                                r"trials\. Received: LOGDIR='.*search'$"),
        (["trials", "{study}"], r"convnas trials: no trial records in LOGDIR \(no trials.jsonl\); it holds an "
                                r"ablation study: `convnas table LOGDIR` prints its table\. "
                                r"Received: LOGDIR='.*study'$"),
        (["trials", "{logdir}"], r"convnas trials: LOGDIR does not exist\. Received: LOGDIR='.*logs'$"),
        (["trials", "{spec}"], r"convnas trials: LOGDIR is not a folder\. Received: LOGDIR='.*bad.yaml'$"),
        (["table", "{logdir}", "--format", "html"], r"argument --format: invalid choice: 'html'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    import re

    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD_SPEC)
    logdir = tmp_path / "logs"
    (tmp_path / "search").mkdir()
    (tmp_path / "search" / "trials.jsonl").write_text("")
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "study.json").write_text("{}")
    args = [arg.format(spec=spec, logdir=logdir, tmp=tmp_path, search=tmp_path / "search", study=tmp_path / "study")
            for arg in args]
    assert main([*args, "--logdir", str(logdir)] if args[0] == "ablate" else args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert re.search(message, err), err
    assert not logdir.exists()  # nothing half-written for the next run to trip over
