/** A policy for connection tests: `assistant` gets anything, `reader` is downgraded to reads; `acme` and `octo` allow broker mode, `acme-locked` does not. */
export const CONNECT_TEST_POLICY = `version: 1
agent_classes:
  assistant:
    description: may do anything the connection allows
  reader:
    description: reads only
providers:
  acme:
    upstream_tokens: true
    ttl: 15m                  # its revocation ends the grant: broker tokens are not revoked early
  acme-solo:
    upstream_tokens: true
    ttl: 15m                  # shorter than the upstream's 1 h tokens: broker tokens are revoked at 15 min
  acme-locked: {}
  octo:
    upstream_tokens: true
rules:
  - id: readers-read
    effect: downgrade
    agent_classes: [reader]
    scopes: ["*:write"]
    max_scope: ["*:read"]
  - id: readers
    effect: allow
    agent_classes: [reader]
    scopes: ["*:read"]
  - id: assistants
    effect: allow
    agent_classes: [assistant]
    scopes: ["*"]
`;
