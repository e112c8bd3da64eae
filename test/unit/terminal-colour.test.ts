import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colourAllowed } from '../../src/cli/terminal-colour.js';

describe('colourAllowed: colour codes only to a terminal, and not with NO_COLOR', () => {
  it('a terminal gets colour; a pipe or a file does not', () => {
    assert.equal(colourAllowed({ isTTY: true }, {}), true);
    assert.equal(colourAllowed({ isTTY: false }, {}), false);
    assert.equal(colourAllowed({}, {}), false, 'a pipe has no isTTY at all');
  });

  it('NO_COLOR set to anything but the empty string turns colour off on a terminal too (no-color.org)', () => {
    assert.equal(colourAllowed({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colourAllowed({ isTTY: true }, { NO_COLOR: 'false' }), false);
    assert.equal(colourAllowed({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is as if unset');
  });
});
