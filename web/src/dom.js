// Building pages from data. Listing fields are written by many hands: they only ever
// become text nodes (never HTML), and links only ever point at http(s), mailto or tel.

/** An element with attributes and children; strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'href') {
      const safe = safeHref(value);
      if (safe) node.setAttribute('href', safe);
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

/** Appends children, skipping null, undefined and false (nested arrays flattened once). */
export function append(node, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** The link if it is one a page may follow, else null. */
export function safeHref(href) {
  if (typeof href !== 'string') return null;
  if (href.startsWith('/') && !href.startsWith('//')) return href;
  try {
    const url = new URL(href);
    return ['http:', 'https:', 'mailto:', 'tel:'].includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}
