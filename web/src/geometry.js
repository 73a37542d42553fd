// GeoJSON geometries as the map needs them.

/** The box around a geometry, `[[west, south], [east, north]]`. */
export function bounds(geometry) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]);
      e = Math.max(e, c[0]);
      s = Math.min(s, c[1]);
      n = Math.max(n, c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return [[w, s], [e, n]];
}

/** A point to mark a geometry by: a point itself, else the middle of its box. */
export function markAt(geometry) {
  if (geometry.type === 'Point') return geometry.coordinates;
  const [[w, s], [e, n]] = bounds(geometry);
  return [(w + e) / 2, (s + n) / 2];
}
