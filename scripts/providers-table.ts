/**
 * Rewrites the provider table of README.md (the `## Providers` section, between the
 * `<!-- providers:start -->` and `<!-- providers:end -->` markers) from the built-in catalog in
 * `config/providers/`. Appends the section at the end of README.md when it is missing.
 *
 *   node scripts/providers-table.ts           rewrite README.md in place
 *   node scripts/providers-table.ts --check   exit 1 when README.md is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { builtInProvidersDir, loadCatalog, type CatalogProvider } from '../src/providers/catalog.ts';
import { packageRoot } from '../src/shared/package-root.ts';

const START = '<!-- providers:start -->';
const END = '<!-- providers:end -->';
const HEADING = '## Providers';
const INTRO = [
  'The provider catalog describes every upstream service Alter connects to (OAuth endpoints, refresh',
  'behaviour, API hosts and the Alter permissions its scopes grant) as one YAML file per provider in',
  '`config/providers/`; operators add custom providers, or replace built-in ones, with files of the',
  'same schema in their providers directory.',
].join('\n');

const yesNo = (value: boolean) => (value ? 'yes' : 'no');
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The markdown table of the catalog, one row per provider, sorted by name. */
export function providersTable(providers: readonly CatalogProvider[]): string {
  const rows = providers.map((p) =>
    [`\`${p.name}\``, cell(p.display_name), cell(p.categories.join(', ')), yesNo(p.refresh.supported), yesNo(p.oauth.pkce), yesNo(p.verified)].join(' | '),
  );
  return ['| Provider | Name | Categories | Refresh | PKCE | Verified |', '| --- | --- | --- | --- | --- | --- |', ...rows.map((row) => `| ${row} |`)].join('\n');
}

/** README.md's text with the providers section replaced, or appended when missing. */
export function withProvidersSection(readme: string, table: string): string {
  const block = `${START}\n${table}\n${END}`;
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start >= 0 && end > start) return `${readme.slice(0, start)}${block}${readme.slice(end + END.length)}`;
  return `${readme.replace(/\s*$/, '')}\n\n${HEADING}\n\n${INTRO}\n\n${block}\n`;
}

function main(): void {
  const root = packageRoot()?.dir ?? process.cwd();
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const catalog = loadCatalog({ builtInDir: builtInProvidersDir() });
  const updated = withProvidersSection(readme, providersTable(catalog.list()));
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error('README.md: the providers table is out of date; run node scripts/providers-table.ts');
      process.exitCode = 1;
    }
    return;
  }
  if (updated !== readme) writeFileSync(readmePath, updated);
  console.log(`README.md: ${catalog.list().length} providers`);
}

// Run when executed (not when imported, e.g. by a test).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) main();
