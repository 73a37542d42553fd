// The shapes of what the API answers, as the pages read them (see schema.graphql).

export type Position = [number, number];

/** An RFC 7946 geometry, (longitude, latitude). */
export type Geometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'MultiLineString'; coordinates: Position[][] }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] };

export interface Category {
  slug: string;
  name: string;
  parent?: { slug: string } | null;
}

export interface Organization {
  id: string;
  name: string;
  trusted?: boolean;
}

/** An asset as a card shows it (the fields of `CARD_FIELDS`, some optional). */
export interface Asset {
  id: string;
  kind: string;
  name: string;
  description?: string | null;
  address?: string | null;
  postcode?: string | null;
  website?: string | null;
  email?: string | null;
  phone?: string | null;
  openingHours?: string | null;
  isOpen?: boolean | null;
  accessibility?: string[];
  free?: boolean | null;
  costNote?: string | null;
  minAge?: number | null;
  maxAge?: number | null;
  lastVerifiedAt?: string | null;
  status?: string;
  categories?: Category[];
  organization?: Organization | null;
  geometry?: Geometry;
  version?: number;
}

export interface Reason {
  kind: string;
  detail: string;
}

/** A search result. */
export interface SearchEdge {
  distanceMeters: number;
  reasons: Reason[];
  node: Asset & { geometry: Geometry };
}

export interface Viewer {
  name: string;
  role: 'LINK_WORKER' | 'EDITOR' | 'MODERATOR' | 'ADMIN';
  organizations: Organization[];
}

/** What an error's `extensions` may hold. */
export interface ErrorExtensions {
  code?: string;
  field?: string;
  [key: string]: unknown;
}
