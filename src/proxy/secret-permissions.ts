/**
 * The permissions a managed secret grants through the proxy: `secret:read` allows GET, HEAD and
 * OPTIONS; `secret:write` allows every request. Token exchange of a `sec_…` id starts from both.
 */
export const SECRET_PERMISSIONS = ['secret:read', 'secret:write'] as const;
