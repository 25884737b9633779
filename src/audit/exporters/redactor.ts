/** Replaces every occurrence of known secret values in a text. */
export type Redactor = (text: string) => string;

const CENSOR = '[redacted]';

/**
 * A redactor built from the credential values themselves (STYLE.md §9): whatever carries them
 * (an error from fetch, a response body echoing a header, a message naming a value), they come
 * out as `[redacted]`. Longer values are replaced first so that one secret containing another
 * leaves nothing behind; values shorter than 4 characters are not worth a false positive.
 */
export function createRedactor(secrets: Iterable<string>): Redactor {
  const values = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const value of values) out = out.split(value).join(CENSOR);
    return out;
  };
}
