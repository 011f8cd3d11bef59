import datetime as dt

import polars as pl
import streamlit as st

from dashboards import columns, data, session
from dashboards.text import plain

STALE_HOURS = 48  # as the warehouse resource's max_staleness_hours

who = session.page("Data health", "data_health")
warning = data.snapshot_warning(session.serving())
if warning:
    st.warning(f"The published data's pointer needs attention: {plain(warning)}.")
files, quarantine = data.data_health(session.serving(), who)
files = files.with_columns(pl.col("source").str.replace_all("_", " "))
if not quarantine.is_empty():
    quarantine = quarantine.with_columns(pl.col("source").str.replace_all("_", " "))
st.subheader("Files, per source")
now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
files = files.with_columns(
    hours_since=(pl.lit(now) - pl.col("last_loaded")).dt.total_minutes() / 60
)
stale = files.filter(pl.col("hours_since").is_null() | (pl.col("hours_since") > STALE_HOURS))
if stale.height:
    st.warning(
        f"No file loaded in the last {STALE_HOURS} hours for:"
        f" {', '.join(plain(s) for s in stale['source'])}."
        " Check that the exports still arrive."
    )
else:
    st.success(f"Every source delivered a file in the last {STALE_HOURS} hours.")
st.dataframe(
    files,
    hide_index=True,
    placeholder=columns.MISSING,
    width="stretch",
    column_config={
        "source": "Source",
        "files_loaded": st.column_config.NumberColumn("Files loaded", format="localized"),
        "files_duplicate": st.column_config.NumberColumn(
            "Duplicates", format="localized", help="The same content as a file loaded before"
        ),
        "files_refused": st.column_config.NumberColumn(
            "Failed or rejected", format="localized", help="Listed below with the reason"
        ),
        "rows_read": st.column_config.NumberColumn("Records read", format="localized"),
        "rows_loaded": st.column_config.NumberColumn("Records loaded", format="localized"),
        "rows_quarantined": st.column_config.NumberColumn("Quarantined", format="localized"),
        "last_loaded": st.column_config.DatetimeColumn(
            "Last file loaded (UTC)", format="YYYY-MM-DD HH:mm"
        ),
        "hours_since": st.column_config.NumberColumn(
            "Hours since", format="%.1f", help="How long ago the newest file of the source loaded"
        ),
    },
)
refused = data.refused_files(session.serving(), who)
st.subheader("Files failed or rejected")
if refused.is_empty():
    st.success("Every file landed was read and matched a source.")
else:
    st.dataframe(
        refused,
        hide_index=True,
        placeholder=columns.MISSING,
        width="stretch",
        column_config={
            "file_name": "File",
            "source": "Source",
            "status": "Status",
            "reason": st.column_config.TextColumn("Why", width="large"),
            "ingested_at": st.column_config.DatetimeColumn("Seen (UTC)", format="YYYY-MM-DD HH:mm"),
        },
    )
st.subheader("Quarantined records, by reason")
if quarantine.is_empty():
    st.success("No record has been quarantined.")
else:
    st.caption(
        "Quarantined records were refused one by one (the rest of their file loaded) and are"
        " kept with the reason, to be fixed at the source and sent again."
    )
    st.dataframe(
        quarantine,
        hide_index=True,
        placeholder=columns.MISSING,
        width="stretch",
        column_config={
            "source": "Source",
            "reason": st.column_config.TextColumn("Why", width="large"),
            "n_records": st.column_config.NumberColumn("Records", format="localized"),
            "last_seen": st.column_config.DatetimeColumn(
                "Last seen (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
    )
voidings, pulls = data.telemetry_health(session.serving(), who)
st.subheader("Learning Record Store pulls")
if pulls.is_empty():
    st.info("No LRS is configured: telemetry arrives as landing files only.")
else:
    st.dataframe(
        pulls,
        hide_index=True,
        placeholder=columns.MISSING,
        width="stretch",
        column_config={
            "endpoint": "LRS",
            "cursor_at": st.column_config.DatetimeColumn(
                "Statements stored up to (UTC)", format="YYYY-MM-DD HH:mm"
            ),
            "pulled_at": st.column_config.DatetimeColumn(
                "Last pull (UTC)", format="YYYY-MM-DD HH:mm"
            ),
            "n_statements": st.column_config.NumberColumn("Statements", format="localized"),
            "n_files": st.column_config.NumberColumn("Landing files", format="localized"),
        },
    )
st.subheader("xAPI voidings")
if voidings.is_empty():
    st.info("No statement has been voided.")
else:
    st.caption(
        "A voided statement stays in the raw layer, marked, and counts in no mart. A voiding"
        " waits until its target arrives; a voiding of a voiding changes nothing."
    )
    st.dataframe(
        voidings,
        hide_index=True,
        placeholder=columns.MISSING,
        width="stretch",
        column_config={
            "status": "Outcome",
            "reason": st.column_config.TextColumn("Why", width="large"),
            "n_voidings": st.column_config.NumberColumn("Voidings", format="localized"),
            "last_seen": st.column_config.DatetimeColumn(
                "Last seen (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
    )
