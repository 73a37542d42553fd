// A community group's listing editor: change the fields, move or redraw the geometry on
// the map (or type a point's coordinates), save against the version the edit started
// from. When someone else saved first, both versions are shown and the edit can be
// redone on top of theirs; an untrusted organization is told its change waits for a
// moderator.
import { ApiError, gql } from './api.js';
import { append, clear, el } from './dom.js';
import { bounds } from './geometry.js';
import { ACCESSIBILITY } from './labels.js';

const $ = (id) => document.getElementById(id);
const TEXT_FIELDS = ['name', 'description', 'openingHours', 'address', 'postcode', 'website', 'phone', 'email', 'costNote'];
const LABELS = {
  name: 'Name', description: 'Description', openingHours: 'Opening hours', address: 'Address', postcode: 'Postcode',
  website: 'Website', phone: 'Phone', email: 'Email', costNote: 'About the cost', free: 'Cost',
  accessibility: 'Accessibility', geometry: 'Where it is',
};
const FIELDS = `id name kind description openingHours address postcode website phone email free costNote
  accessibility geometry version status organization { id name trusted }`;

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function shown(field, value) {
  if (value === null || value === undefined || value === '') return '(empty)';
  if (field === 'free') return value ? 'Free' : 'Costs something';
  if (field === 'accessibility') return value.length ? value.map((v) => ACCESSIBILITY[v] || v).join(', ') : '(none)';
  if (field === 'geometry') return value.type === 'Point' ? `${value.coordinates[1].toFixed(5)}, ${value.coordinates[0].toFixed(5)}` : `a ${value.type === 'Polygon' ? 'area' : 'route'} drawn on the map`;
  return String(value);
}

export class Editor {
  constructor({ map, onSaved }) {
    this.map = map;
    this.onSaved = onSaved;
    this.base = null;
    this.geometry = null;
    this.drawing = null;
    this.form = $('editor');
    this.submit = (e) => { e.preventDefault(); this.save(); };
    this.draw = () => this.startDrawing();
    this.done = () => this.finishDrawing();
    this.typed = () => this.pointTyped();
    this.form.addEventListener('submit', this.submit);
    $('ed-draw').addEventListener('click', this.draw);
    $('ed-draw-done').addEventListener('click', this.done);
    $('ed-lon').addEventListener('change', this.typed);
    $('ed-lat').addEventListener('change', this.typed);
  }

  close() {
    this.form.removeEventListener('submit', this.submit);
    $('ed-draw').removeEventListener('click', this.draw);
    $('ed-draw-done').removeEventListener('click', this.done);
    $('ed-lon').removeEventListener('change', this.typed);
    $('ed-lat').removeEventListener('change', this.typed);
    this.drawing = null;
    this.showGeometry(null);
  }

  message(text, kind = 'info') {
    const box = clear($('editor-message'));
    if (text) {
      box.append(el('p', { class: kind }, text));
      box.scrollIntoView({ block: 'nearest' });
    }
  }

  async open(id) {
    this.message('Loading…');
    clear($('conflict')).hidden = true;
    try {
      const { asset } = await gql(`query($id: ID!) { asset(id: $id) { ${FIELDS} } }`, { id });
      if (!asset) {
        this.message('That listing no longer exists.', 'error');
        return;
      }
      this.load(asset);
      this.message('');
      this.showOnMap(asset.geometry);
      $('editor-heading').textContent = `Edit ${asset.name}`;
      $('editor-heading').focus();
    } catch (e) {
      this.message(e instanceof ApiError ? e.sentence : 'The listing could not be loaded.', 'error');
    }
  }

  /** Fills the form from `asset`, then applies `edits` (a redo after a conflict). */
  load(asset, edits = {}) {
    this.base = asset;
    const values = { ...asset, ...edits };
    for (const f of TEXT_FIELDS) $(`ed-${f}`).value = values[f] ?? '';
    $('ed-free').value = values.free === null || values.free === undefined ? '' : String(values.free);
    for (const box of $('ed-access').querySelectorAll('input')) box.checked = (values.accessibility || []).includes(box.value);
    this.geometry = values.geometry;
    this.showGeometry(this.geometry);
    const point = this.geometry.type === 'Point';
    $('ed-point').hidden = !point;
    $('ed-draw').textContent = point ? 'Move it on the map' : 'Redraw it on the map';
    $('ed-geometry-hint').textContent = point
      ? 'Type the coordinates, or choose "Move it on the map" and click the new place.'
      : `It is ${this.geometry.type.includes('Polygon') ? 'an area' : 'a route'}: choose "Redraw it on the map", click each corner in turn, then "Finish drawing".`;
    this.syncPointInputs();
  }

  /** Brings the listing into view on the map. */
  showOnMap(geometry) {
    this.map.fitBounds(bounds(geometry), { padding: 80, maxZoom: 16, duration: 0 });
  }

  syncPointInputs() {
    if (this.geometry && this.geometry.type === 'Point') {
      $('ed-lon').value = this.geometry.coordinates[0].toFixed(6);
      $('ed-lat').value = this.geometry.coordinates[1].toFixed(6);
    }
  }

  pointTyped() {
    const lon = Number($('ed-lon').value);
    const lat = Number($('ed-lat').value);
    if (Number.isFinite(lon) && Number.isFinite(lat)) {
      this.geometry = { type: 'Point', coordinates: [lon, lat] };
      this.showGeometry(this.geometry);
    }
  }

  showGeometry(geometry) {
    const source = this.map.getSource('editing');
    if (!source) return;
    source.setData({ type: 'FeatureCollection', features: geometry ? [{ type: 'Feature', properties: {}, geometry }] : [] });
  }

  startDrawing() {
    this.drawing = { type: this.geometry.type.replace('Multi', ''), points: [] };
    $('ed-draw-done').hidden = this.drawing.type === 'Point';
    $('ed-geometry-hint').textContent = this.drawing.type === 'Point'
      ? 'Click the map where it is now.'
      : 'Click each point in turn on the map, then choose "Finish drawing".';
  }

  /** A click on the map while drawing; true when the editor took it. */
  onMapClick(lngLat) {
    if (!this.drawing) return false;
    const p = [Number(lngLat.lng.toFixed(6)), Number(lngLat.lat.toFixed(6))];
    if (this.drawing.type === 'Point') {
      this.geometry = { type: 'Point', coordinates: p };
      this.drawing = null;
      this.syncPointInputs();
      $('ed-geometry-hint').textContent = 'Moved. Save to keep it.';
    } else {
      this.drawing.points.push(p);
      this.showGeometry({ type: 'LineString', coordinates: this.drawing.points.length > 1 ? this.drawing.points : [p, p] });
      return true;
    }
    this.showGeometry(this.geometry);
    return true;
  }

  finishDrawing() {
    const d = this.drawing;
    if (!d) return;
    const needed = d.type === 'Polygon' ? 3 : 2;
    if (d.points.length < needed) {
      $('ed-geometry-hint').textContent = `Click at least ${needed} points on the map first.`;
      return;
    }
    this.geometry = d.type === 'Polygon'
      ? { type: 'Polygon', coordinates: [[...d.points, d.points[0]]] }
      : { type: 'LineString', coordinates: d.points };
    this.drawing = null;
    $('ed-draw-done').hidden = true;
    $('ed-geometry-hint').textContent = 'Drawn. Save to keep it.';
    this.showGeometry(this.geometry);
  }

  /** The fields the form changes from the version the edit started from. */
  edits() {
    const out = {};
    for (const f of TEXT_FIELDS) {
      const v = $(`ed-${f}`).value.trim();
      const value = v === '' ? null : v;
      if (value !== (this.base[f] ?? null)) out[f] = value;
    }
    const free = $('ed-free').value === '' ? null : $('ed-free').value === 'true';
    if (free !== (this.base.free ?? null)) out.free = free;
    const access = [...$('ed-access').querySelectorAll('input:checked')].map((i) => i.value).sort();
    if (!same(access, [...(this.base.accessibility || [])].sort())) out.accessibility = access;
    if (!same(this.geometry, this.base.geometry)) out.geometry = this.geometry;
    return out;
  }

  async save() {
    const edits = this.edits();
    if (!Object.keys(edits).length) {
      this.message('Nothing has changed yet.');
      return;
    }
    if (edits.name === null) {
      this.message('Please check the name: a listing needs one.', 'error');
      $('ed-name').focus();
      return;
    }
    this.message('Saving…');
    try {
      const { updateAsset } = await gql(
        `mutation($id: ID!, $v: Int!, $input: UpdateAssetInput!) { updateAsset(id: $id, expectedVersion: $v, input: $input) { ${FIELDS} pendingChanges { id } } }`,
        { id: this.base.id, v: this.base.version, input: edits });
      clear($('conflict')).hidden = true;
      if (updateAsset.version === this.base.version && updateAsset.pendingChanges.length) {
        this.load(updateAsset, edits);
        this.message('Thank you. Your change waits for a moderator: it appears on the map once they approve it.', 'success');
      } else {
        this.load(updateAsset);
        this.message(`Saved. The listing is now at version ${updateAsset.version}.`, 'success');
      }
      this.onSaved();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'CONFLICT') {
        await this.conflict(edits);
      } else {
        this.message(e instanceof ApiError ? e.sentence : 'Saving failed. Nothing you typed is lost: try again.', 'error');
      }
    }
  }

  /** Someone saved first: both versions side by side; redo the edit on theirs, or drop it. */
  async conflict(edits) {
    let current;
    try {
      current = (await gql(`query($id: ID!) { asset(id: $id) { ${FIELDS} } }`, { id: this.base.id })).asset;
    } catch (e) {
      this.message(e instanceof ApiError ? e.sentence : 'The latest version could not be loaded.', 'error');
      return;
    }
    this.message('Someone else saved this listing while you were editing it. Nothing of yours was saved yet: compare the two versions below.', 'error');
    const box = clear($('conflict'));
    const rows = Object.keys(edits).map((f) => el('tr', {},
      el('th', { scope: 'row' }, LABELS[f] || f),
      el('td', {}, shown(f, edits[f])),
      el('td', {}, shown(f, current[f]))));
    const changedByThem = Object.keys(LABELS).filter((f) => !(f in edits) && !same(current[f], this.base[f]));
    append(box,
      el('h3', { tabindex: '-1', id: 'conflict-heading' }, 'Your edit and the saved version'),
      el('table', {},
        el('caption', {}, `Saved version ${current.version}; your edit started from version ${this.base.version}`),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Field'), el('th', { scope: 'col' }, 'Your edit'), el('th', { scope: 'col' }, 'Saved by someone else'))),
        el('tbody', {}, rows)),
      changedByThem.length ? el('p', {}, `They also changed: ${changedByThem.map((f) => LABELS[f].toLowerCase()).join(', ')}.`) : null,
      el('button', {
        type: 'button', class: 'primary', id: 'redo-edit',
        onclick: () => {
          this.load(current, edits);
          box.hidden = true;
          this.message('Your edit is now on top of the saved version. Check it, then save again.');
          $('ed-name').focus();
        },
      }, 'Redo my edit on the saved version'),
      ' ',
      el('button', {
        type: 'button', id: 'drop-edit',
        onclick: () => {
          this.load(current);
          box.hidden = true;
          this.message('Your edit was dropped; the form shows the saved version.');
        },
      }, 'Drop my edit'));
    box.hidden = false;
    $('editor-message').scrollIntoView({ block: 'start' });
    $('conflict-heading').focus({ preventScroll: true });
  }
}
