import { parseCommand, parseTelegramUpdate, type TelegramMessage } from './telegram-update.js';

const msg = (text: string, reply?: string): TelegramMessage => ({
  message_id: 7,
  chat: { id: 42, type: 'private' },
  from: { id: 42 },
  text,
  ...(reply !== undefined
    ? { reply_to_message: { message_id: 6, chat: { id: 42, type: 'private' }, text: reply } }
    : {}),
});

describe('parseCommand', () => {
  it('splits name and code on the same line', () => {
    expect(parseCommand(msg('/save hello.py print(1)'))).toEqual({
      name: 'save',
      word: 'save',
      arg: 'hello.py',
      rest: 'print(1)',
    });
  });

  it('keeps multi-line code after the command line and strips @botname', () => {
    const cmd = parseCommand(msg('/save@CodeBot fib.js\nconst a = 1;\n  return a;'));
    expect(cmd?.name).toBe('save');
    expect(cmd?.arg).toBe('fib.js');
    expect(cmd?.rest).toBe('const a = 1;\n  return a;');
  });

  it('exposes the replied-to text', () => {
    expect(parseCommand(msg('/save x', 'code here'))?.replyText).toBe('code here');
  });

  it('marks unknown commands and ignores plain text', () => {
    expect(parseCommand(msg('/frobnicate now'))?.name).toBe('unknown');
    expect(parseCommand(msg('hello /save'))).toBeUndefined();
    expect(parseCommand(msg('/list'))).toMatchObject({ name: 'list', arg: '', rest: '' });
  });
});

describe('parseTelegramUpdate', () => {
  it('accepts a message update', () => {
    const r = parseTelegramUpdate({ update_id: 1, message: msg('/start') });
    expect(r.update?.update_id).toBe(1);
  });

  it('names the bad fields', () => {
    const r = parseTelegramUpdate({ update_id: 'x', message: { text: 'hi' } });
    expect(r.errors).toEqual([
      'update_id must be a non-negative integer',
      'message must be a Telegram Message with message_id and chat.id',
    ]);
    expect(parseTelegramUpdate([]).errors).toHaveLength(1);
  });
});
