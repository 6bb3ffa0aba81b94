"""Report rendering: LaTeX escaping, no unformatted numbers, strict undefined variables, and
tables and words that show the summary's numbers."""

import math

import jinja2
import pytest

from repro.config import CONFIGS
from repro.core.heuristics import BASELINES
from repro.core.planning import MODES
from repro.io import read_json
from repro.paths import PROJECT, paper_numbers_file
from repro.report.ablations import quadrant_counts
from repro.report.document import (
    _finalize,
    claim_rows,
    closeness_rows,
    level,
    make_env,
    planning_rows,
    spearman_rows,
    text_numbers,
    words,
)
from repro.report.texfmt import LABELS, Tex, interval, mean_sd, num, pct, tex_escape
from repro.results.claims import SEED_RULE
from repro.results.view import Aggregate, Summary
from repro.studies.registry import render

COMMITTED = PROJECT / "results" / "summary.json"


def agg(*values):
    known = [v for v in values if v is not None]
    mean = sum(known) / len(known)
    std = math.sqrt(sum((v - mean) ** 2 for v in known) / (len(known) - 1)) if len(known) > 1 else 0
    return {"mean": mean, "std": std, "min": min(known), "max": max(known), "values": list(values)}


def run(spearman, solved, expanded, loss_end=0.5):
    """An entry whose metrics are given per seed (two seeds)."""
    return {
        "seeds": [0, 1],
        "metrics": {
            "spearman_paper": agg(*spearman),
            "spearman_full": agg(*spearman),
            "spearman_full_low": agg(*(v - 0.1 for v in spearman)),
            "spearman_full_high": agg(*(v + 0.05 for v in spearman)),
            "all_pairs": agg(0.4, 0.4),
            "search_solved": agg(1.0, 1.0),
            "search_expanded": agg(*expanded),
            "search_path_ratio": agg(1.0, 1.0),
            "greedy_solved": agg(*solved),
            "greedy_expanded": agg(9.0, 11.0),
            "greedy_path_ratio": agg(1.5, 1.5),
        },
        "loss": {"step": [1.0, 2.0], "mean": [1.0, loss_end], "min": [1.0, 0.4], "max": [1, 0.6]},
    }


def report_summary():
    """Fixed: all four models and the baselines; procedural: only contrastive-normal."""
    runs = {
        "fixed": {
            "supervised-normal": run((0.80, 0.90), (0.2, 0.4), (40.0, 50.0), loss_end=0.125),
            "supervised-stitching": run((0.95, 0.95), (0.1, 0.1), (60.0, 60.0)),
            "contrastive-normal": run((0.50, 0.70), (0.3, 0.3), (45.0, 45.0)),
            "contrastive-stitching": run((0.10, 0.30), (0.25, 0.25), (44.0, 44.0)),
        },
        "procedural": {"contrastive-normal": run((0.0, 0.1), (0.0, 0.0), (99.0, 101.0))},
    }
    baseline = {
        "metrics": {
            "spearman_paper": agg(1.0),
            "search_solved": agg(1.0),
            "search_expanded": agg(20.0),
            "n_test_same": agg(30.0),
            "n_test_cross": agg(70.0),
            "n_plan_same": agg(12.0),
            "n_plan_cross": agg(28.0),
        }
    }
    paper = {
        "supervised-normal": (0.807, 0.30, 46.7),
        "supervised-stitching": (0.939, 0.14, 66.6),
        "contrastive-normal": (0.848, 0.15, 44.7),
        "contrastive-stitching": (0.470, 0.18, 43.5),
    }
    return {
        "scale": "smoke",
        "seeds": [0, 1],
        "paper": {
            "results": {
                n: {
                    "spearman": s,
                    "greedy_solved": g,
                    "search_expanded": e,
                    "greedy_expanded": 10.0,
                    "search_solved": 1.0,
                }
                for n, (s, g, e) in paper.items()
            },
            "printed": {  # the paper's digits as it prints them
                n: {
                    "spearman": f"{s:.3f}",
                    "greedy_solved": f"{g}",
                    "search_expanded": f"{e}",
                    "greedy_expanded": "10.0",
                    "search_solved": "1",
                }
                for n, (s, g, e) in paper.items()
            },
        },
        "runs": runs,
        "baselines": {"fixed": {b: baseline for b in BASELINES}},
        "ablations": {"studies": {}, "runs": {}},
        "claims": [
            {
                "id": "C1",
                "claim": "c",
                "paper": "p",
                "rule": "r",
                "regimes": {"fixed": {"ours": "lowest 100.0%", "verdict": "holds"}},
            }
        ],
    }


# ---------------------------------------------------------------------------- LaTeX


def test_tex_escape_specials():
    assert tex_escape("a_b & 50% #1 {x} $y ~ ^") == (
        r"a\_b \& 50\% \#1 \{x\} \$y \textasciitilde{} \textasciicircum{}"
    )
    assert tex_escape("back\\slash") == r"back\textbackslash{}slash"


def test_finalize_escapes_strings_keeps_tex_refuses_floats():
    assert _finalize("50%") == r"50\%"
    assert _finalize(Tex(r"\%")) == r"\%"
    assert _finalize(3) == 3
    with pytest.raises(TypeError, match="0.5"):
        _finalize(0.5)  # numbers are formatted in Python, never by the template


def test_strict_undefined_and_delimiters(tmp_path):
    (tmp_path / "t.tex.j2").write_text(r"\VAR{x} \BLOCK{if y}yes\BLOCK{endif} % \#{c}")
    env = make_env(tmp_path)
    assert env.get_template("t.tex.j2").render(x="a_b", y=True) == r"a\_b yes % "
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("t.tex.j2").render(y=True)


def test_number_formats():
    one = Aggregate(0.5, 0.0, 0.5, 0.5, (0.5,))
    three = Aggregate(0.5, 0.1, 0.4, 0.6, (0.4, 0.5, 0.6))
    assert mean_sd(one) == "0.500"
    assert mean_sd(three) == r"0.500\,$\pm$\,0.100"
    assert mean_sd(three, 1, percent=True) == r"50.0\,$\pm$\,10.0\%"
    # one seed measured out of three: no spread to show
    assert mean_sd(Aggregate(0.5, 0.0, 0.5, 0.5, (None, 0.5, None))) == "0.500"
    assert mean_sd(None) == "--" and mean_sd(Aggregate(None, None, None, None, (None,))) == "--"
    assert num(0.12345) == "0.123" and num(2.25, 1) == "2.2" and num(None) == "--"
    assert pct(0.1234) == r"12.3\%" and pct(None) == "--"
    assert all(isinstance(x, Tex) for x in (mean_sd(one), num(1.0), pct(1.0)))


def test_level_words():
    assert [level(x) for x in (0.95, 0.8, 0.5, 0.2, 0.0, None)] == [
        "closely",
        "well",
        "partly",
        "barely",
        "not at all",
        "not measured",
    ]


# ---------------------------------------------------------------------------- tables


def test_spearman_rows_show_paper_ours_and_the_bootstrap_interval():
    rows = {r["label"]: r for r in spearman_rows(Summary.from_dict(report_summary()))}
    assert list(rows) == [LABELS[n] for n in (*CONFIGS, "manhattan")]
    sup = rows["Supervised, normal"]
    assert sup["paper"] == "0.807"
    # seeds 0.80 and 0.90: mean 0.850, sd 0.0707; CI means 0.750 and 0.900
    assert sup["fixed"]["paper"] == r"0.850\,$\pm$\,0.071"
    assert sup["fixed"]["full"] == "0.850 [0.75, 0.90]"
    assert sup["fixed"]["allpairs"] == r"0.400\,$\pm$\,0.000"  # two seeds: the sd is shown
    assert sup["procedural"] == {"paper": "--", "full": "--", "allpairs": "--"}
    assert rows["Contrastive, normal"]["procedural"]["full"] == "0.050 [-0.05, 0.10]"
    assert rows["Manhattan"]["paper"] == "--" and rows["Manhattan"]["fixed"]["paper"] == "1.000"


def test_planning_rows_cover_every_mode_model_and_baseline():
    rows = planning_rows(Summary.from_dict(report_summary()))
    names = (*CONFIGS, *BASELINES)
    assert [(r["mode"], r["label"]) for r in rows] == [(m, LABELS[n]) for m in MODES for n in names]
    greedy_sup = rows[len(names)]  # greedy, supervised-normal
    assert greedy_sup["paper_solved"] == "0.3"  # quoted as printed
    assert greedy_sup["fixed"]["solved"] == r"30.0\,$\pm$\,14.1\%"  # 0.2 and 0.4
    assert greedy_sup["fixed"]["ratio"] == r"1.50\,$\pm$\,0.00"
    search_oracle = rows[len(CONFIGS)]
    assert search_oracle["paper_solved"] == "--"
    assert search_oracle["fixed"]["expanded"] == "20.0 / --"  # expanded / generated
    assert search_oracle["procedural"]["solved"] == "--"


def test_closeness_needs_all_four_models_in_a_regime():
    rows = closeness_rows(Summary.from_dict(report_summary()))
    spearman = rows[0]
    # |0.807-0.85| + |0.939-0.95| + |0.848-0.6| + |0.47-0.2|, over 4: 0.572 / 4
    assert spearman["fixed"] == "0.143"
    assert spearman["procedural"] == "--"  # one model ran there
    assert spearman["closer"] == "--"  # needs both regimes
    greedy = rows[1]  # |0.30-0.30| + |0.14-0.10| + |0.15-0.30| + |0.18-0.25|, over 4
    assert greedy["fixed"] == "0.065"


def test_claim_rows_fill_a_regime_without_verdict():
    (row,) = claim_rows(Summary.from_dict(report_summary()))
    assert row["fixed"].ours == "lowest 100.0%" and row["fixed"].verdict == "holds"
    assert (row["procedural"].ours, row["procedural"].verdict) == ("no runs", "--")


def test_words_and_text_numbers_follow_the_numbers():
    s = Summary.from_dict(report_summary())
    w = words(s)
    assert w["fixed_sup_normal"] == "well"  # 0.85
    assert w["fixed_sup_stitching"] == "closely"  # 0.95
    assert w["fixed_con_normal"] == "partly"  # 0.60
    assert w["fixed_con_stitching"] == "barely"  # 0.20
    assert w["proc_con_normal"] == "not at all"  # 0.05
    assert w["proc_sup_normal"] == "not measured"
    assert w["fixed_sup_final_loss"] == "0.125" and w["proc_sup_final_loss"] == "--"
    n = text_numbers(s)
    assert n["fixed_supervised_normal_spearman_full_raw"] == pytest.approx(0.85)
    assert n["fixed_supervised_normal_greedy_solved"] == r"30.0\%"
    assert n["fixed_oracle_search_expanded"] == "20.0"
    assert n["procedural_oracle_search_expanded_raw"] is None
    assert n["procedural_supervised_normal_spearman_full"] == "--"


def test_quadrant_counts_from_the_oracle():
    counts = quadrant_counts(Summary.from_dict(report_summary()))
    assert counts["fixed"] == {
        "test_same": "30",
        "test_cross": "70",
        "plan_same": "12",
        "plan_cross": "28",
    }
    assert set(counts["procedural"].values()) == {"--"}


def test_rendered_report_prints_the_summarys_numbers():
    d = read_json(COMMITTED)
    s = Summary.from_dict(d)
    tex = render(d)
    assert tex == render(s)  # the dict and its view render the same
    for c in s.claims:
        f = c.regimes["fixed"]
        assert f"{tex_escape(f.ours)}: \\verdict{{{f.verdict}}}" in tex, c.id
    e = s.run("fixed", "contrastive-normal")
    lo, hi = e.bootstrap_ci()
    assert interval(e.mean("spearman_full"), lo, hi) in tex
    assert mean_sd(e.metric("spearman_paper")) in tex


def test_rendered_report_states_the_seed_rule_and_prints_undecided():
    d = read_json(COMMITTED)
    split = {
        "ours": "roughness sup/con: normal 0.90/0.30 (seeds: holds, holds, partly)",
        "verdict": "undecided",
        "seeds": [0, 1, 2],
        "by_seed": ["holds", "holds", "partly"],
    }
    for c in d["claims"]:
        if c["id"] == "C5":
            c["regimes"]["fixed"] = split
    flat = " ".join(render(d).split())
    assert "(seeds: holds, holds, partly): \\verdict{undecided}" in flat  # Table 4
    assert "C5 \\verdict{is undecided} (fixed)" in flat  # the prose: a verb
    assert flat.count(SEED_RULE) == 2  # Table 4's caption and the Decisions section
    assert "\\textbf{Verdicts over seeds}" in flat


def test_the_papers_numbers_are_quoted_with_its_own_digits():
    paper = read_json(paper_numbers_file())
    for name, values in paper["printed"].items():
        for key, text in values.items():
            assert float(text) == paper["results"][name][key], (name, key)
    d = report_summary()
    d["paper"] = paper
    tex = render(d)
    for digits in ("0.3025", "46.735", "66.56", "9.2775", "0.470", "44.7025", "11.485"):
        assert f" {digits} " in tex, digits  # as printed, not rounded


def test_the_gate_is_stated_and_its_sentences_follow_the_shares():
    from repro.report.document import gate_context
    from repro.results.claims import GATE_RULE, GATES, check_claims

    d = read_json(COMMITTED)
    d["claims"] = check_claims(d)
    flat = " ".join(render(d, strict=False).split())
    assert tex_escape(GATE_RULE) in flat and "Gate: spearman full." in flat  # Table 4
    gate = gate_context(Summary.from_dict(d))
    assert gate["n_gated"] == sum(g is not None for g in GATES.values())
    said_none = "In unseen mazes none does" in flat
    assert said_none == (gate["procedural"]["high_raw"] < gate["bar_raw"])
    # every procedural model made as good as the oracle on every gate: the sentence goes
    for entry in d["runs"]["procedural"].values():
        for metric in {g for g in GATES.values() if g}:
            best = d["baselines"]["procedural"]["oracle"]["metrics"][metric]["mean"]
            entry["metrics"][metric] = agg(*[best] * len(entry["seeds"]))
    d["claims"] = check_claims(d)
    gate = gate_context(Summary.from_dict(d))
    assert gate["procedural"]["low_raw"] == pytest.approx(1.0)
    assert gate["procedural"]["n_not_testable"] == 0
    assert "In unseen mazes none does" not in " ".join(render(d, strict=False).split())


def test_an_interval_is_printed_with_the_digits_that_hold_its_mean():
    assert interval(0.85, 0.75, 0.9) == "0.850 [0.75, 0.90]"  # two decimals suffice
    assert interval(0.998, 0.9955, 0.9994) == "0.998 [0.996, 0.999]"  # not [1.00, 1.00]
    assert interval(0.9981, 0.99805, 0.99812) == "0.998 [0.998, 0.998]"  # three suffice
    # a mean outside its interval stays outside: printed at the most digits, not hidden
    assert interval(0.5, 0.61, 0.7) == "0.500 [0.6100, 0.7000]"


def test_the_papers_greedy_rates_are_placed_between_our_heuristics():
    from repro.report.document import greedy_reference_context

    d = read_json(COMMITTED)
    ctx = greedy_reference_context(Summary.from_dict(d))
    paper = [d["paper"]["results"][n]["greedy_solved"] for n in CONFIGS]
    for regime in ("fixed", "procedural"):
        b = d["baselines"][regime]
        c, m = (b[k]["metrics"]["greedy_solved"]["mean"] for k in ("constant", "manhattan"))
        assert ctx[regime]["closer"] == sum(abs(x - c) < abs(x - m) for x in paper)
    said = "most of the paper's models cannot be told from a heuristic" in " ".join(
        render(d, strict=False).split()
    )
    assert said == all(2 * ctx[r]["closer"] > ctx["n"] for r in ("fixed", "procedural"))
    # the Manhattan rate moved next to the paper's: the conclusion goes
    for regime in ("fixed", "procedural"):
        d["baselines"][regime]["manhattan"]["metrics"]["greedy_solved"]["mean"] = 0.18
    assert "cannot be told from a heuristic" not in " ".join(render(d, strict=False).split())
