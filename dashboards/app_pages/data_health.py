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
