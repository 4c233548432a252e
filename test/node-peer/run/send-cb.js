// SPDX-License-Identifier: ISC
// After test-child-process-send-cb.js: send()'s callback gets null once
// the message is written, and send() returns true on a free channel.
'use strict';
const rv = process.send('ok', (err) => process.send({ cb: err, rv }));
