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
