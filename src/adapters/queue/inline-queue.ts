import type { JobQueue } from '../../ports/queue.ts';
import type { Logger } from '../../shared/logger.ts';

/** In-process timers for the embedded profile. A run never overlaps the previous one. */
export function createInlineQueue(log: Logger): JobQueue {
  const timers = new Set<NodeJS.Timeout>();
  return {
    async every(name, everyMs, handler) {
      let running = false;
      const timer = setInterval(() => {
        if (running) return;
        running = true;
        handler()
          .catch((err: unknown) => log.error({ job: name, err: { message: (err as Error).message } }, 'job failed'))
          .finally(() => {
            running = false;
          });
      }, everyMs);
      timer.unref();
      timers.add(timer);
    },
    async close() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
    },
  };
}
