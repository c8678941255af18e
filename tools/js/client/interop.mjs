#!/usr/bin/env node
// A JavaScript DashStream client, as a third party would write one: it loads
// protocol/dashstream.proto with protobufjs, resumes from the earliest record
// of a gateway's /ws, checks that every binary frame follows its cursor frame,
// strips the framing byte, decompresses zstd frames, decodes every frame,
// rebuilds each run's state from full states and RFC 6902 diffs over lossless
// JSON values, and verifies every state_hash with a canonical writer that keeps
// number literals (see dashstream.mjs for why JSON.parse cannot).
//
//   node interop.mjs --url ws://host:port/ws --proto path/to/dashstream.proto [--timeout 120]
//
// It reads until stdin brings one JSON line {"until":{"<partition>":"<offset>",...}}
// (the last offset of each partition to wait for) and every partition has
// reached it, then prints its counts as one JSON line on stdout. Exit status:
// 0 when it printed its counts after reaching the target, 2 on timeout (counts
// still printed), 1 on any other failure. With --stop-after-replay it stops at
// replay_complete instead (to check a running server by hand).
//
//   node interop.mjs --self-test --proto path/to/dashstream.proto
//
// runs vectors that prove the checks can fail (a tampered hash, a
// literal-changing canonicalization, a zstd frame without content size, …).
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import protobuf from 'protobufjs';
import WebSocket from 'ws';

import {
  applyPatch, fromDiffOperations, hex, jsonParseStateHash, parseJSONBytes, stateHash, unframe,
} from './dashstream.mjs';
import { selfTest } from './selftest.mjs';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    proto: { type: 'string' },
    timeout: { type: 'string', default: '120' },
    'stop-after-replay': { type: 'boolean', default: false },
    'self-test': { type: 'boolean', default: false },
  },
});

if (!args.proto) fail('--proto is required');
const root = protobuf.loadSync(args.proto);
const Message = root.lookupType('dashstream.v1.DashStreamMessage');

if (args['self-test']) {
  const r = selfTest(Message);
  process.stdout.write(JSON.stringify({ selfTest: r }) + '\n');
  process.exit(r.failed.length === 0 ? 0 : 1);
}
if (!args.url) fail('--url is required');

function fail(msg) {
  process.stderr.write(`interop: ${msg}\n`);
  process.exit(1);
}

const counts = {
  frames: 0, // binary frames
  cursors: 0,
  decoded: 0,
  decodeFailures: 0,
  zstdFrames: 0,
  byType: {},
  fullStates: 0,
  diffs: 0, // StateDiffs with operations
  hashOnlyDiffs: 0, // StateDiffs with neither operations nor full state
  rawValueOps: 0,
  hashes: 0, // StateDiffs carrying a 32-byte state_hash
  hashesVerified: 0,
  hashMismatches: 0,
  hashMissing: 0,
  jsonParseWouldMismatch: 0, // hashes a JSON.parse consumer would get wrong
  patchFailures: 0,
  noBaseState: 0,
  checkpoints: 0,
  checkpointChecksumsVerified: 0,
  checkpointChecksumMismatches: 0,
  duplicates: 0,
  runs: 0,
  runsWithDiff: 0,
  runsEnded: 0,
  pairingErrors: 0,
  offsetRegressions: 0,
  gaps: 0,
  cursorStale: 0,
  replayComplete: [],
  errors: [], // the first few problems, for the test's failure message
  mismatches: [], // {thread, seq, expected, got}
  timedOut: false,
};

function problem(what) {
  if (counts.errors.length < 20) counts.errors.push(what);
}

// Per run: its state and what it received.
const runs = new Map();
function run(thread) {
  let r = runs.get(thread);
  if (!r) {
    r = { state: undefined, lastSeq: 0n, diffs: 0, ended: false };
    runs.set(thread, r);
  }
  return r;
}

const EventType = root.lookupEnum('dashstream.v1.EventType').values;
const ENDS = new Set([EventType.EVENT_TYPE_GRAPH_END, EventType.EVENT_TYPE_GRAPH_ERROR]);

function seqOf(header) {
  return BigInt(String(header?.sequence ?? 0)); // uint64: a Long (protobufjs with long) or a number
}

// Producers never repeat a sequence; a repeated one is a duplicate delivery.
function fresh(header) {
  const seq = seqOf(header);
  if (seq === 0n) return true;
  const r = run(header.threadId);
  if (seq <= r.lastSeq) {
    counts.duplicates++;
    return false;
  }
  r.lastSeq = seq;
  return true;
}

function onStateDiff(sd) {
  const thread = sd.header?.threadId ?? '';
  const seq = seqOf(sd.header);
  if (!fresh(sd.header)) return;
  const r = run(thread);
  try {
    if (sd.fullState?.length > 0) {
      r.state = parseJSONBytes(sd.fullState);
      counts.fullStates++;
    } else if (sd.operations.length > 0) {
      counts.diffs++;
      r.diffs++;
      const ops = fromDiffOperations(sd.operations);
      counts.rawValueOps += sd.operations.filter((o) => o.encoding === 3).length;
      if (r.state === undefined) {
        counts.noBaseState++;
        problem(`${thread} seq ${seq}: diff before any full state`);
        return;
      }
      r.state = applyPatch(r.state, ops);
    } else {
      counts.hashOnlyDiffs++;
    }
  } catch (e) {
    counts.patchFailures++;
    problem(`${thread} seq ${seq}: ${e.message}`);
    return;
  }
  if (sd.stateHash?.length !== 32) {
    counts.hashMissing++;
    return;
  }
  counts.hashes++;
  if (r.state === undefined) {
    counts.noBaseState++;
    return;
  }
  const want = hex(sd.stateHash);
  const got = stateHash(r.state);
  if (got === want) counts.hashesVerified++;
  else {
    counts.hashMismatches++;
    if (counts.mismatches.length < 20) counts.mismatches.push({ thread, seq: String(seq), expected: want, got });
  }
  if (jsonParseStateHash(r.state) !== want) counts.jsonParseWouldMismatch++;
}

function onEvent(ev) {
  fresh(ev.header);
  if (ENDS.has(ev.eventType)) run(ev.header?.threadId ?? '').ended = true;
}

function onCheckpoint(cp) {
  fresh(cp.header);
  counts.checkpoints++;
  // Checksum: SHA-256 of the bytes sent (not the state_hash rule).
  if (cp.checksum?.length === 32 && !cp.compressionInfo) {
    const sum = hex(cp.checksum);
    if (sha256Hex(cp.state) === sum) counts.checkpointChecksumsVerified++;
    else {
      counts.checkpointChecksumMismatches++;
      problem(`${cp.header?.threadId} checkpoint seq ${seqOf(cp.header)}: checksum mismatch`);
    }
  }
}

function sha256Hex(b) {
  return createHash('sha256').update(b).digest('hex');
}

function onMessage(msg) {
  const kind = msg.message; // the oneof's set member
  counts.byType[kind ?? 'none'] = (counts.byType[kind ?? 'none'] ?? 0) + 1;
  switch (kind) {
    case 'stateDiff':
      onStateDiff(msg.stateDiff);
      break;
    case 'event':
      onEvent(msg.event);
      break;
    case 'eventBatch':
      for (const ev of msg.eventBatch.events) onEvent(ev);
      break;
    case 'checkpoint':
      onCheckpoint(msg.checkpoint);
      break;
    case undefined:
      throw new Error('no message variant set');
    default: {
      const inner = msg[kind];
      if (inner?.header) fresh(inner.header);
    }
  }
}

// Cursor/binary pairing: every binary frame is immediately preceded by its
// {"type":"cursor"} text frame, and offsets only go forward per partition.
let pendingCursor = null;
const lastOffset = new Map(); // partition → BigInt
let until = null; // partition → BigInt, from stdin

function onText(text) {
  let m;
  try {
    m = JSON.parse(text); // control frames only: offsets are decimal strings
  } catch (e) {
    problem(`control frame is not JSON: ${text.slice(0, 80)}`);
    return;
  }
  if (pendingCursor !== null) {
    counts.pairingErrors++;
    problem(`cursor for ${pendingCursor.partition}/${pendingCursor.offset} followed by a text frame ${m.type}`);
    pendingCursor = null;
  }
  switch (m.type) {
    case 'cursor':
      counts.cursors++;
      if (typeof m.offset !== 'string' || !/^[0-9]+$/.test(m.offset)) {
        counts.pairingErrors++;
        problem(`cursor offset ${JSON.stringify(m.offset)} is not a decimal string`);
      }
      pendingCursor = m;
      break;
    case 'gap':
      counts.gaps++;
      problem(`gap: ${text}`);
      break;
    case 'cursor_stale':
      counts.cursorStale++;
      problem(`cursor_stale: ${text}`);
      break;
    case 'replay_complete':
      counts.replayComplete.push({ totalReplayed: m.totalReplayed, capped: m.capped, mode: m.mode });
      process.stderr.write(`interop: replay_complete ${text}\n`); // the Go test waits for this line
      if (args['stop-after-replay']) {
        ws.close(1000);
        finish(0);
      }
      break;
    default:
      break;
  }
}

function onBinary(value) {
  counts.frames++;
  const cur = pendingCursor;
  pendingCursor = null;
  if (cur === null) {
    counts.pairingErrors++;
    problem(`binary frame ${counts.frames} without a cursor frame before it`);
  } else {
    const p = String(cur.partition);
    const off = BigInt(cur.offset);
    const last = lastOffset.get(p);
    if (last !== undefined && off <= last) {
      counts.offsetRegressions++;
      problem(`partition ${p}: offset ${off} after ${last}`);
    }
    lastOffset.set(p, off);
  }
  let msg;
  try {
    const { payload, zstd } = unframe(value);
    if (zstd) counts.zstdFrames++;
    msg = Message.decode(payload);
    counts.decoded++;
  } catch (e) {
    counts.decodeFailures++;
    problem(`frame ${counts.frames}${cur ? ` (${cur.partition}/${cur.offset})` : ''}: ${e.message}`);
    return;
  }
  try {
    onMessage(msg);
  } catch (e) {
    problem(`frame ${counts.frames}: ${e.message}`);
  }
  maybeDone();
}

function reached() {
  if (until === null) return false;
  for (const [p, off] of until) {
    if ((lastOffset.get(p) ?? -1n) < off) return false;
  }
  return true;
}

let finished = false;
function finish(code) {
  if (finished) return;
  finished = true;
  counts.runs = runs.size;
  for (const r of runs.values()) {
    if (r.diffs > 0) counts.runsWithDiff++;
    if (r.ended) counts.runsEnded++;
  }
  counts.lastOffsets = Object.fromEntries([...lastOffset].map(([p, o]) => [p, String(o)]));
  process.stdout.write(JSON.stringify(counts) + '\n', () => process.exit(code));
}

let ws;
function maybeDone() {
  if (!finished && reached()) {
    ws.close(1000);
    finish(0);
  }
}

const timer = setTimeout(() => {
  counts.timedOut = true;
  problem(`timed out after ${args.timeout}s`);
  ws?.terminate();
  finish(2);
}, Number(args.timeout) * 1000);
timer.unref();

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  try {
    const m = JSON.parse(line);
    until = new Map(Object.entries(m.until).map(([p, o]) => [p, BigInt(o)]));
  } catch (e) {
    fail(`stdin: ${e.message}`);
  }
  maybeDone();
});

ws = new WebSocket(args.url, { maxPayload: 64 << 20 });
ws.on('open', () => {
  ws.send(JSON.stringify({ type: 'resume', from: 'earliest', lastOffsetsByPartition: {} }));
});
ws.on('message', (data, isBinary) => {
  if (finished) return;
  if (isBinary) onBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  else onText(data.toString('utf8'));
});
ws.on('error', (e) => {
  problem(`websocket: ${e.message}`);
  finish(1);
});
ws.on('close', (code, reason) => {
  if (!finished) {
    problem(`websocket closed by the server: ${code} ${reason}`);
    finish(1);
  }
});
