// Compares schema.graphql with the recorded baseline and fails on breaking changes.
// Usage: node check.cjs BASELINE CURRENT
const { readFileSync } = require("node:fs");
const { buildSchema } = require("graphql");
const { diff, CriticalityLevel } = require("@graphql-inspector/core");

async function main() {
  const [baselinePath, currentPath] = process.argv.slice(2);
  const baseline = buildSchema(readFileSync(baselinePath, "utf8"));
  const current = buildSchema(readFileSync(currentPath, "utf8"));
  const changes = await diff(baseline, current);
  const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
  for (const c of changes) {
    const mark = c.criticality.level === CriticalityLevel.Breaking ? "BREAKING" : c.criticality.level.toLowerCase();
    console.log(`schema-compat: ${mark}: ${c.message}`);
  }
  if (breaking.length > 0) {
    console.error(
      `schema-compat: ${breaking.length} breaking change(s) against ${baselinePath}. ` +
        "If they are deliberate, record them: scripts/schema-compat/accept",
    );
    process.exit(1);
  }
  console.log(`schema-compat: no breaking changes (${changes.length} other change(s))`);
}

main().catch((e) => {
  console.error(`schema-compat: ${e.message}`);
  process.exit(2);
});
