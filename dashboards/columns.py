"""What the pages' tables share: shares shown as whole percents, a dash for no value.

Streamlit's "percent" format shows two decimals unless the column's step says otherwise
("83.45%"): a pass rate or a chance of stopping is read, and compared, in whole percents. A
missing value shows as "None" unless the table says otherwise: a supervisor reads a dash.
"""

from __future__ import annotations

import streamlit as st

WHOLE_PERCENT = 0.01  # the step that makes the "percent" format show no decimals
MISSING = "—"  # every table's placeholder for a missing value (st.dataframe's placeholder)


def percent(label: str, help: str | None = None):
    """A share on [0, 1] shown as a whole percent."""
    return st.column_config.NumberColumn(label, format="percent", step=WHOLE_PERCENT, help=help)


def chance(label: str, help: str | None = None):
    """A probability shown as a bar and a whole percent."""
    return st.column_config.ProgressColumn(
        label, min_value=0.0, max_value=1.0, format="percent", step=WHOLE_PERCENT, help=help
    )
