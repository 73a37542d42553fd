// Talking to the API: one GraphQL request at a time, same origin, and the API's error
// codes as sentences a volunteer understands.

const TOKEN_KEY = 'assetmap.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An error from the API (or the network), with its code and a sentence to show. */
export class ApiError extends Error {
  constructor(code, message, extensions = {}) {
    super(message);
    this.code = code;
    this.extensions = extensions;
  }

  /** What to tell the person using the page. */
  get sentence() {
    return sentence(this.code, this.message, this.extensions);
  }
}

const FIELD_NAMES = {
  name: 'the name', description: 'the description', openingHours: 'the opening hours',
  website: 'the website', email: 'the email address', phone: 'the phone number',
  postcode: 'the postcode', address: 'the address', geometry: 'where it is on the map',
  costNote: 'the note about the cost', near: 'the postcode', radiusMeters: 'the distance',
  note: 'the note', assetIds: 'the chosen results',
};

export function sentence(code, message, extensions = {}) {
  const field = extensions.field && (FIELD_NAMES[extensions.field.split('.').pop()] || extensions.field);
  switch (code) {
    case 'INVALID_INPUT':
      return field ? `Please check ${field}: ${message}` : `Please check what you entered: ${message}`;
    case 'INVALID_GEOMETRY':
      return `The shape drawn on the map can't be used: ${message}`;
    case 'UNAUTHENTICATED':
      return 'Your token was not accepted (it may have been revoked). Sign in again with a current token.';
    case 'FORBIDDEN':
      return 'Your token does not allow this. Editors can change only their own organization\'s listings; shortlists need a link worker\'s token.';
    case 'CONFLICT':
      return 'Someone else changed this listing while you were editing it.';
    case 'NOT_FOUND':
      return message || 'That could not be found.';
    case 'RATE_LIMITED':
      return 'Too many requests just now. Wait a few seconds and try again.';
    case 'NETWORK':
      return 'The server could not be reached. Check the connection and try again; nothing you typed is lost.';
    default:
      return 'Something went wrong on the server. Nothing you typed is lost: try again in a minute.';
  }
}

/** Runs one GraphQL operation; resolves to its data or throws an ApiError. */
export async function gql(query, variables = {}) {
  const headers = { 'content-type': 'application/json' };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  let response;
  try {
    response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError('NETWORK', 'network error');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError('INTERNAL', `HTTP ${response.status}`);
  }
  const error = body.errors && body.errors[0];
  if (error) {
    const extensions = error.extensions || {};
    throw new ApiError(extensions.code || 'INTERNAL', error.message || '', extensions);
  }
  return body.data;
}

/** The fields a card shows. */
export const CARD_FIELDS = `
  id kind name description address postcode website email phone
  openingHours isOpen accessibility free costNote minAge maxAge
  lastVerifiedAt status categories { slug name } organization { id name }`;
