"""The walls study's small arms (one seed each, :data:`repro.config.WALLS`), each set against
what it can be compared with at its own training step, and the checks of their sentences:

- ``recurrent`` and ``others`` (the paper's stitching data): the headline field's own
  snapshots at the same step (its seeds);
- ``fixed``: the four convolutional models in the fixed maze, against the main study's MLP of
  the same method and data at the same step in the same maze (its snapshot on the same seed);
- ``longer``: the field trained twice the paper's length, against its own snapshot at the
  paper's length (the same run: no seed noise between the two).
"""

from __future__ import annotations

from typing import Any

from repro.report.checks import SHARP, UNCHANGED, Check
from repro.report.texfmt import NO_VALUE, num, pct
from repro.results.view import Entry, Summary
from repro.studies.arms import study_of

REGIME = "procedural"
HEAD = ("headline", "supervised_conv-normal")  # the headline field: (arm, run label)
# The small arms set against the headline field at the same step: (arm, run label).
SMALL_ARMS = {
    "recurrent": ("recurrent", "supervised_conv-normal+recurrent"),
    "leaky": ("others", "supervised_conv-stitching"),
}
# The fixed arm: each convolutional model beside the MLP of the same method and data.
FIXED = {  # key -> (convolutional run label, the main study's MLP)
    "field_normal": ("supervised_conv-normal", "supervised-normal"),
    "field_stitching": ("supervised_conv-stitching", "supervised-stitching"),
    "enc_normal": ("contrastive_conv-normal", "contrastive-normal"),
    "enc_stitching": ("contrastive_conv-stitching", "contrastive-stitching"),
}
LONGER = ("longer", "supervised_conv-normal")
# A run's final metric -> the same measure in its snapshots' metrics, where named otherwise.
SNAPSHOT_KEYS = {"walls_detour_spearman": "detour_spearman"}


def arm_run(summary: Summary, arm: str, name: str, regime: str = REGIME) -> Entry | None:
    """The run ``name`` of the walls study's ``arm`` in ``regime`` (None if it did not run)."""
    study = study_of(summary, "walls")
    return (study.runs(arm, regime) if study else {}).get(name)


def snapshot_seeds(e: Entry | None, key: str, step: int, seeds=None) -> list[float]:
    """The values of snapshot metric ``key`` at ``step`` of the runs whose seed is in
    ``seeds`` (every seed if None); [] if not recorded."""
    tl = None if e is None else e.training_length
    series = None if tl is None or step not in tl.steps else tl.series(key)
    agg = None if series is None else series[tl.steps.index(step)]
    if agg is None:
        return []
    pairs = zip(e.seeds, agg.values, strict=False) if e.seeds else ((None, v) for v in agg.values)
    return [v for s, v in pairs if v is not None and (seeds is None or s in seeds)]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _steps(e: Entry | None) -> int | None:
    return None if e is None else e.config.get("steps")


# ---------------------------------------------------------------- recurrent and leaky


def against_headline(summary: Summary, which: str, key: str = "spearman_full"):
    """(the small arm's value, the headline field's seeds at the same step), and the step."""
    e = arm_run(summary, *SMALL_ARMS[which])
    step = _steps(e)
    value = None if e is None else e.mean(key)
    seeds = snapshot_seeds(arm_run(summary, *HEAD), key, step) if step else []
    return value, seeds, step


def near_headline(which: str):
    """A check's test: the small arm's full-test Spearman differs from the headline field's
    mean at the same step by less than UNCHANGED (either way)."""

    def test(summary: Summary):
        value, seeds, step = against_headline(summary, which)
        mean = _mean(seeds)
        n = {f"{which} spearman_full": value,
             f"headline field at step {step} mean": mean}  # fmt: skip
        return value is not None and mean is not None and abs(value - mean) < UNCHANGED, n

    return test


def arm_numbers(summary: Summary) -> dict[str, Any]:
    """'<arm>_<metric>' of the recurrent and leaky arms and 'head_at_<arm>' (the headline
    field's mean at the same step, and its lowest and highest seed), as TeX."""
    out: dict[str, Any] = {}
    for which, (arm, name) in SMALL_ARMS.items():
        e = arm_run(summary, arm, name)
        for metric in ("spearman_full", "walls_detour_spearman", "greedy_solved"):
            v = None if e is None else e.mean(metric)
            out[f"{which}_{metric}"] = pct(v) if metric == "greedy_solved" else num(v)
        _, seeds, step = against_headline(summary, which)
        out[f"head_at_{which}"] = num(_mean(seeds))
        out[f"head_at_{which}_low"] = num(min(seeds, default=None))
        out[f"head_at_{which}_high"] = num(max(seeds, default=None))
        out[f"{which}_steps"] = f"{step:,}" if step else NO_VALUE
        out[f"{which}_ran"] = e is not None
    return out


# ---------------------------------------------------------------- the fixed maze


def fixed_pair(summary: Summary, key: str, metric: str = "spearman_full"):
    """(the convolutional model's value in the fixed maze, the MLP's at the same step on
    the same seeds, i.e. in the same mazes), and the step; None where either is missing."""
    conv_name, mlp_name = FIXED[key]
    conv = arm_run(summary, "fixed", conv_name, "fixed")
    step = _steps(conv)
    value = None if conv is None else conv.mean(metric)
    mlp = summary.run("fixed", mlp_name)
    at = _mean(snapshot_seeds(mlp, metric, step, conv.seeds)) if step else None
    return value, at, step


def level_with_mlp(key: str):
    """A check's test: the convolutional model in the fixed maze ranks at least as well as
    the MLP at the same step in the same maze, less UNCHANGED."""

    def test(summary: Summary):
        value, at, step = fixed_pair(summary, key)
        n = {f"fixed {FIXED[key][0]} spearman_full": value,
             f"fixed {FIXED[key][1]} at step {step}": at}  # fmt: skip
        return value is not None and at is not None and value >= at - UNCHANGED, n

    return test


def stitch_drops(summary: Summary) -> dict[str, float | None]:
    """The full-test Spearman the paper's stitching data cost each method in the fixed maze
    (normal minus stitching), for the convolutional models and the MLPs at the same step."""
    pairs = {k: fixed_pair(summary, k) for k in FIXED}
    out: dict[str, float | None] = {}
    for method in ("field", "enc"):
        (cn, mn, _), (cs, ms, _) = pairs[f"{method}_normal"], pairs[f"{method}_stitching"]
        out[f"conv {method}"] = None if cn is None or cs is None else cn - cs
        out[f"mlp {method}"] = None if mn is None or ms is None else mn - ms
    return out


def no_sharp_drop(summary: Summary):
    """Whether the paper's stitching data cost every model of the fixed arm, and the MLP of
    the same method at the same step, less than SHARP (C4's own bar for a sharp drop)."""
    n = stitch_drops(summary)
    return all(v is not None for v in n.values()) and max(n.values()) < SHARP, n


def fixed_numbers(summary: Summary) -> dict[str, Any]:
    """'<key>' and '<key>_mlp' (full-test Spearman), the drops 'drop_<conv|mlp>_<field|enc>',
    'step', 'sharp' and 'ran', as TeX."""
    out: dict[str, Any] = {}
    step = None
    for key in FIXED:
        value, at, step = fixed_pair(summary, key)
        out |= {key: num(value), f"{key}_mlp": num(at)}
    for name, v in stitch_drops(summary).items():
        out[f"drop_{name.replace(' ', '_')}"] = num(v)
    out["step"] = f"{step:,}" if step else NO_VALUE
    out["sharp"] = f"{SHARP}"
    out["ran"] = all(arm_run(summary, "fixed", c, "fixed") for c, _ in FIXED.values())
    return out


# ---------------------------------------------------------------- twice the length


def longer_values(summary: Summary, key: str = "spearman_full"):
    """(the longer field's final value, its own snapshot at the headline's length, the
    headline's mean over seeds at that length), and the two steps."""
    e, head = arm_run(summary, *LONGER), arm_run(summary, *HEAD)
    step, half = _steps(e), _steps(head)
    final = None if e is None else e.mean(key)
    own = _mean(snapshot_seeds(e, SNAPSHOT_KEYS.get(key, key), half)) if half else None
    return final, own, None if head is None else head.mean(key), step, half


def longer_settled(summary: Summary):
    """Whether the field's full-test Spearman moves by less than UNCHANGED between the
    paper's length and twice it (one run: its final value against its own snapshot)."""
    final, own, _, step, half = longer_values(summary)
    n = {f"longer field at step {step}": final, f"longer field at step {half}": own}
    return final is not None and own is not None and abs(final - own) < UNCHANGED, n


def longer_same_start(summary: Summary):
    """Whether the longer run's snapshot at the headline's length scores exactly what the
    headline run of the same seed scores there (same configuration and seed: the same first
    steps), on every snapshot metric both hold."""
    e, head = arm_run(summary, *LONGER), arm_run(summary, *HEAD)
    half = _steps(head)
    tl = None if e is None else e.training_length
    keys = () if tl is None or head is None or not half else tuple(tl.metrics)
    n: dict[str, float | None] = {}
    for key in keys:
        n[f"longer {key} at step {half}"] = _mean(snapshot_seeds(e, key, half))
        n[f"headline {key} at step {half}, seeds {e.seeds}"] = _mean(
            snapshot_seeds(head, key, half, e.seeds)
        )
    values = list(n.values())
    same = all(a == b for a, b in zip(values[::2], values[1::2], strict=True))
    return bool(n) and all(v is not None for v in values) and same, n


def longer_numbers(summary: Summary) -> dict[str, Any]:
    """'<metric>' (final), '<metric>_half' (own snapshot at the headline's length),
    '<metric>_head' (the headline's mean there), 'steps', 'half', 'ran', as TeX."""
    out: dict[str, Any] = {}
    step = half = None
    for metric in ("spearman_full", "walls_detour_spearman", "greedy_solved"):
        final, own, head, step, half = longer_values(summary, metric)
        fmt = pct if metric == "greedy_solved" else num
        out |= {metric: fmt(final), f"{metric}_half": fmt(own), f"{metric}_head": fmt(head)}
    out["steps"] = f"{step:,}" if step else NO_VALUE
    out["half"] = f"{half:,}" if half else NO_VALUE
    out["ran"] = arm_run(summary, *LONGER) is not None
    return out


def checks() -> dict[str, Check]:
    """The small arms' named checks; the section adds a ':not' check for those whose
    sentence it writes either way (all but 'walls-longer-same-start', which is one-way)."""
    out = {
        "walls-recurrent-near": ("the recurrent field ranks unseen mazes within "
                                 f"{UNCHANGED} of the dilated field's mean at the same step",
                                 near_headline("recurrent")),
        "walls-leaky-near": ("the field trained on the paper's stitching data ranks unseen "
                             f"mazes within {UNCHANGED} of the normal-trained field's mean at "
                             "the same step", near_headline("leaky")),
        "walls-fixed-field-level": ("in the fixed maze the field ranks at least as well as "
                                    f"the supervised MLP at the same step, less {UNCHANGED}",
                                    level_with_mlp("field_normal")),
        "walls-fixed-encoders-level": ("in the fixed maze the encoders rank at least as well "
                                       "as the contrastive MLP at the same step, less "
                                       f"{UNCHANGED}", level_with_mlp("enc_normal")),
        "walls-fixed-no-sharp-drop": ("in the fixed maze the paper's stitching data cost each "
                                      "convolutional model, and each MLP at the same step, less "
                                      f"than {SHARP} of full-test Spearman", no_sharp_drop),
        "walls-longer-settled": ("the field's full-test Spearman moves by less than "
                                 f"{UNCHANGED} between the paper's length and twice it",
                                 longer_settled),
        "walls-longer-same-start": ("the longer run's snapshot at the headline's length scores "
                                    "exactly what the headline's run of the same seed scores "
                                    "there", longer_same_start),
    }  # fmt: skip
    return {name: Check(says, test) for name, (says, test) in out.items()}
