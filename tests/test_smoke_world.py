def test_world_builds(world, client):
    r = client.get("/api/v1/me", headers=world.h("cw_a"))
    assert r.status_code == 200, r.json
    assert r.json["role"] == "caseworker"
