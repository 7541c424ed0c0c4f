"""Generate the synthetic part of the demo data (fixed seed) into data/sample/.

Real data (data/real/): OpenStreetMap campuses, gates, fuel stations and streets of Beijing
Haidian and Shenzhen Longgang, and the 1,386 real licensed tobacco retailers of 长沙市天心区.
Synthetic data (this script): campuses and gates in 天心区 (there is no open campus dataset
for Changsha), and internet cafés, lottery outlets, KTVs and tobacco shops around the real
Haidian campuses. Every synthetic record says so: `synthetic: true` in its attributes and
"（合成）" in its name.

Run: .venv/bin/python data/make_sample.py   (rewrites data/sample/*synthetic*)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import osmium
from pyproj import Geod, Transformer
from shapely import affinity
from shapely import wkt as shapely_wkt
from shapely.geometry import Polygon, mapping

from spatial.datums import gcj02_to_wgs84

HERE = Path(__file__).resolve().parent
REAL, SAMPLE = HERE / "real", HERE / "sample"
SEED = 20261123
LEVELS = (["primary"], ["secondary"], ["kindergarten"], ["primary", "secondary"])
LEVEL_NAMES = {"primary": "小学", "secondary": "中学", "kindergarten": "幼儿园"}


def _local(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    proj = f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m"
    return (Transformer.from_crs("EPSG:4326", proj, always_xy=True),
            Transformer.from_crs(proj, "EPSG:4326", always_xy=True))


def changsha_schools(rng: np.random.Generator) -> tuple[list[dict], list[dict]]:
    """Synthetic campuses where the real retailers cluster, with gates on their outlines."""
    data = json.loads((REAL / "changsha_tianxin_tobacco.geojson").read_text(encoding="utf-8"))
    gcj = np.array([f["geometry"]["coordinates"] for f in data["features"]])
    lon, lat = gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    picks = rng.choice(len(lon), size=36, replace=False)
    schools, gates = [], []
    for n, i in enumerate(picks):
        _, inv = _local(float(lon[i]), float(lat[i]))
        w, h = rng.uniform(90, 260), rng.uniform(80, 220)
        # the campus sits 20–140 m from the retailer it was placed by
        sx, sy = rng.choice([-1, 1], size=2)
        gap_x, gap_y = rng.uniform(20, 140), rng.uniform(20, 140)
        box = Polygon([(0, 0), (w, 0), (w, h), (0, h)])  # metres, local plane of the retailer
        box = affinity.translate(box, sx * gap_x - (w if sx < 0 else 0),
                                 sy * gap_y - (h if sy < 0 else 0))
        box = affinity.rotate(box, rng.uniform(-15, 15), origin="centroid")
        ring = [inv.transform(x, y) for x, y in box.exterior.coords]
        levels = list(LEVELS[n % len(LEVELS)])
        code = f"SYN-CS-{n + 1:03d}"
        name = f"天心区第{n + 1}{LEVEL_NAMES[levels[-1]]}（合成）"
        schools.append({"type": "Feature", "geometry": mapping(Polygon(ring)), "properties": {
            "code": code, "name": name, "levels": ";".join(levels),
            "enrolment": int(rng.integers(150, 2400)), "region": "430103",
            "opened_on": f"{int(rng.integers(1985, 2023))}-09-01", "synthetic": True}})
        mid = box.exterior.interpolate(rng.uniform(0, box.exterior.length))
        gx, gy = inv.transform(mid.x, mid.y)
        gates.append({"school_code": code, "kind": "main", "name": "正门（合成）",
                      "lon": round(gx, 7), "lat": round(gy, 7)})
    return schools, gates


class _Campuses(osmium.SimpleHandler):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.centres: list[tuple[float, float]] = []

    def area(self, a: osmium.osm.Area) -> None:
        if a.tags.get("amenity") in ("school", "kindergarten"):
            wkt = osmium.geom.WKTFactory().create_multipolygon(a)
            c = shapely_wkt.loads(wkt).centroid
            self.centres.append((c.x, c.y))


def haidian_premises(rng: np.random.Generator) -> list[dict]:
    """Synthetic regulated premises 10–400 m from the real Haidian campuses."""
    handler = _Campuses()
    handler.apply_file(str(REAL / "beijing_haidian.osm"), locations=True)
    kinds = (("internet_cafe", "网吧"), ("lottery", "彩票站"), ("entertainment", "KTV"),
             ("tobacco", "烟酒店"))
    rows = []
    for n in range(48):
        clon, clat = handler.centres[n % len(handler.centres)]
        _, inv = _local(clon, clat)
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(60, 450)
        lon, lat = inv.transform(dist * np.cos(angle), dist * np.sin(angle))
        category, label = kinds[n % len(kinds)]
        rows.append({"许可证号": f"SYN-HD-{n + 1:04d}", "名称": f"海淀{label}{n + 1}号（合成）",
                     "类别": category, "地址": "北京市海淀区（合成地址）",
                     "经度": f"{lon:.7f}", "纬度": f"{lat:.7f}", "行政区划代码": "110108",
                     "发证日期": f"{int(rng.integers(2005, 2025))}-03-01", "synthetic": "true"})
    return rows


#: Synthetic facilities at each gate: (kind, share of gates that have one, metres from the gate).
FACILITY_PLAN = (("anti_ram", "防冲撞设施", 0.8, (5, 40)),
                 ("traffic_sign", "交通标志", 0.7, (60, 190)),
                 ("guard_post", "护学岗", 0.9, (5, 20)),
                 ("camera", "监控摄像头", 0.6, (10, 30)),
                 ("warning_sign", "警示标牌", 0.75, (20, 120)))


def changsha_facilities(gates: list[dict], rng: np.random.Generator) -> list[dict]:
    """Synthetic facilities around the synthetic 天心区 gates; some gates lack some kinds."""
    geod = Geod(ellps="WGS84")
    rows = []
    for gate in gates:
        for kind, label, share, (near, far) in FACILITY_PLAN:
            if rng.uniform() >= share:
                continue
            bearing, dist = rng.uniform(0, 360), rng.uniform(near, far)
            lon, lat, back = geod.fwd(gate["lon"], gate["lat"], bearing, dist)
            camera = kind == "camera"
            rows.append({
                "设施编号": f"SYN-FAC-{len(rows) + 1:04d}", "设施类型": label,
                "名称": f"{gate['school_code']} {label}（合成）", "学校标识码": gate["school_code"],
                "经度": f"{lon:.7f}", "纬度": f"{lat:.7f}",
                # a camera faces the gate (the back azimuth), give or take 20 degrees
                "朝向": f"{(back + rng.uniform(-20, 20)) % 360:.1f}" if camera else "",
                "视场角": "90" if camera else "", "行政区划代码": "430103", "synthetic": "true"})
    return rows


def main() -> None:
    rng = np.random.default_rng(SEED)
    SAMPLE.mkdir(exist_ok=True)
    schools, gates = changsha_schools(rng)
    (SAMPLE / "changsha_schools_synthetic.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": schools}, ensure_ascii=False,
                   indent=1), encoding="utf-8")
    with (SAMPLE / "changsha_gates_synthetic.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(gates[0]))
        out.writeheader()
        out.writerows(gates)
    premises = haidian_premises(rng)
    with (SAMPLE / "haidian_premises_synthetic.csv").open("w", encoding="utf-8",
                                                          newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(premises[0]))
        out.writeheader()
        out.writerows(premises)
    facilities = changsha_facilities(gates, np.random.default_rng(SEED + 1))
    with (SAMPLE / "changsha_facilities_synthetic.csv").open("w", encoding="utf-8",
                                                             newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(facilities[0]))
        out.writeheader()
        out.writerows(facilities)
    print(f"{len(schools)} campuses, {len(gates)} gates, {len(premises)} premises, "
          f"{len(facilities)} facilities")


if __name__ == "__main__":
    main()
