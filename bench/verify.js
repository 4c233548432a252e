// SPDX-License-Identifier: ISC
// verify.js FILE...: every line of each FILE must be strict UTF-8 and pass
// JSON.parse (what a Node IPC peer does). Prints a count per file; exits 1
// at the first bad line. bench/run calls it once, right after generating.
'use strict';
const fs = require('fs');
const dec = new TextDecoder('utf-8', { fatal: true });
let bad = 0;
for (const file of process.argv.slice(2)) {
  const buf = fs.readFileSync(file);
  let start = 0, n = 0, min = Infinity, max = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(10, start);
    if (nl < 0) nl = buf.length;
    const len = nl + 1 - start;
    try {
      JSON.parse(dec.decode(buf.subarray(start, nl)));
    } catch (e) {
      console.error(`${file}:${n + 1}: ${e.message}`);
      bad = 1;
      break;
    }
    if (len < min) min = len;
    if (len > max) max = len;
    n++;
    start = nl + 1;
  }
  console.error(`verify: ${file}: ${n} lines ok, ${min}..${max} B each`);
}
process.exit(bad);
