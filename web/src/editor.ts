// A community group's listing editor: change the fields, move or redraw the geometry on
// the map (or type a point's coordinates), save against the version the edit started
// from. When someone else saved first, both versions are shown and the edit can be
// redone on top of theirs; an untrusted organization is told its change waits for a
// moderator.
import type { GeoJSONSource, LngLat, Map as MapLibre } from 'maplibre-gl';
import { ApiError, gql, said } from './api.ts';
import { EDITOR_ASSET, UPDATE_ASSET } from './documents.ts';
import { append, byId, clear, el, input } from './dom.ts';
import { bounds } from './geometry.ts';
import { ACCESSIBILITY } from './labels.ts';
import type { Asset, Geometry, Position } from './types.ts';

const TEXT_FIELDS = ['name', 'description', 'openingHours', 'address', 'postcode', 'website', 'phone', 'email', 'costNote'] as const;
type TextField = (typeof TEXT_FIELDS)[number];
const LABELS: Record<string, string> = {
  name: 'Name', description: 'Description', openingHours: 'Opening hours', address: 'Address', postcode: 'Postcode',
  website: 'Website', phone: 'Phone', email: 'Email', costNote: 'About the cost', free: 'Cost',
  accessibility: 'Accessibility', geometry: 'Where it is',
};
/** A listing as the editor holds it. */
type Listing = Asset & { geometry: Geometry; version: number; pendingChanges?: { id: string }[] };
/** The fields an edit sets: what `UpdateAssetInput` takes. */
type Edits = Partial<Record<TextField, string | null>> & {
  free?: boolean | null;
  accessibility?: string[];
  geometry?: Geometry;
};

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function shown(field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '(empty)';
  if (field === 'free') return value ? 'Free' : 'Costs something';
  if (field === 'accessibility') {
    const list = value as string[];
    return list.length ? list.map((v) => ACCESSIBILITY[v] || v).join(', ') : '(none)';
  }
  if (field === 'geometry') {
    const g = value as Geometry;
    return g.type === 'Point'
      ? `${g.coordinates[1].toFixed(5)}, ${g.coordinates[0].toFixed(5)}`
      : `a ${g.type === 'Polygon' ? 'area' : 'route'} drawn on the map`;
  }
  return String(value);
}

interface Drawing {
  type: string;
  points: Position[];
}

export class Editor {
  map: MapLibre;
  onSaved: () => void;
  base: Listing | null = null;
  geometry: Geometry | null = null;
  drawing: Drawing | null = null;
  form: HTMLFormElement;
  submit: (e: Event) => void;
  draw: () => void;
  done: () => void;
  typed: () => void;

  constructor({ map, onSaved }: { map: MapLibre; onSaved: () => void }) {
    this.map = map;
    this.onSaved = onSaved;
    this.form = byId<HTMLFormElement>('editor');
    this.submit = (e) => { e.preventDefault(); this.save(); };
    this.draw = () => this.startDrawing();
    this.done = () => this.finishDrawing();
    this.typed = () => this.pointTyped();
    this.form.addEventListener('submit', this.submit);
    byId('ed-draw').addEventListener('click', this.draw);
    byId('ed-draw-done').addEventListener('click', this.done);
    byId('ed-lon').addEventListener('change', this.typed);
    byId('ed-lat').addEventListener('change', this.typed);
  }

  close(): void {
    this.form.removeEventListener('submit', this.submit);
    byId('ed-draw').removeEventListener('click', this.draw);
    byId('ed-draw-done').removeEventListener('click', this.done);
    byId('ed-lon').removeEventListener('change', this.typed);
    byId('ed-lat').removeEventListener('change', this.typed);
    this.drawing = null;
    this.showGeometry(null);
  }

  message(text: string, kind = 'info'): void {
    const box = clear(byId('editor-message'));
    if (text) {
      box.append(el('p', { class: kind }, text));
      box.scrollIntoView({ block: 'nearest' });
    }
  }

  async open(id: string): Promise<void> {
    this.message('Loading…');
    clear(byId('conflict')).hidden = true;
    try {
      const { asset } = await gql<{ asset: Listing | null }>(EDITOR_ASSET, { id });
      if (!asset) {
        this.message('That listing no longer exists.', 'error');
        return;
      }
      this.load(asset);
      this.message('');
      this.showOnMap(asset.geometry);
      byId('editor-heading').textContent = `Edit ${asset.name}`;
      byId('editor-heading').focus();
    } catch (e) {
      this.message(said(e, 'The listing could not be loaded.'), 'error');
    }
  }

  /** Fills the form from `asset`, then applies `edits` (a redo after a conflict). */
  load(asset: Listing, edits: Edits = {}): void {
    this.base = asset;
    const values = { ...asset, ...edits };
    for (const f of TEXT_FIELDS) input(`ed-${f}`).value = values[f] ?? '';
    input('ed-free').value = values.free === null || values.free === undefined ? '' : String(values.free);
    for (const box of byId('ed-access').querySelectorAll('input')) box.checked = (values.accessibility || []).includes(box.value);
    const geometry = values.geometry;
    this.geometry = geometry;
    this.showGeometry(geometry);
    const point = geometry.type === 'Point';
    byId('ed-point').hidden = !point;
    byId('ed-draw').textContent = point ? 'Move it on the map' : 'Redraw it on the map';
    byId('ed-geometry-hint').textContent = point
      ? 'Type the coordinates, or choose "Move it on the map" and click the new place.'
      : `It is ${geometry.type.includes('Polygon') ? 'an area' : 'a route'}: choose "Redraw it on the map", click each corner in turn, then "Finish drawing".`;
    this.syncPointInputs();
  }

  /** Brings the listing into view on the map. */
  showOnMap(geometry: Geometry): void {
    this.map.fitBounds(bounds(geometry), { padding: 80, maxZoom: 16, duration: 0 });
  }

  syncPointInputs(): void {
    if (this.geometry && this.geometry.type === 'Point') {
      input('ed-lon').value = this.geometry.coordinates[0].toFixed(6);
      input('ed-lat').value = this.geometry.coordinates[1].toFixed(6);
    }
  }

  pointTyped(): void {
    const lon = Number(input('ed-lon').value);
    const lat = Number(input('ed-lat').value);
    if (Number.isFinite(lon) && Number.isFinite(lat)) {
      this.geometry = { type: 'Point', coordinates: [lon, lat] };
      this.showGeometry(this.geometry);
    }
  }

  showGeometry(geometry: Geometry | null): void {
    const source = this.map.getSource<GeoJSONSource>('editing');
    if (!source) return;
    source.setData({ type: 'FeatureCollection', features: geometry ? [{ type: 'Feature', properties: {}, geometry }] : [] });
  }

  startDrawing(): void {
    if (!this.geometry) return;
    this.drawing = { type: this.geometry.type.replace('Multi', ''), points: [] };
    byId('ed-draw-done').hidden = this.drawing.type === 'Point';
    byId('ed-geometry-hint').textContent =
      this.drawing.type === 'Point'
      ? 'Click the map where it is now.'
      : 'Click each point in turn on the map, then choose "Finish drawing".';
  }

  /** A click on the map while drawing; true when the editor took it. */
  onMapClick(lngLat: LngLat): boolean {
    if (!this.drawing) return false;
    const p: Position = [Number(lngLat.lng.toFixed(6)), Number(lngLat.lat.toFixed(6))];
    if (this.drawing.type === 'Point') {
      this.geometry = { type: 'Point', coordinates: p };
      this.drawing = null;
      this.syncPointInputs();
      byId('ed-geometry-hint').textContent = 'Moved. Save to keep it.';
    } else {
      this.drawing.points.push(p);
      this.showGeometry({ type: 'LineString', coordinates: this.drawing.points.length > 1 ? this.drawing.points : [p, p] });
      return true;
    }
    this.showGeometry(this.geometry);
    return true;
  }

  finishDrawing(): void {
    const d = this.drawing;
    if (!d) return;
    const needed = d.type === 'Polygon' ? 3 : 2;
    if (d.points.length < needed) {
      byId('ed-geometry-hint').textContent = `Click at least ${needed} points on the map first.`;
      return;
    }
    this.geometry = d.type === 'Polygon'
      ? { type: 'Polygon', coordinates: [[...d.points, d.points[0]]] }
      : { type: 'LineString', coordinates: d.points };
    this.drawing = null;
    byId('ed-draw-done').hidden = true;
    byId('ed-geometry-hint').textContent = 'Drawn. Save to keep it.';
    this.showGeometry(this.geometry);
  }

  /** The fields the form changes from the version the edit started from. */
  edits(): Edits {
    const out: Edits = {};
    const base = this.base;
    if (!base) return out;
    for (const f of TEXT_FIELDS) {
      const v = input(`ed-${f}`).value.trim();
      const value = v === '' ? null : v;
      if (value !== (base[f] ?? null)) out[f] = value;
    }
    const free = input('ed-free').value === '' ? null : input('ed-free').value === 'true';
    if (free !== (base.free ?? null)) out.free = free;
    const access = [...byId('ed-access').querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value).sort();
    if (!same(access, [...(base.accessibility || [])].sort())) out.accessibility = access;
    if (this.geometry && !same(this.geometry, base.geometry)) out.geometry = this.geometry;
    return out;
  }

  async save(): Promise<void> {
    const base = this.base;
    if (!base) return;
    const edits = this.edits();
    if (!Object.keys(edits).length) {
      this.message('Nothing has changed yet.');
      return;
    }
    if (edits.name === null) {
      this.message('Please check the name: a listing needs one.', 'error');
      byId('ed-name').focus();
      return;
    }
    this.message('Saving…');
    try {
      const { updateAsset } = await gql<{ updateAsset: Listing }>(UPDATE_ASSET, { id: base.id, v: base.version, input: edits });
      clear(byId('conflict')).hidden = true;
      if (updateAsset.version === base.version && updateAsset.pendingChanges?.length) {
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
        this.message(said(e, 'Saving failed. Nothing you typed is lost: try again.'), 'error');
      }
    }
  }

  /** Someone saved first: both versions side by side; redo the edit on theirs, or drop it. */
  async conflict(edits: Edits): Promise<void> {
    const base = this.base;
    if (!base) return;
    let current: Listing | null;
    try {
      current = (await gql<{ asset: Listing | null }>(EDITOR_ASSET, { id: base.id })).asset;
    } catch (e) {
      this.message(said(e, 'The latest version could not be loaded.'), 'error');
      return;
    }
    if (!current) {
      this.message('That listing no longer exists.', 'error');
      return;
    }
    const saved: Listing = current;
    this.message('Someone else saved this listing while you were editing it. Nothing of yours was saved yet: compare the two versions below.', 'error');
    const box = clear(byId('conflict'));
    const field = (a: object, f: string): unknown => (a as Record<string, unknown>)[f];
    const rows = Object.keys(edits).map((f) =>
      el('tr', {}, el('th', { scope: 'row' }, LABELS[f] || f), el('td', {}, shown(f, field(edits, f))), el('td', {}, shown(f, field(saved, f)))),
    );
    const changedByThem = Object.keys(LABELS).filter((f) => !(f in edits) && !same(field(saved, f), field(base, f)));
    append(box,
      el('h3', { tabindex: '-1', id: 'conflict-heading' }, 'Your edit and the saved version'),
      el('table', {},
        el('caption', {}, `Saved version ${saved.version}; your edit started from version ${base.version}`),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Field'), el('th', { scope: 'col' }, 'Your edit'), el('th', { scope: 'col' }, 'Saved by someone else'))),
        el('tbody', {}, rows)),
      changedByThem.length ? el('p', {}, `They also changed: ${changedByThem.map((f) => LABELS[f].toLowerCase()).join(', ')}.`) : null,
      el('button', {
        type: 'button', class: 'primary', id: 'redo-edit',
        onclick: () => {
          this.load(saved, edits);
          box.hidden = true;
          this.message('Your edit is now on top of the saved version. Check it, then save again.');
          byId('ed-name').focus();
        },
      }, 'Redo my edit on the saved version'),
      ' ',
      el('button', {
        type: 'button', id: 'drop-edit',
        onclick: () => {
          this.load(saved);
          box.hidden = true;
          this.message('Your edit was dropped; the form shows the saved version.');
        },
      }, 'Drop my edit'));
    box.hidden = false;
    byId('editor-message').scrollIntoView({ block: 'start' });
    byId('conflict-heading').focus({ preventScroll: true });
  }
}
