/** JSON.parse that answers undefined for an empty or malformed text (a response body we only inspect). */
export function parseJsonOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
