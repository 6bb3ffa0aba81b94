"""Report rendering: LaTeX escaping, no unformatted numbers, strict undefined variables."""

import jinja2
import pytest

from repro.study.report import Tex, _finalize, level, make_env, mean_sd, tex_escape


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


def test_mean_sd_and_level():
    one = {"mean": 0.5, "std": 0.0, "values": [0.5]}
    three = {"mean": 0.5, "std": 0.1, "values": [0.4, 0.5, 0.6]}
    assert mean_sd(one) == "0.500"
    assert mean_sd(three) == r"0.500\,$\pm$\,0.100"
    assert mean_sd(three, 1, percent=True) == r"50.0\,$\pm$\,10.0\%"
    assert mean_sd(None) == "--"
    assert [level(x) for x in (0.95, 0.8, 0.5, 0.2, 0.0, None)] == [
        "closely",
        "well",
        "partly",
        "barely",
        "not at all",
        "not measured",
    ]
