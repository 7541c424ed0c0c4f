-- ZoneGuard measurement functions. Distances are geodesic on the WGS 84 ellipsoid
-- (geography, use_spheroid); a local UTM projection is used only to *locate* the nearest
-- point of a campus, never to measure.

-- zg_utm_srid and zg_nearest_point are not declared STRICT (they return NULL for NULL input
-- all the same): PostgreSQL inlines a SQL function only when it is not STRICT or its body is
-- strict, and CASE is not; inlined, a scan measures about five times faster.

-- SRID of the WGS 84 / UTM zone containing a lon/lat point.
CREATE OR REPLACE FUNCTION zg_utm_srid(pt geometry) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE WHEN ST_Y(pt) >= 0 THEN 32600 WHEN ST_Y(pt) < 0 THEN 32700 END)
         + LEAST(60, GREATEST(1, floor((ST_X(pt) + 180.0) / 6.0)::int + 1))
$$;

-- The point of `target` (EPSG:4326) nearest to `pt` (EPSG:4326): `pt` itself when it lies
-- inside or on `target`, the point when `target` is a point.
CREATE OR REPLACE FUNCTION zg_nearest_point(target geometry, pt geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN target IS NULL OR pt IS NULL THEN NULL
    WHEN GeometryType(target) = 'POINT' THEN target
    WHEN ST_Intersects(target, pt) THEN pt
    ELSE ST_Transform(
           ST_ClosestPoint(ST_Transform(target, zg_utm_srid(pt)), ST_Transform(pt, zg_utm_srid(pt))),
           4326)
  END
$$;

-- Geodesic distance in metres from `pt` to `target` on the WGS 84 ellipsoid, realised by
-- zg_nearest_point; 0 inside.
CREATE OR REPLACE FUNCTION zg_distance_m(target geometry, pt geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT ST_Distance(geography(zg_nearest_point(target, pt)), geography(pt), true)
$$;
