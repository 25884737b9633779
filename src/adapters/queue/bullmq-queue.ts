import { Queue, Worker } from 'bullmq';
import type { JobQueue } from '../../ports/queue.ts';
import type { Logger } from '../../shared/logger.ts';

/**
 * BullMQ for the production profile: a job scheduler per recurring job, so each tick runs on
 * exactly one node of the cluster whatever the number of nodes.
 */
export function createBullmqQueue(url: string, prefix: string, log: Logger): JobQueue {
  const connection = { url, maxRetriesPerRequest: null };
  const queue = new Queue('alter-jobs', { connection, prefix: `${prefix}:bull` });
  const handlers = new Map<string, () => Promise<void>>();
  let worker: Worker | undefined;
  queue.on('error', (err) => log.warn({ err: { message: err.message } }, 'job queue error'));

  function ensureWorker(): void {
    if (worker) return;
    worker = new Worker(
      'alter-jobs',
      async (job) => {
        const handler = handlers.get(job.name);
        if (handler) await handler();
      },
      { connection, prefix: `${prefix}:bull`, concurrency: 1 },
    );
    worker.on('error', (err) => log.warn({ err: { message: err.message } }, 'job worker error'));
    worker.on('failed', (job, err) => log.error({ job: job?.name, err: { message: err.message } }, 'job failed'));
  }

  return {
    async every(name, everyMs, handler) {
      handlers.set(name, handler);
      await queue.upsertJobScheduler(name, { every: everyMs }, { name, opts: { removeOnComplete: 100, removeOnFail: 100 } });
      ensureWorker();
    },
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}
