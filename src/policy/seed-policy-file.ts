import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../shared/package-root.ts';

/**
 * First start without ALTER_POLICY: copies config/policy.example.yaml to the data directory's
 * policy file, for the operator to edit. Returns true when it created the file.
 */
export function seedPolicyFile(path: string): boolean {
  if (existsSync(path)) return false;
  const root = packageRoot();
  if (!root) throw new Error('cannot find config/policy.example.yaml: set ALTER_POLICY to a policy file');
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(join(root.dir, 'config', 'policy.example.yaml'), path);
  return true;
}
