/* SPDX-License-Identifier: ISC */
/*
 * The names of V8's serializer tags outside the JSON subset, for the
 * report that refuses them: what a Node parent sent that JSON cannot
 * carry (child --types tagged carries them).
 */
#include "compat.h"

#include <stddef.h>
#include <stdint.h>

#include "v8ser_priv.h"

/* Types outside the subset, named for the report. */
const char *
v8ser_tag_name(int tag)
{
	switch (tag) {
	case 'Z':
		return "a BigInt";
	case 'z':
		return "a BigInt object";
	case 'D':
		return "a Date";
	case 'R':
		return "a RegExp";
	case ';':
		return "a Map";
	case '\'':
		return "a Set";
	case 'B':
	case '~':
		return "an ArrayBuffer";
	case 'u':
		return "a SharedArrayBuffer";
	case 'V':
		return "a typed array or DataView";
	case '\\':
		return "a Buffer or another host object";
	case 'r':
		return "an Error";
	case 's':
		return "a String object";
	case 'n':
		return "a Number object";
	case 'y':
	case 'x':
		return "a Boolean object";
	case 'm':
	case 'W':
	case 'w':
		return "a WebAssembly object";
	case 'p':
		return "a shared object";
	case '?':
		return "an object count check";
	case T_HOLE:
		return "an array hole outside an array";
	case T_END_OBJECT:
	case T_END_DENSE:
	case T_END_SPARSE:
		return "an end tag out of place";
	default:
		return NULL;
	}
}
