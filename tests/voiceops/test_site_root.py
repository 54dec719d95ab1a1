"""The site has no public pages: its root, the admin's "View site", leads to the console."""


def test_the_site_root_redirects_to_the_admin(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
