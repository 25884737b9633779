import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** A path into the YAML data: map keys and list indexes (`['rules', 2, 'effect']`). */
export type YamlPath = readonly (string | number)[];

/** A problem found in the data, before it is placed in the text. */
export interface PathIssue {
  path: YamlPath;
  message: string;
  /** Point at the key rather than the value (unknown keys, bad names). */
  at?: 'key';
  /** 0-based position inside a scalar's value (a CEL parse error), when it can be placed. */
  offset?: number;
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `rules[2].effect`; keys that are not plain words are quoted (`agent_classes["team.a"]`). */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Maps data paths back to 1-based lines and columns of the text they came from. */
export class YamlLocator {
  private readonly doc: Document;
  private readonly lines: LineCounter;
  private readonly text: string;

  constructor(doc: Document, lines: LineCounter, text: string) {
    this.doc = doc;
    this.lines = lines;
    this.text = text;
  }

  /** The line and column of the node at `path`, or of its nearest ancestor that exists. */
  locate(path: YamlPath, options: { at?: 'key'; offset?: number } = {}): { line: number; column: number } {
    const node = this.nodeAt(path, options.at === 'key');
    const start = node?.range?.[0] ?? 0;
    if (node && isScalar(node) && options.offset !== undefined) {
      // Place a position inside the value when the value appears verbatim in the source (plain
      // or quoted without escapes); otherwise the start of the node is the best we can say.
      const value = String(node.value);
      const raw = this.text.slice(start, node.range?.[1] ?? start);
      const at = raw.indexOf(value);
      if (at >= 0 && !value.includes('\n')) return this.position(start + at + options.offset);
    }
    return this.position(start);
  }

  /** The line of the node at `path` (for "first at line 12"). */
  lineOf(path: YamlPath): number {
    return this.locate(path).line;
  }

  private position(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  private nodeAt(path: YamlPath, wantKey: boolean): Node | undefined {
    let node: unknown = this.doc.contents;
    for (let i = 0; i < path.length; i++) {
      if (isAlias(node)) node = node.resolve(this.doc);
      const segment = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        // A key with nothing after it (`summarizer:`) has an empty value node: point at the key.
        const value = pair.value as Node | null;
        node = (last && wantKey) || !value?.range || value.range[0] === value.range[1] ? pair.key : value;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        node = node.items[segment];
      } else {
        break;
      }
    }
    return (node ?? undefined) as Node | undefined;
  }
}
