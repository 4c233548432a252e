/* SPDX-License-Identifier: ISC */
/*
 * The scanner's state machine, included once per instruction set by the
 * kernel files (jscan_scalar.c, jscan_sse.c, jscan_avx.c, after
 * jscan_kern.h) with JSCAN_FEED (function name), JSCAN_ATTR (target
 * attribute) and JSCAN_SKIP (string fast path) defined. Every copy must
 * give the same verdicts; only the speed of JSCAN_SKIP differs.
 *
 * Each state label consumes bytes until it needs more input; then the
 * state is saved and the call returns JSCAN_MORE, so a line can arrive in
 * pieces of any size. An error stops at the first byte that no valid line
 * could have there.
 */

#define WS(c)		(jscan_ws[(unsigned char)(c)])
#define DIGIT(c)	((unsigned)((c) - '0') < 10)
#define OFF()		(s->base + (size_t)(p - start))
#define SUSPEND(st)	do { s->state = (st); goto more; } while (0)
#define FAIL(why)	do { s->err = (why); goto fail; } while (0)
#define SKIPWS()	while (p < e && WS(*p)) p++
#define TOP_OBJ()	((s->stack[(depth - 1) >> 6] >> ((depth - 1) & 63)) & 1)

static JSCAN_ATTR int
JSCAN_FEED(struct jscan *s, const char *buf, size_t n)
{
	const unsigned char	*start = (const unsigned char *)buf;
	const unsigned char	*p = start, *e = start + n;
	size_t			 depth = s->depth;
	int			 obj;	/* the innermost container is an object */
	unsigned		 c;

	obj = depth > 0 && TOP_OBJ();

	switch (s->state) {
	case ST_TOPSTART:	goto st_topstart;
	case ST_VALUE:		goto st_value;
	case ST_OBJ_FIRST:	goto st_obj_first;
	case ST_OBJ_KEY:	goto st_obj_key;
	case ST_COLON:		goto st_colon;
	case ST_ARR_FIRST:	goto st_arr_first;
	case ST_OBJ_AFTER:	goto st_obj_after;
	case ST_ARR_AFTER:	goto st_arr_after;
	case ST_TRAIL:		goto st_trail;
	case ST_STR:		goto st_str;
	case ST_MKEY:		goto st_mkey;
	case ST_ESC:		goto st_esc;
	case ST_HEX:		goto st_hex;
	case ST_UTF8:		goto st_utf8;
	case ST_NUM_MINUS:	goto st_num_minus;
	case ST_NUM_ZERO:	goto st_num_zero;
	case ST_NUM_INT:	goto st_num_int;
	case ST_NUM_DOT:	goto st_num_dot;
	case ST_NUM_FRAC:	goto st_num_frac;
	case ST_NUM_E:		goto st_num_e;
	case ST_NUM_ESIGN:	goto st_num_esign;
	case ST_NUM_EXP:	goto st_num_exp;
	case ST_LIT:		goto st_lit;
	default:		return JSCAN_BAD;	/* already failed */
	}

st_topstart:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_TOPSTART);
	s->top = *p;
	if (*p == 0xef && e - p >= 3 && p[1] == 0xbb && p[2] == 0xbf)
		FAIL(jscan_err_bom);
	goto value;

st_value:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_VALUE);
value:
	/* p < e here. */
	if (s->curkey >= 0 && depth == 1)
		s->valoff = OFF();
	switch (*p) {
	case '"':
		p++;
		s->strkind = 0;
		goto st_str;
	case '{':
	case '[':
		if (depth >= s->maxdepth)
			FAIL(jscan_err_deep);
		obj = *p++ == '{';
		if (obj)
			s->stack[depth >> 6] |= (uint64_t)1 << (depth & 63);
		else
			s->stack[depth >> 6] &= ~((uint64_t)1 << (depth & 63));
		depth++;
		if (obj)
			goto st_obj_first;
		goto st_arr_first;
	case '-':
		p++;
		goto st_num_minus;
	case '0':
		p++;
		goto st_num_zero;
	case '1': case '2': case '3': case '4': case '5':
	case '6': case '7': case '8': case '9':
		p++;
		goto st_num_int;
	case 't':
		s->aux = LIT_TRUE;
		break;
	case 'f':
		s->aux = LIT_FALSE;
		break;
	case 'n':
		s->aux = LIT_NULL;
		break;
	default:
		FAIL(jscan_err_value);
	}
	/* A literal: compare in one go when it is all here. */
	if (e - p >= 5) {
		uint32_t w;

		memcpy(&w, p + (s->aux == LIT_FALSE), 4);
		if (w == jscan_lit_word[s->aux >> 3]) {
			p += lit_len[s->aux >> 3];
			goto after_value;
		}
	}
	p++;
	s->aux++;
st_lit:
	for (;;) {
		unsigned id = (unsigned)s->aux >> 3, pos = (unsigned)s->aux & 7;

		if (pos == lit_len[id])
			goto after_value;
		if (p == e)
			SUSPEND(ST_LIT);
		if (*p != (unsigned char)lit_str[id][pos])
			FAIL(jscan_err_lit);
		p++;
		s->aux++;
	}

st_obj_first:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_OBJ_FIRST);
	if (*p == '}') {
		p++;
		goto close;
	}
	if (*p != '"')
		FAIL(jscan_err_key);
	p++;
	goto key;

st_obj_key:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_OBJ_KEY);
	if (*p != '"')
		FAIL(jscan_err_key);
	p++;
key:
	if (depth == 1 && s->nkeys != 0) {
		/*
		 * A top-level key that is all here and plain ASCII is
		 * compared as it stands; escapes and UTF-8 are decoded.
		 */
		const unsigned char *q = JSCAN_SKIP(p, e, start);

		if (q < e && *q == '"') {
			size_t		klen = (size_t)(q - p);
			unsigned	j;

			s->curkey = -1;
			for (j = 0; j < s->nkeys; j++) {
				if (s->keylen[j] == klen &&
				    memcmp(s->key[j], p, klen) == 0) {
					s->curkey = (int)j;
					break;
				}
			}
			p = q + 1;
			goto colon;
		}
		s->strkind = 2;
		s->kmask = ((uint32_t)1 << s->nkeys) - 1;
		s->kpos = 0;
		s->uhi = 0;
		goto st_mkey;
	}
	s->strkind = 1;
	goto st_str;

colon:
	if (p + 1 < e && *p == ':' && !WS(p[1])) {
		p++;
		goto value;
	}
st_colon:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_COLON);
	if (*p != ':')
		FAIL(jscan_err_colon);
	p++;
	goto st_value;

st_arr_first:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_ARR_FIRST);
	if (*p == ']') {
		p++;
		goto close;
	}
	goto value;

close:
	depth--;
	if (depth == 0)
		goto st_trail;
	obj = TOP_OBJ();
after_value:
	if (depth <= 1) {
		if (depth == 0)
			goto st_trail;
		if (s->curkey >= 0) {
			/* A wanted top-level member ends here; last one wins. */
			s->span[s->curkey].off = s->valoff;
			s->span[s->curkey].len = OFF() - s->valoff;
			s->curkey = -1;
		}
	}
	if (!obj)
		goto st_arr_after;

st_obj_after:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_OBJ_AFTER);
	if (*p == ',') {
		/* Compact JSON: the next key follows at once. */
		if (++p < e && *p == '"') {
			p++;
			goto key;
		}
		goto st_obj_key;
	}
	if (*p == '}') {
		p++;
		goto close;
	}
	FAIL(jscan_err_obj_after);

st_arr_after:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_ARR_AFTER);
	if (*p == ',') {
		if (++p < e && !WS(*p))
			goto value;
		goto st_value;
	}
	if (*p == ']') {
		p++;
		goto close;
	}
	FAIL(jscan_err_arr_after);

st_trail:
	SKIPWS();
	if (p == e)
		SUSPEND(ST_TRAIL);
	FAIL(jscan_err_trail);

	/* Strings: values and keys that no one asked for. */
st_str:
	for (;;) {
		p = JSCAN_SKIP(p, e, start);
		if (p == e)
			SUSPEND(ST_STR);
		c = *p;
		if (c == '"') {
			p++;
			if (s->strkind == 0)
				goto after_value;
			goto colon;
		}
		if (c == '\\') {
			p++;
			goto st_esc;
		}
		if (c < 0x20)
			FAIL(jscan_err_ctrl);
		/*
		 * UTF-8 sequences that are all here are checked in place;
		 * runs of them (non-Latin text) stay in this loop.
		 */
		while (e - p >= 4 && *p >= 0x80) {
			int k = utf8_check(p);

			/* Reported at the sequence's first byte. */
			if (k <= 0)
				FAIL(jscan_err_utf8);
			p += k;
		}
		if (p < e && *p >= 0x80)
			goto utf8_lead;
	}

	/* A top-level key, decoded and compared as it goes. */
st_mkey:
	for (;;) {
		if (p == e)
			SUSPEND(ST_MKEY);
		c = *p;
		if (c == '"') {
			p++;
			key_flush_hi(s);
			key_done(s);
			goto st_colon;
		}
		if (c == '\\') {
			p++;
			goto st_esc;
		}
		if (c < 0x20)
			FAIL(jscan_err_ctrl);
		if (c >= 0x80)
			goto utf8_lead;
		key_flush_hi(s);
		key_byte(s, c);
		p++;
	}

utf8_lead:
	c = *p;
	/* The sequence may end in a later piece: where it started. */
	s->u8off = OFF();
	s->u8lead = c;
	if (c >= 0xc2 && c <= 0xdf) {
		s->u8need = 1;
		s->u8lo = 0x80;
		s->u8hi = 0xbf;
	} else if (c >= 0xe0 && c <= 0xef) {
		s->u8need = 2;
		s->u8lo = c == 0xe0 ? 0xa0 : 0x80;
		s->u8hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		s->u8need = 3;
		s->u8lo = c == 0xf0 ? 0x90 : 0x80;
		s->u8hi = c == 0xf4 ? 0x8f : 0xbf;
	} else
		FAIL(jscan_err_utf8);
	if (s->strkind == 2) {
		key_flush_hi(s);
		key_byte(s, c);
	}
	p++;
st_utf8:
	while (s->u8need > 0) {
		if (p == e)
			SUSPEND(ST_UTF8);
		c = *p;
		if (c < s->u8lo || c > s->u8hi)
			goto fail_utf8;
		if (s->strkind == 2)
			key_byte(s, c);
		p++;
		s->u8need--;
		s->u8lo = 0x80;
		s->u8hi = 0xbf;
	}
	if (s->strkind == 2)
		goto st_mkey;
	goto st_str;

st_esc:
	if (p == e)
		SUSPEND(ST_ESC);
	switch (c = *p) {
	case '"': case '\\': case '/':
		break;
	case 'b':
		c = '\b';
		break;
	case 'f':
		c = '\f';
		break;
	case 'n':
		c = '\n';
		break;
	case 'r':
		c = '\r';
		break;
	case 't':
		c = '\t';
		break;
	case 'u':
		p++;
		s->aux = 0;
		s->ucp = 0;
		goto st_hex;
	default:
		FAIL(jscan_err_esc);
	}
	p++;
	if (s->strkind == 2) {
		key_flush_hi(s);
		key_byte(s, c);
		goto st_mkey;
	}
	goto st_str;

st_hex:
	while (s->aux < 4) {
		int v;

		if (p == e)
			SUSPEND(ST_HEX);
		if ((v = hexval(*p)) < 0)
			FAIL(jscan_err_hex);
		s->ucp = s->ucp << 4 | (uint32_t)v;
		s->aux++;
		p++;
	}
	if (s->strkind == 2) {
		key_codepoint(s, s->ucp);
		goto st_mkey;
	}
	goto st_str;

st_num_minus:
	if (p == e)
		SUSPEND(ST_NUM_MINUS);
	if (*p == '0') {
		p++;
		goto st_num_zero;
	}
	if (!DIGIT(*p))
		FAIL(jscan_err_num);
	p++;
st_num_int:
	while (p < e && DIGIT(*p))
		p++;
	if (p == e)
		SUSPEND(ST_NUM_INT);
	goto num_tail;

st_num_zero:
	if (p == e)
		SUSPEND(ST_NUM_ZERO);
	if (DIGIT(*p))
		FAIL(jscan_err_zero);
num_tail:
	if (*p == '.') {
		p++;
		goto st_num_dot;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		goto st_num_e;
	}
	goto after_value;

st_num_dot:
	if (p == e)
		SUSPEND(ST_NUM_DOT);
	if (!DIGIT(*p))
		FAIL(jscan_err_num);
	p++;
st_num_frac:
	while (p < e && DIGIT(*p))
		p++;
	if (p == e)
		SUSPEND(ST_NUM_FRAC);
	if (*p == 'e' || *p == 'E') {
		p++;
		goto st_num_e;
	}
	goto after_value;

st_num_e:
	if (p == e)
		SUSPEND(ST_NUM_E);
	if (*p == '+' || *p == '-') {
		p++;
		goto st_num_esign;
	}
	if (!DIGIT(*p))
		FAIL(jscan_err_num);
	p++;
	goto st_num_exp;

st_num_esign:
	if (p == e)
		SUSPEND(ST_NUM_ESIGN);
	if (!DIGIT(*p))
		FAIL(jscan_err_num);
	p++;
st_num_exp:
	while (p < e && DIGIT(*p))
		p++;
	if (p == e)
		SUSPEND(ST_NUM_EXP);
	goto after_value;

more:
	s->depth = depth;
	s->base += n;
	return JSCAN_MORE;

fail:
	s->depth = depth;
	s->err_off = OFF();
	s->err_byte = p < e ? *p : -1;
	s->state = ST_FAILED;
	return JSCAN_BAD;
fail_utf8:
	/* A sequence cut short: at its first byte, maybe in an earlier piece. */
	s->err = jscan_err_utf8;
	s->depth = depth;
	s->err_off = s->u8off;
	s->err_byte = s->u8lead;
	s->state = ST_FAILED;
	return JSCAN_BAD;
}

#undef WS
#undef DIGIT
#undef OFF
#undef SUSPEND
#undef FAIL
#undef SKIPWS
#undef TOP_OBJ
