def test_login_page_renders_in_chromium(live_server, phone):
    phone.goto(live_server.url + "/login")
    assert phone.get_by_label("Username").is_visible()
    assert phone.get_by_role("button", name="Log in").is_visible()
