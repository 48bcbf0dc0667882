/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * inotify on the policy sources, debounced (see watch.c for what is seen and
 * why). Control thread only; never blocks.
 */
#ifndef EGRESS_WATCH_H
#define EGRESS_WATCH_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define CTL_WATCH_MAX 64

/** One source; several may share a watch (two files in one folder). */
struct ctl_watch_entry {
	const char *source;          /**< the path as given (not copied) */
	bool folder;                 /**< a folder when first watched; else a file */
	int wd;                      /**< on the folder, or a file's folder; -1: none now */
	int parent_wd;               /**< on that folder's parent, to see it come back */
	char name[NAME_MAX + 1];     /**< file name filtered on in wd; "" for a folder */
	char dir_name[NAME_MAX + 1]; /**< the folder's name in parent_wd */
};

struct ctl_watch {
	int fd; /**< inotify descriptor, non-blocking; -1 when off */
	struct ctl_watch_entry entries[CTL_WATCH_MAX];
	unsigned int n;
	bool rearm;             /**< a watched folder went or came: watch again */
	uint64_t rearms;        /**< times the watches were set again */
	uint64_t due_ms;        /**< reload at this time; 0: nothing pending */
	uint64_t open_since_ms; /**< a source is being written since; 0: none */
	uint64_t changes;       /**< debounced changes reported */
};

/**
 * Watch every source (files and folders). Sources that cannot be watched
 * are logged and left to SIGHUP. The source strings must outlive the watch.
 * @return 0, or -errno when inotify is unavailable.
 */
int ctl_watch_init(struct ctl_watch *w, char *const *sources, unsigned int n);

/** Drain events; @return true when a debounced change is due now. */
bool ctl_watch_poll(struct ctl_watch *w, uint64_t now_ms);

void ctl_watch_close(struct ctl_watch *w);

#endif
