import { describe, expect, it } from 'vitest';
import { rowCells, serviceUrl } from '../../src/client/bulk-options.js';
import { CannotRun } from '../../src/client/cannot-run.js';

// SPEC §2a: where the bulk commands send their requests, and what a malformed row says.
describe('the service URL of a bulk command', () => {
  it('is --url when given, over PP_URL', () => {
    expect(serviceUrl('http://10.0.0.1:9000', { PP_URL: 'http://10.0.0.2:8080' }).href).toBe('http://10.0.0.1:9000/');
  });

  it('is PP_URL without --url, else http://127.0.0.1:8080', () => {
    expect(serviceUrl(undefined, { PP_URL: 'https://pp.example.com' }).href).toBe('https://pp.example.com/');
    expect(serviceUrl(undefined, {}).href).toBe('http://127.0.0.1:8080/');
  });

  it('names the setting that is not an http(s) URL', () => {
    expect(() => serviceUrl('nonsense', {})).toThrow(new CannotRun('--url is not a URL: nonsense'));
    expect(() => serviceUrl(undefined, { PP_URL: 'ftp://pp.example.com' })).toThrow(
      new CannotRun('PP_URL must be an http or https URL: ftp://pp.example.com'),
    );
  });
});

describe('a row of the wrong width', () => {
  it('keeps its cells as far as the header goes and names the counts', () => {
    expect(rowCells(['a', 'b', 'c'], 2)).toEqual({
      cells: ['a', 'b'],
      malformed: 'Malformed row: 3 cells, the header has 2 (beyond the last column: "c")',
    });
    expect(rowCells(['a'], 2)).toEqual({ cells: ['a', ''], malformed: 'Malformed row: 1 cell, the header has 2' });
    expect(rowCells(['a', 'b'], 2)).toEqual({ cells: ['a', 'b'] });
  });
});
