import { describe, expect, it } from 'vitest';
import { QueryDeadlines } from '../../src/adapters/store/query-deadlines.ts';

const never = new Promise<never>(() => {});
const timeout = () => new Error('deadline passed');

describe('QueryDeadlines', () => {
  it('passes results and errors through, and forgets settled work', async () => {
    const deadlines = new QueryDeadlines(1000, 10);
    await expect(deadlines.bound(Promise.resolve(42), timeout)).resolves.toBe(42);
    await expect(deadlines.bound(Promise.reject(new Error('boom')), timeout)).rejects.toThrow('boom');
    expect(deadlines.waiting).toBe(0);
  });

  it('rejects work still pending at its deadline, within one tick, and only that work', async () => {
    const deadlines = new QueryDeadlines(50, 10);
    const started = performance.now();
    const stuck = deadlines.bound(never, timeout).catch((err: unknown) => err);
    const quick = deadlines.bound(new Promise((resolve) => setTimeout(() => resolve('ok'), 20)), timeout);
    await expect(quick).resolves.toBe('ok');
    expect(await stuck).toEqual(new Error('deadline passed'));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(45);
    expect(waited).toBeLessThan(1000);
    expect(deadlines.waiting).toBe(0);
  });

  it('ignores a late answer after the deadline', async () => {
    const deadlines = new QueryDeadlines(20, 5);
    let answer!: (value: string) => void;
    const bounded = deadlines.bound(new Promise<string>((resolve) => { answer = resolve; }), timeout);
    await expect(bounded).rejects.toThrow('deadline passed');
    answer('late');
    await expect(bounded).rejects.toThrow('deadline passed');
  });
});
