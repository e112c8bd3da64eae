import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandFailure, CommandError } from '../../src/cli/run-command.js';
import { ConfigError } from '../../src/config/load-config.js';

/** An error as node:fs throws it. */
function fsError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: permission denied, ${syscall} '${path}'`), {
    code,
    syscall,
    path,
    errno: -13,
  });
}

describe('commandFailure: what a failed command prints, and its exit status', () => {
  it('a configuration error: its message alone, exit 2', () => {
    assert.deepEqual(commandFailure(new ConfigError('invalid configuration port (--port): expected a number')), {
      text: 'invalid configuration port (--port): expected a number',
      exitCode: 2,
    });
  });

  it('a CommandError: its message alone, exit 1', () => {
    assert.deepEqual(commandFailure(new CommandError('no range data loaded yet')), {
      text: 'no range data loaded yet',
      exitCode: 1,
    });
  });

  it('a path the file system refuses: one line naming it, exit 1', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS']) {
      const { text, exitCode } = commandFailure(fsError(code, 'mkdir', '/srv/hopmap/.hopmap'));
      assert.equal(exitCode, 1);
      assert.equal(text, `${code}: permission denied, mkdir '/srv/hopmap/.hopmap' (check that path's owner and mode)`);
      assert.ok(!text.includes('\n'));
    }
  });

  it('anything else is a bug: its stack trace, exit 1', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'rows')");
    const { text, exitCode } = commandFailure(bug);
    assert.equal(exitCode, 1);
    assert.equal(text, bug.stack);
    assert.match(text, /\n\s+at /);
    const noPath = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' });
    assert.equal(commandFailure(noPath).text, noPath.stack, 'a refusal without a path is not read as a state dir');
    assert.equal(commandFailure('a string').text, 'a string');
  });
});
