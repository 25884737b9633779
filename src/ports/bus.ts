/** Fan-out of small JSON messages to every node (Redis pub/sub in production, in-process else). */
export interface Bus {
  publish(channel: string, message: unknown): Promise<void>;
  /** Returns an unsubscribe function. Handlers run on every node, the publisher's included. */
  subscribe(channel: string, handler: (message: unknown) => void): Promise<() => Promise<void>>;
  /**
   * Whether this node receives what is published now. False while the subscription is down:
   * messages published meanwhile are lost to this node, so state kept from them is stale.
   */
  subscribed(): boolean;
  /** Calls `handler` each time the subscription is back after a drop (resubscribed already). */
  onResubscribed(handler: () => void): () => void;
  ping(): Promise<void>;
  close(): Promise<void>;
}
