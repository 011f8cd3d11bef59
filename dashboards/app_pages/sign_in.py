import streamlit as st

from dashboards import auth, session

st.title("cohortlens")
notice = session.take_notice()
if notice:
    st.info(notice)
providers = session.sso_providers()
if providers is not None:
    if st.user.get("is_logged_in"):  # signed on, but the identity has no account
        if st.button("Sign out of single sign-on"):
            st.logout()
    else:
        for provider in providers:
            label = "Sign in with single sign-on" + (f" ({provider})" if provider else "")
            if st.button(label, key=f"sso-{provider}"):
                st.login(provider)
    st.caption("or with a cohortlens account:")
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
