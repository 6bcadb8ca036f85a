"""Text that came from a user (or a file) made safe to show in a terminal or publish as Markdown.

A stored answer can hold anything a terminal will obey: ``ESC ]0;title BEL`` renames the window,
``ESC [2J`` clears the screen. Every place that shows stored or read text passes it through
``strip_control`` first; the Markdown export also escapes HTML and neutralises script links,
because the exported file is meant to be pasted into GitHub or a blog.
"""

from __future__ import annotations

import re

MAX_ANSWER_BYTES = 200_000
"""The largest answer mockint accepts, typed or read (UTF-8 bytes): about 30,000 words."""

# C0 controls except tab and newline, DEL, and the C1 controls (ESC-less CSI is U+009B).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Escape sequences first, so their parameters ("[2J", "]0;title") go with the ESC rather than stay as text.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clear screen
    r"|\x1b[\]PX^_].*?(?:\x07|\x1b\\|$)"  # OSC, DCS, SOS, PM, APC up to their terminator
    r"|\x1b[ -/]*[0-~]",  # two-character escapes
    re.DOTALL,
)
_UNSAFE_SCHEME = re.compile(r"^(?:javascript|vbscript|data|file):", re.IGNORECASE)
_INLINE_LINK = re.compile(r"(\]\(\s*)([^)\s]*)")
_REFERENCE_LINK = re.compile(r"^( {0,3}\[[^\]]+\]:[ \t]*)(\S+)", re.MULTILINE)
UNSAFE_LINK = "#unsafe-link-removed"


def strip_control(text: str) -> str:
    """``text`` without terminal escape sequences and control characters; tabs, newlines kept.

    A carriage return becomes a newline (``\\r\\n`` one newline): alone it moves the cursor back
    over what was printed, which can hide text.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def _defuse_target(target: str) -> str:
    squeezed = re.sub(r"\s", "", target).removeprefix("&lt;").lstrip("<")
    return UNSAFE_LINK if _UNSAFE_SCHEME.match(squeezed) else target


def safe_markdown(text: str) -> str:
    """A Markdown document safe to publish: no control characters, no raw HTML, no script links.

    ``&`` and ``<`` become entities, so typed HTML shows as text (and an entity-encoded
    ``&#106;avascript:`` cannot sneak past); link targets with a script-capable scheme are
    replaced. Applied to a whole rendered document: mockint's own Markdown uses no HTML.
    """
    text = strip_control(text).replace("&", "&amp;").replace("<", "&lt;")
    text = _INLINE_LINK.sub(lambda m: m.group(1) + _defuse_target(m.group(2)), text)
    return _REFERENCE_LINK.sub(lambda m: m.group(1) + _defuse_target(m.group(2)), text)
