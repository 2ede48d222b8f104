// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import boundaries from 'eslint-plugin-boundaries';
import folderCycles from './scripts/lint-folder-cycles.mjs';

/**
 * The layers of src/, top to bottom. A folder may import from its own layer and the layers below,
 * never from above; within a layer, `lab/no-folder-cycle` keeps the imports one way. A new folder
 * under src/ must be placed here (until then every import from or into it is an error).
 */
const LAYERS = [
  ['cli', 'extension', 'vscode'],
  ['dashboard', 'host'],
  ['scenarios', 'load', 'export'],
  ['controller'],
  ['faults', 'metrics', 'state'],
  ['engine'],
  ['roles'],
  ['moodle'],
  ['docker', 'protocol'],
  ['core'],
];
const ENTRY_FILES = new Set(['cli', 'extension']);
/** The webview runs in the browser: it may use the protocol and the core primitives only. */
const WEBVIEW_MAY_USE = ['protocol', 'core'];
const layerText = LAYERS.map((l) => l.join('/')).join(' → ');

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: { ...globals.node } } },
  {
    // Dependencies point one way: layers (eslint-plugin-boundaries) and no folder cycles (scripts/lint-folder-cycles.mjs).
    files: ['src/**/*.ts', 'webview/**/*.ts'],
    plugins: { boundaries, lab: folderCycles },
    settings: {
      'import/resolver': { node: { extensions: ['.ts', '.js', '.mjs', '.json'] } },
      'boundaries/elements': [
        // src/cli.ts and src/extension.ts are entry points: nothing imports them, they may import anything.
        ...LAYERS.flat()
          .filter((name) => !ENTRY_FILES.has(name))
          .map((name) => ({ type: name, pattern: `src/${name}` })),
        { type: 'webview', pattern: 'webview' },
        { type: 'a folder in no layer', pattern: 'src/*' },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message: `{{from.elementPath}} may not import {{to.elementPath}} (layers top to bottom: ${layerText}; a new folder goes into LAYERS in eslint.config.mjs)`,
          policies: [
            ...LAYERS.map((layer, i) => ({
              from: { element: { types: { anyOf: layer } } },
              allow: { to: { element: { types: { anyOf: LAYERS.slice(i).flat() } } } },
            })),
            { from: { element: { type: 'webview' } }, allow: { to: { element: { types: { anyOf: ['webview', ...WEBVIEW_MAY_USE] } } } } },
          ],
        },
      ],
      'lab/no-folder-cycle': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only src/docker talks to dockerode; only src/vscode and the extension entry talk to vscode.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'dockerode', message: 'Only src/docker/ may import dockerode.' },
            { name: 'vscode', message: 'Only src/vscode/ and src/extension.ts may import vscode.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/docker/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Only src/vscode/ may import vscode.' }] }] },
  },
  {
    files: ['src/vscode/**/*.ts', 'src/extension.ts', 'test/vscode/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'dockerode', message: 'Only src/docker/ may import dockerode.' }] }] },
  },
  {
    // Benches run against src/ and bench/ only: never the test tiers' fakes and helpers.
    files: ['bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'dockerode', message: 'Only src/docker/ may import dockerode.' },
            { name: 'vscode', message: 'Only src/vscode/ and src/extension.ts may import vscode.' },
          ],
          patterns: [{ group: ['**/test/**', '../test', '../test/*'], message: 'Benches do not import test code: put what they share in bench/ or src/.' }],
        },
      ],
    },
  },
  {
    // The webview runs in a browser: no vscode, no node built-ins, no dockerode (type-only imports of the protocol are fine).
    files: ['webview/**/*.ts', 'src/protocol/**/*.ts', 'src/core/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'The webview and the protocol must not import vscode.', allowTypeImports: false },
            { name: 'dockerode', message: 'The webview and the protocol must not import dockerode.' },
          ],
          patterns: [
            { group: ['node:*', 'fs', 'path', 'child_process', 'net', 'http', 'os', 'crypto'], message: 'No Node built-ins in the webview or protocol.' },
          ],
        },
      ],
    },
  },
);
