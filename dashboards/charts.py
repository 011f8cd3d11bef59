"""Every chart of the dashboards (plotly), built from the data module's frames."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import polars as pl

from .text import chart_text

BAND_COLORS = {"not_ready": "#d62728", "developing": "#ff7f0e", "ready": "#2ca02c"}
DOMAIN_ORDER = ["knowledge", "skills", "application", "ethics"]
TIER_ORDER = ["beginner", "intermediate", "advanced", "mastery"]  # the course's order


TRACK_LABELS = {"grc": "GRC"}  # acronyms; other tracks are title-cased
WEEK_MS = 7 * 24 * 3600 * 1000


def track_label(track: str) -> str:
    """A talent track as people write it (grc -> GRC, defender -> Defender)."""
    return TRACK_LABELS.get(track, track.replace("_", " ").title())


def _weekly_ticks(fig: go.Figure, weeks: list) -> None:
    """Ticks on the Mondays the weekly bars start on (not plotly's Sundays), every few weeks."""
    if weeks:
        every = max(1, len(weeks) // 8)
        fig.update_xaxes(tick0=weeks[0], dtick=every * WEEK_MS, tickformat="%d %b")


def _layout(fig: go.Figure, title: str, **kwargs) -> go.Figure:
    layout = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}, **kwargs}
    fig.update_layout(title=title, template="plotly_white", **layout)
    return fig


def readiness_histogram(bins: pl.DataFrame) -> go.Figure:
    """Learners per 5-point readiness bin, stacked by band (from data.readiness_overview)."""
    fig = go.Figure()
    for band, color in BAND_COLORS.items():
        rows = bins.filter(pl.col("readiness_band") == band)
        fig.add_bar(
            x=(rows["score_bin"] + 2.5).to_list(),
            y=rows["n_learners"].to_list(),
            width=5,
            name=band.replace("_", " "),
            marker_color=color,
        )
    return _layout(
        fig,
        "Readiness of your learners",
        barmode="stack",
        xaxis_range=[0, 100],
        xaxis_title="readiness score",
        yaxis_title="learners",
    )


def weekly_trend(weekly: pl.DataFrame) -> go.Figure:
    """Study hours per week (bars) and learners active that week (line, right axis)."""
    fig = go.Figure()
    x = weekly["week_start"].to_list()
    _weekly_ticks(fig, x)
    fig.add_bar(x=x, y=weekly["study_hours"].to_list(), name="study hours", marker_color="#9ecae1")
    fig.add_scatter(
        x=x,
        y=weekly["active_learners"].to_list(),
        name="active learners",
        yaxis="y2",
        line={"color": "#08519c"},
    )
    return _layout(
        fig,
        "Week by week",
        yaxis_title="study hours",
        yaxis2={
            "title": "active learners",
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "tickformat": ",.0f",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.15},
    )


def difficulty_bars(perf: pl.DataFrame) -> go.Figure:
    """Pass rate by labelled difficulty per tier, with Wilson 95 % intervals as error bars."""
    fig = go.Figure()
    for tier in perf["tier"].unique(maintain_order=True).to_list():
        rows = perf.filter(pl.col("tier") == tier).sort("difficulty")
        fig.add_bar(
            x=rows["difficulty"].to_list(),
            y=rows["pass_rate"].to_list(),
            name=chart_text(tier),
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (rows["ci_high"] - rows["pass_rate"]).to_list(),
                "arrayminus": (rows["pass_rate"] - rows["ci_low"]).to_list(),
            },
        )
    return _layout(
        fig,
        "Pass rate by labelled difficulty (95 % interval)",
        barmode="group",
        xaxis_title="labelled difficulty (1-5)",
        yaxis_title="pass rate",
        yaxis_range=[0, 1],
        yaxis_tickformat=".0%",
    )


def fan_chart(
    fan: pl.DataFrame, series: str, target=None, as_of=None, history: pl.DataFrame | None = None
) -> go.Figure:
    """A cohort's forecast competency: 10-90 % and 25-75 % bands and the median, by week,
    after its history so far (the same quantiles, estimated from the answers), with the
    as-of day and the cohort's target date marked."""
    rows = fan.filter(pl.col("series") == series).sort("week_start")
    x = rows["week_start"].to_list()
    fig = go.Figure()
    past = (
        history.filter(pl.col("series") == series).sort("week_start")
        if history is not None
        else None
    )
    if past is not None and past.height:
        px = past["week_start"].to_list()
        fig.add_scatter(
            x=px,
            y=past["p90"].to_list(),
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=px,
            y=past["p10"].to_list(),
            mode="lines",
            fill="tonexty",
            line={"width": 0},
            fillcolor="rgba(90, 90, 90, 0.18)",
            name="so far: p10-p90",
        )
        fig.add_scatter(
            x=px,
            y=past["p50"].to_list(),
            mode="lines",
            name="so far: median",
            line={"color": "#333333"},
        )
    if as_of is not None:
        fig.add_vline(x=as_of, line_dash="dot", line_color="#7f7f7f")
        fig.add_annotation(x=as_of, y=0.05, yref="y", text="as of", showarrow=False, xshift=18)
    for low, high, alpha in (("p10", "p90", 0.15), ("p25", "p75", 0.3)):
        fig.add_scatter(
            x=x,
            y=rows[high].to_list(),
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=x,
            y=rows[low].to_list(),
            mode="lines",
            fill="tonexty",
            line={"width": 0},
            fillcolor=f"rgba(31, 119, 180, {alpha})",
            name=f"forecast: {low}-{high}",
        )
    fig.add_scatter(
        x=x,
        y=rows["p50"].to_list(),
        mode="lines",
        name="forecast: median",
        line={"color": "#1f77b4"},
    )
    fig.add_hline(y=0.8, line_dash="dot", annotation_text="competency mastery: 0.80")
    if target is not None:
        fig.add_vline(x=target, line_dash="dash", line_color="#d62728")
        fig.add_annotation(x=target, y=1, yref="y", text="target date", showarrow=False)
    when = f" (as of {as_of})" if as_of is not None else ""
    return _layout(
        fig,
        f"Competency so far and forecast: {series}{when}",
        yaxis_range=[0, 1],
        yaxis_title="competency",
    )


def probability_histogram(learners: pl.DataFrame) -> go.Figure:
    values = learners["p_mastery_by_target"].drop_nulls().to_list()
    fig = go.Figure(go.Histogram(x=values, xbins={"start": 0, "end": 1.0001, "size": 0.05}))
    return _layout(
        fig,
        "Chance of competency mastery by the target date, per learner",
        xaxis_title="chance",
        xaxis_tickformat=".0%",
        yaxis_title="learners",
    )


def competency_radar(row: dict) -> go.Figure:
    values = [row[d] for d in DOMAIN_ORDER]
    fig = go.Figure(
        go.Scatterpolar(
            r=[*values, values[0]],
            theta=[*DOMAIN_ORDER, DOMAIN_ORDER[0]],
            fill="toself",
            name="now",
        )
    )
    fig.update_polars(radialaxis_range=[0, 1])
    # room for the domain names around the circle
    return _layout(fig, "Competency by domain", margin={"l": 60, "r": 60, "t": 60, "b": 40})


def what_if_histogram(base, changed, effort: float) -> go.Figure:
    """Chance of mastery by the target, today's effort against the slider's."""
    fig = go.Figure()
    bins = {"start": 0, "end": 1.0001, "size": 0.05}
    fig.add_histogram(x=list(base), name="recent effort", xbins=bins, opacity=0.6)
    fig.add_histogram(x=list(changed), name=f"effort x{effort:.2f}", xbins=bins, opacity=0.6)
    return _layout(
        fig,
        "Chance of competency mastery by the target date",
        barmode="overlay",
        xaxis_title="chance",
        xaxis_tickformat=".0%",
        yaxis_title="learners",
    )


def status_bars(statuses: pl.DataFrame) -> go.Figure:
    """Mission attempts by tier and final status, stacked."""
    fig = go.Figure()
    for status in statuses["final_status"].unique(maintain_order=True).to_list():
        rows = statuses.filter(pl.col("final_status") == status)
        by_tier = rows.group_by("tier", maintain_order=True).agg(pl.col("n_attempts").sum())
        fig.add_bar(
            x=[chart_text(t) for t in by_tier["tier"].to_list()],
            y=by_tier["n_attempts"].to_list(),
            name=chart_text(status),
        )
    fig.update_xaxes(categoryorder="array", categoryarray=TIER_ORDER)
    return _layout(
        fig, "Mission attempts by tier and outcome", barmode="stack", yaxis_title="attempts"
    )


def drop_off_bars(drops: pl.DataFrame) -> go.Figure:
    """Unfinished attempts by the subtask (stage) they stopped at, first subtask on top."""
    rows = drops.sort("drop_off_stage")
    labels = [f"subtask {stage}" for stage in rows["drop_off_stage"].to_list()]
    fig = go.Figure(go.Bar(x=rows["n_attempts"].to_list(), y=labels, orientation="h"))
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])
    return _layout(
        fig, "Where unfinished attempts stopped", xaxis_title="attempts", yaxis_title=None
    )


def activity_chart(weekly: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    weeks = weekly["week_start"].to_list()
    fig.add_bar(x=weeks, y=weekly["study_hours"].to_list(), name="study hours")
    _weekly_ticks(fig, weeks)
    return _layout(fig, "Study time by week", yaxis_title="hours")


def rubric_heatmap(rubric: pl.DataFrame) -> go.Figure:
    """Mean rubric score (0-100) by track and rubric category, coloured by how far each lies
    from the mean of every score shown (so differences of a few points show)."""
    scaled = rubric.with_columns(score=pl.col("mean_score") * 100)
    overall = float((scaled["score"] * scaled["n_scores"]).sum() / scaled["n_scores"].sum())
    pivot = scaled.pivot("rubric_category", index="track", values="score").sort("track")
    categories = [c for c in pivot.columns if c != "track"]
    z = pivot.select(categories).to_numpy()
    # At least 5 points either way: a difference of one point stays pale, not alarming.
    spread = max(float(np.nanmax(np.abs(z - overall))), 5.0) if z.size else 5.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[chart_text(c.replace("_", " ")) for c in categories],
            y=[chart_text(t.title()) for t in pivot["track"].to_list()],
            zmid=overall,
            zmin=overall - spread,
            zmax=overall + spread,
            colorscale="RdBu",
            texttemplate="%{z:.0f}",
            colorbar={"title": "score"},
        )
    )
    return _layout(
        fig,
        f"Mean mentor rubric score (0-100) by track and category; white = the mean, {overall:.0f}",
        height=160 + 60 * len(pivot),
    )


def rubric_feedback_bars(feedback: pl.DataFrame) -> go.Figure:
    """One learner's mean rubric score per category beside their cohort's."""
    labels = [chart_text(c.replace("_", " ")) for c in feedback["rubric_category"].to_list()]
    fig = go.Figure()
    fig.add_bar(x=labels, y=(feedback["mean_score"] * 100).to_list(), name="learner")
    fig.add_bar(
        x=labels,
        y=(feedback["cohort_mean_score"] * 100).to_list(),
        name="cohort mean",
        marker_color="#aaaaaa",
    )
    return _layout(
        fig,
        "Mentor rubric scores by category",
        barmode="group",
        yaxis_range=[0, 100],
        yaxis_title="mean score (0-100)",
    )


PATH_COLORS = {
    "on the path": "#2ca02c",
    "out of order": "#ff7f0e",
    "late": "#d62728",
    "skipped": "#9467bd",
    "to do": "#7f7f7f",
}


def path_timeline(steps: pl.DataFrame) -> go.Figure:
    """A learner's steps against the ideal path: when the ideal learner does each (open
    circle) and when this one did (filled), coloured by how it went, the as-of day marked."""
    if steps.is_empty():
        return _layout(go.Figure(), "Path against the ideal")
    frame = steps.with_columns(
        how=pl.when(pl.col("is_skipped"))
        .then(pl.lit("skipped"))
        .when(pl.col("is_out_of_order"))
        .then(pl.lit("out of order"))
        .when(pl.col("off_path_reason") == "late")
        .then(pl.lit("late"))
        .when(pl.col("done_on").is_null())
        .then(pl.lit("to do"))
        .otherwise(pl.lit("on the path"))
    )
    labels = [chart_text(s) for s in frame["step_id"].to_list()]
    fig = go.Figure()
    fig.add_scatter(
        x=frame["ideal_on"].to_list(),
        y=labels,
        mode="markers",
        name="ideal path",
        marker={"symbol": "circle-open", "size": 10, "color": "#1f77b4"},
    )
    for how, color in PATH_COLORS.items():
        rows = frame.filter((pl.col("how") == how) & pl.col("done_on").is_not_null())
        if rows.height:
            fig.add_scatter(
                x=rows["done_on"].to_list(),
                y=[chart_text(s) for s in rows["step_id"].to_list()],
                mode="markers",
                name=f"done: {how}",
                marker={"size": 10, "color": color},
            )
    as_of = frame["as_of_date"][0]
    fig.add_vline(x=as_of, line_dash="dot", line_color="#7f7f7f")
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1], title=None)
    return _layout(
        fig, f"Path against the ideal (as of {as_of})", height=max(300, 22 * len(labels))
    )


def path_summary(steps: pl.DataFrame) -> str:
    """Where a learner left the ideal path, and its next step, in a sentence."""
    off = steps.filter(pl.col("off_path_reason").is_not_null()).sort("ideal_rank")
    todo = steps.filter(pl.col("done_on").is_null()).sort("ideal_rank")
    parts = []
    if off.height:
        parts.append(f"Left the ideal path at {off['step_id'][0]} ({off['off_path_reason'][0]})")
    else:
        parts.append("On the ideal path so far")
    if todo.height:
        parts.append(f"the ideal path does {todo['step_id'][0]} next")
    return "; ".join(parts) + "."


def stage_time_bars(stages: pl.DataFrame) -> go.Figure:
    """One mission's stages: share of the time spent there, and the drop-off rate."""
    x = [f"subtask {s}" for s in stages["stage"].to_list()]
    fig = go.Figure()
    fig.add_bar(x=x, y=stages["share_of_time"].to_list(), name="share of the time")
    fig.add_bar(x=x, y=stages["drop_off_rate"].to_list(), name="drop-off rate")
    return _layout(fig, "Where the time goes, and where attempts stop", yaxis_tickformat=".0%")
