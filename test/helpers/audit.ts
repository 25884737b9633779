import type { TestServer } from './server.ts';

/** The parsed events of one type in the test server's default org, oldest first. */
export async function auditEvents(srv: TestServer, type: string): Promise<Array<Record<string, unknown>>> {
  const entries = await srv.app.audit.store.query(srv.app.tenant.orgId, { type, limit: 10_000 });
  return entries.map((e) => JSON.parse(e.event) as Record<string, unknown>);
}
