"""The hostile-XML guard in every encoding a parser might honour (issue 16: a billion-laughs
feed in UTF-32 passed the guard; expat only declined it by luck)."""

from __future__ import annotations

import codecs

import pytest

from sitroom.api import HostileFeed, check_feed
from tests.social.test_rss import BILLION_LAUGHS, EXTERNAL_ENTITY

TEXT = BILLION_LAUGHS.decode()
DECLARED = TEXT.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="{}"?>')

ENCODED = {
    "utf-32": TEXT.encode("utf-32"),  # with BOM
    "utf-32-le": TEXT.encode("utf-32-le"),  # BOM-less
    "utf-32-be": TEXT.encode("utf-32-be"),
    "utf-32-le-bom": codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
    "utf-16-le": TEXT.encode("utf-16-le"),
    "utf-16-be": TEXT.encode("utf-16-be"),
    "utf-16-be-bom": codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    "utf-8-bom": codecs.BOM_UTF8 + BILLION_LAUGHS,
    "utf-7": DECLARED.format("UTF-7").encode("utf-7"),
    "ebcdic-cp037": DECLARED.format("cp037").encode("cp037"),
    "utf-32-external": EXTERNAL_ENTITY.decode().encode("utf-32"),
    "odd-prefix-utf-16": b"\n" + TEXT.encode("utf-16-le"),
    # the internal subset padded past any prolog window, then a broken document
    "padded-doctype": BILLION_LAUGHS.replace(b"<!DOCTYPE rss [",
                                             b"<!DOCTYPE rss [<!--" + b"x" * 70_000 + b"-->")
    + b"<unclosed",
}


@pytest.mark.parametrize("body", ENCODED.values(), ids=ENCODED.keys())
def test_entity_declarations_are_refused_in_any_encoding(body: bytes) -> None:
    with pytest.raises(HostileFeed):
        check_feed(body)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32", "utf-16-le", "iso-8859-1"])
def test_ordinary_feeds_pass_in_any_encoding(encoding: str) -> None:
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Berita Semarang</title>'
            '<item><title>banjir &amp; rob di Kaligawe</title><guid>1</guid></item>'
            '</channel></rss>')
    check_feed(feed.encode(encoding))
