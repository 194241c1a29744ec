"""Refusing hostile XML before any parser sees it (feeds, CAP alerts, BMKG documents).

Shared by every plugin that reads XML from outside: feedparser hands XML to a SAX parser;
entity declarations in a DOCTYPE let a 1 KB document expand to gigabytes ("billion laughs")
or pull local files (external entities). Feeds have no business declaring entities, so a
document that does is rejected outright: first a cheap scan of the prolog, then defusedxml,
which refuses entity declarations and external references wherever a parser would honour
them. Size is bounded earlier, while downloading.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

_PROLOG_LIMIT = 64 * 1024
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


class HostileFeed(Exception):
    """The document declares entities or external references."""


def _prolog(body: bytes) -> bytes:
    """The part before the root element, decoded from UTF-16 if need be (a classic dodge)."""
    head = body[:_PROLOG_LIMIT]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 1 and head[1:2] == b"\0"):
        try:
            text = head.decode("utf-16", errors="ignore")
        except UnicodeDecodeError:
            return head
        return text.encode("utf-8", errors="ignore")
    return head


def check_feed(body: bytes) -> None:
    """Raise HostileFeed if `body` declares entities/DTDs that a parser would expand."""
    prolog = _prolog(body)
    doctype = _DOCTYPE.search(prolog)
    if doctype and _ENTITY.search(prolog, doctype.start()):
        raise HostileFeed("DOCTYPE declares entities")
    from defusedxml import DefusedXmlException  # the plugins' extras bring it, not the core
    from defusedxml.ElementTree import fromstring

    try:
        fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise HostileFeed(type(exc).__name__) from None
    except (ParseError, ValueError):
        # Not well-formed XML: feedparser's lenient parser copes with many real feeds that
        # are slightly broken; entity tricks were ruled out by the prolog scan above.
        pass


class MalformedXml(Exception):
    """The document is not well-formed XML."""


def parse_xml_safely(body: bytes) -> Element:
    """Parse `body` into an element tree, or raise HostileFeed / MalformedXml.

    For readers that need the tree itself (CAP): the same prolog scan as `check_feed`, then
    defusedxml, which refuses entity declarations and external references while parsing.
    """
    prolog = _prolog(body)
    doctype = _DOCTYPE.search(prolog)
    if doctype and _ENTITY.search(prolog, doctype.start()):
        raise HostileFeed("DOCTYPE declares entities")
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise HostileFeed(type(exc).__name__) from None
    except (ParseError, ValueError) as exc:
        raise MalformedXml(str(exc)[:120]) from None
