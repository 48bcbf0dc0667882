/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to lib/yaml: the colons go-yaml keeps in flow plain scalars that
 * libyaml refuses, replaced by a stand-in in a copy of the buffer and put back
 * into the values (see ycolon.c). ydoc.c drives the passes.
 */
#ifndef EGRESS_YAML_YCOLON_H
#define EGRESS_YAML_YCOLON_H

#include <stdbool.h>
#include <stddef.h>

#include <yaml.h>

#define YCOLON_PASSES 8 /* parses of a copy, at most */

/* Colons in flow scalars: the copy and what its passes found. */
struct ycolons {
	const char *orig; /* the caller's buffer */
	char *mod;        /* a copy with stand-ins; NULL until one is needed */
	size_t len;
	size_t first;   /* byte where libyaml's character 0 is (after a UTF-8 BOM) */
	size_t ci, bo;  /* cursor: character ci starts at byte bo */
	size_t refused; /* byte of a ':' libyaml refused in this pass; SIZE_MAX: none */
	bool bad;       /* a stand-in landed outside a plain scalar's value (reverted) */
	bool off;       /* UTF-16 input: bytes are not characters, nothing is replaced */
};

/* Set c up for buf and replace the colons the bytes suggest; 0 or -ENOMEM. */
int ycolon_guess(struct ycolons *c, const char *buf, size_t len);

/* Put a stand-in for the ':' at byte i; 0 or -ENOMEM. */
int ycolon_replace(struct ycolons *c, size_t i);

/* Before each pass of libyaml over the copy. */
void ycolon_rewind(struct ycolons *c);

/* A scalar event of the copy: its value (len bytes at val) gets its colons back. */
void ycolon_scalar(struct ycolons *c, const yaml_event_t *ev, char *val, size_t len);

/* An alias or collection start event of the copy: no stand-in in its marks. */
void ycolon_node(struct ycolons *c, const yaml_event_t *ev);

/* libyaml refused the copy: note the refused ':' go-yaml keeps, if that is it. */
void ycolon_refusal(struct ycolons *c, const yaml_parser_t *p);

#endif /* EGRESS_YAML_YCOLON_H */
