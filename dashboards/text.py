"""Text that comes from other systems and from learners, shown as text: never as markup.

Learner display names, organization, cohort, track and mission names, reasons and next actions
are data. Streamlit renders the body of ``st.markdown``, ``st.write`` (of a string),
``st.title``/``st.header``/``st.subheader``, ``st.caption``, ``st.info``/``st.success``/
``st.warning``/``st.error``, metric, tab, radio, badge and button labels as Markdown (GitHub
flavoured, plus Streamlit's ``:color[...]``, ``:material/icon:`` and ``$LaTeX$``), so a learner
named ``Eve ![x](http://host/x.png) [help](http://host/phish)`` would make a supervisor's
browser fetch an image and show a link. plotly renders a subset of HTML (``<a href>``, ``<b>``,
``<span style>``) in titles, legends, axis labels and hover text.

- :func:`plain` is for a value put into any of Streamlit's Markdown elements;
- :func:`code` for one to be shown in monospace there (an e-mail, an id): the same guarantee,
  and the text exact (plain breaks autolinks up with invisible word joiners);
- :func:`chart_text` for a value put into a plotly figure's text.

Tables (``st.dataframe``) and the options of select boxes and multiselects show values as they
are: do not pass them through either (a table cell would show the backslashes).
"""

from __future__ import annotations

import re

# Every ASCII punctuation character: CommonMark lets each be escaped with a backslash, which
# then stands for the character itself (no emphasis, link, image, code, HTML, heading, list,
# table, directive, math ...).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Line breaks and other control characters would start new blocks (a heading, a list item,
# indented code): one line of text, always.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
# GitHub's autolinks are found in the text *after* escapes are resolved (a find-and-replace
# over the parsed text), so `http\:\/\/host` would still become a link. An invisible word
# joiner (U+2060) breaks what they look for: `http:`, `https:`, `www.` and the `@` of an
# address.
_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(https?|www)(?=[:.])")
# Streamlit turns `->`, `<-`, `<->`, `--`, `>=`, `<=` and `~=` in text into arrows and signs:
# a joiner between two such characters keeps them as typed.
_TYPOGRAPHY = re.compile(r"(?<=[-<>=~])(?=[-<>=~])")


def plain(value: object) -> str:
    """``value`` as Markdown that displays exactly its text (on one line); None is ''."""
    if value is None:
        return ""
    text = _CONTROL.sub(" ", str(value)).strip()
    text = _AUTOLINK.sub(rf"\1{_JOINER}", text).replace("@", f"@{_JOINER}")
    text = _TYPOGRAPHY.sub(_JOINER, text)
    return _PUNCTUATION.sub(r"\\\1", text)


def code(value: object) -> str:
    """``value`` as an inline code span (monospace) that displays exactly its text, on one
    line: inside one, Markdown, HTML and GitHub's autolinks are inert."""
    text = _CONTROL.sub(" ", "" if value is None else str(value)).strip()
    # Streamlit rewrites `:material/` in the source before parsing, code spans included.
    text = text.replace(":material/", f":material{_JOINER}/")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# plotly reads tags (`<a href=...>`, `<br>`, `<span style=...>`) and entities in text, and
# typesets text between dollar signs when MathJax is loaded: entities show each character.
_CHART_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;"}
_CHART_SPECIAL = re.compile("[&<>$]")


def chart_text(value: object) -> str:
    """``value`` as plotly text that displays exactly its text; None is ''."""
    if value is None:
        return ""
    return _CHART_SPECIAL.sub(lambda m: _CHART_ENTITIES[m.group()], str(value))
