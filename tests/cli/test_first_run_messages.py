"""What a first-time user meets on the command line: help with defaults, clear one-line messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ebm_explorer.cli import sample_cmd
from ebm_explorer.cli.main import join_dash_values, main
from ebm_explorer.core.landscapes.formula import FormulaError, validate_formula


def test_no_display_says_how_to_run_headless(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "xvfb-run -a ebm-explorer" in err
    for command in ("sample", "train", "screenshot", "run"):
        assert command in err


@pytest.mark.parametrize("env", [{"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"QT_QPA_PLATFORM": "offscreen"}])
def test_a_display_or_offscreen_platform_is_enough(monkeypatch, env):
    from ebm_explorer.cli.gui_cmd import display_problem

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert display_problem() is None


SMALL = ["--walkers", "300", "--steps", "40", "--resolution", "64"]


def _percentages(text: str) -> list[float]:
    return [float(p) for p in re.findall(r"([0-9.eE+-]+)%", text)]


def test_a_formula_may_start_with_a_minus_sign(tmp_path, capsys):
    out = tmp_path / "ring.npz"
    assert main(["sample", "--formula", "-(x**2+y**2) + 0.1*(x**2+y**2)**2", "--box", "-4", "4", "-4", "4",
                 "--init", "-1,0.5", *SMALL, "--out", str(out)]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out


def test_dash_values_are_joined_only_for_expression_options():
    assert join_dash_values(["sample", "--formula", "-x**2", "--init", "-1,2"]) == [
        "sample", "--formula=-x**2", "--init=-1,2"]
    # a forgotten value is still reported by argparse, not swallowed as a formula
    assert join_dash_values(["sample", "--formula", "--box", "1"]) == ["sample", "--formula", "--box", "1"]


def test_unnormalisable_energy_is_refused_with_a_percentage_below_100(tmp_path, capsys):
    out = tmp_path / "never.npz"
    assert main(["sample", "--formula", "-(x**2+y**2)", *SMALL, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Not normalisable" in err and "--box" in err and "0.05*(x**2 + y**2)" in err
    assert _percentages(err) and all(0 <= p <= 100 for p in _percentages(err))
    assert not out.exists()
    assert main(["train", "--target", _write_toml(tmp_path, "-(x**2+y**2)"), "--model", "gmm",
                 "--method", "cd", "--iterations", "2", "--out", str(out)]) == 2
    assert "Not normalisable" in capsys.readouterr().err


def _write_toml(tmp_path, expr: str) -> str:
    path = tmp_path / "land.toml"
    path.write_text(f'[landscape]\nkind = "formula"\nexpr = "{expr}"\nbox = [-3, 3, -3, 3]\n')
    return str(path)


def test_reference_warnings_never_show_percentages_over_100():
    from ebm_explorer.core.landscapes import FormulaLandscape
    from ebm_explorer.core.reference import compute_reference

    for expr in ("-(x**2+y**2)", "0.01*(x**2+y**2)", "1"):
        land = FormulaLandscape(expr, (-3, 3, -3, 3))
        warnings = " ".join(compute_reference(land, land.box, resolution=64).warnings)
        assert "beyond" in warnings
        assert all(0 <= p <= 100 for p in _percentages(warnings)), warnings


def test_box_in_the_wrong_order_says_so(capsys):
    assert main(["sample", "--box", "1", "0", "0", "1", *SMALL]) == 2
    err = capsys.readouterr().err
    assert "xmin < xmax" in err and "XMIN XMAX YMIN YMAX" in err and "four numbers" not in err


@pytest.mark.parametrize("formula, column, words", [
    ("x**2 + y**2 +", 12, "ends after '+'"),
    ("2x + y**2", 1, "2*x"),
    ("x**2 + 3y", 8, "3*y"),
    ("  x -", 4, "ends after '-'"),
])
def test_formula_errors_point_at_the_right_column(formula, column, words, capsys):
    assert main(["sample", "--formula", formula, *SMALL]) == 2
    err = capsys.readouterr().err
    assert f"column {column}:" in err and words in err and repr(formula) in err
    with pytest.raises(FormulaError) as info:
        validate_formula(formula)
    assert info.value.position == column


def test_sample_without_out_writes_a_default_file_that_the_summary_names(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sample", "--landscape", "double_well", *SMALL]) == 0
    assert (tmp_path / "sample_double_well_mala_seed0.npz").exists()
    assert "wrote sample_double_well_mala_seed0.npz" in capsys.readouterr().out


def test_collapsed_acceptance_and_exploding_rhat_give_a_step_size_hint(tmp_path, capsys):
    assert main(["sample", "--landscape", "double_well", "--sampler", "hmc", "--step-size", "5",
                 "--leapfrog", "3", *SMALL, "--out", str(tmp_path / "h.npz")]) == 0
    out = capsys.readouterr().out
    assert "HINT: acceptance 0.0" in out and "lower --step-size (try 1.25)" in out
    assert sample_cmd.step_size_hints("hmc", 5.0, 0.0, 1.7e16)[1].startswith("HINT: R-hat 1.7e+16")
    assert sample_cmd.step_size_hints("mala", 0.1, 0.6, 1.004) == []
    assert "run more --steps" in sample_cmd.step_size_hints("mala", 0.1, 0.6, 1.5)[0]


def test_help_is_written_for_users_with_defaults(capsys):
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    assert "``" not in top and "dispatches" not in top and "docs/algorithms.md" in top and "xvfb-run" in top
    assert main(["sample", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default mala)", "(default 10000)", "(default 500)", "(default 0.1)", "(default 10)",
                    "(default 256)", "sample_<landscape>_<sampler>_seed<S>.npz"):
        assert default in text, default
    assert main(["experiment", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "default: experiment_mode_weights" in text and "minutes" in text


def _readme_usage() -> dict[str, str]:
    """The README's usage block: command -> its (possibly continued) usage text."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("```", 2)[1]
    usage: dict[str, str] = {}
    current = None
    for line in block.splitlines():
        if line.startswith("ebm-explorer "):
            words = line.split("#")[0].split()
            current = words[1] if len(words) > 1 else None  # `ebm-explorer` alone: the app
            if current:
                usage[current] = usage.get(current, "") + " " + line.split("#")[0]
        elif line.startswith("    ") and current:
            usage[current] += " " + line
    return usage


def test_readme_usage_and_help_agree():
    """Every option the README shows exists; bare ones are required, bracketed ones have defaults."""
    import argparse

    from ebm_explorer.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    usage = _readme_usage()
    assert {"sample", "reference", "train", "experiment", "run", "screenshot"} <= set(usage)
    for command, text in usage.items():
        actions = {opt: a for a in sub.choices[command]._actions for opt in a.option_strings}
        optional_part = " ".join(re.findall(r"\[[^\]]*\]", text))
        bare_part = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)
        for opt in re.findall(r"--[a-z][a-z-]*", text):
            assert opt in actions, f"README shows {command} {opt}, which --help does not list"
        for opt in re.findall(r"--[a-z][a-z-]*", optional_part):
            assert not actions[opt].required, f"README brackets {command} {opt}, but it is required"
        for opt in re.findall(r"--[a-z][a-z-]*", bare_part):
            assert actions[opt].required, f"README shows {command} {opt} as required, but it has a default"


def test_the_entry_point_imports_neither_torch_nor_qt():
    """The app's splash must be on screen before torch loads (seconds): ``cli.main`` may not import it,
    and a missing display is reported before any heavy import."""
    import subprocess
    import sys

    code = ("import sys, ebm_explorer.cli.main; "
            "print(sorted(m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
