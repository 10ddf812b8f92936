"""``microcalc-check``: reconstruct tables and check reported numbers from the command line.

Examples
--------
Which 2 x 2 tables give 20.6% vs 31.6% in 313 patients with OR 1.780
(1.065-2.974), P = 0.028 for the complement (non-pCR), and which test gives
the comparison's P = 0.029?

    microcalc-check 2x2 20.6% 31.6% --n-total 313 --or 1.780 --ci 1.065 2.974 \\
        --or-p "P = 0.028" --p "P = 0.029" --named mann_whitney pearson_chi2

Every number is given exactly as printed: its digits are its precision.

Check every statistic of a pasted abstract (``-`` reads standard input):

    microcalc-check text abstract.txt
    microcalc-check text - --json < abstract.txt

``text`` exits with 0 when no check fails, 1 when some check fails; every
command exits with 2, after one line saying why, on input it cannot use.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import pandas as pd

from microcalc.abstract.consistency import grim_denominators, or_ci_p_coherence, p_test_verdicts
from microcalc.abstract.pvalues import TESTS
from microcalc.abstract.reconstruct import Reconstruction, reconstruct_2x2, reconstruct_2xk

__all__ = ["main", "build_parser"]


def _size(text: str):
    if ":" in text:
        lo, hi = text.split(":", 1)
        return (int(lo), int(hi))
    return int(text)


def _print_reconstruction(r: Reconstruction, show: int) -> None:
    print("Constraints applied, and candidate tables left after each:")
    print(r.steps.to_string(index=False))
    print(f"\nResult: {r.status}.")
    if not r.n_solutions:
        return
    cols = r.cells + [c for c in ("orientation", "or", "or_low", "or_high") if c in r.tables]
    cols += [c for c in r.tables.columns if c.startswith("p_") and c not in cols]
    print(r.tables[cols].head(show).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    if r.n_solutions > show:
        print(f"... {r.n_solutions - show} more (use --show to list more)")
    if not r.unique:
        print("\nRange of each cell over the feasible set:")
        print(r.summary().to_string())


def _print_verdicts(r: Reconstruction, p: str, named: list[str]) -> None:
    v = p_test_verdicts(r, p, named=named)

    def span(lo: float, hi: float) -> str:
        if pd.isna(lo):
            return "-"
        a, b = f"{lo:.4g}", f"{hi:.4g}"
        return a if a == b else f"{a} to {b}"

    v = v.assign(P=[span(lo, hi) for lo, hi in zip(v["p_min"], v["p_max"], strict=True)])
    print(f"\nWhich test gives {p}?")
    print(v[["test", "P", "reproduces", "named"]].to_string(index=False))


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (exit status 2), like every other error."""

    def error(self, message):
        self.exit(2, f"microcalc-check: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the tests and the README)."""
    ap = _Parser(
        prog="microcalc-check",
        description="Reconstruct the contingency tables implied by reported numbers and check "
        "their consistency. Give every number exactly as printed.",
    )
    sub = ap.add_subparsers(dest="command", required=True)

    a = sub.add_parser("2x2", help="2 x 2 tables from two percentages, sizes, OR/CI/P")
    a.add_argument("pct_exposed", help='share with the event in the exposed group, e.g. "20.6%%"')
    a.add_argument("pct_reference", help="the same in the reference group")
    a.add_argument("--n-total", type=int, help="both groups together")
    a.add_argument("--n-exposed", type=_size, help="exposed group size, or MIN:MAX")
    a.add_argument("--n-reference", type=_size, help="reference group size, or MIN:MAX")
    a.add_argument("--n-max", type=int, help="largest group size to search when sizes are unknown")
    a.add_argument("--or", dest="odds_ratio", help="reported odds ratio")
    a.add_argument("--ci", nargs=2, metavar=("LOW", "HIGH"), help="its 95%% CI")
    a.add_argument("--or-p", help='its P, e.g. "P = 0.028"')
    a.add_argument(
        "--orientation",
        default="auto",
        choices=["auto", "event", "complement"],
        help="OR of the event the percentages describe, of its absence, or either",
    )
    a.add_argument("--p", help='P of the comparison of the percentages, e.g. "P = 0.029"')
    a.add_argument("--p-filter", action="store_true", help="also keep only tables for which some test reproduces --p")
    a.add_argument("--named", nargs="*", default=[], choices=list(TESTS), help="the test(s) the paper says it used")
    a.add_argument("--z", type=float, default=None, help="CI quantile (default qnorm(0.975); SPSS: 1.96)")
    a.add_argument("--show", type=int, default=20, help="feasible tables to list")

    k = sub.add_parser("2xk", help="2 x k tables from one category's shares and the P")
    k.add_argument("pct_exposed")
    k.add_argument("pct_reference")
    k.add_argument("--n-exposed", type=int, required=True)
    k.add_argument("--n-reference", type=int, required=True)
    k.add_argument("--categories", nargs="+", required=True, help="category labels, the reported one first")
    k.add_argument("--p", required=True)
    k.add_argument(
        "--tests", nargs="+", default=["pearson_chi2", "fisher_exact"], choices=["pearson_chi2", "fisher_exact"]
    )
    k.add_argument("--named", nargs="*", default=[], choices=list(TESTS))
    k.add_argument("--show", type=int, default=20)

    c = sub.add_parser("or-ci-p", help="does P follow from the OR and its CI? (Altman & Bland 2011)")
    c.add_argument("odds_ratio")
    c.add_argument("ci_low")
    c.add_argument("ci_high")
    c.add_argument("p")

    g = sub.add_parser("grim", help="denominators for which a percentage is possible")
    g.add_argument("pct")
    g.add_argument("--n-max", type=int, required=True)
    g.add_argument("--n-min", type=int, default=1)

    sub.add_parser("paper", help="every reconstruction and consistency verdict of this paper's abstract")

    t = sub.add_parser("text", help="extract and check every OR/RR/HR, CI, P and percentage in free text")
    t.add_argument("file", help="a text file (an abstract, a results paragraph), or - for standard input")
    form = t.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print a JSON list of checks")
    form.add_argument("--csv", action="store_true", help="print the table as CSV")
    return ap


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        with open(name, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise ValueError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{name}: is a directory, not a text file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not UTF-8 text") from None
    except OSError as err:
        raise ValueError(f"{name}: cannot be read ({err.strerror})") from None


def _text(args) -> int:
    import json

    from microcalc.abstract.textcheck import check_text

    table = check_text(_read_text(args.file))
    if args.json:
        print(json.dumps(table.to_dict(orient="records"), ensure_ascii=False, indent=1))
    elif args.csv:
        print(table.to_csv(index=False), end="")
    elif table.empty:
        print(
            "No supported statement found (ratio estimates with a 95% CI, percentages with "
            "their denominators, comparisons of percentages with a P)."
        )
    else:
        with pd.option_context("display.max_colwidth", 70, "display.width", 250):
            print(table[["statement", "check", "verdict", "detail"]].to_string(index=False))
        counts = table["verdict"].value_counts()
        print(
            f"\n{table['statement'].nunique()} statements, {len(table)} checks: "
            f"{counts.get('consistent', 0)} consistent, {counts.get('INCONSISTENT', 0)} inconsistent, "
            f"{counts.get('not applicable', 0)} not applicable."
        )
    return 1 if (table["consistent"] == False).any() else 0  # noqa: E712 (None is not False)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        # nan from a test undefined on a table is shown as nan, not warned about
        warnings.simplefilter("ignore", RuntimeWarning)
        return _run(args)


def _run(args) -> int:
    pd.set_option("display.width", 200)
    try:
        if args.command == "text":
            return _text(args)
        if args.command == "2x2":
            kw = {}
            if args.z is not None:
                kw["z"] = args.z
            ci = args.ci or (None, None)
            r = reconstruct_2x2(
                args.pct_exposed,
                args.pct_reference,
                n_total=args.n_total,
                n_exposed=args.n_exposed,
                n_reference=args.n_reference,
                n_max=args.n_max,
                odds_ratio=args.odds_ratio,
                ci_low=ci[0],
                ci_high=ci[1],
                or_p=args.or_p,
                orientation=args.orientation,
                p_value=args.p if args.p_filter else None,
                **kw,
            )
            _print_reconstruction(r, args.show)
            if args.p and r.n_solutions:
                _print_verdicts(r, args.p, args.named)
        elif args.command == "2xk":
            r = reconstruct_2xk(
                args.pct_exposed,
                args.pct_reference,
                n_exposed=args.n_exposed,
                n_reference=args.n_reference,
                categories=args.categories,
                p_value=args.p,
                p_tests=args.tests,
            )
            _print_reconstruction(r, args.show)
            if r.n_solutions:
                _print_verdicts(r, args.p, args.named)
        elif args.command == "or-ci-p":
            co = or_ci_p_coherence(args.odds_ratio, args.ci_low, args.ci_high, args.p)
            print(
                f"P from the CI: {co.p_recomputed:.4g} (range over rounding "
                f"{co.p_min:.4g} to {co.p_max:.4g}); reported {co.p_reported.text}"
            )
            print(
                f"OR at the CI's log-midpoint: {co.or_from_ci:.4f} "
                f"(range {co.or_from_ci_min:.4f} to {co.or_from_ci_max:.4f}); reported {args.odds_ratio}"
            )
            print(f"Verdict: {co.verdict}")
        elif args.command == "grim":
            ns = grim_denominators(args.pct, args.n_max, args.n_min)
            print(f"{args.pct} is possible for {len(ns)} denominators in {args.n_min}..{args.n_max}:")
            print(" ".join(map(str, ns)))
        elif args.command == "paper":
            from microcalc.paper import reconstruct_paper

            p = reconstruct_paper()
            print(p.overview().to_string(index=False))
            print()
            print(p.consistency().to_string(index=False))
    except (ValueError, OverflowError, ZeroDivisionError) as err:
        print(f"microcalc-check: error: {err}", file=sys.stderr)
        return 2
    except MemoryError:
        print("microcalc-check: error: not enough memory for this search; narrow it", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
