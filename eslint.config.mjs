import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist',
      '**/node_modules',
      '**/.nx',
      '**/coverage',
      '**/reports',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // NestJS takes its options as object literals typed with classes.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // NestJS modules are classes with decorators and no members.
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'scope:schemas', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:sandbox', onlyDependOnLibsWithTags: ['scope:schemas'] },
            {
              sourceTag: 'scope:kafka',
              onlyDependOnLibsWithTags: ['scope:schemas', 'scope:runtime'],
            },
            { sourceTag: 'scope:limiter', onlyDependOnLibsWithTags: ['scope:runtime'] },
            { sourceTag: 'scope:runtime', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:stack', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:health', onlyDependOnLibsWithTags: ['scope:kafka'] },
            { sourceTag: 'scope:demo', onlyDependOnLibsWithTags: ['scope:stack', 'scope:schemas'] },
            { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:stack', 'scope:schemas'] },
            {
              sourceTag: 'scope:loadtests',
              onlyDependOnLibsWithTags: ['scope:stack', 'scope:schemas'],
            },
            { sourceTag: 'scope:deploy', onlyDependOnLibsWithTags: [] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts'],
    rules: {
      // Tests read fields of parsed JSON bodies and of mocks.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
