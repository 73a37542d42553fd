// The map: a link worker's search, shortlists, and a community group's listing editor.
import * as maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';
import { gql, said, setToken, token } from './api.ts';
import { card } from './card.ts';
import { CARD, CATEGORIES, CREATE_SHORTLIST, MY_LISTINGS, SEARCH, VIEWER } from './documents.ts';
import { append, byId, clear, el, input } from './dom.ts';
import { Editor } from './editor.ts';
import { bounds, markAt } from './geometry.ts';
import { ACCESSIBILITY, distance, KINDS } from './labels.ts';
import { onChanges } from './live.ts';
import { assetLayers, baseStyle } from './style.ts';
import type { Feature } from 'geojson';
import type { Asset, Category, Organization, Position, SearchEdge, Viewer } from './types.ts';

interface State {
  viewer: Viewer | null;
  point: Position | null;
  results: SearchEdge[];
  picked: Map<string, string>;
  editor: Editor | null;
  radius?: number | null;
}

const state: State = { viewer: null, point: null, results: [], picked: new Map(), editor: null };

// ---- the map ---------------------------------------------------------------------

maplibregl.setWorkerUrl('/assets/maplibre-gl-worker.mjs');

async function createMap(): Promise<maplibregl.Map> {
  const config: { basemapStyle?: string } = await fetch('/config.json')
    .then((r) => r.json())
    .catch(() => ({}));
  const map = new maplibregl.Map({
    container: 'map',
    style: config.basemapStyle || baseStyle(),
    bounds: [[-2.73, 53.33], [-1.91, 53.69]],
    maxZoom: 19,
    attributionControl: { compact: true },
    cooperativeGestures: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('load', () => {
    if (config.basemapStyle) {
      // a council's basemap: the assets go on top of it
      const { sources, layers } = assetLayers();
      for (const [id, source] of Object.entries(sources)) map.addSource(id, source);
      for (const layer of layers) map.addLayer(layer);
    }
    document.body.dataset.mapReady = 'true';
  });
  return map;
}

const map = await createMap();
const ASSET_LAYERS = ['asset-areas', 'asset-lines', 'asset-points'];
let searchMarker: maplibregl.Marker | null = null;

map.on('click', (e) => {
  if (state.editor?.onMapClick(e.lngLat)) return;
  const clusters = map.queryRenderedFeatures(e.point, { layers: ['asset-clusters'] });
  if (clusters.length) {
    map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, 16) });
    return;
  }
  const hit = map.queryRenderedFeatures(e.point, { layers: ['search-results', ...ASSET_LAYERS] })[0];
  const hitId = hit?.properties?.id as string | undefined;
  if (hitId) {
    openCard(hitId, state.results.find((edge) => edge.node.id === hitId) || null);
    return;
  }
  // anywhere else: search around the point clicked
  input('postcode').value = '';
  setSearchPoint([e.lngLat.lng, e.lngLat.lat]);
  search();
});
for (const layer of [...ASSET_LAYERS, 'asset-clusters']) {
  map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
}

function setSearchPoint(lonLat: Position): void {
  state.point = lonLat;
  if (!searchMarker) {
    searchMarker = new maplibregl.Marker({ color: '#6a1b9a' });
    searchMarker.getElement().setAttribute('title', 'Search point');
  }
  searchMarker.setLngLat(lonLat).addTo(map);
}

/** Asks the tile source again: its ETags tell the browser what changed. */
function refreshTiles(): void {
  const source = map.getSource<maplibregl.VectorTileSource>('assets');
  if (source?.tiles) source.setTiles(source.tiles);
}

// ---- who is signed in ------------------------------------------------------------

async function loadViewer(): Promise<void> {
  state.viewer = null;
  let refused: string | null = null;
  if (token()) {
    try {
      const data = await gql<{ viewer: Viewer | null }>(VIEWER);
      state.viewer = data.viewer;
    } catch (e) {
      setToken(null);
      refused = said(e, 'Signing in failed.');
    }
  }
  const v = state.viewer;
  if (v) byId('who').textContent = `Signed in as ${v.name} (${v.role.toLowerCase().replace('_', ' ')})`;
  else byId('who').textContent = refused || 'Not signed in: anyone can search; sign in to make shortlists or edit listings.';
  byId('signin').hidden = Boolean(v);
  byId('signout').hidden = !v;
  byId('shortlist-box').hidden = !(v && ['LINK_WORKER', 'MODERATOR', 'ADMIN'].includes(v.role));
  byId('mine').hidden = !v?.organizations.length;
  if (v?.organizations.length) loadMine();
  renderResults();
}

byId('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(input('token').value.trim());
  input('token').value = '';
  loadViewer();
});
byId('signout').addEventListener('click', () => {
  setToken(null);
  state.picked.clear();
  loadViewer();
});

// ---- the search form -------------------------------------------------------------

async function loadNeeds(): Promise<void> {
  const box = byId('needs');
  try {
    const { categories } = await gql<{ categories: Category[] }>(CATEGORIES);
    byId('needs-loading').remove();
    const grid = el('div', { class: 'check-grid' });
    const top = categories.filter((c) => !c.parent);
    const children = (slug: string): Category[] => categories.filter((c) => c.parent?.slug === slug);
    const orphans = categories.filter((c) => c.parent && !top.some((t) => t.slug === c.parent?.slug));
    for (const c of [...top.flatMap((t) => [t, ...children(t.slug)]), ...orphans]) {
      const id = `need-${c.slug}`;
      grid.append(el('div', { class: c.parent ? 'check child' : 'check' },
        el('input', { type: 'checkbox', id, name: 'need', value: c.slug }),
        el('label', { for: id }, c.name)));
    }
    box.append(grid);
  } catch (e) {
    byId('needs-loading').textContent = said(e, 'The list of needs could not be loaded.');
  }
}

function accessChecks(container: HTMLElement, prefix: string): void {
  for (const [value, label] of Object.entries(ACCESSIBILITY)) {
    const id = `${prefix}-${value}`;
    container.append(el('div', { class: 'check' },
      el('input', { type: 'checkbox', id, value }), el('label', { for: id }, label)));
  }
}

function checked(container: HTMLElement): string[] {
  return [...container.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((i) => i.value);
}

async function search(): Promise<void> {
  const status = byId('search-status');
  const postcode = input('postcode').value.trim();
  const point = state.point;
  if (!postcode && !point) {
    status.textContent = 'Enter a postcode, or click the map where the resident is.';
    input('postcode').focus();
    return;
  }
  const near = postcode ? { postcode } : point ? { lon: point[0], lat: point[1] } : {};
  const filter: Record<string, unknown> = {};
  const needs = checked(byId('needs'));
  if (needs.length) filter.categories = needs;
  const access = checked(byId('access-options'));
  if (access.length) filter.accessibility = access;
  if (input('free').checked) filter.free = true;
  const openAt = input('open-at').value;
  if (openAt) filter.openAt = new Date(openAt).toISOString();
  const radius = Number(input('radius').value);
  status.textContent = 'Searching…';
  try {
    const data = await gql<{ nearbyAssets: { edges: SearchEdge[] } }>(SEARCH, { near, radius, filter, first: 50 });
    state.results = data.nearbyAssets.edges;
    const n = state.results.length;
    status.textContent = n === 0
      ? 'Nothing matches within that distance. Try a wider distance or fewer needs.'
      : `${n} result${n === 1 ? '' : 's'}, nearest first${n === 50 ? ' (the nearest 50)' : ''}.`;
    renderResults();
    fitResults();
    state.radius = radius;
    drawSearched(radius);
    // the next Tab reaches the first result, not the rest of the form
    status.focus();
  } catch (e) {
    state.results = [];
    renderResults();
    drawSearched(null);
    status.textContent = said(e, 'The search failed.');
  }
}

function fitResults(): void {
  if (!state.results.length) return;
  const box = new maplibregl.LngLatBounds();
  if (state.point) box.extend(state.point);
  for (const edge of state.results.slice(0, 10)) box.extend(bounds(edge.node.geometry) as maplibregl.LngLatBoundsLike);
  map.fitBounds(box, { padding: 60, maxZoom: 15 });
}

/** A circle of `meters` around `[lon, lat]`, as a ring of 72 points (spherical Earth). */
function circle([lon, lat]: Position, meters: number): Position[] {
  const ring: Position[] = [];
  const d = meters / 6_371_008.8;
  const lat1 = (lat * Math.PI) / 180;
  const lon1 = (lon * Math.PI) / 180;
  for (let i = 0; i <= 72; i += 1) {
    const bearing = (i * 5 * Math.PI) / 180;
    const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(bearing));
    const lon2 = lon1 + Math.atan2(Math.sin(bearing) * Math.sin(d) * Math.cos(lat1), Math.cos(d) - Math.sin(lat1) * Math.sin(lat2));
    ring.push([(lon2 * 180) / Math.PI, (lat2 * 180) / Math.PI]);
  }
  return ring;
}

/** Draws the search's reach (around a clicked point) and marks its results. */
function drawSearched(radius: number | null | undefined, selected: string | null = null): void {
  const source = map.getSource<maplibregl.GeoJSONSource>('searched');
  if (!source) return;
  const features: Feature[] = state.results.map((edge) => ({
    type: 'Feature',
    properties: { role: 'result', id: edge.node.id, selected: edge.node.id === selected },
    geometry: { type: 'Point', coordinates: markAt(edge.node.geometry) },
  }));
  if (state.point && radius) {
    features.push({
      type: 'Feature',
      properties: { role: 'radius' },
      geometry: { type: 'LineString', coordinates: circle(state.point, radius) },
    });
  }
  source.setData({ type: 'FeatureCollection', features });
}

/** Why a result matched, its distance aside (shown beside it). */
function reasonsList(edge: SearchEdge): HTMLElement {
  return el('ul', { class: 'reasons', 'aria-label': 'Why it matched' },
    edge.reasons.filter((r) => r.kind !== 'DISTANCE').map((r) => el('li', {}, r.detail)));
}

function renderResults(): void {
  const list = clear(byId('results'));
  const canPick = !byId('shortlist-box').hidden;
  for (const edge of state.results) {
    const a = edge.node;
    const pickId = `pick-${a.id}`;
    list.append(el('li', { class: 'result' },
      el('div', { class: 'result-head' },
        canPick ? el('input', {
          type: 'checkbox', id: pickId, checked: state.picked.has(a.id),
          'aria-label': `Add ${a.name} to the shortlist`,
          onchange: (e: Event) => {
            if ((e.target as HTMLInputElement).checked) state.picked.set(a.id, a.name);
            else state.picked.delete(a.id);
            renderPicked();
          },
        }) : null,
        el('button', { type: 'button', class: 'link result-name', onclick: () => openCard(a.id, edge) }, a.name)),
      el('p', { class: 'meta' }, `${KINDS[a.kind] || a.kind} · ${distance(edge.distanceMeters)}`),
      reasonsList(edge)));
  }
  renderPicked();
}

function renderPicked(): void {
  const n = state.picked.size;
  byId('picked').textContent = n ? `${n} picked: ${[...state.picked.values()].join('; ')}` : 'Tick results to add them.';
  byId<HTMLButtonElement>('make-shortlist').disabled = n === 0;
}

byId('search').addEventListener('submit', (e) => {
  e.preventDefault();
  if (input('postcode').value.trim() && searchMarker) {
    searchMarker.remove();
    state.point = null;
  }
  search();
});

// ---- shortlists ------------------------------------------------------------------

byId('make-shortlist').addEventListener('click', async () => {
  const out = clear(byId('shortlist-made'));
  try {
    const note = input('shortlist-note').value.trim() || null;
    const { createShortlist } = await gql<{ createShortlist: { code: string; expiresAt: string } }>(CREATE_SHORTLIST, {
      ids: [...state.picked.keys()],
      note,
    });
    const link = `${location.origin}/s/${encodeURIComponent(createShortlist.code)}`;
    out.append(
      el('p', {}, 'Shortlist created. Give the resident this code: ', el('strong', { class: 'code' }, createShortlist.code)),
      el('p', {}, 'or this link: ', el('a', { href: `/s/${encodeURIComponent(createShortlist.code)}`, class: 'shortlist-link' }, link)),
      el('p', { class: 'hint' }, `It works until ${new Date(createShortlist.expiresAt).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' })}, with no sign-in.`));
    state.picked.clear();
    renderResults();
  } catch (e) {
    out.append(el('p', { class: 'error' }, said(e, 'The shortlist could not be made.')));
  }
});

// ---- cards -------------------------------------------------------------------------

let returnFocus: HTMLElement | null = null;

/** Shows one part of the panel: the search (with the editor's list), a card, the editor. */
function show(section: string): void {
  for (const id of ['find', 'card-box', 'editor-box']) byId(id).hidden = id !== section;
  byId('mine').hidden = section !== 'find' || !state.viewer?.organizations.length;
}

function focused(): HTMLElement | null {
  return document.activeElement instanceof HTMLElement ? document.activeElement : null;
}

async function openCard(id: string, edge: SearchEdge | null = null): Promise<void> {
  returnFocus = focused();
  let asset: Asset | null = edge?.node ?? null;
  try {
    if (!asset) asset = (await gql<{ asset: Asset | null }>(CARD, { id })).asset;
  } catch (e) {
    byId('search-status').textContent = said(e, 'That listing could not be loaded.');
    return;
  }
  if (!asset) return;
  const shown: Asset = asset;
  const box = clear(byId('card'));
  const extra = edge ? el('div', {},
    el('p', { class: 'meta' }, `${distance(edge.distanceMeters)} away`),
    reasonsList(edge)) : null;
  box.append(card(asset, { heading: 2, extra }));
  drawSearched(state.radius, shown.id);
  if (mayEdit(shown)) {
    box.append(el('button', { type: 'button', class: 'primary', onclick: () => openEditor(shown.id) }, 'Edit this listing'));
  }
  show('card-box');
  byId(`card-${shown.id}`).focus();
}

byId('card-back').addEventListener('click', () => {
  show('find');
  drawSearched(state.radius);
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
});

// ---- a community group's listings ----------------------------------------------------

function mayEdit(asset: Asset): boolean {
  const v = state.viewer;
  if (!v) return false;
  if (v.role === 'MODERATOR' || v.role === 'ADMIN') return true;
  const org = asset.organization;
  return v.role === 'EDITOR' && Boolean(org) && v.organizations.some((o) => o.id === org?.id);
}

interface MyOrganization extends Organization {
  assets: { edges: { node: Asset }[] };
}

async function loadMine(): Promise<void> {
  const box = clear(byId('mine-list'));
  try {
    const { viewer } = await gql<{ viewer: { organizations: MyOrganization[] } }>(MY_LISTINGS);
    for (const org of viewer.organizations) {
      append(box, el('h3', {}, org.name),
        org.trusted ? null : el('p', { class: 'hint' }, 'Changes to these listings are checked by a moderator before they appear on the map.'));
      const items = org.assets.edges.map(({ node }) => el('li', {},
        el('button', { type: 'button', class: 'link', onclick: () => openEditor(node.id) }, node.name),
        ` (${KINDS[node.kind] || node.kind}${node.status === 'PENDING' ? ', waiting for a moderator' : ''})`));
      box.append(items.length ? el('ul', { class: 'mine' }, items) : el('p', {}, 'No listings yet.'));
    }
  } catch (e) {
    box.append(el('p', { class: 'error' }, said(e, 'Your listings could not be loaded.')));
  }
}

async function openEditor(id: string): Promise<void> {
  returnFocus = focused();
  if (state.editor) state.editor.close();
  const editor = new Editor({
    map,
    onSaved: () => {
      refreshTiles();
      if (!byId('mine').hidden) loadMine();
    },
  });
  state.editor = editor;
  show('editor-box');
  await editor.open(id);
}

byId('editor-back').addEventListener('click', () => {
  if (state.editor) state.editor.close();
  state.editor = null;
  show('find');
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
});

// ---- start ---------------------------------------------------------------------------

accessChecks(byId('access-options'), 'access');
accessChecks(byId('ed-access'), 'ed-access');
loadNeeds();
loadViewer();
onChanges(refreshTiles);

// The browser tests reach the map through a receiver they install before the page
// loads (playwright's addInitScript); without one, nothing is exposed.
const testHook = (globalThis as { __assetmapTest?: (hooks: { map: maplibregl.Map; refreshTiles: () => void }) => void })
  .__assetmapTest;
if (typeof testHook === 'function') testHook({ map, refreshTiles });
