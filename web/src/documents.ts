// Every GraphQL document the pages send, in one place: `build.mjs` validates each
// against ../schema.graphql (graphql-js `validate`), so a field the schema lacks fails
// the build, not a person using the page.

/** The fields a card shows. */
export const CARD_FIELDS = `
  id kind name description address postcode website email phone
  openingHours isOpen accessibility free costNote minAge maxAge
  lastVerifiedAt status categories { slug name } organization { id name }`;

/** The fields the listing editor reads and writes. */
export const EDITOR_FIELDS = `id name kind description openingHours address postcode website phone email free costNote
  accessibility geometry version status organization { id name trusted }`;

export const VIEWER = '{ viewer { name role organizations { id name trusted } } }';

export const CATEGORIES = '{ categories { slug name parent { slug } } }';

export const SEARCH = `query Search($near: LonLatInput!, $radius: Float!, $filter: AssetFilter, $first: Int) {
  nearbyAssets(near: $near, radiusMeters: $radius, filter: $filter, first: $first) {
    edges { distanceMeters reasons { kind detail } node { ${CARD_FIELDS} geometry } }
  } }`;

export const CREATE_SHORTLIST =
  'mutation CreateShortlist($ids: [ID!]!, $note: String) { createShortlist(assetIds: $ids, note: $note) { code expiresAt } }';

export const CARD = `query Card($id: ID!) { asset(id: $id) { ${CARD_FIELDS} } }`;

export const MY_LISTINGS = `query MyListings { viewer { organizations { id name trusted
  assets(first: 100) { edges { node { id name kind status } } } } } }`;

export const EDITOR_ASSET = `query EditorAsset($id: ID!) { asset(id: $id) { ${EDITOR_FIELDS} } }`;

export const UPDATE_ASSET = `mutation UpdateAsset($id: ID!, $v: Int!, $input: UpdateAssetInput!) {
  updateAsset(id: $id, expectedVersion: $v, input: $input) { ${EDITOR_FIELDS} pendingChanges { id } } }`;

export const SHORTLIST = `query Shortlist($code: String!) { shortlist(code: $code) {
  code note createdAt expiresAt items { archived asset { ${CARD_FIELDS} } } } }`;

export const CHANGES = 'subscription Changes { assetChanged { position } }';
