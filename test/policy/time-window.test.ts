import { describe, expect, test } from 'vitest';
import { compileTimeWindow } from '../../src/policy/time-window.ts';
import { compile, request, yaml } from './policy-helpers.ts';

const at = (iso: string) => new Date(iso);

describe('a weekday window in Europe/Paris (UTC+1 in January)', () => {
  const office = compileTimeWindow({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00', timezone: 'Europe/Paris' });

  test.each([
    ['2026-01-05T08:00:00Z', true, 'Monday 09:00 Paris: start is inclusive'],
    ['2026-01-05T07:59:59Z', false, 'Monday 08:59 Paris'],
    ['2026-01-05T16:59:59Z', true, 'Monday 17:59 Paris'],
    ['2026-01-05T17:00:00Z', false, 'Monday 18:00 Paris: end is exclusive'],
    ['2026-01-10T10:00:00Z', false, 'Saturday'],
    ['2026-01-04T23:30:00Z', false, 'Monday 00:30 Paris, Sunday in UTC'],
  ])('%s → %s (%s)', (iso, inside) => {
    expect(office.contains(at(iso))).toBe(inside);
  });

  test('describes itself for traces', () => {
    expect(office.description).toBe('mon-fri 09:00-18:00 Europe/Paris');
  });
});

describe('daylight saving time follows the zone', () => {
  const nyOffice = compileTimeWindow({ start: '09:00', end: '17:00', timezone: 'America/New_York' });
  test('13:30 UTC is 09:30 in July (EDT) but 08:30 in January (EST)', () => {
    expect(nyOffice.contains(at('2026-07-06T13:30:00Z'))).toBe(true);
    expect(nyOffice.contains(at('2026-01-05T13:30:00Z'))).toBe(false);
  });

  test('offsets that are not whole hours (Kathmandu, UTC+05:45)', () => {
    const kathmandu = compileTimeWindow({ start: '09:00', end: '10:00', timezone: 'Asia/Kathmandu' });
    expect(kathmandu.contains(at('2026-01-05T03:15:00Z'))).toBe(true);
    expect(kathmandu.contains(at('2026-01-05T03:14:00Z'))).toBe(false);
  });
});

describe('a window spanning midnight', () => {
  const fridayNight = compileTimeWindow({ days: ['fri'], start: '22:00', end: '06:00', timezone: 'UTC' });
  test.each([
    ['2026-01-09T23:00:00Z', true, 'Friday 23:00'],
    ['2026-01-10T02:00:00Z', true, 'Saturday 02:00 belongs to Friday night'],
    ['2026-01-10T06:00:00Z', false, 'Saturday 06:00: end is exclusive'],
    ['2026-01-10T23:00:00Z', false, 'Saturday 23:00'],
    ['2026-01-09T02:00:00Z', false, 'Friday 02:00 belongs to Thursday night'],
    ['2026-01-09T21:59:00Z', false, 'Friday 21:59'],
  ])('%s → %s (%s)', (iso, inside) => {
    expect(fridayNight.contains(at(iso))).toBe(inside);
  });
});

describe('whole days and the end of the day', () => {
  test('days without start and end cover the whole day in the zone', () => {
    const weekend = compileTimeWindow({ days: ['sat', 'sun'], timezone: 'Europe/Paris' });
    expect(weekend.contains(at('2026-01-09T23:30:00Z'))).toBe(true); // Saturday 00:30 in Paris
    expect(weekend.contains(at('2026-01-09T22:30:00Z'))).toBe(false); // Friday 23:30 in Paris
    expect(weekend.contains(at('2026-01-11T22:59:00Z'))).toBe(true); // Sunday 23:59 in Paris
    expect(weekend.contains(at('2026-01-11T23:00:00Z'))).toBe(false); // Monday 00:00 in Paris
    expect(weekend.description).toBe('sat,sun all day Europe/Paris');
  });

  test('end 24:00 runs to midnight', () => {
    const evening = compileTimeWindow({ start: '18:00', end: '24:00', timezone: 'UTC' });
    expect(evening.contains(at('2026-01-05T23:59:59Z'))).toBe(true);
    expect(evening.contains(at('2026-01-06T00:00:00Z'))).toBe(false);
  });
});

describe('in a policy', () => {
  const policy = compile(yaml`
    version: 1
    rules:
      - id: office-hours
        effect: allow
        when:
          time: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00", timezone: Europe/Paris }
  `);

  test('inside the window the rule matches, outside it does not', () => {
    expect(policy.evaluate(request({ time: at('2026-01-05T10:00:00Z') }))).toMatchObject({ effect: 'allow', ruleId: 'office-hours' });
    expect(policy.evaluate(request({ time: at('2026-01-05T19:00:00Z') }))).toMatchObject({ effect: 'deny', ruleId: 'default-deny' });
  });
});
