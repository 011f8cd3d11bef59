import streamlit as st

from dashboards import data, session

who = session.page("Data health", "data_health")
warning = data.snapshot_warning(session.serving())
if warning:
    st.warning(f"The published data's pointer needs attention: {warning}.")
files, quarantine = data.data_health(session.serving(), who)
st.subheader("Files, per source")
st.dataframe(
    files,
    hide_index=True,
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
    st.dataframe(quarantine, hide_index=True, width="stretch")
voidings, pulls = data.telemetry_health(session.serving(), who)
st.subheader("Learning Record Store pulls")
if pulls.is_empty():
    st.info("No LRS is configured: telemetry arrives as landing files only.")
else:
    st.dataframe(pulls, hide_index=True, width="stretch")
st.subheader("xAPI voidings")
if voidings.is_empty():
    st.info("No statement has been voided.")
else:
    st.caption(
        "A voided statement stays in the raw layer, marked, and counts in no mart. A voiding"
        " waits until its target arrives; a voiding of a voiding changes nothing."
    )
    st.dataframe(voidings, hide_index=True, width="stretch")
