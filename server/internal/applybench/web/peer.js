// The JavaScript peer of the dashboard's apply loop: what the upstream UI
// does and what a JavaScript developer would pick, per message: framing and
// zstd (fzstd), protobufjs decode, state kept per run, fast-json-patch on
// it, canonical JSON with sorted keys, SHA-256 and a byte compare with
// state_hash. Numbers are parsed with lossless-json so that 1.0 and
// integers above 2^53 hash as the producer wrote them (JSON.parse would
// turn 1.0 into 1 and report a false mismatch on the demo's states).
//
// sha selects the hash: "subtle" is crypto.subtle.digest, asynchronous, as
// the upstream UI; "noble" is @noble/hashes and "jssha256" js-sha256, both
// synchronous. Asynchronous checks are awaited every checkEvery messages
// (as a page's event loop would settle them between WebSocket messages)
// and at the end of the pass.
//
// decodeOnly makes a pass decode every value and do nothing else: the
// decoding figure of BenchmarkDecode_Browser.
import { decompress } from '/npm/fzstd/esm/index.mjs';
import { applyPatch } from '/npm/fast-json-patch/index.mjs';
import { parse as losslessParse } from '/npm/lossless-json/lib/esm/index.js';
import { sha256 as nobleSha256 } from '/npm/@noble/hashes/sha2.js';
import { sha256 as jsSha256 } from '/npm/js-sha256/src/index.mjs';

const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
const GRAPH_START = 1;
const ENCODING_RAW = 3;
const checkEvery = 256;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

// canonical writes the canonical JSON of v: members sorted by name, no
// white space, strings as JSON.stringify writes them, numbers as their
// literal (lossless-json's LosslessNumber keeps it).
function canonical(v) {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return JSON.stringify(v);
    case 'object':
      if (v.isLosslessNumber === true) return v.value;
      if (Array.isArray(v)) {
        let s = '[';
        for (let i = 0; i < v.length; i++) {
          if (i > 0) s += ',';
          s += canonical(v[i]);
        }
        return s + ']';
      }
      {
        const keys = Object.keys(v).sort();
        let s = '{';
        for (let i = 0; i < keys.length; i++) {
          if (i > 0) s += ',';
          s += JSON.stringify(keys[i]) + ':' + canonical(v[keys[i]]);
        }
        return s + '}';
      }
  }
  return 'null';
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(u8) {
  let s = '';
  for (const b of u8) s += b.toString(16).padStart(2, '0');
  return s;
}

export function newPeer(protoText, sha, decodeOnly) {
  const Msg = protobuf.parse(protoText).root.lookupType('dashstream.v1.DashStreamMessage');
  let values = [];
  let runs = new Map();
  let pending = [];
  let verified = 0;
  let mismatches = 0;

  const runOf = (header) => {
    const id = header ? header.threadId : '';
    let r = runs.get(id);
    if (!r) {
      r = { state: undefined, events: [] };
      runs.set(id, r);
    }
    return r;
  };

  const check = (state, want) => {
    const text = canonical(state);
    switch (sha) {
      case 'subtle':
        pending.push(crypto.subtle.digest('SHA-256', enc.encode(text)).then((buf) => {
          if (equalBytes(new Uint8Array(buf), want)) verified++;
          else mismatches++;
        }));
        return;
      case 'jssha256':
        if (equalBytes(new Uint8Array(jsSha256.arrayBuffer(text)), want)) verified++;
        else mismatches++;
        return;
      default:
        if (equalBytes(nobleSha256(enc.encode(text)), want)) verified++;
        else mismatches++;
    }
  };

  const onEvent = (ev) => {
    const r = runOf(ev.header);
    r.events.push(ev);
    if (ev.eventType === GRAPH_START) {
      const a = ev.attributes && ev.attributes.initial_state_json;
      if (a && a.stringValue) r.state = losslessParse(a.stringValue);
    }
  };

  const onDiff = (d) => {
    const r = runOf(d.header);
    r.events.push(d);
    if (d.fullState && d.fullState.length > 0) {
      r.state = losslessParse(utf8.decode(d.fullState));
    } else {
      if (r.state === undefined) return;
      const ops = d.operations.map((o) => {
        const op = { op: OPS[o.op], path: o.path };
        if (o.op === 3 || o.op === 4) op.from = o.from;
        if (o.op === 0 || o.op === 2 || o.op === 5) {
          const text = utf8.decode(o.value);
          op.value = o.encoding === ENCODING_RAW ? text : losslessParse(text);
        }
        return op;
      });
      r.state = applyPatch(r.state, ops, false, true).newDocument;
    }
    if (d.stateHash && d.stateHash.length === 32) check(r.state, d.stateHash);
  };

  const onMessage = (m) => {
    if (m.event) onEvent(m.event);
    else if (m.stateDiff) onDiff(m.stateDiff);
    else if (m.checkpoint) {
      const r = runOf(m.checkpoint.header);
      r.events.push(m.checkpoint);
      r.state = losslessParse(utf8.decode(m.checkpoint.state));
    } else if (m.eventBatch) {
      for (const ev of m.eventBatch.events) onEvent(ev);
    } else {
      const inner = m.tokenChunk || m.toolExecution || m.metrics || m.error || m.executionTrace;
      if (inner) runOf(inner.header).events.push(inner);
    }
  };

  const decode = (v) => {
    if (v[0] === 0) return Msg.decode(v.subarray(1));
    if (v[0] === 1) return Msg.decode(decompress(v.subarray(1)));
    throw new Error('unknown framing byte ' + v[0]);
  };

  return {
    load(bytes) {
      values = [];
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let off = 0; off + 4 <= bytes.length;) {
        const n = view.getUint32(off, true);
        if (off + 4 + n > bytes.length) return 'truncated stream';
        values.push(bytes.subarray(off + 4, off + 4 + n));
        off += 4 + n;
      }
      return values.length;
    },
    async pass() {
      runs = new Map();
      pending = [];
      verified = 0;
      mismatches = 0;
      let decodeErrors = 0;
      if (decodeOnly) {
        let variants = 0; // uses each result, so that no engine can skip the decoding
        for (let i = 0; i < values.length; i++) {
          try {
            if (decode(values[i]).message) variants++;
          } catch (e) {
            decodeErrors++;
          }
        }
        return { messages: values.length, decodeErrors, verified: variants, mismatches: 0, runs: 0 };
      }
      for (let i = 0; i < values.length; i++) {
        let m;
        try {
          m = decode(values[i]);
        } catch (e) {
          decodeErrors++;
          continue;
        }
        onMessage(m);
        if (pending.length >= checkEvery) {
          await Promise.all(pending);
          pending = [];
        }
      }
      await Promise.all(pending);
      pending = [];
      return { messages: values.length, decodeErrors, verified, mismatches, runs: runs.size };
    },
    finals() {
      const out = {};
      for (const [id, r] of runs) {
        if (r.state !== undefined) out[id] = hex(nobleSha256(enc.encode(canonical(r.state))));
      }
      return out;
    },
  };
}
