// An asset's card: what a link worker reads out and a resident keeps. Shared by the
// map and the resident's shortlist page.
import { type Children, el } from './dom.ts';
import { ACCESSIBILITY, KINDS } from './labels.ts';
import type { Asset } from './types.ts';

const dateFormat = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });

function row(term: string, ...detail: Children[]): HTMLElement[] {
  return [el('dt', {}, term), el('dd', {}, ...detail)];
}

function ages(a: Asset): string | null {
  if (a.minAge != null && a.maxAge != null) return `${a.minAge} to ${a.maxAge}`;
  if (a.minAge != null) return `${a.minAge} and over`;
  if (a.maxAge != null) return `up to ${a.maxAge}`;
  return null;
}

function cost(a: Asset): string {
  const parts: string[] = [];
  if (a.free === true) parts.push('Free');
  if (a.free === false) parts.push('Costs something');
  if (a.costNote) parts.push(a.costNote);
  return parts.length ? parts.join('. ') : 'Not known';
}

function openNow(a: Asset): HTMLElement | null {
  if (a.isOpen === true) return el('strong', { class: 'open' }, 'Open now');
  if (a.isOpen === false) return el('strong', { class: 'closed' }, 'Closed now');
  return null;
}

export interface CardOptions {
  /** The heading level (default 2). */
  heading?: number;
  /** More nodes after the heading (a distance, reasons). */
  extra?: Node | null;
  /** The asset was taken off the map. */
  archived?: boolean;
}

/** The card as an `<article>`. */
export function card(a: Asset, options: CardOptions = {}): HTMLElement {
  const level = options.heading || 2;
  const headingId = `card-${a.id}`;
  const archived = options.archived || a.status === 'ARCHIVED';
  const contact = [
    a.phone && el('li', {}, 'Phone: ', el('a', { href: `tel:${a.phone.replace(/[^0-9+]/g, '')}` }, a.phone)),
    a.email && el('li', {}, 'Email: ', el('a', { href: `mailto:${a.email}` }, a.email)),
    a.website && el('li', {}, 'Website: ', el('a', { href: a.website, rel: 'noopener noreferrer' }, a.website)),
  ].filter((x): x is HTMLLIElement => Boolean(x));
  const where = [a.address, a.postcode].filter(Boolean).join(', ');
  const access = (a.accessibility || []).map((f) => el('li', {}, ACCESSIBILITY[f] || f));
  const age = ages(a);
  return el(
    'article',
    { class: archived ? 'card archived' : 'card', 'aria-labelledby': headingId },
    el(`h${level}`, { id: headingId, tabindex: '-1' }, a.name),
    el('p', { class: 'kind' }, KINDS[a.kind] || a.kind, a.organization ? ` · ${a.organization.name}` : ''),
    archived ? el('p', { class: 'notice' }, 'Archived: this place has been taken off the map and may have closed.') : null,
    options.extra || null,
    a.description ? el('p', { class: 'description' }, a.description) : null,
    el(
      'dl',
      {},
      where ? row('Where', where) : null,
      row('Opening hours', a.openingHours ? [openNow(a), ' ', el('span', { class: 'hours' }, a.openingHours)] : 'Not known'),
      row('Cost', cost(a)),
      age ? row('Ages', age) : null,
      row('Accessibility', access.length ? el('ul', {}, access) : 'Not known'),
      contact.length ? row('Contact', el('ul', {}, contact)) : null,
      a.categories?.length ? row('Good for', a.categories.map((c) => c.name).join(', ')) : null,
      row('Last checked', a.lastVerifiedAt ? dateFormat.format(new Date(a.lastVerifiedAt)) : 'Never confirmed by its organization'),
    ),
  );
}
