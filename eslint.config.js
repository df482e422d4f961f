// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // Library code talks through the injected logger and returns errors; only the CLI entry touches the console.
      'no-console': 'error',
    },
  },
  {
    files: ['src/store/**/*.ts'],
    rules: {
      // fs.promises loads Node's internal/fs/promises (readline, fs/dir, watchers) at the first read of a login.
      'no-restricted-imports': [
        'error',
        ...['node:fs', 'fs'].map((name) => ({
          name,
          importNames: ['promises'],
          message: 'use ./fs-calls: short commands read the store without fs.promises',
        })),
        ...['node:fs/promises', 'fs/promises'].map((name) => ({
          name,
          message: 'use ./fs-calls: short commands read the store without fs.promises',
        })),
      ],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Validators match control characters on purpose.
      'no-control-regex': 'off',
    },
  },
);
