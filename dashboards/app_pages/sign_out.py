import streamlit as st

from dashboards import session

session.sign_out()
st.session_state["notice"] = "You are signed out."
st.rerun()
