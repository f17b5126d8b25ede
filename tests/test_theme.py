"""The theme: light, dark or the OS setting, remembered per user and applied by the server."""

from __future__ import annotations

import re

from django.urls import reverse

from accounts.models import Theme, User


def html_tag(client, url: str = "/accounts/settings/keys") -> str:
    return re.search(r"<html[^>]*>", client.get(url).content.decode()).group(0)


def test_a_new_user_follows_the_os_setting(logged_in, user):
    assert user.theme == Theme.SYSTEM
    assert "data-theme" not in html_tag(logged_in)
    assert '<meta name="color-scheme" content="light dark">' in logged_in.get(reverse("accounts:keys")).content.decode()


def test_a_chosen_theme_is_on_every_page_before_the_first_paint(logged_in, user):
    response = logged_in.post(reverse("accounts:appearance"), {"theme": "dark"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.theme == "dark"
    for url in (reverse("accounts:keys"), reverse("generations:studio"), reverse("teams:list")):
        assert 'data-theme="dark"' in html_tag(logged_in, url), url
    page = logged_in.get(reverse("accounts:keys")).content.decode()
    assert '<meta name="color-scheme" content="dark">' in page


def test_the_settings_page_shows_the_choice_and_saves_it(logged_in, user):
    page = logged_in.get(reverse("accounts:appearance")).content.decode()
    assert re.search(r'<input type="radio" name="theme" value="system" checked>', page)
    assert 'href="/accounts/settings/appearance" aria-current="page"' in page
    response = logged_in.post(reverse("accounts:appearance"), {"theme": "light"}, follow=True)
    assert "Theme saved: light." in response.content.decode()
    assert 'data-theme="light"' in html_tag(logged_in)
    assert re.search(r'value="light" checked', logged_in.get(reverse("accounts:appearance")).content.decode())


def test_the_top_bar_switch_goes_back_to_the_page_it_was_on(logged_in, user):
    page = logged_in.get(reverse("accounts:credits")).content.decode()
    assert "data-theme-toggle" in page
    assert 'name="next" value="/accounts/settings/credits"' in page
    assert 'name="theme" value="dark"' in page  # without JavaScript: the opposite of the saved theme
    response = logged_in.post(reverse("accounts:appearance"), {"theme": "dark", "next": "/accounts/settings/credits"})
    assert response["Location"] == "/accounts/settings/credits"
    assert 'name="theme" value="light"' in logged_in.get(reverse("accounts:credits")).content.decode()


def test_the_switch_never_goes_to_another_site(logged_in, user):
    response = logged_in.post(reverse("accounts:appearance"), {"theme": "dark", "next": "https://evil.example/"})
    assert response["Location"] == reverse("accounts:appearance")


def test_a_script_gets_json(logged_in, user):
    response = logged_in.post(reverse("accounts:appearance"), {"theme": "dark"}, headers={"Accept": "application/json"})
    assert response.json() == {"theme": "dark"}
    bad = logged_in.post(reverse("accounts:appearance"), {"theme": "purple"}, headers={"Accept": "application/json"})
    assert bad.status_code == 422


def test_an_unknown_theme_changes_nothing(logged_in, user):
    response = logged_in.post(reverse("accounts:appearance"), {"theme": "purple"})
    assert response.status_code == 422
    assert User.objects.get(pk=user.pk).theme == Theme.SYSTEM


def test_signed_out_visitors_get_the_os_setting_and_no_switch(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert "data-theme=" not in re.search(r"<html[^>]*>", page).group(0)
    assert "data-theme-toggle" not in page


def test_the_appearance_page_needs_an_account(client):
    response = client.get(reverse("accounts:appearance"))
    assert response.status_code == 302
    assert client.post(reverse("accounts:appearance"), {"theme": "dark"}).status_code == 302


def test_the_css_has_one_set_of_colours_for_both_themes():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[1] / "static" / "css" / "studio.css").read_text()
    assert "--bg: light-dark(" in css
    assert ':root[data-theme="dark"] { color-scheme: dark; }' in css
    assert ':root[data-theme="light"] { color-scheme: light; }' in css
    assert "prefers-color-scheme: dark" not in css  # the tokens follow color-scheme, set by the theme
