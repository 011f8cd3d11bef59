import streamlit as st

from dashboards import auth, session

st.title("cohortlens")
notice = st.session_state.pop("notice", None)
if notice:
    st.info(notice)
with st.form("sign_in"):
    username = st.text_input("Username")
    password = st.text_input("Password", type="password")
    submitted = st.form_submit_button("Sign in")
if submitted:
    result = auth.sign_in(session.accounts(), username, password)
    if result.principal is None:
        st.error(result.message)
    else:
        session.sign_in(result.principal)
        st.rerun()
