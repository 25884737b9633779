import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Live memory (heap + array buffers) after a full collection: what the process actually holds, not garbage. */
function liveBytes(): number {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Runs `work` while sampling live memory every `everyMs`; returns the largest growth over the
 * start, in MiB. A body buffered whole anywhere in this process shows up as its size.
 */
export async function liveMemoryGrowth(work: () => Promise<void>, everyMs = 25): Promise<number> {
  const base = liveBytes();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, liveBytes());
  }, everyMs);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return (Math.max(peak, liveBytes()) - base) / (1024 * 1024);
}
