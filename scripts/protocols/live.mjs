// The graphql-ws reference client (and raw frames through `ws`) against the live
// endpoint at /graphql: subscribe, receive a change made through POST /graphql,
// complete, a refused token (4403), and the protocol's close codes for a subscription
// before acknowledgement (4401), a duplicate id (4409), a second connection_init (4429)
// and a message that is not the protocol's (4400).
//
//     node live.mjs http://127.0.0.1:PORT ADMIN_TOKEN
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, token] = process.argv.slice(2);
const wsUrl = `${base.replace('http', 'ws')}/graphql`;
const problems = [];
const check = (ok, what) => {
  console.log(`graphql-ws: ${ok ? 'ok' : 'FAILED'} ${what}`);
  if (!ok) problems.push(what);
};
const withTimeout = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, no) => setTimeout(() => no(new Error(`${what}: no answer in ${ms} ms`)), ms))]);

async function post(query, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

// 1. subscribe with the reference client, see a change, complete
{
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0 });
  const seen = new Promise((resolve, reject) => {
    const stop = client.subscribe(
      { query: 'subscription { assetChanged { state node { name } } }' },
      {
        next: (value) => {
          stop();
          resolve(value);
        },
        error: reject,
        complete: () => {},
      },
    );
  });
  // the subscription is running once the server acknowledged it; give it a moment
  await new Promise((r) => setTimeout(r, 300));
  const made = await post(
    'mutation($g: GeoJSON!) { createAsset(input: {kind: PARK, name: "Seen live", geometry: $g}) { id } }',
    { g: { type: 'Point', coordinates: [-2.3, 53.45] } },
  );
  check(!made.errors, 'a change made through POST /graphql');
  try {
    const value = await withTimeout(seen, 10000, 'the change');
    check(value?.data?.assetChanged?.node?.name === 'Seen live', 'the reference client received the change at /graphql');
  } catch (e) {
    check(false, `the reference client received the change at /graphql (${e.message ?? e})`);
  }
  await client.dispose();
}

// 2. a bad token is refused with 4403
{
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: { Authorization: 'Bearer amt_not-a-token' },
    // the refusal is what this checks: do not print it
    onNonLazyError: () => {},
  });
  const closed = new Promise((resolve) => client.on('closed', (event) => resolve(event.code)));
  client.subscribe({ query: 'subscription { assetChanged { state } }' }, { next() {}, error() {}, complete() {} });
  const code = await withTimeout(closed, 10000, 'the refusal').catch(() => null);
  check(code === 4403, `a bad token is refused with 4403 (got ${code})`);
  await client.dispose();
}

// 3. raw frames: the protocol's close codes
async function closeCodeOf(frames, what, expected) {
  const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
  const code = await withTimeout(
    new Promise((resolve, reject) => {
      ws.on('open', () => frames.forEach((f) => ws.send(typeof f === 'string' ? f : JSON.stringify(f))));
      ws.on('close', (c) => resolve(c));
      ws.on('error', reject);
    }),
    10000,
    what,
  ).catch(() => null);
  check(code === expected, `${what}: closed ${expected} (got ${code})`);
}
const sub = (id) => ({ id, type: 'subscribe', payload: { query: 'subscription { assetChanged { state } }' } });
await closeCodeOf([sub('1')], 'a subscription before connection_ack', 4401);
await closeCodeOf([{ type: 'connection_init' }, sub('1'), sub('1')], 'a duplicate subscription id', 4409);
await closeCodeOf([{ type: 'connection_init' }, { type: 'connection_init' }], 'a second connection_init', 4429);
await closeCodeOf(['{not json'], 'a frame that is not JSON', 4400);
await closeCodeOf([{ type: 'hello' }], 'an unknown message type', 4400);
await closeCodeOf([{ type: 'connection_init', payload: { token: 12345 } }], 'a token that is not a string', 4403);

console.log(`graphql-ws: ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
