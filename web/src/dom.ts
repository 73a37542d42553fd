// Building pages from data. Listing fields are written by many hands: they only ever
// become text nodes (never HTML), and links only ever point at http(s), mailto or tel.

/** What `el` takes as a child: a node, text, or nothing (null, undefined, false). */
export type Child = Node | string | number | null | undefined | false;
export type Children = Child | Child[];

/** Attributes: `class`, `on*` listeners, `href` (checked), or anything as text. */
export type Attrs = Record<string, unknown>;

/** An element with attributes and children; strings become text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Children[]
): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Attrs, ...children: Children[]): HTMLElement;
export function el(tag: string, attrs: Attrs = {}, ...children: Children[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') node.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value as EventListener);
    else if (key === 'href') {
      const safe = safeHref(value);
      if (safe) node.setAttribute('href', safe);
    } else if (key === 'checked' && node instanceof HTMLInputElement) node.checked = Boolean(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

/** Appends children, skipping null, undefined and false (nested arrays flattened once). */
export function append(node: Node, ...children: Children[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** The link if it is one a page may follow, else null. */
export function safeHref(href: unknown): string | null {
  if (typeof href !== 'string') return null;
  if (href.startsWith('/') && !href.startsWith('//')) return href;
  try {
    const url = new URL(href);
    return ['http:', 'https:', 'mailto:', 'tel:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

export function clear<T extends Node>(node: T): T {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

/** The element with this id; a page that lacks it is a bug in the page. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

/** The input (or select, or textarea) with this id. */
export function input(id: string): HTMLInputElement {
  return byId<HTMLInputElement>(id);
}
