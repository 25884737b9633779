import { SecretNotFound, VaultUnavailable } from '../../shared/errors.ts';

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The SDK error's exception name (`ResourceExistsException`, …). */
export function awsErrorName(error: unknown): string | undefined {
  return (error as SdkError | undefined)?.name;
}

/**
 * Maps an SDK failure: `ResourceNotFoundException` → `notFound()` (callers that handle it
 * themselves pass none); anything else (access denied, bad credentials, throttling, 5xx,
 * network, timeout) → {@link VaultUnavailable} naming `aws`. Only the exception name and HTTP
 * status are kept: SDK errors can carry the raw response, which may hold a secret value.
 */
export function awsFailure(error: unknown, notFound?: () => SecretNotFound): Error {
  const name = awsErrorName(error) ?? 'Error';
  if (name === 'ResourceNotFoundException' && notFound) return notFound();
  const status = (error as SdkError | undefined)?.$metadata?.httpStatusCode;
  return new VaultUnavailable('aws', `${name}${status ? ` (HTTP ${status})` : ''}`, { cause: new Error(name) });
}
