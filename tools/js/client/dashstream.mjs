// What a JavaScript consumer of a DashStream gateway needs, written against the
// wire contract only (never against our Go code): the Kafka value framing, zstd
// with a declared content size, DiffOperation values, RFC 6902 over lossless
// JSON values, and the canonical JSON whose SHA-256 is `state_hash`.
//
// Why lossless JSON: JSON.parse turns every number into a float64, so a Rust
// producer's `1.0` comes back as 1 and is written "1", `0.80` becomes "0.8", and
// an integer above 2^53 (12345678901234567890) loses digits. The producer hashed
// the literals it sent, so re-writing them that way gives a false mismatch. The
// canonical rule (DESIGN.md §3) writes every number exactly as its literal
// arrived, which needs a parser that keeps the literal: lossless-json's
// LosslessNumber does.
import { createHash } from 'node:crypto';

import { Decompress } from 'fzstd';
import { isLosslessNumber, compareLosslessNumber, parse as losslessParse } from 'lossless-json';

/** The decompressed-size limit of the upstream UI and of our gateway. */
export const MAX_PAYLOAD = 10 << 20;
export const MAX_OPS = 10000;
export const MAX_PATH_CHARS = 1000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a zstd frame header and returns its declared Frame_Content_Size, or
 * null when the frame declares none (RFC 8878 §3.1.1.1).
 */
export function zstdContentSize(frame) {
  if (frame.length < 5 || frame[0] !== 0x28 || frame[1] !== 0xb5 || frame[2] !== 0x2f || frame[3] !== 0xfd) {
    throw new Error('zstd: bad magic number');
  }
  const fhd = frame[4];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictSize = [0, 1, 2, 4][fhd & 3];
  const fcsSize = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag];
  if (fcsSize === 0) return null;
  const at = 5 + (singleSegment ? 0 : 1) + dictSize;
  if (frame.length < at + fcsSize) throw new Error('zstd: frame header truncated');
  let size = 0n;
  for (let i = fcsSize - 1; i >= 0; i--) size = (size << 8n) | BigInt(frame[at + i]);
  if (fcsSize === 2) size += 256n;
  return size;
}

/**
 * Strips the framing byte of a Kafka value (as the gateway forwards it) and
 * returns the protobuf bytes: 0x00 + protobuf, or 0x01 + a zstd frame that must
 * declare its content size (the upstream UI's decompression-bomb guard) of at
 * most MAX_PAYLOAD, which the decompressed bytes must match exactly. Any other
 * first byte is an error (strict mode: we always frame).
 */
export function unframe(value) {
  if (value.length < 1) throw new Error('framing: empty value');
  const body = value.subarray(1);
  switch (value[0]) {
    case 0x00:
      return { payload: body, zstd: false };
    case 0x01: {
      const declared = zstdContentSize(body);
      if (declared === null) throw new Error('zstd: frame declares no content size');
      if (declared > BigInt(MAX_PAYLOAD)) throw new Error(`zstd: declared content size ${declared} exceeds ${MAX_PAYLOAD}`);
      // fzstd's one-shot decompress trusts the declared size (it returns a
      // buffer of that length however many bytes the blocks held), so the
      // stream decoder counts what the blocks really produce.
      const out = new Uint8Array(Number(declared));
      let n = 0;
      const d = new Decompress((chunk) => {
        if (n + chunk.length > out.length) throw new Error(`zstd: frame holds more than its declared ${declared} bytes`);
        out.set(chunk, n);
        n += chunk.length;
      });
      d.push(body, true);
      if (n !== out.length) throw new Error(`zstd: frame holds ${n} bytes, declared ${declared}`);
      return { payload: out, zstd: true };
    }
    default:
      throw new Error(`framing: unknown framing byte 0x${value[0].toString(16).padStart(2, '0')}`);
  }
}

/** Parses JSON bytes (strict UTF-8) keeping every number literal. */
export function parseJSONBytes(bytes) {
  return losslessParse(utf8.decode(bytes));
}

/**
 * The canonical JSON of a value parsed by lossless-json: keys sorted by their
 * UTF-8 bytes (not JavaScript's UTF-16 sort, which orders U+10000 before
 * U+E000), no whitespace, numbers written as their literal arrived. Strings are
 * escaped by JSON.stringify, which matches the rule (reference §5.4: `"` and `\`,
 * control characters as \b \f \n \r \t or lowercase \u00xx, everything else raw;
 * the strings here come from strict UTF-8, so no lone surrogates).
 */
export function canonical(value) {
  const out = [];
  write(value, out);
  return out.join('');
}

function write(v, out) {
  if (v === null) out.push('null');
  else if (v === true) out.push('true');
  else if (v === false) out.push('false');
  else if (typeof v === 'string') out.push(JSON.stringify(v));
  else if (isLosslessNumber(v)) out.push(v.value);
  else if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      write(v[i], out);
    }
    out.push(']');
  } else if (typeof v === 'object') {
    const keys = Object.keys(v).sort(compareUTF8);
    out.push('{');
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(keys[i]), ':');
      write(v[keys[i]], out);
    }
    out.push('}');
  } else {
    // A JavaScript number here would mean a literal was already lost.
    throw new Error(`canonical: ${typeof v} is not a lossless JSON value`);
  }
}

/** Orders strings by their UTF-8 bytes, which is code point order. */
export function compareUTF8(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The SHA-256 of the canonical JSON of value, as hex. */
export function stateHash(value) {
  return createHash('sha256').update(canonical(value), 'utf8').digest('hex');
}

/**
 * What a consumer that uses JSON.parse would compute: numbers become float64
 * and are written by JSON.stringify (1.0 → 1, 0.80 → 0.8, 12345678901234567890 →
 * 12345678901234567000). Used only to show that it would fail.
 */
export function jsonParseStateHash(value) {
  const lossy = JSON.parse(canonical(value));
  const out = [];
  const w = (v) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out.push('{');
      Object.keys(v).sort(compareUTF8).forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(JSON.stringify(k), ':');
        w(v[k]);
      });
      out.push('}');
    } else if (Array.isArray(v)) {
      out.push('[');
      v.forEach((e, i) => {
        if (i > 0) out.push(',');
        w(e);
      });
      out.push(']');
    } else out.push(JSON.stringify(v));
  };
  w(lossy);
  return createHash('sha256').update(out.join(''), 'utf8').digest('hex');
}

export function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

// DiffOperation (protocol/dashstream.proto): op ADD=0 REMOVE=1 REPLACE=2 MOVE=3
// COPY=4 TEST=5; encoding JSON=0 MSGPACK=1 PROTOBUF=2 RAW=3. protobufjs keeps
// proto3 defaults on the prototype, so an absent op reads 0 (ADD) and an absent
// encoding 0 (JSON) here; the upstream UI loses them by structured-cloning the
// decoded message out of its worker.
const OP_NAMES = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
const ENCODING_NAMES = ['JSON', 'MSGPACK', 'PROTOBUF', 'RAW'];

/**
 * Converts protobuf DiffOperations into RFC 6902 operations with lossless
 * values. A RAW value is its bytes as a UTF-8 string (invalid UTF-8 throws);
 * MSGPACK, PROTOBUF and unknown encodings throw; nothing is skipped.
 */
export function fromDiffOperations(ops) {
  if (ops.length > MAX_OPS) throw new Error(`patch: ${ops.length} operations, limit ${MAX_OPS}`);
  return ops.map((d, i) => {
    const name = OP_NAMES[d.op];
    const where = `operation ${i} (${name ?? `op ${d.op}`} ${JSON.stringify(d.path)})`;
    if (name === undefined) throw new Error(`${where}: unknown op type`);
    if (d.encoding !== 0 && d.encoding !== 3) {
      throw new Error(`${where}: unsupported value encoding ${ENCODING_NAMES[d.encoding] ?? d.encoding}`);
    }
    const op = { op: name, path: d.path };
    if (name === 'move' || name === 'copy') op.from = d.from;
    if (name === 'add' || name === 'replace' || name === 'test') {
      const v = d.value ?? new Uint8Array(0);
      try {
        if (d.encoding === 3) op.value = utf8.decode(v);
        else if (v.length === 0) throw new Error('no value bytes');
        else op.value = parseJSONBytes(v);
      } catch (e) {
        throw new Error(`${where}: invalid value: ${e.message}`);
      }
    }
    return op;
  });
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Parses an RFC 6901 pointer into its reference tokens. */
export function parsePointer(p) {
  if (p.length > MAX_PATH_CHARS) throw new Error(`pointer longer than ${MAX_PATH_CHARS} characters`);
  if (p === '') return [];
  if (p[0] !== '/') throw new Error(`pointer ${JSON.stringify(p)} does not start with /`);
  return p.slice(1).split('/').map((s) => {
    if (/~[^01]|~$/.test(s)) throw new Error(`invalid escape in pointer ${JSON.stringify(p)}`);
    const tok = s.replace(/~1/g, '/').replace(/~0/g, '~');
    if (FORBIDDEN.has(tok)) throw new Error(`forbidden segment ${JSON.stringify(tok)}`);
    return tok;
  });
}

function index(arr, tok, allowEnd) {
  if (tok === '-' && allowEnd) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(tok)) throw new Error(`invalid array index ${JSON.stringify(tok)}`);
  const i = Number(tok);
  if (i > arr.length || (i === arr.length && !allowEnd)) throw new Error(`array index ${tok} out of range`);
  return i;
}

function isContainer(v) {
  return v !== null && typeof v === 'object' && !isLosslessNumber(v);
}

function resolve(doc, toks) {
  let v = doc;
  for (const t of toks) {
    if (Array.isArray(v)) v = v[index(v, t, false)];
    else if (isContainer(v) && Object.hasOwn(v, t)) v = v[t];
    else throw new Error(`path /${toks.join('/')} not found`);
  }
  return v;
}

/** A deep copy that keeps LosslessNumber values (they are immutable). */
export function clone(v) {
  if (Array.isArray(v)) return v.map(clone);
  if (isContainer(v)) {
    const o = {};
    for (const k of Object.keys(v)) o[k] = clone(v[k]);
    return o;
  }
  return v;
}

/** RFC 6902 equality: numbers compare by value (1.0 equals 1), objects ignore key order. */
export function deepEqual(a, b) {
  if (isLosslessNumber(a) || isLosslessNumber(b)) {
    return isLosslessNumber(a) && isLosslessNumber(b) && compareLosslessNumber(a, b) === 0;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((e, i) => deepEqual(e, b[i]));
  }
  if (isContainer(a) && isContainer(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return a === b;
}

/**
 * Applies an RFC 6902 patch to a lossless JSON document atomically: it works
 * on a copy and returns the new document, or throws and leaves doc untouched.
 *
 * Written by hand rather than with fast-json-patch (pinned in package.json)
 * because fast-json-patch cannot work on lossless values: its clone (used for
 * copy, and for the whole document unless it may mutate the input) is
 * JSON.parse(JSON.stringify(...)), which turns every LosslessNumber into a
 * plain {"value":…,"isLosslessNumber":true} object; its test compares numbers
 * by literal (0.80 ≠ 0.8, where RFC 6902 says they are equal); and it accepts
 * the index "01", which RFC 6901 forbids.
 */
export function applyPatch(doc, ops) {
  let root = clone(doc);
  ops.forEach((o, i) => {
    try {
      root = applyOp(root, o);
    } catch (e) {
      throw new Error(`operation ${i} (${o.op} ${JSON.stringify(o.path)}): ${e.message}`);
    }
  });
  return root;
}

function applyOp(root, o) {
  const path = parsePointer(o.path);
  switch (o.op) {
    case 'add':
      return add(root, path, clone(o.value));
    case 'remove':
      if (path.length === 0) throw new Error('cannot remove the document root');
      remove(root, path);
      return root;
    case 'replace':
      if (path.length === 0) return clone(o.value);
      resolve(root, path);
      remove(root, path);
      return add(root, path, clone(o.value));
    case 'move': {
      const from = parsePointer(o.from);
      const v = resolve(root, from);
      if (path.length > from.length && from.every((t, j) => t === path[j])) {
        throw new Error('cannot move a value into its own child');
      }
      if (from.length === 0) return v;
      remove(root, from);
      return add(root, path, v);
    }
    case 'copy':
      return add(root, path, clone(resolve(root, parsePointer(o.from))));
    case 'test':
      if (!deepEqual(resolve(root, path), o.value)) throw new Error('test failed');
      return root;
    default:
      throw new Error(`unknown op ${o.op}`);
  }
}

function add(root, path, value) {
  if (path.length === 0) return value;
  const parent = resolve(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(index(parent, last, true), 0, value);
  else if (isContainer(parent)) parent[last] = value;
  else throw new Error('path goes through a scalar');
  return root;
}

function remove(root, path) {
  const parent = resolve(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(index(parent, last, false), 1);
  else if (isContainer(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw new Error(`path ${path.join('/')} not found`);
}
