"""The ``microcalc-check`` command line."""

import subprocess
import sys

import pytest

from microcalc.pipeline.cli import main


def test_2x2_prints_the_unique_table_and_the_test_verdicts(capsys):
    rc = main(
        [
            "2x2",
            "20.6%",
            "31.6%",
            "--n-total",
            "313",
            "--or",
            "1.780",
            "--ci",
            "1.065",
            "2.974",
            "--or-p",
            "P = 0.028",
            "--p",
            "P = 0.029",
            "--named",
            "mann_whitney",
            "pearson_chi2",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "Result: unique." in out
    assert "Which test gives P = 0.029?" in out
    assert " 32 " in out and " 155 " in out


def test_2xk_lists_the_feasible_set(capsys):
    assert (
        main(
            [
                "2xk",
                "78.9%",
                "60.7%",
                "--n-exposed",
                "71",
                "--n-reference",
                "28",
                "--categories",
                "osteolytic",
                "osteoblastic",
                "mixed",
                "--p",
                "P = 0.099",
            ]
        )
        == 0
    )
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
    out = subprocess.run(
        [sys.executable, "-m", "microcalc", "grim", "20.6%", "--n-max", "40"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "possible for" in out


@pytest.mark.parametrize("argv", [["--help"], ["2x2", "--help"]])
def test_help_exits_cleanly(argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0


# --- No input ends in a traceback ---------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from microcalc.abstract.textcheck import check_text  # noqa: E402


def _printed(lo, hi):
    return st.builds(lambda x, d: f"{x:.{d}f}", st.floats(lo, hi, allow_nan=False), st.integers(0, 3))


_PCT = st.one_of(
    _printed(-20, 160).map(lambda s: s + "%"),
    _printed(0, 2),
    st.text(max_size=4),
    st.sampled_from(["150%", "0%", "100.0%", "-5%", "1e3%", "nan%", "P = 0.2"]),
)
_NUM = st.one_of(_printed(-2, 12), st.sampled_from(["0", "-1.5", "abc", "", "inf", "1" * 400]))
_P = st.one_of(_printed(0, 1.6).map(lambda s: f"P = {s}"), st.just("P < 0.001"), st.text(max_size=4))
_N = st.one_of(st.integers(-5, 3000), st.sampled_from([10**12, 0, 1, 2])).map(str)


@st.composite
def _argv(draw):
    command = draw(st.sampled_from(["2x2", "2xk", "or-ci-p", "grim"]))
    if command == "2x2":
        argv = ["2x2", draw(_PCT), draw(_PCT), "--n-total", draw(_N)]
        if draw(st.booleans()):
            argv += ["--or", draw(_NUM), "--ci", draw(_NUM), draw(_NUM), "--or-p", draw(_P)]
        if draw(st.booleans()):
            argv += ["--p", draw(_P)]
        return argv
    if command == "2xk":
        return [
            "2xk",
            draw(_PCT),
            draw(_PCT),
            "--n-exposed",
            draw(_N),
            "--n-reference",
            draw(_N),
            "--categories",
            "a",
            "b",
            "c",
            "--p",
            draw(_P),
        ]
    if command == "or-ci-p":
        return ["or-ci-p", draw(_NUM), draw(_NUM), draw(_NUM), draw(_P)]
    return ["grim", draw(_PCT), "--n-max", draw(_N), "--n-min", draw(_N)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(argv=_argv())
def test_random_printed_inputs_give_a_result_or_one_clear_line(argv):
    """Any printed input: exit 0 with a result, or exit 2 with exactly one line saying why."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as e:  # argparse: usage errors
            rc = e.code
    if rc == 0:
        assert out.getvalue() and not err.getvalue()
    else:
        assert rc == 2, (argv, rc)
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("microcalc-check: error: "), (argv, lines)


_FRAGMENT = st.one_of(
    st.builds("OR = {}, 95% CI: {}\u2013{}, {}".format, _NUM, _NUM, _NUM, _P),
    st.builds("(HR {}; 95% CI {} to {}; {})".format, _NUM, _NUM, _NUM, _P),
    st.builds("{} of {} ({})".format, _N, _N, _PCT),
    st.builds("{} of the {} patients".format, _PCT, _N),
    st.builds("{} ({}/{}) vs {} ({}/{}), {}".format, _PCT, _N, _N, _PCT, _N, _N, _P),
    st.builds("{} vs {}, {}".format, _PCT, _PCT, _P),
    st.text(max_size=20),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(parts=st.lists(_FRAGMENT, max_size=4))
def test_random_text_gives_checks_never_an_exception(parts):
    """Free text with random printed statistics: every check is True, False or None."""
    table = check_text(" ".join(parts))
    assert set(table["consistent"]) <= {True, False, None}


@pytest.mark.parametrize(
    "argv, says",
    [
        (["2x2", "150%", "31.6%", "--n-total", "313"], "not a possible percentage"),
        (
            ["2x2", "20.6%", "31.6%", "--n-total", "313", "--or", "1.780", "--ci", "2.974", "1.065"],
            "lower bound must be below",
        ),
        (["2x2", "20.6%", "31.6%", "--n-total", "313", "--or", "0", "--ci", "1.065", "2.974"], "positive"),
        (["2x2", "20.6%", "31.6%", "--n-total", "313", "--or", "-1.5", "--ci", "1.065", "2.974"], "negative"),
        (["or-ci-p", "1.780", "1.065", "2.974", "P = 1.5"], "not a possible P value"),
        (["2x2", "20.6%", "31.6%", "--n-total", "forty"], "invalid"),
        (["2x2", "11.6%", "4.9%", "--n-total", "80000"], "tables, more than"),
        (["grim", "20.6%", "--n-max", "1000000000"], "denominators to test"),
        (
            [
                "2xk",
                "78.9%",
                "60.7%",
                "--n-exposed",
                "500000",
                "--n-reference",
                "500000",
                "--categories",
                "a",
                "b",
                "c",
                "--p",
                "P = 0.099",
            ],
            "candidate 2 x 3 tables",
        ),
    ],
)
def test_the_issues_bad_inputs_each_get_one_clear_line(argv, says, capsys):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own errors, also one line
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and says in err and "Traceback" not in err
