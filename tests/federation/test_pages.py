"""Federation's member directory, profiles and the sign-in form."""

from __future__ import annotations

from tests.helpers import csrf_from, set_cookie, text_of


async def test_index_lists_the_local_members(app_client):
    client = await app_client("federation")
    response = await client.get("/")
    html = await text_of(response)
    assert response.status_code == 200
    for username in ("alice", "bob", "admin"):
        assert f'href="/@{username}"' in html


async def test_profile_page_shows_the_member(app_client):
    client = await app_client("federation")
    response = await client.get("/@alice")
    html = await text_of(response)
    assert response.status_code == 200
    assert "<h1>Alice Ash</h1>" in html
    assert "Grows roses" in html


async def test_unknown_member_is_the_404_page(app_client):
    client = await app_client("federation")
    response = await client.get("/@nobody-here")
    assert response.status_code == 404


async def test_demo_member_signs_in_with_the_demo_password(app_client):
    client = await app_client("federation")
    token = csrf_from(await text_of(await client.get("/login")))
    response = await client.post(
        "/login", form={"csrf_token": token, "login": "alice@example.org", "password": "rose-ash-dev", "next": "/@alice"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/@alice"
    cookie = set_cookie(response, "federation_session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


async def test_wrong_password_shows_the_form_again_with_a_message(app_client):
    client = await app_client("federation")
    token = csrf_from(await text_of(await client.get("/login")))
    response = await client.post("/login", form={"csrf_token": token, "login": "alice", "password": "wrong"})
    html = await text_of(response)
    assert response.status_code == 400
    assert "do not match a member" in html
    assert 'value="alice"' in html


async def test_empty_sign_in_form_names_both_missing_fields(app_client):
    client = await app_client("federation")
    token = csrf_from(await text_of(await client.get("/login")))
    response = await client.post("/login", form={"csrf_token": token, "login": " ", "password": ""})
    html = await text_of(response)
    assert response.status_code == 400
    assert "Enter your email address or username." in html
    assert "Enter your password." in html


async def test_next_pointing_to_another_site_is_ignored(app_client):
    client = await app_client("federation")
    token = csrf_from(await text_of(await client.get("/login")))
    for target in ("https://evil.example/", "//evil.example/x"):
        response = await client.post(
            "/login", form={"csrf_token": token, "login": "bob", "password": "rose-ash-dev", "next": target}
        )
        assert response.headers["Location"] == "/"
        token = csrf_from(await text_of(await client.get("/login")))


async def test_next_pointing_to_one_of_our_apps_is_followed(app_client):
    client = await app_client("federation")
    token = csrf_from(await text_of(await client.get("/login")))
    response = await client.post(
        "/login",
        form={"csrf_token": token, "login": "bob", "password": "rose-ash-dev", "next": "http://account.test/"},
    )
    assert response.headers["Location"] == "http://account.test/"
