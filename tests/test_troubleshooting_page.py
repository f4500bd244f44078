"""The Troubleshooting page lists every message the CLIs print for a user error, and no other.

The messages are read from the source (``tests/support/user_errors.py``); the page holds each one
in a ``text`` block, as printed (``Error: `` first, or bare for a problem of ``azureml.yml``), with
``<placeholders>`` for what the command fills in. Line breaks and runs of spaces do not count.
"""

from __future__ import annotations

import re
from pathlib import Path

import user_errors
from user_errors import COMPOSED, normalize, user_error_messages

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "troubleshooting.md"
BLOCK = re.compile(r"^```text\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


def page_messages() -> set[str]:
    """The messages the page lists: the text blocks, without their ``Error: ``."""
    text = PAGE.read_text(encoding="utf-8")
    return {normalize(m["body"]).removeprefix("Error: ") for m in BLOCK.finditer(text)}


def source_messages() -> dict[str, str]:
    """Each message template of the source, with one place that builds it."""
    messages, _ = user_error_messages()
    return {normalize(m.template): m.where for m in sorted(messages, key=lambda m: m.where)}


def test_the_source_messages_are_read():
    """The reading finds the messages it must (a reading that finds nothing passes the rest)."""
    found = source_messages()
    assert len(found) > 100
    assert "--resume takes one job at a time: pass one -j/--job." in found
    assert any(t.startswith("unknown job `<name>`") for t in found)  # f-string placeholders
    assert any(t.startswith("cannot write <what> <path>") for t in found)  # an error's __init__
    assert any(t.startswith("kedro-azureml-runtime <runtime> does not match") for t in found)


def test_every_user_error_message_is_on_the_page():
    missing = {t: where for t, where in source_messages().items() if t not in page_messages()}
    assert not missing, (
        f"{len(missing)} message(s) a user can meet are not in docs/troubleshooting.md. Add each "
        "to the section of its situation (setup, command line, configuration, project, compile, "
        "replay, inside a step, submit and schedule, credentials, init) as a text block, then say "
        "why it happens and the fix:\n\n"
        + "\n\n".join(
            f"<!-- {where} -->\n```text\nError: {template}\n```"
            for template, where in missing.items()
        )
    )


def test_the_page_lists_no_message_the_code_no_longer_prints():
    stale = page_messages() - set(source_messages())
    assert not stale, (
        "docs/troubleshooting.md lists message(s) no command prints any more: remove them, or "
        "update them to the new text:\n" + "\n".join(sorted(stale))
    )


def test_every_user_error_message_can_be_read():
    _, unreadable = user_error_messages()
    assert not unreadable, (
        "the message of these user errors cannot be read from the source: build it as a string "
        "or f-string (directly, in a local variable, or returned by a function), or, if it is "
        "composed of messages collected elsewhere, add the place to COMPOSED in "
        f"tests/support/user_errors.py with the reason: {unreadable}"
    )


def test_every_composed_place_still_builds_a_user_error():
    gone = set(COMPOSED) - user_errors.composed_places_in_use()
    assert not gone, f"remove from COMPOSED in tests/support/user_errors.py: {sorted(gone)}"


def test_the_newcomer_pages_and_the_nav_link_the_page():
    for page in ("getting-started.md", "tutorials/first-project.md"):
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        assert "troubleshooting.md" in text, f"docs/{page} does not link Troubleshooting"
    assert "troubleshooting.md" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
