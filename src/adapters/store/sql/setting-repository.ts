import type { SqlExecutor } from '../../../ports/sql.ts';
import type { SettingStore } from '../../../ports/store.ts';

/**
 * Named JSON values created once per deployment (e.g. generated secrets). The first node to
 * insert wins; every other node reads the winner's value.
 */
export function createSettingRepository(db: SqlExecutor): SettingStore {
  async function read<T>(name: string): Promise<{ value: T } | undefined> {
    const rows = await db.query<{ value: T }>('SELECT value FROM settings WHERE name = $1', [name]);
    return rows[0];
  }

  return {
    async get<T>(name: string): Promise<T | undefined> {
      return (await read<T>(name))?.value;
    },

    async getOrCreate<T>(name: string, create: () => T): Promise<T> {
      const existing = await read<T>(name);
      if (existing !== undefined) return existing.value;
      const json = JSON.stringify(create());
      if (json === undefined) throw new TypeError(`setting ${name}: create() must return a JSON value`);
      await db.query('INSERT INTO settings (name, value) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO NOTHING', [name, json]);
      const stored = await read<T>(name);
      if (stored === undefined) throw new Error(`setting ${name} vanished right after it was stored`);
      return stored.value;
    },
  };
}
