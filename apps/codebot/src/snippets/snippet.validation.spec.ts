import {
  languageFromName,
  parseGistId,
  snippetNameFromFile,
  validateImportInput,
  validateSnippetInput,
} from './snippet.validation.js';

describe('validateSnippetInput', () => {
  it('accepts a valid snippet', () => {
    const body = { owner: 'alice', name: 'hello.py', language: 'python', code: 'print(1)' };
    expect(validateSnippetInput(body).value).toEqual(body);
  });

  it('names every bad field', () => {
    const r = validateSnippetInput({ owner: '', name: '../x', language: 'Py thon', code: '' });
    expect(r.errors?.map((e) => e.field)).toEqual(['owner', 'name', 'language', 'code']);
    expect(validateSnippetInput('nope').errors?.[0]?.field).toBe('body');
  });

  it('refuses oversized code', () => {
    const r = validateSnippetInput({
      owner: 'a',
      name: 'b',
      language: 'c',
      code: 'x'.repeat(70_000),
    });
    expect(r.errors?.map((e) => e.field)).toEqual(['code']);
  });
});

describe('gist helpers', () => {
  it('parses ids and URLs', () => {
    expect(parseGistId('aa5a315d61ae9438b18d')).toBe('aa5a315d61ae9438b18d');
    expect(parseGistId('https://gist.github.com/octo/aa5a315d61ae9438b18d')).toBe(
      'aa5a315d61ae9438b18d',
    );
    expect(parseGistId('not a gist!')).toBeUndefined();
    expect(validateImportInput({ owner: 'a', gistId: '??' }).errors?.[0]?.field).toBe('gistId');
  });

  it('derives names and languages from file names', () => {
    expect(languageFromName('a.py')).toBe('python');
    expect(languageFromName('Makefile')).toBe('text');
    expect(snippetNameFromFile('.my file (1).ts')).toBe('my-file-1-.ts');
  });
});
