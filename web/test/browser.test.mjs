// The pages in a real browser (Debian's Chromium, driven by playwright-core) against
// the real binary on one backend: `scripts/browser/run` runs this once per backend.
//
// Environment: ASSETMAP_BIN (the binary), DATABASE_URL (an empty database), BACKEND
// (a label), SCREENSHOTS (a directory), CHROMIUM (the browser, default
// /usr/bin/chromium).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BIN = process.env.ASSETMAP_BIN;
const BACKEND = process.env.BACKEND || 'sqlite';
const SHOTS = `${process.env.SCREENSHOTS || '../target/browser'}/${BACKEND}`;
const FIXTURE_POSTCODES = new URL('../../tests/fixtures/onspd.csv', import.meta.url).pathname;
// M2 5DW in the fixture: central Manchester, among the demo map's assets
const M2_5DW = [-2.2426, 53.4808];

let server;
let base;
let adminToken;
let linkWorkerToken;
let browser;
let serverLog = '';

function cli(...args) {
  return execFileSync(BIN, args, { env: { ...process.env, RUST_LOG: 'warn' }, encoding: 'utf8' }).trim();
}

function token(role, name, orgs = []) {
  return cli('token', 'create', '--role', role, '--name', name, ...orgs.flatMap((o) => ['--org', o]));
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** GraphQL straight to the server (setting up, and checking what the pages did). */
async function api(query, variables = {}, as = adminToken) {
  const headers = { 'content-type': 'application/json' };
  if (as) headers.authorization = `Bearer ${as}`;
  const response = await fetch(`${base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** A point `meters` north of M2 5DW (a degree of latitude is about 111.2 km). */
function north(meters) {
  return { type: 'Point', coordinates: [M2_5DW[0], M2_5DW[1] + meters / 111_200] };
}

async function createAsset(input) {
  return (await api('mutation($input: CreateAssetInput!) { createAsset(input: $input) { id version } }', { input })).createAsset;
}

async function waitReady(url, what) {
  for (let i = 0; ; i += 1) {
    try {
      if ((await fetch(`${url}/ready`)).ok) return;
    } catch { /* not yet */ }
    if (i > 600) throw new Error(`${what} did not get ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  cli('postcodes', 'import', '--quiet', FIXTURE_POSTCODES);
  adminToken = token('admin', 'Browser tests (admin)');
  linkWorkerToken = token('link_worker', 'Browser tests (link worker)');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['--bind', `127.0.0.1:${port}`, '--rate-limit-per-second', '0'], {
    env: { ...process.env, RUST_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitReady(base, 'the server').catch((e) => { throw new Error(`${e.message}:\n${serverLog}`); });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // WebGL from the CPU (SwiftShader): the machine has no GPU
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
});

/**
 * A fresh browser context (optionally signed in), recording every request that leaves
 * the server's origin, every script error and every Content-Security-Policy refusal.
 */
async function open(signedInAs = null, options = {}, origin = base) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  const seen = { foreign: [], errors: [], dialogs: [], requests: [] };
  context.on('request', (r) => {
    const url = r.url();
    seen.requests.push(r);
    if (url.startsWith('data:') || url.startsWith('blob:')) return;
    if (new URL(url).origin !== origin) seen.foreign.push(url);
  });
  if (signedInAs) {
    await context.addInitScript((t) => sessionStorage.setItem('assetmap.token', t), signedInAs);
  }
  // the page hands its map to a receiver installed before it loads; the bundle itself
  // exposes nothing
  await context.addInitScript(() => {
    globalThis.__assetmapTest = (hooks) => {
      window.assetmap = hooks;
    };
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => seen.errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) seen.errors.push(m.text());
  });
  page.on('dialog', (d) => { seen.dialogs.push(d.message()); d.dismiss(); });
  return { context, page, seen };
}

/** What every test checks at its end: nothing left the origin, nothing was refused. */
async function finish({ context, seen }, allowed = []) {
  await context.close();
  assert.deepEqual(seen.foreign.filter((u) => !allowed.includes(u)), [], 'every request goes to the server\'s own origin');
  assert.deepEqual(seen.errors, [], 'no script errors and no Content-Security-Policy refusals');
  assert.deepEqual(seen.dialogs, [], 'no dialogs');
}

/**
 * Waits until the page's DOM has not changed for half a second (at most 10 s): axe
 * reads the tree in several passes, and a node that an editor (GraphiQL's CodeMirror)
 * replaces between them makes it fail on its own ("reading 'nthChild'").
 */
async function settled(page) {
  await page.evaluate(() => new Promise((resolve) => {
    const started = Date.now();
    let timer;
    const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, 500); });
    function done() {
      observer.disconnect();
      resolve();
    }
    observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    timer = setTimeout(done, 500);
    setTimeout(() => { if (Date.now() - started >= 10_000) done(); }, 10_000);
  }));
}

/** axe-core on the page as it is: no serious or critical WCAG 2.2 A/AA violations. */
async function axe(page, what) {
  await settled(page);
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`),
    [], `axe-core on ${what}`);
  return result;
}

async function shot(page, name, options = {}) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, ...options });
}

async function mapIdle(page) {
  await page.waitForFunction(() => {
    const map = window.assetmap?.map;
    return map?.loaded() && map.areTilesLoaded() && !map.isMoving();
  }, null, { timeout: 30_000 });
  // one more frame for the last tiles to be drawn
  await page.waitForTimeout(300);
}

/** Pixels of a PNG, counted in the browser: saturated (asset colours), the base layer's land, magenta. */
async function countPixels(page, png) {
  return page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    let saturated = 0;
    let land = 0;
    let magenta = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) saturated += 1;
      // the boroughs' fill, #f8f7f2
      if (Math.abs(r - 0xf8) < 4 && Math.abs(g - 0xf7) < 4 && Math.abs(b - 0xf2) < 4) land += 1;
      if (r > 240 && g < 15 && b > 240) magenta += 1;
    }
    return { saturated, land, magenta, total: data.length / 4 };
  }, png.toString('base64'));
}

async function search(page, { postcode, radius = '2000', needs = [] }) {
  await page.fill('#postcode', postcode);
  await page.selectOption('#radius', radius);
  for (const need of needs) await page.check(`#need-${need}`);
  await page.click('#search button[type=submit]');
  await page.waitForFunction(() => /result|Nothing matches|Please check|not/.test(document.getElementById('search-status').textContent));
}

async function resultNames(page) {
  return page.$$eval('#results .result-name', (nodes) => nodes.map((n) => n.textContent));
}

test('the map draws the assets over the boundaries, and a click on one opens its card', async () => {
  const t = await open();
  const { page } = t;
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-map-ready]');
  await mapIdle(page);
  const png = await page.locator('#map').screenshot();
  await shot(page, 'map');
  const pixels = await countPixels(page, png);
  assert.ok(pixels.land > pixels.total * 0.1, `the boroughs are drawn: ${JSON.stringify(pixels)}`);
  assert.ok(pixels.saturated > 2_000, `assets are drawn in colour: ${JSON.stringify(pixels)}`);
  await axe(page, 'the map');

  // closer in, assets are drawn one by one: click one
  await page.evaluate(([lon, lat]) => window.assetmap.map.jumpTo({ center: [lon, lat], zoom: 15 }), M2_5DW);
  await mapIdle(page);
  const target = await page.evaluate(() => {
    const map = window.assetmap.map;
    const features = map.queryRenderedFeatures({ layers: ['asset-points'] })
      .filter((f) => f.properties.id && f.properties.name);
    const { width, height } = map.getCanvas().getBoundingClientRect();
    for (const f of features) {
      const p = map.project(f.geometry.coordinates);
      if (p.x > 40 && p.y > 40 && p.x < width - 60 && p.y < height - 60) {
        return { name: f.properties.name, x: p.x, y: p.y };
      }
    }
    return null;
  });
  assert.ok(target, 'an asset is drawn near M2 5DW at zoom 15');
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + target.x, box.y + target.y);
  await page.waitForSelector('#card-box:not([hidden]) article h2');
  // several assets may share a spot: the card is one of those under the pointer
  const heading = await page.textContent('#card-box article h2');
  const under = await page.evaluate(({ x, y }) => window.assetmap.map
    .queryRenderedFeatures([x, y], { layers: ['asset-points'] }).map((f) => f.properties.name), target);
  assert.ok(under.includes(heading), `the card (${heading}) is an asset under the click (${under})`);
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H2', 'focus moves to the card');
  await shot(page, 'map-card');
  await axe(page, 'a card on the map');
  await finish(t);
});

test('a search by postcode lists the assets nearest first, as the API orders them', async () => {
  const names = ['Browser befriending 120 m', 'Browser befriending 450 m', 'Browser befriending 800 m'];
  for (const [i, m] of [120, 450, 800].entries()) {
    await createAsset({ kind: 'COMMUNITY_GROUP', name: names[i], geometry: north(m), categories: ['befriending'] });
  }
  const t = await open();
  const { page } = t;
  await page.goto(`${base}/`);
  await page.waitForSelector('#need-befriending');
  await search(page, { postcode: 'm2 5dw', radius: '1000', needs: ['befriending'] });
  const shown = await resultNames(page);
  const expected = (await api(`{ nearbyAssets(near: {postcode: "M2 5DW"}, radiusMeters: 1000,
    filter: {categories: ["befriending"]}, first: 50) { edges { node { name } } } }`, {}, null))
    .nearbyAssets.edges.map((e) => e.node.name);
  assert.deepEqual(shown, expected);
  const ours = shown.filter((n) => names.includes(n));
  assert.deepEqual(ours, names, 'the three test assets, nearest first');
  const distances = await page.$$eval('#results .meta', (nodes) => nodes.map((n) => {
    const [, value, unit] = n.textContent.match(/([\d.]+) (k?m)$/);
    return Number(value) * (unit === 'km' ? 1000 : 1);
  }));
  assert.deepEqual([...distances].sort((a, b) => a - b), distances, 'distances never decrease');
  const reasons = await page.textContent('#results');
  assert.match(reasons, /Befriending/, 'each result says why it matched');
  await mapIdle(page);
  await shot(page, 'search-postcode');
  await axe(page, 'search results');

  // an unknown postcode is a sentence, not a failure
  await search(page, { postcode: 'ZZ9 9ZZ' });
  assert.match(await page.textContent('#search-status'), /postcode/i);
  assert.deepEqual(await resultNames(page), []);
  await finish(t);
});

test('a click on the map searches around that point', async () => {
  const t = await open();
  const { page } = t;
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-map-ready]');
  // Piccadilly Gardens at zoom 17: a spot between assets, not on one
  await page.evaluate(() => window.assetmap.map.jumpTo({ center: [-2.2366, 53.4809], zoom: 17 }));
  await mapIdle(page);
  const spot = await page.evaluate(() => {
    const map = window.assetmap.map;
    const { width, height } = map.getCanvas().getBoundingClientRect();
    for (let y = 60; y < height - 60; y += 20) {
      for (let x = 60; x < width - 60; x += 20) {
        const near = map.queryRenderedFeatures([[x - 12, y - 12], [x + 12, y + 12]],
          { layers: ['asset-points', 'asset-lines', 'asset-areas', 'asset-clusters'] });
        if (!near.length) return { x, y };
      }
    }
    return null;
  });
  assert.ok(spot, 'an empty spot on the map');
  const box = await page.locator('#map').boundingBox();
  await page.evaluate(() => window.assetmap.map.once('click', (e) => { window.clickedAt = e.lngLat.toArray(); }));
  await page.mouse.click(box.x + spot.x, box.y + spot.y);
  await page.waitForFunction(() => /result|Nothing matches/.test(document.getElementById('search-status').textContent));
  const [lon, lat] = await page.evaluate(() => window.clickedAt);
  const expected = (await api(`query($lon: Float!, $lat: Float!) { nearbyAssets(near: {lon: $lon, lat: $lat},
    radiusMeters: 2000, first: 50) { edges { node { name } } } }`, { lon, lat }, null)).nearbyAssets.edges.map((e) => e.node.name);
  assert.ok(expected.length > 0);
  assert.deepEqual(await resultNames(page), expected);
  // the results are marked on the map, inside the search's circle (zoomed out to see it all)
  await page.evaluate(([x, y]) => window.assetmap.map.jumpTo({ center: [x, y], zoom: 12 }), [lon, lat]);
  await mapIdle(page);
  const drawn = await page.evaluate(() => ({
    results: new Set(window.assetmap.map.queryRenderedFeatures({ layers: ['search-results'] }).map((f) => f.properties.id)).size,
    rings: window.assetmap.map.queryRenderedFeatures({ layers: ['search-radius'] }).length,
  }));
  assert.ok(drawn.results > 0, `results marked: ${JSON.stringify(drawn)}`);
  assert.ok(drawn.rings > 0, 'the 2 km circle is drawn');
  await shot(page, 'search-click');
  await finish(t);
});

test('shortlist: a link worker picks results, the resident opens /s/{code} without signing in', async () => {
  const t = await open();
  const { page } = t;
  await page.goto(`${base}/`);
  // sign in through the form: a wrong token first, told as a sentence
  await page.click('#signin summary');
  await page.fill('#token', 'amt_not_a_real_token');
  await page.click('#signin-form button');
  await page.waitForFunction(() => /not accepted/.test(document.getElementById('who').textContent));
  assert.ok(await page.isHidden('#signout'));
  await page.fill('#token', linkWorkerToken);
  await page.click('#signin-form button');
  await page.waitForFunction(() => /Signed in/.test(document.getElementById('who').textContent));
  await search(page, { postcode: 'M2 5DW', radius: '1000', needs: ['befriending'] });
  const picks = await page.$$('#results input[type=checkbox]');
  assert.ok(picks.length >= 3);
  const chosen = [];
  for (const box of picks.slice(0, 3)) {
    await box.check();
    chosen.push((await box.getAttribute('id')).replace('pick-', ''));
  }
  const chosenNames = (await resultNames(page)).slice(0, 3);
  await page.fill('#shortlist-note', 'Tuesday mornings suit you best.');
  await page.click('#make-shortlist');
  await page.waitForSelector('#shortlist-made .code');
  const code = await page.textContent('#shortlist-made .code');
  const href = await page.getAttribute('#shortlist-made .shortlist-link', 'href');
  assert.equal(href, `/s/${encodeURIComponent(code)}`);
  await page.locator('#shortlist-made').scrollIntoViewIfNeeded();
  await shot(page, 'shortlist-created');
  await axe(page, 'a shortlist just made');
  await finish(t);

  // one of them closes after the shortlist was made
  const [, , closing] = chosen;
  await api('mutation($id: ID!) { archiveAsset(id: $id, expectedVersion: 1) { status } }', { id: closing });

  // the resident, on a phone, with no token
  const r = await open(null, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await r.page.goto(`${base}${href}`);
  await r.page.waitForSelector('ol.items article');
  const cards = await r.page.$$eval('ol.items article h2', (nodes) => nodes.map((n) => n.textContent));
  assert.deepEqual(cards, chosenNames);
  assert.match(await r.page.textContent('body'), /Tuesday mornings suit you best\./);
  const archived = await r.page.$$eval('ol.items article', (nodes) => nodes.map((n) => /Archived/.test(n.textContent)));
  assert.deepEqual(archived, [false, false, true]);
  // what the phone downloaded, as sent (compressed): under 100 KB
  let bytes = 0;
  for (const request of r.seen.requests) {
    const sizes = await request.sizes();
    bytes += sizes.responseBodySize + sizes.responseHeadersSize;
  }
  assert.ok(bytes < 100_000, `the resident's page weighs ${bytes} bytes`);
  console.log(`# resident's page: ${bytes} bytes over ${r.seen.requests.length} requests`);
  await shot(r.page, 'resident-shortlist', { fullPage: true });
  await axe(r.page, 'the resident\'s shortlist');

  // a wrong code is a sentence
  await r.page.goto(`${base}/s/NOPE-NOPE`);
  await r.page.waitForFunction(() => /not found/.test(document.getElementById('status').textContent));
  await finish(r);
});

async function openEditor(page, name) {
  await page.goto(`${base}/`);
  await page.waitForSelector(`#mine-list button:text-is("${name}")`);
  await page.click(`#mine-list button:text-is("${name}")`);
  await page.waitForFunction((n) => document.getElementById('editor-heading').textContent === `Edit ${n}`, name);
}

async function saved(page, pattern) {
  await page.waitForFunction((p) => new RegExp(p).test(document.getElementById('editor-message').textContent), pattern.source);
}

test('the editor: save opening hours; a second editor saves first and the first sees the conflict', async () => {
  const org = (await api('mutation { createOrganization(input: {name: "Browser Walking Group", trusted: true}) { id } }')).createOrganization.id;
  const name = 'Browser walk from the library';
  const { id } = await createAsset({ kind: 'ACTIVITY', name, geometry: north(200), organizationId: org, openingHours: 'Mo 10:00-12:00' });
  const editor = token('editor', 'Browser tests (walking group)', [org]);
  const a = await open(editor);
  const b = await open(editor);
  await openEditor(a.page, name);
  await openEditor(b.page, name);
  await axe(a.page, 'the editor');

  await a.page.fill('#ed-openingHours', 'Tu 10:00-12:00');
  await b.page.fill('#ed-openingHours', 'We 10:00-12:00');
  await b.page.click('#editor button[type=submit]');
  await saved(b.page, /Saved/);
  await a.page.click('#editor button[type=submit]');
  await a.page.waitForSelector('#conflict:not([hidden]) table');
  const table = await a.page.textContent('#conflict table');
  assert.match(table, /Tu 10:00-12:00/);
  assert.match(table, /We 10:00-12:00/);
  assert.doesNotMatch(await a.page.textContent('#editor-box'), /\bnull\b|undefined/);
  await shot(a.page, 'editor-conflict');
  await axe(a.page, 'the editor showing a conflict');
  await a.page.click('#redo-edit');
  assert.equal(await a.page.inputValue('#ed-openingHours'), 'Tu 10:00-12:00');
  await a.page.click('#editor button[type=submit]');
  await saved(a.page, /Saved/);
  const { asset } = await api('query($id: ID!) { asset(id: $id) { openingHours version } }', { id });
  assert.deepEqual(asset, { openingHours: 'Tu 10:00-12:00', version: 3 });

  // the API's refusal, as a sentence a volunteer understands
  await a.page.fill('#ed-openingHours', 'whenever we feel like it');
  await a.page.click('#editor button[type=submit]');
  await saved(a.page, /Please check the opening hours/);
  await shot(a.page, 'editor-invalid-hours');

  // move the point with the map: choose "Move", click the map
  await a.page.fill('#ed-openingHours', 'Tu 10:00-12:00');
  await a.page.click('#ed-draw');
  const mapBox = await a.page.locator('#map').boundingBox();
  await a.page.evaluate(() => window.assetmap.map.once('click', (e) => { window.clickedAt = e.lngLat.toArray(); }));
  await a.page.mouse.click(mapBox.x + mapBox.width / 2, mapBox.y + mapBox.height / 2);
  const clicked = await a.page.evaluate(() => window.clickedAt);
  await a.page.click('#editor button[type=submit]');
  await saved(a.page, /Saved/);
  const moved = (await api('query($id: ID!) { asset(id: $id) { geometry version } }', { id })).asset;
  assert.equal(moved.version, 4);
  assert.ok(Math.abs(moved.geometry.coordinates[0] - clicked[0]) < 1e-4 && Math.abs(moved.geometry.coordinates[1] - clicked[1]) < 1e-4,
    `moved to the click: ${JSON.stringify(moved.geometry)} vs ${clicked}`);
  await finish(a);
  await finish(b);
});

test('the editor redraws a walking route on the map', async () => {
  const org = (await api('mutation { createOrganization(input: {name: "Browser Ramblers", trusted: true}) { id } }')).createOrganization.id;
  const name = 'Browser canal walk';
  const line = { type: 'LineString', coordinates: [[-2.25, 53.475], [-2.245, 53.476]] };
  const { id } = await createAsset({ kind: 'WALKING_ROUTE', name, geometry: line, organizationId: org });
  const t = await open(token('editor', 'Browser tests (ramblers)', [org]));
  const { page } = t;
  await openEditor(page, name);
  assert.ok(await page.isHidden('#ed-point'), 'a route has no coordinates to type');
  await page.click('#ed-draw');
  const box = await page.locator('#map').boundingBox();
  const clicks = [[0.3, 0.5], [0.5, 0.4], [0.7, 0.55]];
  const clicked = [];
  for (const [fx, fy] of clicks) {
    await page.evaluate(() => window.assetmap.map.once('click', (e) => { window.clickedAt = e.lngLat.toArray(); }));
    await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    clicked.push(await page.evaluate(() => window.clickedAt));
  }
  await page.click('#ed-draw-done');
  await shot(page, 'editor-route');
  await page.click('#editor button[type=submit]');
  await saved(page, /Saved/);
  const { asset } = await api('query($id: ID!) { asset(id: $id) { geometry version } }', { id });
  assert.equal(asset.version, 2);
  assert.equal(asset.geometry.type, 'LineString');
  assert.equal(asset.geometry.coordinates.length, 3);
  asset.geometry.coordinates.forEach(([lon, lat], i) => {
    assert.ok(Math.abs(lon - clicked[i][0]) < 1e-5 && Math.abs(lat - clicked[i][1]) < 1e-5, `point ${i}`);
  });
  await finish(t);
});

test('an untrusted group\'s edit waits for a moderator, and the editor says so', async () => {
  const org = (await api('mutation { createOrganization(input: {name: "Browser New Group", trusted: false}) { id } }')).createOrganization.id;
  const name = 'Browser craft afternoon';
  const { id } = await createAsset({ kind: 'ACTIVITY', name, geometry: north(300), organizationId: org });
  const t = await open(token('editor', 'Browser tests (new group)', [org]));
  await openEditor(t.page, name);
  await t.page.fill('#ed-description', 'Knitting and tea, all welcome.');
  await t.page.click('#editor button[type=submit]');
  await saved(t.page, /waits for a moderator/);
  await shot(t.page, 'editor-waits-for-moderator');
  const { asset } = await api('query($id: ID!) { asset(id: $id) { description version pendingChanges { id } } }', { id });
  assert.deepEqual(asset, { description: null, version: 1, pendingChanges: [asset.pendingChanges[0]] });
  await finish(t);
});

test('hostile listings: script and markup in a name, description and opening hours are shown as text', async () => {
  const hostile = {
    name: '<img src=x onerror="window.__xss=1">Hostile café',
    description: '<script>window.__xss=1</script><b>bold?</b> <a href="javascript:window.__xss=1">click</a>',
    openingHours: 'Mo-Su 00:00-24:00 "<img src=x onerror=window.__xss=1>"',
  };
  const { id } = await createAsset({ kind: 'VENUE', geometry: north(60), categories: ['befriending'], ...hostile });
  const t = await open(linkWorkerToken);
  const { page } = t;
  await page.goto(`${base}/`);
  await page.waitForSelector('#need-befriending');
  await search(page, { postcode: 'M2 5DW', radius: '500', needs: ['befriending'] });
  await page.click(`#results button:text-is('${hostile.name}')`);
  await page.waitForSelector('#card-box:not([hidden]) article');
  const card = page.locator('#card-box article');
  assert.equal(await card.locator('h2').textContent(), hostile.name);
  assert.equal(await card.locator('.description').textContent(), hostile.description);
  assert.equal(await card.locator('.hours').textContent(), hostile.openingHours);
  assert.equal(await card.locator('img, script, b, a[href^="javascript"]').count(), 0, 'no markup from the listing');
  await shot(page, 'hostile-card');
  // and on the resident's page
  await page.click('#card-back');
  await page.check(`#pick-${id}`);
  await page.click('#make-shortlist');
  await page.waitForSelector('#shortlist-made .shortlist-link');
  await page.click('#shortlist-made .shortlist-link');
  await page.waitForSelector('ol.items article');
  assert.equal(await page.textContent('ol.items article h2'), hostile.name);
  assert.equal(await page.locator('ol.items article').locator('img, script, b').count(), 0);
  assert.doesNotMatch(await page.textContent('body'), /\bnull\b|undefined/, 'a shortlist with no note shows none');
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing the listing carried ran');
  await shot(page, 'hostile-resident', { fullPage: true });
  await finish(t);
});

test('the map shows an edit as it happens (live changes, tiles revalidated by ETag)', async () => {
  const spot = [-2.2005, 53.5012];
  const { id } = await createAsset({ kind: 'VENUE', name: 'Browser live venue', geometry: { type: 'Point', coordinates: spot } });
  const t = await open();
  const { page } = t;
  const tileStatuses = [];
  page.on('response', (r) => { if (r.url().includes('/tiles/')) tileStatuses.push(r.status()); });
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-map-ready]');
  await page.evaluate((c) => window.assetmap.map.jumpTo({ center: c, zoom: 16 }), spot);
  await mapIdle(page);
  const names = () => page.evaluate(() => window.assetmap.map
    .queryRenderedFeatures({ layers: ['asset-points'] }).map((f) => f.properties.name));
  assert.ok((await names()).includes('Browser live venue'));
  const before = tileStatuses.length;
  await api('mutation($id: ID!) { updateAsset(id: $id, expectedVersion: 1, input: {name: "Browser live venue, renamed"}) { version } }', { id });
  await page.waitForFunction(() => window.assetmap.map
    .queryRenderedFeatures({ layers: ['asset-points'] }).some((f) => f.properties.name === 'Browser live venue, renamed'),
  null, { timeout: 10_000 });
  assert.ok(tileStatuses.length > before, 'the tiles were asked for again');
  await finish(t);
});

test('keyboard only: skip to the search, search, open a card, come back', async () => {
  const t = await open();
  const { page } = t;
  await page.goto(`${base}/`);
  await page.waitForSelector('#need-befriending');
  const focused = () => page.evaluate(() => {
    const a = document.activeElement;
    return a.id || a.className || a.tagName;
  });
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'skip', 'the first Tab reaches "Skip to the search"');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'postcode');
  await page.keyboard.type('M2 5DW');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /result/.test(document.getElementById('search-status').textContent));
  assert.equal(await focused(), 'search-status', 'focus moves to the results');
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => document.activeElement.textContent);
  assert.equal(first, (await resultNames(page))[0], 'the next Tab is the first result');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#card-box:not([hidden]) article h2');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), first, 'focus is on the card\'s heading');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'card-back');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), first, 'back on the result it came from');
  await finish(t);
});

test('a council\'s basemap: the map draws its style under the assets', async () => {
  // the council's style, served from another origin
  const style = {
    version: 8, sources: {},
    layers: [{ id: 'council-background', type: 'background', paint: { 'background-color': '#ff00ff' } }],
  };
  const styleServer = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
    res.end(JSON.stringify(style));
  });
  await new Promise((r) => styleServer.listen(0, '127.0.0.1', r));
  const styleUrl = `http://127.0.0.1:${styleServer.address().port}/style.json`;
  const port = await freePort();
  const council = spawn(BIN, ['--bind', `127.0.0.1:${port}`, '--basemap-style', styleUrl], {
    env: { ...process.env, RUST_LOG: 'warn' }, stdio: 'ignore',
  });
  try {
    await waitReady(`http://127.0.0.1:${port}`, 'the second server');
    const councilBase = `http://127.0.0.1:${port}`;
    const t = await open(null, {}, councilBase);
    const { page } = t;
    await page.goto(`${councilBase}/`);
    await page.waitForSelector('body[data-map-ready]');
    await page.evaluate((c) => window.assetmap.map.jumpTo({ center: c, zoom: 14 }), M2_5DW);
    await mapIdle(page);
    const png = await page.locator('#map').screenshot();
    await shot(page, 'basemap');
    const pixels = await countPixels(page, png);
    const magenta = pixels.magenta / pixels.total;
    assert.ok(magenta > 0.3, `the council's style is drawn: ${magenta}`);
    const assets = await page.evaluate(() => window.assetmap.map.queryRenderedFeatures({ layers: ['asset-points'] }).length);
    assert.ok(assets > 0, 'the assets are drawn over it');
    // the style is the one address elsewhere the page may ask
    assert.ok(t.seen.foreign.includes(styleUrl));
    await finish(t, [styleUrl]);
  } finally {
    council.kill('SIGTERM');
    styleServer.close();
  }
});

test('GraphiQL is served from the binary and runs a query', async () => {
  const t = await open();
  const { page } = t;
  await page.goto(`${base}/graphiql`);
  await page.waitForSelector('.graphiql-execute-button');
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => /distanceMeters/.test(document.querySelector('.result-window')?.textContent || ''));
  await shot(page, 'graphiql');
  await axe(page, 'GraphiQL');
  await finish(t);
});
