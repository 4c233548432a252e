// SPDX-License-Identifier: ISC
// After test-child-process-internal.js: a NODE_ command is internal (the
// parent keeps it from 'message'), one that merely contains NODE_ is not.
'use strict';
process.send({ cmd: 'NODE_foobar' });
process.send({ cmd: 'fooNODE_foobar' });
