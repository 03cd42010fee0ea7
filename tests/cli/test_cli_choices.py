"""A proxy and a dataset registered in search.choices are offered and accepted by the CLI and the specs.

One `register` call each: the `convnas search` help lists them, the parser
and spec validation take them, `convnas ablate` takes the dataset, and an
unknown name is still one line naming every allowed name, the new ones
included. Nothing here trains: each command stops at a later validation
error.
"""

import pytest

from convnas.arguments import spec_flag_values
from convnas.cli import build_parser, main
from convnas.experiments import ablation_spec
from convnas.search import choices
from convnas.search.common.spec_files import SpecError
from convnas.search.space.spec import SearchSpec, build_spec

BAD_VARIANT = "base: {stages: [{filters: 8}]}\nvariants: {v: {block: fancy_conv}}\n"


@pytest.fixture
def registered():
    choices.PROXIES.register("dummy_proxy", "convnas.search.proxies:snip")
    choices.DATASETS.register("dummy_data", "convnas.search.data.datasets:digits_source")
    yield
    choices.PROXIES.unregister("dummy_proxy")
    choices.DATASETS.unregister("dummy_data")


def error_line(capsys, args) -> str:
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    return captured.err.rstrip("\n")


def test_the_search_help_lists_the_registered_names(registered, capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "grad_norm, snip, dummy_proxy (default: synflow)" in text
    assert "cifar100, dummy_data, npz:PATH, dir:PATH (default: digits)" in text


def test_the_parser_and_the_search_spec_accept_them(registered, capsys):
    args = build_parser().parse_args(["search", "--proxy", "dummy_proxy", "--dataset", "dummy_data",
                                      "--prescreen", "4"])
    spec = build_spec({}, spec_flag_values(args, SearchSpec))
    assert (spec.proxy, spec.dataset, spec.prescreen) == ("dummy_proxy", "dummy_data", 4)
    assert build_spec({"proxy": "dummy_proxy", "dataset": "dummy_data"}, {}).proxy == "dummy_proxy"
    # Validation goes on past them (max_redraws is checked after both), and stops before anything runs.
    line = error_line(capsys, ["search", "--proxy", "dummy_proxy", "--dataset", "dummy_data", "--max-redraws", "0"])
    assert line.endswith("`max_redraws` must be a positive integer. Received: max_redraws=0"), line


def test_the_ablation_spec_accepts_the_dataset(registered, tmp_path, capsys):
    assert ablation_spec.load_study("pooling", overrides={"dataset": "dummy_data"}).dataset == "dummy_data"
    (tmp_path / "bad.yaml").write_text(BAD_VARIANT)
    line = error_line(capsys, ["ablate", str(tmp_path / "bad.yaml"), "--dataset", "dummy_data"])
    assert "`variants.v.stages[0].block` is an unknown block: 'fancy_conv'" in line, line


def test_an_unknown_name_is_one_line_naming_every_allowed_one(registered, capsys):
    line = error_line(capsys, ["search", "--proxy", "dummy"])
    assert line.endswith("`proxy` must be one of 'synflow', 'naswot', 'jacob_cov', 'grad_norm', 'snip', 'dummy_proxy'. "
                         "Received: proxy='dummy'"), line
    line = error_line(capsys, ["ablate", "pooling", "--dataset", "dummy"])
    assert line.endswith("`dataset` must be one of digits, cluttered_digits, mnist, fashion_mnist, cifar10, cifar100, "
                         "dummy_data, npz:PATH, dir:PATH. Received: dataset='dummy'"), line


def test_an_unregistered_name_is_refused_again():
    choices.PROXIES.register("dummy_proxy", "convnas.search.proxies:snip")
    assert build_spec({"proxy": "dummy_proxy"}, {}).proxy == "dummy_proxy"
    choices.PROXIES.unregister("dummy_proxy")
    with pytest.raises(SpecError, match=r"`proxy` must be one of 'synflow', .*'snip'\. Received: proxy='dummy_proxy'"):
        build_spec({"proxy": "dummy_proxy"}, {})
