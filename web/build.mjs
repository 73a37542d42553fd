// Builds the pages the binary serves into dist/, which is committed: the README's
// first command then needs nothing but Rust. `./build` runs this after `npm ci`; CI
// runs it too and fails if dist/ changes. Output depends only on the sources and the
// versions pinned in package-lock.json (no timestamps, no absolute paths).
import { build } from 'esbuild';
import { buildSchema, parse, validate } from 'graphql';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';

// Every GraphQL document the pages send (src/documents.ts) against the schema the
// server serves (../schema.graphql): a field the schema lacks fails here, not in a
// person's browser. The `*_FIELDS` selections are checked inside the documents that
// use them.
{
  const bundled = await build({
    entryPoints: ['src/documents.ts'], bundle: true, format: 'esm', write: false, platform: 'neutral',
    absWorkingDir: new URL('.', import.meta.url).pathname, logLevel: 'warning',
  });
  const source = Buffer.from(bundled.outputFiles[0].text).toString('base64');
  const documents = await import(`data:text/javascript;base64,${source}`);
  const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
  let invalid = 0;
  let checked = 0;
  for (const [name, text] of Object.entries(documents)) {
    if (name.endsWith('_FIELDS')) continue;
    let errors;
    try {
      errors = validate(schema, parse(text));
    } catch (e) {
      errors = [e];
    }
    checked += 1;
    for (const e of errors) {
      invalid += 1;
      console.error(`web/build: the document ${name} in src/documents.ts: ${e.message}`);
    }
  }
  if (invalid) process.exit(1);
  console.log(`web/build: ${checked} GraphQL documents valid against schema.graphql`);
}

const dist = new URL('./dist/', import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  target: ['es2022', 'chrome111', 'firefox115', 'safari16.4'],
  legalComments: 'external',
  logLevel: 'warning',
  charset: 'utf8',
  absWorkingDir: new URL('.', import.meta.url).pathname,
};

await build({
  ...common,
  // the map (MapLibre is an ES module; its worker is loaded beside it, same origin)
  entryPoints: { app: 'src/app.ts', shortlist: 'src/shortlist.ts' },
  format: 'esm',
  outdir: dist,
  loader: { '.css': 'css' },
});
await build({
  ...common,
  entryPoints: { graphiql: 'src/graphiql.tsx' },
  loader: { '.css': 'css' },
  format: 'iife',
  outdir: dist,
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
});
copyFileSync('node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs', `${dist}maplibre-gl-worker.mjs`);
for (const page of ['index.html', 'shortlist.html', 'graphiql.html']) {
  copyFileSync(`src/${page}`, `${dist}${page}`);
}
// the bundled packages' licence notices, in one file the server publishes
const legal = readdirSync(dist).filter((f) => f.endsWith('.LEGAL.txt')).sort();
writeFileSync(`${dist}licenses.txt`, legal.map((f) => `# ${f.replace('.LEGAL.txt', '')}\n\n${readFileSync(`${dist}${f}`, 'utf8')}`).join('\n'));
for (const f of legal) rmSync(`${dist}${f}`);

// what a browser downloads, for the README and the budget (1 MB for the map, 100 KB
// for the resident's page), gzip-compressed as the server sends it
const sizes = {};
for (const f of readdirSync(dist).sort()) {
  const raw = readFileSync(`${dist}${f}`);
  sizes[f] = { bytes: statSync(`${dist}${f}`).size, gzip: gzipSync(raw, { level: 9 }).length };
}
for (const [f, s] of Object.entries(sizes)) {
  console.log(`${f.padEnd(32)} ${String(s.bytes).padStart(9)} B  ${String(s.gzip).padStart(8)} B gzip`);
}
