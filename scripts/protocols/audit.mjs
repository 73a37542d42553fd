// graphql-http's own audit of a GraphQL over HTTP server (the spec's MUSTs, SHOULDs and
// MAYs), against POST /graphql. Fails on any error (a failed MUST) or warning (a failed
// SHOULD); notices (MAYs) are printed.
//
//     node audit.mjs http://127.0.0.1:PORT/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
let errors = 0;
let warnings = 0;
let ok = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    ok += 1;
    continue;
  }
  if (result.status === 'error') errors += 1;
  if (result.status === 'warn') warnings += 1;
  console.log(`graphql-http: ${result.status} ${audit.id} ${audit.name}: ${result.reason}`);
}
console.log(`graphql-http: ${ok} ok, ${errors} errors, ${warnings} warnings`);
process.exit(errors + warnings > 0 ? 1 : 0);
