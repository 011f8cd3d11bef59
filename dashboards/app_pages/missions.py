import streamlit as st

from dashboards import charts, session

who = session.require()
st.title("Missions")
session.snapshot_caption()
session.viewed(who, "missions")
perf = session.load("difficulty_performance", who)
if perf.is_empty():
    st.info("No decided mission attempts in your organization yet.")
    st.stop()
for track in perf["track"].unique(maintain_order=True).to_list():
    rows = perf.filter(perf["track"] == track)
    st.plotly_chart(charts.difficulty_bars(rows).update_layout(title=f"{track}: pass rate by "
                    "labelled difficulty (95 % interval)"), use_container_width=True)  # fmt: skip
