"""cohortlens dashboards: `streamlit run dashboards/streamlit_app.py`.

The navigation follows the signed-in role: supervisors (and admins) get the organization
pages, learners their own page; before signing in there is only the sign-in form.
"""

import contextlib
from pathlib import Path

import streamlit as st

from dashboards import data, filters, session
from pipelines.warehouse import keep_private

keep_private()  # accounts and the audit trail are written by this process
st.set_page_config(page_title="cohortlens", page_icon=":material/school:", layout="wide")

PAGES = Path(__file__).parent / "app_pages"
who = session.principal()
if who is None:
    pages = [st.Page(PAGES / "sign_in.py", title="Sign in", icon=":material/login:")]
elif who.role == "student":
    pages = [
        st.Page(PAGES / "my_progress.py", title="My progress", icon=":material/person:"),
        st.Page(PAGES / "definitions.py", title="Definitions", icon=":material/menu_book:"),
        st.Page(PAGES / "sign_out.py", title="Sign out", icon=":material/logout:"),
    ]
else:
    pages = [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:"),
        st.Page(PAGES / "learners.py", title="Learners", icon=":material/group:"),
        st.Page(PAGES / "missions.py", title="Missions", icon=":material/flag:"),
        st.Page(PAGES / "forecasts.py", title="Forecasts", icon=":material/trending_up:"),
        st.Page(PAGES / "data_health.py", title="Data health", icon=":material/monitor_heart:"),
        st.Page(PAGES / "definitions.py", title="Definitions", icon=":material/menu_book:"),
        st.Page(PAGES / "sign_out.py", title="Sign out", icon=":material/logout:"),
    ]
if who is not None:
    st.sidebar.caption(f"Signed in as **{who.username}** ({who.role})")
navigation = st.navigation(pages)
if who is not None and who.role != "student":
    # Drawn here, on every page, so the filters keep their values from page to page.
    with contextlib.suppress(data.NoSnapshot):  # the page says nothing is published yet
        filters.sidebar(who)
navigation.run()
