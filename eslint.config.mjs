// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: { ...globals.node } } },
  {
    files: ['**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only src/docker talks to dockerode; only src/vscode and the extension entry talk to vscode.
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'dockerode', message: 'Only src/docker/ may import dockerode.' },
          { name: 'vscode', message: 'Only src/vscode/ and src/extension.ts may import vscode.' },
        ],
      }],
    },
  },
  { files: ['src/docker/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Only src/vscode/ may import vscode.' }] }] } },
  { files: ['src/vscode/**/*.ts', 'src/extension.ts', 'test/vscode/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'dockerode', message: 'Only src/docker/ may import dockerode.' }] }] } },
  {
    // The webview runs in a browser: no vscode, no node built-ins, no dockerode (type-only imports of the protocol are fine).
    files: ['webview/**/*.ts', 'src/protocol/**/*.ts', 'src/scenarios/report/chart-geometry.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: 'The webview and the protocol must not import vscode.', allowTypeImports: false },
          { name: 'dockerode', message: 'The webview and the protocol must not import dockerode.' },
        ],
        patterns: [{ group: ['node:*', 'fs', 'path', 'child_process', 'net', 'http', 'os', 'crypto'], message: 'No Node built-ins in the webview or protocol.' }],
      }],
    },
  },
);
