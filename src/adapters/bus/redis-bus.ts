import { Redis } from 'ioredis';
import type { Bus } from '../../ports/bus.ts';
import type { Logger } from '../../shared/logger.ts';

/**
 * Redis pub/sub bus for the production profile: one connection publishes, one subscribes.
 * Channels are prefixed so several deployments (or test runs) can share one Redis.
 */
export async function createRedisBus(url: string, prefix: string, log: Logger): Promise<Bus> {
  const options = { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000 };
  // named, so operators can tell them apart in CLIENT LIST
  const pub = new Redis(url, { ...options, connectionName: `${prefix}:bus-pub` });
  const sub = new Redis(url, { ...options, connectionName: `${prefix}:bus-sub` });
  for (const [name, conn] of [['publisher', pub], ['subscriber', sub]] as const) {
    conn.on('error', (err: Error) => log.warn({ err: { message: err.message }, conn: name }, 'redis bus connection error'));
  }
  await Promise.all([pub.connect(), sub.connect()]);

  const handlers = new Map<string, Set<(message: unknown) => void>>();
  const resubscribed = new Set<() => void>();
  // Down from the moment the subscriber connection drops until our channels are subscribed again
  // (ioredis resubscribes by itself, but only after it reports `ready`: subscribing here too
  // is idempotent and tells us when it is done).
  let down = false;
  sub.on('close', () => {
    down = true;
  });
  sub.on('ready', () => {
    if (!down) return;
    const channels = [...handlers.keys()];
    void (channels.length > 0 ? sub.subscribe(...channels) : Promise.resolve())
      .then(() => {
        if (sub.status !== 'ready') return; // dropped again: the next ready retries
        down = false;
        log.info({ channels: channels.length }, 'redis bus resubscribed');
        for (const handler of resubscribed) handler();
      })
      .catch((err: unknown) => log.warn({ err: { message: (err as Error).message } }, 'redis bus could not resubscribe'));
  });
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
    subscribed: () => !down && sub.status === 'ready',
    onResubscribed(handler) {
      resubscribed.add(handler);
      return () => {
        resubscribed.delete(handler);
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
