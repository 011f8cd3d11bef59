"""dashboards.text: data shown as text, never as Markdown or HTML (issue 23, item 12)."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from dashboards.text import chart_text, code, plain

HOSTILE = [
    "Eve ![x](http://host/x.png) [help](http://host/phish)",
    "<img src=http://host/y.png> <a href='http://host/phish'>a</a> &amp; &#36;",
    "$x^2$ $$y$$ :red[alert] :blue-background[b] :material/warning: :smile:",
    "*em* **strong** _u_ `code` ~~s~~ [^1] | a | b |",
    "# heading",
    "1. item",
    "- item",
    "> quote",
    "    indented",
    "line\nbreak\r\n=== \t tab",
    "www.phish.example http://phish.example eve@phish.example <http://phish>",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    "back\\slash \\*",
    "Zoë Ørsted-Ñúñez (L0000001)",
]


def _rendered_text(markdown: str) -> tuple[str, str]:
    """The HTML CommonMark makes of ``markdown``, and its text."""
    out = MarkdownIt("commonmark").enable("table").enable("strikethrough").render(markdown)
    return out, html.unescape(re.sub(r"<[^>]*>", "", out)).strip()


@pytest.mark.parametrize("value", HOSTILE)
def test_plain_renders_as_the_text_itself(value):
    out, text = _rendered_text(plain(value))
    assert re.findall(r"<(\w+)", out) == ["p"], out  # one paragraph, nothing else
    one_line = " ".join(value.split())
    assert " ".join(text.replace("\u2060", "").split()) == one_line


def test_plain_breaks_what_streamlit_adds_to_markdown():
    shown = plain(HOSTILE[2] + " " + HOSTILE[10] + " " + HOSTILE[11])
    # every $, colon and bracket escaped: no math, colour, icon or directive
    assert not re.search(r"(?<!\\)[$:\[\]]", shown)
    # GitHub's autolinks (found after escapes are resolved) and the arrows are broken up
    assert "http:" not in shown.replace("\\", "") and "www." not in shown.replace("\\", "")
    assert "@\u2060" in shown and "-\u2060\\>" in shown
    assert plain(None) == ""


def test_chart_text_shows_tags_as_text():
    assert chart_text("<a href='x'>$1 & 2</a>") == "&lt;a href='x'&gt;&#36;1 &amp; 2&lt;/a&gt;"
    assert chart_text(None) == ""
    assert chart_text("Offensive beginner") == "Offensive beginner"


@pytest.mark.parametrize("value", [*HOSTILE, "a`b``c", "`edge`", "x:material/warning:"])
def test_code_shows_the_text_exactly_in_monospace(value):
    out, text = _rendered_text(code(value))
    assert re.findall(r"<(\w+)", out) == ["p", "code"], out
    assert " ".join(text.replace("\u2060", "").split()) == " ".join(value.split())
    assert "\u2060" not in text or ":material" in value
