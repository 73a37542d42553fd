// The map: a link worker's search, shortlists, and a community group's listing editor.
import * as maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';
import { ApiError, CARD_FIELDS, gql, setToken, token } from './api.js';
import { card } from './card.js';
import { append, clear, el } from './dom.js';
import { bounds, markAt } from './geometry.js';
import { ACCESSIBILITY, KINDS, distance } from './labels.js';
import { Editor } from './editor.js';
import { onChanges } from './live.js';
import { assetLayers, baseStyle } from './style.js';

const $ = (id) => document.getElementById(id);
const state = { viewer: null, point: null, results: [], picked: new Map(), editor: null };

// ---- the map ---------------------------------------------------------------------

maplibregl.setWorkerUrl('/assets/maplibre-gl-worker.mjs');

async function createMap() {
  const config = await fetch('/config.json').then((r) => r.json()).catch(() => ({}));
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
let searchMarker = null;

map.on('click', (e) => {
  if (state.editor && state.editor.onMapClick(e.lngLat)) return;
  const clusters = map.queryRenderedFeatures(e.point, { layers: ['asset-clusters'] });
  if (clusters.length) {
    map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, 16) });
    return;
  }
  const hit = map.queryRenderedFeatures(e.point, { layers: ['search-results', ...ASSET_LAYERS] })[0];
  if (hit && hit.properties.id) {
    openCard(hit.properties.id, state.results.find((edge) => edge.node.id === hit.properties.id) || null);
    return;
  }
  // anywhere else: search around the point clicked
  $('postcode').value = '';
  setSearchPoint([e.lngLat.lng, e.lngLat.lat]);
  search();
});
for (const layer of [...ASSET_LAYERS, 'asset-clusters']) {
  map.on('mouseenter', layer, () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', layer, () => { map.getCanvas().style.cursor = ''; });
}

function setSearchPoint(lonLat) {
  state.point = lonLat;
  if (!searchMarker) searchMarker = new maplibregl.Marker({ color: '#6a1b9a', title: 'Search point' });
  searchMarker.setLngLat(lonLat).addTo(map);
}

/** Asks the tile source again: its ETags tell the browser what changed. */
function refreshTiles() {
  const source = map.getSource('assets');
  if (source && source.setTiles) source.setTiles(source.tiles);
}

// ---- who is signed in ------------------------------------------------------------

async function loadViewer() {
  state.viewer = null;
  let refused = null;
  if (token()) {
    try {
      const data = await gql('{ viewer { name role organizations { id name trusted } } }');
      state.viewer = data.viewer;
    } catch (e) {
      setToken(null);
      refused = e instanceof ApiError ? e.sentence : 'Signing in failed.';
    }
  }
  const v = state.viewer;
  if (v) $('who').textContent = `Signed in as ${v.name} (${v.role.toLowerCase().replace('_', ' ')})`;
  else $('who').textContent = refused || 'Not signed in: anyone can search; sign in to make shortlists or edit listings.';
  $('signin').hidden = Boolean(v);
  $('signout').hidden = !v;
  $('shortlist-box').hidden = !(v && ['LINK_WORKER', 'MODERATOR', 'ADMIN'].includes(v.role));
  $('mine').hidden = !(v && v.organizations.length);
  if (v && v.organizations.length) loadMine();
  renderResults();
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken($('token').value.trim());
  $('token').value = '';
  loadViewer();
});
$('signout').addEventListener('click', () => {
  setToken(null);
  state.picked.clear();
  loadViewer();
});

// ---- the search form -------------------------------------------------------------

async function loadNeeds() {
  const box = $('needs');
  try {
    const { categories } = await gql('{ categories { slug name parent { slug } } }');
    $('needs-loading').remove();
    const grid = el('div', { class: 'check-grid' });
    const top = categories.filter((c) => !c.parent);
    const children = (slug) => categories.filter((c) => c.parent && c.parent.slug === slug);
    for (const c of [...top.flatMap((t) => [t, ...children(t.slug)]), ...categories.filter((c) => c.parent && !top.some((t) => t.slug === c.parent.slug))]) {
      const id = `need-${c.slug}`;
      grid.append(el('div', { class: c.parent ? 'check child' : 'check' },
        el('input', { type: 'checkbox', id, name: 'need', value: c.slug }),
        el('label', { for: id }, c.name)));
    }
    box.append(grid);
  } catch (e) {
    $('needs-loading').textContent = e instanceof ApiError ? e.sentence : 'The list of needs could not be loaded.';
  }
}

function accessChecks(container, prefix) {
  for (const [value, label] of Object.entries(ACCESSIBILITY)) {
    const id = `${prefix}-${value}`;
    container.append(el('div', { class: 'check' },
      el('input', { type: 'checkbox', id, value }), el('label', { for: id }, label)));
  }
}

function checked(container) {
  return [...container.querySelectorAll('input[type=checkbox]:checked')].map((i) => i.value);
}

const SEARCH = `query Search($near: LonLatInput!, $radius: Float!, $filter: AssetFilter, $first: Int) {
  nearbyAssets(near: $near, radiusMeters: $radius, filter: $filter, first: $first) {
    edges { distanceMeters reasons { kind detail } node { ${CARD_FIELDS} geometry } }
  } }`;

async function search() {
  const status = $('search-status');
  const postcode = $('postcode').value.trim();
  if (!postcode && !state.point) {
    status.textContent = 'Enter a postcode, or click the map where the resident is.';
    $('postcode').focus();
    return;
  }
  const near = postcode ? { postcode } : { lon: state.point[0], lat: state.point[1] };
  const filter = {};
  const needs = checked($('needs'));
  if (needs.length) filter.categories = needs;
  const access = checked($('access-options'));
  if (access.length) filter.accessibility = access;
  if ($('free').checked) filter.free = true;
  const openAt = $('open-at').value;
  if (openAt) filter.openAt = new Date(openAt).toISOString();
  const radius = Number($('radius').value);
  status.textContent = 'Searching…';
  try {
    const data = await gql(SEARCH, { near, radius, filter, first: 50 });
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
    status.textContent = e instanceof ApiError ? e.sentence : 'The search failed.';
  }
}

function fitResults() {
  if (!state.results.length) return;
  const box = new maplibregl.LngLatBounds();
  if (state.point) box.extend(state.point);
  for (const edge of state.results.slice(0, 10)) box.extend(bounds(edge.node.geometry));
  map.fitBounds(box, { padding: 60, maxZoom: 15 });
}

/** A circle of `meters` around `[lon, lat]`, as a ring of 72 points (spherical Earth). */
function circle([lon, lat], meters) {
  const ring = [];
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
function drawSearched(radius, selected = null) {
  const source = map.getSource('searched');
  if (!source) return;
  const features = state.results.map((edge) => ({
    type: 'Feature',
    properties: { role: 'result', id: edge.node.id, selected: edge.node.id === selected },
    geometry: { type: 'Point', coordinates: markAt(edge.node.geometry) },
  }));
  if (state.point && radius) {
    features.push({ type: 'Feature', properties: { role: 'radius' }, geometry: { type: 'LineString', coordinates: circle(state.point, radius) } });
  }
  source.setData({ type: 'FeatureCollection', features });
}

/** Why a result matched, its distance aside (shown beside it). */
function reasonsList(edge) {
  return el('ul', { class: 'reasons', 'aria-label': 'Why it matched' },
    edge.reasons.filter((r) => r.kind !== 'DISTANCE').map((r) => el('li', {}, r.detail)));
}

function renderResults() {
  const list = clear($('results'));
  const canPick = !$('shortlist-box').hidden;
  for (const edge of state.results) {
    const a = edge.node;
    const pickId = `pick-${a.id}`;
    list.append(el('li', { class: 'result' },
      el('div', { class: 'result-head' },
        canPick ? el('input', {
          type: 'checkbox', id: pickId, checked: state.picked.has(a.id),
          'aria-label': `Add ${a.name} to the shortlist`,
          onchange: (e) => { if (e.target.checked) state.picked.set(a.id, a.name); else state.picked.delete(a.id); renderPicked(); },
        }) : null,
        el('button', { type: 'button', class: 'link result-name', onclick: () => openCard(a.id, edge) }, a.name)),
      el('p', { class: 'meta' }, `${KINDS[a.kind] || a.kind} · ${distance(edge.distanceMeters)}`),
      reasonsList(edge)));
  }
  renderPicked();
}

function renderPicked() {
  const n = state.picked.size;
  $('picked').textContent = n ? `${n} picked: ${[...state.picked.values()].join('; ')}` : 'Tick results to add them.';
  $('make-shortlist').disabled = n === 0;
}

$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  if ($('postcode').value.trim() && searchMarker) {
    searchMarker.remove();
    state.point = null;
  }
  search();
});

// ---- shortlists ------------------------------------------------------------------

$('make-shortlist').addEventListener('click', async () => {
  const out = clear($('shortlist-made'));
  try {
    const note = $('shortlist-note').value.trim() || null;
    const { createShortlist } = await gql(
      'mutation($ids: [ID!]!, $note: String) { createShortlist(assetIds: $ids, note: $note) { code expiresAt } }',
      { ids: [...state.picked.keys()], note });
    const link = `${location.origin}/s/${encodeURIComponent(createShortlist.code)}`;
    out.append(
      el('p', {}, 'Shortlist created. Give the resident this code: ', el('strong', { class: 'code' }, createShortlist.code)),
      el('p', {}, 'or this link: ', el('a', { href: `/s/${encodeURIComponent(createShortlist.code)}`, class: 'shortlist-link' }, link)),
      el('p', { class: 'hint' }, `It works until ${new Date(createShortlist.expiresAt).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric' })}, with no sign-in.`));
    state.picked.clear();
    renderResults();
  } catch (e) {
    out.append(el('p', { class: 'error' }, e instanceof ApiError ? e.sentence : 'The shortlist could not be made.'));
  }
});

// ---- cards -------------------------------------------------------------------------

let returnFocus = null;

/** Shows one part of the panel: the search (with the editor's list), a card, the editor. */
function show(section) {
  for (const id of ['find', 'card-box', 'editor-box']) $(id).hidden = id !== section;
  $('mine').hidden = section !== 'find' || !(state.viewer && state.viewer.organizations.length);
}

async function openCard(id, edge = null) {
  returnFocus = document.activeElement;
  let asset = edge && edge.node;
  try {
    if (!asset) asset = (await gql(`query($id: ID!) { asset(id: $id) { ${CARD_FIELDS} } }`, { id })).asset;
  } catch (e) {
    $('search-status').textContent = e instanceof ApiError ? e.sentence : 'That listing could not be loaded.';
    return;
  }
  if (!asset) return;
  const box = clear($('card'));
  const extra = edge ? el('div', {},
    el('p', { class: 'meta' }, `${distance(edge.distanceMeters)} away`),
    reasonsList(edge)) : null;
  box.append(card(asset, { heading: 2, extra }));
  drawSearched(state.radius, asset.id);
  if (mayEdit(asset)) {
    box.append(el('button', { type: 'button', class: 'primary', onclick: () => openEditor(asset.id) }, 'Edit this listing'));
  }
  show('card-box');
  $(`card-${asset.id}`).focus();
}

$('card-back').addEventListener('click', () => {
  show('find');
  drawSearched(state.radius);
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
});

// ---- a community group's listings ----------------------------------------------------

function mayEdit(asset) {
  const v = state.viewer;
  if (!v) return false;
  if (v.role === 'MODERATOR' || v.role === 'ADMIN') return true;
  return v.role === 'EDITOR' && asset.organization && v.organizations.some((o) => o.id === asset.organization.id);
}

async function loadMine() {
  const box = clear($('mine-list'));
  try {
    const { viewer } = await gql(`{ viewer { organizations { id name trusted
      assets(first: 100) { edges { node { id name kind status } } } } } }`);
    for (const org of viewer.organizations) {
      append(box, el('h3', {}, org.name),
        org.trusted ? null : el('p', { class: 'hint' }, 'Changes to these listings are checked by a moderator before they appear on the map.'));
      const items = org.assets.edges.map(({ node }) => el('li', {},
        el('button', { type: 'button', class: 'link', onclick: () => openEditor(node.id) }, node.name),
        ` (${KINDS[node.kind] || node.kind}${node.status === 'PENDING' ? ', waiting for a moderator' : ''})`));
      box.append(items.length ? el('ul', { class: 'mine' }, items) : el('p', {}, 'No listings yet.'));
    }
  } catch (e) {
    box.append(el('p', { class: 'error' }, e instanceof ApiError ? e.sentence : 'Your listings could not be loaded.'));
  }
}

async function openEditor(id) {
  returnFocus = document.activeElement;
  if (state.editor) state.editor.close();
  state.editor = new Editor({ map, onSaved: () => { refreshTiles(); if (!$('mine').hidden) loadMine(); } });
  show('editor-box');
  await state.editor.open(id);
}

$('editor-back').addEventListener('click', () => {
  if (state.editor) state.editor.close();
  state.editor = null;
  show('find');
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
});

// ---- start ---------------------------------------------------------------------------

accessChecks($('access-options'), 'access');
accessChecks($('ed-access'), 'ed-access');
loadNeeds();
loadViewer();
onChanges(refreshTiles);
window.assetmap = { map, refreshTiles };
