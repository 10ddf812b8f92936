"""The causal diagram: its arrows are data over the contract's variables, and the models' adjustment sets fit it."""

import hashlib

import pytest

from microcalc import dag
from microcalc.cohorts.contract import CONTRACT
from microcalc.study import BONE_TERMS, NACT_TERMS


@pytest.mark.parametrize("cohort", list(dag.EDGES))
def test_every_node_is_a_column_of_the_cohorts_contract_and_every_arrow_has_a_reason(cohort):
    columns = {c.name for c in CONTRACT[cohort]}
    for e in dag.EDGES[cohort]:
        assert e.source in columns and e.target in columns, e
        assert e.reason.strip(), e
    assert len({(e.source, e.target) for e in dag.EDGES[cohort]}) == len(dag.EDGES[cohort])


@pytest.mark.parametrize("cohort", list(dag.EDGES))
def test_the_graph_is_acyclic_and_every_node_is_drawn(cohort):
    nodes = {n for e in dag.EDGES[cohort] for n in (e.source, e.target)}
    for n in nodes:
        assert n not in dag.descendants(cohort, n), f"cycle through {n}"
    assert set(dag.POSITIONS[cohort]) == nodes


def test_every_model_term_is_a_node_of_its_dag():
    for cohort, terms in (("nact_cohort", NACT_TERMS), ("bone_cohort", BONE_TERMS)):
        nodes = {n for e in dag.EDGES[cohort] for n in (e.source, e.target)}
        assert set(terms) <= nodes, set(terms) - nodes


# d-separation on textbook graphs (Pearl 2009, Causality, sections 1.2.3 and 3.3;
# the M-structure of Greenland, Pearl & Robins 1999, Epidemiology 10:37-48).
E = dag.Edge


def test_a_fork_is_a_backdoor_path_closed_by_adjusting_for_the_common_cause():
    g = [E("c", "x", ""), E("c", "y", ""), E("x", "y", "")]
    assert dag.backdoor_paths(g, "x", "y") == [("x", "c", "y")]
    assert not dag.is_blocked(g, ("x", "c", "y"), [])
    assert dag.is_blocked(g, ("x", "c", "y"), ["c"])


def test_a_chain_from_the_exposure_is_not_a_backdoor_path():
    g = [E("x", "m", ""), E("m", "y", "")]
    assert dag.backdoor_paths(g, "x", "y") == []
    assert dag.descendants(g, "x") == {"m", "y"}


def test_adjusting_for_the_collider_of_an_m_structure_opens_the_path():
    g = [E("u1", "x", ""), E("u1", "m", ""), E("u2", "m", ""), E("u2", "y", ""), E("x", "y", "")]
    path = ("x", "u1", "m", "u2", "y")
    assert dag.backdoor_paths(g, "x", "y") == [path]
    assert dag.is_blocked(g, path, [])
    assert not dag.is_blocked(g, path, ["m"])
    assert dag.is_blocked(g, path, ["m", "u1"])


def test_adjusting_for_a_descendant_of_a_collider_opens_the_path_too():
    g = [E("u1", "x", ""), E("u1", "m", ""), E("u2", "m", ""), E("u2", "y", ""), E("m", "d", "")]
    assert not dag.is_blocked(g, ("x", "u1", "m", "u2", "y"), ["d"])


def test_the_nact_model_adjusts_for_every_assumed_confounder_and_no_descendant_of_the_exposure():
    adj = dag.check_adjustment("nact_cohort")
    assert adj.open_paths == ()
    assert adj.mediators == frozenset() and adj.other_descendants == frozenset()
    # The assumed common causes of microcalcification and pCR are in the model.
    common = {p for p in dag.parents("nact_cohort", "microcalcification") if "pcr" in dag.descendants("nact_cohort", p)}
    assert common == {"breast_density", "molecular_subtype", "pathology_type", "mri_necrosis"}
    assert common <= set(NACT_TERMS)


def test_without_necrosis_the_nact_model_would_leave_a_backdoor_path_open():
    terms = [t for t in dag.MODEL_TERMS["nact_cohort"] if t != "mri_necrosis"]
    adj = dag.check_adjustment("nact_cohort", terms)
    assert adj.open_paths == (("microcalcification", "mri_necrosis", "pcr"),)


def test_stage_is_flagged_as_a_mediator_of_the_bone_model():
    adj = dag.check_adjustment("bone_cohort")
    assert adj.mediators == {"t_stage", "n_stage"}
    assert adj.mediators <= set(BONE_TERMS)


def test_the_centre_is_the_one_confounder_the_bone_model_leaves_out():
    adj = dag.check_adjustment("bone_cohort")
    assert adj.open_paths == (("microcalcification", "center", "bone_metastasis"),)
    assert adj.unadjusted_confounders == {"center"}
    with_centre = dag.check_adjustment("bone_cohort", [*dag.MODEL_TERMS["bone_cohort"], "center"])
    assert with_centre.open_paths == ()


def test_the_committed_dag_figure_is_what_the_code_draws_byte_for_byte(root, tmp_path):
    assert dag.main(["--output-dir", str(tmp_path)]) == 0
    files = sorted((tmp_path / "figures").iterdir())
    assert [f.name for f in files] == ["00_dag.png", "00_dag.svg"]
    for f in files:
        assert (
            hashlib.sha256(f.read_bytes()).hexdigest()
            == hashlib.sha256((root / "figures" / f.name).read_bytes()).hexdigest()
        ), f.name
