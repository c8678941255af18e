// Vectors that prove the client's checks can fail: each case must throw or
// mismatch where it should, and pass where it should. The Go test runs this
// (TestJSClient_SelfTestCatchesWhatItShould) and also hashes the `vectors`
// with protocol/statehash, so both canonical writers are held to one rule.
import { isLosslessNumber, parse } from 'lossless-json';

import {
  applyPatch, canonical, deepEqual, fromDiffOperations, hex, jsonParseStateHash, parseJSONBytes, stateHash, unframe,
  zstdContentSize,
} from './dashstream.mjs';

const enc = new TextEncoder();

// A zstd frame holding content in one raw block, by hand (RFC 8878):
// fhd is the Frame_Header_Descriptor, then what it announces.
function zstdFrame(content, { fhd, window = [], fcs = [] }) {
  const bh = (content.length << 3) | 1; // last block, Raw_Block
  return new Uint8Array([0x28, 0xb5, 0x2f, 0xfd, fhd, ...window, ...fcs, bh & 255, (bh >> 8) & 255, (bh >> 16) & 255, ...content]);
}

function framed(byte, body) {
  const v = new Uint8Array(body.length + 1);
  v[0] = byte;
  v.set(body, 1);
  return v;
}

export function selfTest(Message) {
  const failed = [];
  let passed = 0;
  const check = (name, fn) => {
    try {
      fn();
      passed++;
    } catch (e) {
      failed.push(`${name}: ${e.message}`);
    }
  };
  const expect = (cond, msg) => {
    if (!cond) throw new Error(msg);
  };
  const throws = (fn, re) => {
    try {
      fn();
    } catch (e) {
      if (re && !re.test(e.message)) throw new Error(`threw "${e.message}", want ${re}`);
      return;
    }
    throw new Error('did not throw');
  };

  // The canonical rule: DESIGN.md §3 and reference §5.4.
  const vectors = [
    '{"b":2,"a":1,"nested":{"z":"x","y":[true,null]}}',
    '{"counter":6,"messages":["Hello","World"]}',
    '{"score":1.0,"id":12345678901234567890,"t":0.80,"e":1E+2,"n":-0.0}',
    '{"s":"\\u0000\\u001f\\"\\\\\\/\\u2028\\u2029é\\u007f\\b\\f\\n\\r\\t 😀"}',
    '{"\\ue000":1,"\\ud800\\udc00":2,"":{"~/":[]}}',
  ];
  check('golden vectors', () => {
    expect(stateHash(parse(vectors[0])) === 'f35279c8aa6b00bc82d43a191596cc3b41b7de7899ee16e36a08efe3afc45103', 'vector 1');
    expect(stateHash(parse(vectors[1])) === '529cd9536255ec1c3c253c2cfb5879f52bdd74d4a5d33d30d9e93490da186c30', 'vector 2');
  });
  check('literals are kept as received', () => {
    const c = canonical(parse(vectors[2]));
    expect(c === '{"e":1E+2,"id":12345678901234567890,"n":-0.0,"score":1.0,"t":0.80}', c);
  });
  check('a literal-changing (JSON.parse) canonicalization mismatches', () => {
    const v = parse(vectors[2]);
    expect(jsonParseStateHash(v) !== stateHash(v), 'JSON.parse gave the same hash');
    // Where no literal changes, both agree: the difference is the literals alone.
    const plain = parse(vectors[0]);
    expect(jsonParseStateHash(plain) === stateHash(plain), 'JSON.parse differs on a plain state');
  });
  check('a tampered hash mismatches', () => {
    const good = Buffer.from(stateHash(parse(vectors[1])), 'hex');
    const bad = Buffer.from(good);
    bad[31] ^= 1;
    expect(hex(good) === stateHash(parse(vectors[1])) && hex(bad) !== stateHash(parse(vectors[1])), 'tampering not seen');
  });
  check('string escaping', () => {
    const c = canonical(parse(vectors[3]));
    const want = '{"s":"\\u0000\\u001f\\"\\\\/\u2028\u2029é\u007f\\b\\f\\n\\r\\t 😀"}';
    expect(c === want, c);
  });
  check('keys sort by UTF-8 bytes, not UTF-16', () => {
    const c = canonical(parse(vectors[4]));
    expect(c === '{"":{"~/":[]},"\ue000":1,"\u{10000}":2}', c);
    expect(['\u{10000}', '\ue000'].sort()[0] === '\u{10000}', 'JavaScript sort order assumption');
  });

  check('framing', () => {
    const msg = Message.encode(Message.fromObject({ event: { header: { threadId: 't', sequence: 1 }, eventType: 1 } })).finish();
    const raw = unframe(framed(0x00, msg));
    expect(!raw.zstd && Message.decode(raw.payload).event.header.threadId === 't', 'raw frame');
    throws(() => unframe(new Uint8Array(0)), /empty/);
    throws(() => unframe(framed(0x02, msg)), /unknown framing byte 0x02/);
    throws(() => unframe(msg), /unknown framing byte/); // legacy unframed protobuf: strict mode rejects
  });
  check('zstd with a declared content size', () => {
    const content = enc.encode('hello, zstd');
    const z = unframe(framed(0x01, zstdFrame(content, { fhd: 0x20, fcs: [content.length] })));
    expect(z.zstd && Buffer.from(z.payload).equals(Buffer.from(content)), 'payload differs');
    // A 2-byte Frame_Content_Size field counts from 256; 4 and 8 bytes are plain little-endian.
    expect(zstdContentSize(zstdFrame(content, { fhd: 0x60, fcs: [0x00, 0x01] })) === 512n, 'two-byte FCS');
    expect(zstdContentSize(zstdFrame(content, { fhd: 0xa0, fcs: [1, 2, 0, 0] })) === 0x201n, 'four-byte FCS');
    expect(zstdContentSize(zstdFrame(content, { fhd: 0xe0, fcs: [0, 0, 0, 0, 1, 0, 0, 0] })) === 1n << 32n, 'eight-byte FCS');
    expect(zstdContentSize(zstdFrame(content, { fhd: 0x21, fcs: [0x7f, 9] })) === 9n, 'a dictionary id comes first');
  });
  check('zstd without a content size is rejected', () => {
    throws(() => unframe(framed(0x01, zstdFrame(enc.encode('x'), { fhd: 0x00, window: [0x00] }))), /declares no content size/);
  });
  check('zstd declaring more than it holds is rejected', () => {
    const content = enc.encode('hello');
    throws(() => unframe(framed(0x01, zstdFrame(content, { fhd: 0x20, fcs: [content.length + 1] }))), /holds 5 bytes, declared 6/);
    throws(() => unframe(framed(0x01, zstdFrame(content, { fhd: 0x20, fcs: [content.length - 1] }))));
  });
  check('zstd declaring over 10 MiB is rejected', () => {
    const size = 11 << 20;
    const fcs = [size & 255, (size >> 8) & 255, (size >> 16) & 255, (size >> 24) & 255];
    throws(() => unframe(framed(0x01, zstdFrame(enc.encode('x'), { fhd: 0x80, window: [0x00], fcs }))), /exceeds/);
    throws(() => unframe(framed(0x01, enc.encode('not zstd'))), /magic/);
  });

  check('absent op and encoding are ADD and JSON', () => {
    const DiffOperation = Message.root.lookupType('dashstream.v1.DiffOperation');
    const d = DiffOperation.decode(DiffOperation.encode({ path: '/a', value: enc.encode('1.0') }).finish());
    expect(d.op === 0 && d.encoding === 0, `op ${d.op} encoding ${d.encoding}`);
    // What the upstream UI's worker boundary does to it: only own properties survive.
    const cloned = structuredClone(d);
    expect(cloned.op === undefined && cloned.encoding === undefined, 'structuredClone kept the defaults');
    const [op] = fromDiffOperations([d]);
    expect(op.op === 'add' && isLosslessNumber(op.value) && op.value.value === '1.0', JSON.stringify(op));
  });
  check('RAW values are UTF-8 strings', () => {
    const ops = fromDiffOperations([
      { op: 2, path: '/a', value: enc.encode('say "hi"\n{"x":1}'), encoding: 3 },
      { op: 0, path: '/b', value: new Uint8Array(0), encoding: 3 },
    ]);
    expect(ops[0].value === 'say "hi"\n{"x":1}' && ops[1].value === '', JSON.stringify(ops));
    const s = applyPatch(parse('{"a":0}'), ops);
    expect(canonical(s) === '{"a":"say \\"hi\\"\\n{\\"x\\":1}","b":""}', canonical(s));
    throws(() => fromDiffOperations([{ op: 0, path: '/ok', value: enc.encode('1'), encoding: 0 },
      { op: 2, path: '/a', value: new Uint8Array([0x61, 0xff]), encoding: 3 }]), /operation 1 \(replace "\/a"\): invalid value/);
  });
  check('other encodings and bad values are errors', () => {
    throws(() => fromDiffOperations([{ op: 0, path: '/a', value: enc.encode('1'), encoding: 1 }]), /unsupported value encoding MSGPACK/);
    throws(() => fromDiffOperations([{ op: 0, path: '/a', value: enc.encode('1'), encoding: 2 }]), /PROTOBUF/);
    throws(() => fromDiffOperations([{ op: 0, path: '/a', value: enc.encode('1'), encoding: 9 }]), /encoding 9/);
    throws(() => fromDiffOperations([{ op: 0, path: '/a', value: new Uint8Array(0), encoding: 0 }]), /no value bytes/);
    throws(() => fromDiffOperations([{ op: 0, path: '/a', value: enc.encode('{'), encoding: 0 }]), /invalid value/);
    throws(() => fromDiffOperations([{ op: 7, path: '/a', encoding: 0 }]), /unknown op type/);
  });

  check('patch semantics', () => {
    const doc = parse('{"a":[1,2],"n":1.0,"o":{"big":12345678901234567890}}');
    const before = canonical(doc);
    const out = applyPatch(doc, [
      { op: 'add', path: '/a/1', value: parse('9') },
      { op: 'add', path: '/a/-', value: parse('3') },
      { op: 'copy', from: '/o', path: '/c' },
      { op: 'move', from: '/n', path: '/m' },
      { op: 'test', path: '/m', value: parse('1') }, // numbers compare by value
      { op: 'replace', path: '/c/big', value: parse('1E400') },
      { op: 'remove', path: '/a/0' },
    ]);
    expect(canonical(out) === '{"a":[9,2,3],"c":{"big":1E400},"m":1.0,"o":{"big":12345678901234567890}}', canonical(out));
    expect(canonical(doc) === before, 'the input changed');
    expect(deepEqual(parse('{"x":[1.0,{"y":null}]}'), parse('{"x":[1,{"y":null}]}')), 'deepEqual');
  });
  check('patch errors leave the input as it was', () => {
    const doc = parse('{"a":[1,2],"o":{}}');
    const before = canonical(doc);
    const bad = [
      [{ op: 'add', path: '/a/01', value: 1 }, /invalid array index/],
      [{ op: 'add', path: '/a/3', value: 1 }, /out of range/],
      [{ op: 'replace', path: '/a/2', value: 1 }, /out of range/],
      [{ op: 'remove', path: '/x' }, /not found/],
      [{ op: 'replace', path: '/x', value: 1 }, /not found/],
      [{ op: 'remove', path: '' }, /root/],
      [{ op: 'add', path: '/__proto__/x', value: 1 }, /forbidden/],
      [{ op: 'add', path: '/o/constructor', value: 1 }, /forbidden/],
      [{ op: 'move', from: '/o', path: '/o/x' }, /own child/],
      [{ op: 'test', path: '/a/0', value: parse('2') }, /test failed/],
      [{ op: 'add', path: 'a', value: 1 }, /does not start with/],
      [{ op: 'add', path: '/a~2', value: 1 }, /invalid escape/],
      [{ op: 'add', path: '/' + 'x'.repeat(1000), value: 1 }, /longer than/],
    ];
    for (const [op, re] of bad) {
      throws(() => applyPatch(doc, [{ op: 'add', path: '/o/k', value: 1 }, op]), re);
    }
    expect(canonical(doc) === before, 'a failed patch changed the input');
  });
  check('full states parse strictly', () => {
    throws(() => parseJSONBytes(new Uint8Array([0x22, 0xff, 0x22])));
    throws(() => parseJSONBytes(enc.encode('{"a":1,"a":2}')), /Duplicate key/);
    throws(() => parseJSONBytes(enc.encode('{"a":1} x')));
  });

  return { passed, failed, vectors: vectors.map((v) => ({ doc: v, hash: stateHash(parse(v)) })) };
}
