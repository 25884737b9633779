/**
 * The `act` (actor) claim of RFC 8693 §4.1: the current actor is the outermost `sub`, earlier
 * actors nest inside. `{sub: child, act: {sub: parent}}` reads "child acts for parent, who
 * acts for the token's subject".
 */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
}

/** Nesting deeper than this is refused as malformed (policy depth limits are far lower). */
const MAX_NESTING = 32;

/** Parses an `act` claim from a verified token; undefined when absent, throws when malformed. */
export function parseAct(value: unknown): ActClaim | undefined {
  if (value === undefined) return undefined;
  let depth = 0;
  const walk = (node: unknown): ActClaim => {
    if (++depth > MAX_NESTING) throw new TypeError('act claim nests too deep');
    if (typeof node !== 'object' || node === null || typeof (node as ActClaim).sub !== 'string') {
      throw new TypeError('act claim must be an object with a string sub');
    }
    const inner = (node as { act?: unknown }).act;
    return inner === undefined ? { sub: (node as ActClaim).sub } : { sub: (node as ActClaim).sub, act: walk(inner) };
  };
  return walk(value);
}

/** The actors of a chain, current (outermost) first. */
export function actorsOf(act: ActClaim | undefined): string[] {
  const out: string[] = [];
  for (let node = act; node; node = node.act) out.push(node.sub);
  return out;
}

/** How many actors the chain holds: 0 without `act`, 2 for `{sub: child, act: {sub: parent}}`. */
export function depthOf(act: ActClaim | undefined): number {
  let depth = 0;
  for (let node = act; node; node = node.act) depth++;
  return depth;
}

/** Adds `actor` as the new current actor: `{sub: actor, act: previous}`. */
export function pushActor(actor: string, previous: ActClaim | undefined): ActClaim {
  return previous ? { sub: actor, act: previous } : { sub: actor };
}
