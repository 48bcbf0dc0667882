/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Watch the policy sources with inotify and say when to reload.
 *
 * What has to be seen:
 *   - an editor writing a temporary file and renaming it into place
 *     (IN_MOVED_TO in the folder);
 *   - a Kubernetes ConfigMap volume swapping its "..data" symlink (a
 *     rename of "..data_tmp" onto "..data": IN_MOVED_TO in the folder);
 *   - files written in place (IN_CLOSE_WRITE), created, deleted.
 * So every source folder is watched, and for a source file its folder,
 * filtered by name (and by "..data", which a file symlinked into a
 * ConfigMap depends on).
 *
 * Debounce: a change arms a timer of CTL_WATCH_QUIET_MS; every further
 * change re-arms it, so one save (or one ConfigMap swap, which is several
 * events) is one reload. A file seen modified but not yet closed is given
 * up to CTL_WATCH_OPEN_MS to be closed first: a half-written file is never
 * what the reload reads, unless a writer keeps it open that long, and then
 * the all-or-nothing reload still refuses a file that does not parse.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_log.h>

#include "watch.h"

#define CTL_WATCH_QUIET_MS 100
#define CTL_WATCH_OPEN_MS  2000
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
		    IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

#define LOG(level, fmt, ...) RTE_LOG(level, USER1, "egressd: " fmt "\n", ##__VA_ARGS__)

static int
watch_add(struct ctl_watch *w, const char *dir, const char *name)
{
	struct ctl_watch_entry *e;
	int wd;

	if (w->n == CTL_WATCH_MAX)
		return -ENOSPC;
	wd = inotify_add_watch(w->fd, dir, WATCH_MASK | IN_MODIFY);
	if (wd < 0)
		return -errno;
	e = &w->entries[w->n++];
	e->wd = wd;
	snprintf(e->name, sizeof(e->name), "%s", name != NULL ? name : "");
	return 0;
}

int
ctl_watch_init(struct ctl_watch *w, char *const *sources, unsigned int n)
{
	unsigned int i;
	int rc;

	memset(w, 0, sizeof(*w));
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		rc = -errno;
		w->fd = -1;
		return rc;
	}
	for (i = 0; i < n; i++) {
		struct stat st;
		char dir[PATH_MAX], base[PATH_MAX];

		if (stat(sources[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = watch_add(w, sources[i], NULL);
		} else {
			/* a file (or one not there yet): its folder, by name */
			snprintf(dir, sizeof(dir), "%s", sources[i]);
			snprintf(base, sizeof(base), "%s", sources[i]);
			rc = watch_add(w, dirname(dir), basename(base));
		}
		if (rc < 0) {
			LOG(WARNING, "cannot watch %s: %s; reload with SIGHUP", sources[i],
			    strerror(-rc));
			continue;
		}
	}
	return 0;
}

void
ctl_watch_close(struct ctl_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

static const struct ctl_watch_entry *
entry_of(const struct ctl_watch *w, int wd)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		if (w->entries[i].wd == wd)
			return &w->entries[i];
	return NULL;
}

/* Does this event concern a source? Folder watches: any name but dotfiles. */
static bool
relevant(const struct ctl_watch_entry *e, const struct inotify_event *ev)
{
	const char *name = ev->len > 0 ? ev->name : "";

	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW))
		return true;
	if (strcmp(name, "..data") == 0)
		return true; /* a ConfigMap's swap */
	if (e->name[0] != '\0')
		return strcmp(name, e->name) == 0;
	return name[0] != '.';
}

bool
ctl_watch_poll(struct ctl_watch *w, uint64_t now_ms)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	if (w->fd < 0)
		return false;
	while ((len = read(w->fd, buf, sizeof(buf))) > 0) {
		const char *p;

		for (p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			const struct ctl_watch_entry *e = entry_of(w, ev->wd);

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				w->due_ms = now_ms + CTL_WATCH_QUIET_MS;
				continue;
			}
			if (e == NULL || !relevant(e, ev))
				continue;
			if (ev->mask & IN_MODIFY) {
				/* still being written: wait for the close */
				if (w->open_since_ms == 0)
					w->open_since_ms = now_ms;
				w->due_ms = 0;
				continue;
			}
			w->open_since_ms = 0;
			w->due_ms = now_ms + CTL_WATCH_QUIET_MS;
		}
	}
	if (w->open_since_ms != 0 && now_ms - w->open_since_ms >= CTL_WATCH_OPEN_MS) {
		w->open_since_ms = 0;
		w->due_ms = now_ms;
	}
	if (w->due_ms != 0 && now_ms >= w->due_ms) {
		w->due_ms = 0;
		w->changes++;
		return true;
	}
	return false;
}
