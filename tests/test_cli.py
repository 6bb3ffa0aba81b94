"""The command line tells a user's mistake from a bug.

Bad input (a BadInput: configuration, values, paths, damaged files) prints one
line ``error: ...`` and exits 2; any other exception is a bug: its traceback is
shown and the exit code is 1.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from repro.errors import BadInput, ConfigError


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def with_command(body: str) -> str:
    """A process whose 'train' command runs ``body`` (a lambda's body) through cli.main."""
    return (
        "import sys, repro.cli as cli\n"
        "from repro.errors import BadInput\n"
        "def fail(args):\n"
        f"    {body}\n"
        "cli.COMMANDS['train'] = fail\n"
        "sys.exit(cli.main(['train', '--config', 'supervised-normal']))\n"
    )


def test_bad_input_is_one_line_and_exit_2():
    out = run_python(with_command("raise BadInput('steps must be >= 1; got 0')"))
    assert out.returncode == 2
    assert out.stderr == "error: steps must be >= 1; got 0\n"


@pytest.mark.parametrize(
    "body, kind",
    [
        ("return 1 // 0", "ZeroDivisionError"),
        ("raise ValueError('an internal check failed')", "ValueError"),  # not BadInput: a bug
        ("raise KeyError('config')", "KeyError"),
    ],
)
def test_a_bug_shows_its_traceback_and_exit_1(body, kind):
    out = run_python(with_command(body))
    assert out.returncode == 1
    assert "Traceback (most recent call last)" in out.stderr and kind in out.stderr
    assert not out.stderr.startswith("error: ")


def test_real_bad_input_from_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "repro", "train", "--config", "nope"], capture_output=True, text=True
    )
    assert out.returncode == 2 and out.stderr.startswith("error: unknown configuration 'nope'")
    assert len(out.stderr.strip().splitlines()) == 1


def test_config_error_is_bad_input_and_a_value_error():
    # ValueError stays a base class so numpy-style callers can catch it as before.
    assert issubclass(ConfigError, BadInput) and issubclass(BadInput, ValueError)


def test_figures_command_names_a_bad_figure_or_a_missing_summary(tmp_path):
    def figures(*args: str) -> subprocess.CompletedProcess:
        argv = [sys.executable, "-m", "repro", "--results", str(tmp_path), "figures", *args]
        return subprocess.run(argv, capture_output=True, text=True)

    out = figures("--only", "fig9_nothing")
    assert out.returncode == 2 and out.stderr.startswith("error: unknown figure 'fig9_nothing'")
    out = figures()
    assert out.returncode == 2 and "summary.json does not exist" in out.stderr
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--seed", "１０"], "at most 20 ASCII digits; got '１０'"),
        (["--seed", "٣"], "ASCII digits"),
        (["--seed", "7" * 250], "at most 20 ASCII digits; got '7777"),
        (["--seed", "7" * 4000], "(4002 characters)"),
        (["--seed", str(2**63)], "seed must be in [0, 9223372036854775807]"),
        (["--set", "steps=１０"], "steps must be an integer of at most 20 ASCII digits"),
        (["--set", "gamma=０.５"], "gamma must be a number (ASCII digits)"),
    ],
)
def test_numbers_are_ascii_digits_in_range_with_a_short_error(argv, says, capsys):
    from repro.cli import main

    train = ["train", "--config", "supervised-normal", "--regime", "fixed", "--scale", "smoke"]
    try:
        code = main([*train, *argv])
    except SystemExit as e:  # argparse's own refusal of an option's value
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and len(err) < 300, err[:300]
    assert says in err


def test_a_member_seed_is_ascii_digits():
    from repro.cli import member_config

    with pytest.raises(ConfigError, match="ASCII digits"):
        member_config("supervised-normal/fixed/１", "smoke")
    assert member_config("supervised-normal/fixed/3", "smoke").seed == 3
