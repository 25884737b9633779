import type { JWK } from 'jose';
import type { SqlExecutor } from '../../../ports/sql.ts';
import type { Agent, AgentStatus, AgentStore, NewAgent, Page } from '../../../ports/store.ts';
import { ConflictError, InvalidRequest } from '../../../shared/errors.ts';
import { isCheckViolation, isUniqueViolation } from './database-error.ts';
import { CURSOR_TIMESTAMP_SQL, decodeCursor, encodeCursor } from './page-cursor.ts';

interface AgentRow {
  id: string;
  org_id: string;
  app_id: string;
  name: string;
  agent_class: string;
  status: AgentStatus;
  jwks: { keys: JWK[] } | null;
  jwks_uri: string | null;
  scopes: string[];
  created_at: Date;
  updated_at: Date;
  cursor_ts: string;
}

const COLUMNS = `id, org_id, app_id, name, agent_class, status, jwks, jwks_uri, scopes, created_at, updated_at,
  ${CURSOR_TIMESTAMP_SQL} AS cursor_ts`;

/** Largest page {@link AgentStore.list} returns. */
export const MAX_AGENT_PAGE = 1000;

function toAgent(row: AgentRow): Agent {
  const agent: Agent = {
    id: row.id,
    orgId: row.org_id,
    appId: row.app_id,
    name: row.name,
    agentClass: row.agent_class,
    status: row.status,
    scopes: row.scopes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.jwks !== null) agent.jwks = row.jwks;
  if (row.jwks_uri !== null) agent.jwksUri = row.jwks_uri;
  return agent;
}

/** Agents (OAuth clients), scoped to a tenant except for the global `findById`. */
export function createAgentRepository(db: SqlExecutor): AgentStore {
  return {
    async create(agent: NewAgent): Promise<Agent> {
      try {
        const rows = await db.query<AgentRow>(
          `INSERT INTO agents (id, org_id, app_id, name, agent_class, jwks, jwks_uri, scopes)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::text[])
           RETURNING ${COLUMNS}`,
          [
            agent.id,
            agent.orgId,
            agent.appId,
            agent.name,
            agent.agentClass,
            agent.jwks === undefined ? null : JSON.stringify(agent.jwks),
            agent.jwksUri ?? null,
            agent.scopes,
          ],
        );
        const row = rows[0];
        if (row === undefined) throw new Error('INSERT … RETURNING returned no agent row');
        return toAgent(row);
      } catch (error) {
        if (isUniqueViolation(error, 'agents_app_name_key')) {
          throw new ConflictError(`an agent named "${agent.name}" already exists in app ${agent.appId}`);
        }
        if (isUniqueViolation(error, 'agents_pkey')) {
          throw new ConflictError(`an agent with id ${agent.id} already exists`);
        }
        if (isCheckViolation(error, 'agents_one_key_source')) {
          throw new InvalidRequest('an agent needs exactly one of jwks or jwks_uri');
        }
        throw error;
      }
    },

    async findById(id: string): Promise<Agent | undefined> {
      const rows = await db.query<AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE id = $1`, [id]);
      return rows[0] === undefined ? undefined : toAgent(rows[0]);
    },

    async findByName(tenant, name): Promise<Agent | undefined> {
      const rows = await db.query<AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE org_id = $1 AND app_id = $2 AND name = $3`, [tenant.orgId, tenant.appId, name]);
      return rows[0] === undefined ? undefined : toAgent(rows[0]);
    },

    async list(tenant, options): Promise<Page<Agent>> {
      const { limit } = options;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AGENT_PAGE) {
        throw new InvalidRequest(`limit must be an integer between 1 and ${MAX_AGENT_PAGE}`);
      }
      const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
      const rows = await db.query<AgentRow>(
        `SELECT ${COLUMNS} FROM agents
          WHERE org_id = $1 AND app_id = $2
            AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4::text))
          ORDER BY created_at, id
          LIMIT $5`,
        [tenant.orgId, tenant.appId, after?.createdAt ?? null, after?.id ?? null, limit + 1],
      );
      const items = rows.slice(0, limit).map(toAgent);
      const last = rows.length > limit ? rows[limit - 1] : undefined;
      return last === undefined ? { items } : { items, nextCursor: encodeCursor({ createdAt: last.cursor_ts, id: last.id }) };
    },

    async setStatus(tenant, id, status): Promise<Agent | undefined> {
      const rows = await db.query<AgentRow>(
        `UPDATE agents SET status = $4, updated_at = now()
          WHERE id = $1 AND org_id = $2 AND app_id = $3
          RETURNING ${COLUMNS}`,
        [id, tenant.orgId, tenant.appId, status],
      );
      return rows[0] === undefined ? undefined : toAgent(rows[0]);
    },

    async delete(tenant, id): Promise<boolean> {
      const rows = await db.query('DELETE FROM agents WHERE id = $1 AND org_id = $2 AND app_id = $3 RETURNING id', [
        id,
        tenant.orgId,
        tenant.appId,
      ]);
      return rows.length === 1;
    },
  };
}
