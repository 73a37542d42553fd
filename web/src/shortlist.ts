// The resident's page, /s/{code}: the shortlist a link worker made, readable on a
// phone and printable, with no sign-in. Small on purpose (no map library).
import './shortlist.css';
import { gql, said } from './api.ts';
import { card } from './card.ts';
import { SHORTLIST } from './documents.ts';
import { append, byId, clear, el } from './dom.ts';
import type { Asset } from './types.ts';

interface Shortlist {
  code: string;
  note: string | null;
  createdAt: string;
  expiresAt: string;
  items: { archived: boolean; asset: Asset }[];
}

const root = byId('shortlist');
const code = decodeURIComponent(location.pathname.replace(/^\/s\//, '').replace(/\/$/, ''));
const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });

async function show(): Promise<void> {
  const status = byId('status');
  try {
    const { shortlist } = await gql<{ shortlist: Shortlist | null }>(SHORTLIST, { code });
    if (!shortlist) {
      status.textContent =
        'This shortlist was not found: the code may be mistyped, or it has expired. Ask the person who gave it to you for a new one.';
      return;
    }
    append(
      clear(root),
      el('h1', {}, 'Your shortlist'),
      el('p', { class: 'meta' }, `Code ${shortlist.code} · made ${day.format(new Date(shortlist.createdAt))} · works until ${day.format(new Date(shortlist.expiresAt))}`),
      shortlist.note ? el('p', { class: 'note' }, shortlist.note) : null,
      el('button', { type: 'button', class: 'print', onclick: () => window.print() }, 'Print this list'),
      el(
        'ol',
        { class: 'items' },
        shortlist.items.map((item) => el('li', {}, card(item.asset, { heading: 2, archived: item.archived }))),
      ),
    );
    document.title = `Your shortlist ${shortlist.code}: Assetmap`;
  } catch (e) {
    status.textContent = said(e, 'The shortlist could not be loaded.');
  }
}

show();
