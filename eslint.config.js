// Lint rules. workflows/ (and the pure modules the workflow bundle pulls in) may not import Node
// built-ins or leave promises floating: both break Temporal's deterministic replay. No module
// may take part in an import cycle (import-x/no-cycle; type-only imports do not count).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const workflowSandbox = [
  'workflows/**/*.ts',
  'src/policy/**/*.ts',
  'src/playbooks/duration.ts',
  'src/playbooks/template.ts',
  'src/playbooks/schema.ts',
  'src/intake/schemas.ts',
  'src/drills/report.ts',
  'src/simulate/sequence.ts',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cache/**', '.medic/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    // Sources import each other as `./x.js` (NodeNext): the resolver maps that to x.ts.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: workflowSandbox,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code runs in a deterministic sandbox: no Node built-ins (use an activity).',
          })),
          patterns: [{ group: ['../activities/*', '../../activities/*'], allowTypeImports: true, message: 'Import activities as types only.' }],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop.' },
        { name: 'fetch', message: 'I/O belongs in an activity.' },
        { name: 'process', message: 'No process access in workflows.' },
      ],
    },
  },
);
