from shapely.geometry import box
from tests.factories import add_school

def test_smoke(client, admin, session):
    add_school(session, "S1", box(114.0, 30.5, 114.001, 30.501), levels=("primary",), region="420102")
    r = client.get("/healthz"); print(r.status_code, r.json())
    r = client.get("/readyz"); print(r.status_code, r.json())
    r = client.post("/api/v1/screenings", json={"category": "internet_cafe", "location": {"lon": 114.0015, "lat": 30.5005}}, headers=admin)
    print(r.status_code, r.json())
    rid = r.json()["id"]
    print(client.get(f"/api/v1/screenings/{rid}", headers=admin).status_code)
    r = client.get("/api/v1/schools", headers=admin); print(r.status_code, r.json())
    r = client.get("/api/v1/schools", headers={**admin, "Accept": "application/geo+json"}); print(r.status_code, r.headers["content-type"], r.json())
    r = client.get("/api/v1/schools"); print(r.status_code, r.headers, r.json())
    r = client.get("/nope"); print(r.status_code, r.headers["content-type"], r.json())
    r = client.delete("/healthz"); print(r.status_code, r.json())
    r = client.get("/api/v1/rules?region=42", headers=admin); print(r.status_code, r.json()["rule_set_version"], len(r.json()["rules"]))
    r = client.get("/ogc", headers=admin); print(r.status_code, r.json())
    r = client.get("/ogc/collections", headers=admin); print(r.status_code, r.json())
    r = client.get("/ogc/collections/zones/items", headers=admin); print(r.status_code, str(r.json())[:600])
    r = client.get("/metrics"); print(r.status_code, r.text[:1500])
