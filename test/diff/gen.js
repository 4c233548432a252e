#!/usr/bin/env node
// SPDX-License-Identifier: ISC
// Differential corpus generator and oracle for `ipcrun check`.
//
//   node test/diff/gen.js SEED COUNT CORPUS ORACLE
//
// Writes COUNT lines (raw bytes, each ended by '\n', none containing '\n')
// to CORPUS: valid JSON values and mutated ones. The same seed always gives
// the same bytes. ORACLE gets one character per corpus line: 'g' (good),
// 'b' (bad) or '_' (blank), as a Node IPC peer plus ipcrun's UTF-8 rule
// decides:
//   blank  the line is only space, tab and CR (or empty);
//   good   the bytes are valid UTF-8 (WHATWG fatal decoder: no overlongs,
//          no encoded surrogates, nothing above U+10FFFF, no stray or
//          truncated sequences), there is no leading BOM, and JSON.parse
//          accepts the decoded text;
//   internal  good, and Node's own isInternal() (lib/internal/
//          child_process.js) holds for the parsed value: an object whose
//          cmd is a string longer than 5 starting NODE_; `check --node`
//          refuses these;
//   bad    anything else.
'use strict';

const fs = require('fs');

function usage() {
	process.stderr.write('usage: gen.js SEED COUNT CORPUS ORACLE\n');
	process.exit(2);
}

// mulberry32: small, fast, deterministic.
function makeRng(seed) {
	let a = seed >>> 0;
	return function () {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

let rnd;
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;

// ---- valid values -------------------------------------------------------

const WS = [' ', '\t', '\r'];
function ws() {
	if (!chance(0.15))
		return '';
	let s = '';
	for (let n = 1 + int(3); n > 0; n--)
		s += pick(WS);
	return s;
}

const NUMBERS = ['0', '-0', '1', '-1', '0.5e-3', '1e400', '-1e400', '1E+2',
	'1e-400', '2.5E-10', '123456789012345678901234567890',
	'-99999999999999999999999999999999999999999999', '9007199254740993',
	'18446744073709551616', '0.0', '1.0e0', '3.141592653589793',
	'1.7976931348623157e308', '5e-324', '0e0', '-0.0e-0', '10', '1e1'];

function number() {
	if (chance(0.5))
		return pick(NUMBERS);
	let s = chance(0.3) ? '-' : '';
	if (chance(0.2))
		s += '0';
	else {
		s += String(1 + int(9));
		for (let n = int(chance(0.1) ? 40 : 6); n > 0; n--)
			s += String(int(10));
	}
	if (chance(0.3)) {
		s += '.';
		for (let n = 1 + int(5); n > 0; n--)
			s += String(int(10));
	}
	if (chance(0.2)) {
		s += pick(['e', 'E']) + pick(['', '+', '-']);
		for (let n = 1 + int(3); n > 0; n--)
			s += String(int(10));
	}
	return s;
}

const hex4 = (c) => c.toString(16).padStart(4, '0');
const ESCAPES = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t',
	'\\u0000', '\\ud800', '\\udc00', '\\udbff', '\\udfff', '\\ud83d\\ude00',
	'\\uD834\\uDD1E', '\\u00e9', '\\u20AC', '\\u2028', '\\uffff', '\\ufeff',
	'\\u001f', '\\u004E', '\\ud800\\ud800', '\\udc00\\ud800'];
// Raw characters of 1 to 4 UTF-8 bytes, edges included. U+2028/U+2029 are
// fine in JSON strings; DEL is not a control character for JSON.
const RAW = ['a', 'Z', ' ', '~', '\x7f', '\u0080', '\u00e9', '\u07ff',
	'\u0800', '\u20ac', '\u2028', '\u2029', '\ud7ff', '\ue000', '\ufeff',
	'\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}', '\u00a0', '\u4e2d'];

function stringBody() {
	let s = '';
	for (let n = int(chance(0.05) ? 200 : 12); n > 0; n--) {
		const r = rnd();
		if (r < 0.5)
			s += String.fromCharCode(0x20 + int(95)).replace(/["\\]/, 'x');
		else if (r < 0.7)
			s += pick(ESCAPES);
		else if (r < 0.75)
			s += '\\u' + hex4(int(0x10000));
		else
			s += pick(RAW);
	}
	return s;
}

function string() {
	return '"' + stringBody() + '"';
}

const KEYS = ['"cmd"', '"to"', '"msg"', '"a"', '""', '"\\u0063md"',
	'"c\\u006dd"', '"cm\\u0064"', '"\\u0074o"', '"cmd\\u0000"', '"CMD"',
	'"\\ud83d\\ude00"', '"\u{1f600}"', '"cmdx"', '"t"', '"__proto__"'];
const CMDS = ['"NODE_HANDLE_ACK"', '"NODE_"', '"NODE_x"', '"\\u004eODE_HANDLE"',
	'"NODE\\u005f1"', '"node_x"', '"xNODE_"', '"NODE_\\u0000"', '"NODE"'];

function value(depth) {
	const r = rnd();
	if (depth > 6 || r < 0.45) {
		const t = int(6);
		if (t === 0)
			return pick(['null', 'true', 'false']);
		if (t < 3)
			return number();
		return string();
	}
	if (r < 0.7)
		return array(depth);
	return object(depth);
}

function array(depth) {
	const n = int(5);
	const items = [];
	for (let i = 0; i < n; i++)
		items.push(ws() + value(depth + 1) + ws());
	return '[' + (n ? items.join(',') : ws()) + ']';
}

const CMD_KEYS = ['"cmd"', '"\\u0063md"', '"c\\u006dd"', '"cm\\u0064"',
	'"\\u0063\\u006d\\u0064"', '"cmd\\u0000"', '"CMD"', '"cmdx"', '"cm"'];

function object(depth) {
	const n = int(5);
	const items = [];
	for (let i = 0; i < n; i++) {
		const k = chance(0.5) ? pick(KEYS) : string();
		const v = chance(0.2) ? pick(CMDS) : value(depth + 1);
		items.push(ws() + k + ws() + ':' + ws() + v + ws());
	}
	// Top-level cmd members, for `check --node`: some internal, some
	// look-alikes, duplicates included (the last one counts).
	for (let m = depth === 0 ? int(3) : 0; m > 0; m--) {
		const v = chance(0.7) ? pick(CMDS) : value(depth + 1);
		items.splice(int(items.length + 1), 0, ws() + pick(CMD_KEYS) +
		    ws() + ':' + ws() + v + ws());
	}
	if (items.length === 0)
		return '{' + ws() + '}';
	return '{' + items.join(',') + '}';
}

function deep() {
	const n = 1 + int(chance(0.3) ? 6000 : 300);
	let s = '';
	const close = [];
	for (let i = 0; i < n; i++) {
		if (chance(0.5)) {
			s += '[';
			close.push(']');
		} else {
			s += '{"k":';
			close.push('}');
		}
	}
	s += value(99);
	return s + close.reverse().join('');
}

function validLine() {
	let v;
	if (chance(0.01))
		v = deep();
	else if (chance(0.3))
		v = object(0);
	else
		v = value(0);
	return Buffer.from(ws() + v + ws(), 'utf8');
}

// ---- mutations ----------------------------------------------------------

const INSERTS = [
	[0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf],
	[0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf0, 0x8f, 0xbf, 0xbf],
	[0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8], [0xff],
	[0xfe], [0x80], [0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3],
	[0xc2, 0xa0], [0xef, 0xbb, 0xbf], [0x00], [0x0c], [0x0b], [0x1f],
	[0x7f], [0x08], [0x0d], [0x09], [0x20], [0x22], [0x5c], [0x2c], [0x3a],
	[0x7b], [0x7d], [0x5b], [0x5d], [0x30], [0x31], [0x2d], [0x2b], [0x2e],
	[0x65], [0x45], [0x75], [0x5c, 0x75], [0x5c, 0x78], [0x6e], [0x74],
	[0x66], [0xe2, 0x80, 0xa8], [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80],
	[0xf4, 0x8f, 0xbf, 0xbf], [0xf0, 0x90, 0x80, 0x80]];

function randByte() {
	for (;;) {
		const b = int(256);
		if (b !== 0x0a)
			return b;
	}
}

function stringPositions(b) {
	// Offsets just after an opening quote (roughly: any quote will do).
	const pos = [];
	for (let i = 0; i < b.length; i++)
		if (b[i] === 0x22)
			pos.push(i + 1);
	return pos;
}

function mutate(b) {
	let a = Array.from(b);
	const m = int(14);
	const at = () => int(a.length + 1);
	switch (m) {
	case 0:	// byte flip
		if (a.length)
			a[int(a.length)] = randByte();
		break;
	case 1:	// bit flip
		if (a.length)
			a[int(a.length)] ^= 1 << int(8);
		break;
	case 2: {	// insert an interesting sequence
		const i = at();
		a.splice(i, 0, ...pick(INSERTS));
		break;
	}
	case 3: {	// insert a random byte
		const i = at();
		a.splice(i, 0, randByte());
		break;
	}
	case 4:	// delete one byte or a range
		if (a.length) {
			const i = int(a.length);
			a.splice(i, chance(0.7) ? 1 : 1 + int(8));
		}
		break;
	case 5:	// truncate
		a = a.slice(0, int(a.length + 1));
		break;
	case 6:	// two values on a line
		a = a.concat(pick([[0x20], [0x2c], [], [0x09]]), Array.from(b));
		break;
	case 7:	// BOM prefix
		a = [0xef, 0xbb, 0xbf].concat(a);
		break;
	case 8: {	// control character inside a string
		const p = stringPositions(a);
		const i = p.length ? pick(p) : at();
		a.splice(i, 0, int(0x20) === 0x0a ? 0x01 : pick([0x00, 0x01,
		    0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x1f, 0x7f, 0x1b]));
		break;
	}
	case 9: {	// not-whitespace outside strings: NUL, FF, VT, NBSP
		const seq = pick([[0x00], [0x0c], [0x0b], [0xc2, 0xa0],
		    [0xe2, 0x80, 0xa8], [0xe3, 0x80, 0x80]]);
		if (chance(0.5))
			a = chance(0.5) ? seq.concat(a) : a.concat(seq);
		else
			a.splice(at(), 0, ...seq);
		break;
	}
	case 10: {	// duplicate a slice somewhere
		const i = int(a.length + 1), j = i + int(10);
		a.splice(at(), 0, ...a.slice(i, j));
		break;
	}
	case 11: {	// invalid UTF-8 inside a string
		const p = stringPositions(a);
		const i = p.length ? pick(p) : at();
		a.splice(i, 0, ...pick(INSERTS.slice(0, 20)));
		break;
	}
	case 12:	// break an escape
		for (let i = 0; i < a.length; i++) {
			if (a[i] === 0x5c && i + 1 < a.length && chance(0.5)) {
				a[i + 1] = pick([0x78, 0x55, 0x30, 0x27, 0x20,
				    0x61, 0x5c, 0x22, 0x75]);
				break;
			}
		}
		break;
	default: {	// whitespace, mostly legal
		const w = [];
		for (let n = int(4); n > 0; n--)
			w.push(pick([0x20, 0x09, 0x0d]));
		a = chance(0.5) ? w.concat(a) : a.concat(w);
		break;
	}
	}
	// Framing: a bit flip may have made a '\n'; VT is interesting too.
	return Buffer.from(a.map((c) => c === 0x0a ? 0x0b : c));
}

function blankLine() {
	const r = int(6);
	if (r === 0)
		return Buffer.alloc(0);
	const a = [];
	for (let n = 1 + int(6); n > 0; n--)
		a.push(pick([0x20, 0x09, 0x0d]));
	if (r === 5)	// almost blank: one non-whitespace byte
		a.splice(int(a.length + 1), 0, ...pick([[0x00], [0x0b], [0x0c],
		    [0xc2, 0xa0], [0xef, 0xbb, 0xbf], [0x30], [0x80]]));
	return Buffer.from(a);
}

function line() {
	const r = rnd();
	if (r < 0.05)
		return blankLine();
	let b = validLine();
	if (r < 0.45)
		return b;
	for (let n = 1 + (chance(0.3) ? int(3) : 0); n > 0; n--)
		b = mutate(b);
	return b;
}

// ---- the oracle ---------------------------------------------------------

// ignoreBOM: true keeps a leading U+FEFF in the text (the default would
// strip it), so JSON.parse sees it and rejects it as Node's channel does.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function oracle(b) {
	let blank = true;
	for (const c of b) {
		if (c !== 0x20 && c !== 0x09 && c !== 0x0d) {
			blank = false;
			break;
		}
	}
	if (blank)
		return '_';
	if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf)
		return 'b';
	let text;
	try {
		text = decoder.decode(b);
	} catch (e) {
		return 'b';
	}
	let v;
	try {
		v = JSON.parse(text);
	} catch (e) {
		return 'b';
	}
	return isInternal(v) ? 'i' : 'g';
}

// Node v20, lib/internal/child_process.js.
function isInternal(message) {
	return message !== null && typeof message === 'object' &&
	    typeof message.cmd === 'string' && message.cmd.length > 5 &&
	    message.cmd.startsWith('NODE_');
}

// Facts the oracle relies on; abort if this Node disagrees.
function selfTest() {
	const bad = [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80],
	    [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0x80],
	    [0xe2, 0x82], [0xff]];
	for (const seq of bad) {
		const b = Buffer.from([0x22, ...seq, 0x22]);
		if (oracle(b) !== 'b')
			throw new Error('oracle accepts ' + b.toString('hex'));
	}
	const cases = [['"\\ud800"', 'g'], ['"\\u0000"', 'g'], ['1e400', 'g'],
	    ['123456789012345678901234567890', 'g'], [' \t\r', '_'], ['', '_'],
	    ['\ufeff{}', 'b'], ['\u00a0{}', 'b'], ['{}\f', 'b'], ['\v1', 'b'],
	    ['\u0000', 'b'], ['"\u2028"', 'g'], ['"\t"', 'b'], ['1 2', 'b'],
	    ['[1,]', 'b'], ['01', 'b'], ['-', 'b'], ['"\u{10ffff}"', 'g'],
	    ['{"cmd":"NODE_x"}', 'i'], ['{"cmd":"NODE_"}', 'g'],
	    ['{"\\u0063md":"\\u004eODE_HANDLE_ACK"}', 'i'],
	    ['{"cmd":"NODE_x","cmd":1}', 'g'], ['[{"cmd":"NODE_x"}]', 'g'],
	    ['{"__proto__":{"cmd":"NODE_x"}}', 'g']];
	for (const [s, want] of cases) {
		if (oracle(Buffer.from(s, 'utf8')) !== want)
			throw new Error('oracle: ' + JSON.stringify(s) + ' is not ' + want);
	}
	// The BOM check must not be the only thing standing: JSON.parse itself
	// rejects U+FEFF, which is not JSON whitespace.
	let threw = false;
	try {
		JSON.parse('\ufeff{}');
	} catch (e) {
		threw = true;
	}
	if (!threw)
		throw new Error('JSON.parse accepts a leading BOM');
}

function main() {
	const argv = process.argv.slice(2);
	if (argv.length !== 4)
		usage();
	const seed = Number(argv[0]), count = Number(argv[1]);
	if (!Number.isInteger(seed) || !Number.isInteger(count) || count < 0)
		usage();
	selfTest();
	rnd = makeRng(seed);
	const fd = fs.openSync(argv[2], 'w');
	const verdicts = [];
	let chunk = [], size = 0;
	for (let i = 0; i < count; i++) {
		const b = line();
		if (b.includes(0x0a))
			throw new Error('generated a newline');
		verdicts.push(oracle(b));
		chunk.push(b, Buffer.from('\n'));
		size += b.length + 1;
		if (size > 1 << 20) {
			fs.writeSync(fd, Buffer.concat(chunk));
			chunk = [];
			size = 0;
		}
	}
	fs.writeSync(fd, Buffer.concat(chunk));
	fs.closeSync(fd);
	fs.writeFileSync(argv[3], verdicts.join(''));
}

main();
