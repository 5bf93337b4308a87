import { filePathProblem } from './file-path';

describe('filePathProblem', () => {
  it.each(['model.bin', 'weights/model.safetensors', 'a/b/c/d.txt', '.hidden', 'dir.v2/..file', 'ünïcode/файл.bin', 'x'.repeat(255)])(
    'accepts %s',
    (path) => expect(filePathProblem(path)).toBeUndefined(),
  );

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['parent', '..'],
    ['parent inside', 'a/../b'],
    ['parent at the start', '../x'],
    ['current dir', './a'],
    ['absolute', '/etc/passwd'],
    ['backslash', 'a\\b'],
    ['windows traversal', '..\\x'],
    ['drive letter', 'C:/x'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['empty segment', 'a//b'],
    ['trailing slash', 'a/'],
    ['segment too long', 'x'.repeat(256)],
    ['path too long', `${'x'.repeat(200)}/`.repeat(6)],
    ['not NFC', 'e\u0301.bin'],
    ['lone surrogate', 'a\ud800b'],
  ])('refuses %s', (_, path) => expect(filePathProblem(path)).toEqual(expect.any(String)));
});
