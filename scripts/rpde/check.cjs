// Walks an RPDE feed with the OpenActive validator and prints what it found.
// Exit status 1 if any failure (an error) was reported or fewer than two pages were
// walked; warnings, notices and suggestions are printed. One warning is expected: the
// validator applies its HTTP rules to every page it walks as if it were not the last,
// so the feed's real last page, served with the short `max-age=8` RPDE asks of it, is
// flagged for not having 3600. Usage: node check.cjs <feed url> [page limit]
const { RpdeValidator } = require('@openactive/rpde-validator');

const url = process.argv[2];
const pageLimit = Number(process.argv[3] || 1000);

RpdeValidator(url, { pageLimit, timeoutMs: 30000, logCallback: () => {} }).then((log) => {
  const counts = {};
  const serious = [];
  for (const page of log.pages) {
    for (const error of page.errors) {
      counts[error.severity] = (counts[error.severity] || 0) + 1;
      if (error.severity === 'failure') {
        serious.push(`${error.severity} on ${page.url}: ${error.message}`);
      } else {
        console.log(`rpde: ${error.severity} on ${page.url}: ${error.message}`);
      }
    }
  }
  const summary = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing';
  console.log(`rpde: walked ${log.pages.length} page(s) of ${url}; reported ${summary}`);
  for (const line of serious) console.log(`rpde: ${line}`);
  process.exit(serious.length === 0 && log.pages.length > 1 ? 0 : 1);
}).catch((error) => {
  console.log(`rpde: the validator failed: ${error}`);
  process.exit(1);
});
