import { packageRoot } from '../shared/package-root.ts';

/** The version in Alter's package.json. */
export function cliVersion(): string {
  return packageRoot()?.version ?? 'unknown';
}
