import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { int8 } from '../../src/db/int8.js';
import { PROJECT_ROOT } from '../../src/version.js';

// docs/sql.md: raw SQL is the one way to query; drizzle is the schema, the migration generator and the source of
// row types. So drizzle's query builder lives nowhere, and outside these files drizzle and the schema are types only.
const BUILDER_ALLOWED = new Set(['db/migrate.ts']);
const isSchema = (file: string) => file.startsWith('db/schema/');

const SRC = join(PROJECT_ROOT, 'src');

interface ModuleUse {
  file: string;
  module: string;
  typeOnly: boolean;
}

/** What a module specifier names: a package as written, a file under src/ as its path there. */
function target(file: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  return relative(SRC, resolve(dirname(join(SRC, file)), specifier).replace(/\.js$/, '.ts'))
    .split(sep)
    .join('/');
}

/** Every import, re-export and dynamic import of one source, and whether it brings types only. */
function moduleUses(file: string, source: string): ModuleUse[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const uses: ModuleUse[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name && !!bindings && ts.isNamedImports(bindings) && bindings.elements.every((e) => e.isTypeOnly)));
      uses.push({ file, module: target(file, node.moduleSpecifier.text), typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      uses.push({ file, module: target(file, node.moduleSpecifier.text), typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      uses.push({ file, module: target(file, node.arguments[0].text), typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return uses;
}

/** Why one use breaks the policy, or null. */
function verdict(u: ModuleUse): string | null {
  if (isSchema(u.file) || BUILDER_ALLOWED.has(u.file) || u.typeOnly) return null;
  if (/^drizzle-orm(\/|$)/.test(u.module))
    return `src/${u.file} imports ${u.module} for values: query with raw SQL, take only types from drizzle (docs/sql.md)`;
  if (isSchema(u.module))
    return `src/${u.file} imports the table objects of src/${u.module}: use \`import type\` and raw SQL (docs/sql.md)`;
  return null;
}

const sources = readdirSync(SRC, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f.split(sep).join('/'), source: readFileSync(join(SRC, f), 'utf8') }));

describe('one SQL policy (docs/sql.md): raw SQL queries, drizzle for schema and types', () => {
  const uses = sources.flatMap((s) => moduleUses(s.file, s.source));

  it('reads the imports it judges', () => {
    assert.ok(
      uses.some((u) => u.file === 'db/migrate.ts' && u.module === 'drizzle-orm/node-postgres' && !u.typeOnly),
      'the migrator imports drizzle for values: the reader missed it',
    );
    assert.ok(
      uses.some((u) => u.file === 'db/table-row.ts' && u.module === 'drizzle-orm' && u.typeOnly),
      'table-row.ts takes types from drizzle: the reader missed it',
    );
    assert.ok(
      uses.some((u) => !isSchema(u.file) && isSchema(u.module) && u.typeOnly),
      'no type-only import of the schema found: the reader is broken',
    );
  });

  it('tells a query-builder import from a type-only one', () => {
    const judge = (source: string, file = 'keys/key-store.ts') => moduleUses(file, source).map(verdict);
    assert.match(judge("import { eq } from 'drizzle-orm';")[0] ?? '', /imports drizzle-orm for values/);
    assert.match(judge("import { drizzle } from 'drizzle-orm/node-postgres';")[0] ?? '', /for values/);
    assert.match(judge("const d = await import('drizzle-orm/node-postgres');")[0] ?? '', /for values/);
    assert.match(judge("import { apiKeys } from '../db/schema/manager.js';")[0] ?? '', /import type/);
    assert.match(judge("import { type apiKeys, users } from '../db/schema/manager.js';")[0] ?? '', /import type/);
    assert.deepEqual(judge("import type { apiKeys } from '../db/schema/manager.js';"), [null]);
    assert.deepEqual(judge("import { type users } from '../db/schema/manager.js';"), [null]);
    assert.deepEqual(judge("import type * as schema from '../db/schema/targets.js';"), [null]);
    assert.deepEqual(judge("import type { Table } from 'drizzle-orm';"), [null]);
    assert.deepEqual(judge("import { drizzle } from 'drizzle-orm/node-postgres';", 'db/migrate.ts'), [null]);
    assert.deepEqual(judge("import { sql } from 'drizzle-orm';", 'db/schema/targets.ts'), [null]);
  });

  it('no file outside the schema and the migrator uses drizzle or the table objects for values', () => {
    assert.deepEqual(uses.map(verdict).filter(Boolean), []);
  });

  it("drizzle's query builder is built nowhere but in the migrator", () => {
    const built = sources.filter((s) => /\bdrizzle\s*\(/.test(s.source)).map((s) => s.file);
    assert.deepEqual(
      built.filter((f) => !BUILDER_ALLOWED.has(f)),
      [],
    );
  });
});

describe('int8(): the one way an int8 becomes a number (src/db/int8.ts)', () => {
  it('reads the strings node-postgres gives, and numbers, exactly', () => {
    assert.equal(int8('0'), 0);
    assert.equal(int8('42'), 42);
    assert.equal(int8('-7'), -7);
    assert.equal(int8(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
    assert.equal(int8(`-${Number.MAX_SAFE_INTEGER}`), -Number.MAX_SAFE_INTEGER);
    assert.equal(int8(17), 17);
    assert.equal(int8(null), null);
  });

  it('refuses what a number would round, and what is not an integer', () => {
    assert.throws(() => int8('9007199254740992'), /int8 value "9007199254740992" is not an integer within/);
    assert.throws(() => int8('9223372036854775807'), RangeError);
    assert.throws(() => int8(2 ** 53), RangeError);
    for (const bad of ['', ' 1', '1.5', '1e3', '0x10', 'abc']) assert.throws(() => int8(bad), RangeError, bad);
    assert.throws(() => int8(1.5), RangeError);
  });
});
