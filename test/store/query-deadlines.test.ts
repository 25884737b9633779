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

  it('keeps track of many queries settling out of order, and expires only the ones still waiting', async () => {
    const deadlines = new QueryDeadlines(40, 5);
    const answers: Array<(value: number) => void> = [];
    const bounded = Array.from({ length: 5 }, () => deadlines.bound(new Promise<number>((resolve) => { answers.push(resolve); }), timeout).catch((err: unknown) => err));
    expect(deadlines.waiting).toBe(5);
    answers[2]!(2);
    answers[0]!(0);
    answers[4]!(4);
    await Promise.resolve();
    expect(deadlines.waiting).toBe(2);
    const later = deadlines.bound(new Promise<number>((resolve) => setTimeout(() => resolve(5), 60)), timeout).catch((err: unknown) => err);
    const results = await Promise.all([...bounded, later]);
    expect(results).toEqual([0, new Error('deadline passed'), 2, new Error('deadline passed'), 4, new Error('deadline passed')]);
    expect(deadlines.waiting).toBe(0);
    await expect(deadlines.bound(Promise.resolve('again'), timeout)).resolves.toBe('again');
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
