"""The report's written prose (issue 28): every guarded sentence checked against the results,
no number in the text that a macro did not print, no words of our process.

The committed summary is the consistent case; constructed contradictions of it are the
failing ones (a paper-scale build stops naming the sentence; any other build marks it)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

from repro.io import read_json
from repro.paths import PROJECT
from repro.report import checks
from repro.report.checks import CHECKS, Guard, ProseCheckFailed
from repro.report.document import MARK_CLOSE, MARK_OPEN, render
from repro.results.view import Summary
from repro.studies.registry import sections

COMMITTED = PROJECT / "results" / "summary.json"
AB, SP = ("ablations", "runs"), "spearman_full"  # where ablation variants are; the metric
ST, LONG = ("stitching", "arms"), "spearman_cross_41+"  # the stitching study's arms; its band
TEMPLATES = PROJECT / "src" / "repro" / "data"


@pytest.fixture(scope="module")
def committed() -> dict:
    return read_json(COMMITTED)


def build(d: dict, **kwargs) -> str:
    return render(d, sections=sections(d), **kwargs)


def _set(d: dict, where: tuple[str, ...], metric: str, value: float) -> dict:
    """A copy of summary ``d`` with one entry's metric mean (and every seed's value) set."""
    out = copy.deepcopy(d)
    node = out
    for k in where:
        node = node[k]
    agg = node["metrics"][metric]
    agg.update(mean=value, min=value, max=value, values=[value] * len(agg.get("values") or [1]))
    return out


def test_the_committed_results_build_with_every_sentence_holding(committed):
    tex = build(committed)  # paper scale: strict; a failing check would raise
    assert committed["scale"] == "paper"
    assert "[check " not in tex
    assert "no model ranks distances as" in tex  # a guarded sentence, printed as written


def test_a_contradicted_sentence_stops_a_paper_build_and_names_it(committed):
    d = _set(committed, ("baselines", "procedural", "manhattan"), "spearman_full", 0.1)
    with pytest.raises(ProseCheckFailed) as err:
        build(d)
    text = str(err.value)
    assert "'unseen-below-manhattan'" in text
    assert "procedural manhattan spearman_full = 0.1" in text
    assert "no model ranks distances as well as the Manhattan distance" in text
    tex = build(d, strict=False)  # a smoke-scale (or any non-strict) build marks it instead
    assert "[check unseen-below-manhattan fails]" in tex
    assert tex.count("[check ") == 2  # the abstract's and the conclusion's sentence


def test_a_missing_number_fails_its_check(committed):
    d = copy.deepcopy(committed)
    del d["runs"]["fixed"]["supervised-normal"]["metrics"]["data_seen_test"]
    holds, numbers = CHECKS["fixed-is-recall"].test(Summary.from_dict(d))
    assert not holds and numbers["fixed supervised-normal data_seen_test"] is None
    with pytest.raises(ProseCheckFailed, match="not measured"):
        build(d)


@pytest.mark.parametrize(
    ("name", "where", "metric", "value"),
    [
        # the oracle no longer drops when the walls are shuffled: the control cannot tell
        (
            "walls-unused",
            ("baselines", "procedural", "oracle"),
            "walls_shuffled_spearman_full",
            0.95,
        ),
        # the supervised model now changes with shuffled walls
        (
            "walls-unused",
            ("runs", "procedural", "supervised-normal"),
            "walls_shuffled_spearman_full",
            0.5,
        ),
        # the leaky stitching data now costs as much as the strict one
        ("leak-hides-drop", ("runs", "fixed", "supervised-stitching"), "spearman_full", 0.6),
        # a strict-stitching model that kept its ranking
        (
            "strict-drops-both",
            ("runs", "fixed", "contrastive-stitching-strict"),
            "spearman_full",
            0.9,
        ),
        ("fixed-both-learn", ("runs", "fixed", "contrastive-normal"), "spearman_full", 0.5),
        ("fixed-is-recall", ("runs", "fixed", "contrastive-normal"), "data_seen_test", 0.5),
        ("greedy-near-constant", ("baselines", "procedural", "manhattan"), "greedy_solved", 0.2),
        # the ablations, each variant set level with (or past) its paper setting
        ("gamma-hurts-fixed", (*AB, "fixed", "contrastive-normal+gamma0.98"), SP, 0.95),
        ("gamma-none-unseen", (*AB, "procedural", "contrastive-normal+gamma0.98"), SP, 0.5),
        ("repeat-decides-unseen", (*AB, "procedural", "contrastive-normal+symmetric"), SP, 0.6),
        ("repeat-decides-unseen", (*AB, "procedural", "contrastive-normal+repeat4"), SP, 0.0),
        ("forward-breaks-fixed", (*AB, "fixed", "contrastive-normal+forward"), SP, 0.95),
        ("symmetric-ties-goals", (*AB, "fixed", "contrastive-normal+symmetric"), "all_pairs", 0.1),
        ("symmetric-ties-goals", (*AB, "fixed", "contrastive-normal+symmetric"), SP, 0.5),
        ("head-class-unseen", (*AB, "procedural", "supervised-normal+classification"), SP, 0.2),
        ("head-class-fixed", (*AB, "fixed", "supervised-normal+classification"), SP, 0.999),
        # the stitching study: TD's strict model as good as its normal one closes its gap
        ("stitch-gap-fixed", (*ST, "td", "runs", "fixed", "td-stitching-strict"), LONG, 0.7),
        ("stitch-cross-pairs-keep", ("runs", "fixed", "supervised-stitching-strict"), LONG, 0.5),
        (
            "stitch-no-bridge",
            ("runs", "fixed", "supervised-stitching-strict"),
            "data_leak_cells",
            0.01,
        ),
        (
            "stitch-heads-no-better",
            (*ST, "mrn", "runs", "fixed", "contrastive_qm-stitching-strict+mrn"),
            LONG,
            0.9,
        ),
    ],
)
def test_each_check_fails_where_its_sentence_would_be_false(committed, name, where, metric, value):
    from repro.studies.stitching.report import checks as stitching_checks

    check = {**CHECKS, **stitching_checks()}[name]
    assert check.test(Summary.from_dict(committed))[0]
    d = _set(committed, where, metric, value)
    assert not check.test(Summary.from_dict(d))[0]


def test_unseen_not_testable_needs_every_gated_claim_untestable(committed):
    d = copy.deepcopy(committed)
    assert checks.unseen_not_testable(Summary.from_dict(d))[0]
    gated = next(c for c in d["claims"] if c.get("gate"))
    gated["regimes"]["procedural"]["verdict"] = "holds"
    assert not checks.unseen_not_testable(Summary.from_dict(d))[0]


def test_an_unknown_check_is_an_error_and_every_check_is_used():
    guard = Guard(Summary.from_dict({"scale": "paper"}), strict=True)
    with pytest.raises(KeyError, match="unknown check 'no-such-check'"):
        guard("no-such-check", lambda: "text")
    named = set()
    for path in TEMPLATES.rglob("*.j2"):
        named |= set(re.findall(r'checked\("([^"]+)"\)', path.read_text()))
    from repro.studies.family.report import CHECKS as FAMILY
    from repro.studies.generalization.prose import CHECKS as GEN_PROSE
    from repro.studies.generalization.report import CHECKS as STUDY_CHECKS  # its Section's
    from repro.studies.stitching.report import checks as stitching_checks
    from repro.studies.stitching.short import checks as short_checks
    from repro.studies.walls.report import checks as walls_checks

    # no sentence without its check, no check without a sentence
    studies = {*STUDY_CHECKS, *GEN_PROSE, *FAMILY, *walls_checks(), *stitching_checks(),
               *short_checks()}  # fmt: skip
    assert named == set(CHECKS) | studies


# ---------------------------------------------------------------------------- the text itself


def written_text(tex: str) -> str:
    """The text we wrote: the rendered LaTeX after the document begins, without the printed
    values (between the marks), comments, maths, LaTeX's structural arguments (labels,
    references, citations, column rules, lengths), claim ids and references to the paper's
    own tables and figures."""
    t = tex[tex.index("\\begin{document}") :]
    t = re.sub(f"{MARK_OPEN}[^{MARK_CLOSE}]*{MARK_CLOSE}", " ", t)
    t = re.sub(r"(?m)(?<!\\)%.*$", "", t)
    t = re.sub(r"\$[^$]*\$", " ", t)  # notation: s_{i+k}, \rVert_2, 1-\gamma
    structural = ("label", "ref", "citep", "citet", "includegraphics", "begin", "end")
    structural += ("cmidrule(lr)", "multicolumn", "setlength", "bibliography", "bibliographystyle")
    for cmd in structural:
        t = re.sub(re.escape("\\" + cmd) + r"(\[[^\]]*\])?\{[^}]*\}(\{[^}]*\})?", " ", t)
    t = re.sub(r"\d+(\.\d+)?\s*(pt|cm)\b", " ", t)
    t = re.sub(r"\bC\d+x?L?\b", " ", t)  # claim ids
    t = re.sub(r"(Tables?|Figures?)~\d+(--\d+)?", " ", t)  # the paper's own tables, figures
    return t.replace("2D", " ")


def test_every_number_in_the_text_is_printed_by_a_macro(committed):
    text = written_text(build(committed, mark_values=True))
    typed = [text[max(0, m.start() - 40) : m.end() + 10] for m in re.finditer(r"\d", text)]
    assert typed == []


def test_the_scan_finds_a_typed_number():
    tex = "\\begin{document}We ran \x023\x03 seeds and 42 more. See C4x, Table~2.\\end{document}"
    assert re.findall(r"\d+", written_text(tex)) == ["42"]


def test_no_words_of_our_process(committed):
    text = build(committed)
    body = text[text.index("\\begin{document}") :]
    for word in ("issue", "session", "ticket", "CI run", "seed(s)"):
        assert word not in body.lower() if word.islower() else word not in body, word
    assert not re.search(r"\bCI\b", body)


def test_counts_are_written_in_the_number_they_need():
    from repro.report.texfmt import counted, seed_list

    assert counted(1, "seed") == "1 seed" and counted(3, "seed") == "3 seeds"
    assert seed_list([0]) == "seed 0" and seed_list([0, 1]) == "seeds 0 and 1"
    assert seed_list([0, 1, 2]) == "seeds 0, 1 and 2" and seed_list([]) == "no seed"


def test_templates_hold_no_path_outside_the_package():
    for path in TEMPLATES.rglob("*.j2"):
        assert "../shared" not in path.read_text(), path
    assert Path(COMMITTED).exists()


def test_the_papers_planning_count_is_inferred_from_its_printed_rates(committed):
    from repro.report.document import _whole, hyper_rows, planning_count

    assert planning_count(Summary.from_dict(committed)) == 400  # 0.3025 x 400 = 121
    assert _whole("0.3025", 400) and not _whole("0.3025", 200)
    assert _whole("0.333", 3) and _whole("0.5", 2) and not _whole("0.5", 3)

    def printed(*rates):
        names = ("supervised-normal", "supervised-stitching")
        return Summary.from_dict(
            {
                "scale": "paper",
                "paper": {
                    "printed": {n: {"greedy_solved": r} for n, r in zip(names, rates, strict=False)}
                },
            }
        )

    assert planning_count(printed("0.5", "0.25")) == 4
    assert planning_count(printed("0.123456789"), largest=100) is None
    rows = {r["name"]: r["paper"] for r in hyper_rows(Summary.from_dict(committed))}
    assert rows["planning instances / budget"].startswith("400 (inferred")
    assert "conv_arch" not in rows and "qm_head" not in rows  # the later models' options


def test_paper_fits_neither_fails_when_one_regime_is_closer_on_both(committed):
    assert CHECKS["paper-fits-neither"].test(Summary.from_dict(committed))[0]
    d = committed
    for name in ("supervised-normal", "supervised-stitching", "contrastive-normal"):
        d = _set(d, ("runs", "procedural", name), "greedy_solved", 0.95)
    d = _set(d, ("runs", "procedural", "contrastive-stitching"), "greedy_solved", 0.95)
    holds, numbers = CHECKS["paper-fits-neither"].test(Summary.from_dict(d))
    assert not holds  # both metrics now lie closer to the fixed maze
    assert numbers["procedural mean |paper - ours| greedy_solved"] > 0.7


def test_a_greedy_rule_that_matches_the_paper_brings_it_within_reach(committed):
    d = committed
    for name, paper in committed["paper"]["results"].items():  # descent = the paper, fixed maze
        d = _set(d, ("runs", "fixed", name), "greedy_descent_solved", paper["greedy_solved"])
        d = _set(d, ("runs", "fixed", name), "greedy_descent_expanded", paper["greedy_expanded"])
    view = Summary.from_dict(d)
    assert not CHECKS["rules-out-of-reach"].test(view)[0]
    assert CHECKS["rules-in-reach"].test(view)[0]
    assert "A reading of greedy brings the paper's numbers within our tolerance" in build(
        d, strict=False
    )


def test_the_noise_sentences_follow_where_the_papers_values_fall(committed):
    view = Summary.from_dict(committed)
    assert CHECKS["noise-explains-one"].test(view)[0] and CHECKS["noise-unseen-above"].test(view)[0]
    d = copy.deepcopy(committed)
    ours = view.run("fixed", "contrastive-normal").mean("spearman_paper")
    d["paper"]["results"]["contrastive-normal"]["spearman"] = ours  # now inside our range too
    holds, numbers = CHECKS["noise-explains-one"].test(Summary.from_dict(d))
    assert not holds and 0.05 < numbers["fixed contrastive-normal paper percentile"] < 0.95
    ours = view.run("procedural", "supervised-normal").mean("spearman_paper")
    d["paper"]["results"]["supervised-normal"]["spearman"] = ours  # inside the unseen range
    assert not CHECKS["noise-unseen-above"].test(Summary.from_dict(d))[0]
    assert "[check noise-unseen-above fails]" in build(d, strict=False)
