"""Turn a week's columnar events into landing records: frames of (ts, line) per source.

xAPI statements follow xAPI 1.0.3 as an LRS exports them; mission progress is change-data-capture
(one line per version of a record); assessment attempts carry their answers.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..contract import PROGRAM_HOME_PAGE
from . import jsonl as j
from .catalog import CAPSTONE_PHASES, MAX_SUBTASKS, RUBRIC_CATEGORIES
from .population import uuid_strings

BASE_IRI = "https://cohortlens.example/xapi"
HOME_PAGE = PROGRAM_HOME_PAGE
XAPI_VERSION = "1.0.3"
ADL_VERBS = [
    "launched",
    "initialized",
    "progressed",
    "completed",
    "passed",
    "failed",
    "attempted",
    "answered",
    "experienced",
    "terminated",
]
PROJECT_VERBS = ("hint-requested", "tool-used")
ACTIVITY_TYPES = {
    # kind: (path in the activity IRI, activity type IRI)
    "course": ("track", "http://adlnet.gov/expapi/activities/course"),
    "module": ("module", "http://adlnet.gov/expapi/activities/module"),
    "video": ("module", "https://w3id.org/xapi/video/activity-type/video"),
    "check": ("module", "http://adlnet.gov/expapi/activities/cmi.interaction"),
    "assessment": ("assessment", "http://adlnet.gov/expapi/activities/assessment"),
    "mission": ("mission", f"{BASE_IRI}/activity-types/mission"),
    "subtask": ("mission", "http://adlnet.gov/expapi/activities/objective"),
    "phase": ("mission", "http://adlnet.gov/expapi/activities/objective"),
    "lab": ("lab", "http://adlnet.gov/expapi/activities/simulation"),
}
EXT_PROGRESS = f"{BASE_IRI}/extensions/progress-id"
EXT_ATTEMPT = f"{BASE_IRI}/extensions/attempt-number"


def verb_iri(verb: str) -> str:
    if verb in PROJECT_VERBS:
        return f"{BASE_IRI}/verbs/{verb}"
    return f"http://adlnet.gov/expapi/verbs/{verb}"


VERB_JSON = {
    v: f'{{"id":"{verb_iri(v)}","display":{{"en-US":"{v.replace("-", " ")}"}}}}'
    for v in (*ADL_VERBS, *PROJECT_VERBS)
}


def _frame(parts: list[dict[str, np.ndarray]]) -> pl.DataFrame | None:
    frames = []
    for part in parts:
        if len(next(iter(part.values()))):
            cols = {
                # Object arrays hold strings; polars reads them directly, far faster than astype.
                key: pl.Series(key, value, dtype=pl.String) if value.dtype == object else value
                for key, value in part.items()
            }
            frames.append(pl.DataFrame(cols, nan_to_null=True))
    if not frames:
        return None
    return pl.concat(frames, how="diagonal_relaxed")


def render_xapi(
    parts: list[dict[str, np.ndarray]],
    learner_ids: pl.Series,
    registrations: pl.Series,
    rng: np.random.Generator,
) -> pl.DataFrame | None:
    df = _frame(parts)
    if df is None:
        return None
    for optional, dtype in (
        ("score", pl.Float64),
        ("success", pl.Boolean),
        ("completion", pl.Boolean),
        ("duration_s", pl.Int64),
        ("progress", pl.String),
        ("attempt", pl.Int32),
    ):
        if optional not in df.columns:
            df = df.with_columns(pl.lit(None, dtype).alias(optional))
    df = df.with_columns(
        id=pl.Series(uuid_strings(rng, df.height)),
        learner_id=learner_ids.gather(df["learner"]),
        registration=registrations.gather(df["learner"]),
    )
    kinds = pl.col("kind")
    secs = pl.col("duration_s")
    # Built in flat stages: one level of concatenation per column is several times faster in
    # polars than one deeply nested expression.
    df = df.with_columns(
        actor=pl.concat_str(
            [
                pl.lit(f'{{"objectType":"Agent","account":{{"homePage":"{HOME_PAGE}","name":"'),
                pl.col("learner_id"),
                pl.lit('"}}'),
            ]
        ),
        verb_json=pl.col("verb").replace_strict(VERB_JSON),
        object_json=pl.concat_str(
            [
                pl.lit(f'{{"objectType":"Activity","id":"{BASE_IRI}/activities/'),
                kinds.replace_strict({k: v[0] for k, v in ACTIVITY_TYPES.items()}),
                pl.lit("/"),
                pl.col("object"),
                pl.lit('","definition":{"type":"'),
                kinds.replace_strict({k: v[1] for k, v in ACTIVITY_TYPES.items()}),
                pl.lit('"}}'),
            ]
        ),
        score_m=j.member("score", pl.format('{{"scaled":{}}}', pl.col("score").round(4))),
        success_m=j.member("success", j.boolean("success")),
        completion_m=j.member("completion", j.boolean("completion")),
        duration_m=j.member(
            "duration",
            pl.format('"PT{}H{}M{}S"', secs // 3600, (secs % 3600) // 60, secs % 60),
        ),
        progress_m=j.member(EXT_PROGRESS, j.string("progress")),
        attempt_m=j.member(EXT_ATTEMPT, j.number("attempt")),
        timestamp_json=j.timestamp("ts"),
    ).with_columns(
        result_json=pl.concat_str(
            ["score_m", "success_m", "completion_m", "duration_m"], separator=",", ignore_nulls=True
        ),
        extensions_json=pl.concat_str(
            ["progress_m", "attempt_m"], separator=",", ignore_nulls=True
        ),
    )
    optional_result = pl.when(pl.col("result_json") != "").then(
        pl.concat_str([pl.lit(',"result":{'), pl.col("result_json"), pl.lit("}")])
    )
    optional_extensions = pl.when(pl.col("extensions_json") != "").then(
        pl.concat_str([pl.lit(',"extensions":{'), pl.col("extensions_json"), pl.lit("}")])
    )
    line = pl.concat_str(
        [
            pl.lit('{"id":"'),
            pl.col("id"),
            pl.lit('","actor":'),
            pl.col("actor"),
            pl.lit(',"verb":'),
            pl.col("verb_json"),
            pl.lit(',"object":'),
            pl.col("object_json"),
            optional_result.fill_null(""),
            pl.lit(',"context":{"registration":"'),
            pl.col("registration"),
            pl.lit('","platform":"cohortlens-learn","language":"en-US"'),
            optional_extensions.fill_null(""),
            pl.lit('},"timestamp":'),
            pl.col("timestamp_json"),
            pl.lit(f',"version":"{XAPI_VERSION}"}}'),
        ]
    )
    return df.select("ts", line.alias("line"))


def _object_column(
    keys: list[str], matrix: np.ndarray, mask: np.ndarray, decimals=None
) -> pl.Series:
    """One JSON object per row: ``{keys[i]: matrix[row, i]}`` for the columns where mask is set."""
    values = np.where(mask, matrix, np.nan)
    df = pl.DataFrame({f"v{i}": values[:, i] for i in range(len(keys))}, nan_to_null=True)
    if decimals == 0:
        df = df.cast(pl.Int64)
        decimals = None
    members = (j.member(k, j.number(f"v{i}", decimals)) for i, k in enumerate(keys))
    return df.select(j.obj(*members).alias("json")).to_series()


def _array_column(matrix: np.ndarray, mask: np.ndarray) -> pl.Series:
    """One JSON array of strings per row, from the masked columns of a string matrix."""
    k = matrix.shape[1]
    df = pl.DataFrame(
        {
            **{f"v{i}": matrix[:, i].astype(str) for i in range(k)},
            **{f"m{i}": mask[:, i] for i in range(k)},
        }
    )
    items = (pl.when(pl.col(f"m{i}")).then(j.string(f"v{i}")) for i in range(k))
    return df.select(j.array(*items).alias("json")).to_series()


PROGRESS_STATUS = {
    "in_progress": "in_progress",
    "submitted": "submitted",
    "ai_reviewed": "ai_reviewed",
    "mentor_review": "mentor_review",
    "revision_requested": "revision_requested",
    "in_progress_resumed": "in_progress",
    "submitted_again": "submitted",
    "ai_reviewed_again": "ai_reviewed",
    "mentor_review_again": "mentor_review",
    **{f"phase_{k + 1}": "in_progress" for k in range(len(CAPSTONE_PHASES))},
}
FIRST_REVIEW_SEEN = (
    "revision_requested",
    "in_progress_resumed",
    "submitted_again",
    "ai_reviewed_again",
    "mentor_review_again",
)
WORK_DONE = ("submitted", "ai_reviewed", "mentor_review", *FIRST_REVIEW_SEEN)


def _mission_versions(
    versions: dict[str, np.ndarray], batch: dict[str, np.ndarray]
) -> pl.DataFrame:
    """One row per version with every progress field resolved (before JSON rendering)."""
    stage_keys = [str(k + 1) for k in range(MAX_SUBTASKS)]
    stage_mask = np.arange(MAX_SUBTASKS)[None, :] < batch["subtasks"][:, None]
    reached_mask = np.arange(MAX_SUBTASKS)[None, :] < batch["reached"][:, None]
    hint_ids = np.char.add(
        np.char.add("H", batch["hint_stage"].astype(str)),
        np.char.add(
            ".",
            np.broadcast_to(
                np.arange(1, batch["hint_stage"].shape[1] + 1), batch["hint_stage"].shape
            ).astype(str),
        ),
    )
    phase_at = batch["phase_at"]
    attempts = pl.DataFrame(
        {
            "progress_id": batch["progress_id"].astype(str),
            "learner": batch["learner"],
            "mission": batch["mission"],
            "attempt_number": batch["attempt_number"],
            "capstone": batch["capstone"],
            "missed": batch["missed"],
            "revise": batch["revise"],
            "passed": batch["passed"],
            "drop_off": np.where(batch["drop_off"] > 0, batch["drop_off"], np.nan),
            "score1": batch["score1"],
            "score2": batch["score2"],
            "sub1": _object_column(stage_keys, batch["sub1"], stage_mask, 0),
            "sub2": _object_column(stage_keys, batch["sub2"], stage_mask, 0),
            "rub1": _object_column(
                list(RUBRIC_CATEGORIES), batch["rub1"], np.ones_like(batch["rub1"], bool), 2
            ),
            "rub2": _object_column(
                list(RUBRIC_CATEGORIES), batch["rub2"], np.ones_like(batch["rub2"], bool), 2
            ),
            "time_per_stage": _object_column(stage_keys, batch["stage_minutes"], reached_mask, 0),
            "tools_used": _array_column(
                batch["tools"],
                np.arange(batch["tools"].shape[1])[None, :] < batch["n_tools"][:, None],
            ),
            "hints_used": _array_column(
                hint_ids, np.arange(hint_ids.shape[1])[None, :] < batch["n_hints"][:, None]
            ),
            "t0": batch["t0"],
            "deadline": batch["deadline"],
            "submitted1": batch["submitted1"],
            "submitted2": batch["submitted2"],
            "reviewed1": batch["reviewed1"],
            "reviewed2": batch["reviewed2"],
            "phases_done": np.where(batch["capstone"], batch["phases_done"], 0),
            **{f"phase_at_{k}": phase_at[:, k] for k in range(len(CAPSTONE_PHASES))},
        },
        nan_to_null=True,
    ).with_columns(pl.col("drop_off").cast(pl.Int64))
    v = pl.DataFrame({k: (x.astype(str) if x.dtype == object else x) for k, x in versions.items()})
    df = v.with_columns(attempts.select(pl.all().gather(v["attempt"])))
    ver = pl.col("version")
    decided = ver.is_in(["decided", "reflected"])
    first_seen = ver.is_in(FIRST_REVIEW_SEEN)
    final_scores = decided & ~pl.col("missed")
    outcome = pl.when(pl.col("passed")).then(pl.lit("approved")).otherwise(pl.lit("rejected"))
    phases = [
        pl.when(
            pl.col("capstone")
            & (pl.col("phases_done") > k)
            & (pl.col(f"phase_at_{k}") <= pl.col("ts"))
        ).then(j.timestamp(f"phase_at_{k}"))
        for k in range(len(CAPSTONE_PHASES))
    ]
    return df.select(
        "ts",
        "progress_id",
        "learner",
        "mission",
        "attempt_number",
        pl.when(decided).then(outcome).otherwise(ver.replace(PROGRESS_STATUS)).alias("status"),
        pl.when(decided)
        .then(pl.when(pl.col("passed")).then(pl.lit("pass")).otherwise(pl.lit("fail")))
        .otherwise(pl.lit("pending"))
        .alias("final_status"),
        pl.when(first_seen).then("score1").when(final_scores).then("score2").alias("mentor_score"),
        pl.when(first_seen)
        .then("sub1")
        .when(final_scores)
        .then("sub2")
        .otherwise(pl.lit("{}"))
        .alias("subtask_scores"),
        pl.when(first_seen)
        .then("rub1")
        .when(final_scores)
        .then("rub2")
        .otherwise(pl.lit("{}"))
        .alias("rubric_scores"),
        *(
            pl.when(ver.is_in(WORK_DONE) | decided).then(c).otherwise(pl.lit(empty)).alias(c)
            for c, empty in (("time_per_stage", "{}"), ("tools_used", "[]"), ("hints_used", "[]"))
        ),
        pl.when(decided & pl.col("missed")).then("drop_off").alias("drop_off_stage"),
        (ver == "reflected").alias("reflection_submitted"),
        pl.when(pl.col("capstone"))
        .then(j.obj(*(j.member(p, e) for p, e in zip(CAPSTONE_PHASES, phases, strict=True))))
        .alias("capstone_phases"),
        pl.col("t0").alias("started_at"),
        pl.when(
            ver.is_in(
                [
                    "submitted",
                    "ai_reviewed",
                    "mentor_review",
                    "revision_requested",
                    "in_progress_resumed",
                ]
            )
        )
        .then("submitted1")
        .when(ver.is_in(["submitted_again", "ai_reviewed_again", "mentor_review_again"]))
        .then("submitted2")
        .when(decided & ~pl.col("missed"))
        .then(pl.when(pl.col("revise")).then("submitted2").otherwise("submitted1"))
        .alias("submitted_at"),
        pl.when(first_seen)
        .then("reviewed1")
        .when(final_scores)
        .then(pl.when(pl.col("revise")).then("reviewed2").otherwise("reviewed1"))
        .alias("mentor_reviewed_at"),
        pl.col("deadline").alias("deadline_at"),
    )


def render_progress(
    assigned: list[dict[str, np.ndarray]],
    missions: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]],
    learner_ids: pl.Series,
    mission_ids: pl.Series,
    capstones: pl.Series,
) -> pl.DataFrame | None:
    frames = [_mission_versions(v, b) for v, b in missions if len(v["ts"])]
    not_started = _frame(assigned)
    if not_started is not None:
        frames.append(
            not_started.with_columns(
                attempt_number=pl.lit(1, pl.Int32),
                status=pl.lit("not_started"),
                final_status=pl.lit("pending"),
                subtask_scores=pl.lit("{}"),
                rubric_scores=pl.lit("{}"),
                time_per_stage=pl.lit("{}"),
                tools_used=pl.lit("[]"),
                hints_used=pl.lit("[]"),
                reflection_submitted=pl.lit(False),
                capstone_phases=pl.when(capstones.gather(not_started["mission"])).then(
                    pl.lit("{}")
                ),
            )
        )
    if not frames:
        return None
    df = pl.concat(frames, how="diagonal_relaxed")
    df = df.with_columns(
        learner_id=learner_ids.gather(df["learner"]),
        mission_id=mission_ids.gather(df["mission"]),
    )

    def nullable(expr: pl.Expr) -> pl.Expr:
        return expr.fill_null(pl.lit("null"))

    members = {
        "progress_id": j.string("progress_id"),
        "learner_id": j.string("learner_id"),
        "mission_id": j.string("mission_id"),
        "attempt_number": j.number("attempt_number"),
        "status": j.string("status"),
        "final_status": j.string("final_status"),
        "mentor_score": nullable(j.number("mentor_score", 1)),
        "subtask_scores": pl.col("subtask_scores"),
        "rubric_scores": pl.col("rubric_scores"),
        "time_per_stage": pl.col("time_per_stage"),
        "tools_used": pl.col("tools_used"),
        "hints_used": pl.col("hints_used"),
        "drop_off_stage": nullable(j.number("drop_off_stage")),
        "reflection_submitted": j.boolean("reflection_submitted"),
        "capstone_phases": pl.col("capstone_phases"),
        **{
            c: nullable(j.timestamp(c))
            for c in ("started_at", "submitted_at", "mentor_reviewed_at", "deadline_at")
        },
        "updated_at": j.timestamp("ts"),
    }
    line = j.render_object(df, members, optional=frozenset({"capstone_phases"}))
    return pl.DataFrame({"ts": df["ts"], "line": line})


def render_attempts(
    attempts: list[dict[str, np.ndarray]],
    answers: list[dict[str, np.ndarray]],
    learner_ids: pl.Series,
    assessment_ids: pl.Series,
    question_ids: pl.Series,
) -> pl.DataFrame | None:
    df = _frame(attempts)
    if df is None:
        return None
    ans = _frame(answers)
    ans_json = (
        ans.filter(~pl.col("abandoned"))
        .with_columns(question_id=question_ids.gather(ans.filter(~pl.col("abandoned"))["question"]))
        .group_by("attempt_id", maintain_order=True)
        .agg(
            j.obj(
                j.member("question_id", j.string("question_id")),
                j.member("is_correct", j.boolean("correct")),
                j.member("points_earned", j.number("earned", 2)),
            )
            .str.join(",")
            .alias("answers")
        )
    )
    df = df.join(ans_json, on="attempt_id", how="left", maintain_order="left").with_columns(
        learner_id=learner_ids.gather(df["learner"]),
        assessment_id=assessment_ids.gather(df["assessment"]),
    )
    done = ~pl.col("abandoned")

    def when_done(expr: pl.Expr) -> pl.Expr:
        return pl.when(done).then(expr).otherwise(pl.lit("null"))

    members = {
        "attempt_id": j.string("attempt_id"),
        "learner_id": j.string("learner_id"),
        "assessment_id": j.string("assessment_id"),
        "attempt_number": j.number("attempt_number"),
        "status": pl.when(done).then(pl.lit('"graded"')).otherwise(pl.lit('"in_progress"')),
        "started_at": j.timestamp("started_at"),
        "submitted_at": when_done(j.timestamp("submitted_at")),
        "graded_at": when_done(j.timestamp("graded_at")),
        "score": when_done(j.number("score", 2)),
        "percentage": when_done(j.number("percentage", 2)),
        "time_spent_minutes": j.number("minutes"),
        "answers": pl.concat_str([pl.lit("["), pl.col("answers").fill_null(""), pl.lit("]")]),
    }
    return pl.DataFrame({"ts": df["ts"], "line": j.render_object(df, members)})
