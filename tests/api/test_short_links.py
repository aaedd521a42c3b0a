"""The link shortener's request-level answers: unknown short links are 404, and a profile may only name a
shortener domain this server serves (40327). Moved in-process from tests/e2e/test_compliance_e2e.py; the
rewriting and click webhooks stay there (they need delivery)."""

from __future__ import annotations

from api_support import Api, error_of


async def test_unknown_short_link_is_404(api: Api) -> None:
    async with api.client() as anonymous:
        for path in ("/go/NoSuchToken1", "/NoSuchToken2"):
            response = await anonymous.get(path, follow_redirects=False)
            assert response.status_code == 404, (path, response.status_code, response.text)


async def test_shortener_domain_must_be_listed(api: Api) -> None:
    settings = {"domain": "links.not-ours.example", "prefix": "go"}
    body = {"name": "bad-domain", "whitelisted_destinations": ["*"], "url_shortener_settings": settings}
    error_of(await api.http.post("/v2/messaging_profiles", json=body), 422, "40327")

    profile = (await api.ok("POST", "/v2/messaging_profiles", json={"name": "ok", "whitelisted_destinations": ["*"]}))[
        "data"
    ]
    patched = await api.http.patch(f"/v2/messaging_profiles/{profile['id']}", json={"url_shortener_settings": settings})
    error_of(patched, 422, "40327")
    again = await api.ok("GET", f"/v2/messaging_profiles/{profile['id']}")
    assert again["data"]["url_shortener_settings"] is None
