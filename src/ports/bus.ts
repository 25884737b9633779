/** Fan-out of small JSON messages to every node (Redis pub/sub in production, in-process else). */
export interface Bus {
  publish(channel: string, message: unknown): Promise<void>;
  /** Returns an unsubscribe function. Handlers run on every node, the publisher's included. */
  subscribe(channel: string, handler: (message: unknown) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
