import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { parseExportersConfig } from '../../../src/audit/exporters/exporter-config.ts';

const root = resolve(import.meta.dirname, '../../..');

/** The ```yaml blocks of docs/audit-exporters.md, each with the ```text block right after it, if any. */
async function examples(): Promise<{ yaml: string; error?: string }[]> {
  const doc = await readFile(join(root, 'docs/audit-exporters.md'), 'utf8');
  return [...doc.matchAll(/```yaml\n([\s\S]*?)```\n(?:\n```text\n([\s\S]*?)```\n)?/g)].map((m) => (m[2] === undefined ? { yaml: m[1]! } : { yaml: m[1]!, error: m[2].trimEnd() }));
}

/** A value for every `${VAR}` an example names (the invalid example leaves its own unset). */
function env(yaml: string): Record<string, string> {
  return Object.fromEntries([...yaml.matchAll(/\$\{([A-Z_]+)\}/g)].map(([, name]) => [name!, name === 'ALTER_WEBHOOK_SECRET' ? 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' : `value-of-${name}`]));
}

test('every YAML example of docs/audit-exporters.md is valid, or fails with the error shown under it', async () => {
  const blocks = await examples();
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  for (const { yaml, error } of blocks) {
    if (error === undefined) {
      expect(parseExportersConfig(yaml, 'exporters.yaml', env(yaml)).length).toBeGreaterThan(0);
    } else {
      expect(() => parseExportersConfig(yaml, 'exporters.yaml', {})).toThrow(error);
    }
  }
});
