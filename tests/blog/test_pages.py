"""The blog's pages on the demo data imported from Ghost's v4 export."""

from __future__ import annotations

import re

import asyncpg

from shared.infrastructure import internal_auth
from tests.conftest import asyncpg_dsn
from tests.helpers import text_of


async def test_index_lists_latest_posts_newest_first(app_client):
    client = await app_client("blog")
    response = await client.get("/")
    html = await text_of(response)
    assert response.status_code == 200
    titles = re.findall(r'<h2><a href="/([^/]+)/">', html)
    assert len(titles) == 5  # posts_per_page in the test environment
    dates = re.findall(r'<time datetime="([^"]+)"', html)
    assert dates == sorted(dates, reverse=True)


async def test_index_second_page_has_remaining_posts(app_client):
    client = await app_client("blog")
    first = await text_of(await client.get("/"))
    response = await client.get("/?page=2")
    second = await text_of(response)
    assert response.status_code == 200
    first_slugs = set(re.findall(r'<h2><a href="/([^/]+)/">', first))
    second_slugs = set(re.findall(r'<h2><a href="/([^/]+)/">', second))
    # The v4 export contains 7 posts and 4 pages, and pages never appear in the listing.
    assert len(first_slugs | second_slugs) == 7
    assert not first_slugs & second_slugs
    assert "Page 2 of 2" in second


async def test_post_page_shows_the_post(app_client):
    client = await app_client("blog")
    response = await client.get("/welcome/")
    html = await text_of(response)
    assert response.status_code == 200
    assert "<h1>Start here for a quick overview of everything you need to know</h1>" in html
    assert 'href="/tag/getting-started/"' in html


async def test_post_import_drops_scripts(app_client):
    # The Ghost export's "integrations" post embeds a <script>; the importer drops it.
    client = await app_client("blog")
    response = await client.get("/integrations/")
    html = await text_of(response)
    assert response.status_code == 200
    assert "Setting up apps and custom integrations" in html
    assert "<script" not in html


async def test_standalone_page_is_served_by_slug(app_client):
    client = await app_client("blog")
    response = await client.get("/about/")
    assert response.status_code == 200
    assert "About this site" in await text_of(response)


async def test_tag_page_lists_the_tagged_posts(app_client):
    client = await app_client("blog")
    response = await client.get("/tag/getting-started/")
    html = await text_of(response)
    assert response.status_code == 200
    assert "Posts tagged “Getting Started”" in html
    assert len(re.findall(r'<h2><a href="/', html)) >= 1


async def test_unknown_post_slug_is_the_404_page(app_client):
    client = await app_client("blog")
    response = await client.get("/no-such-post/")
    assert response.status_code == 404
    assert "Page not found" in await text_of(response)


async def test_unknown_tag_is_the_404_page(app_client):
    client = await app_client("blog")
    response = await client.get("/tag/no-such-tag/")
    assert response.status_code == 404
    assert "Page not found" in await text_of(response)


async def test_index_non_numeric_page_400(app_client):
    client = await app_client("blog")
    response = await client.get("/?page=two")
    assert response.status_code == 400
    assert "is not a page number" in await text_of(response)


async def test_zero_and_huge_page_numbers_are_400(app_client):
    client = await app_client("blog")
    assert (await client.get("/?page=0")).status_code == 400
    assert (await client.get("/?page=99999999999999999999")).status_code == 400


async def test_index_page_past_last_redirects(app_client):
    client = await app_client("blog")
    response = await client.get("/?page=40")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/?page=2")


async def test_tag_page_past_last_redirects(app_client):
    client = await app_client("blog")
    response = await client.get("/tag/getting-started/?page=9")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/tag/getting-started/?page=2")


async def _nav_fragment(client, settings) -> str:
    target = "/internal/fragments/nav"
    headers = {internal_auth.HEADER: internal_auth.sign(settings.internal_secret, "GET", target, None)}
    response = await client.get(target, headers=headers)
    assert response.status_code == 200
    return await text_of(response)


async def test_nav_fragment_names_blog_home(app_client, settings):
    client = await app_client("blog")
    html = await _nav_fragment(client, settings)
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)
    assert links == [("http://blog.test/", "Blog home"), ("http://blog.test/about/", "About")]
    assert '<ul class="site-nav" aria-label="Blog menu">' in html


async def test_nav_fragment_keeps_other_labels(app_client, settings):
    connection = await asyncpg.connect(asyncpg_dsn(settings.database_url))
    try:
        await connection.execute("UPDATE navigation_items SET label = 'Start' WHERE url = '/'")
        await connection.execute(
            "INSERT INTO navigation_items (label, url, sort_order) VALUES ('Home', 'https://example.org/', 9)"
        )
    finally:
        await connection.close()
    client = await app_client("blog")
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', await _nav_fragment(client, settings))
    assert ("http://blog.test/", "Start") in links
    # Only a link to the blog's own front page is renamed.
    assert ("https://example.org/", "Home") in links
