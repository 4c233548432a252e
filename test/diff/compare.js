#!/usr/bin/env node
// SPDX-License-Identifier: ISC
// Compare `ipcrun check CORPUS > OUT 2> ERR` (exit status STATUS) with the
// oracle written by gen.js.
//
//   node test/diff/compare.js LABEL CORPUS ORACLE OUT ERR STATUS [--node]
//       [--ref COLUMNS]
//
// With --node the check ran with --node, and the oracle's internal lines
// ('i') count as bad; otherwise they are good lines like any other.
// With --ref, COLUMNS is the output of the C reference validator of
// fuzz/jscan_fuzz.c built as a tool (REF_COLUMNS_MAIN): its verdicts must
// equal Node's, and every reported column must be exactly its column
// (for an internal message, the column of the cmd value).
//
// Agreement means: the lines reported bad on stderr are exactly the
// oracle's bad lines, each once, with a column inside the line (1 to
// length + 1); OUT is exactly the oracle's good lines, byte for byte and in
// order, each ended by '\n'; blank lines appear nowhere; the exit status is
// 1 when there is a bad line and 0 otherwise. Prints one summary line and
// the first disagreements (with hex), and exits 1 on any disagreement.
'use strict';

const fs = require('fs');

const args = process.argv.slice(2);
let [label, corpusPath, oraclePath, outPath, errPath, statusArg] = args;
let nodeMode = false, refPath = null;
for (let i = 6; i < args.length; i++) {
	if (args[i] === '--node')
		nodeMode = true;
	else if (args[i] === '--ref' && i + 1 < args.length)
		refPath = args[++i];
	else
		statusArg = undefined;
}
if (statusArg === undefined) {
	process.stderr.write('usage: compare.js LABEL CORPUS ORACLE OUT ERR ' +
	    'STATUS [--node] [--ref COLUMNS]\n');
	process.exit(2);
}

function splitLines(buf) {
	const lines = [];
	let start = 0;
	for (;;) {
		const i = buf.indexOf(0x0a, start);
		if (i < 0)
			break;
		lines.push(buf.subarray(start, i));
		start = i + 1;
	}
	return { lines, rest: buf.subarray(start) };
}

const corpus = splitLines(fs.readFileSync(corpusPath)).lines;
const oracle = fs.readFileSync(oraclePath, 'latin1');
const out = fs.readFileSync(outPath);
const err = fs.readFileSync(errPath, 'utf8');
const status = Number(statusArg);
const ref = refPath === null ? null : fs.readFileSync(refPath, 'latin1')
    .split('\n').filter((l) => l !== '').map((l) => l.split(' '));

const problems = [];
const MAXSHOW = 10;
function hex(b) {
	const h = b.toString('hex').replace(/(..)/g, '$1 ').trim();
	return h.length > 300 ? h.slice(0, 300) + ' ...(' + b.length + ' bytes)' : h;
}
function problem(lineno, what) {
	let s = what;
	if (lineno > 0 && lineno <= corpus.length) {
		s += '\n    line ' + lineno + ' (oracle ' +
		    { g: 'good', i: 'internal', b: 'bad', _: 'blank' }[
		    oracle[lineno - 1]] +
		    '): ' + hex(corpus[lineno - 1]);
	}
	problems.push(s);
}

if (corpus.length !== oracle.length)
	problem(0, 'corpus has ' + corpus.length + ' lines, oracle ' + oracle.length);
if (ref !== null && ref.length !== corpus.length)
	problem(0, 'corpus has ' + corpus.length + ' lines, reference ' + ref.length);

// stderr: one report per bad line.
const reported = new Map();
const re = /^ipcrun: check: (.*):([0-9]+):([0-9]+): (.+)$/s;
for (const l of err.split('\n')) {
	if (l === '')
		continue;
	const m = re.exec(l);
	if (!m || m[1] !== corpusPath) {
		problem(0, 'unexpected stderr line: ' + JSON.stringify(l));
		continue;
	}
	const lineno = Number(m[2]), col = Number(m[3]);
	if (reported.has(lineno))
		problem(lineno, 'line ' + lineno + ' reported twice');
	reported.set(lineno, { col, reason: m[4] });
}

const count = { g: 0, i: 0, b: 0, _: 0 };
const expectOut = [];
let nbad = 0;
for (let i = 0; i < corpus.length; i++) {
	let v = oracle[i];
	const lineno = i + 1;
	count[v]++;
	if (v === 'i')
		v = nodeMode ? 'b' : 'g';
	if (v === 'b')
		nbad++;
	const r = reported.get(lineno);
	// The C reference: same verdict as Node, and the exact column.
	let wantCol = 0;
	if (ref !== null && i < ref.length && ref[i][0] !== '?') {
		const o = oracle[i] === 'i' ? 'g' : oracle[i];
		if (ref[i][0] !== o)
			problem(lineno, 'line ' + lineno + ': the reference ' +
			    'validator says ' + ref[i][0] + ', Node ' + oracle[i]);
		else if (o === 'b')
			wantCol = Number(ref[i][1]);
		else if (oracle[i] === 'i' && nodeMode)
			wantCol = Number(ref[i][2]);
		if (oracle[i] === 'i' && Number(ref[i][2]) === 0)
			problem(lineno, 'line ' + lineno + ': the reference ' +
			    'misses the internal cmd');
		if (oracle[i] === 'g' && Number(ref[i][2]) !== 0)
			problem(lineno, 'line ' + lineno + ': the reference ' +
			    'sees an internal cmd that Node does not');
	}
	if (v === 'b') {
		if (!r)
			problem(lineno, 'line ' + lineno + ': bad per oracle, not reported');
		else if (r.col < 1 || r.col > corpus[i].length + 1)
			problem(lineno, 'line ' + lineno + ': column ' + r.col +
			    ' outside 1..' + (corpus[i].length + 1));
		else if (wantCol !== 0 && r.col !== wantCol)
			problem(lineno, 'line ' + lineno + ': column ' + r.col +
			    ' (' + r.reason + '), the reference says ' + wantCol);
	} else if (r) {
		problem(lineno, 'line ' + lineno + ': reported bad (col ' + r.col +
		    ': ' + r.reason + ')');
	}
	if (v === 'g')
		expectOut.push(corpus[i]);
}
for (const lineno of reported.keys()) {
	if (lineno < 1 || lineno > corpus.length)
		problem(0, 'report for line ' + lineno + ', which does not exist');
}

// stdout: exactly the good lines in order. Walk both to name the first
// line that differs.
const got = splitLines(out);
if (got.rest.length)
	problem(0, 'stdout does not end with a newline');
const n = Math.min(got.lines.length, expectOut.length);
let firstDiff = -1;
for (let i = 0; i < n; i++) {
	if (!got.lines[i].equals(expectOut[i])) {
		firstDiff = i;
		break;
	}
}
if (firstDiff >= 0) {
	problem(0, 'stdout line ' + (firstDiff + 1) + ' differs: expected ' +
	    hex(expectOut[firstDiff]) + '\n    got ' + hex(got.lines[firstDiff]));
} else if (got.lines.length !== expectOut.length) {
	problem(0, 'stdout has ' + got.lines.length + ' lines, expected ' +
	    expectOut.length + ' (the good lines)');
}

const wantStatus = nbad > 0 ? 1 : 0;
if (status !== wantStatus)
	problem(0, 'exit status ' + status + ', expected ' + wantStatus);

console.log(label + ': ' + corpus.length + ' lines (' + count.g + ' good, ' +
    count.i + ' internal, ' + count.b + ' bad, ' + count._ + ' blank): ' +
    (problems.length ? problems.length + ' disagreements' : 'all agree'));
for (const p of problems.slice(0, MAXSHOW))
	console.log('  ' + p);
if (problems.length > MAXSHOW)
	console.log('  ... and ' + (problems.length - MAXSHOW) + ' more');
process.exit(problems.length ? 1 : 0);
