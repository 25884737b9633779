import type { ConnectChoice } from '../connections/connect-service.ts';

/*
 * The hosted Connect pages: plain server-rendered HTML, every dynamic value escaped, no external
 * resources. Scripts only where a popup must report back, allowed by a per-response CSP nonce.
 */

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}ul{list-style:none;padding:0}li{margin:.5rem 0}
button{font:inherit;padding:.6rem 1rem;border:1px solid #888;border-radius:.4rem;background:#fff;cursor:pointer;width:100%;text-align:left}
button:hover{background:#f3f3f3}input{font:inherit;padding:.3rem;width:100%;box-sizing:border-box;margin:.2rem 0}
.error{color:#a00}.muted{color:#666;font-size:.9rem}`;

export function page(title: string, body: string, script?: { nonce: string; code: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}${script ? `<script nonce="${script.nonce}">${script.code}</script>` : ''}</body></html>`;
}

/** The provider picker. Each choice is a GET form to `/connect/authorize` carrying the session token and mode. */
export function pickerPage(input: { token: string; mode: string; origin?: string; choices: ConnectChoice[]; endUser: string }): string {
  const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  const items = input.choices.map((c) => `<li><form method="get" action="/connect/authorize">
${hidden('token', input.token)}${hidden('mode', input.mode)}${input.origin ? hidden('origin', input.origin) : ''}${hidden('provider', c.name)}
${c.templates.map((t) => `<label>${escapeHtml(t.description)}<input name="param_${escapeHtml(t.name)}" required placeholder="${escapeHtml(t.example ?? '')}"></label>`).join('')}
<button type="submit" data-provider="${escapeHtml(c.name)}">Connect ${escapeHtml(c.displayName)}</button></form></li>`).join('\n');
  const body = input.choices.length > 0
    ? `<h1>Connect an account</h1><p class="muted">Choose the service to connect. You will sign in there and approve access; this app never sees your password.</p><ul>${items}</ul>`
    : '<h1>Nothing to connect</h1><p>No provider is available for this link. Ask the app for a new one.</p>';
  return page('Connect an account', body);
}

export function errorPage(error: string, description: string): string {
  return page('Connect failed', `<h1>Could not connect</h1><p class="error" data-error="${escapeHtml(error)}">${escapeHtml(description)}</p><p class="muted">Error: ${escapeHtml(error)}</p>`);
}

export function donePage(message: string): string {
  return page('Connected', `<h1>Done</h1><p data-status="done">${escapeHtml(message)}</p>`);
}

/** The page a popup ends on: it posts the result to the opener, only to the origin that opened it, and closes. */
export function popupResultPage(nonce: string, origin: string, message: Record<string, unknown>): string {
  // JSON in a script: escape "<" so that no value can close the script element
  const json = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
  const code = `(function(){var m=${json(message)};if(window.opener){window.opener.postMessage(m,${json(origin)});}setTimeout(function(){window.close();},50);})();`;
  const text = message.status === 'completed' ? 'Connected. You can close this window.' : `Could not connect: ${String(message.error_description ?? message.error)}`;
  return page('Connect', `<p data-status="${escapeHtml(String(message.status))}">${escapeHtml(text)}</p>`, { nonce, code });
}
