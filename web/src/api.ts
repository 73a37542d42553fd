// Talking to the API: one GraphQL request at a time, same origin, and the API's error
// codes as sentences a volunteer understands.

import type { ErrorExtensions } from './types.ts';

const TOKEN_KEY = 'assetmap.token';

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** An error from the API (or the network), with its code and a sentence to show. */
export class ApiError extends Error {
  code: string;
  extensions: ErrorExtensions;

  constructor(code: string, message: string, extensions: ErrorExtensions = {}) {
    super(message);
    this.code = code;
    this.extensions = extensions;
  }

  /** What to tell the person using the page. */
  get sentence(): string {
    return sentence(this.code, this.message, this.extensions);
  }
}

const FIELD_NAMES: Record<string, string> = {
  name: 'the name',
  description: 'the description',
  openingHours: 'the opening hours',
  website: 'the website',
  email: 'the email address',
  phone: 'the phone number',
  postcode: 'the postcode',
  address: 'the address',
  geometry: 'where it is on the map',
  costNote: 'the note about the cost',
  near: 'the postcode',
  radiusMeters: 'the distance',
  note: 'the note',
  assetIds: 'the chosen results',
};

export function sentence(code: string, message: string, extensions: ErrorExtensions = {}): string {
  const last = extensions.field?.split('.').pop();
  const field = last ? FIELD_NAMES[last] || extensions.field : undefined;
  switch (code) {
    case 'INVALID_INPUT':
      return field ? `Please check ${field}: ${message}` : `Please check what you entered: ${message}`;
    case 'INVALID_GEOMETRY':
      return `The shape drawn on the map can't be used: ${message}`;
    case 'UNAUTHENTICATED':
      return 'Your token was not accepted (it may have been revoked). Sign in again with a current token.';
    case 'FORBIDDEN':
      return "Your token does not allow this. Editors can change only their own organization's listings; shortlists need a link worker's token.";
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

/** What a failed request tells the person: the API's sentence, or `fallback`. */
export function said(error: unknown, fallback: string): string {
  return error instanceof ApiError ? error.sentence : fallback;
}

interface Answer<T> {
  data?: T;
  errors?: { message?: string; extensions?: ErrorExtensions }[];
}

/** Runs one GraphQL operation; resolves to its data or throws an ApiError. */
// biome-ignore lint/suspicious/noExplicitAny: the default for callers that read loosely
export async function gql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  let response: Response;
  try {
    response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError('NETWORK', 'network error');
  }
  let body: Answer<T>;
  try {
    body = await response.json();
  } catch {
    throw new ApiError('INTERNAL', `HTTP ${response.status}`);
  }
  const error = body.errors?.[0];
  if (error) {
    const extensions = error.extensions || {};
    throw new ApiError(extensions.code || 'INTERNAL', error.message || '', extensions);
  }
  return body.data as T;
}
