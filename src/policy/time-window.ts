/**
 * Time windows of `when.time`: days of the week and an `HH:MM` range in an IANA time zone.
 * `start` is inclusive, `end` exclusive; `start` after `end` spans midnight, and the hours after
 * midnight belong to the day the window opened (`days: [fri]`, 22:00-06:00 holds on Saturday
 * 02:00). Without `start`/`end` the window is the whole of each listed day.
 */

/** Day names of `days`, Monday first. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** `mon` … `sun`. */
export type Weekday = (typeof WEEKDAYS)[number];

/** `when.time` as validated: `start` and `end` both present or both absent. */
export interface TimeWindowSpec {
  days?: readonly Weekday[];
  start?: string;
  end?: string;
  timezone: string;
}

/** A compiled window. */
export interface TimeWindow {
  /** `mon-fri 09:00-18:00 Europe/Paris`, for traces. */
  readonly description: string;
  contains(instant: Date): boolean;
}

const HHMM = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** Minutes since midnight of `HH:MM` (`24:00` allowed when `allowEndOfDay`); undefined when malformed. */
export function parseClock(text: string, allowEndOfDay = false): number | undefined {
  if (allowEndOfDay && text === '24:00') return 1440;
  const m = HHMM.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Local weekday (0 = mon … 6 = sun) and minute of the day of an instant in one zone. */
interface LocalTime {
  weekday: number;
  minute: number;
}

const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
/** Offsets change on quarter hours (UTC) only, so one lookup serves a whole quarter hour. */
const BUCKET_MS = 15 * 60 * 1000;

/** Quarter hours remembered per zone (about ten days of requests at "now"; a few KiB). */
const MAX_BUCKETS = 1024;

/**
 * Converts instants to local time in one zone. `Intl.DateTimeFormat` is slow to build and to
 * call, so there is one per zone, and the quarter hours already looked up are remembered.
 */
class ZoneClock {
  private readonly format: Intl.DateTimeFormat;
  private readonly buckets = new Map<number, LocalTime>();

  constructor(zone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }

  at(instant: Date): LocalTime {
    const ms = instant.getTime();
    if (!Number.isFinite(ms)) throw new RangeError('invalid time');
    const bucket = Math.floor(ms / BUCKET_MS);
    let base = this.buckets.get(bucket);
    if (!base) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      base = this.lookup(new Date(bucket * BUCKET_MS));
      this.buckets.set(bucket, base);
    }
    // Within a bucket the local clock runs like UTC. Offsets are whole quarter hours, so a
    // bucket does not cross local midnight; the wrap only guards odd historical offsets.
    const minute = base.minute + Math.floor((ms - bucket * BUCKET_MS) / 60000);
    if (minute < 1440) return { weekday: base.weekday, minute };
    return { weekday: (base.weekday + 1) % 7, minute: minute - 1440 };
  }

  private lookup(instant: Date): LocalTime {
    let weekday = 0;
    let hour = 0;
    let minute = 0;
    for (const part of this.format.formatToParts(instant)) {
      if (part.type === 'weekday') weekday = WEEKDAY_INDEX[part.value] ?? 0;
      else if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
    }
    return { weekday, minute: hour * 60 + minute };
  }
}

const clocks = new Map<string, ZoneClock>();

/** The shared converter for a zone (zones are few; the map stays small). */
function clockFor(zone: string): ZoneClock {
  let clock = clocks.get(zone);
  if (!clock) {
    clock = new ZoneClock(zone);
    clocks.set(zone, clock);
  }
  return clock;
}

/** Compiles a validated window spec. */
export function compileTimeWindow(spec: TimeWindowSpec): TimeWindow {
  const days = new Array<boolean>(7).fill(spec.days === undefined);
  for (const day of spec.days ?? []) days[WEEKDAYS.indexOf(day)] = true;
  const start = spec.start === undefined ? 0 : (parseClock(spec.start) ?? 0);
  const end = spec.end === undefined ? 1440 : (parseClock(spec.end, true) ?? 1440);
  const clock = clockFor(spec.timezone);
  const dayText = describeDays(spec.days);
  const hours = spec.start === undefined ? 'all day' : `${spec.start}-${spec.end}`;
  const description = `${dayText ? `${dayText} ` : ''}${hours} ${spec.timezone}`;

  const contains = (instant: Date): boolean => {
    const { weekday, minute } = clock.at(instant);
    if (start < end) return days[weekday] === true && minute >= start && minute < end;
    // Overnight: the evening part belongs to today, the early-morning part to yesterday.
    if (minute >= start) return days[weekday] === true;
    return minute < end && days[(weekday + 6) % 7] === true;
  };
  return Object.freeze({ description, contains });
}

/** `mon-fri`, `sat,sun`, or '' for every day. */
function describeDays(days: readonly Weekday[] | undefined): string {
  if (days === undefined) return '';
  const idx = [...new Set(days.map((d) => WEEKDAYS.indexOf(d)))].sort((a, b) => a - b);
  const contiguous = idx.length > 2 && idx.every((d, i) => i === 0 || d === (idx[i - 1] as number) + 1);
  if (contiguous) return `${WEEKDAYS[idx[0] as number]}-${WEEKDAYS[idx[idx.length - 1] as number]}`;
  return idx.map((d) => WEEKDAYS[d]).join(',');
}
