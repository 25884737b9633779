const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `900`, `15m`, `4h`, `1d` into whole seconds; undefined when malformed. */
export function parseDurationSeconds(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isInteger(input) && input > 0 ? input : undefined;
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(input);
  if (!match) return undefined;
  const value = Number(match[1]) * (UNITS[match[2] || 's'] ?? 1);
  return value > 0 ? value : undefined;
}
