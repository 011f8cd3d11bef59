import streamlit as st

from dashboards import session

session.sign_out(notice=session.SIGNED_OUT)
st.rerun()
