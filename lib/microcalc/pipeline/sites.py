"""The sites file of a multi-site run, read strictly: every problem with its line, and the sites' main estimates
side by side with the published ones (part of :mod:`microcalc.pipeline.run`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import yaml

from microcalc.abstract.published import load_published
from microcalc.core.paths import project_path
from microcalc.pipeline.run_checks import RunError
from microcalc.study import MAIN_ESTIMATES

__all__ = ["load_sites", "side_by_side"]


class _SitesLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with every plain scalar read as text and duplicate keys refused."""

    yaml_implicit_resolvers = {}  # no implicit types: 007, no, 1e3 and 2024-01-01 stay text

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark
                    )
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _line(node_or_mark) -> int:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1


def load_sites(sites_file: str | os.PathLike) -> list[dict]:
    """The sites of a YAML file, every value read as text ("007" stays "007", "no" stays "no").

    Read with PyYAML's safe loader (no Python objects are built). Malformed
    YAML, a duplicate key, a value that is not text (a list, a mapping, an
    explicit tag such as ``!!int``), an entry without ``name`` or ``data_dir``,
    and two sites of the same name are each refused with the file's line.
    """
    shown = Path(sites_file).name
    try:
        text = project_path(sites_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RunError(f"{shown}: cannot read the sites file ({type(err).__name__})") from None
    loader = _SitesLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise RunError(
                f"{shown}: the file is empty; expected 'sites:' followed by a list of entries "
                "with 'name' and 'data_dir'"
            )
        spec = loader.construct_document(root)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        what = " ".join(x for x in (err.context, err.problem) if x)
        raise RunError(f"{shown}{where}: not valid YAML here ({what})") from None
    except yaml.YAMLError as err:
        raise RunError(f"{shown}: not valid YAML ({type(err).__name__})") from None
    finally:
        loader.dispose()
    usage = "expected 'sites:' followed by a list of entries with 'name' and 'data_dir'"
    if not isinstance(spec, dict) or not isinstance(spec.get("sites"), list) or not spec["sites"]:
        raise RunError(f"{shown}, line {_line(root)}: {usage}")
    sites_node = next(v for k, v in root.value if k.value == "sites")
    problems: list[str] = []
    names: dict[str, int] = {}
    for entry, node in zip(spec["sites"], sites_node.value, strict=True):
        line = _line(node)
        if not isinstance(entry, dict):
            problems.append(f"{shown}, line {line}: each site is an entry with 'name' and 'data_dir'")
            continue
        for (key_node, value_node), (key, value) in zip(node.value, entry.items(), strict=False):
            if not isinstance(key, str) or not isinstance(value, str):
                problems.append(
                    f"{shown}, line {_line(value_node)}: the value of {str(key_node.value)!r} "
                    "must be text (a name or a folder), not a list, mapping or typed value"
                )
        missing = [k for k in ("name", "data_dir") if k not in entry]
        if missing:
            problems.append(f"{shown}, line {line}: the site has no {' or '.join(missing)}")
        name = entry.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append(
                    f"{shown}, line {line}: the site name {name!r} is used twice (first on line {names[name]})"
                )
            else:
                names[name] = line
    if problems:
        raise RunError("\n".join(problems))
    return spec["sites"]


def side_by_side(runs: dict[str, Path], published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Main estimates of each run next to the published ones: "estimate (CI)" per site."""
    from microcalc.replicate import load_results

    published = load_published() if published is None else published
    table = pd.DataFrame(
        {
            "measure": [
                published.loc[i, "measure"] + (f", {published.loc[i, 'group']}" if published.loc[i, "group"] else "")
                for i in MAIN_ESTIMATES
            ]
        },
        index=list(MAIN_ESTIMATES),
    )
    pub_col = []
    for ident in MAIN_ESTIMATES:
        p = published.loc[ident]
        pub_col.append(p["value"] + (f" ({p['ci_low']}-{p['ci_high']})" if p["ci_low"] else ""))
    table["published"] = pub_col
    for site, run_dir in runs.items():
        res = load_results(run_dir)
        col = []
        for ident, estimator in MAIN_ESTIMATES.items():
            r = res[(res["id"] == ident) & (res["estimator"] == estimator)]
            if not len(r):
                col.append("not computed")
                continue
            r = r.iloc[0]
            if estimator == "wilson_proportion":
                col.append(f"{r['estimate']:.1f}% ({r['ci_low']:.1f}-{r['ci_high']:.1f})")
            else:
                col.append(f"{r['estimate']:.3f} ({r['ci_low']:.3f}-{r['ci_high']:.3f})")
        table[site] = col
    return table.rename_axis("id")
