"""The ``microcalc-check`` command line."""

import subprocess
import sys

import pytest

from microcalc.cli import main


def test_2x2_prints_the_unique_table_and_the_test_verdicts(capsys):
    rc = main(["2x2", "20.6%", "31.6%", "--n-total", "313", "--or", "1.780", "--ci", "1.065", "2.974",
               "--or-p", "P = 0.028", "--p", "P = 0.029", "--named", "mann_whitney", "pearson_chi2"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Result: unique." in out
    assert "Which test gives P = 0.029?" in out
    assert " 32 " in out and " 155 " in out


def test_2xk_lists_the_feasible_set(capsys):
    assert main(["2xk", "78.9%", "60.7%", "--n-exposed", "71", "--n-reference", "28",
                 "--categories", "osteolytic", "osteoblastic", "mixed", "--p", "P = 0.099"]) == 0
    out = capsys.readouterr().out
    assert "not unique (2 tables)" in out and "Range of each cell" in out


def test_or_ci_p_and_grim_subcommands(capsys):
    assert main(["or-ci-p", "2.352", "1.186", "4.667", "P = 0.014"]) == 0
    assert "P consistent with OR and CI" in capsys.readouterr().out
    assert main(["grim", "53.0%", "--n-max", "100"]) == 0
    assert "66 83 100" in capsys.readouterr().out


def test_bad_number_exits_2_with_a_message_not_a_traceback(capsys):
    assert main(["2x2", "twenty", "31.6%", "--n-total", "313"]) == 2
    err = capsys.readouterr().err
    assert "cannot read 'twenty'" in err and "Traceback" not in err


def test_console_script_and_module_entry_points_run():
    out = subprocess.run([sys.executable, "-m", "microcalc", "grim", "20.6%", "--n-max", "40"],
                         capture_output=True, text=True, check=True).stdout
    assert "possible for" in out


@pytest.mark.parametrize("argv", [["--help"], ["2x2", "--help"]])
def test_help_exits_cleanly(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
