// GraphiQL, bundled: the explorer works with no internet at all. It reads the schema
// from the server's SDL (GET /schema.graphql) rather than introspecting: the API's depth
// limit is lower than GraphiQL's introspection query needs.
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { type GraphQLSchema, buildSchema } from 'graphql';
import './graphiql.css';

async function fetcher(params: unknown, options: { headers?: Record<string, string> } = {}): Promise<unknown> {
  const headers = { 'content-type': 'application/json', ...(options.headers || {}) };
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(params) });
  return response.json();
}

const DEFAULT_QUERY = `# Community assets within 1 km of Manchester Piccadilly, nearest first.
# To act as a link worker or an editor, add a header below:
# {"Authorization": "Bearer <your token>"}
{
  nearbyAssets(near: {lon: -2.2309, lat: 53.4774}, radiusMeters: 1000, first: 5) {
    edges {
      distanceMeters
      reasons { detail }
      node { name kind openingHours isOpen }
    }
  }
}
`;

// CodeMirror's editors have no labels, and their scrolling areas cannot be reached
// by keyboard: name each by its pane and let it take focus.
const EDITORS = [
  ['.graphiql-query-editor', 'Query editor'],
  ['.graphiql-editor-tool [aria-label="Variables"], .graphiql-editor-tool .graphiql-editor:not(.hidden)', 'Variables or headers editor'],
  ['.graphiql-response', 'Response'],
];

function label(): void {
  for (const area of document.querySelectorAll('.CodeMirror textarea:not([aria-label])')) {
    const named = EDITORS.find(([selector]) => area.closest(selector));
    area.setAttribute('aria-label', named ? named[1] : 'Editor');
  }
  // CodeMirror gives them tabindex -1
  for (const scroll of document.querySelectorAll('.CodeMirror-scroll:not([tabindex="0"])')) {
    scroll.setAttribute('tabindex', '0');
  }
}

new MutationObserver(label).observe(document.body, { childList: true, subtree: true });

async function start(): Promise<void> {
  let schema: GraphQLSchema | null = null;
  try {
    const response = await fetch('/schema.graphql');
    if (response.ok) schema = buildSchema(await response.text());
  } catch {
    // no schema: GraphiQL still runs queries, without completion
  }
  const root = document.getElementById('graphiql');
  if (!root) return;
  createRoot(root).render(
    <GraphiQL fetcher={fetcher} schema={schema} defaultQuery={DEFAULT_QUERY}
      defaultEditorToolsVisibility="headers" isHeadersEditorEnabled />,
  );
}

start();
