// @ts-check
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/**
 * The layers, top to bottom; a layer may import only from the layers it lists (ARCHITECTURE.md draws them).
 * Every import of another top-level folder is checked against this table, so a module below the API that
 * reaches up into `api/`, or a query that knows a file format, fails the lint.
 */
const LAYERS = {
  // transports and launchers
  dev: ['dev', 'api', 'worker', 'activities', 'operations', 'workflows', 'db', 'mail', 'config', 'billing', 'validation'],
  bench: ['bench', 'dev', 'api', 'worker', 'activities', 'operations', 'workflows', 'db', 'mail', 'config', 'billing', 'validation', 'documents', 'exports', 'imports', 'payments'],
  cli: ['cli', 'operations', 'db', 'config', 'billing', 'validation'],
  api: ['api', 'portal', 'operations', 'workflows', 'db', 'config', 'billing', 'validation', 'documents', 'exports', 'imports', 'payments'],
  // the customer center's pages: mounted by the API and mapping refusals as it does; it reaches the books through
  // operations only, and sends its own mails (sign-in links, termination confirmations)
  portal: ['portal', 'api', 'operations', 'workflows', 'mail', 'config', 'billing', 'validation'],
  // the worker process: Temporal's activities, and the contract reconciler that calls an operation on a timer
  worker: ['worker', 'activities', 'operations', 'workflows', 'db', 'mail', 'config', 'billing'],
  activities: ['activities', 'operations', 'workflows', 'db', 'mail', 'config', 'billing'],
  // the deterministic workflow code: the pure core and its own definitions (activities by type only)
  workflows: ['workflows', 'billing'],
  // business operations
  operations: ['operations', 'workflows', 'db', 'mail', 'config', 'billing', 'validation', 'documents', 'exports', 'imports', 'payments'],
  // file formats: parse or write, nothing else
  documents: ['documents', 'billing', 'config'],
  exports: ['exports', 'billing', 'validation'],
  imports: ['imports', 'billing', 'validation'],
  // bank statements are imports too: their CSV shares the customer import's delimiter rule
  payments: ['payments', 'imports', 'billing', 'validation'],
  // the books
  db: ['db', 'config', 'billing'],
  // the SMTP client
  mail: ['mail', 'config'],
  validation: ['validation', 'billing'],
  config: ['config', 'validation', 'billing'],
  billing: ['billing'],
};

const ALL_FOLDERS = [...new Set([...Object.keys(LAYERS), 'test'])];
const NODE_BUILTINS = builtinModules.flatMap((name) => [name, `node:${name}`]);
const IO_PACKAGES = ['postgres', 'express', 'nodemailer', 'pdfkit', 'pino', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];

/** `../../db/queries/x` and `../db/x` both name the top-level folder `db`, seen from a file one or two levels down. */
function importsOf(folder) {
  return [`../${folder}`, `../${folder}/*`, `../../${folder}`, `../../${folder}/*`, `../../../${folder}/*`];
}

function boundaries(layer, { files = [`${layer}/**/*.ts`], alsoForbidden = [] } = {}) {
  const allowed = LAYERS[layer].filter((folder) => !alsoForbidden.includes(folder));
  const forbidden = ALL_FOLDERS.filter((folder) => !allowed.includes(folder));
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbidden.map((folder) => ({
            group: importsOf(folder),
            message: `${files.join(', ')} may import only from ${allowed.join(', ')} (see ARCHITECTURE.md): not from ${folder}/.`,
          })),
        },
      ],
    },
  };
}

/** Pure code runs inside the workflow sandbox or is called by it: no Node built-ins, no I/O. */
function pure(layer, allowedFolders) {
  const forbidden = ALL_FOLDERS.filter((folder) => !allowedFolders.includes(folder) && folder !== 'activities');
  return {
    files: [`${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...NODE_BUILTINS, ...IO_PACKAGES].map((name) => ({
            name,
            message: `${layer}/ is deterministic and free of I/O: no Node built-ins or I/O packages.`,
          })),
          patterns: [
            ...forbidden.map((folder) => ({
              group: importsOf(folder),
              message: `${layer}/ may import only from ${allowedFolders.join(', ')} (see ARCHITECTURE.md): not from ${folder}/.`,
            })),
            // the workflow knows its activities by their type alone; their code runs in the worker
            { group: importsOf('activities'), allowTypeImports: true, message: `${layer}/ may import only the types of activities/.` },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', '.tools/**', 'api/static/**', 'jest.config.js', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // what tsc does not catch: a promise nobody waits for, or one handed where a callback is expected
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...Object.keys(LAYERS)
    .filter((layer) => layer !== 'billing' && layer !== 'workflows')
    .map(boundaries),
  // a route reaches the books through operations only: the database client and the queries are below them
  boundaries('api', { files: ['api/routes/**/*.ts'], alsoForbidden: ['db'] }),
  pure('billing', ['billing']),
  pure('workflows', ['workflows', 'billing']),
  {
    // money is never a JS number in the core: parseFloat and Number() of an amount lose cents
    files: ['billing/**/*.ts', 'operations/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'parseFloat', message: 'money is a Decimal (billing/money.ts), never a JS number' }],
    },
  },
  {
    // a route translates HTTP into an operation call and reads; SQL belongs to db/queries
    files: ['api/**/*.ts', 'activities/**/*.ts', 'cli/**/*.ts', 'worker/**/*.ts', 'portal/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "TaggedTemplateExpression[tag.name=/^(sql|tx)$/]",
          message: 'SQL lives in db/queries; a transport calls an operation or a query function',
        },
      ],
    },
  },
);
