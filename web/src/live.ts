// Edits as they happen: a `graphql-transport-ws` subscription to the change log. Each
// change tells the map to ask for its tiles again (their ETags say which changed).
// Reconnects with a growing pause when the connection drops.

import { CHANGES } from './documents.ts';

export function onChanges(handler: () => void): void {
  let pause = 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let connectedBefore = false;
  const changed = (): void => {
    // a bulk import sends thousands: draw once they settle
    clearTimeout(timer);
    timer = setTimeout(handler, 300);
  };
  function connect(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/graphql`, 'graphql-transport-ws');
    ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    ws.addEventListener('message', (event: MessageEvent<string>) => {
      let message: { type?: string };
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === 'connection_ack') {
        pause = 1000;
        ws.send(JSON.stringify({ id: 'changes', type: 'subscribe', payload: { query: CHANGES } }));
        // whatever changed while we were away
        if (connectedBefore) changed();
        connectedBefore = true;
      } else if (message.type === 'next') {
        changed();
      } else if (message.type === 'ping') {
        ws.send(JSON.stringify({ type: 'pong' }));
      }
    });
    ws.addEventListener('close', () => {
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, 60_000);
    });
  }
  connect();
}
