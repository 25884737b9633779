import { Redis } from 'ioredis';
import type { Bus } from '../../ports/bus.ts';
import type { Logger } from '../../shared/logger.ts';

/**
 * Redis pub/sub bus for the production profile: one connection publishes, one subscribes.
 * Channels are prefixed so several deployments (or test runs) can share one Redis.
 */
export async function createRedisBus(url: string, prefix: string, log: Logger): Promise<Bus> {
  const options = { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000 };
  const pub = new Redis(url, options);
  const sub = new Redis(url, options);
  for (const [name, conn] of [['publisher', pub], ['subscriber', sub]] as const) {
    conn.on('error', (err: Error) => log.warn({ err: { message: err.message }, conn: name }, 'redis bus connection error'));
  }
  await Promise.all([pub.connect(), sub.connect()]);

  const handlers = new Map<string, Set<(message: unknown) => void>>();
  sub.on('message', (channel: string, raw: string) => {
    const set = handlers.get(channel);
    if (!set) return;
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      log.warn({ channel }, 'ignored a malformed bus message');
      return;
    }
    for (const handler of set) handler(message);
  });

  const full = (channel: string) => `${prefix}:${channel}`;

  return {
    async publish(channel, message) {
      await pub.publish(full(channel), JSON.stringify(message));
    },
    async subscribe(channel, handler) {
      const name = full(channel);
      let set = handlers.get(name);
      if (!set) {
        set = new Set();
        handlers.set(name, set);
        await sub.subscribe(name);
      }
      set.add(handler);
      return async () => {
        set.delete(handler);
        if (set.size === 0) {
          handlers.delete(name);
          await sub.unsubscribe(name);
        }
      };
    },
    async ping() {
      await pub.ping();
    },
    async close() {
      pub.disconnect();
      sub.disconnect();
    },
  };
}
