// GeoJSON geometries as the map needs them.

import type { Geometry, Position } from './types.ts';

type Nested = Position | Nested[];

/** The box around a geometry, `[[west, south], [east, north]]`. */
export function bounds(geometry: Geometry): [Position, Position] {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c: Nested): void => {
    if (typeof c[0] === 'number') {
      const [x, y] = c as Position;
      w = Math.min(w, x);
      e = Math.max(e, x);
      s = Math.min(s, y);
      n = Math.max(n, y);
    } else (c as Nested[]).forEach(walk);
  };
  walk(geometry.coordinates as Nested);
  return [
    [w, s],
    [e, n],
  ];
}

/** A point to mark a geometry by: a point itself, else the middle of its box. */
export function markAt(geometry: Geometry): Position {
  if (geometry.type === 'Point') return geometry.coordinates;
  const [[w, s], [e, n]] = bounds(geometry);
  return [(w + e) / 2, (s + n) / 2];
}
