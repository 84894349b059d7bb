"""The fast path of `nad test FILE` (cli/fast.py) accepts only command lines that click reads the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.cli import fast
from multusctl.cli.nad_test import test_cmd as nad_test_cmd
from tests.fuzzkit import examples


def _click_params(args: list[str]) -> dict[str, object] | None:
    import click

    try:
        ctx = nad_test_cmd.make_context("test", list(args))
    except (click.exceptions.Exit, click.ClickException):
        return None
    return dict(ctx.params)


TOKENS = ["FILE", "DIR", "--bin-dir", "/usr/lib/cni", "--bin-dir=/opt/cni/bin", "-o", "json", "-ojson", "-osarif",
          "--output", "--output=text", "junit", "yaml", "--ifname", "net2", "--ifname=eth0", "a b",
          "waytoolonginterface",
          "--timeout", "2s", "--timeout=500ms", "10ms", "x", "--timeout=", "--namespace", "-n", "default", "--keep",
          "--ping", "10.0.0.1", "--annotation", "--root", "/", "--color", "-v", "-h", "--help", "--", "-", "",
          "--bin", "--if", "cluster-nad"]


def _sub(args: list[str], tmp: Path) -> list[str]:
    return [str(tmp / "nad.json") if a == "FILE" else str(tmp) if a == "DIR" else a for a in args]


def _agree(args: list[str], tmp: Path) -> None:
    (tmp / "nad.json").touch()
    args = _sub(args, tmp)
    ours = fast.parse_nad_test(args)
    if ours is not None:
        assert _click_params(args) == ours, args


@pytest.mark.parametrize("args", [
    ["FILE"], ["FILE", "--bin-dir", "/usr/lib/cni", "-o", "json"], ["-ojson", "FILE"],
    ["--bin-dir", "/a", "FILE", "--bin-dir=/b", "--output", "sarif", "--output=junit"],
    ["FILE", "--ifname", "net2", "--timeout", "2s"], ["--ifname=eth0", "--timeout=500ms", "FILE", "-o", "text"],
])
def test_accepted_command_lines_parse_as_click_parses_them(args: list[str], tmp_path: Path) -> None:
    _agree(args, tmp_path)
    assert fast.parse_nad_test(_sub(args, tmp_path)) is not None


@pytest.mark.parametrize("args", [
    [], ["--help"], ["FILE", "-h"], ["FILE", "FILE"], ["DIR"], ["cluster-nad"], ["-"], ["FILE", "--"],
    ["FILE", "--ifname", "a b"], ["FILE", "--ifname", "waytoolonginterface"], ["FILE", "--timeout", "10ms"],
    ["FILE", "--timeout", "x"], ["FILE", "--timeout="], ["FILE", "-o", "yaml"], ["FILE", "--keep"],
    ["FILE", "--ping", "10.0.0.1"], ["FILE", "-n", "default"], ["FILE", "--root", "/"], ["FILE", "--bin", "/b"],
    ["FILE", "--bin-dir"], ["--annotation", "x"],
])
def test_everything_else_goes_to_click(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "nad.json").touch()
    assert fast.parse_nad_test(_sub(args, tmp_path)) is None


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=8))
def test_any_token_soup_agrees_with_click(tmp_path_factory: pytest.TempPathFactory, args: list[str]) -> None:
    _agree(args, tmp_path_factory.getbasetemp())


def test_only_nad_test_takes_the_fast_path() -> None:
    # `nad validate` and a bare `nad` stay click's (run_fast hands them back before parsing anything).
    assert fast.run_fast(["nad", "validate", "x"], "multusctl") is False
    assert fast.run_fast(["nad"], "multusctl") is False
