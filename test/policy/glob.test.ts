import { describe, expect, test } from 'vitest';
import { compileGlob, compileGlobList, hasWildcard, substituteGlob } from '../../src/policy/glob.ts';

describe('globs', () => {
  test('* matches any run of characters, colons included', () => {
    const g = compileGlob('*:write');
    expect(g.test('repo:write')).toBe(true);
    expect(g.test('org:repo:write')).toBe(true);
    expect(g.test(':write')).toBe(true);
    expect(g.test('repo:writer')).toBe(false);
    expect(compileGlob('*').test('anything at all')).toBe(true);
  });

  test('? matches exactly one character', () => {
    const g = compileGlob('agent-?');
    expect(g.test('agent-1')).toBe(true);
    expect(g.test('agent-12')).toBe(false);
    expect(g.test('agent-')).toBe(false);
  });

  test('everything else is literal, regular expression characters included', () => {
    expect(compileGlob('calendar.readonly').test('calendarXreadonly')).toBe(false);
    expect(compileGlob('a+b(c)[d]{2}|^$\\*').test('a+b(c)[d]{2}|^$\\x')).toBe(true);
    expect(compileGlob('a+b').test('aab')).toBe(false);
  });

  test('capture returns what each * matched', () => {
    expect(compileGlob('*/*:write').capture('acme/site:write')).toEqual(['acme', 'site']);
    expect(compileGlob('repo:write').capture('repo:write')).toEqual([]);
    expect(compileGlob('*:write').capture('repo:read')).toBeUndefined();
  });

  test('a list matches when any glob matches; first returns the earliest', () => {
    const list = compileGlobList(['repo:read', '*:write', 'repo:*']);
    expect(list.test('repo:read')).toBe(true);
    expect(list.test('issues:write')).toBe(true);
    expect(list.test('issues:read')).toBe(false);
    expect(list.first('repo:write')?.pattern).toBe('*:write');
    expect(compileGlobList(['x', '*']).any).toBe(true);
  });
});

describe('counterparts', () => {
  test('substitution fills * in order and leaves extra wildcards', () => {
    expect(substituteGlob('*:read', ['repo'])).toBe('repo:read');
    expect(substituteGlob('*/*:read', ['acme', 'site'])).toBe('acme/site:read');
    expect(substituteGlob('*:*', ['repo'])).toBe('repo:*');
    expect(substituteGlob('calendar.readonly', ['x'])).toBe('calendar.readonly');
  });

  test('hasWildcard tells a concrete scope from a pattern', () => {
    expect(hasWildcard('repo:*')).toBe(true);
    expect(hasWildcard('repo:rea?')).toBe(true);
    expect(hasWildcard('repo:read')).toBe(false);
  });
});
