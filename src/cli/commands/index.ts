import type { CommandSpec } from '../command.ts';
import { agentCommands } from './agent.ts';
import { auditCommands } from './audit.ts';
import { keyCommands } from './keys.ts';
import { policyCommands } from './policy.ts';
import { providerCommands } from './providers.ts';
import { secretCommands } from './secret.ts';
import { tokenCommands } from './token.ts';

/** Every leaf command, in the order `alter help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [...agentCommands, ...auditCommands, ...keyCommands, ...policyCommands, ...providerCommands, ...secretCommands, ...tokenCommands];

/** Command groups (`agent`, `keys`) and what they are for. */
export const GROUPS: Readonly<Record<string, string>> = {
  agent: 'register and manage agents',
  audit: 'query, export and verify the tamper-evident audit log',
  keys: "the server's token signing keys and the vault's key-encryption key",
  policy: 'check and explain YAML policies',
  providers: 'the provider catalog and per-app provider configuration',
  'app-key': 'app API keys for app backends and SDKs',
  secret: 'managed secrets (API keys, tokens, basic auth, AWS keys), stored in the vault',
};
