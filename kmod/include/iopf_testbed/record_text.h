/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The text form of an SMMUv3 event record that debugfs "inject" takes: four
 * hex words per line, "0x" optional, separated by blanks. Parsed here, once,
 * for the module, for iopfctl and for the fuzzer.
 */
#ifndef _IOPF_TESTBED_RECORD_TEXT_H
#define _IOPF_TESTBED_RECORD_TEXT_H

#include "fault_core.h"

static inline bool iopf_text_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static inline int iopf_text_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/**
 * iopf_parse_hex_word() - parse one word of the text format
 * @word: 1 to 16 hex digits, "0x" optional; need not be NUL-terminated
 * @len: its length
 * @val: the value, set when the word is good
 * @why: set to the reason when the word is bad
 *
 * Return: 0, or -EINVAL.
 */
static inline int iopf_parse_hex_word(const char *word, size_t len, u64 *val,
				      const char **why)
{
	unsigned int ndigits = 0;
	size_t i = 0;
	u64 v = 0;

	if (len >= 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X'))
		i = 2;
	for (; i < len; i++) {
		int digit = iopf_text_hexval(word[i]);

		if (digit < 0) {
			*why = "a word is not a hex number";
			return -EINVAL;
		}
		if (++ndigits > 16) {
			*why = "a word is longer than 16 hex digits";
			return -EINVAL;
		}
		v = v << 4 | (u64)digit;
	}
	if (!ndigits) {
		*why = "a word is not a hex number";
		return -EINVAL;
	}
	*val = v;
	return 0;
}

/**
 * iopf_parse_record_line() - parse one line of the text format
 * @line: the line, without its newline; need not be NUL-terminated
 * @len: its length
 * @rec: the four words, filled when the line holds a record
 * @why: set to the reason when the line is bad
 *
 * Return: 1 for a record, 0 for a blank line, -EINVAL for anything else.
 */
static inline int iopf_parse_record_line(const char *line, size_t len,
					 u64 *rec, const char **why)
{
	unsigned int nwords = 0;
	size_t i = 0, end;

	for (;;) {
		while (i < len && iopf_text_blank(line[i]))
			i++;
		if (i == len)
			break;
		if (nwords == IOPF_EVT_DWORDS) {
			*why = "more than four words";
			return -EINVAL;
		}
		end = i;
		while (end < len && !iopf_text_blank(line[end]))
			end++;
		if (iopf_parse_hex_word(line + i, end - i, &rec[nwords], why))
			return -EINVAL;
		nwords++;
		i = end;
	}
	if (nwords && nwords != IOPF_EVT_DWORDS) {
		*why = "fewer than four words";
		return -EINVAL;
	}
	return nwords ? 1 : 0;
}

#endif /* _IOPF_TESTBED_RECORD_TEXT_H */
