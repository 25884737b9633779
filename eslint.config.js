// ESLint 10 flat config. Non-type-aware typescript-eslint rules keep `npm run lint` fast;
// `npm run typecheck` covers the type-level checks.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node.js globals (the `globals` package is not a dependency). */
const nodeGlobals = Object.fromEntries(
  [
    'AbortController', 'AbortSignal', 'atob', 'Blob', 'BroadcastChannel', 'btoa', 'Buffer',
    'clearImmediate', 'clearInterval', 'clearTimeout', 'console', 'crypto', 'CustomEvent',
    'DOMException', 'Event', 'EventTarget', 'fetch', 'File', 'FormData', 'global', 'globalThis',
    'Headers', 'MessageChannel', 'MessageEvent', 'MessagePort', 'navigator', 'performance',
    'process', 'queueMicrotask', 'ReadableStream', 'Request', 'Response', 'setImmediate',
    'setInterval', 'setTimeout', 'structuredClone', 'TextDecoder', 'TextEncoder',
    'TransformStream', 'URL', 'URLSearchParams', 'WebAssembly', 'WebSocket', 'WritableStream',
  ].map((name) => [name, 'readonly']),
);

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'data/', 'sdk/**/dist/', 'coverage/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs,ts,mts,cts}'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: nodeGlobals,
    },
    rules: {
      // typescript-eslint's version handles both JS and TS; the core rule would report twice.
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' },
    },
  },
);
