import { decodeV2, encodeV2, v2Disconnect, v2Error } from '../../legacy-adapter/v2-codec.js';

describe('v2 codec (docs/protocol.md §7.1)', () => {
  it('decodes a flat {event, ...fields} object', () => {
    expect(decodeV2('{"event":"chat/message","content":"hi"}')).toEqual({ ok: true, frame: { event: 'chat/message', content: 'hi' } });
  });

  it.each([
    ['not JSON', 'hello', 'frame is not valid JSON'],
    ['an array', '[1,2]', 'frame must be a JSON object'],
    ['null', 'null', 'frame must be a JSON object'],
    ['a string', '"x"', 'frame must be a JSON object'],
    ['no event', '{"content":"hi"}', 'frame needs a non-empty string "event"'],
    ['a numeric event', '{"event":5}', 'frame needs a non-empty string "event"'],
    ['an empty event', '{"event":""}', 'frame needs a non-empty string "event"'],
  ])('answers %s with v2 system/error {title:"bad_message"}', (_what, text, message) => {
    expect(decodeV2(text)).toEqual({ ok: false, error: { event: 'system/error', title: 'bad_message', message } });
  });

  it('encodes flat, event first, with no payload wrapper', () => {
    expect(encodeV2({ content: 'hi', event: 'chat/message', id: 's1' })).toBe('{"event":"chat/message","content":"hi","id":"s1"}');
  });

  it('round-trips a frame', () => {
    const frame = { event: 'member/list', members: [{ id: 'a', displayname: 'Ann' }] };
    expect(decodeV2(encodeV2(frame))).toEqual({ ok: true, frame });
  });

  it('builds system/error and system/disconnect with title + message', () => {
    expect(v2Error('bad_message', 'm')).toEqual({ event: 'system/error', title: 'bad_message', message: 'm' });
    expect(v2Disconnect('upstream_lost', 'm')).toEqual({ event: 'system/disconnect', title: 'upstream_lost', message: 'm' });
  });
});
