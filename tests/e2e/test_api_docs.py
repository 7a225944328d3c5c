"""The API documentation renders in a browser with no network: Swagger UI is vendored."""
from playwright.sync_api import expect


def test_api_docs_render_offline(page, live):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(live.url + "/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("shebao")
    expect(page.get_by_text("/api/v1/auth/token").first).to_be_visible()
    # the vendored Swagger UI renders its operations as a virtual list: a tag further down
    # exists in the page only once scrolled near (with the administration API, the registry's
    # operations start below the first screen): scroll down to them, waiting for each render
    persons = page.get_by_text("/api/v1/persons").first
    for _ in range(80):
        if persons.count() and persons.is_visible():
            break
        page.mouse.move(400, 400)
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(250)
    expect(persons).to_be_visible()
    outside = [u for u in requests if not u.startswith(live.url) and not u.startswith("data:")]
    assert outside == [], f"docs fetched from outside the server: {outside}"
