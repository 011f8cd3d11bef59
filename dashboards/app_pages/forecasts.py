import streamlit as st

from dashboards import charts, session

who = session.require()
st.title("Forecasts")
session.snapshot_caption()
session.viewed(who, "forecasts")
fan = session.load("cohort_fan", who)
learners = session.load("learners", who)
if fan.is_empty():
    st.info("No forecast published yet: it runs nightly (or `cohortlens forecast`).")
    st.stop()
cohort = st.selectbox("Cohort", fan["cohort_id"].unique(maintain_order=True).to_list())
series = st.radio("Domain", ["mean", "knowledge", "skills", "application", "ethics"],
                  horizontal=True)  # fmt: skip
st.plotly_chart(charts.fan_chart(fan.filter(fan["cohort_id"] == cohort), series),
                use_container_width=True)  # fmt: skip
st.plotly_chart(charts.probability_histogram(learners), use_container_width=True)
