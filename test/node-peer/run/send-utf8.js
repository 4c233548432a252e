// SPDX-License-Identifier: ISC
// After test-child-process-send-utf8.js: a large multibyte string goes
// back as it came.
'use strict';
process.on('message', (m) => process.send(m));
