/**
 * Baseline for the token benchmark: a bare `node:http` server doing only the cryptography of a
 * client_credentials + private_key_jwt token request, and nothing else (no framework, no
 * storage, no replay detection): parse the urlencoded body, verify one Ed25519 client assertion
 * (jose `jwtVerify`, pre-imported public key, iss/aud/exp checked), sign one Ed25519 JWT access
 * token (jose `SignJWT`, `typ: at+jwt`) and answer a token response.
 *
 * Run as a child process by bench/token.ts. Environment:
 *   PORT              port to listen on (127.0.0.1)
 *   BENCH_ISSUER      this server's issuer URL = expected assertion audience
 *   BENCH_CLIENT_ID   expected assertion iss/sub
 *   BENCH_CLIENT_JWK  the client's public JWK (JSON)
 * Prints `BENCH_READY {...}` on stdout once listening; stops on SIGTERM/SIGINT or stdin EOF.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { onShutdown, requireEnv } from './child-runtime.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const TOKEN_TTL_SECONDS = 4 * 3600;

const port = Number(requireEnv('PORT'));
const issuer = requireEnv('BENCH_ISSUER');
const clientId = requireEnv('BENCH_CLIENT_ID');
const clientKey = await importJWK(JSON.parse(requireEnv('BENCH_CLIENT_JWK')) as JWK, 'EdDSA');
const { privateKey: signingKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
const kid = (await exportJWK(publicKey)).x!.slice(0, 16);

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  if (form.get('grant_type') !== 'client_credentials') {
    return send(res, 400, { error: 'unsupported_grant_type' });
  }
  const assertion = form.get('client_assertion');
  if (form.get('client_assertion_type') !== ASSERTION_TYPE || !assertion) {
    return send(res, 400, { error: 'invalid_request', error_description: 'client_assertion missing' });
  }
  try {
    await jwtVerify(assertion, clientKey, {
      issuer: clientId,
      subject: clientId,
      audience: issuer,
      algorithms: ['EdDSA'],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: 5,
    });
  } catch (err) {
    return send(res, 401, { error: 'invalid_client', error_description: `client authentication failed: ${(err as Error).message}` });
  }
  const now = Math.floor(Date.now() / 1000);
  const accessToken = await new SignJWT({ client_id: clientId, scope: '' })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
    .setIssuer(issuer)
    .setSubject(clientId)
    .setAudience(issuer)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + TOKEN_TTL_SECONDS)
    .sign(signingKey);
  send(res, 200, { access_token: accessToken, expires_in: TOKEN_TTL_SECONDS, token_type: 'Bearer', scope: '' });
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/v1/token') {
    token(req, res).catch((err: unknown) => send(res, 500, { error: 'server_error', error_description: String(err) }));
    return;
  }
  send(res, 404, { error: 'not_found' });
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => resolve());
});
process.stdout.write(`BENCH_READY ${JSON.stringify({ target: 'baseline', issuer })}\n`);

onShutdown(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});
