import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Holds the live oidc-provider instance and swaps it for a new one when the signing keys change.
 * Requests in flight finish on the instance they started on.
 */
export class ProviderHolder {
  readonly #build: () => Provider;
  #provider!: Provider;
  #handler!: Handler;

  constructor(build: () => Provider) {
    this.#build = build;
    this.rebuild();
  }

  rebuild(): void {
    const provider = this.#build();
    this.#provider = provider;
    this.#handler = provider.callback() as unknown as Handler;
  }

  get provider(): Provider {
    return this.#provider;
  }

  /** Serves a request with the current instance. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handler(req, res);
  }
}
