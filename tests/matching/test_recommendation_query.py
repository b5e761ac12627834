"""The recommendations' list tools through the API: order and filters, validated at the edge."""

from __future__ import annotations


def _ids(api, world, query):
    response = api.get(f"/api/v1/candidates/{world.cand_a.id}/recommendations?{query}", headers=world.h("cw_a"))
    assert response.status_code == 200, response.json
    return [item["slot"]["id"] for item in response.json["items"]]


def test_filters_and_orders(api, world):
    assert set(_ids(api, world, "")) == {world.slot_a.id, world.slot_b.id}
    assert _ids(api, world, "course=cooking") == [world.slot_a.id]
    assert _ids(api, world, "course=auto_repair") == [world.slot_b.id]
    assert _ids(api, world, "kind=training") == []
    assert set(_ids(api, world, "district=330782")) == {world.slot_a.id, world.slot_b.id}
    assert _ids(api, world, "district=330783") == []
    assert _ids(api, world, "starts_from=2099-01-01") == []
    for order in ("fit", "score", "distance", "starts_on", "pay", "wish"):
        assert set(_ids(api, world, f"order={order}")) == {world.slot_a.id, world.slot_b.id}


def test_every_wrong_field_at_once(api, world):
    response = api.get(f"/api/v1/candidates/{world.cand_a.id}/recommendations?order=best&kind=both&district=x"
                       "&starts_from=2027-02-01&starts_to=2027-01-01", headers={**world.h("cw_a"),
                                                                                 "Accept-Language": "zh-CN"})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert {"order", "kind", "district"} <= set(errors.get("query", errors))


def test_a_slot_starts_in_a_period_when_one_of_its_intakes_does(api, world):
    import datetime as dt

    from matcher.clock import today

    later = today() + dt.timedelta(days=200)
    patched = api.patch(f"/api/v1/slots/{world.slot_a.id}", json={"intakes": [later.isoformat()]},
                        headers=world.h("emp_a"))
    assert patched.status_code == 200, patched.json
    window = f"starts_from={(later - dt.timedelta(days=5)).isoformat()}&starts_to={later.isoformat()}"
    assert _ids(api, world, window) == [world.slot_a.id]
    assert _ids(api, world, f"starts_to={(today() + dt.timedelta(days=1)).isoformat()}&order=distance") != []
