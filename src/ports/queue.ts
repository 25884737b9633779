/** Background jobs (BullMQ in production, in-process timers in the embedded profile). */
export interface JobQueue {
  /**
   * Runs `handler` every `everyMs` on one node of the cluster at a time. Errors are reported
   * through `onError` and the job runs again at the next tick.
   */
  every(name: string, everyMs: number, handler: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}
