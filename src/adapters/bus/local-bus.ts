import { EventEmitter } from 'node:events';
import type { Bus } from '../../ports/bus.ts';

/** In-process bus for the embedded profile (one node). Messages are cloned like over a wire. */
export function createLocalBus(): Bus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(channel, message) {
      emitter.emit(channel, JSON.parse(JSON.stringify(message)));
    },
    async subscribe(channel, handler) {
      emitter.on(channel, handler);
      return async () => {
        emitter.off(channel, handler);
      };
    },
    subscribed: () => true,
    onResubscribed: () => () => {},
    async ping() {},
    async close() {
      emitter.removeAllListeners();
    },
  };
}
