"""The runbooks, served by the daemon itself at /docs/runbooks, so alert and board links work.

Every alert rule's `runbook_url` ends in `docs/runbooks.md#<alertname in lower case>` and
every board links to `${runbooks}#<alertname in lower case>`; a control room usually has no
docs site, so the daemon renders the copy of docs/runbooks.md it ships with (the package
holds it as `sitroom/runbooks.md`) into one HTML page whose heading ids are the anchors
GitHub would make, the same ones the rules and tests use. `/docs/runbooks.md` redirects to
the page, so a rule's relative URL resolved against the daemon's address also lands there
(browsers keep the #fragment across a redirect).
"""

from __future__ import annotations

import html
import re
from importlib import resources
from typing import Any

from aiohttp import web
from markdown_it import MarkdownIt

PATH = "/docs/runbooks"
SOURCE = ("sitroom", "runbooks.md")
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


def github_slug(text: str) -> str:
    """The anchor GitHub makes for a heading: lower case, punctuation dropped, spaces to -."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _heading_ids(md: MarkdownIt) -> None:
    """Give every heading GitHub's id (with -1, -2 ... for repeats), so links agree."""

    def rule(state: Any) -> None:
        seen: dict[str, int] = {}
        tokens = state.tokens
        for i, token in enumerate(tokens):
            if token.type != "heading_open":
                continue
            slug = github_slug(tokens[i + 1].content)
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            token.attrSet("id", slug if count == 0 else f"{slug}-{count}")

    md.core.ruler.push("github_heading_ids", rule)


def render_runbooks(markdown: str) -> str:
    """docs/runbooks.md as a standalone HTML page (the file is ours: raw HTML kept)."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    _heading_ids(md)
    title = next((line.lstrip("# ").strip() for line in markdown.splitlines()
                  if line.startswith("# ")), "Runbooks")
    return PAGE.format(title=html.escape(f"sitroom: {title}"), body=md.render(markdown))


def read_runbooks() -> str:
    """The runbooks shipped in the package (a link to docs/runbooks.md in a checkout)."""
    return resources.files(SOURCE[0]).joinpath(SOURCE[1]).read_text(encoding="utf-8")


class RunbooksPage:
    """Renders once, on the first request: the shipped file does not change under us."""

    def __init__(self) -> None:
        self._html: str | None = None

    async def page(self, request: web.Request) -> web.Response:
        if self._html is None:
            self._html = render_runbooks(read_runbooks())
        return web.Response(text=self._html, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "public, max-age=300"})

    async def markdown_path(self, request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(PATH)


def runbooks_url(public_url: str | None, bound: list[tuple[str, int]]) -> str:
    """The page's address as people reach it: daemon.public_url, else where we listen.

    The daemon cannot know the name a reverse proxy gives it; without public_url the link
    is the address it is bound to, with `localhost` for all interfaces (`:9750`), which is
    right for `make run` and deploy/docker-compose.yml.
    """
    if public_url:
        return public_url.rstrip("/") + PATH
    host, port = bound[0] if bound else ("", 9750)
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{PATH}"


def add_routes(app: web.Application) -> None:
    """Register /docs/runbooks (and the .md path the alert rules name) on the daemon's app."""
    page = RunbooksPage()
    app.router.add_get(PATH, page.page)
    app.router.add_get(f"{PATH}.md", page.markdown_path)
