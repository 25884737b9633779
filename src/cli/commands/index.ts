import type { CommandSpec } from '../command.ts';
import { agentCommands } from './agent.ts';
import { auditCommands } from './audit.ts';
import { keyCommands } from './keys.ts';
import { policyCommands } from './policy.ts';
import { tokenCommands } from './token.ts';

/** Every leaf command, in the order `alter help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [...agentCommands, ...auditCommands, ...keyCommands, ...policyCommands, ...tokenCommands];

/** Command groups (`agent`, `keys`) and what they are for. */
export const GROUPS: Readonly<Record<string, string>> = {
  agent: 'register and manage agents',
  audit: 'query, export and verify the tamper-evident audit log',
  keys: "the server's token signing keys",
  policy: 'check and explain YAML policies',
};
