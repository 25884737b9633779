import { execFile } from 'node:child_process';
import { mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { FilePolicySource } from '../../../src/policy/sources/file-source.ts';
import { PolicySourceError, type PolicyText } from '../../../src/policy/sources/policy-source.ts';

const POLL_MS = 200;
const WAIT = { timeout: 10_000, interval: 50 };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alter-policy-file-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
/** A fresh policy file in the temp directory (each test its own, so watchers do not cross). */
async function policyFile(text: string): Promise<string> {
  const sub = await mkdtemp(join(dir, `case-${++fileCount}-`));
  const path = join(sub, 'policy.yaml');
  await writeFile(path, text);
  return path;
}

/** Records what a watch reports. */
function recorder() {
  const changes: PolicyText[] = [];
  const errors: PolicySourceError[] = [];
  return { changes, errors, onChange: (t: PolicyText) => changes.push(t), onError: (e: PolicySourceError) => errors.push(e) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FilePolicySource', () => {
  test('read returns the UTF-8 text and the path as origin', async () => {
    const path = await policyFile('version: 1 # héllo\n');
    const source = new FilePolicySource({ path });
    expect(source.origin).toBe(path);
    expect(await source.read()).toEqual({ text: 'version: 1 # héllo\n', origin: path });
  });

  test('a missing file is a PolicySourceError naming the path and "does not exist"', async () => {
    const path = join(dir, 'nowhere', 'policy.yaml');
    const err = await new FilePolicySource({ path }).read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicySourceError);
    expect(err).toMatchObject({ code: 'ERR_POLICY_SOURCE', origin: path });
    expect((err as Error).message).toBe(`policy file ${path} does not exist`);
  });

  test('a directory is a PolicySourceError saying so', async () => {
    const err = await new FilePolicySource({ path: dir }).read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicySourceError);
    expect((err as Error).message).toContain('is a directory');
  });

  test('an in-place edit is reported', async () => {
    const path = await policyFile('a: 1\n');
    const source = new FilePolicySource({ path, pollIntervalMs: POLL_MS });
    await source.read();
    const rec = recorder();
    const stop = source.watch(rec.onChange, rec.onError);
    try {
      await writeFile(path, 'a: 2\n');
      await vi.waitFor(() => expect(rec.changes.at(-1)?.text).toBe('a: 2\n'), WAIT);
      expect(rec.changes).toEqual([{ text: 'a: 2\n', origin: path }]);
      expect(rec.errors).toEqual([]);
    } finally {
      await stop();
    }
  });

  test('an atomic replace (write a temp file, rename over) is reported', async () => {
    const path = await policyFile('a: 1\n');
    const source = new FilePolicySource({ path, pollIntervalMs: POLL_MS });
    await source.read();
    const rec = recorder();
    const stop = source.watch(rec.onChange, rec.onError);
    try {
      const temp = `${path}.tmp-${process.pid}`;
      await writeFile(temp, 'a: replaced\n');
      await rename(temp, path);
      await vi.waitFor(() => expect(rec.changes.map((c) => c.text)).toEqual(['a: replaced\n']), WAIT);
      // A second replace is seen too (the watcher survives the first one).
      await writeFile(temp, 'a: again\n');
      await rename(temp, path);
      await vi.waitFor(() => expect(rec.changes.map((c) => c.text)).toEqual(['a: replaced\n', 'a: again\n']), WAIT);
    } finally {
      await stop();
    }
  });

  test('touching or rewriting the same content reports nothing', async () => {
    const path = await policyFile('a: 1\n');
    const source = new FilePolicySource({ path, pollIntervalMs: POLL_MS });
    await source.read();
    const rec = recorder();
    const stop = source.watch(rec.onChange, rec.onError);
    try {
      const later = new Date(Date.now() + 60_000);
      await utimes(path, later, later);
      await writeFile(path, 'a: 1\n');
      await sleep(POLL_MS * 3);
      // A real edit afterwards proves the loop was running; it must be the only report.
      await writeFile(path, 'a: 2\n');
      await vi.waitFor(() => expect(rec.changes.length).toBeGreaterThan(0), WAIT);
      expect(rec.changes.map((c) => c.text)).toEqual(['a: 2\n']);
      expect(rec.errors).toEqual([]);
    } finally {
      await stop();
    }
  });

  test('an edit between read() and watch() is reported; without a prior read the first text is', async () => {
    const path = await policyFile('a: 1\n');
    const source = new FilePolicySource({ path, pollIntervalMs: 60_000 });
    await source.read();
    await writeFile(path, 'a: 2\n');
    const rec = recorder();
    const stop = source.watch(rec.onChange, rec.onError);
    await vi.waitFor(() => expect(rec.changes.map((c) => c.text)).toEqual(['a: 2\n']), WAIT);
    await stop();

    const fresh = new FilePolicySource({ path, pollIntervalMs: 60_000 });
    const rec2 = recorder();
    const stop2 = fresh.watch(rec2.onChange, rec2.onError);
    await vi.waitFor(() => expect(rec2.changes.map((c) => c.text)).toEqual(['a: 2\n']), WAIT);
    await stop2();
  });

  test('a deleted file goes to onError, watching continues, the restored file is reported', async () => {
    const path = await policyFile('a: 1\n');
    const source = new FilePolicySource({ path, pollIntervalMs: POLL_MS });
    await source.read();
    const rec = recorder();
    const stop = source.watch(rec.onChange, rec.onError);
    try {
      await rm(path);
      await vi.waitFor(() => expect(rec.errors.length).toBeGreaterThan(0), WAIT);
      expect(rec.errors[0]).toBeInstanceOf(PolicySourceError);
      expect(rec.errors[0]!.message).toBe(`policy file ${path} does not exist`);
      expect(rec.changes).toEqual([]);
      await writeFile(path, 'a: restored\n');
      await vi.waitFor(() => expect(rec.changes.map((c) => c.text)).toEqual(['a: restored\n']), WAIT);
    } finally {
      await stop();
    }
  });

  test('a change handler that throws goes to onError and watching continues', async () => {
    const path = await policyFile('a: 1\n');
    const source = new FilePolicySource({ path, pollIntervalMs: POLL_MS });
    await source.read();
    const seen: string[] = [];
    const errors: PolicySourceError[] = [];
    const stop = source.watch((t) => {
      seen.push(t.text);
      if (seen.length === 1) throw new Error('boom');
    }, (e) => errors.push(e));
    try {
      await writeFile(path, 'a: 2\n');
      await vi.waitFor(() => expect(errors.map((e) => e.message)).toEqual([`${path}: the change handler failed: boom`]), WAIT);
      await writeFile(path, 'a: 3\n');
      await vi.waitFor(() => expect(seen).toEqual(['a: 2\n', 'a: 3\n']), WAIT);
    } finally {
      await stop();
    }
  });

  test('after stop() nothing is reported', async () => {
    const path = await policyFile('a: 1\n');
    const source = new FilePolicySource({ path, pollIntervalMs: POLL_MS });
    await source.read();
    const rec = recorder();
    const stop = source.watch(rec.onChange, rec.onError);
    await stop();
    await writeFile(path, 'a: 2\n');
    await sleep(POLL_MS * 3);
    await rm(path);
    await sleep(POLL_MS * 3);
    expect(rec.changes).toEqual([]);
    expect(rec.errors).toEqual([]);
  });

  test('a watching process can exit: timers and the watcher do not hold it', async () => {
    const path = await policyFile('a: 1\n');
    const module = resolve('src/policy/sources/file-source.ts');
    // Watches without ever stopping, then returns from the script: the process must end by itself.
    const script = `
      const { FilePolicySource } = await import(${JSON.stringify(module)});
      const source = new FilePolicySource({ path: ${JSON.stringify(path)}, pollIntervalMs: 50 });
      await source.read();
      source.watch(() => {}, () => {});
      await new Promise((r) => setTimeout(r, 300));
      console.log('done');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(stdout.trim()).toBe('done');
  });
});
