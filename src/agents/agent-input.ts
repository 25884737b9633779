import { z } from 'zod';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/; // RFC 6749 §3.3 scope-token

const publicJwk = z
  .object({
    kty: z.enum(['OKP', 'EC', 'RSA'], { message: 'kty must be OKP, EC or RSA (symmetric keys are not accepted)' }),
    kid: z.string().min(1).max(200).optional(),
    crv: z.string().optional(),
    x: z.string().optional(),
    y: z.string().optional(),
    n: z.string().optional(),
    e: z.string().optional(),
    alg: z.string().optional(),
    use: z.literal('sig').optional(),
  })
  .loose()
  .superRefine((jwk, ctx) => {
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
      if (member in jwk) ctx.addIssue({ code: 'custom', message: `is a private key (has "${member}"): register the public key only` });
    }
    if (jwk.kty === 'OKP' && jwk.crv !== 'Ed25519') ctx.addIssue({ code: 'custom', message: 'OKP keys must use crv Ed25519' });
    if (jwk.kty === 'EC' && !['P-256', 'P-384', 'P-521'].includes(jwk.crv ?? '')) ctx.addIssue({ code: 'custom', message: 'EC keys must use crv P-256, P-384 or P-521' });
    if (jwk.kty === 'RSA' && (jwk.n ?? '').length < 342) ctx.addIssue({ code: 'custom', message: 'RSA keys must be at least 2048 bits' });
    if (jwk.alg && ['none', 'HS256', 'HS384', 'HS512'].includes(jwk.alg)) ctx.addIssue({ code: 'custom', message: `alg ${jwk.alg} is not accepted` });
  });

/** Body of `POST /v1/admin/agents`. */
export const newAgentInput = z
  .object({
    name: z.string().regex(NAME, 'must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit'),
    class: z.string().regex(NAME, 'must be 1-63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit'),
    scopes: z.array(z.string().regex(SCOPE, 'must be a scope token (RFC 6749 §3.3): no spaces or quotes')).max(200).default([]),
    jwks: z.object({ keys: z.array(publicJwk).min(1, 'must hold at least one key').max(10) }).strict().optional(),
    jwks_uri: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict()
  .refine((v) => (v.jwks === undefined) !== (v.jwks_uri === undefined), {
    message: 'give exactly one of jwks or jwks_uri',
    path: ['jwks'],
  });

export type NewAgentInput = z.infer<typeof newAgentInput>;

/** The first issue of a zod error as "field: message", for `error_description`. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid input';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
