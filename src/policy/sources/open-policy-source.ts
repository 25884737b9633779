import { FilePolicySource } from './file-source.ts';
import { GitPolicySource } from './git-source.ts';
import type { PolicySource } from './policy-source.ts';

/** Where the policy text lives; defaults: file poll 5 s, git poll 30 s, git command timeout 30 s. */
export type PolicySourceSettings =
  | { kind: 'file'; path: string; pollIntervalMs?: number }
  | { kind: 'git'; url: string; branch: string; path: string; cacheDir: string; pollIntervalMs?: number; timeoutMs?: number };

/**
 * Builds the {@link PolicySource} the settings describe. Reads nothing yet; an invalid git
 * branch name or repository path throws a PolicySourceError at once.
 */
export function openPolicySource(settings: PolicySourceSettings): PolicySource {
  switch (settings.kind) {
    case 'file':
      return new FilePolicySource({ path: settings.path, pollIntervalMs: settings.pollIntervalMs });
    case 'git':
      return new GitPolicySource({
        url: settings.url,
        branch: settings.branch,
        path: settings.path,
        cacheDir: settings.cacheDir,
        pollIntervalMs: settings.pollIntervalMs,
        timeoutMs: settings.timeoutMs,
      });
  }
}
