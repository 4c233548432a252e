// ipcrun drain preload. `ipcrun run` embeds this file in its binary and
// loads it into a Node child as the first option of NODE_OPTIONS,
// --import "data:text/javascript,...", so no file needs to exist or be
// readable, even under Node's permission model. The Makefile
// percent-encodes what a URL or NODE_OPTIONS would misread (% # ? " \,
// white space, non-ASCII such as →); the tests decode it back and compare
// it with this file.
//
// It puts NODE_OPTIONS back as the user had it, announces itself to
// ipcrun with an internal message and, on ipcrun's "input ended" notice,
// unrefs the channel: the child then exits by itself once its pending work
// and writes are done, and no reply is lost. It also replays the messages
// Node held before the main module listened, one per tick (Node's own
// replay breaks on a listener that throws; see replayOneByOne).
//
// An ES module: --import runs after every --require module (Node's
// order), but before the main module, which Node then loads through its
// ES module loader even if it is CommonJS (see keepMainCommonJS).
import { fstatSync, realpathSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

// Once the child has nothing left to do, every reply written, disconnect
// it as a Node parent's disconnect() would: a 'disconnect' handler runs
// (cleanup, a last log), with nothing lost to it. 'beforeExit' says the
// loop is empty, but a listener of the user's may send in the same emit,
// before or after this one: look a turn later, and not while a write is
// queued (disconnect() closes the pipe and would cancel it; the write
// keeps the loop alive, so 'beforeExit' comes again after it).
function disconnectWhenIdle() {
	const key = Object.getOwnPropertySymbols(process).find((s) =>
	    s.description === 'kChannelHandle');

	function look() {
		const h = key === undefined ? undefined : process[key];

		if (!process.connected) {
			process.removeListener('beforeExit', onBeforeExit);
			return;
		}
		if (h && typeof h.writeQueueSize === 'number' &&
		    h.writeQueueSize > 0)
			return;
		process.removeListener('beforeExit', onBeforeExit);
		process.disconnect();
	}
	function onBeforeExit() {
		setImmediate(look);
	}
	process.on('beforeExit', onBeforeExit);
}

// Announce to ipcrun and wait for its notice, in the process that holds
// ipcrun's channel.
function drain(want) {
	if (typeof process.send !== 'function' || !process.channel)
		return false;
	try {
		const st = fstatSync(process.channel.fd, { bigint: true });
		if (st.ino.toString() !== want)
			return false;
	} catch (e) {
		return false;
	}

	function onInternal(msg) {
		if (msg === null || typeof msg !== 'object' ||
		    msg.cmd !== 'NODE_IPCRUN_EOF')
			return;
		process.removeListener('internalMessage', onInternal);
		// A pending write or any other live handle keeps the child
		// running; the channel alone no longer does.
		if (process.channel)
			process.channel.unref();
		disconnectWhenIdle();
	}
	process.on('internalMessage', onInternal);
	// With a callback, a channel that ipcrun has already closed (EPIPE,
	// ERR_IPC_CHANNEL_CLOSED) is reported to it instead of as an 'error'
	// event, which would kill a child that has no handler for it.
	function sent(err) {
		if (err)
			process.removeListener('internalMessage', onInternal);
	}
	try {
		if (process.connected)
			process.send({ cmd: 'NODE_IPCRUN_READY', version: 1 }, sent);
		else
			sent(new Error('not connected'));
	} catch (e) {
		sent(e);
	}
	return true;
}

// Node holds a message that comes before any 'message' listener exists
// and, once one is added, replays all it holds in one loop: a listener
// that throws ends the loop, the messages stay held, and the next
// listener added replays the first one again (the child gets it twice and
// never the rest). Under --import the main module runs a turn after the
// channel starts reading, so a child that listens in its main module
// meets that path whenever input is sent at once. Take the held messages
// before Node's replay runs and emit each on a tick of its own, as Node
// emits a message that finds a listener: a throw is one uncaught
// exception, and the next message still comes. A message whose turn comes
// when no listener is left (process.once) is held again, as Node would.
function replayOneByOne() {
	const ch = process.channel;
	const key = Object.getOwnPropertySymbols(ch).find((s) =>
	    s.description === 'kPendingMessages');

	// Another Node keeps them elsewhere: its own replay stays.
	if (key === undefined || !Array.isArray(ch[key]))
		return;
	function emitOne(args) {
		const c = process.channel;

		if (!c)
			return;
		if (process.listenerCount('message') === 0) {
			if (Array.isArray(c[key]))
				c[key].push(args);
			return;
		}
		Reflect.apply(process.emit, process, args);
	}
	// Node queues its replay on any listener added ('uncaughtException'
	// just before 'message' too) and looks for a 'message' listener only
	// when the tick runs. Prepended, this tick is queued before each of
	// Node's, which then finds nothing held.
	process.prependListener('newListener', () => {
		process.nextTick(() => {
			const c = process.channel;

			if (!c || process.listenerCount('message') === 0 ||
			    !Array.isArray(c[key]) || c[key].length === 0)
				return;
			const held = c[key];
			c[key] = [];
			for (const args of held)
				process.nextTick(emitOne, args);
		});
	});
}

// Any --import makes Node load the main module through its ES module
// loader, which refuses a file extension it does not know (app.ts under
// -r ts-node/register, app.coffee) where the CommonJS loader, used
// without --import, runs it with require.extensions. Hand such a main
// module back to the CommonJS loader. Loader hooks cost a thread, so
// they are registered only for such an extension.
const mainHooks = [
	'let main;',
	'export function initialize(url) { main = url; }',
	'export async function load(url, context, next) {',
	'	try {',
	'		return await next(url, context);',
	'	} catch (e) {',
	'		if (url !== main || e?.code !== "ERR_UNKNOWN_FILE_EXTENSION")',
	'			throw e;',
	'		return { format: "commonjs", source: null, shortCircuit: true };',
	'	}',
	'}',
].join('\n');

function keepMainCommonJS() {
	const main = process.argv[1];
	let url;

	if (typeof nodeModule.register !== 'function' ||
	    typeof main !== 'string' ||
	    ['', '.js', '.cjs', '.mjs'].includes(extname(main)))
		return;
	try {
		url = pathToFileURL(realpathSync(main)).href;
	} catch (e) {
		return;
	}
	// Under Node's permission model without --allow-worker there is no
	// hooks thread: the main module then meets the ES loader as it is.
	try {
		nodeModule.register('data:text/javascript,' +
		    encodeURIComponent(mainHooks), { data: url });
	} catch (e) {
		return;
	}
}

(function ipcrunPreload() {
	const env = process.env;
	const want = env.IPCRUN_CHANNEL;

	if (want === undefined)
		return;
	// Restore first, whatever else happens: grandchildren must not load
	// this preload (unset if the user had no NODE_OPTIONS).
	if (Object.prototype.hasOwnProperty.call(env, 'IPCRUN_NODE_OPTIONS'))
		env.NODE_OPTIONS = env.IPCRUN_NODE_OPTIONS;
	else
		delete env.NODE_OPTIONS;
	delete env.IPCRUN_NODE_OPTIONS;
	delete env.IPCRUN_CHANNEL;

	// Only in the main thread; the announcement goes first.
	if (!isMainThread)
		return;
	if (drain(want))
		replayOneByOne();
	keepMainCommonJS();
})();
