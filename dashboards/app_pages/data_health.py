import streamlit as st

from dashboards import data, session

who = session.page("Data health", "data_health")
warning = data.snapshot_warning(session.serving())
if warning:
    st.warning(f"The published data's pointer needs attention: {warning}.")
files, quarantine = data.data_health(session.serving(), who)
st.subheader("Files loaded, per source")
st.dataframe(files, hide_index=True, width="stretch")
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
