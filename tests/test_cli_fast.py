"""The start-up fast path (cli/fast.py) accepts only command lines that click reads the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.cli import fast
from multusctl.cli.check import check_cmd
from multusctl.cli.detect import detect_cmd
from tests.fuzzkit import examples


def _click_params(cmd, args: list[str]) -> dict[str, object] | None:
    import click

    try:
        ctx = cmd.make_context(cmd.name, list(args))
    except (click.exceptions.Exit, click.ClickException):
        return None
    return dict(ctx.params)


TOKENS = ["--root", "--distro", "k3s", "kind", "--role", "agent", "--conf-dir", "/etc/cni/net.d", "--bin-dir",
          "/opt/cni/bin", "-o", "json", "-ojson", "-osarif", "--output", "--output=text", "junit", "yaml",
          "--skip", "confdir.order", "--daemon-config", "/x.json", "--color", "--no-color", "--color=1", "-h",
          "-v", "--verbose", "-vv", "-vo", "--verbose=1",
          "--help", "--", "-", "", "--roo", "--root=", "x", "-o=json", "--bin-dir=/b", "--distro=rke2", "--root=ROOT"]


def _sub(args: list[str], root: Path) -> list[str]:
    return [a.replace("ROOT", str(root)) for a in args]


def _check(args: list[str], root: Path) -> None:
    args = _sub(args, root)
    for options, flags, cmd in ((fast._CHECK, fast._CHECK_FLAGS, check_cmd), (fast._DETECT, {}, detect_cmd)):
        ours = fast.parse(args, options, flags)
        if ours is not None:
            assert _click_params(cmd, args) == ours, args


@pytest.mark.parametrize("args", [
    [], ["--root", "ROOT"], ["--root=ROOT", "-ojson", "--skip", "a", "--skip", "b", "--no-color"],
    ["--root", "ROOT", "--bin-dir", "/a", "--bin-dir=/b", "--distro", "k3s", "--role", "agent", "-o", "json"],
    ["--root", "ROOT", "--output", "sarif", "--output", "junit", "--color"],
    ["--root", "ROOT", "-v"], ["--verbose", "--root=ROOT", "-v"],
    ["--root", "ROOT", "--daemon-config", "/etc/cni/net.d/multus.d/daemon-config.json", "--conf-dir", "/c"],
])
def test_accepted_command_lines_parse_as_click_parses_them(args: list[str], tmp_path: Path) -> None:
    _check(args, tmp_path)
    assert fast.parse(_sub(args, tmp_path), fast._CHECK, fast._CHECK_FLAGS)


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["--root", "ROOT", "--help"], ["--root"], ["--root", "/nonexistent/x"], ["--roo", "ROOT"],
    ["-o", "yaml"], ["--color=1"], ["-vv"], ["--verbose=1"],
    ["x"], ["--"], ["--root", "ROOT", "--", "-o"], ["--root", ""],
])
def test_everything_else_goes_to_click(args: list[str], tmp_path: Path) -> None:
    assert fast.parse(_sub(args, tmp_path), fast._CHECK, fast._CHECK_FLAGS) is None


def test_a_file_as_root_goes_to_click(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert fast.parse(["--root", str(tmp_path / "f")], fast._CHECK, fast._CHECK_FLAGS) is None


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from([*TOKENS, "ROOT"]), max_size=8))
def test_any_token_soup_agrees_with_click(tmp_path_factory: pytest.TempPathFactory, args: list[str]) -> None:
    _check(args, tmp_path_factory.getbasetemp())
