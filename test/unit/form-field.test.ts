import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldText, formField, formText } from '../../src/http/form-field.js';

describe('form fields', () => {
  it('reads a field of a body, and nothing from no body or a body that is not an object', () => {
    assert.equal(formField({ name: 'alice' }, 'name'), 'alice');
    assert.equal(formField({ name: 'alice' }, 'role'), undefined);
    for (const body of [undefined, null, '', 'name=alice', 42]) assert.equal(formField(body, 'name'), undefined);
  });

  it("writes a field's value as String(value ?? '') does, for every value a form or JSON body holds", () => {
    const cases: Array<[unknown, string]> = [
      [undefined, ''],
      [null, ''],
      ['', ''],
      ['alice', 'alice'],
      [' a\u0000b ', ' a\u0000b '],
      [0, '0'],
      [-1.5, '-1.5'],
      [true, 'true'],
      [false, 'false'],
      [[], ''],
      [['a', 'b'], 'a,b'],
      [['a', ['b', 'c'], null, 3, {}], 'a,b,c,,3,[object Object]'],
      [{}, '[object Object]'],
      [{ name: 'x' }, '[object Object]'],
    ];
    for (const [value, text] of cases) assert.equal(fieldText(value), text, JSON.stringify(value));
    assert.equal(formText({ name: ['a', 'b'] }, 'name'), 'a,b');
    assert.equal(formText(undefined, 'name'), '');
  });
});
