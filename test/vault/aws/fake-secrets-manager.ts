import { randomUUID } from 'node:crypto';
import { startHttpFake, type FakeRequest, type FakeResponse, type HttpFake } from '../conformance/http-fake.ts';
import { checkSigV4 } from './sigv4-check.ts';

interface Version {
  id: string;
  binary?: string;
  string?: string;
  created: number;
  stages: string[];
}

interface Secret {
  name: string;
  arn: string;
  versions: Version[];
  tags: Array<{ Key: string; Value: string }>;
  deletedAt?: number;
}

export interface FakeSecretsManager extends HttpFake {
  readonly secrets: Map<string, Secret>;
}

type Body = Record<string, unknown>;
const fail = (type: string, message: string): FakeResponse => ({ status: 400, body: { __type: type, message } });

/**
 * Secrets Manager fake over the AWS JSON 1.1 protocol: `POST /` with
 * `X-Amz-Target: secretsmanager.<Operation>`, SigV4-verified. Implements CreateSecret,
 * PutSecretValue (ClientRequestToken idempotency), GetSecretValue, ListSecretVersionIds (two
 * per page, to exercise paging) and DeleteSecret, with AWS's staging-label moves.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/apireference/Welcome.html
 */
export async function startFakeSecretsManager(expected: { accessKeyId: string; secretAccessKey: string; region: string }): Promise<FakeSecretsManager> {
  const secrets = new Map<string, Secret>();
  const now = (): number => Math.floor(Date.now() / 1000);

  function find(id: unknown): Secret | undefined {
    const secret = secrets.get(String(id)) ?? [...secrets.values()].find((s) => s.arn === id);
    return secret && secret.deletedAt === undefined ? secret : undefined;
  }
  const missing = (): FakeResponse => fail('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");

  function addVersion(secret: Secret, body: Body): Version {
    const version: Version = { id: String(body.ClientRequestToken ?? randomUUID()), created: now(), stages: ['AWSCURRENT'] };
    if (body.SecretBinary !== undefined) version.binary = String(body.SecretBinary);
    if (body.SecretString !== undefined) version.string = String(body.SecretString);
    for (const old of secret.versions) {
      old.stages = old.stages.filter((s) => s !== 'AWSPREVIOUS');
      if (old.stages.includes('AWSCURRENT')) old.stages = [...old.stages.filter((s) => s !== 'AWSCURRENT'), 'AWSPREVIOUS'];
    }
    secret.versions.push(version);
    return version;
  }

  const operations: Record<string, (body: Body) => FakeResponse> = {
    CreateSecret(body) {
      const name = String(body.Name ?? '');
      if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/u.test(name)) return fail('ValidationException', 'Invalid name.');
      if (secrets.has(name)) return fail('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
      const secret: Secret = { name, arn: `arn:aws:secretsmanager:${expected.region}:123456789012:secret:${name}-${randomUUID().slice(0, 6)}`, versions: [], tags: (body.Tags as Secret['tags']) ?? [] };
      secrets.set(name, secret);
      const version = body.SecretBinary !== undefined || body.SecretString !== undefined ? addVersion(secret, body) : undefined;
      return { status: 200, body: { ARN: secret.arn, Name: name, VersionId: version?.id } };
    },
    PutSecretValue(body) {
      const secret = find(body.SecretId);
      if (!secret) return missing();
      if (body.SecretBinary === undefined && body.SecretString === undefined) return fail('InvalidRequestException', 'You must provide either SecretString or SecretBinary.');
      const existing = secret.versions.find((v) => v.id === body.ClientRequestToken);
      if (existing) {
        if (existing.binary !== body.SecretBinary || existing.string !== body.SecretString) return fail('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
        return { status: 200, body: { ARN: secret.arn, Name: secret.name, VersionId: existing.id, VersionStages: existing.stages } };
      }
      const version = addVersion(secret, body);
      return { status: 200, body: { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: version.stages } };
    },
    GetSecretValue(body) {
      const secret = find(body.SecretId);
      if (!secret) return missing();
      const version = body.VersionId !== undefined ? secret.versions.find((v) => v.id === body.VersionId) : secret.versions.find((v) => v.stages.includes(String(body.VersionStage ?? 'AWSCURRENT')));
      if (!version) return fail('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for the given version.");
      return { status: 200, body: { ARN: secret.arn, Name: secret.name, VersionId: version.id, SecretBinary: version.binary, SecretString: version.string, VersionStages: version.stages, CreatedDate: version.created } };
    },
    ListSecretVersionIds(body) {
      const secret = find(body.SecretId);
      if (!secret) return missing();
      const all = secret.versions.filter((v) => body.IncludeDeprecated === true || v.stages.length > 0);
      const start = Number(body.NextToken ?? 0);
      const size = Math.min(Number(body.MaxResults ?? 100), 2);
      const next = start + size < all.length ? String(start + size) : undefined;
      const page = all.slice(start, start + size).map((v) => ({ VersionId: v.id, VersionStages: v.stages, CreatedDate: v.created }));
      return { status: 200, body: { ARN: secret.arn, Name: secret.name, Versions: page, NextToken: next } };
    },
    DeleteSecret(body) {
      const secret = find(body.SecretId);
      if (!secret) return missing();
      if (body.ForceDeleteWithoutRecovery === true) secrets.delete(secret.name);
      else secret.deletedAt = now();
      return { status: 200, body: { ARN: secret.arn, Name: secret.name, DeletionDate: now() } };
    },
  };

  function handle(request: FakeRequest): FakeResponse {
    if (request.method !== 'POST' || request.url.pathname !== '/') return fail('UnknownOperationException', 'Unknown operation.');
    if (request.headers['content-type'] !== 'application/x-amz-json-1.1') return fail('SerializationException', 'Expected application/x-amz-json-1.1.');
    const denied = checkSigV4(request, { ...expected, service: 'secretsmanager' });
    if (denied) return fail(denied.type, denied.message);
    const target = /^secretsmanager\.(\w+)$/u.exec(String(request.headers['x-amz-target'] ?? ''));
    const operation = target ? operations[target[1]!] : undefined;
    if (!operation) return fail('UnknownOperationException', 'Unknown operation.');
    return operation(JSON.parse(request.body || '{}') as Body);
  }

  const fake = await startHttpFake(handle, { contentType: 'application/x-amz-json-1.1', downBody: { __type: 'InternalServiceError', message: 'Service unavailable.' } });
  return Object.assign(fake, { secrets });
}
