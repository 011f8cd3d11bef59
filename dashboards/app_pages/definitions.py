import streamlit as st

from dashboards import definitions, session

session.page("Definitions", "definitions")
st.caption(
    "The same definitions describe the data models (dbt docs) and the help icons on every"
    " page. Competency mastery and tier 5 completion are two different things."
)
for title, body in definitions.all_definitions():
    st.markdown(f"**{title}**")
    st.write(body)
