import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Dependencies point one way: http → domain → db, jobs → domain, and src/model below all of
 * them; src/client (the bulk commands) speaks HTTP to the service and imports none of it. Each layer lists the layers it must not import; app.ts, server.ts and cli.ts compose
 * everything and are free. A pattern matches the relative specifier, so `../../domain/x.js`
 * from src/db/repositories is caught as well as `../domain/x.js` from src/db.
 */
const LAYERS = {
  model: { forbidden: null, why: 'src/model is the leaf: it imports nothing else of src/' },
  db: { forbidden: ['domain', 'http', 'jobs'], why: 'src/db serves the domain and knows nothing above it' },
  domain: { forbidden: ['http', 'jobs'], why: 'the domain knows no HTTP and no scheduler' },
  http: { forbidden: ['db', 'jobs'], why: 'routes call use cases bound in app.ts, never the database' },
  jobs: { forbidden: ['db', 'http'], why: 'jobs call the domain, like http' },
  client: {
    forbidden: ['db', 'domain', 'http', 'jobs'],
    why: 'the bulk commands are clients of the HTTP API only, so that they run against any deployment and against Capillary itself',
  },
};
const COMPOSITION_ROOT = ['app\\.js', 'server\\.js', 'cli\\.js'];

function layerRules() {
  return Object.entries(LAYERS).map(([layer, { forbidden, why }]) => {
    const regex =
      forbidden === null ? '^\\.\\./' : `^(\\.\\./)+(${[...forbidden, ...COMPOSITION_ROOT].join('|')})(/|$)`;
    return {
      files: [`src/${layer}/**/*.ts`],
      rules: {
        'no-restricted-imports': ['error', { patterns: [{ regex, message: `Wrong-way import: ${why}.` }] }],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Read time from the injected Clock, never Date.now().',
        },
      ],
    },
  },
  ...layerRules(),
  {
    files: ['test/**', 'bench/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
