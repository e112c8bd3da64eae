import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../src/version.js';
import { declaredNeeds, laneOf, NEEDS, skipSummary, undeclaredUse } from '../support/needs.js';

const testFiles = readdirSync(join(PROJECT_ROOT, 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => relative(PROJECT_ROOT, join(PROJECT_ROOT, 'test', f)));

/** needs(...) evaluated in a fresh process, with the environment given. */
function needsIn(env: Record<string, string>, ...list: string[]): string | false {
  const code = `import { needs } from './test/support/needs.ts'; console.log(JSON.stringify(needs(${list.map((n) => JSON.stringify(n)).join(', ')})));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as string | false;
}

describe('test lanes: needs() and the skip summary', () => {
  it('reads the declared needs and puts a file in its lane', () => {
    assert.equal(declaredNeeds("import x from 'y';\n\ndescribe('a', () => {});"), undefined);
    assert.deepEqual(declaredNeeds("const skip = needs('database', 'root', 'ip');\n"), ['database', 'root', 'ip']);
    assert.equal(laneOf("describe('a', () => {});"), 'unit');
    assert.equal(laneOf("const skip = needs('database');"), 'db');
    assert.equal(laneOf("const skip = needs('database', 'chromium');"), 'lab');
    assert.equal(laneOf("const skip = needs('shellcheck');"), 'lab');
  });

  it('notices a file that uses the database, a browser or a lab without declaring it', () => {
    const imports = (names: string, from: string) => `\nimport { ${names} } from '${from}';\n`;
    assert.match(
      undeclaredUse(imports('createTestDatabase, quietLog', '../support/test-databases.js')) ?? '',
      /imports createTestDatabase but does not declare needs\('database'\)/,
    );
    assert.match(
      undeclaredUse(`const skip = needs('database');${imports('launchBrowser', '../support/browser.js')}`) ?? '',
      /needs\('chromium'\)/,
    );
    assert.equal(
      undeclaredUse(`const skip = needs('database');${imports('createTestDatabase', '../support/test-databases.js')}`),
      undefined,
    );
    assert.equal(
      undeclaredUse(imports('quietLog', '../support/test-databases.js')),
      undefined,
      'the quiet logger needs no database',
    );
  });

  it('every test file declares only known needs, and every need it uses', () => {
    const wrong = testFiles.flatMap((f) => {
      const source = readFileSync(join(PROJECT_ROOT, f), 'utf8');
      const unknown = (declaredNeeds(source) ?? []).filter((n) => !NEEDS.includes(n));
      const undeclared = undeclaredUse(source);
      return [
        ...(unknown.length ? [`${f}: unknown needs ${unknown.join(', ')}`] : []),
        ...(undeclared ? [`${f}: ${undeclared}`] : []),
      ];
    });
    assert.deepEqual(wrong, []);
  });

  it('a missing need is the reason to skip, with what to install; a present one is not', () => {
    assert.equal(needsIn({ HOPMAP_TEST_PRETEND_MISSING: '' }, 'database'), false);
    assert.equal(
      needsIn({ HOPMAP_TEST_PRETEND_MISSING: 'root,chromium' }, 'root', 'database', 'chromium'),
      'needs root (HOPMAP_TEST_PRETEND_MISSING); needs chromium (HOPMAP_TEST_PRETEND_MISSING)',
    );
    assert.equal(
      needsIn({ PATH: '/nonexistent', HOPMAP_TEST_PRETEND_MISSING: '' }, 'shellcheck')
        .toString()
        .startsWith('needs shellcheck'),
      !readdirSync('/usr/sbin').includes('shellcheck'),
    );
    assert.equal(
      needsIn({ HOPMAP_TEST_NO_DATABASE: 'no embedded binaries' }, 'database'),
      'needs PostgreSQL (no embedded binaries)',
    );
    assert.throws(() => needsIn({}, 'sudo'), /unknown need/);
  });

  it('counts skips by reason, most frequent first', () => {
    assert.equal(skipSummary([]), '');
    assert.equal(
      skipSummary(['needs chromium', 'needs root', 'needs root', 'needs root; needs chromium', 'needs root']),
      'skipped 5: needs root (3), needs chromium (1), needs root; needs chromium (1)',
    );
  });
});
