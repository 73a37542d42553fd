// The map's style: a light base of Greater Manchester's boroughs and wards (from
// data/gm, served by the binary) under the assets' vector tiles. No glyphs or sprites:
// nothing is fetched from anywhere but this server.
import type {
  DataDrivenPropertyValueSpecification,
  LayerSpecification,
  SourceSpecification,
  StyleSpecification,
} from 'maplibre-gl';

const KIND_COLOURS: DataDrivenPropertyValueSpecification<string> = [
  'match', ['get', 'kind'],
  'PARK', '#2e7d32', 'GREEN_SPACE', '#558b2f', 'CYCLE_PATH', '#00838f', 'WALKING_ROUTE', '#6d4c41',
  'COMMUNITY_GROUP', '#c62828', 'CHARITY', '#ad1457', 'ACTIVITY', '#ef6c00', 'VENUE', '#1565c0',
  'SERVICE', '#4527a0', 'HEALTH_CHAMPION', '#00695c',
  '#424242',
];

export function assetLayers(): { sources: Record<string, SourceSpecification>; layers: LayerSpecification[] } {
  return {
    sources: {
      assets: {
        type: 'vector',
        tiles: [`${location.origin}/tiles/{z}/{x}/{y}.mvt`],
        minzoom: 0,
        maxzoom: 16,
        attribution: 'Community assets: Assetmap. Contains public sector information licensed under the Open Government Licence v3.0.',
      },
      // what the listing editor is drawing
      editing: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      // the search's reach and its results (the open card's asset marked `selected`)
      searched: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
    },
    layers: [
      {
        id: 'asset-areas', type: 'fill', source: 'assets', 'source-layer': 'assets',
        filter: ['all', ['==', ['geometry-type'], 'Polygon'], ['!', ['has', 'cluster']]],
        paint: { 'fill-color': KIND_COLOURS, 'fill-opacity': 0.35, 'fill-outline-color': KIND_COLOURS },
      },
      {
        id: 'asset-lines', type: 'line', source: 'assets', 'source-layer': 'assets',
        filter: ['==', ['geometry-type'], 'LineString'],
        paint: { 'line-color': KIND_COLOURS, 'line-width': 3 },
      },
      {
        id: 'asset-clusters', type: 'circle', source: 'assets', 'source-layer': 'assets',
        filter: ['all', ['has', 'cluster'], ['>', ['get', 'count'], 1]],
        paint: {
          'circle-color': '#1565c0',
          'circle-opacity': 0.75,
          'circle-radius': ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 6, 10, 16, 40, 30],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 1.5,
        },
      },
      {
        id: 'asset-points', type: 'circle', source: 'assets', 'source-layer': 'assets',
        filter: ['all', ['==', ['geometry-type'], 'Point'], ['any', ['!', ['has', 'cluster']], ['==', ['get', 'count'], 1]]],
        paint: {
          'circle-color': KIND_COLOURS,
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 3, 14, 6, 18, 9],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 1.5,
        },
      },
      {
        id: 'search-radius', type: 'line', source: 'searched',
        filter: ['==', ['get', 'role'], 'radius'],
        paint: { 'line-color': '#6a1b9a', 'line-width': 1.5, 'line-dasharray': [3, 2] },
      },
      {
        id: 'search-results', type: 'circle', source: 'searched',
        filter: ['==', ['get', 'role'], 'result'],
        paint: {
          'circle-color': 'rgba(0, 0, 0, 0)',
          'circle-radius': ['case', ['boolean', ['get', 'selected'], false], 13, 9],
          'circle-stroke-color': ['case', ['boolean', ['get', 'selected'], false], '#e65100', '#6a1b9a'],
          'circle-stroke-width': ['case', ['boolean', ['get', 'selected'], false], 4, 2.5],
        },
      },
      {
        id: 'editing-area', type: 'fill', source: 'editing',
        filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': '#ffb300', 'fill-opacity': 0.3 },
      },
      {
        id: 'editing-line', type: 'line', source: 'editing',
        paint: { 'line-color': '#e65100', 'line-width': 3, 'line-dasharray': [2, 1] },
      },
      {
        id: 'editing-points', type: 'circle', source: 'editing',
        filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': '#e65100', 'circle-radius': 7, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
      },
    ],
  };
}

/** The whole style when the council has no basemap of its own. */
export function baseStyle(): StyleSpecification {
  const assets = assetLayers();
  return {
    version: 8,
    sources: {
      boroughs: { type: 'geojson', data: `${location.origin}/assets/base/boroughs.geojson`, attribution: 'Boundaries: Office for National Statistics, Open Government Licence v3.0' },
      wards: { type: 'geojson', data: `${location.origin}/assets/base/wards.geojson` },
      ...assets.sources,
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#eef0ea' } },
      { id: 'boroughs', type: 'fill', source: 'boroughs', paint: { 'fill-color': '#f8f7f2' } },
      { id: 'wards', type: 'line', source: 'wards', minzoom: 10, paint: { 'line-color': '#c5c2b8', 'line-width': 0.8 } },
      { id: 'borough-lines', type: 'line', source: 'boroughs', paint: { 'line-color': '#8d8a80', 'line-width': 1.5 } },
      ...assets.layers,
    ],
  };
}
